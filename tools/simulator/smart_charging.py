"""Charging profiles as a station keeps them (K01, K09, K10) and the composite schedule it derives (K08).

Profiles arrive as the `ocpp` package hands them over: dicts with snake_case keys. They are validated against
the K01 requirements a station checks, stored per id, and evaluated at any moment:

- per purpose, the valid profile with the highest stack level whose schedule has a period in force wins
  (K01.FR.17; when its schedule is over, the next lower one applies, K01.FR.13); for TxDefaultProfile a profile
  on the EVSE itself comes before one on EVSE 0 at the same stack level;
- a TxProfile of the running transaction replaces the TxDefaultProfile;
- the limit in force is the lowest of ChargingStationMaxProfile, Tx(Default)Profile and the EVSE's own rating
  (K08.FR.04), compared in watts with 230 V per phase (K01.FR.50); amperes are per phase (K01.FR.51); a
  schedule without numberPhases means 3 phases (K01.FR.49).

Relative profiles start with the transaction, or, without one, at the moment of the request (K08.FR.06).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools
from typing import Any, Final

from .meter import NOMINAL_VOLTAGE, Limit

MAX_PROFILE: Final = "ChargingStationMaxProfile"
EXTERNAL: Final = "ChargingStationExternalConstraints"
TX_DEFAULT: Final = "TxDefaultProfile"
TX: Final = "TxProfile"
RECURRENCE: Final = {"Daily": 86_400, "Weekly": 7 * 86_400}


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp from the wire, as an aware datetime."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """One ChargingSchedulePeriod."""

    start: int
    limit: float
    phases: int | None = None
    phase_to_use: int | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A charging profile installed on an EVSE (0: the station), with its first (only) schedule parsed."""

    evse_id: int
    id: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[Period, ...]
    raw: dict[str, Any]
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None
    start_schedule: datetime | None = None
    duration: int | None = None

    @classmethod
    def parse(cls, evse_id: int, raw: dict[str, Any]) -> Profile:
        """Read a ChargingProfileType (KeyError/ValueError/TypeError when it is not one)."""
        schedule = raw["charging_schedule"][0]
        periods = tuple(
            Period(
                start=int(period["start_period"]),
                limit=float(period["limit"]),
                phases=period.get("number_phases"),
                phase_to_use=period.get("phase_to_use"),
            )
            for period in schedule["charging_schedule_period"]
        )
        return cls(
            evse_id=evse_id,
            id=int(raw["id"]),
            stack_level=int(raw["stack_level"]),
            purpose=str(raw["charging_profile_purpose"]),
            kind=str(raw["charging_profile_kind"]),
            unit=str(schedule["charging_rate_unit"]),
            periods=periods,
            raw=raw,
            recurrency=raw.get("recurrency_kind"),
            valid_from=parse_time(raw.get("valid_from")),
            valid_to=parse_time(raw.get("valid_to")),
            transaction_id=raw.get("transaction_id"),
            start_schedule=parse_time(schedule.get("start_schedule")),
            duration=schedule.get("duration"),
        )

    def is_valid_at(self, moment: datetime) -> bool:
        """Whether validFrom <= moment < validTo (K01.FR.36, K01.FR.37; unset: forever, K01.FR.10)."""
        return (self.valid_from is None or self.valid_from <= moment) and (
            self.valid_to is None or moment < self.valid_to
        )

    def schedule_start(self, moment: datetime, anchor: datetime) -> datetime | None:
        """When the schedule instance in force at `moment` started (None: not started yet)."""
        if self.kind == "Relative":
            return anchor
        start = self.start_schedule or anchor
        if self.kind == "Recurring" and self.recurrency in RECURRENCE and moment >= start:
            cycle = RECURRENCE[self.recurrency]
            cycles = int((moment - start).total_seconds() // cycle)
            start += timedelta(seconds=cycles * cycle)
        return start if moment >= start else None

    def period_at(self, moment: datetime, anchor: datetime) -> Period | None:
        """The period in force at `moment` (None: the schedule has not started or is over, K01.FR.11-12)."""
        if not self.is_valid_at(moment):
            return None
        start = self.schedule_start(moment, anchor)
        if start is None:
            return None
        offset = (moment - start).total_seconds()
        if self.duration is not None and offset >= self.duration:
            return None
        current = None
        for period in self.periods:
            if period.start > offset:
                break
            current = period
        return current

    def breakpoints(self, start: datetime, end: datetime, anchor: datetime) -> Iterable[datetime]:
        """Every moment in [start, end) at which this profile's contribution may change."""
        for bound in (self.valid_from, self.valid_to):
            if bound is not None:
                yield bound
        if self.kind == "Relative" or self.start_schedule is None:
            origins = [anchor]
        elif self.kind == "Recurring" and self.recurrency in RECURRENCE:
            cycle = timedelta(seconds=RECURRENCE[self.recurrency])
            first = self.schedule_start(start, anchor) or self.start_schedule
            origins = []
            origin = first
            while origin < end:
                origins.append(origin)
                origin += cycle
        else:
            origins = [self.start_schedule]
        for origin in origins:
            for period in self.periods:
                yield origin + timedelta(seconds=period.start)
            if self.duration is not None:
                yield origin + timedelta(seconds=self.duration)

    def limit_of(self, period: Period) -> Limit:
        """A period's limit as amperes per phase."""
        phases = period.phases or 3
        if self.unit == "W":
            return Limit.from_power(period.limit, phases)
        return Limit(period.limit, phases)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the station supports (its SmartChargingCtrlr variables) and knows (EVSEs, transactions)."""

    evse_ids: frozenset[int]
    transactions: dict[int, str]  # EVSE id -> running transaction id
    rate_units: frozenset[str] = frozenset({"A", "W"})
    max_stack_level: int = 10
    max_periods: int = 24
    max_entries: int = 20
    phase_switching: bool = False
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to SetChargingProfile: Accepted, or Rejected with a reason code and why."""

    accepted: bool
    reason: str | None = None
    info: str | None = None

    @property
    def status(self) -> str:
        """ChargingProfileStatusEnumType."""
        return "Accepted" if self.accepted else "Rejected"


def _reject(reason: str, info: str) -> Verdict:
    return Verdict(accepted=False, reason=reason, info=info)


@dataclass
class ProfileStore:
    """The charging profiles installed on the station, by id; they survive reboots (K01.FR.27)."""

    profiles: dict[int, Profile] = field(default_factory=dict)
    #: Called after every change, so the station can re-evaluate the limits in force (K01.FR.07, K10.FR.05).
    on_change: Callable[[], None] | None = None

    def __len__(self) -> int:
        """How many profiles are installed."""
        return len(self.profiles)

    # ---- K01: SetChargingProfile ------------------------------------------------------------------------

    def install(self, evse_id: int, raw: dict[str, Any], caps: Capabilities) -> Verdict:
        """Validate a SetChargingProfileRequest and install the profile when it passes."""
        if not caps.enabled:
            return _reject("NotEnabled", "smart charging is disabled (SmartChargingCtrlr.Enabled)")
        if evse_id != 0 and evse_id not in caps.evse_ids:
            return _reject("UnknownEvse", f"no EVSE {evse_id} (K01.FR.28)")
        try:
            if len(raw["charging_schedule"]) != 1:
                return _reject("InvalidSchedule", "exactly one chargingSchedule without ISO 15118 (K01.FR.34)")
            profile = Profile.parse(evse_id, raw)
        except (KeyError, ValueError, TypeError, IndexError) as err:
            return _reject("InvalidProfile", f"unreadable profile: {err}")
        verdict = self._check(profile, caps)
        if not verdict.accepted:
            return verdict
        self.profiles[profile.id] = profile  # K01.FR.05: a known id is replaced
        self._changed()
        return Verdict(accepted=True)

    def _check(self, profile: Profile, caps: Capabilities) -> Verdict:
        purpose, evse_id = profile.purpose, profile.evse_id
        existing = self.profiles.get(profile.id)
        if purpose == EXTERNAL or (existing is not None and existing.purpose == EXTERNAL):
            return _reject("InvalidProfile", "ChargingStationExternalConstraints is not the CSMS's (K01.FR.22)")
        if purpose == MAX_PROFILE:
            if evse_id != 0:
                return _reject("InvalidEvse", "ChargingStationMaxProfile applies to EVSE 0 only")
            if profile.kind == "Relative":
                return _reject("InvalidProfile", "ChargingStationMaxProfile cannot be Relative (K01.FR.38)")
        if purpose == TX:
            if evse_id == 0:
                return _reject("InvalidEvse", "TxProfile needs an EVSE > 0 (K01.FR.16)")
            if profile.transaction_id is None:
                return _reject("MissingParam", "TxProfile without transactionId (K01.FR.03)")
            running = caps.transactions.get(evse_id)
            if running is None:
                return _reject("NoTransaction", f"no transaction on EVSE {evse_id} (K01.FR.09)")
            if running != profile.transaction_id:
                return _reject("UnknownTransaction", f"transaction {profile.transaction_id} unknown (K01.FR.33)")
        if profile.unit not in caps.rate_units:
            return _reject("UnsupportedRateUnit", f"rate unit {profile.unit} not in RateUnit (K01.FR.26)")
        if not 0 <= profile.stack_level <= caps.max_stack_level:
            return _reject("InvalidStackLevel", f"stackLevel must be 0..{caps.max_stack_level}")
        if profile.kind in ("Absolute", "Recurring") and profile.start_schedule is None:
            return _reject("InvalidSchedule", f"{profile.kind} profile without startSchedule (K01.FR.40)")
        if profile.kind == "Relative" and profile.start_schedule is not None:
            return _reject("InvalidSchedule", "Relative profile with startSchedule (K01.FR.41)")
        if profile.kind == "Recurring" and profile.recurrency not in RECURRENCE:
            return _reject("InvalidProfile", "Recurring profile without recurrencyKind")
        if profile.valid_from and profile.valid_to and profile.valid_to <= profile.valid_from:
            return _reject("InvalidProfile", "validTo is not after validFrom")
        verdict = self._check_periods(profile, caps)
        if not verdict.accepted:
            return verdict
        others = [other for other in self.profiles.values() if other.id != profile.id]
        for other in others:
            if other.purpose != purpose or other.stack_level != profile.stack_level:
                continue
            if purpose == TX and other.transaction_id == profile.transaction_id:
                return _reject("DuplicateProfile", f"profile {other.id} has this stackLevel/transaction (K01.FR.39)")
            if purpose == TX_DEFAULT and (other.evse_id == 0) != (evse_id == 0):
                return _reject("DuplicateProfile", f"profile {other.id} has this stackLevel (K01.FR.52/53)")
            if purpose != TX and other.evse_id == evse_id and _overlap(other, profile):
                return _reject("DuplicateProfile", f"profile {other.id} has this stackLevel and EVSE (K01.FR.06)")
        if existing is None and len(self.profiles) >= caps.max_entries:
            return _reject("TooManyProfiles", f"at most {caps.max_entries} profiles (SmartChargingCtrlr.Entries)")
        return Verdict(accepted=True)

    @staticmethod
    def _check_periods(profile: Profile, caps: Capabilities) -> Verdict:
        periods = profile.periods
        if not periods or periods[0].start != 0:
            return _reject("InvalidSchedule", "the first period must start at 0 (K01.FR.31)")
        if len(periods) > caps.max_periods:
            return _reject("InvalidSchedule", f"at most {caps.max_periods} periods (PeriodsPerSchedule)")
        if any(later.start <= earlier.start for earlier, later in itertools.pairwise(periods)):
            return _reject("InvalidSchedule", "periods must be ordered by increasing startPeriod (K01.FR.35)")
        for period in periods:
            if period.limit < 0:
                return _reject("InvalidSchedule", "negative limit")
            if period.phases is not None and not 1 <= period.phases <= 3:
                return _reject("InvalidSchedule", "numberPhases must be 1..3")
            if period.phase_to_use is not None:
                if period.phases != 1:
                    return _reject("InvalidSchedule", "phaseToUse needs numberPhases = 1 (K01.FR.19)")
                if not caps.phase_switching:
                    return _reject("NoPhaseSwitching", "this station cannot switch phases (K01.FR.48)")
        return Verdict(accepted=True)

    # ---- K10: ClearChargingProfile, K09: GetChargingProfiles ---------------------------------------------

    def clear(
        self,
        profile_id: int | None = None,
        *,
        evse_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> str:
        """Remove matching profiles (K10); Accepted when any was removed, else Unknown."""
        if profile_id is not None:
            profile = self.profiles.get(profile_id)
            if profile is None or profile.purpose == EXTERNAL:
                return "Unknown"  # K10.FR.01, K10.FR.09
            del self.profiles[profile_id]
            self._changed()
            return "Accepted"
        matching = [
            profile.id
            for profile in self.profiles.values()
            if profile.purpose != EXTERNAL
            and (evse_id is None or profile.evse_id == evse_id)
            and (purpose is None or profile.purpose == purpose)
            and (stack_level is None or profile.stack_level == stack_level)
        ]
        for matched in matching:
            del self.profiles[matched]
        if matching:
            self._changed()
            return "Accepted"
        return "Unknown"

    def remove_transaction(self, transaction_id: str) -> None:
        """A transaction ended: its TxProfiles go with it."""
        ended = [p.id for p in self.profiles.values() if p.purpose == TX and p.transaction_id == transaction_id]
        for profile_id in ended:
            del self.profiles[profile_id]
        if ended:
            self._changed()

    def matching(self, evse_id: int | None, criterion: dict[str, Any]) -> list[Profile]:
        """Profiles for GetChargingProfiles (K09.FR.04-06): all criteria must match."""
        ids = criterion.get("charging_profile_id")
        purpose = criterion.get("charging_profile_purpose")
        stack_level = criterion.get("stack_level")
        sources = criterion.get("charging_limit_source")
        return [
            profile
            for profile in self.profiles.values()
            if (evse_id is None or profile.evse_id == evse_id)
            and (not ids or profile.id in ids)
            and (purpose is None or profile.purpose == purpose)
            and (stack_level is None or profile.stack_level == stack_level)
            and (not sources or "CSO" in sources)
        ]

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    # ---- K08: what is in force -----------------------------------------------------------------------------

    def _winner(self, candidates: Iterable[Profile], moment: datetime, anchor: datetime) -> Limit | None:
        """The limit of the highest-stack-level candidate with a period in force at `moment`."""
        ordered = sorted(candidates, key=lambda p: (p.stack_level, p.evse_id != 0), reverse=True)
        for profile in ordered:
            period = profile.period_at(moment, anchor)
            if period is not None:
                return profile.limit_of(period)
        return None

    def evse_limit(
        self, evse_id: int, moment: datetime, *, transaction_id: str | None, anchor: datetime, include_max: bool = True
    ) -> Limit | None:
        """The limit in force on an EVSE at `moment` (None: no profile limits it)."""
        tx_limit = None
        if transaction_id is not None:
            tx_limit = self._winner(
                (p for p in self.profiles.values() if p.purpose == TX and p.transaction_id == transaction_id),
                moment,
                anchor,
            )
        if tx_limit is None:
            tx_limit = self._winner(
                (p for p in self.profiles.values() if p.purpose == TX_DEFAULT and p.evse_id in (0, evse_id)),
                moment,
                anchor,
            )
        limits = [tx_limit]
        if include_max:
            limits.append(self.station_limit(moment, anchor))
        return lowest(limits)

    def station_limit(self, moment: datetime, anchor: datetime) -> Limit | None:
        """The ChargingStationMaxProfile limit in force."""
        return self._winner((p for p in self.profiles.values() if p.purpose == MAX_PROFILE), moment, anchor)

    def composite(
        self,
        evse_id: int,
        start: datetime,
        duration: int,
        unit: str,
        *,
        evses: dict[int, tuple[str | None, datetime | None, Limit]],
    ) -> list[dict[str, Any]]:
        """The composite schedule's periods from `start` for `duration` seconds in `unit` (K08).

        `evses` maps each EVSE id to (running transaction id, transaction start, the EVSE's own rating). For
        EVSE 0 the result is what the whole station may draw: the sum over its EVSEs, capped by the
        ChargingStationMaxProfile (K08.FR.03).
        """
        end = start + timedelta(seconds=duration)
        moments = {start}
        # A superset of the moments where the result may change is harmless: equal neighbours are merged below.
        anchors = {start} | {tx_start for _, tx_start, _ in evses.values() if tx_start is not None}
        for profile in self.profiles.values():
            for anchor in anchors:
                moments.update(m for m in profile.breakpoints(start, end, anchor) if start <= m < end)
        ordered = sorted(moments)

        def limit_at(moment: datetime) -> Limit:
            if evse_id != 0:
                tx_id, tx_start, rating = evses[evse_id]
                found = self.evse_limit(evse_id, moment, transaction_id=tx_id, anchor=tx_start or start)
                return lowest([found, rating]) or rating
            total = 0.0
            for other, (tx_id, tx_start, rating) in evses.items():
                found = self.evse_limit(
                    other, moment, transaction_id=tx_id, anchor=tx_start or start, include_max=False
                )
                total += (lowest([found, rating]) or rating).power
            station = self.station_limit(moment, start)
            total_limit = Limit.from_power(total)
            return lowest([station, total_limit]) or total_limit

        periods: list[dict[str, Any]] = []
        for moment in ordered:
            limit = limit_at(moment)
            amount = limit.power if unit == "W" else limit.current
            entry: dict[str, Any] = {
                "start_period": int((moment - start).total_seconds()),
                "limit": round(amount, 1),
                "number_phases": limit.phases,
            }
            if periods and (periods[-1]["limit"], periods[-1]["number_phases"]) == (entry["limit"], limit.phases):
                continue
            if periods and periods[-1]["start_period"] == entry["start_period"]:
                periods[-1] = entry
                continue
            periods.append(entry)
        return periods


def lowest(limits: Iterable[Limit | None]) -> Limit | None:
    """The most restrictive of the limits, compared as power (None when there is none)."""
    present = [limit for limit in limits if limit is not None]
    if not present:
        return None
    return min(present, key=lambda limit: (limit.power, limit.current))


def _overlap(first: Profile, second: Profile) -> bool:
    """Whether the validity periods of two profiles overlap (K01.FR.06)."""
    far_past = datetime.min.replace(tzinfo=UTC)
    far_future = datetime.max.replace(tzinfo=UTC)
    return (first.valid_from or far_past) < (second.valid_to or far_future) and (second.valid_from or far_past) < (
        first.valid_to or far_future
    )


def to_unit(limit: Limit, unit: str) -> float:
    """A limit in the unit asked for."""
    return limit.power if unit == "W" else limit.current


__all__ = [
    "NOMINAL_VOLTAGE",
    "Capabilities",
    "Limit",
    "Profile",
    "ProfileStore",
    "Verdict",
    "lowest",
    "parse_time",
    "to_unit",
]
