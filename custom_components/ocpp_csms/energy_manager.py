"""The energy manager in Home Assistant: site sensors and station readings in, limits out, settings kept.

The HA-free core (`energy/`) decides; this service feeds it. It follows the site's sensors (grid power, solar,
home battery, grid current per phase) with `async_track_state_change_event`, and every EVSE's meter values and
connector statuses (`evse_changed`, and as a StationListener). A sensor's change is decided in its event-loop
turn; what the stations do is decided once at the end of the turn it happened in (a fleet's storm: one decision,
not one per station); it also decides at the time the last decision asked for. Limits go out through the charging
control (`set_limit`, `clear_limits`, given by `async_setup_entry`), one request at a time per EVSE, the latest
winning.
Each EVSE's settings (mode, minimum and maximum current, phases, priority) are kept in a store; the site's come
from the options (`CONF_ENERGY`) and apply without a reload.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
import logging
from typing import Any, Final, Protocol

from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    PERCENTAGE,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, State, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_point_in_utc_time, async_track_state_change_event
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.unit_conversion import ElectricCurrentConverter, PowerConverter

from .charging.capabilities import SmartChargingCapabilities
from .const import DOMAIN, ENERGY_STORAGE_KEY
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .energy.manager import EnergyManager
from .energy.model import (
    DEFAULT_VOLTAGE,
    MAX_PRIORITY,
    PHASES,
    ChargingMode,
    Command,
    EvseDecision,
    EvseInfo,
    EvseKey,
    EvseReading,
    EvseSettings,
    EvseState,
    PhaseSetting,
    SiteConfig,
    SiteReading,
)
from .helpers import user_error
from .protocol.v201.enums import ChargingRateUnit, ConnectorStatus, Phase
from .signals import energy_signal

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 5.0
DEFAULT_PRIORITY: Final = 5

# The site's options (a mapping under CONF_ENERGY).
GRID_POWER: Final = "grid_power"
GRID_SIGN: Final = "grid_sign"
SOLAR_POWER: Final = "solar_power"
BATTERY_POWER: Final = "battery_power"
BATTERY_SIGN: Final = "battery_sign"
BATTERY_SOC: Final = "battery_soc"
BATTERY_PRIORITY_SOC: Final = "battery_priority_soc"
FUSE_CURRENT: Final = "fuse_current"
GRID_CURRENTS: Final = ("grid_current_l1", "grid_current_l2", "grid_current_l3")
MAX_GRID_POWER: Final = "max_grid_power"
MARGIN: Final = "margin"
FALLBACK_CURRENT: Final = "fallback_current"
ENABLE_DELAY: Final = "enable_delay"
DISABLE_DELAY: Final = "disable_delay"
IMPORT_POSITIVE: Final = "import_positive"
EXPORT_POSITIVE: Final = "export_positive"
DISCHARGE_POSITIVE: Final = "discharge_positive"
CHARGE_POSITIVE: Final = "charge_positive"
DEFAULT_MARGIN: Final = 1.0
DEFAULT_ENABLE_DELAY: Final = 60
DEFAULT_DISABLE_DELAY: Final = 180


class SensorKind(StrEnum):
    """What a site sensor measures: its device class, and the units it may be read in."""

    POWER = "power"
    CURRENT = "current"
    BATTERY = "battery"

    @property
    def units(self) -> frozenset[str | None]:
        """The units its values may come in."""
        if self is SensorKind.POWER:
            return frozenset(PowerConverter.VALID_UNITS)
        if self is SensorKind.CURRENT:
            return frozenset(ElectricCurrentConverter.VALID_UNITS)
        return frozenset({PERCENTAGE})

    def convert(self, value: float, unit: str | None) -> float:
        """The value in W, A or % (a power or current without a unit is taken as W or A)."""
        if self is SensorKind.POWER and unit is not None:
            return PowerConverter.convert(value, unit, "W")
        if self is SensorKind.CURRENT and unit is not None:
            return ElectricCurrentConverter.convert(value, unit, "A")
        return value


def sensor_problem(state: State | None, kind: SensorKind) -> str | None:
    """Why an entity cannot be the site's sensor of `kind` (a key of the options flow's errors), or None.

    It must exist; its device class, if it has one, must be the kind's; its unit must be one the kind converts
    (an `input_number` with a unit and no device class will do).
    """
    if state is None:
        return "entity_not_found"
    device_class = state.attributes.get(ATTR_DEVICE_CLASS)
    if device_class is not None and device_class != kind.value:
        return "wrong_device_class"
    if state.attributes.get(ATTR_UNIT_OF_MEASUREMENT) not in kind.units:
        return "unit_not_convertible"
    return None


def read_sensor(state: State | None, kind: SensorKind) -> float | None:
    """The sensor's value in W, A or % (None: unknown, unavailable, not a number)."""
    if state is None or state.state in (STATE_UNKNOWN, STATE_UNAVAILABLE):
        return None
    try:
        value = float(state.state)
    except ValueError:
        return None
    try:
        return kind.convert(value, state.attributes.get(ATTR_UNIT_OF_MEASUREMENT))
    except HomeAssistantError:
        return None


def _number(options: Mapping[str, Any], key: str) -> float | None:
    value = options.get(key)
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True, slots=True)
class SiteOptions:
    """The site's sensors and settings, as the options give them."""

    grid_power: str | None = None
    export_positive: bool = False
    solar_power: str | None = None
    battery_power: str | None = None
    charge_positive: bool = False
    battery_soc: str | None = None
    grid_currents: tuple[str, str, str] | None = None
    config: SiteConfig = field(default_factory=SiteConfig)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SiteOptions:
        """Read the CONF_ENERGY mapping (empty: no site configured)."""
        currents = tuple(options.get(key) or "" for key in GRID_CURRENTS)
        grid_currents = (currents[0], currents[1], currents[2]) if all(currents) else None
        grid_power = options.get(GRID_POWER) or None
        solar_power = options.get(SOLAR_POWER) or None
        battery_power = options.get(BATTERY_POWER) or None
        margin = _number(options, MARGIN)
        config = SiteConfig(
            has_grid_power=grid_power is not None,
            has_phase_currents=grid_currents is not None,
            has_solar_power=solar_power is not None,
            has_battery=battery_power is not None,
            voltage=DEFAULT_VOLTAGE,
            fuse_current=_number(options, FUSE_CURRENT) or None,
            max_grid_power=_number(options, MAX_GRID_POWER) or None,
            margin=DEFAULT_MARGIN if margin is None else margin,
            battery_priority_soc=_number(options, BATTERY_PRIORITY_SOC) or None,
            fallback_current=_number(options, FALLBACK_CURRENT),
            enable_delay=timedelta(seconds=_number(options, ENABLE_DELAY) or DEFAULT_ENABLE_DELAY),
            disable_delay=timedelta(seconds=_number(options, DISABLE_DELAY) or DEFAULT_DISABLE_DELAY),
        )
        return cls(
            grid_power=grid_power,
            export_positive=options.get(GRID_SIGN) == EXPORT_POSITIVE,
            solar_power=solar_power,
            battery_power=battery_power,
            charge_positive=options.get(BATTERY_SIGN) == CHARGE_POSITIVE,
            battery_soc=options.get(BATTERY_SOC) or None,
            grid_currents=grid_currents,
            config=config,
        )

    @property
    def entities(self) -> list[str]:
        """Every sensor the manager follows."""
        found = [self.grid_power, self.solar_power, self.battery_power, self.battery_soc, *(self.grid_currents or ())]
        return sorted({entity for entity in found if entity})


class SetLimit(Protocol):
    """ChargingControl.async_set_limit, as the manager uses it."""

    def __call__(  # noqa: D102 - the protocol says it
        self,
        station_id: str,
        evse_id: int,
        value: float,
        unit: ChargingRateUnit,
        *,
        phases: int | None = ...,
        duration: timedelta | None = ...,
        explicit: bool = ...,
        fallback: float | None = ...,
        phase_to_use: int | None = ...,
    ) -> Awaitable[None]: ...


type ClearLimits = Callable[[str, int], Awaitable[Any]]
type Capabilities = Callable[[str], SmartChargingCapabilities]
type Electrics = Callable[[str, int, int | None], tuple[float, int]]
type MaxCurrent = Callable[[str, int], float]


def _evse_key(station_id: str, evse_id: int) -> str:
    return f"{station_id}/{evse_id}"


class EnergyManagement(StationListener):
    """The energy manager of one config entry (see the module docstring)."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        saved: Mapping[str, Any],
        *,
        options: Mapping[str, Any],
        set_limit: SetLimit,
        clear_limits: ClearLimits,
        capabilities: Capabilities,
        electrics: Electrics,
        max_current: MaxCurrent,
    ) -> None:
        """Restore the EVSEs' settings (`saved`: the store's data) and read the site's options."""
        self.context = context
        self._store = store
        self._set_limit = set_limit
        self._clear_limits = clear_limits
        self._capabilities = capabilities
        self._electrics = electrics
        self._max_current = max_current
        self._saved: dict[EvseKey, dict[str, Any]] = {}
        for name, fields in dict(saved.get("evses", {})).items():
            station_id, _, evse_id = str(name).rpartition("/")
            if station_id and evse_id.isdigit() and isinstance(fields, dict):
                self._saved[station_id, int(evse_id)] = dict(fields)
        self._cleanup: set[EvseKey] = set()
        for name in saved.get("cleanup", []):
            station_id, _, evse_id = str(name).rpartition("/")
            if station_id and evse_id.isdigit():
                self._cleanup.add((station_id, int(evse_id)))
        self._core = EnergyManager()
        self.site = SiteOptions.from_options(options)
        self._core.configure(self.site.config)
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._timer: CALLBACK_TYPE | None = None
        #: A decision due at the end of this event-loop turn, for what the stations did in it.
        self._soon: asyncio.Handle | None = None
        self._timer_at: datetime | None = None
        self._sending: dict[EvseKey, asyncio.Task[None]] = {}
        self._pending: dict[EvseKey, Command] = {}
        self._sent_phases: dict[EvseKey, tuple[int | None, int | None]] = {}
        self._shown: dict[EvseKey, EvseDecision] = {}
        self._running = False
        #: The time decisions are made at (tests move it; the station's simulator keeps real time).
        self.clock: Callable[[], datetime] = dt_util.utcnow

    @staticmethod
    def energy_store(hass: Any) -> Store[dict[str, Any]]:
        """Where the EVSEs' settings are kept."""
        return Store(hass, STORAGE_VERSION, ENERGY_STORAGE_KEY, atomic_writes=True)

    @staticmethod
    async def async_load(store: Store[dict[str, Any]]) -> dict[str, Any]:
        """The kept settings (empty the first time)."""
        return await store.async_load() or {}

    # ---- life cycle ------------------------------------------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the site's sensors and decide once; the returned callable stops everything."""
        self._running = True
        self._track()
        self.decide()
        return self.async_shutdown

    @callback
    def async_shutdown(self) -> None:
        """Stop deciding (unload): the stations keep the limits until their validity ends, then the safe ones."""
        self._running = False
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._cancel_timer()
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        self._pending.clear()

    async def async_save_now(self) -> None:
        """Write the settings at once (unload)."""
        await self._store.async_save(self._data())

    @callback
    def configure(self, options: Mapping[str, Any]) -> None:
        """The site's options changed: follow the new sensors and decide with the new settings at once."""
        self.site = SiteOptions.from_options(options)
        self._core.configure(self.site.config)
        if self._running:
            self._track()
            self.decide()

    def _track(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if entities := self.site.entities:
            self._unsubscribe = async_track_state_change_event(self.context.hass, entities, self._sensor_changed)

    @callback
    def _sensor_changed(self, _event: Event[EventStateChangedData]) -> None:
        self.decide()

    # ---- what the stations do --------------------------------------------------------------------------------

    @callback
    def evse_changed(self, station_id: str, evse_id: int) -> None:
        """An EVSE's session or meter changed."""
        if self._managed((station_id, evse_id)):
            self._decide_soon()

    @callback
    def station_connected(self, station: Station) -> None:
        """Once it may be sent CALLs: its limits are sent again, and what a mode left behind while away is cleared."""
        if any(key[0] == station.station_id for key in (*self._cleanup, *self._managed_keys())):
            self.context.background(self._async_connected(station), f"{DOMAIN} energy reconnect")

    async def _async_connected(self, station: Station) -> None:
        if not await self.context.central.wait_ready(station):
            return
        for key in sorted(self._cleanup):
            if key[0] == station.station_id:
                await self._async_cleanup(key)
        self._decide_soon()

    @callback
    def station_disconnected(self, station: Station) -> None:
        """Its EVSEs are offline: what they hold stays reserved."""
        self._decide_soon()

    @callback
    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """A car arrived or left."""
        self._decide_soon()

    @callback
    def _decide_soon(self) -> None:
        """Decide once at the end of this event-loop turn for what the stations did in it.

        A decision covers every managed EVSE: made for each meter value or connection of a fleet, a reconnection
        storm would cost the square of the fleet. The site's sensors and the user's settings decide at once.
        """
        if self._soon is None and self._running:
            self._soon = self.context.hass.loop.call_soon(self._decide_now)

    def _decide_now(self) -> None:
        self._soon = None
        self.decide()

    @callback
    def forget_station(self, station_id: str) -> None:
        """The station was forgotten: its EVSEs' settings go."""
        for key in [key for key in self._saved if key[0] == station_id]:
            del self._saved[key]
            self._core.remove_evse(key)
            self._shown.pop(key, None)
        self._cleanup = {key for key in self._cleanup if key[0] != station_id}
        self._schedule_save()

    # ---- settings ----------------------------------------------------------------------------------------------

    def bounds(self, station_id: str, evse_id: int) -> tuple[float, float]:
        """The lowest and highest current (A) the EVSE can be set to."""
        low = self._capabilities(station_id).evse(evse_id).min_current
        high = self._max_current(station_id, evse_id)
        return low, max(low, high)

    def settings(self, station_id: str, evse_id: int) -> EvseSettings:
        """The EVSE's settings (the defaults where the user set none)."""
        low, high = self.bounds(station_id, evse_id)
        saved = self._saved.get((station_id, evse_id), {})
        try:
            mode = ChargingMode(saved.get("mode", ChargingMode.MANUAL))
        except ValueError:
            mode = ChargingMode.MANUAL
        try:
            phases = PhaseSetting(saved.get("phases", PhaseSetting.AUTO))
        except ValueError:
            phases = PhaseSetting.AUTO
        minimum = min(max(float(saved.get("min_current", low)), low), high)
        maximum = min(max(float(saved.get("max_current", high)), minimum), high)
        priority = min(max(int(saved.get("priority", DEFAULT_PRIORITY)), 0), MAX_PRIORITY)
        return EvseSettings(mode=mode, min_current=minimum, max_current=maximum, phases=phases, priority=priority)

    def mode(self, station_id: str, evse_id: int) -> ChargingMode:
        """The EVSE's charging mode."""
        return self.settings(station_id, evse_id).mode

    def phase_switching(self, station_id: str, evse_id: int) -> bool:
        """Whether the station can switch the EVSE's phases (AC phase switching)."""
        return self._capabilities(station_id).phase_switching_supported

    @property
    def load_balancing(self) -> bool:
        """Whether the site has a limit the EVSEs share."""
        return self.site.config.load_balancing

    def check_manual(self, station_id: str, evse_id: int) -> None:
        """Refuse a limit set by hand or by an automation while the energy manager sets the EVSE's limits."""
        if evse_id > 0 and (mode := self.mode(station_id, evse_id)).managed:
            raise user_error("energy_manager_in_control", station=station_id, evse=str(evse_id), mode=mode.value)

    async def async_set(self, station_id: str, evse_id: int, **changes: Any) -> None:
        """Change settings (`mode`, `min_current`, `max_current`, `phases`, `priority`) and decide at once."""
        key = (station_id, evse_id)
        before = self.settings(station_id, evse_id)
        low, high = self.bounds(station_id, evse_id)
        minimum = changes.get("min_current", before.min_current)
        maximum = changes.get("max_current", before.max_current)
        if not low <= minimum <= maximum <= high:
            raise user_error(
                "energy_current_range", minimum=f"{minimum:g}", maximum=f"{maximum:g}", low=f"{low:g}", high=f"{high:g}"
            )
        saved = self._saved.setdefault(key, {})
        for name, value in changes.items():
            saved[name] = value.value if isinstance(value, StrEnum) else value
        after = self.settings(station_id, evse_id)
        if before.mode.managed and not after.mode.managed:
            self._pending.pop(key, None)
            self._shown.pop(key, None)
            self._cleanup.add(key)
            self._schedule_save()
            self._register(key, after)
            self._signal(key)
            await self._async_cleanup(key)
        else:
            self._cleanup.discard(key)
            self._schedule_save()
            self._signal(key)
        self.decide()

    async def _async_cleanup(self, key: EvseKey) -> None:
        """The EVSE left the managed modes: the manager's limits are cleared (now, or when the station is back)."""
        station_id, evse_id = key
        if key not in self._cleanup or not self.context.is_connected(station_id):
            return
        try:
            await self._clear_limits(station_id, evse_id)
        except HomeAssistantError as err:
            _LOGGER.warning("%s EVSE %d: the energy manager's limits were not cleared: %s", station_id, evse_id, err)
            return
        if self.mode(station_id, evse_id).managed:  # managed again meanwhile: its limits went out since
            return
        self._cleanup.discard(key)
        self._sent_phases.pop(key, None)
        self._schedule_save()

    def _data(self) -> dict[str, Any]:
        return {
            "evses": {_evse_key(*key): fields for key, fields in sorted(self._saved.items())},
            "cleanup": [_evse_key(*key) for key in sorted(self._cleanup)],
        }

    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY)

    # ---- decisions -------------------------------------------------------------------------------------------

    def _managed(self, key: EvseKey) -> bool:
        return self._saved.get(key, {}).get("mode", ChargingMode.MANUAL) in _MANAGED

    def _managed_keys(self) -> list[EvseKey]:
        return [key for key in self._saved if self._managed(key)]

    def decision(self, station_id: str, evse_id: int) -> EvseDecision | None:
        """The last decision for a managed EVSE (None: manual, or none yet)."""
        return self._shown.get((station_id, evse_id))

    def state(self, station_id: str, evse_id: int) -> EvseState:
        """What the manager does with the EVSE."""
        if not self.mode(station_id, evse_id).managed:
            return EvseState.MANUAL
        decision = self._shown.get((station_id, evse_id))
        return decision.state if decision is not None else EvseState.STATION_OFFLINE

    def site_reading(self) -> SiteReading:
        """The site's sensors now, in W, A and %, with the user's sign conventions undone."""
        site, states = self.site, self.context.hass.states
        grid = read_sensor(states.get(site.grid_power), SensorKind.POWER) if site.grid_power else None
        sign = -1.0 if site.export_positive else 1.0
        currents = None
        if site.grid_currents is not None:
            values = [read_sensor(states.get(entity), SensorKind.CURRENT) for entity in site.grid_currents]
            currents = (
                None if values[0] is None else sign * values[0],
                None if values[1] is None else sign * values[1],
                None if values[2] is None else sign * values[2],
            )
        battery = read_sensor(states.get(site.battery_power), SensorKind.POWER) if site.battery_power else None
        return SiteReading(
            grid_power=None if grid is None else sign * grid,
            grid_currents=currents,
            solar_power=read_sensor(states.get(site.solar_power), SensorKind.POWER) if site.solar_power else None,
            battery_power=None if battery is None else (-battery if site.charge_positive else battery),
            battery_soc=read_sensor(states.get(site.battery_soc), SensorKind.BATTERY) if site.battery_soc else None,
        )

    def _info(self, station_id: str, evse_id: int) -> EvseInfo:
        capabilities = self._capabilities(station_id)
        supply = capabilities.evse(evse_id).supply_phases
        voltage, _ = self._electrics(station_id, evse_id, None)
        return EvseInfo(
            supply_phases=supply if supply in (1, 2, 3) else PHASES,
            phase_switching=capabilities.phase_switching_supported,
            switch_during_transaction=capabilities.phases_3to1,
            voltage=voltage,
        )

    def _reading(self, station_id: str, evse_id: int, voltage: float) -> EvseReading:
        runtime = self.context.runtimes.get(station_id)
        station = self.context.central.stations.get(station_id)
        online = station is not None and station.connected and station.ready.is_set()
        occupied = station is not None and any(
            status is ConnectorStatus.OCCUPIED
            for (evse, _), status in station.connector_status.items()
            if evse == evse_id
        )
        if runtime is None:
            return EvseReading(online=online, vehicle=occupied)
        session = runtime.transactions.evse(evse_id)
        meter = session.meter
        taken = meter.timestamp
        currents = (0.0, 0.0, 0.0)
        over = not session.active and (taken is None or (session.ended_at is not None and taken <= session.ended_at))
        if not over:
            per_phase = meter.current_a
            if per_phase:
                currents = (
                    per_phase.get(Phase.L1, 0.0),
                    per_phase.get(Phase.L2, 0.0),
                    per_phase.get(Phase.L3, 0.0),
                )
            elif (power := meter.active_power_w) is not None and power > 0:
                amps = power / (voltage * PHASES)
                currents = (amps, amps, amps)
        return EvseReading(
            online=online,
            vehicle=occupied or session.active,
            transaction=session.active,
            currents=currents,
            measured_at=taken,
        )

    def _register(self, key: EvseKey, settings: EvseSettings) -> EvseInfo:
        info = self._info(*key)
        self._core.set_evse(key, settings, info)
        return info

    @callback
    def decide(self) -> None:
        """Decide now for every managed EVSE, send what changed, show it, and plan the next decision."""
        if not self._running:
            return
        keys = self._managed_keys()
        if not keys and not self._core.managed():
            self._cancel_timer()
            return
        for key in keys:
            info = self._register(key, self.settings(*key))
            self._core.update_evse(key, self._reading(*key, info.voltage))
        self._core.update_site(self.site_reading())
        now = self.clock()
        decision = self._core.decide(now)
        for key, evse in decision.evses.items():
            if evse.command is not None:
                self._queue(key, evse.command)
            if self._shown.get(key) != evse:
                self._shown[key] = evse
                self._signal(key)
        for key in [key for key in self._shown if key not in decision.evses]:
            del self._shown[key]
            self._signal(key)
        self._plan(decision.next_at)

    def _plan(self, moment: datetime | None) -> None:
        if moment == self._timer_at:
            return
        self._cancel_timer()
        if moment is not None:
            self._timer_at = moment
            self._timer = async_track_point_in_utc_time(self.context.hass, self._timer_fired, moment)

    @callback
    def _timer_fired(self, _now: datetime) -> None:
        self._timer = self._timer_at = None
        self.decide()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
        self._timer = self._timer_at = None

    def _signal(self, key: EvseKey) -> None:
        self.context.signal(energy_signal(self.context.entry_id, *key))

    # ---- sending ---------------------------------------------------------------------------------------------

    def _queue(self, key: EvseKey, command: Command) -> None:
        """Send the command after the one being sent (if any); a newer one replaces one that waits."""
        self._pending[key] = command
        if key in self._sending:
            return
        task = self.context.background(self._send_pending(key), f"{DOMAIN} energy limit")
        if not task.done():
            self._sending[key] = task

    async def _send_pending(self, key: EvseKey) -> None:
        try:
            while (command := self._pending.pop(key, None)) is not None:
                await self._send(key, command)
        finally:
            self._sending.pop(key, None)

    async def _send(self, key: EvseKey, command: Command) -> None:
        station_id, evse_id = key
        if not self.context.is_connected(station_id):
            return  # sent again when the station is back
        phases = (command.phases, command.phase_to_use)
        try:
            await self._set_limit(
                station_id,
                evse_id,
                command.current,
                ChargingRateUnit.A,
                phases=command.phases,
                duration=command.valid_for,
                explicit=command.refresh or self._sent_phases.get(key) != phases,
                fallback=command.fallback,
                phase_to_use=command.phase_to_use,
            )
        except HomeAssistantError as err:
            _LOGGER.warning("%s EVSE %d: the energy manager's limit was not applied: %s", station_id, evse_id, err)
            self._sent_phases.pop(key, None)
            self._core.failed(key, self.clock())
            self.decide()  # plans the retry
            return
        self._sent_phases[key] = phases


_MANAGED: Final = frozenset(mode.value for mode in ChargingMode if mode.managed)
