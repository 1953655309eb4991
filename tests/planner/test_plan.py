"""The plan: cheapest slots by departure, within currents and phases, solar first, partial plans flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ocpp_csms.planner.plan import (
    Plan,
    PlanRequest,
    energy_to_target,
    estimate_capacity,
    make_plan,
)
from custom_components.ocpp_csms.planner.prices import PowerSlot, PriceSlot

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
FULL = 16 * 3 * 230.0  # 11 040 W


def _prices(*values: float, start: datetime = NOW, step: timedelta = HOUR) -> list[PriceSlot]:
    return [PriceSlot(start + step * i, start + step * (i + 1), value) for i, value in enumerate(values)]


def _request(**kwargs: object) -> PlanRequest:
    defaults: dict[str, object] = {
        "now": NOW,
        "departure": NOW + timedelta(hours=8),
        "energy_wh": 20_000.0,
        "prices": _prices(0.40, 0.35, 0.20, 0.10, 0.12, 0.30, 0.50, 0.60),
        "buffer": timedelta(0),
    }
    defaults.update(kwargs)
    return PlanRequest(**defaults)  # type: ignore[arg-type]


def test_a_plan_that_fits_takes_the_cheapest_slots() -> None:
    plan = make_plan(_request())
    charging = plan.charging_slots
    assert [slot.start for slot in charging] == [NOW + 3 * HOUR, NOW + 4 * HOUR]
    assert charging[0].current == 16
    assert charging[0].energy_wh == pytest.approx(FULL)
    assert charging[1].energy_wh == pytest.approx(20_000 - FULL)
    assert plan.complete
    assert plan.energy_wh == pytest.approx(20_000)
    assert plan.cost == pytest.approx(FULL / 1000 * 0.10 + (20_000 - FULL) / 1000 * 0.12)
    assert plan.finish == NOW + 5 * HOUR
    assert plan.next_start(NOW) == NOW + 3 * HOUR
    assert plan.current_at(NOW) == 0
    assert plan.current_at(NOW + 3.5 * HOUR) == 16
    attributes = plan.attributes()
    assert attributes["complete"] is True
    assert attributes["expected_energy"] == 20.0
    assert len(attributes["slots"]) == 2
    assert attributes["slots"][0]["price"] == 0.10


def test_the_marginal_slot_charges_at_its_power_above_the_minimum() -> None:
    plan = make_plan(_request())
    second = plan.charging_slots[1]
    assert second.power == pytest.approx(20_000 - FULL)
    assert second.current == pytest.approx(13.0)  # 8 960 W on 3 x 230 V is 12.99 A: rounded up to 0.1 A


def test_below_the_minimum_the_slot_charges_at_the_minimum_for_part_of_its_time() -> None:
    plan = make_plan(_request(energy_wh=2_070.0))  # half an hour at 6 A x 3 x 230 V
    charging = plan.charging_slots
    assert len(charging) == 1
    assert charging[0].current == 6
    assert charging[0].start == NOW + 3 * HOUR
    assert charging[0].end == NOW + 3.5 * HOUR
    assert plan.current_at(NOW + 3.75 * HOUR) == 0


def test_a_plan_that_cannot_meet_the_target_charges_all_it_can() -> None:
    plan = make_plan(_request(energy_wh=100_000.0, departure=NOW + 3 * HOUR))
    assert not plan.complete
    assert plan.energy_wh == pytest.approx(3 * FULL)
    assert plan.shortfall_wh == pytest.approx(100_000 - 3 * FULL)
    assert plan.attributes()["complete"] is False
    assert all(slot.current == 16 for slot in plan.slots)


def test_the_buffer_keeps_the_last_slots_free() -> None:
    plan = make_plan(_request(buffer=timedelta(hours=4), energy_wh=5_000.0))
    assert plan.charging_slots[0].start == NOW + 3 * HOUR
    assert plan.slots[-1].end == NOW + 4 * HOUR


def test_replanned_when_tomorrows_prices_arrive() -> None:
    today_only = _prices(0.40, 0.35, 0.30)
    request = _request(prices=today_only, energy_wh=15_000.0)
    before = make_plan(request)
    # the known slots come first, the unknown ones only for the rest
    assert [slot.start for slot in before.charging_slots] == [NOW + HOUR, NOW + 2 * HOUR]
    assert before.charging_slots[1].energy_wh == pytest.approx(FULL)
    assert before.unpriced_wh == 0
    after = make_plan(_request(prices=[*today_only, *_prices(0.05, 0.05, start=NOW + 3 * HOUR)], energy_wh=15_000.0))
    assert [slot.start for slot in after.charging_slots] == [NOW + 3 * HOUR, NOW + 4 * HOUR]
    assert after.cost < before.cost


def test_unknown_prices_are_used_last_and_counted_apart() -> None:
    plan = make_plan(_request(prices=_prices(0.30), energy_wh=15_000.0))
    assert plan.charging_slots[0].price == 0.30
    assert plan.unpriced_wh == pytest.approx(15_000 - FULL)
    assert plan.cost == pytest.approx(FULL / 1000 * 0.30)


def test_solar_first_at_the_feed_in_price() -> None:
    solar = [PowerSlot(NOW + 6 * HOUR, NOW + 7 * HOUR, 8_000.0)]
    plan = make_plan(_request(solar=solar, feed_in=0.08, energy_wh=8_000.0))
    (slot,) = plan.charging_slots
    assert slot.start == NOW + 6 * HOUR
    assert slot.solar_wh == pytest.approx(8_000)
    assert slot.cost == pytest.approx(8 * 0.08)
    # without a feed-in price the sun is free, and the grid above it is the slot's price
    plan = make_plan(_request(solar=solar, energy_wh=10_000.0))
    cheap, sunny = plan.charging_slots
    assert (cheap.start, sunny.start) == (NOW + 3 * HOUR, NOW + 6 * HOUR)
    assert sunny.cost == 0
    assert cheap.energy_wh == pytest.approx(2_000)  # at 0.10 rather than the grid at 0.50 above the sun


def test_a_car_that_draws_less_lowers_the_planned_power() -> None:
    plan = make_plan(_request(max_power=3_680.0, energy_wh=7_360.0))
    assert [slot.start for slot in plan.charging_slots] == [NOW + 3 * HOUR, NOW + 4 * HOUR]
    assert plan.charging_slots[0].power == pytest.approx(3_680)
    assert plan.charging_slots[0].current == 16  # the car takes what it can: the EVSE's maximum is offered


def test_nothing_to_plan() -> None:
    done = make_plan(_request(energy_wh=0.0))  # the target is reached: a pause until the departure
    assert [(slot.start, slot.end, slot.current) for slot in done.slots] == [(NOW, NOW + 8 * HOUR, 0.0)]
    assert done.complete
    assert done.next_start(NOW) is None
    past = make_plan(_request(departure=NOW - HOUR))
    assert past.slots == ()
    assert past.finish is None
    assert past.next_start(NOW) is None
    assert past.current_at(NOW) == 0
    # a departure inside the buffer: the buffer gives way
    plan = make_plan(_request(departure=NOW + HOUR, buffer=timedelta(hours=2), energy_wh=1_000.0))
    assert plan.energy_wh == pytest.approx(1_000)


def test_negative_prices_are_taken_first() -> None:
    plan = make_plan(_request(prices=_prices(0.2, -0.05, 0.1), departure=NOW + 3 * HOUR, energy_wh=5_000.0))
    assert plan.charging_slots[0].start == NOW + HOUR
    assert plan.cost < 0


@settings(max_examples=80, deadline=None)
@given(
    prices=st.lists(st.floats(-0.2, 1.0, allow_nan=False).map(lambda p: round(p, 3)), min_size=1, max_size=40),
    energy_kwh=st.floats(0.5, 200.0),
    quarter=st.booleans(),
    max_current=st.integers(6, 32),
    phases=st.sampled_from([1, 3]),
)
def test_no_cheaper_slot_is_left_unused(
    prices: list[float], energy_kwh: float, quarter: bool, max_current: int, phases: int
) -> None:
    """The optimum of the linear program: a slot charges only when every cheaper slot is full."""
    step = timedelta(minutes=15) if quarter else HOUR
    request = _request(
        prices=_prices(*prices, step=step),
        departure=NOW + step * len(prices),
        energy_wh=energy_kwh * 1000,
        max_current=float(max_current),
        phases=phases,
    )
    plan: Plan = make_plan(request)
    capacity = max_current * phases * 230.0 * step.total_seconds() / 3600 * len(prices)
    assert plan.energy_wh == pytest.approx(min(energy_kwh * 1000, capacity), abs=2.0)
    per_start: dict[datetime, float] = {}
    for slot in plan.slots:
        hour_start = NOW + step * int((slot.start - NOW) / step)
        per_start[hour_start] = per_start.get(hour_start, 0.0) + slot.energy_wh
    full = request.full_power * step.total_seconds() / 3600
    used = {start: energy for start, energy in per_start.items() if energy > 1e-6}
    price_of = {NOW + step * i: price for i, price in enumerate(prices)}
    for start, energy in per_start.items():
        if energy < full - 1e-6:  # not full: nothing dearer may charge
            assert all(price_of[other] <= price_of[start] for other in used)
    for slot in plan.charging_slots:
        assert request.min_current <= slot.current <= max_current


def test_prices_not_out_yet_are_taken_from_the_day_before() -> None:
    """Tomorrow's prices arrive late: its slots count at yesterday's price for the same time."""
    yesterday = _prices(0.9, 0.9, 0.05, 0.9, start=NOW - timedelta(hours=22))  # 20:00-24:00 the day before
    today = _prices(0.30, 0.30)  # 18:00-20:00 known
    plan = make_plan(_request(prices=[*yesterday, *today], departure=NOW + 6 * HOUR, energy_wh=5_000.0))
    (slot,) = plan.charging_slots
    assert slot.start == NOW + 4 * HOUR  # 22:00, cheap the day before
    assert slot.price is None
    assert plan.unpriced_wh == pytest.approx(5_000)


def test_energy_to_a_target_state_of_charge() -> None:
    assert energy_to_target(80, 30, 60_000) == pytest.approx(30_000)
    assert energy_to_target(80, 85, 60_000) == 0
    assert estimate_capacity(30, 1_000, 31, 1_600) is None  # a rise of 1 %: too little to tell
    assert estimate_capacity(30, 1_000, 35, 4_000) == pytest.approx(60_000)
    assert estimate_capacity(30, 1_000, 35, 900) is None
