"""The energy manager: one decision per instant for every EVSE in a managed mode.

The glue feeds it the site's readings, each EVSE's settings, capabilities and readings, and asks `decide(now)`
after every change (a sensor, a meter value, a connector status), and at the `next_at` a decision returns. A
decision gives each managed EVSE a state (what it does and why, with the numbers behind it) and, when something
must go to the station, a `Command`: the limit, its phases, the safe limit below it and how long it is valid.

How a decision is made:

1. What each EVSE draws, from its meter; right after a change, before the meter caught up, what it can draw under
   its new limit.
2. What each mode wants: `off` 0, `fast` the maximum current, `solar` / `min_solar` its share of the surplus
   (`surplus.py`) with start and stop delays, phases switched where the station can (`phases.py`). A car that
   draws less than it is offered for a minute is offered what it draws (plus a little), so the rest goes elsewhere.
3. With a fuse rating or a maximum grid power, the site limit is shared (`balancer.py`): per phase, the fuse minus
   the margin minus the house's own load (the grid current minus what the EVSEs draw).
4. Which changes go out now (`budget.py`): decreases at once; increases when the EVSE's change budget allows,
   with half an ampere of hysteresis. Limits are whole amperes.
5. Every limit is sent with a validity and refreshed before it ends, over a safe limit the station falls back to
   when Home Assistant is gone.

Decisions of one instant do not depend on the order the readings of that instant arrived in: every decision at
an instant starts again from the state the previous instant left.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
import math
from typing import Final

from .balancer import Capacity, Demand, allocate
from .budget import INCREASE_NEEDS, ChangeBudget
from .model import (
    PHASES,
    ChargingMode,
    Command,
    Decision,
    EvseDecision,
    EvseInfo,
    EvseKey,
    EvseReading,
    EvseSettings,
    EvseState,
    PhaseCurrents,
    PhaseSetting,
    SiteConfig,
    SiteReading,
)
from .phases import DEFAULT_DWELL, PhaseSwitch
from .surplus import SolarDemand, SolarSwitch, share_surplus, site_surplus

#: How long a limit is valid on the station without a refresh; after it, the safe limit applies.
VALIDITY: Final = timedelta(minutes=15)
#: When an unchanged limit is sent again (well before its validity ends).
REFRESH_AFTER: Final = timedelta(minutes=10)
#: When a limit that could not be sent is tried again.
RETRY_AFTER: Final = timedelta(seconds=30)
#: How long after a change the meter may still show the old current.
SETTLE: Final = timedelta(seconds=10)
#: How long a car must draw less than it is offered before the rest goes elsewhere.
UNDERDRAW_DELAY: Final = timedelta(minutes=1)
UNDERDRAW_MARGIN: Final = 1.0
#: An increase needs the wanted current to exceed the next whole ampere by this much (noise does not flap).
HYSTERESIS: Final = 0.5
#: A phase with at least this much current carries the car's charge.
DRAWING: Final = 1.0
_EPSILON: Final = 1e-6
ALL_PHASES: Final = frozenset(range(PHASES))
#: States a pending phase switch is shown instead of.
_SWITCHING_STATES: Final = frozenset(
    {EvseState.CHARGING_FAST, EvseState.CHARGING_SOLAR, EvseState.CHARGING_MIN, EvseState.WAITING_FOR_SURPLUS}
)


@dataclass(slots=True)
class _Dynamic:
    """What the manager remembers of one managed EVSE between decisions."""

    limit: float | None = None
    """The limit sent last (A; None: nothing sent since the EVSE became managed)."""
    previous_limit: float = 0.0
    sent_phases: int | None = None
    phase_to_use: int | None = None
    fallback: float | None = None
    sent_at: datetime | None = None
    changed_at: datetime | None = None
    retry_at: datetime | None = None
    online: bool = False
    budget: ChangeBudget = field(default_factory=ChangeBudget)
    solar: SolarSwitch = field(default_factory=SolarSwitch)
    switch: PhaseSwitch = field(default_factory=PhaseSwitch)
    underdraw_since: datetime | None = None
    demand_cap: float | None = None
    car_phases: int | None = None
    """The phases the car was last seen drawing on (a one-phase car on a three-phase EVSE), until it leaves."""

    def copy(self) -> _Dynamic:
        """A snapshot (its parts are copied too)."""
        return replace(self, budget=replace(self.budget), solar=replace(self.solar), switch=replace(self.switch))


@dataclass(slots=True)
class _Evse:
    settings: EvseSettings
    info: EvseInfo
    reading: EvseReading = field(default_factory=EvseReading)


@dataclass(slots=True)
class _View:
    """One managed EVSE during one decision."""

    key: EvseKey
    evse: _Evse
    dyn: _Dynamic
    minimum: float
    maximum: float
    phases: int
    used: frozenset[int]
    fresh: bool
    draw_fuse: PhaseCurrents
    draw_power: float
    state: EvseState = EvseState.NO_VEHICLE
    target: float = 0.0
    ceiling: float = 0.0
    allocation: float = 0.0
    share: float | None = None
    phase_pending: bool = False

    @property
    def settings(self) -> EvseSettings:
        return self.evse.settings

    @property
    def reading(self) -> EvseReading:
        return self.evse.reading

    @property
    def voltage(self) -> float:
        return self.evse.info.voltage

    @property
    def watts_per_amp(self) -> float:
        return self.voltage * self.phases

    @property
    def active(self) -> bool:
        """Online with a car: it gets a share."""
        return self.reading.online and self.reading.vehicle


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _floor(value: float) -> float:
    return float(math.floor(value + _EPSILON))


class EnergyManager:
    """The energy manager of one Home Assistant (see the module docstring). Not thread-safe."""

    def __init__(self, site: SiteConfig | None = None) -> None:
        """No EVSE known yet."""
        self.site = site or SiteConfig()
        self._site_reading = SiteReading()
        self._evses: dict[EvseKey, _Evse] = {}
        self._dynamic: dict[EvseKey, _Dynamic] = {}
        self._instant: datetime | None = None
        self._base: dict[EvseKey, _Dynamic] = {}
        self._last: dict[EvseKey, EvseDecision] = {}
        self._surplus: float | None = None

    # ---- inputs ----------------------------------------------------------------------------------------------

    def configure(self, site: SiteConfig) -> None:
        """The site's configuration changed."""
        self.site = site

    def set_evse(self, key: EvseKey, settings: EvseSettings, info: EvseInfo) -> None:
        """An EVSE's settings or capabilities (added when new). Leaving the managed modes forgets its state."""
        evse = self._evses.get(key)
        if evse is None:
            self._evses[key] = _Evse(settings, info)
        else:
            evse.settings, evse.info = settings, info
        if not settings.mode.managed:
            self._forget(key)

    def remove_evse(self, key: EvseKey) -> None:
        """The EVSE is gone (its station was forgotten)."""
        self._evses.pop(key, None)
        self._forget(key)

    def _forget(self, key: EvseKey) -> None:
        self._dynamic.pop(key, None)
        self._base.pop(key, None)
        self._last.pop(key, None)

    def update_site(self, reading: SiteReading) -> None:
        """The site's sensors now."""
        self._site_reading = reading

    def update_evse(self, key: EvseKey, reading: EvseReading) -> None:
        """What an EVSE does now."""
        if (evse := self._evses.get(key)) is not None:
            evse.reading = reading

    def failed(self, key: EvseKey, now: datetime) -> None:
        """Sending the EVSE's last command failed: it is sent again after RETRY_AFTER."""
        for states in (self._dynamic, self._base):
            if (dyn := states.get(key)) is not None:
                dyn.sent_at, dyn.fallback, dyn.retry_at = None, None, now + RETRY_AFTER

    # ---- outputs ---------------------------------------------------------------------------------------------

    @property
    def site_reading(self) -> SiteReading:
        """The site's sensors as last given."""
        return self._site_reading

    def settings(self, key: EvseKey) -> EvseSettings | None:
        """An EVSE's settings (None: unknown EVSE)."""
        evse = self._evses.get(key)
        return evse.settings if evse is not None else None

    def managed(self) -> list[EvseKey]:
        """The EVSEs in a managed mode."""
        return sorted(key for key, evse in self._evses.items() if evse.settings.mode.managed)

    def last(self, key: EvseKey) -> EvseDecision | None:
        """The last decision for an EVSE (None: none since it became managed)."""
        return self._last.get(key)

    def state(self, key: EvseKey) -> EvseState:
        """What the EVSE's sensor shows."""
        evse = self._evses.get(key)
        if evse is None or not evse.settings.mode.managed:
            return EvseState.MANUAL
        decision = self._last.get(key)
        return decision.state if decision is not None else EvseState.NO_VEHICLE

    # ---- the decision ----------------------------------------------------------------------------------------

    def _begin(self, now: datetime) -> None:
        """Start from the state the previous instant left (again, for a second decision at the same instant)."""
        if self._instant == now:
            self._dynamic = {key: dyn.copy() for key, dyn in self._base.items()}
        else:
            self._instant = now
            self._base = {key: dyn.copy() for key, dyn in self._dynamic.items()}

    def decide(self, now: datetime) -> Decision:
        """Decide for every managed EVSE at `now` (an aware datetime); see the module docstring."""
        self._begin(now)
        keys = self.managed()
        if not keys:
            self._last.clear()
            return Decision({}, None)
        views = [self._view(key, now) for key in keys]
        capacity, sensors_ok = self._capacity(views, now)
        self._surplus = self._site_surplus(views)
        self._targets(views, now, capacity, sensors_ok)
        self._allocate(views, capacity)
        commands = self._changes(views, capacity, now)
        decisions: dict[EvseKey, EvseDecision] = {}
        next_at: datetime | None = None
        for view in views:
            decision = EvseDecision(view.state, commands.get(view.key), self._attributes(view, capacity, now))
            decisions[view.key] = self._last[view.key] = decision
            due = self._next_at(view, now)
            if due is not None and (next_at is None or due < next_at):
                next_at = due
        for key in list(self._last):
            if key not in decisions:
                del self._last[key]
        return Decision(decisions, next_at)

    # ---- 1. what each EVSE draws -----------------------------------------------------------------------------

    def _view(self, key: EvseKey, now: datetime) -> _View:
        evse = self._evses[key]
        dyn = self._dynamic.setdefault(key, _Dynamic())
        dyn.budget.refill(now)
        info, settings, reading = evse.info, evse.settings, evse.reading
        if reading.online and not dyn.online:
            dyn.sent_at = None  # back online: what the station holds is sent again (its validity may have ended)
        dyn.online = reading.online
        minimum = max(settings.min_current, 0.0)
        maximum = max(settings.max_current, minimum)
        supply = info.supply_phases if 1 <= info.supply_phases <= PHASES else PHASES
        if info.phase_switching:
            phases = dyn.switch.phases = min(dyn.switch.phases, supply)
        else:
            phases = supply
        limit = dyn.limit
        fresh = reading.measured_at is not None and (
            dyn.changed_at is None or reading.measured_at >= dyn.changed_at + SETTLE
        )
        measured = reading.currents
        drawing = frozenset(p for p in range(PHASES) if measured[p] >= DRAWING)
        if not reading.vehicle:
            dyn.car_phases = None
        elif fresh and drawing:
            dyn.car_phases = len(drawing)
        if fresh and drawing:
            used, phases_now = drawing, len(drawing)
        else:
            phases_now = min(phases, dyn.car_phases or phases)
            if phases == PHASES:
                used = ALL_PHASES
            elif dyn.phase_to_use is not None:
                used = frozenset({dyn.phase_to_use - 1})
            else:
                used = ALL_PHASES  # one phase, but which one is unknown: counted on each
        if fresh or limit is None:
            draw_fuse = measured
            draw_power = sum(measured) * info.voltage
        else:
            draw_fuse = (min(measured[0], limit), min(measured[1], limit), min(measured[2], limit))
            followed = max(measured) >= dyn.previous_limit - UNDERDRAW_MARGIN
            expected = limit * info.voltage * phases_now
            draw_power = expected if followed else min(sum(measured) * info.voltage, expected)
        return _View(
            key=key,
            evse=evse,
            dyn=dyn,
            minimum=minimum,
            maximum=maximum,
            phases=phases_now,
            used=used,
            fresh=fresh,
            draw_fuse=draw_fuse,
            draw_power=draw_power,
        )

    # ---- the site limit --------------------------------------------------------------------------------------

    def _capacity(self, views: list[_View], now: datetime) -> tuple[Capacity | None, bool]:
        """What the site limit leaves the managed EVSEs (None: no load balancing), and whether its sensors read."""
        site, reading = self.site, self._site_reading
        if not site.load_balancing:
            return None, True
        voltage = site.voltage
        draws = {view.key: self._draw_fuse(view, now) for view in views}
        evse_power = sum(sum(draws[view.key]) * view.voltage for view in views)
        phases: tuple[float, float, float] | None = None
        power: float | None = None
        if site.fuse_current:
            fuse = site.fuse_current - site.margin
            if site.has_phase_currents:
                currents = reading.grid_currents
                if currents is None or any(current is None for current in currents):
                    return None, False
                house = [max(0.0, (currents[p] or 0.0) - sum(draws[key][p] for key in draws)) for p in range(PHASES)]
            else:
                if reading.grid_power is None:
                    return None, False
                # Without per-phase sensors the whole house may sit on one phase: counted on each.
                consumption = reading.grid_power + (reading.solar_power or 0.0) + (reading.battery_power or 0.0)
                house = [max(0.0, consumption - evse_power) / voltage] * PHASES
            phases = (fuse - house[0], fuse - house[1], fuse - house[2])
        if site.max_grid_power:
            if reading.grid_power is None:
                return None, False
            power = site.max_grid_power - site.margin * voltage * PHASES - max(0.0, reading.grid_power - evse_power)
        for view in views:  # an offline station holds its last limit (then its safe limit): it is reserved
            if not view.reading.online:
                held = self._held(view, now)
                if phases is not None:
                    phases = (
                        phases[0] - (held if 0 in view.used else 0.0),
                        phases[1] - (held if 1 in view.used else 0.0),
                        phases[2] - (held if 2 in view.used else 0.0),
                    )
                if power is not None:
                    power -= held * view.watts_per_amp
        return Capacity(phases=phases, power=power), True

    def _draw_fuse(self, view: _View, now: datetime) -> PhaseCurrents:
        """What the EVSE draws per phase for the house's load: an offline station's, never more than it holds."""
        if view.reading.online:
            return view.draw_fuse
        held = self._held(view, now)
        draw = view.draw_fuse
        return (min(draw[0], held), min(draw[1], held), min(draw[2], held))

    @staticmethod
    def _held(view: _View, now: datetime) -> float:
        """What an offline station holds for the EVSE: its last limit while valid, then the safe limit."""
        dyn = view.dyn
        if dyn.limit is None:
            return view.maximum
        if dyn.sent_at is not None and now >= dyn.sent_at + VALIDITY and dyn.fallback is not None:
            return dyn.fallback
        return max(dyn.limit, dyn.fallback or 0.0)

    def _site_surplus(self, views: list[_View]) -> float | None:
        reading = self._site_reading
        if not self.site.has_grid_power or reading.grid_power is None:
            return None
        solar_draw = sum(view.draw_power for view in views if view.settings.mode.solar and view.reading.online)
        return site_surplus(
            reading.grid_power,
            solar_draw,
            battery_power=reading.battery_power,
            battery_soc=reading.battery_soc,
            battery_priority_soc=self.site.battery_priority_soc,
        )

    def fallback(self, settings: EvseSettings) -> float:
        """The safe limit of an EVSE: 0 when off; the user's; else its minimum, or 0 with load balancing."""
        if settings.mode is ChargingMode.OFF:
            return 0.0
        minimum = max(settings.min_current, 0.0)
        chosen = self.site.fallback_current
        if chosen is None:
            return 0.0 if self.site.load_balancing else minimum
        if chosen <= 0:
            return 0.0
        return _floor(_clamp(chosen, minimum, max(settings.max_current, minimum)))

    # ---- 2. what each mode wants ------------------------------------------------------------------------------

    def _targets(self, views: list[_View], now: datetime, capacity: Capacity | None, sensors_ok: bool) -> None:
        site = self.site
        solar_views: list[_View] = []
        for view in views:
            mode = view.settings.mode
            view.ceiling = view.maximum
            if not mode.solar:
                view.dyn.solar.reset()
            if not view.reading.online:
                view.state = EvseState.STATION_OFFLINE
            elif mode is ChargingMode.OFF:
                view.state = EvseState.OFF
            elif not view.reading.vehicle:
                view.state = EvseState.NO_VEHICLE
                view.dyn.solar.reset()
                view.dyn.underdraw_since = view.dyn.demand_cap = None
                self._plan_phases(view, now, capacity, None)
            elif not sensors_ok or (mode.solar and site.has_grid_power and self._surplus is None):
                view.state = EvseState.SENSOR_UNAVAILABLE
                view.target = self.fallback(view.settings)
            elif mode is ChargingMode.FAST:
                view.state = EvseState.CHARGING_FAST
                self._plan_phases(view, now, capacity, None)
                view.target = view.maximum
            elif not site.has_grid_power:
                view.state = EvseState.NOT_CONFIGURED
                view.target = view.minimum if mode is ChargingMode.MIN_SOLAR else 0.0
            else:
                solar_views.append(view)
        if solar_views:
            self._solar(solar_views, now, capacity)
        for view in views:
            if view.active and view.target > 0:
                self._underdraw(view, now)
                view.target = min(view.target, view.ceiling)
            if view.phase_pending and view.state in _SWITCHING_STATES:
                view.state = EvseState.PHASE_SWITCH_PENDING

    def _switchable(self, view: _View) -> bool:
        return view.evse.info.phase_switching and view.settings.phases is PhaseSetting.AUTO

    def _plan_phases(self, view: _View, now: datetime, capacity: Capacity | None, desired: int | None) -> None:
        """Move the EVSE's planned phases towards `desired` (None: its setting; auto outside solar: 3)."""
        info = view.evse.info
        if not info.phase_switching:
            return
        supply = info.supply_phases if 1 <= info.supply_phases <= PHASES else PHASES
        if desired is None:
            desired = 1 if view.settings.phases is PhaseSetting.ONE else PHASES
        desired = min(desired, supply)
        dyn = view.dyn
        charging = (dyn.limit or 0.0) > 0
        allowed = not view.reading.transaction or info.switch_during_transaction or not charging
        before = dyn.switch.phases
        view.phase_pending = dyn.switch.update(
            desired,
            now,
            charging=charging,
            allowed=allowed,
            up_delay=self.site.enable_delay,
            down_delay=self.site.disable_delay,
        )
        phases = dyn.switch.phases
        if phases != before or (phases == 1 and not charging):
            dyn.phase_to_use = self._phase_to_use(capacity) if phases == 1 else None
        if phases != before:
            view.phases = phases
            view.used = (
                ALL_PHASES if phases == PHASES or dyn.phase_to_use is None else frozenset({dyn.phase_to_use - 1})
            )

    def _phase_to_use(self, capacity: Capacity | None) -> int | None:
        """The phase (1-3) with the most room under the fuse, when the per-phase currents are known."""
        if capacity is None or capacity.phases is None or not self.site.has_phase_currents:
            return None
        room = capacity.phases
        return max(range(PHASES), key=lambda p: (room[p], -p)) + 1

    def _solar(self, views: list[_View], now: datetime, capacity: Capacity | None) -> None:
        site = self.site
        surplus = self._surplus or 0.0
        demands = []
        lows: dict[EvseKey, float] = {}
        for view in views:
            low = lows[view.key] = view.minimum * view.voltage * (1 if self._switchable(view) else view.phases)
            cap = view.maximum if view.dyn.demand_cap is None else min(view.maximum, view.dyn.demand_cap)
            high = cap * view.voltage * (PHASES if self._switchable(view) else view.phases)
            demands.append(
                SolarDemand(
                    key=view.key,
                    priority=view.settings.priority,
                    minimum=low,
                    maximum=max(high, low),
                    guaranteed=view.settings.mode is ChargingMode.MIN_SOLAR,
                    incumbent=view.dyn.solar.on,
                )
            )
        shares = share_surplus(surplus, demands)
        for view in views:
            share = view.share = shares[view.key]
            if self._switchable(view):
                three = view.minimum * view.voltage * PHASES
                room = min(capacity.phases) if capacity is not None and capacity.phases is not None else math.inf
                desired = PHASES if share >= three - _EPSILON and room >= view.minimum else 1
                self._plan_phases(view, now, capacity, desired)
            else:
                self._plan_phases(view, now, capacity, None)
            per_amp = view.voltage * view.phases
            wanted = share / per_amp
            if view.settings.mode is ChargingMode.MIN_SOLAR:
                view.target = _clamp(wanted, view.minimum, view.maximum)
                view.state = EvseState.CHARGING_MIN if wanted < view.minimum + _EPSILON else EvseState.CHARGING_SOLAR
                continue
            on = view.dyn.solar.update(
                share >= lows[view.key] - _EPSILON,
                now,
                enable_delay=site.enable_delay,
                disable_delay=site.disable_delay,
            )
            if on:
                view.target = _clamp(wanted, view.minimum, view.maximum)
                view.state = EvseState.CHARGING_SOLAR
            else:
                view.target = 0.0
                reading = self._site_reading
                battery_first = (
                    site.battery_priority_soc is not None
                    and reading.battery_soc is not None
                    and reading.battery_soc < site.battery_priority_soc
                    and (reading.battery_power or 0.0) < 0
                )
                view.state = EvseState.PAUSED_BATTERY_PRIORITY if battery_first else EvseState.WAITING_FOR_SURPLUS

    def _underdraw(self, view: _View, now: datetime) -> None:
        """A car that draws less than it is offered for a while is offered what it draws, plus a margin."""
        dyn, limit = view.dyn, view.dyn.limit
        if limit is None or limit <= 0 or not view.fresh:
            return
        drawn = max(view.reading.currents)
        if drawn >= limit - UNDERDRAW_MARGIN:
            dyn.underdraw_since = dyn.demand_cap = None
            return
        dyn.underdraw_since = dyn.underdraw_since or now
        if now - dyn.underdraw_since >= UNDERDRAW_DELAY:
            dyn.demand_cap = max(view.minimum, math.ceil(drawn) + UNDERDRAW_MARGIN)
        if dyn.demand_cap is not None:
            view.ceiling = min(view.ceiling, dyn.demand_cap)

    # ---- 3. the site limit shared ------------------------------------------------------------------------------

    def _allocate(self, views: list[_View], capacity: Capacity | None) -> None:
        for view in views:
            view.allocation = view.target if view.reading.online else 0.0
        if capacity is None:
            return
        demands = [
            Demand(
                key=view.key,
                priority=view.settings.priority,
                minimum=min(view.minimum, view.target),
                maximum=view.target,
                phases=view.used,
                watts_per_amp=view.watts_per_amp,
                incumbent=(view.dyn.limit or 0.0) > 0,
            )
            for view in views
            if view.active and view.target > 0 and view.state is not EvseState.SENSOR_UNAVAILABLE
        ]
        given = allocate(demands, capacity)
        for view in views:
            if view.key not in given:
                continue
            view.allocation = given[view.key]
            if view.allocation < view.target - _EPSILON:
                view.state = EvseState.PAUSED_BY_FUSE if view.allocation <= 0 else EvseState.LIMITED_BY_FUSE

    # ---- 4. the changes that go out --------------------------------------------------------------------------

    def _wanted(self, view: _View) -> tuple[float, float]:
        """The whole amperes to decrease to, and to increase to (with hysteresis), from the allocation."""
        allocation = view.allocation
        if allocation < view.minimum - _EPSILON or allocation <= 0:
            return 0.0, 0.0
        down = max(_floor(allocation), view.minimum)
        up = down if allocation >= view.ceiling - _EPSILON else max(_floor(allocation - HYSTERESIS), view.minimum)
        return down, up

    def _changes(self, views: list[_View], capacity: Capacity | None, now: datetime) -> dict[EvseKey, Command]:
        new: dict[EvseKey, float] = {}
        raising: list[tuple[_View, float]] = []
        for view in views:
            dyn = view.dyn
            if not view.reading.online:
                new[view.key] = self._held(view, now)
                continue
            down, up = self._wanted(view)
            if dyn.limit is None:  # the first limit: at once, within what the others hold
                new[view.key] = 0.0
                raising.append((view, down))
            elif down < dyn.limit:
                new[view.key] = down  # a decrease goes out at once
            elif up > dyn.limit:
                new[view.key] = dyn.limit
                raising.append((view, up))
            else:
                new[view.key] = dyn.limit
        for view, up in sorted(raising, key=lambda item: (-item[0].settings.priority, item[0].key)):
            if view.dyn.limit is not None and not view.dyn.budget.available(now, INCREASE_NEEDS):
                continue
            room = self._room(view, views, capacity, new) if capacity is not None else up
            value = min(up, _floor(room))
            if value > new[view.key] and value >= view.minimum - _EPSILON:
                new[view.key] = value
        commands: dict[EvseKey, Command] = {}
        for view in views:
            if not view.reading.online:
                continue
            command = self._command(view, new[view.key], now)
            if command is not None:
                commands[view.key] = command
        return commands

    @staticmethod
    def _load(views: list[_View], new: dict[EvseKey, float], skip: EvseKey | None = None) -> tuple[list[float], float]:
        per_phase = [0.0] * PHASES
        power = 0.0
        for view in views:
            if view.key == skip or not view.reading.online:
                continue  # offline stations are reserved in the capacity already
            amps = new[view.key]
            for phase in view.used:
                per_phase[phase] += amps
            power += amps * view.watts_per_amp
        return per_phase, power

    def _room(self, view: _View, views: list[_View], capacity: Capacity, new: dict[EvseKey, float]) -> float:
        """The most the EVSE can be given next to what the others hold."""
        per_phase, power = self._load(views, new, skip=view.key)
        room = math.inf
        if capacity.phases is not None:
            room = min(room, *(capacity.phases[p] - per_phase[p] for p in view.used))
        if capacity.power is not None:
            room = min(room, (capacity.power - power) / view.watts_per_amp)
        return room

    def _command(self, view: _View, limit: float, now: datetime) -> Command | None:
        """The command for the EVSE's new limit, or a refresh of the old one when due; None when nothing is due."""
        dyn, info = view.dyn, view.evse.info
        phases = dyn.switch.phases if info.phase_switching else None
        fallback = self.fallback(view.settings)
        changed = dyn.limit is None or limit != dyn.limit or (limit > 0 and phases != dyn.sent_phases)
        if changed:
            dyn.budget.take(now)
            dyn.previous_limit = dyn.limit or 0.0
            dyn.limit, dyn.changed_at = limit, now
            if limit <= 0:
                dyn.underdraw_since = dyn.demand_cap = None
        elif not (
            dyn.fallback != fallback
            or (dyn.sent_at is None and (dyn.retry_at is None or now >= dyn.retry_at))
            or (dyn.sent_at is not None and now >= dyn.sent_at + REFRESH_AFTER)
        ):
            return None
        dyn.sent_at, dyn.sent_phases, dyn.fallback, dyn.retry_at = now, phases, fallback, None
        return Command(
            current=limit,
            phases=phases,
            phase_to_use=dyn.phase_to_use if phases == 1 else None,
            fallback=fallback,
            valid_for=VALIDITY,
            refresh=not changed,
        )

    # ---- 5. what the sensor shows, and when to look again ----------------------------------------------------

    def _attributes(
        self, view: _View, capacity: Capacity | None, now: datetime
    ) -> dict[str, float | int | str | list[float] | None]:
        dyn = view.dyn
        attributes: dict[str, float | int | str | list[float] | None] = {
            "mode": view.settings.mode.value,
            "target_current": round(view.target, 1),
            "allocated_current": round(view.allocation, 1),
            "limit": dyn.limit,
            "phases": view.phases,
            "fallback_current": self.fallback(view.settings),
        }
        if self._surplus is not None:
            attributes["surplus_power"] = round(self._surplus)
        if view.share is not None:
            attributes["surplus_share"] = round(view.share)
        if capacity is not None and capacity.phases is not None:
            attributes["fuse_headroom"] = [round(room, 1) for room in capacity.phases]
        if capacity is not None and capacity.power is not None:
            attributes["grid_power_headroom"] = round(capacity.power)
        due = self._change_at(view, now)
        attributes["next_change_at"] = None if due is None else due.isoformat()
        return attributes

    def _change_at(self, view: _View, now: datetime) -> datetime | None:
        """When the EVSE's limit may change next by itself: a delay ends, or its budget allows a wanted change."""
        dyn, site = view.dyn, self.site
        candidates = [
            dyn.solar.due_at(enable_delay=site.enable_delay, disable_delay=site.disable_delay),
            dyn.switch.due_at(up_delay=site.enable_delay, down_delay=site.disable_delay, dwell=DEFAULT_DWELL),
        ]
        if dyn.underdraw_since is not None and dyn.demand_cap is None:
            candidates.append(dyn.underdraw_since + UNDERDRAW_DELAY)
        if view.reading.online:
            _, up = self._wanted(view)
            wanted = dyn.limit is not None and up > dyn.limit  # decreases never wait
            if wanted and not dyn.budget.available(now, INCREASE_NEEDS):
                candidates.append(dyn.budget.next_token_at(now, INCREASE_NEEDS))
        due = [moment for moment in candidates if moment is not None and moment > now]
        return min(due) if due else None

    def _next_at(self, view: _View, now: datetime) -> datetime | None:
        """When to decide again for the EVSE: a change, or the refresh (or retry) of its limit."""
        dyn = view.dyn
        candidates = [self._change_at(view, now)]
        if view.reading.online:
            candidates.append(dyn.sent_at + REFRESH_AFTER if dyn.sent_at is not None else dyn.retry_at)
        due = [moment for moment in candidates if moment is not None and moment > now]
        return min(due) if due else None
