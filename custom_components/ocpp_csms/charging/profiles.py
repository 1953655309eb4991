"""Our charging profiles on a station: managed ids and stack levels, and the requests that install and clear them.

Ids and stack levels
--------------------
The integration installs a handful of profiles per station, each for one (purpose, EVSE, role). The role says
what the profile is for, in ascending precedence:

    STATION_SCHEDULE < STATION_LIMIT < SCHEDULE < LIMIT

A limit set now overrides a standing schedule, and what is set for one EVSE overrides what is set for the whole
station (a TxDefaultProfile on EVSE 0 applies to every EVSE, K01.FR.14; the more specific one must win). Each
purpose lays its roles out on fixed stack levels in that order (`ProfileAllocator.stack_level`), from
`min_stack_level` up to the station's ProfileStackLevel. When the station has fewer levels than roles, adjacent
roles share a level: a LIMIT then replaces the SCHEDULE of the same scope instead of overriding it.

Ids belong to a (purpose, EVSE, stack level) bucket, not to a role: whatever we install in a bucket re-uses its id,
so the station replaces the previous profile (K01.FR.05) and two of our profiles never share a stack level,
purpose and EVSE under different ids (K01.FR.06), nor a stack level and transaction (K01.FR.39). TxDefaultProfiles
on EVSE 0 and on a specific EVSE never share a level either, except on a station with a single stack level, where
the allocator refuses the second one (`StackLevelConflictError`) rather than send what the station must reject
(K01.FR.52, K01.FR.53). Ids are unique per station and start at `id_base`; an id whose profile `reconfigure`
dropped is never handed out again (clearing it on the station may still be under way).

The allocator is optimistic: a bucket counts as installed from the moment a request is built for it until it is
released (`release`, `clear_requests`), or its transaction ends (`release(TX_PROFILE, evse_id)`). Persist it with
`to_dict` / `from_dict` next to the station's other state.

Builders
--------
`limit_profile` (a constant limit), `schedule_profile` (user periods, by start offset or local clock time,
optionally recurring daily or weekly), `limit_requests` / `schedule_requests` (the TxDefaultProfile plus, by
policy, a TxProfile for each running transaction), `start_profile` (the TxProfile of a remote start),
`clear_requests` / `clear_limit_requests`.

`managed_requests` (the energy manager's limits) sends a live limit that is valid for a while over a safe limit
without end, so that a station that hears nothing more falls back by itself (`ManagedLayout` says how the two
stand on the station's stack levels).

Errors
------
What cannot be built as asked raises `ProfileError`, whose `reason` (a `ProfileProblem`) and `placeholders`
(numbers and OCPP names, as strings) make a translated message for the user; its own message is English, for logs.
Wrong types and naive datetimes are programming errors: plain ValueError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum
import math
from typing import Any

from ..protocol.v201.datatypes import ChargingProfile, ChargingSchedule, ChargingSchedulePeriod
from ..protocol.v201.enums import ChargingProfileKind, ChargingProfilePurpose, ChargingRateUnit, RecurrencyKind
from ..protocol.v201.messages import ClearChargingProfileRequest, SetChargingProfileRequest
from .capabilities import SmartChargingCapabilities
from .units import DEFAULT_PHASES, DEFAULT_VOLTAGE, MAX_PHASES, check_electrics, choose_unit, convert, round_limit

Purpose = ChargingProfilePurpose

DEFAULT_ID_BASE = 1000
"""Our first profile id: clear of the small ids stations and other back-ends tend to use."""

STORAGE_VERSION = 1

#: OCPP integers are 32-bit (Part 2, primitive datatypes).
_MAX_ID = 2**31 - 1
_MAX_TRANSACTION_ID = 36
DAY = 86_400
WEEK = 7 * DAY


class ProfileProblem(StrEnum):
    """Why a profile cannot be built: the key of a translated message. Each reason always has the same placeholders."""

    INVALID_TARGET = "invalid_target"
    """The purpose, EVSE and transaction do not go together: a ChargingStationExternalConstraints profile
    (K01.FR.22), a ChargingStationMaxProfile off EVSE 0, a TxProfile on EVSE 0 (K01.FR.16), a station-wide
    TxDefaultProfile on an EVSE (K01.FR.14), a transaction named by another purpose, a negative EVSE id.
    Placeholders: purpose (ChargingProfilePurpose), evse."""
    TRANSACTION_REQUIRED = "transaction_required"
    """A TxProfile without the id of a running transaction (K01.FR.03). Placeholders: evse."""
    STACK_LEVEL_CONFLICT = "stack_level_conflict"
    """The station's single stack level holds our TxDefaultProfile of the other scope (K01.FR.52, K01.FR.53).
    Placeholders: level, and the evse and profile_id of the profile to clear first."""
    PROFILE_LIMIT_REACHED = "profile_limit_reached"
    """The station holds no more profiles (Entries[ChargingProfiles] maxLimit). Placeholders: max."""
    IDS_EXHAUSTED = "ids_exhausted"
    """No profile id is left below 2**31. No placeholders."""
    INVALID_LIMIT = "invalid_limit"
    """A limit that is negative or not a finite number. Placeholders: limit."""
    INVALID_PHASES = "invalid_phases"
    """A numberPhases other than 1, 2 or 3. Placeholders: phases."""
    INVALID_END = "invalid_end"
    """A duration that is not positive, an end time not in the future, or both given. No placeholders."""
    PERIOD_COUNT = "period_count"
    """No periods, or more than the station's PeriodsPerSchedule after merging equal neighbours.
    Placeholders: count, max."""
    MIXED_PERIOD_STARTS = "mixed_period_starts"
    """Some periods start at an offset, others at a clock time. No placeholders."""
    INVALID_PERIOD_START = "invalid_period_start"
    """A negative offset, an offset past the day or week of a recurring schedule, or a clock time with a time
    zone. Placeholders: period (its position, from 1), start (as given)."""
    DUPLICATE_PERIOD_START = "duplicate_period_start"
    """Two periods start at the same time. Placeholders: first, second (positions, from 1)."""
    INVALID_WEEKDAY = "invalid_weekday"
    """A weekday out of 0-6, with an offset or in a daily schedule, or missing from a clock time of a weekly
    schedule. Placeholders: period (its position, from 1)."""
    SCHEDULE_ENDS_EARLY = "schedule_ends_early"
    """The schedule ends before its last period starts (K01.FR.11). Placeholders: duration, start (seconds)."""
    INVALID_PHASE_TO_USE = "invalid_phase_to_use"
    """A phaseToUse other than 1-3, without numberPhases 1 (K01.FR.19), or for a station that does not report
    ACPhaseSwitchingSupported (K01.FR.20). Placeholders: phase."""


class ProfileError(ValueError):
    """A profile that cannot be built as asked: `reason` and `placeholders` for the user, the message for logs."""

    def __init__(self, reason: ProfileProblem, message: str, **placeholders: int | str) -> None:
        """`placeholders` are the reason's, numbers and OCPP names only (stored as strings): never English."""
        super().__init__(message)
        self.reason = reason
        self.placeholders: Mapping[str, str] = {name: str(value) for name, value in placeholders.items()}


class StackLevelConflictError(ProfileError):
    """The station has too few stack levels to hold this profile next to one of ours that is installed."""

    def __init__(self, taken: ProfileSlot) -> None:
        """`taken`: our installed profile on the stack level this one needs."""
        super().__init__(
            ProfileProblem.STACK_LEVEL_CONFLICT,
            f"stack level {taken.stack_level} is taken by our TxDefaultProfile {taken.profile_id} on EVSE"
            f" {taken.evse_id} ({taken.role}); the station has no other level for this one: clear that profile first",
            level=taken.stack_level,
            evse=taken.evse_id,
            profile_id=taken.profile_id,
        )


class ProfileLimitReachedError(ProfileError):
    """The station holds no more profiles (SmartChargingCtrlr Entries[ChargingProfiles] maxLimit)."""

    def __init__(self, maximum: int) -> None:
        """`maximum`: how many profiles the station holds."""
        super().__init__(
            ProfileProblem.PROFILE_LIMIT_REACHED,
            f"the station holds at most {maximum} charging profiles",
            max=maximum,
        )


class TooManyPeriodsError(ProfileError):
    """The schedule has more periods than the station takes (SmartChargingCtrlr.PeriodsPerSchedule)."""

    def __init__(self, count: int, maximum: int) -> None:
        """`count` periods (after merging equal neighbours), `maximum` per schedule."""
        super().__init__(
            ProfileProblem.PERIOD_COUNT,
            f"{count} periods, the station takes at most {maximum} per schedule",
            count=count,
            max=maximum,
        )


class ProfileRole(StrEnum):
    """What one of our profiles is for, in ascending precedence (a later role gets the higher stack level)."""

    STATION_SCHEDULE = "station_schedule"
    STATION_LIMIT = "station_limit"
    SCHEDULE = "schedule"
    LIMIT = "limit"

    @property
    def station_wide(self) -> bool:
        """Whether the role expresses a station-wide intent."""
        return self in (ProfileRole.STATION_SCHEDULE, ProfileRole.STATION_LIMIT)

    def for_station(self) -> ProfileRole:
        """The station-wide variant of the role."""
        return {ProfileRole.SCHEDULE: ProfileRole.STATION_SCHEDULE, ProfileRole.LIMIT: ProfileRole.STATION_LIMIT}.get(
            self, self
        )


_ALL_ROLES = tuple(ProfileRole)
#: The roles each purpose lays out on its stack levels, lowest level first.
_LAYERS: dict[Purpose, tuple[ProfileRole, ...]] = {
    Purpose.CHARGING_STATION_MAX_PROFILE: (ProfileRole.STATION_SCHEDULE, ProfileRole.STATION_LIMIT),
    Purpose.TX_DEFAULT_PROFILE: _ALL_ROLES,
    Purpose.TX_PROFILE: _ALL_ROLES,
}


@dataclass(frozen=True, slots=True)
class ProfileSlot:
    """Where a profile of ours goes: its id and stack level, for a purpose, EVSE and role."""

    profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    evse_id: int
    role: ProfileRole


type _BucketKey = tuple[Purpose, int, int]


@dataclass(slots=True)
class _Bucket:
    profile_id: int
    occupant: ProfileRole | None = None


class ProfileAllocator:
    """Profile ids and stack levels of one station (see the module docstring). Not thread-safe."""

    def __init__(
        self,
        *,
        max_stack_level: int = 0,
        min_stack_level: int = 0,
        id_base: int = DEFAULT_ID_BASE,
        max_profiles: int | None = None,
    ) -> None:
        """Use stack levels `min_stack_level`..`max_stack_level` (its ProfileStackLevel), ids from `id_base` on.

        `max_profiles` bounds how many of our profiles are installed at once (None: no bound).
        """
        _check_range(min_stack_level, max_stack_level)
        if not 0 <= id_base <= _MAX_ID:
            raise ValueError(f"id_base out of range: {id_base}")
        self._min = min_stack_level
        self._max = max_stack_level
        self._id_base = id_base
        self._next_id = id_base
        self.max_profiles = max_profiles
        self._buckets: dict[_BucketKey, _Bucket] = {}
        self._reserved: set[int] = set()

    @classmethod
    def for_station(cls, capabilities: SmartChargingCapabilities, **kwargs: Any) -> ProfileAllocator:
        """An allocator within the stack levels and profile count the station reports."""
        return cls(max_stack_level=capabilities.max_stack_level, max_profiles=capabilities.max_profiles, **kwargs)

    # ---- layout ------------------------------------------------------------------------------------------------

    @property
    def min_stack_level(self) -> int:
        """The lowest stack level we use."""
        return self._min

    @property
    def max_stack_level(self) -> int:
        """The highest stack level we use (the station's ProfileStackLevel)."""
        return self._max

    def stack_level(self, purpose: ChargingProfilePurpose, evse_id: int, role: ProfileRole) -> int:
        """The stack level of a (purpose, EVSE, role); ProfileError if the combination is not allowed."""
        role = _check_target(purpose, evse_id, role)
        return self._level(purpose, role, self._min, self._max)

    @staticmethod
    def _level(purpose: Purpose, role: ProfileRole, lowest: int, highest: int) -> int:
        layers = _LAYERS[purpose]
        rank, count, levels = layers.index(role), len(layers), highest - lowest + 1
        return lowest + (rank if levels >= count else rank * levels // count)

    # ---- allocation --------------------------------------------------------------------------------------------

    def slot(self, purpose: ChargingProfilePurpose, evse_id: int, role: ProfileRole) -> ProfileSlot:
        """The id and stack level for a profile, marked installed (call it when the request is sent).

        Raises ProfileError (INVALID_TARGET) for a purpose/EVSE/role the spec forbids, StackLevelConflictError
        when the station's single stack level is taken by our TxDefaultProfile of the other scope (EVSE 0 vs a
        specific EVSE), ProfileLimitReachedError when `max_profiles` of ours are installed already, ProfileError
        (IDS_EXHAUSTED) when no id is left.
        """
        role = _check_target(purpose, evse_id, role)
        level = self._level(purpose, role, self._min, self._max)
        key = (purpose, evse_id, level)
        other = next(self._cross_scope(evse_id, level), None) if purpose == Purpose.TX_DEFAULT_PROFILE else None
        if other is not None:
            raise StackLevelConflictError(other)
        bucket = self._buckets.get(key)
        newly_installed = bucket is None or bucket.occupant is None
        if newly_installed and self.max_profiles is not None and len(self.installed()) >= self.max_profiles:
            raise ProfileLimitReachedError(self.max_profiles)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(self._new_id())
        bucket.occupant = role
        return ProfileSlot(bucket.profile_id, level, purpose, evse_id, role)

    def _cross_scope(self, evse_id: int, level: int) -> Iterator[ProfileSlot]:
        """Our installed TxDefaultProfiles at `level` on the other scope (K01.FR.52, K01.FR.53)."""
        for slot in self.installed():
            if (
                slot.purpose == Purpose.TX_DEFAULT_PROFILE
                and slot.stack_level == level
                and (slot.evse_id == 0) != (evse_id == 0)
            ):
                yield slot

    def _new_id(self) -> int:
        used = {bucket.profile_id for bucket in self._buckets.values()} | self._reserved
        while self._next_id in used:
            self._next_id += 1
        if self._next_id > _MAX_ID:
            raise ProfileError(ProfileProblem.IDS_EXHAUSTED, "profile ids exhausted")
        self._next_id += 1
        return self._next_id - 1

    def release(
        self,
        purpose: ChargingProfilePurpose | None = None,
        evse_id: int | None = None,
        role: ProfileRole | None = None,
    ) -> list[int]:
        """Mark our installed profiles matching all given criteria as gone; their ids, sorted.

        Call it after a ClearChargingProfile, and with (TX_PROFILE, evse_id) when a transaction ends (the station
        drops its TxProfiles then). The ids stay with their buckets, to be re-used.
        """
        released = []
        for (bucket_purpose, bucket_evse, _), bucket in self._buckets.items():
            if bucket.occupant is None or (purpose is not None and bucket_purpose != purpose):
                continue
            if (evse_id is not None and bucket_evse != evse_id) or (role is not None and bucket.occupant != role):
                continue
            bucket.occupant = None
            released.append(bucket.profile_id)
        return sorted(released)

    def installed(self) -> list[ProfileSlot]:
        """Our profiles the station should hold, by id."""
        slots = [
            ProfileSlot(bucket.profile_id, level, purpose, evse_id, bucket.occupant)
            for (purpose, evse_id, level), bucket in self._buckets.items()
            if bucket.occupant is not None
        ]
        return sorted(slots, key=lambda slot: slot.profile_id)

    def reconfigure(self, *, max_stack_level: int, min_stack_level: int | None = None) -> list[int]:
        """Adopt a new stack level range; the ids of our installed profiles that must now be cleared, sorted.

        A profile whose role maps to another level under the new range is dropped from the books (its bucket
        is gone and a new one, with a new id, will be allocated), so clear the returned ids before re-sending.
        """
        lowest = self._min if min_stack_level is None else min_stack_level
        _check_range(lowest, max_stack_level)
        if (lowest, max_stack_level) == (self._min, self._max):
            return []
        orphans = []
        for key, bucket in list(self._buckets.items()):
            purpose, _, level = key
            if bucket.occupant is None:
                del self._buckets[key]  # not on the station: a fresh bucket will do
            elif self._level(purpose, bucket.occupant, lowest, max_stack_level) != level:
                orphans.append(bucket.profile_id)
                del self._buckets[key]
        self._min, self._max = lowest, max_stack_level
        self._reserved.update(orphans)  # cleared asynchronously: never re-use them for something else
        return sorted(orphans)

    # ---- persistence -------------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot."""
        return {
            "version": STORAGE_VERSION,
            "min_stack_level": self._min,
            "max_stack_level": self._max,
            "id_base": self._id_base,
            "next_id": self._next_id,
            "max_profiles": self.max_profiles,
            "reserved_ids": sorted(self._reserved),
            "buckets": [
                {
                    "purpose": purpose.value,
                    "evse_id": evse_id,
                    "stack_level": level,
                    "profile_id": bucket.profile_id,
                    "role": None if bucket.occupant is None else bucket.occupant.value,
                }
                for (purpose, evse_id, level), bucket in sorted(self._buckets.items())
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProfileAllocator:
        """Restore a snapshot of `to_dict` (ValueError if it is not one)."""
        try:
            if data["version"] != STORAGE_VERSION:
                raise ValueError(f"unknown allocator storage version {data['version']!r}")
            allocator = cls(
                max_stack_level=_as_int(data["max_stack_level"]),
                min_stack_level=_as_int(data["min_stack_level"]),
                id_base=_as_int(data["id_base"]),
                max_profiles=None if data["max_profiles"] is None else _as_int(data["max_profiles"]),
            )
            allocator._next_id = _as_int(data["next_id"])
            allocator._reserved = {_as_int(pid) for pid in data["reserved_ids"]}
            for item in data["buckets"]:
                key = (Purpose(item["purpose"]), _as_int(item["evse_id"]), _as_int(item["stack_level"]))
                if key[0] not in _LAYERS:
                    raise ValueError(f"not a purpose of ours: {key[0]}")
                role = None if item["role"] is None else ProfileRole(item["role"])
                allocator._buckets[key] = _Bucket(_as_int(item["profile_id"]), role)
        except (KeyError, TypeError) as err:
            raise ValueError(f"malformed allocator data: {err!r}") from err
        return allocator


def _as_int(value: Any) -> int:
    if type(value) is not int:
        raise TypeError(f"not an integer: {value!r}")
    return value


def _check_range(lowest: int, highest: int) -> None:
    if not 0 <= lowest <= highest:
        raise ValueError(f"invalid stack level range {lowest}..{highest}")


def _invalid_target(purpose: ChargingProfilePurpose, evse_id: int, message: str) -> ProfileError:
    return ProfileError(ProfileProblem.INVALID_TARGET, message, purpose=purpose.value, evse=evse_id)


def _check_target(purpose: ChargingProfilePurpose, evse_id: int, role: ProfileRole) -> ProfileRole:
    """The role as laid out for this purpose and EVSE, or ProfileError (INVALID_TARGET) for what the spec forbids."""
    if evse_id < 0:
        raise _invalid_target(purpose, evse_id, f"invalid EVSE id {evse_id}")
    if purpose not in _LAYERS:
        raise _invalid_target(purpose, evse_id, f"the CSMS does not set {purpose} profiles (K01.FR.22)")
    if purpose == Purpose.CHARGING_STATION_MAX_PROFILE and evse_id != 0:
        raise _invalid_target(purpose, evse_id, "a ChargingStationMaxProfile goes on EVSE 0 only")
    if purpose == Purpose.TX_PROFILE and evse_id == 0:
        raise _invalid_target(purpose, evse_id, "a TxProfile goes on a specific EVSE, never EVSE 0 (K01.FR.16)")
    if evse_id == 0:
        return role.for_station()
    if purpose == Purpose.TX_DEFAULT_PROFILE and role.station_wide:
        raise _invalid_target(purpose, evse_id, "a station-wide TxDefaultProfile goes on EVSE 0 (K01.FR.14)")
    return role


def _check_transaction(purpose: ChargingProfilePurpose, evse_id: int, transaction_id: str | None) -> None:
    if purpose == Purpose.TX_PROFILE:
        if not transaction_id or len(transaction_id) > _MAX_TRANSACTION_ID:
            raise ProfileError(
                ProfileProblem.TRANSACTION_REQUIRED,
                "a TxProfile needs the id of the running transaction (K01.FR.03)",
                evse=evse_id,
            )
    elif transaction_id is not None:
        raise _invalid_target(purpose, evse_id, "only a TxProfile names a transaction")


# ---- builders ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """One period of a user schedule: from `start` on, `limit` (in the schedule's unit) applies.

    `start` is either seconds from the start of the schedule, or a local wall-clock time; in a weekly schedule
    a clock time needs its `weekday` (0 = Monday).
    """

    start: int | time
    limit: float
    number_phases: int | None = None
    weekday: int | None = None


def _aware_utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def _end(now: datetime, duration: timedelta | None, until: datetime | None) -> datetime | None:
    """The validTo of a profile that holds for `duration` from now, or until `until` (not both)."""
    if duration is not None and until is not None:
        raise ProfileError(ProfileProblem.INVALID_END, "give a duration or an end time, not both")
    if duration is not None:
        if duration <= timedelta(0):
            raise ProfileError(ProfileProblem.INVALID_END, "the duration must be positive")
        return now + timedelta(seconds=math.ceil(duration.total_seconds()))
    if until is not None:
        end = _aware_utc(until, "until")
        if end <= now:
            raise ProfileError(ProfileProblem.INVALID_END, "the end time is not in the future")
        return end
    return None


def _check_limit(limit: float, number_phases: int | None) -> None:
    if not math.isfinite(limit) or limit < 0:
        shown = str(int(limit)) if float(limit).is_integer() else str(limit)  # "16", "-0.5", "inf", "nan"
        raise ProfileError(
            ProfileProblem.INVALID_LIMIT, f"a limit is a non-negative number, not {limit!r}", limit=shown
        )
    if number_phases is not None and not 1 <= number_phases <= MAX_PHASES:
        raise ProfileError(
            ProfileProblem.INVALID_PHASES,
            f"number of phases must be 1, 2 or 3, not {number_phases!r}",
            phases=number_phases,
        )


def _check_phase_to_use(
    phase_to_use: int | None, number_phases: int | None, capabilities: SmartChargingCapabilities
) -> None:
    """Refuse a phaseToUse without numberPhases 1 (K01.FR.19) or on a station that cannot switch phases (K01.FR.20)."""
    if phase_to_use is None:
        return
    if not 1 <= phase_to_use <= MAX_PHASES or number_phases != 1 or not capabilities.phase_switching_supported:
        raise ProfileError(
            ProfileProblem.INVALID_PHASE_TO_USE,
            f"phaseToUse {phase_to_use!r} needs numberPhases 1 and ACPhaseSwitchingSupported (K01.FR.19, K01.FR.20)",
            phase=phase_to_use,
        )


def _periods(
    raw: Sequence[tuple[int, float, int | None]],
    unit: ChargingRateUnit,
    capabilities: SmartChargingCapabilities,
    voltage: float,
    phase_to_use: int | None = None,
) -> tuple[list[ChargingSchedulePeriod], ChargingRateUnit]:
    """Schedule periods in a unit the station supports, equal neighbours merged, checked against its maximum."""
    target = choose_unit(unit, capabilities.rate_unit_names)
    periods: list[ChargingSchedulePeriod] = []
    for offset, limit, phases in raw:
        value = float(limit)
        if target != unit:
            value = round_limit(
                convert(value, unit, target, voltage=voltage, phases=phases or DEFAULT_PHASES),
                target,
            )
        if periods and periods[-1].limit == value and periods[-1].number_phases == phases:
            continue
        periods.append(
            ChargingSchedulePeriod(start_period=offset, limit=value, number_phases=phases, phase_to_use=phase_to_use)
        )
    if len(periods) > capabilities.periods_per_schedule:
        raise TooManyPeriodsError(len(periods), capabilities.periods_per_schedule)
    return periods, target


def _request(
    slot: ProfileSlot,
    *,
    kind: ChargingProfileKind,
    schedule: ChargingSchedule,
    recurrency: RecurrencyKind | None = None,
    valid_to: datetime | None = None,
    transaction_id: str | None = None,
) -> SetChargingProfileRequest:
    return SetChargingProfileRequest(
        evse_id=slot.evse_id,
        charging_profile=ChargingProfile(
            id=slot.profile_id,
            stack_level=slot.stack_level,
            charging_profile_purpose=slot.purpose,
            charging_profile_kind=kind,
            charging_schedule=[schedule],
            recurrency_kind=recurrency,
            valid_to=valid_to,
            transaction_id=transaction_id,
        ),
    )


def limit_profile(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    limit: float,
    unit: ChargingRateUnit,
    now: datetime,
    purpose: ChargingProfilePurpose = Purpose.TX_DEFAULT_PROFILE,
    role: ProfileRole = ProfileRole.LIMIT,
    number_phases: int | None = None,
    duration: timedelta | None = None,
    until: datetime | None = None,
    transaction_id: str | None = None,
    voltage: float = DEFAULT_VOLTAGE,
    phase_to_use: int | None = None,
) -> SetChargingProfileRequest:
    """A SetChargingProfileRequest for a constant limit from now on (or for `duration`, or `until`).

    Absolute: the schedule starts now (startSchedule, K01.FR.40), and with an end the profile is valid until then
    (validTo, K01.FR.37; the schedule's duration ends there too), after which lower stack levels apply again. The
    limit is converted to a unit the station supports (K01.FR.26) with `number_phases` (default 3, K01.FR.49) and
    `voltage`. `phase_to_use` (1-3) goes with one phase on a station that can switch phases (K01.FR.19, K01.FR.20).
    """
    now = _aware_utc(now, "now")
    _check_limit(limit, number_phases)
    _check_phase_to_use(phase_to_use, number_phases, capabilities)
    check_electrics(voltage, number_phases or DEFAULT_PHASES)
    _check_transaction(purpose, evse_id, transaction_id)
    allocator.stack_level(purpose, evse_id, role)  # validates the target before anything is allocated
    valid_to = _end(now, duration, until)
    seconds = None if valid_to is None else int((valid_to - now).total_seconds())
    periods, target = _periods([(0, limit, number_phases)], unit, capabilities, voltage, phase_to_use)
    slot = allocator.slot(purpose, evse_id, role)
    schedule = ChargingSchedule(
        id=slot.profile_id,
        charging_rate_unit=target,
        charging_schedule_period=periods,
        start_schedule=now,
        duration=seconds,
    )
    return _request(
        slot, kind=ChargingProfileKind.ABSOLUTE, schedule=schedule, valid_to=valid_to, transaction_id=transaction_id
    )


def start_profile(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    limit: float,
    unit: ChargingRateUnit,
    number_phases: int | None = None,
    voltage: float = DEFAULT_VOLTAGE,
) -> ChargingProfile:
    """The TxProfile a RequestStartTransaction carries (F01.FR.08-11): the limit of the transaction it starts.

    Relative to the start of charging (the transaction does not exist yet), with no transactionId (F01.FR.11).
    """
    _check_limit(limit, number_phases)
    check_electrics(voltage, number_phases or DEFAULT_PHASES)
    allocator.stack_level(Purpose.TX_PROFILE, evse_id, ProfileRole.LIMIT)  # validates the target first
    periods, target = _periods([(0, limit, number_phases)], unit, capabilities, voltage)
    slot = allocator.slot(Purpose.TX_PROFILE, evse_id, ProfileRole.LIMIT)
    schedule = ChargingSchedule(id=slot.profile_id, charging_rate_unit=target, charging_schedule_period=periods)
    return _request(slot, kind=ChargingProfileKind.RELATIVE, schedule=schedule).charging_profile


type _Clock = tuple[time, int | None]
"""A local wall-clock time and optional weekday (0 = Monday)."""


def _invalid_weekday(position: int, message: str) -> ProfileError:
    return ProfileError(ProfileProblem.INVALID_WEEKDAY, message, period=position)


def _clock(position: int, period: SchedulePeriod, start: time) -> _Clock:
    """The clock time (whole seconds) and weekday of the period at `position` (from 1) in the user's list."""
    if start.tzinfo is not None:
        raise ProfileError(
            ProfileProblem.INVALID_PERIOD_START,
            "clock times are local wall-clock times, without a time zone",
            period=position,
            start=start.isoformat(),
        )
    if period.weekday is not None and not 0 <= period.weekday <= 6:
        raise _invalid_weekday(position, f"a weekday is 0 (Monday) to 6 (Sunday), not {period.weekday!r}")
    return start.replace(microsecond=0), period.weekday


def _at(day: datetime, moment: time, tz: tzinfo) -> datetime:
    """The local datetime at a wall-clock time on the date of `day`."""
    return datetime.combine(day.date(), moment, tzinfo=tz)


def _next_occurrence(after: datetime, clock: _Clock, tz: tzinfo, *, strictly: bool) -> datetime:
    """The first local datetime at or after (or strictly after) `after` at a clock time (and weekday)."""
    moment, weekday = clock
    days = 0 if weekday is None else (weekday - after.weekday()) % 7
    candidate = _at(after + timedelta(days=days), moment, tz)
    step = timedelta(days=1 if weekday is None else 7)
    while candidate < after or (strictly and candidate == after):
        candidate = _at(candidate + step, moment, tz)
    return candidate


def _one_off_clock_times(clocks: Sequence[_Clock], reference: datetime, tz: tzinfo) -> list[datetime]:
    """The start of each period, as absolute times, in the order given, each after the previous one.

    The sequence begins at the latest occurrence of the first clock time at or before `reference` when a later
    period of it still lies ahead (so a schedule sent during or a little after its first period starts today),
    and otherwise at the next occurrence.
    """

    def sequence(first: datetime) -> list[datetime]:
        starts = [first]
        for clock in clocks[1:]:
            starts.append(_next_occurrence(starts[-1], clock, tz, strictly=True))
        return starts

    step = timedelta(days=1 if clocks[0][1] is None else 7)
    upcoming = _next_occurrence(reference, clocks[0], tz, strictly=False)
    if upcoming > reference:
        previous = sequence(_at(upcoming - step, clocks[0][0], tz))
        if previous[-1] >= reference:
            return previous
    return sequence(upcoming)


type _RawPeriods = list[tuple[int, float, int | None]]


def _one_off_offsets(periods: Sequence[SchedulePeriod], reference: datetime, tz: tzinfo) -> tuple[datetime, list[int]]:
    """The start of a one-off schedule and each period's offset from it, in the order given."""
    starts = [period.start for period in periods]
    clocks = [
        _clock(position, period, begin)
        for position, (period, begin) in enumerate(zip(periods, starts, strict=True), 1)
        if isinstance(begin, time)
    ]
    if clocks:
        moments = [_aware_utc(moment, "start") for moment in _one_off_clock_times(clocks, reference, tz)]
        return moments[0], [int((moment - moments[0]).total_seconds()) for moment in moments]
    offsets = [begin for begin in starts if isinstance(begin, int)]
    for position, (period, offset) in enumerate(zip(periods, offsets, strict=True), 1):
        if period.weekday is not None:
            raise _invalid_weekday(position, "a weekday goes with a clock time")
        if offset < 0:
            raise ProfileError(
                ProfileProblem.INVALID_PERIOD_START,
                "period offsets are seconds from the start, never negative",
                period=position,
                start=offset,
            )
    first = min(offsets)
    return _aware_utc(reference, "start") + timedelta(seconds=first), [offset - first for offset in offsets]


def _recurring_offsets(
    periods: Sequence[SchedulePeriod],
    reference: datetime,
    tz: tzinfo,
    *,
    recurrence: RecurrencyKind,
    start: datetime | None,
) -> tuple[datetime, list[int]]:
    """The start of a recurring schedule and each period's offset within its day or week, in the order given."""
    weekly = recurrence == RecurrencyKind.WEEKLY
    length = WEEK if weekly else DAY
    offsets: list[int] = []
    for position, period in enumerate(periods, 1):
        begin = period.start
        if isinstance(begin, time):
            moment, weekday = _clock(position, period, begin)
            if weekly and weekday is None:
                raise _invalid_weekday(position, "a clock time in a weekly schedule needs its weekday (0 = Monday)")
            if not weekly and weekday is not None:
                raise _invalid_weekday(position, "a daily schedule has no weekdays")
            offsets.append((weekday or 0) * DAY + moment.hour * 3600 + moment.minute * 60 + moment.second)
            continue
        if period.weekday is not None:
            raise _invalid_weekday(position, "a weekday goes with a clock time")
        if not 0 <= begin < length:
            raise ProfileError(
                ProfileProblem.INVALID_PERIOD_START,
                f"the periods of a {recurrence} schedule start within its {length} s",
                period=position,
                start=begin,
            )
        offsets.append(begin)
    if start is not None and not isinstance(periods[0].start, time):
        return _aware_utc(start, "start"), offsets
    days = reference.weekday() if weekly else 0
    return _aware_utc(_at(reference - timedelta(days=days), time(0), tz), "start"), offsets


def _schedule_layout(
    periods: Sequence[SchedulePeriod],
    *,
    now: datetime,
    tz: tzinfo,
    recurrence: RecurrencyKind | None,
    start: datetime | None,
) -> tuple[datetime, _RawPeriods]:
    """The schedule's start and its (offset, limit, phases) periods, ordered, starting at offset 0 (K01.FR.31)."""
    if len({isinstance(period.start, time) for period in periods}) > 1:
        raise ProfileError(
            ProfileProblem.MIXED_PERIOD_STARTS, "give all period starts as offsets or all as clock times, not a mix"
        )
    reference = (now if start is None else _aware_utc(start, "start")).astimezone(tz)
    if recurrence is None:
        anchor, offsets = _one_off_offsets(periods, reference, tz)
    else:
        anchor, offsets = _recurring_offsets(periods, reference, tz, recurrence=recurrence, start=start)
    first_at: dict[int, int] = {}
    for position, offset in enumerate(offsets, 1):
        if (first := first_at.setdefault(offset, position)) != position:
            raise ProfileError(
                ProfileProblem.DUPLICATE_PERIOD_START,
                f"periods {first} and {position} start at the same time",
                first=first,
                second=position,
            )
    raw = sorted(
        ((offset, period.limit, period.number_phases) for offset, period in zip(offsets, periods, strict=True)),
        key=lambda item: item[0],
    )
    if recurrence is not None and raw[0][0] > 0:  # the last period runs on into the next day or week until then
        raw.insert(0, (0, raw[-1][1], raw[-1][2]))
    return anchor, raw


def schedule_profile(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    periods: Sequence[SchedulePeriod],
    unit: ChargingRateUnit,
    now: datetime,
    tz: tzinfo = UTC,
    recurrence: RecurrencyKind | None = None,
    start: datetime | None = None,
    duration: timedelta | None = None,
    until: datetime | None = None,
    purpose: ChargingProfilePurpose = Purpose.TX_DEFAULT_PROFILE,
    role: ProfileRole = ProfileRole.SCHEDULE,
    transaction_id: str | None = None,
    voltage: float = DEFAULT_VOLTAGE,
) -> SetChargingProfileRequest:
    """A SetChargingProfileRequest for a user schedule.

    Without recurrence the profile is Absolute. Offsets count from `start` (default now); clock times (in `tz`)
    are taken in the order given, each after the previous one, the first one today if the schedule is still
    running or ahead today, else at its next occurrence. The schedule starts at its first period (K01.FR.31,
    K01.FR.30: nothing of it applies before).

    With `recurrence` (Daily or Weekly) the profile is Recurring: the schedule starts at local midnight of `now`'s
    day (Monday of its week for Weekly), or at `start` for offsets, and lasts one day or week. Clock times are
    seconds from that midnight; a schedule whose first period starts after midnight gets a period at 0 that
    continues the last one. Recurrence repeats in fixed steps of 86 400 s, so re-send clock-time schedules when
    the UTC offset of `tz` changes (daylight saving time).

    `duration` / `until` end the profile (validTo; for a one-off schedule its duration too). Periods are
    converted to a unit the station supports, equal neighbours merged, and there may be no more than its
    PeriodsPerSchedule (TooManyPeriodsError).
    """
    now = _aware_utc(now, "now")
    check_electrics(voltage, DEFAULT_PHASES)
    if not periods:
        raise ProfileError(
            ProfileProblem.PERIOD_COUNT,
            "a schedule has at least one period",
            count=0,
            max=capabilities.periods_per_schedule,
        )
    for period in periods:
        _check_limit(period.limit, period.number_phases)
    _check_transaction(purpose, evse_id, transaction_id)
    allocator.stack_level(purpose, evse_id, role)
    anchor, raw = _schedule_layout(periods, now=now, tz=tz, recurrence=recurrence, start=start)
    valid_to = _end(now, duration, until)
    seconds: int | None = DAY if recurrence == RecurrencyKind.DAILY else WEEK if recurrence else None
    if recurrence is None and valid_to is not None:
        seconds = int((valid_to - anchor).total_seconds())
        if seconds <= raw[-1][0]:
            raise ProfileError(
                ProfileProblem.SCHEDULE_ENDS_EARLY,
                "the schedule ends before its last period starts (K01.FR.11)",
                duration=seconds,
                start=raw[-1][0],
            )
    schedule_periods, target = _periods(raw, unit, capabilities, voltage)
    slot = allocator.slot(purpose, evse_id, role)
    schedule = ChargingSchedule(
        id=slot.profile_id,
        charging_rate_unit=target,
        charging_schedule_period=schedule_periods,
        start_schedule=anchor,
        duration=seconds,
    )
    kind = ChargingProfileKind.RECURRING if recurrence else ChargingProfileKind.ABSOLUTE
    return _request(
        slot, kind=kind, schedule=schedule, recurrency=recurrence, valid_to=valid_to, transaction_id=transaction_id
    )


def _tx_targets(evse_id: int, transactions: Mapping[int, str]) -> list[tuple[int, str]]:
    """The (EVSE, transaction) pairs a limit for `evse_id` reaches (EVSE 0 reaches all)."""
    return sorted((evse, tx) for evse, tx in transactions.items() if evse > 0 and evse_id in (0, evse))


def _with_tx_profiles(  # noqa: PLR0917 - the builder's own arguments, passed through
    build: Callable[..., SetChargingProfileRequest],
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    evse_id: int,
    tx_role: ProfileRole,
    transactions: Mapping[int, str] | None,
    common: dict[str, Any],
) -> list[SetChargingProfileRequest]:
    """The TxDefaultProfile `build` makes for `evse_id`, then (given `transactions`) a TxProfile for each one."""
    requests = [build(allocator, capabilities, evse_id=evse_id, **common)]
    requests.extend(
        build(
            allocator,
            capabilities,
            evse_id=evse,
            purpose=Purpose.TX_PROFILE,
            role=tx_role,
            transaction_id=tx,
            **common,
        )
        for evse, tx in _tx_targets(evse_id, transactions or {})
    )
    return requests


def limit_requests(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    limit: float,
    unit: ChargingRateUnit,
    now: datetime,
    transactions: Mapping[int, str] | None = None,
    also_tx_profile: bool = False,
    number_phases: int | None = None,
    duration: timedelta | None = None,
    until: datetime | None = None,
    voltage: float = DEFAULT_VOLTAGE,
) -> list[SetChargingProfileRequest]:
    """The requests for a user's charging limit on an EVSE (or station-wide, on EVSE 0), to send in order.

    A TxDefaultProfile, so the limit also holds for the next session (K01.FR.08), and with `also_tx_profile`
    (for stations that do not apply TxDefaultProfile changes to a running transaction) a TxProfile for each
    transaction running on the EVSE(s) it covers (`transactions`: EVSE id → transaction id; K01.FR.01, K01.FR.03).
    A station-wide limit's TxProfiles rank below an EVSE's own (role STATION_LIMIT).
    """
    common: dict[str, Any] = {
        "limit": limit,
        "unit": unit,
        "now": now,
        "number_phases": number_phases,
        "duration": duration,
        "until": until,
        "voltage": voltage,
    }
    role = ProfileRole.STATION_LIMIT if evse_id == 0 else ProfileRole.LIMIT
    tx_transactions = transactions if also_tx_profile else None
    return _with_tx_profiles(limit_profile, allocator, capabilities, evse_id, role, tx_transactions, common)


def schedule_requests(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    periods: Sequence[SchedulePeriod],
    unit: ChargingRateUnit,
    now: datetime,
    tz: tzinfo = UTC,
    recurrence: RecurrencyKind | None = None,
    start: datetime | None = None,
    duration: timedelta | None = None,
    until: datetime | None = None,
    transactions: Mapping[int, str] | None = None,
    also_tx_profile: bool = False,
    voltage: float = DEFAULT_VOLTAGE,
) -> list[SetChargingProfileRequest]:
    """The requests for a user's schedule on an EVSE (or station-wide), as `limit_requests` does for a limit."""
    common: dict[str, Any] = {
        "periods": periods,
        "unit": unit,
        "now": now,
        "tz": tz,
        "recurrence": recurrence,
        "start": start,
        "duration": duration,
        "until": until,
        "voltage": voltage,
    }
    role = ProfileRole.STATION_SCHEDULE if evse_id == 0 else ProfileRole.SCHEDULE
    tx_transactions = transactions if also_tx_profile else None
    return _with_tx_profiles(schedule_profile, allocator, capabilities, evse_id, role, tx_transactions, common)


def clear_requests(
    allocator: ProfileAllocator,
    *,
    evse_id: int | None = None,
    purpose: ChargingProfilePurpose | None = None,
    role: ProfileRole | None = None,
) -> list[ClearChargingProfileRequest]:
    """ClearChargingProfileRequests for our installed profiles matching all the given criteria, by id (K10.FR.03).

    Only ever our own ids: criteria-based clearing would also remove profiles of others. The profiles are
    released in the allocator. To undo `limit_requests(evse_id=n)` use `clear_limit_requests`.
    """
    ids = allocator.release(purpose, evse_id, role)
    return [ClearChargingProfileRequest(charging_profile_id=pid) for pid in ids]


def clear_limit_requests(
    allocator: ProfileAllocator, *, evse_id: int, schedule: bool = False
) -> list[ClearChargingProfileRequest]:
    """Undo `limit_requests` (or `schedule_requests`) for `evse_id`: its TxDefaultProfile and the TxProfiles."""
    if evse_id == 0:
        role = ProfileRole.STATION_SCHEDULE if schedule else ProfileRole.STATION_LIMIT
        return [
            *clear_requests(allocator, purpose=Purpose.TX_DEFAULT_PROFILE, role=role),
            *clear_requests(allocator, purpose=Purpose.TX_PROFILE, role=role),
        ]
    role = ProfileRole.SCHEDULE if schedule else ProfileRole.LIMIT
    return [
        *clear_requests(allocator, evse_id=evse_id, purpose=Purpose.TX_DEFAULT_PROFILE, role=role),
        *clear_requests(allocator, evse_id=evse_id, purpose=Purpose.TX_PROFILE, role=role),
    ]


# ---- the energy manager's limits: live, over a safe limit ----------------------------------------------------------


class ManagedLayout(StrEnum):
    """How a live limit with a validity stands over a safe limit without end on one EVSE of a station."""

    LAYERED = "layered"
    """Live: the EVSE's TxDefaultProfile of the LIMIT role (and a TxProfile per running transaction), valid for a
    while; safe: its TxDefaultProfile of the SCHEDULE role, a lower stack level, without end."""
    TX_OVER_DEFAULT = "tx_over_default"
    """The station has no stack level between the two roles: safe: the TxDefaultProfile of the LIMIT role, without
    end; live: a TxProfile per running transaction, valid for a while (a TxProfile overrides TxDefaultProfiles)."""
    UNGUARDED = "unguarded"
    """Neither works (one stack level, and the station refuses TxProfiles): the live limit without end."""


def managed_layout(allocator: ProfileAllocator, evse_id: int, *, tx_profiles: bool) -> ManagedLayout:
    """The layout for an EVSE of this station (`tx_profiles`: the station takes TxProfiles of transactions)."""
    below = allocator.stack_level(Purpose.TX_DEFAULT_PROFILE, evse_id, ProfileRole.SCHEDULE)
    above = allocator.stack_level(Purpose.TX_DEFAULT_PROFILE, evse_id, ProfileRole.LIMIT)
    if below < above:
        return ManagedLayout.LAYERED
    return ManagedLayout.TX_OVER_DEFAULT if tx_profiles else ManagedLayout.UNGUARDED


def managed_requests(
    allocator: ProfileAllocator,
    capabilities: SmartChargingCapabilities,
    *,
    evse_id: int,
    limit: float,
    unit: ChargingRateUnit,
    now: datetime,
    valid_for: timedelta,
    fallback: float,
    transactions: Mapping[int, str] | None = None,
    also_tx_profile: bool = False,
    include_fallback: bool = True,
    number_phases: int | None = None,
    phase_to_use: int | None = None,
    voltage: float = DEFAULT_VOLTAGE,
) -> list[SetChargingProfileRequest]:
    """The requests for the energy manager's limit on an EVSE: the live ones first, then (optionally) the safe one.

    The live limit (with `number_phases` and `phase_to_use`) is valid for `valid_for` (validTo and the schedule's
    duration); the safe limit `fallback` has no end and applies once the live one has ended, as `managed_layout`
    lays them out. Without a running transaction the TX_OVER_DEFAULT layout has no live profile: the safe one
    holds. `fallback` is in `unit` too, on the station's default number of phases.
    """
    if evse_id < 1:
        raise ValueError(f"the energy manager limits EVSEs, not {evse_id}")
    layout = managed_layout(allocator, evse_id, tx_profiles=also_tx_profile)
    live: dict[str, Any] = {
        "limit": limit,
        "unit": unit,
        "now": now,
        "number_phases": number_phases,
        "phase_to_use": phase_to_use,
        "voltage": voltage,
    }
    safe: dict[str, Any] = {"limit": fallback, "unit": unit, "now": now, "voltage": voltage}
    if layout is ManagedLayout.UNGUARDED:
        return [limit_profile(allocator, capabilities, evse_id=evse_id, **live)]
    requests: list[SetChargingProfileRequest] = []
    if layout is ManagedLayout.LAYERED:
        requests.append(limit_profile(allocator, capabilities, evse_id=evse_id, duration=valid_for, **live))
    requests.extend(
        limit_profile(
            allocator,
            capabilities,
            evse_id=evse,
            purpose=Purpose.TX_PROFILE,
            transaction_id=tx,
            duration=valid_for,
            **live,
        )
        for evse, tx in _tx_targets(evse_id, (transactions or {}) if also_tx_profile else {})
    )
    if include_fallback:
        role = ProfileRole.SCHEDULE if layout is ManagedLayout.LAYERED else ProfileRole.LIMIT
        requests.append(limit_profile(allocator, capabilities, evse_id=evse_id, role=role, **safe))
    return requests
