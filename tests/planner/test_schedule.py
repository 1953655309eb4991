"""A plan as periods that fit the station, as an Absolute profile, and the composite schedule compared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.ocpp_csms.charging.capabilities import SmartChargingCapabilities
from custom_components.ocpp_csms.charging.composite import CompositeLimit, LimitPeriod
from custom_components.ocpp_csms.charging.profiles import ProfileAllocator
from custom_components.ocpp_csms.planner.plan import PlanRequest, make_plan
from custom_components.ocpp_csms.planner.prices import PriceSlot
from custom_components.ocpp_csms.planner.schedule import (
    Period,
    compare_composite,
    fit_periods,
    plan_periods,
    plan_request,
)
from custom_components.ocpp_csms.protocol.v201.enums import ChargingProfilePurpose, ChargingRateUnit
from tests.charging.conftest import assert_schema_valid

NOW = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
A, W = ChargingRateUnit.A, ChargingRateUnit.W


def _plan(energy_wh: float = 20_000.0, prices: tuple[float, ...] = (0.4, 0.35, 0.2, 0.1, 0.12, 0.3, 0.5, 0.6)):
    slots = [PriceSlot(NOW + HOUR * i, NOW + HOUR * (i + 1), p) for i, p in enumerate(prices)]
    return make_plan(
        PlanRequest(now=NOW, departure=NOW + HOUR * len(prices), energy_wh=energy_wh, prices=slots, buffer=timedelta(0))
    )


def test_plan_periods_merge_equal_neighbours_and_pause_until_departure() -> None:
    periods = plan_periods(_plan())
    assert periods == [
        Period(NOW, NOW + 3 * HOUR, 0.0),
        Period(NOW + 3 * HOUR, NOW + 4 * HOUR, 16.0),
        Period(NOW + 4 * HOUR, NOW + 5 * HOUR, 13.0),
        Period(NOW + 5 * HOUR, NOW + 8 * HOUR, 0.0),
    ]


def test_fit_periods_keeps_the_energy_of_what_it_merges() -> None:
    periods = plan_periods(_plan())
    fitted = fit_periods(periods, 3, min_current=6.0)
    assert len(fitted) == 3
    assert fitted[1] == Period(NOW + 3 * HOUR, NOW + 5 * HOUR, 14.5)
    single = fit_periods(periods, 1, min_current=6.0)
    assert single == [Period(NOW, NOW + 8 * HOUR, 6.0)]  # 3.6 A on average: never below the minimum


def test_plan_request_tx_profile_absolute(fixed_allocator: ProfileAllocator) -> None:
    caps = SmartChargingCapabilities(rate_units=(A, W), max_stack_level=8, periods_per_schedule=24)
    request, periods = plan_request(
        fixed_allocator, caps, _plan(), evse_id=1, now=NOW + timedelta(minutes=30), min_current=6, transaction_id="tx-1"
    )
    payload = assert_schema_valid(request)
    profile = payload["chargingProfile"]
    assert profile["chargingProfilePurpose"] == "TxProfile"
    assert profile["chargingProfileKind"] == "Absolute"
    assert profile["transactionId"] == "tx-1"
    schedule = profile["chargingSchedule"][0]
    assert schedule["startSchedule"] == "2026-03-10T18:30:00Z"
    assert [(p["startPeriod"], p["limit"], p["numberPhases"]) for p in schedule["chargingSchedulePeriod"]] == [
        (0, 0.0, 3),
        (9000, 16.0, 3),
        (12600, 13.0, 3),
        (16200, 0.0, 3),
    ]
    assert schedule["duration"] == 7.5 * 3600
    assert profile["validTo"] == "2026-03-11T02:00:00Z"
    assert periods[0].start == NOW + timedelta(minutes=30)


def test_plan_request_default_profile_in_watts_fitted(fixed_allocator: ProfileAllocator) -> None:
    caps = SmartChargingCapabilities(rate_units=(W,), max_stack_level=8, periods_per_schedule=2)
    request, periods = plan_request(fixed_allocator, caps, _plan(), evse_id=1, now=NOW, min_current=6)
    payload = assert_schema_valid(request)
    assert payload["chargingProfile"]["chargingProfilePurpose"] == ChargingProfilePurpose.TX_DEFAULT_PROFILE.value
    schedule = payload["chargingProfile"]["chargingSchedule"][0]
    assert schedule["chargingRateUnit"] == "W"
    assert len(schedule["chargingSchedulePeriod"]) == 2
    assert len(periods) == 2


def test_plan_request_after_the_plan_ended(fixed_allocator: ProfileAllocator) -> None:
    with pytest.raises(ValueError, match="ended"):
        plan_request(
            fixed_allocator, SmartChargingCapabilities(), _plan(), evse_id=1, now=NOW + 9 * HOUR, min_current=6
        )


def _composite(unit: ChargingRateUnit, *limits: tuple[int, int, float | None]) -> CompositeLimit:
    periods = tuple(LimitPeriod(NOW + HOUR * a, NOW + HOUR * b, limit) for a, b, limit in limits)
    return CompositeLimit(1, unit, periods[0].start, periods[-1].end, periods)


def test_composite_compared() -> None:
    periods = plan_periods(_plan())
    held = compare_composite(periods, _composite(A, (0, 3, 0.0), (3, 4, 16.0), (4, 5, 10.0), (5, 8, 0.0)), phases=3)
    assert held.held  # 10 A instead of 13: another limit wins, the plan is there
    assert held.attributes() == {"held": True, "mismatches": []}
    lost = compare_composite(periods, _composite(A, (0, 3, 32.0), (3, 8, 16.0)), phases=3)
    assert not lost.held
    assert [m[0] for m in lost.mismatches] == [NOW, NOW + 4 * HOUR, NOW + 5 * HOUR]
    assert lost.attributes()["mismatches"][0] == {"start": NOW.isoformat(), "planned": 0.0, "found": 32.0}
    watts = compare_composite(
        periods, _composite(W, (0, 3, 0.0), (3, 4, 11_040.0), (4, 5, 8_970.0), (5, 8, None)), phases=3
    )
    assert not watts.held
    assert watts.mismatches == ((NOW + 5 * HOUR, 0.0, None),)
    partial = compare_composite(periods, _composite(A, (0, 2, 0.0)), phases=3)
    assert partial.held  # only what the composite covers is compared


@settings(max_examples=100, deadline=None)
@given(
    currents=st.lists(st.sampled_from([0.0, 6.0, 8.5, 10.0, 13.0, 16.0]), min_size=1, max_size=40),
    minutes=st.lists(st.integers(1, 120), min_size=40, max_size=40),
    maximum=st.integers(1, 24),
)
def test_fitted_periods_span_the_same_time_and_keep_the_energy(
    currents: list[float], minutes: list[int], maximum: int
) -> None:
    periods = []
    cursor = NOW
    for current, length in zip(currents, minutes, strict=False):
        periods.append(Period(cursor, cursor + timedelta(minutes=length), current))
        cursor += timedelta(minutes=length)
    fitted = fit_periods(periods, maximum, min_current=6.0)
    assert len(fitted) <= maximum
    assert (fitted[0].start, fitted[-1].end) == (periods[0].start, periods[-1].end)
    assert all(a.end == b.start for a, b in itertools.pairwise(fitted))
    assert all(p.current == 0 or p.current >= 6.0 for p in fitted)  # never a current a car cannot charge at
    energy = sum(p.current * p.seconds for p in periods)
    kept = sum(p.current * p.seconds for p in fitted)
    # the merged current keeps the energy (rounded up to 0.1 A, lifted to the minimum current), never less
    assert kept >= energy - 1e-6
    assert kept <= energy + (0.1 + 6.0) * sum(p.seconds for p in periods)
