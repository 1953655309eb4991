"""Composite schedules: as a station reports them (K08) and as we expect them from a set of charging profiles.

`parse_composite` turns a GetCompositeScheduleResponse into a `CompositeLimit`: absolute periods (for a
sensor's attributes), the limit at any time and the limit in force now.

`expected_composite` computes the same view from charging profiles, independently of any station, following
Part 2 §3.4-3.5 of Smart Charging: per purpose the leading schedule at a time is that of the highest stack level
among the profiles valid then (validFrom ≤ t < validTo, K01.FR.36, K01.FR.37) that has a period at that time
(K01.FR.17; after its duration a schedule has none, K01.FR.11, K01.FR.12); a TxProfile overrules the
TxDefaultProfile; the result is the lowest of the leading limits of ChargingStationMaxProfile,
ChargingStationExternalConstraints and TxProfile-or-TxDefaultProfile (K08.FR.04, SC.01), in the requested unit,
with the lowest numberPhases among them (2025-09 errata, "Avoiding Phase Conflicts"). Without a transaction the
TxDefaultProfile counts as if one were running (K08.FR.06). For EVSE 0 only the profiles installed on EVSE 0
are combined (no sum over EVSEs).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..protocol.v201.datatypes import ChargingProfile, ChargingSchedule, CompositeSchedule
from ..protocol.v201.enums import (
    ChargingProfileKind,
    ChargingProfilePurpose,
    ChargingRateUnit,
    GenericStatus,
    RecurrencyKind,
)
from ..protocol.v201.messages import GetCompositeScheduleResponse
from .units import DEFAULT_PHASES, DEFAULT_VOLTAGE, check_electrics, convert

Purpose = ChargingProfilePurpose


@dataclass(frozen=True, slots=True)
class LimitPeriod:
    """A limit from `start` until `end`; `limit` None means no profile limits charging then."""

    start: datetime
    end: datetime
    limit: float | None
    number_phases: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for entity attributes."""
        item: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat(), "limit": self.limit}
        if self.number_phases is not None:
            item["number_phases"] = self.number_phases
        return item


@dataclass(frozen=True, slots=True)
class CompositeLimit:
    """A composite schedule for one EVSE, in absolute time, from `start` until `end`."""

    evse_id: int
    unit: ChargingRateUnit
    start: datetime
    end: datetime
    periods: tuple[LimitPeriod, ...]

    def period_at(self, moment: datetime) -> LimitPeriod | None:
        """The period in force at `moment` (None outside the schedule)."""
        for period in self.periods:
            if period.start <= moment < period.end:
                return period
        return None

    def limit_at(self, moment: datetime) -> float | None:
        """The limit at `moment`, None if unlimited or outside the schedule."""
        period = self.period_at(moment)
        return None if period is None else period.limit

    def attributes(self) -> dict[str, Any]:
        """The schedule as JSON-ready attributes of a sensor."""
        return {
            "evse_id": self.evse_id,
            "unit": self.unit.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "periods": [period.as_dict() for period in self.periods],
        }


# ---- as reported -------------------------------------------------------------------------------------------------


def from_composite_schedule(schedule: CompositeSchedule) -> CompositeLimit:
    """The absolute view of a reported composite schedule (periods past its duration are dropped, K01.FR.11)."""
    start = schedule.schedule_start.astimezone(UTC)
    end = start + timedelta(seconds=max(schedule.duration, 0))
    ordered = sorted(schedule.charging_schedule_period, key=lambda period: period.start_period)
    periods = []
    for index, period in enumerate(ordered):
        begin = start + timedelta(seconds=max(period.start_period, 0))
        until = start + timedelta(seconds=ordered[index + 1].start_period) if index + 1 < len(ordered) else end
        until = min(until, end)
        if begin < until:
            periods.append(LimitPeriod(begin, until, period.limit, period.number_phases))
    return CompositeLimit(schedule.evse_id, schedule.charging_rate_unit, start, end, tuple(periods))


def parse_composite(response: GetCompositeScheduleResponse) -> CompositeLimit | None:
    """The composite schedule of an accepted response, else None (K08.FR.05)."""
    if response.status != GenericStatus.ACCEPTED or response.schedule is None:
        return None
    return from_composite_schedule(response.schedule)


# ---- as expected -------------------------------------------------------------------------------------------------

_RECURRENCE = {RecurrencyKind.DAILY: timedelta(days=1), RecurrencyKind.WEEKLY: timedelta(days=7)}


@dataclass(frozen=True, slots=True)
class _Leading:
    limit: float
    unit: ChargingRateUnit
    number_phases: int | None


def _valid(profile: ChargingProfile, moment: datetime) -> bool:
    if profile.valid_from is not None and moment < profile.valid_from:
        return False
    return profile.valid_to is None or moment < profile.valid_to


def _recurrence(profile: ChargingProfile) -> timedelta:
    return _RECURRENCE[profile.recurrency_kind or RecurrencyKind.DAILY]


def _base(profile: ChargingProfile, schedule: ChargingSchedule, moment: datetime, session: datetime) -> datetime | None:
    """When the schedule's instance that covers `moment` started (None if it has not started yet)."""
    if profile.charging_profile_kind == ChargingProfileKind.RELATIVE or schedule.start_schedule is None:
        return session
    if profile.charging_profile_kind == ChargingProfileKind.RECURRING:
        if moment < schedule.start_schedule:
            return None
        every = _recurrence(profile)
        return schedule.start_schedule + every * ((moment - schedule.start_schedule) // every)
    return schedule.start_schedule


def _schedule_value(profile: ChargingProfile, moment: datetime, session: datetime) -> _Leading | None:
    """The limit the profile's schedule sets at `moment`, if it is valid and has a period then."""
    if not _valid(profile, moment):
        return None
    schedule = profile.charging_schedule[0]
    base = _base(profile, schedule, moment, session)
    if base is None or moment < base:
        return None
    offset = (moment - base).total_seconds()
    if schedule.duration is not None and offset >= schedule.duration:
        return None
    found = None
    for period in sorted(schedule.charging_schedule_period, key=lambda period: period.start_period):
        if period.start_period <= offset:
            found = period
    if found is None:
        return None
    return _Leading(found.limit, schedule.charging_rate_unit, found.number_phases)


def _leading(profiles: Sequence[tuple[int, ChargingProfile]], moment: datetime, session: datetime) -> _Leading | None:
    """The leading limit among profiles of one purpose: highest stack level first (an EVSE's own before EVSE 0's)."""
    for _, profile in sorted(profiles, key=lambda item: (item[1].stack_level, item[0] != 0), reverse=True):
        value = _schedule_value(profile, moment, session)
        if value is not None:
            return value
    return None


def _breakpoints(profile: ChargingProfile, start: datetime, end: datetime, session: datetime) -> Iterable[datetime]:
    """The times within the window at which the profile's contribution may change."""
    yield from (moment for moment in (profile.valid_from, profile.valid_to) if moment is not None)
    schedule = profile.charging_schedule[0]
    bases: list[datetime] = []
    if profile.charging_profile_kind == ChargingProfileKind.RECURRING and schedule.start_schedule is not None:
        every = _recurrence(profile)
        first = max(0, (start - schedule.start_schedule) // every)
        base = schedule.start_schedule + every * first
        while base < end:
            bases.append(base)
            base += every
    else:
        bases.append(_base(profile, schedule, start, session) or session)
    for base in bases:
        yield base
        yield from (base + timedelta(seconds=period.start_period) for period in schedule.charging_schedule_period)
        if schedule.duration is not None:
            yield base + timedelta(seconds=schedule.duration)


def expected_composite(
    profiles: Iterable[tuple[int, ChargingProfile]],
    *,
    evse_id: int,
    start: datetime,
    duration: int,
    unit: ChargingRateUnit,
    transaction_id: str | None = None,
    charging_started: datetime | None = None,
    voltage: float = DEFAULT_VOLTAGE,
) -> CompositeLimit:
    """The composite schedule the given profiles (EVSE id, profile) make for `evse_id` (see the module docstring).

    `transaction_id`: the transaction running on the EVSE (its TxProfiles count; without one, none do).
    `charging_started`: when the running session started charging, the start of Relative schedules (default:
    `start`). Limits in the other unit are converted with their period's numberPhases (default 3) and `voltage`.
    """
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError("start must be an aware datetime")
    check_electrics(voltage, DEFAULT_PHASES)
    start = start.astimezone(UTC)
    end = start + timedelta(seconds=max(duration, 0))
    session = (charging_started or start).astimezone(UTC)
    by_purpose: dict[Purpose, list[tuple[int, ChargingProfile]]] = {purpose: [] for purpose in Purpose}
    for on_evse, profile in profiles:
        purpose = profile.charging_profile_purpose
        if purpose == Purpose.TX_PROFILE:
            if transaction_id is None or on_evse != evse_id or profile.transaction_id not in (None, transaction_id):
                continue
        elif on_evse not in (0, evse_id):
            continue
        by_purpose[purpose].append((on_evse, profile))

    moments = {start}
    for group in by_purpose.values():
        for _, profile in group:
            moments.update(moment for moment in _breakpoints(profile, start, end, session) if start < moment < end)
    ordered = sorted(moments)

    periods: list[LimitPeriod] = []
    for index, moment in enumerate(ordered):
        until = ordered[index + 1] if index + 1 < len(ordered) else end
        limit, phases = _combine(by_purpose, moment, session, unit, voltage)
        if periods and (periods[-1].limit, periods[-1].number_phases) == (limit, phases):
            periods[-1] = LimitPeriod(periods[-1].start, until, limit, phases)
        elif moment < until:
            periods.append(LimitPeriod(moment, until, limit, phases))
    return CompositeLimit(evse_id, unit, start, end, tuple(periods))


def _combine(
    by_purpose: dict[Purpose, list[tuple[int, ChargingProfile]]],
    moment: datetime,
    session: datetime,
    unit: ChargingRateUnit,
    voltage: float,
) -> tuple[float | None, int | None]:
    """The lowest leading limit at `moment` over the purposes, and the lowest number of phases among them."""
    transaction = _leading(by_purpose[Purpose.TX_PROFILE], moment, session) or _leading(
        by_purpose[Purpose.TX_DEFAULT_PROFILE], moment, session
    )
    leading = [
        _leading(by_purpose[Purpose.CHARGING_STATION_MAX_PROFILE], moment, session),
        _leading(by_purpose[Purpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS], moment, session),
        transaction,
    ]
    limit: float | None = None
    phases: int | None = None
    for value in leading:
        if value is None:
            continue
        converted = convert(
            value.limit, value.unit, unit, voltage=voltage, phases=value.number_phases or DEFAULT_PHASES
        )
        limit = converted if limit is None else min(limit, converted)
        if value.number_phases is not None:
            phases = value.number_phases if phases is None else min(phases, value.number_phases)
    return limit, phases
