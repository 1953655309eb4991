"""A session's cost against a hand-computed one; the running price message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_csms.planner.cost import SessionCost, running_price_message
from custom_components.ocpp_csms.planner.prices import PriceSlot

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
Q = timedelta(minutes=15)
PRICES = [PriceSlot(NOW + Q * i, NOW + Q * (i + 1), price) for i, price in enumerate((0.20, 0.40, -0.10))]


def test_hand_computed_session() -> None:
    cost = SessionCost()
    assert cost.add_reading(NOW, 0.0, PRICES) == 0.0  # the baseline
    # 2 kWh in the first slot: 0.40
    assert cost.add_reading(NOW + Q, 2_000.0, PRICES) == pytest.approx(0.40)
    # 3 kWh evenly over the second slot and half the third: 2 kWh x 0.40 + 1 kWh x -0.10 = 0.70
    assert cost.add_reading(NOW + 2.5 * Q, 5_000.0, PRICES) == pytest.approx(0.70)
    # 1 kWh half in the third slot, half after the known prices: 0.5 x -0.10, 0.5 kWh unpriced
    assert cost.add_reading(NOW + 3.5 * Q, 6_000.0, PRICES) == pytest.approx(-0.05)
    assert cost.cost == pytest.approx(1.05)
    assert cost.energy_wh == 6_000
    assert cost.unpriced_wh == pytest.approx(500)
    restored = SessionCost.from_dict(cost.to_dict())
    assert restored == cost


def test_readings_out_of_order_and_meter_resets() -> None:
    cost = SessionCost()
    cost.add_reading(NOW + Q, 1_000.0, PRICES)
    assert cost.add_reading(NOW, 500.0, PRICES) == 0.0  # older: already counted
    assert cost.add_reading(NOW + 2 * Q, 200.0, PRICES) == 0.0  # a new register: new baseline
    assert cost.add_reading(NOW + 2 * Q, 700.0, PRICES) == 0.0  # no time passed: counted, not priced
    assert cost.unpriced_wh == 500
    assert cost.add_reading(NOW + 3 * Q, 1_700.0, PRICES) == pytest.approx(-0.10)
    assert SessionCost.from_dict({"cost": "lots"}) == SessionCost()
    assert SessionCost.from_dict({}) == SessionCost()


def test_running_price_message() -> None:
    assert running_price_message(0.2512, "EUR") == "0.2512 EUR/kWh"
    assert running_price_message(None, "EUR") is None
