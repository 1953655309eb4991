"""A plan on the station: merged periods, the Absolute charging profile, and the composite schedule compared.

`plan_periods` turns a plan into periods (current per phase, 0 pausing) from the plan's start until its
departure, neighbours with the same current merged; `fit_periods` merges the two neighbours whose difference
matters least (the smallest change of current times the shorter duration; the merged current keeps their
energy, rounded up to 0.1 A, never below the minimum current) until the station's PeriodsPerSchedule holds them.
`plan_request` builds the Absolute TxProfile of a running transaction, or the EVSE's TxDefaultProfile before one starts,
with the `charging/profiles.py` builders (units the station supports, stack levels, ids). `compare_composite`
says whether the station's composite schedule holds the plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
import math
from typing import Any, Final

from ..charging.capabilities import SmartChargingCapabilities
from ..charging.composite import CompositeLimit
from ..charging.profiles import ProfileAllocator, ProfileRole, SchedulePeriod, schedule_profile
from ..protocol.v201.enums import ChargingProfilePurpose, ChargingRateUnit
from ..protocol.v201.messages import SetChargingProfileRequest
from .plan import Plan

#: Two currents this close (A) are the same to a station (a car follows in steps of 0.1 A at best).
CURRENT_TOLERANCE: Final = 0.5


@dataclass(frozen=True, slots=True)
class Period:
    """From `start` until `end`, offer `current` A per phase (0: pause)."""

    start: datetime
    end: datetime
    current: float

    @property
    def seconds(self) -> float:
        """How long the period lasts."""
        return (self.end - self.start).total_seconds()


def _merged_equal(periods: Sequence[Period]) -> list[Period]:
    merged: list[Period] = []
    for period in periods:
        if period.end <= period.start:
            continue
        if merged and merged[-1].current == period.current and merged[-1].end == period.start:
            merged[-1] = Period(merged[-1].start, period.end, period.current)
        else:
            merged.append(period)
    return merged


def plan_periods(plan: Plan) -> list[Period]:
    """The plan's periods from its start to its departure (the slots, then a pause), equal neighbours merged."""
    periods = [Period(slot.start, slot.end, slot.current) for slot in plan.slots]
    if periods and periods[-1].end < plan.departure:
        periods.append(Period(periods[-1].end, plan.departure, 0.0))
    return _merged_equal(periods)


def fit_periods(periods: Sequence[Period], maximum: int, *, min_current: float) -> list[Period]:
    """At most `maximum` periods: the neighbours that differ least are merged, keeping their energy."""
    fitted = _merged_equal(periods)
    while len(fitted) > max(maximum, 1):
        best = min(
            range(len(fitted) - 1),
            key=lambda i: (
                abs(fitted[i].current - fitted[i + 1].current) * min(fitted[i].seconds, fitted[i + 1].seconds)
            ),
        )
        first, second = fitted[best], fitted[best + 1]
        current = (first.current * first.seconds + second.current * second.seconds) / (first.seconds + second.seconds)
        if 0 < current < min_current:
            current = min_current
        fitted[best : best + 2] = [Period(first.start, second.end, current)]
        fitted = _merged_equal(fitted)
    # rounded up to 0.1 A at the end (not at each merge, where the rounding would add up): the energy is kept
    return _merged_equal([Period(p.start, p.end, math.ceil(p.current * 10 - 1e-6) / 10) for p in fitted])


def send_periods(plan: Plan, now: datetime, maximum: int, *, min_current: float) -> list[Period]:
    """The periods of `plan` from `now` on, fitted to `maximum` (empty once the plan has ended)."""
    periods = [period for period in plan_periods(plan) if period.end > now]
    if not periods:
        return []
    periods[0] = Period(max(periods[0].start, now.replace(microsecond=0)), periods[0].end, periods[0].current)
    return fit_periods(periods, maximum, min_current=min_current)


def plan_request(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    plan: Plan,
    *,
    evse_id: int,
    now: datetime,
    min_current: float,
    transaction_id: str | None = None,
    voltage: float = 230.0,
) -> tuple[SetChargingProfileRequest, list[Period]]:
    """The Absolute profile that holds `plan` (a TxProfile with `transaction_id`, else a TxDefaultProfile).

    The schedule starts at the first period still running at `now` and ends at the departure (validTo), after
    which the station's other profiles apply again. Also returns the periods sent.
    """
    periods = send_periods(plan, now, capabilities.periods_per_schedule, min_current=min_current)
    if not periods:
        raise ValueError("the plan has ended")
    start = periods[0].start
    purpose = ChargingProfilePurpose.TX_PROFILE if transaction_id else ChargingProfilePurpose.TX_DEFAULT_PROFILE
    request = schedule_profile(
        allocator,
        capabilities,
        evse_id=evse_id,
        periods=[
            SchedulePeriod(int((period.start - start).total_seconds()), period.current, plan.phases)
            for period in periods
        ],
        unit=ChargingRateUnit.A,
        now=start,
        start=start,
        until=periods[-1].end,
        purpose=purpose,
        role=ProfileRole.SCHEDULE,
        transaction_id=transaction_id,
        voltage=voltage,
    )
    return request, periods


@dataclass(frozen=True, slots=True)
class Readback:
    """The composite schedule against the plan.

    `held` when each period's limit is there (or lower: another limit, such as the fuse's, wins); `mismatches`
    lists (start, planned, found) where the station does otherwise.
    """

    held: bool
    mismatches: tuple[tuple[datetime, float, float | None], ...]

    def attributes(self) -> dict[str, Any]:
        """JSON-ready, for the plan sensor."""
        return {
            "held": self.held,
            "mismatches": [
                {"start": start.isoformat(), "planned": planned, "found": found}
                for start, planned, found in self.mismatches
            ],
        }


def compare_composite(
    periods: Sequence[Period], composite: CompositeLimit, *, phases: int, voltage: float = 230.0
) -> Readback:
    """Whether the station's composite schedule holds the periods sent (where it covers them)."""
    mismatches = []
    for period in periods:
        middle = period.start + (period.end - period.start) / 2
        if not composite.start <= middle < composite.end:
            continue
        found = composite.limit_at(middle)
        planned = period.current
        if composite.unit == ChargingRateUnit.W:
            planned = period.current * phases * voltage
            tolerance = CURRENT_TOLERANCE * phases * voltage
        else:
            tolerance = CURRENT_TOLERANCE
        if found is None or found > planned + tolerance:
            mismatches.append((period.start, planned, found))
    return Readback(not mismatches, tuple(mismatches))
