"""Every way a profile cannot be built, by reason and placeholders: what a translated message to the user shows.

The English message of a ProfileError is for logs and is not asserted here. Each reason always comes with the
same placeholders (those of its translation), numbers and OCPP names only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_csms.charging.capabilities import SmartChargingCapabilities
from custom_components.ocpp_csms.charging.profiles import (
    ProfileAllocator,
    ProfileError,
    ProfileLimitReachedError,
    ProfileProblem as R,
    ProfileRole,
    SchedulePeriod,
    StackLevelConflictError,
    TooManyPeriodsError,
    limit_profile,
    limit_requests,
    schedule_profile,
)
from custom_components.ocpp_csms.protocol.v201.enums import (
    ChargingProfilePurpose as P,
    ChargingRateUnit,
    RecurrencyKind,
)

from .conftest import NOW

A = ChargingRateUnit.A
CAPS = SmartChargingCapabilities(rate_units=(A,), max_stack_level=8, periods_per_schedule=10)
DAILY, WEEKLY = RecurrencyKind.DAILY, RecurrencyKind.WEEKLY
L, SL = ProfileRole.LIMIT, ProfileRole.STATION_LIMIT

#: The placeholders of each reason's translated message (besides the station).
PLACEHOLDERS: dict[R, set[str]] = {
    R.INVALID_TARGET: {"purpose", "evse"},
    R.TRANSACTION_REQUIRED: {"evse"},
    R.STACK_LEVEL_CONFLICT: {"level", "evse", "profile_id"},
    R.PROFILE_LIMIT_REACHED: {"max"},
    R.IDS_EXHAUSTED: set(),
    R.INVALID_LIMIT: {"limit"},
    R.INVALID_PHASES: {"phases"},
    R.INVALID_PHASE_TO_USE: {"phase"},
    R.INVALID_END: set(),
    R.PERIOD_COUNT: {"count", "max"},
    R.MIXED_PERIOD_STARTS: set(),
    R.INVALID_PERIOD_START: {"period", "start"},
    R.DUPLICATE_PERIOD_START: {"first", "second"},
    R.INVALID_WEEKDAY: {"period"},
    R.SCHEDULE_ENDS_EARLY: {"duration", "start"},
}

type Build = Callable[[ProfileAllocator], object]


def allocator(*installed: tuple[P, int, ProfileRole], **kwargs: Any) -> Callable[[], ProfileAllocator]:
    """An allocator (stack levels 0-8 unless told) with some of our profiles installed already."""

    def make() -> ProfileAllocator:
        made = ProfileAllocator(**({"max_stack_level": 8} | kwargs))
        for purpose, evse, role in installed:
            made.slot(purpose, evse, role)
        return made

    return make


def slot(purpose: P, evse: int, role: ProfileRole = L) -> Build:
    return lambda allocator: allocator.slot(purpose, evse, role)


def limit(**kwargs: Any) -> Build:
    arguments: dict[str, Any] = {"evse_id": 1, "limit": 16, "unit": A, "now": NOW} | kwargs
    return lambda allocator: limit_profile(allocator, CAPS, **arguments)


def schedule(*periods: SchedulePeriod, caps: SmartChargingCapabilities = CAPS, **kwargs: Any) -> Build:
    arguments: dict[str, Any] = {"evse_id": 1, "unit": A, "now": NOW, "tz": ZoneInfo("Europe/Amsterdam")} | kwargs
    return lambda allocator: schedule_profile(allocator, caps, periods=list(periods), **arguments)


def at(start: int | time, limit: float = 6, **kwargs: Any) -> SchedulePeriod:
    return SchedulePeriod(start, limit, **kwargs)


EIGHT = time(8)
TWO_PERIODS = SmartChargingCapabilities(rate_units=(A,), max_stack_level=8, periods_per_schedule=2)
ONE_LEVEL = {"max_stack_level": 0}


def case(
    name: str,
    build: Build,
    reason: R,
    placeholders: dict[str, str],
    *,
    setup: Callable[[], ProfileAllocator] | None = None,
    error: type[ProfileError] = ProfileError,
) -> Any:
    """A row: `build`, on the allocator `setup` makes (default: an empty one), raises `error` with those."""
    return pytest.param(build, reason, placeholders, setup or allocator(), error, id=name)


CASES = [
    # ---- targets (K01.FR.03, .14, .16, .22) ----
    case(
        "K01.FR.22 external constraints",
        slot(P.CHARGING_STATION_EXTERNAL_CONSTRAINTS, 0),
        R.INVALID_TARGET,
        {"purpose": "ChargingStationExternalConstraints", "evse": "0"},
    ),
    case(
        "station maximum on an EVSE",
        slot(P.CHARGING_STATION_MAX_PROFILE, 1),
        R.INVALID_TARGET,
        {"purpose": "ChargingStationMaxProfile", "evse": "1"},
    ),
    case("K01.FR.16 TxProfile on 0", slot(P.TX_PROFILE, 0), R.INVALID_TARGET, {"purpose": "TxProfile", "evse": "0"}),
    case(
        "K01.FR.14 station-wide role on an EVSE",
        slot(P.TX_DEFAULT_PROFILE, 1, SL),
        R.INVALID_TARGET,
        {"purpose": "TxDefaultProfile", "evse": "1"},
    ),
    case(
        "negative EVSE id",
        slot(P.TX_DEFAULT_PROFILE, -1),
        R.INVALID_TARGET,
        {"purpose": "TxDefaultProfile", "evse": "-1"},
    ),
    case(
        "K01.FR.22 limit",
        limit(purpose=P.CHARGING_STATION_EXTERNAL_CONSTRAINTS, evse_id=2),
        R.INVALID_TARGET,
        {"purpose": "ChargingStationExternalConstraints", "evse": "2"},
    ),
    case(
        "a transaction on a TxDefaultProfile",
        limit(transaction_id="tx-1"),
        R.INVALID_TARGET,
        {"purpose": "TxDefaultProfile", "evse": "1"},
    ),
    case("K01.FR.03 limit", limit(purpose=P.TX_PROFILE, evse_id=2), R.TRANSACTION_REQUIRED, {"evse": "2"}),
    case(
        "K01.FR.03 transaction id too long",
        limit(purpose=P.TX_PROFILE, transaction_id="x" * 37),
        R.TRANSACTION_REQUIRED,
        {"evse": "1"},
    ),
    case("K01.FR.03 schedule", schedule(at(0), purpose=P.TX_PROFILE), R.TRANSACTION_REQUIRED, {"evse": "1"}),
    # ---- what the station holds ----
    case(
        "K01.FR.53 EVSE 0 holds the single level",
        slot(P.TX_DEFAULT_PROFILE, 1),
        R.STACK_LEVEL_CONFLICT,
        {"level": "0", "evse": "0", "profile_id": "1000"},
        setup=allocator((P.TX_DEFAULT_PROFILE, 0, L), **ONE_LEVEL),
        error=StackLevelConflictError,
    ),
    case(
        "K01.FR.52 EVSE 2 holds the single level",
        lambda allocator: limit_requests(allocator, CAPS, evse_id=0, limit=10, unit=A, now=NOW),
        R.STACK_LEVEL_CONFLICT,
        {"level": "0", "evse": "2", "profile_id": "1000"},
        setup=allocator((P.TX_DEFAULT_PROFILE, 2, L), **ONE_LEVEL),
        error=StackLevelConflictError,
    ),
    case(
        "Entries[ChargingProfiles] maxLimit",
        limit(evse_id=3),
        R.PROFILE_LIMIT_REACHED,
        {"max": "2"},
        setup=allocator((P.TX_DEFAULT_PROFILE, 1, L), (P.TX_DEFAULT_PROFILE, 2, L), max_profiles=2),
        error=ProfileLimitReachedError,
    ),
    case(
        "ids exhausted",
        slot(P.TX_DEFAULT_PROFILE, 2),
        R.IDS_EXHAUSTED,
        {},
        setup=allocator((P.TX_DEFAULT_PROFILE, 1, L), id_base=2**31 - 1),
    ),
    # ---- limits and phases ----
    case("negative limit", limit(limit=-1), R.INVALID_LIMIT, {"limit": "-1"}),
    case("negative fraction", limit(limit=-0.5), R.INVALID_LIMIT, {"limit": "-0.5"}),
    case("large negative", limit(limit=-1234567.0), R.INVALID_LIMIT, {"limit": "-1234567"}),
    case("infinite limit", limit(limit=float("inf")), R.INVALID_LIMIT, {"limit": "inf"}),
    case("not a number", limit(limit=float("nan")), R.INVALID_LIMIT, {"limit": "nan"}),
    case("negative period limit", schedule(at(0), at(60, -6)), R.INVALID_LIMIT, {"limit": "-6"}),
    case("four phases", limit(number_phases=4), R.INVALID_PHASES, {"phases": "4"}),
    case("no phases", schedule(at(0, number_phases=0)), R.INVALID_PHASES, {"phases": "0"}),
    # ---- phaseToUse (K01.FR.19, K01.FR.20) ----
    case(
        "K01.FR.19 phaseToUse on three phases",
        limit(number_phases=3, phase_to_use=1),
        R.INVALID_PHASE_TO_USE,
        {"phase": "1"},
    ),
    case(
        "K01.FR.20 phaseToUse without AC phase switching",
        limit(number_phases=1, phase_to_use=2),
        R.INVALID_PHASE_TO_USE,
        {"phase": "2"},
    ),
    # ---- ends ----
    case("zero duration", limit(duration=timedelta(0)), R.INVALID_END, {}),
    case("negative duration", limit(duration=timedelta(seconds=-5)), R.INVALID_END, {}),
    case("duration and until", limit(duration=timedelta(hours=1), until=NOW + timedelta(hours=2)), R.INVALID_END, {}),
    case("until now", limit(until=NOW), R.INVALID_END, {}),
    case("schedule until the past", schedule(at(0), until=NOW - timedelta(days=1)), R.INVALID_END, {}),
    case(
        "K01.FR.11 ends before its last period",
        schedule(at(0), at(3600, 16), duration=timedelta(minutes=30)),
        R.SCHEDULE_ENDS_EARLY,
        {"duration": "1800", "start": "3600"},
    ),
    case(
        "K01.FR.11 ends before it starts",
        schedule(at(time(21)), until=NOW + timedelta(hours=1)),
        R.SCHEDULE_ENDS_EARLY,
        {"duration": "-16185", "start": "0"},
    ),
    # ---- periods ----
    case("no periods", schedule(), R.PERIOD_COUNT, {"count": "0", "max": "10"}),
    case(
        "PeriodsPerSchedule",
        schedule(at(0), at(60, 8), at(120, 16), caps=TWO_PERIODS),
        R.PERIOD_COUNT,
        {"count": "3", "max": "2"},
        error=TooManyPeriodsError,
    ),
    case("offsets and clock times", schedule(at(0), at(EIGHT)), R.MIXED_PERIOD_STARTS, {}),
    case("negative offset", schedule(at(0), at(-60)), R.INVALID_PERIOD_START, {"period": "2", "start": "-60"}),
    case(
        "past the day",
        schedule(at(0), at(86400), recurrence=DAILY),
        R.INVALID_PERIOD_START,
        {"period": "2", "start": "86400"},
    ),
    case(
        "before the week", schedule(at(-1), recurrence=WEEKLY), R.INVALID_PERIOD_START, {"period": "1", "start": "-1"}
    ),
    case(
        "clock time with a time zone",
        schedule(at(time(8, tzinfo=UTC))),
        R.INVALID_PERIOD_START,
        {"period": "1", "start": "08:00:00+00:00"},
    ),
    case(
        "same offset", schedule(at(0), at(3600, 8), at(0, 10)), R.DUPLICATE_PERIOD_START, {"first": "1", "second": "3"}
    ),
    case(
        "same clock time, to the second",
        schedule(at(EIGHT), at(time(8, 0, 0, 500)), recurrence=DAILY),
        R.DUPLICATE_PERIOD_START,
        {"first": "1", "second": "2"},
    ),
    case(
        "same weekday and clock time",
        schedule(at(EIGHT, weekday=2), at(time(9), weekday=2), at(EIGHT, 16, weekday=2), recurrence=WEEKLY),
        R.DUPLICATE_PERIOD_START,
        {"first": "1", "second": "3"},
    ),
    case("weekday with an offset", schedule(at(0), at(60, weekday=1)), R.INVALID_WEEKDAY, {"period": "2"}),
    case("weekday 7", schedule(at(EIGHT, weekday=7)), R.INVALID_WEEKDAY, {"period": "1"}),
    case(
        "weekly without a weekday",
        schedule(at(EIGHT, weekday=0), at(time(9)), recurrence=WEEKLY),
        R.INVALID_WEEKDAY,
        {"period": "2"},
    ),
    case("daily with a weekday", schedule(at(EIGHT, weekday=2), recurrence=DAILY), R.INVALID_WEEKDAY, {"period": "1"}),
    case("weekly offset, weekday", schedule(at(0, weekday=2), recurrence=WEEKLY), R.INVALID_WEEKDAY, {"period": "1"}),
]


@pytest.mark.parametrize(
    ("build", "reason", "placeholders", "make_allocator", "error"),
    CASES,
)
def test_profile_errors(
    build: Build,
    reason: R,
    placeholders: dict[str, str],
    make_allocator: Callable[[], ProfileAllocator],
    error: type[ProfileError],
) -> None:
    allocator = make_allocator()
    before = allocator.to_dict()
    with pytest.raises(error) as refused:
        build(allocator)
    assert (refused.value.reason, dict(refused.value.placeholders)) == (reason, placeholders)
    assert set(placeholders) == PLACEHOLDERS[reason]
    assert allocator.to_dict() == before  # nothing allocated for a refused request


def test_every_reason_is_raised_and_has_its_placeholders() -> None:
    assert set(PLACEHOLDERS) == set(R)
    assert {row.values[1] for row in CASES} == set(R)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (limit(voltage=0), "voltage"),
        (limit(now=NOW.replace(tzinfo=None)), "aware"),
        (limit(until=NOW.replace(tzinfo=None) + timedelta(days=1)), "aware"),
        (schedule(at(0), voltage=-1), "voltage"),
    ],
)
def test_programming_errors_are_plain_value_errors(build: Build, match: str) -> None:
    """Wrong electrics and naive datetimes come from code, not from the user: no reason to translate."""
    with pytest.raises(ValueError, match=match) as raised:
        build(ProfileAllocator(max_stack_level=8))
    assert not isinstance(raised.value, ProfileError)
