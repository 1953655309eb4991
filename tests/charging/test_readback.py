"""Read-back: the limit in force (from the composite schedule) against the limit asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_csms.charging.composite import CompositeLimit, LimitPeriod
from custom_components.ocpp_csms.charging.readback import Readback, ReadbackStatus as S, readback
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit

A, W = ChargingRateUnit.A, ChargingRateUnit.W
START = datetime(2025, 3, 12, 16, 0, tzinfo=UTC)
END = START + timedelta(hours=1)


def composite(limit: float | None, unit: ChargingRateUnit = A, phases: int | None = None) -> CompositeLimit:
    return CompositeLimit(1, unit, START, END, (LimitPeriod(START, END, limit, phases),))


@pytest.mark.parametrize(
    ("requested", "unit", "reported", "status", "in_force"),
    [
        (16, A, composite(16), S.MATCH, 16),
        (16, A, composite(15.6), S.MATCH, 15.6),
        (16, A, composite(10), S.LOWER, 10),
        (10, A, composite(16), S.HIGHER, 16),
        (11040, W, composite(16), S.MATCH, 11040),
        (11000, W, composite(16), S.MATCH, 11040),
        (3680, W, composite(16, phases=1), S.MATCH, 3680),
        (11040, W, composite(16, phases=1), S.LOWER, 3680),
        (16, A, composite(11040, W), S.MATCH, 16),
        (16, A, composite(None), S.UNKNOWN, None),
        (16, A, None, S.UNKNOWN, None),
    ],
)
def test_readback(
    requested: float, unit: ChargingRateUnit, reported: CompositeLimit | None, status: S, in_force: float | None
) -> None:
    result = readback(requested, unit, reported, START + timedelta(minutes=5))
    assert result.status == status
    assert result.in_force == (None if in_force is None else pytest.approx(in_force))
    assert result.matches == (status == S.MATCH)
    assert (result.requested, result.unit) == (requested, unit)


def test_outside_the_schedule_and_a_custom_tolerance() -> None:
    assert readback(16, A, composite(16), END) == Readback(S.UNKNOWN, None, 16, A)
    assert readback(16, A, composite(15.6), START, tolerance=0.1).status == S.LOWER
    with pytest.raises(ValueError, match="phases"):
        readback(16, A, composite(16), START, phases=0)
