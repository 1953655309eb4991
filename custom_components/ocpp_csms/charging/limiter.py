"""Which requested limits are worth sending: protection of the station's flash memory and of the car.

Home Assistant automations driven by solar or tariff sensors can ask for a new limit every few seconds. Every
SetChargingProfile is written to the station's flash (profiles persist across reboots, K01.FR.27), and an EV whose
current jumps up and down, or drops below what it can charge at, may stop charging or wear its contactors. One
`LimitRequestFilter` per target (an EVSE, or the station as a whole) decides for each request:

- a change smaller than the dead band (0.5 A; for watts 0.5 A * voltage * phases) is not sent;
- a decrease is sent at once (safety first: a lower limit is what a fuse or a tariff needs now);
- an increase is sent only if `increase_interval` (30 s) has passed since the last limit sent, in either
  direction; otherwise it is deferred: the decision says when it becomes due (`due_at`), the glue schedules one
  call to `due(now)` then, and the latest pending value wins;
- while charging, a limit below the minimum current (6 A; in watts its equivalent) is raised to it, unless the
  request is a pause (`pause=True` or a limit of 0), which sends 0;
- an `explicit` request (a person's change, not an automation's churn) is sent at once, whatever the dead band and
  the interval.

Pure and deterministic: the time is passed in, nothing is sent from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ..protocol.v201.enums import ChargingRateUnit
from .units import DEFAULT_PHASES, DEFAULT_VOLTAGE, check_electrics, convert


class LimitReason(StrEnum):
    """Why a decision is what it is."""

    FIRST = "first"
    """Nothing was sent before: send."""
    DECREASE = "decrease"
    """Lower than what was sent: send at once."""
    PAUSE = "pause"
    """A pause (limit 0): send at once."""
    INCREASE = "increase"
    """Higher, and the interval since the last limit sent has passed: send."""
    DEFERRED = "deferred"
    """Higher, but too early: pending until `due_at`."""
    DEAD_BAND = "dead_band"
    """Too close to what was sent: nothing to send (a pending increase is dropped)."""
    DUE = "due"
    """A deferred increase that is due now: send."""
    NOT_DUE = "not_due"
    """A deferred increase that is not due yet."""
    NOTHING_PENDING = "nothing_pending"
    """Nothing deferred to send."""
    EXPLICIT = "explicit"
    """A person asked for it: send at once."""


@dataclass(frozen=True, slots=True)
class LimitDecision:
    """Send `send_now` now (None: don't), and/or call `due()` at `due_at` (None: no need)."""

    send_now: float | None
    due_at: datetime | None
    reason: LimitReason
    unit: ChargingRateUnit
    clamped: bool = False
    """The limit sent is the minimum charging current, raised from the request."""


@dataclass(frozen=True, slots=True)
class LimitFilterConfig:
    """The protection settings; currents are in A per phase."""

    dead_band: float = 0.5
    increase_interval: timedelta = timedelta(seconds=30)
    min_current: float = 6.0

    def __post_init__(self) -> None:
        """Refuse settings that make no sense."""
        if self.dead_band < 0 or self.min_current < 0 or self.increase_interval < timedelta(0):
            raise ValueError("dead band, interval and minimum current must not be negative")


@dataclass(frozen=True, slots=True)
class _Limit:
    value: float
    unit: ChargingRateUnit


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the time must be an aware datetime")
    return moment


class LimitRequestFilter:
    """The flash and car protection state of one target (see the module docstring). Not thread-safe."""

    def __init__(self, config: LimitFilterConfig | None = None) -> None:
        """Start with nothing sent."""
        self.config = config or LimitFilterConfig()
        self._last: _Limit | None = None
        self._last_at: datetime | None = None
        self._pending: _Limit | None = None
        self._due_at: datetime | None = None

    @property
    def last_sent(self) -> tuple[float, ChargingRateUnit] | None:
        """The last limit this filter let through, and its unit."""
        return None if self._last is None else (self._last.value, self._last.unit)

    @property
    def pending(self) -> tuple[float, ChargingRateUnit, datetime] | None:
        """The deferred increase, its unit and when it is due."""
        if self._pending is None or self._due_at is None:
            return None
        return self._pending.value, self._pending.unit, self._due_at

    def invalidate(self) -> None:
        """Forget what was sent (it failed, the profile was cleared, the station rebooted): the next one goes out."""
        self._last = self._last_at = self._pending = self._due_at = None

    def _send(
        self, value: float, unit: ChargingRateUnit, now: datetime, reason: LimitReason, clamped: bool
    ) -> LimitDecision:
        self._last, self._last_at = _Limit(value, unit), now
        self._pending = self._due_at = None
        return LimitDecision(value, None, reason, unit, clamped)

    def request(
        self,
        value: float,
        unit: ChargingRateUnit,
        now: datetime,
        *,
        charging: bool,
        pause: bool = False,
        explicit: bool = False,
        voltage: float = DEFAULT_VOLTAGE,
        phases: int = DEFAULT_PHASES,
    ) -> LimitDecision:
        """Decide about a newly requested limit (it replaces any pending one).

        `charging`: an EV is charging on the target now (the minimum current applies). `explicit`: a person asked
        for it, it is sent now. `voltage` and `phases` express the amp settings in watts and compare with a last
        limit sent in the other unit.
        """
        now = _aware(now)
        check_electrics(voltage, phases)
        if value < 0:
            raise ValueError(f"a limit is not negative: {value!r}")

        def in_unit(amps: float) -> float:
            return convert(amps, ChargingRateUnit.A, unit, voltage=voltage, phases=phases)

        target, clamped = value, False
        if pause or value == 0:
            target = 0.0
        elif charging and value < in_unit(self.config.min_current):
            target, clamped = in_unit(self.config.min_current), True

        self._pending = self._due_at = None  # the latest request wins
        if explicit:
            return self._send(target, unit, now, LimitReason.EXPLICIT, clamped)
        if self._last is None or self._last_at is None:
            return self._send(target, unit, now, LimitReason.FIRST, clamped)
        last = convert(self._last.value, self._last.unit, unit, voltage=voltage, phases=phases)
        # Pausing or resuming is never too small a change.
        band = 0.0 if (target == 0) != (last == 0) else in_unit(self.config.dead_band)
        if abs(target - last) < band or target == last:
            return LimitDecision(None, None, LimitReason.DEAD_BAND, unit, clamped)
        if target < last:
            return self._send(target, unit, now, LimitReason.PAUSE if target == 0 else LimitReason.DECREASE, clamped)
        due_at = self._last_at + self.config.increase_interval
        if now >= due_at:
            return self._send(target, unit, now, LimitReason.INCREASE, clamped)
        self._pending, self._due_at = _Limit(target, unit), due_at
        return LimitDecision(None, due_at, LimitReason.DEFERRED, unit, clamped)

    def due(self, now: datetime) -> LimitDecision:
        """Whether the deferred increase is to be sent now (call it at the `due_at` of a DEFERRED decision)."""
        now = _aware(now)
        if self._pending is None or self._due_at is None:
            unit = self._last.unit if self._last is not None else ChargingRateUnit.A
            return LimitDecision(None, None, LimitReason.NOTHING_PENDING, unit)
        if now < self._due_at:
            return LimitDecision(None, self._due_at, LimitReason.NOT_DUE, self._pending.unit)
        return self._send(self._pending.value, self._pending.unit, now, LimitReason.DUE, False)
