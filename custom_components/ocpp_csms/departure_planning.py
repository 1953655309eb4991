"""Departure planning in Home Assistant: prices in, the plan on the station, each session's cost.

The HA-free core (`planner/`) reads prices and plans; this service feeds it. The site's price source (a sensor
whose attributes carry a forecast, or an action answering with prices), optional feed-in price, solar forecast and
buffer come from the energy options (`CONF_ENERGY`) and apply without a reload. Prices are read again when the
sensor changes (an action is asked for today's and tomorrow's prices every hour).

For each EVSE in the `smart` charging mode (the energy manager keeps out of it) a plan is made at once when a car
is plugged in, and again when prices, the departure, the energy to add, or the car's real charging power change.
The plan goes to the station as an Absolute charging profile: the transaction's TxProfile, or the EVSE's
TxDefaultProfile before one starts (`planner/schedule.py`), only when its periods changed; the composite schedule
is read back and compared. A station that refuses the plan or does not hold it gets the plan's limits live, one
period at a time. Unplugging ends the plan (our profiles are cleared).

Every session's cost is integrated from the price per slot and the energy metered in it, kept with the session
(stored), answered as `totalCost` when the transaction ends and sent with CostUpdated while it runs, with the
running price as `personalMessage`, when the station's TariffCostCtrlr is enabled (I02, I04).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
import logging
from typing import Any, Final, Protocol

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import CALLBACK_TYPE, Event, EventStateChangedData, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_point_in_utc_time,
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .charging.capabilities import SmartChargingCapabilities
from .charging.composite import parse_composite
from .charging.profiles import ProfileAllocator
from .const import DOMAIN, PLANNER_STORAGE_KEY
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .energy.model import ChargingMode, EvseSettings, EvseState
from .planner.cost import SessionCost, running_price_message
from .planner.plan import DEFAULT_BUFFER, Plan, PlanRequest, energy_to_target, estimate_capacity, make_plan
from .planner.prices import (
    PowerSlot,
    PriceFormatError,
    PriceSlot,
    merge_prices,
    parse_price_attributes,
    parse_price_response,
    parse_solar_forecast,
    price_at,
)
from .planner.schedule import Period, Readback, compare_composite, plan_request, send_periods
from .protocol.v201.datatypes import IdTokenInfo, MessageContent
from .protocol.v201.enums import ChargingRateUnit, ConnectorStatus, MessageFormat, TransactionEvent
from .protocol.v201.messages import (
    CostUpdatedRequest,
    CostUpdatedResponse,
    GetCompositeScheduleResponse,
    SetChargingProfileRequest,
    TransactionEventRequest,
)
from .signals import energy_signal
from .station.transactions import EvseSession

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10.0

# The site's options (in the CONF_ENERGY mapping, next to the energy manager's).
PRICE_ENTITY: Final = "price_entity"
PRICE_ACTION: Final = "price_action"
"""An action (`domain.name`) that answers with prices; it is called with `PRICE_ACTION_DATA` and a `date`."""
PRICE_ACTION_DATA: Final = "price_action_data"
PRICE_UNIT: Final = "price_unit"
PER_KWH: Final = "kwh"
PER_MWH: Final = "mwh"
FEED_IN_PRICE: Final = "feed_in_price"
SOLAR_FORECAST: Final = "solar_forecast"
PLAN_BUFFER: Final = "plan_buffer"
"""Minutes before the departure by which the plan is done."""

DEFAULT_DEPARTURE: Final = time(7, 0)
DEFAULT_ENERGY_KWH: Final = 20.0
MAX_ENERGY_KWH: Final = 200.0
#: A capacity estimate this much off the one known plans again.
CAPACITY_CHANGE: Final = 0.1
ACTION_INTERVAL: Final = timedelta(hours=1)
#: A car that draws less than this share of the power offered lowers the planned power.
DRAW_SHARE: Final = 0.85
#: Prices older than this are dropped (a session's cost needs the prices of its whole duration).
KEEP_PRICES: Final = timedelta(days=2)
#: CostUpdated at most this often per transaction (and only when the cost changed).
COST_UPDATE_INTERVAL: Final = timedelta(seconds=60)
#: The composite schedule read back covers the plan, at most this long (s).
READBACK_MAX: Final = 86_400
TARIFF_COST_CTRLR: Final = "TariffCostCtrlr"


class SendProfiles(Protocol):
    """ChargingControl.async_send_profiles: send what `build` makes, read the limit in force back."""

    def __call__(  # noqa: D102 - the protocol says it
        self, station_id: str, evse_id: int, build: Callable[[], list[SetChargingProfileRequest]]
    ) -> Awaitable[None]: ...


class SetLimit(Protocol):
    """ChargingControl.async_set_limit, as the planner uses it (live limits when the plan is not on the station)."""

    def __call__(  # noqa: D102 - the protocol says it
        self,
        station_id: str,
        evse_id: int,
        value: float,
        unit: ChargingRateUnit,
        *,
        phases: int | None = ...,
        explicit: bool = ...,
    ) -> Awaitable[None]: ...


type Composite = Callable[[str, int, int, ChargingRateUnit | None], Awaitable[GetCompositeScheduleResponse]]


@dataclass(frozen=True, slots=True)
class PriceOptions:
    """The site's price source and what the planner takes with it."""

    entity: str | None = None
    action: str | None = None
    action_data: Mapping[str, Any] = field(default_factory=dict)
    scale: float = 1.0
    feed_in: float | None = None
    solar: str | None = None
    buffer: timedelta = DEFAULT_BUFFER

    @property
    def configured(self) -> bool:
        """Whether a price source is set."""
        return bool(self.entity or self.action)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> PriceOptions:
        """Read the CONF_ENERGY mapping."""
        feed_in = options.get(FEED_IN_PRICE)
        buffer = options.get(PLAN_BUFFER)
        data = options.get(PRICE_ACTION_DATA)
        return cls(
            entity=options.get(PRICE_ENTITY) or None,
            action=options.get(PRICE_ACTION) or None,
            action_data=dict(data) if isinstance(data, Mapping) else {},
            scale=0.001 if options.get(PRICE_UNIT) == PER_MWH else 1.0,
            feed_in=float(feed_in) if feed_in not in (None, "") else None,
            solar=options.get(SOLAR_FORECAST) or None,
            buffer=DEFAULT_BUFFER if buffer in (None, "") else timedelta(minutes=float(buffer)),
        )


@dataclass(slots=True)
class _EvsePlan:
    """What the planner does with one EVSE."""

    plan: Plan | None = None
    state: EvseState = EvseState.NO_VEHICLE
    sent: tuple[str | None, tuple[tuple[datetime, float], ...]] | None = None
    """The transaction (None: TxDefaultProfile) and the (end, current) of the periods sent."""
    periods: list[Period] = field(default_factory=list)
    readback: Readback | None = None
    live: bool = False
    problem: str | None = None
    car_power: float | None = None
    """The most the car drew (W) when offered more: the planned power."""
    soc_start: tuple[str, float, float] | None = None
    """(transaction, state of charge %, session energy Wh) the capacity is estimated from."""
    timer: CALLBACK_TYPE | None = None
    """The next live limit (when the station does not hold the plan)."""
    departure_timer: CALLBACK_TYPE | None = None
    """A plan again at its departure: a car still plugged in is planned to its next departure."""


@dataclass(frozen=True, slots=True)
class _EvNeeds:
    """What an ISO 15118 EV said it needs (K15-K17), as the plan takes it."""

    energy_wh: float | None
    departure: datetime | None
    max_current: float | None
    delivered_wh: float
    """The session's energy when the EV said it: what it asked for counts from there."""


@dataclass(slots=True)
class _Cost:
    transaction_id: str
    cost: SessionCost
    sent_at: datetime | None = None
    sent_cost: float | None = None


def _key(station_id: str, evse_id: int) -> str:
    return f"{station_id}/{evse_id}"


class DeparturePlanning(StationListener):
    """The departure planner and session cost of one config entry (see the module docstring)."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        saved: Mapping[str, Any],
        *,
        options: Mapping[str, Any],
        settings: Callable[[str, int], EvseSettings],
        capabilities: Callable[[str], SmartChargingCapabilities],
        allocator: Callable[[str], ProfileAllocator],
        electrics: Callable[[str, int, int | None], tuple[float, int]],
        send_profiles: SendProfiles,
        composite: Composite,
        set_limit: SetLimit,
        clear_limits: Callable[[str, int], Awaitable[Any]],
        currency: Callable[[], str],
    ) -> None:
        """Restore the EVSEs' departures, targets and session costs (`saved`: the store's data)."""
        self.context = context
        self._store = store
        self._settings = settings
        self._capabilities = capabilities
        self._allocator = allocator
        self._electrics = electrics
        self._send_profiles = send_profiles
        self._composite = composite
        self._set_limit = set_limit
        self._clear_limits = clear_limits
        self._currency = currency
        self._targets: dict[str, dict[str, Any]] = {
            str(name): dict(fields) for name, fields in dict(saved.get("evses", {})).items() if isinstance(fields, dict)
        }
        self._costs: dict[str, _Cost] = {}
        for name, fields in dict(saved.get("costs", {})).items():
            if isinstance(fields, dict) and isinstance(fields.get("transaction_id"), str):
                self._costs[str(name)] = _Cost(fields["transaction_id"], SessionCost.from_dict(fields.get("cost", {})))
        self.prices: list[PriceSlot] = [
            PriceSlot(datetime.fromisoformat(start), datetime.fromisoformat(end), float(price))
            for start, end, price in saved.get("prices", [])
        ]
        self.solar: list[PowerSlot] = []
        self.price_problem: PriceFormatError | None = None
        self.options = PriceOptions.from_options(options)
        self._evses: dict[tuple[str, int], _EvsePlan] = {}
        self._ev_needs: dict[tuple[str, int], _EvNeeds] = {}
        self._unsubscribe: list[CALLBACK_TYPE] = []
        self._sending: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._again: set[tuple[str, int]] = set()
        self._leaving: set[tuple[str, int]] = set()
        self._currency_warned: set[str] = set()
        self._running = False

    @staticmethod
    def planner_store(hass: Any) -> Store[dict[str, Any]]:
        """Where departures, targets, session costs and the prices they need are kept."""
        return Store(hass, STORAGE_VERSION, PLANNER_STORAGE_KEY, atomic_writes=True)

    @staticmethod
    async def async_load(store: Store[dict[str, Any]]) -> dict[str, Any]:
        """The kept data (empty the first time)."""
        return await store.async_load() or {}

    # ---- life cycle ------------------------------------------------------------------------------------------

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow the price source and plan; the returned callable stops (the stations keep their plans)."""
        self._running = True
        self._track()
        return self.async_shutdown

    @callback
    def async_shutdown(self) -> None:
        """Stop planning (unload): a plan on a station runs on without Home Assistant."""
        self._running = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for evse in self._evses.values():
            self._stop_live(evse)
            self._stop_departure(evse)

    async def async_save_now(self) -> None:
        """Write at once (unload)."""
        await self._store.async_save(self._data())

    @callback
    def configure(self, options: Mapping[str, Any]) -> None:
        """The site's options changed: read the new source and plan again."""
        self.options = PriceOptions.from_options(options)
        if self._running:
            self._track()

    def _track(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        hass = self.context.hass
        entities = [entity for entity in (self.options.entity, self.options.solar) if entity]
        if entities:
            self._unsubscribe.append(async_track_state_change_event(hass, entities, self._source_changed))
        self.price_problem = None
        self._read_sources()
        if self.options.action:
            self._unsubscribe.append(async_track_time_interval(hass, self._action_due, ACTION_INTERVAL))
            self.context.background(self._async_call_action(), f"{DOMAIN} prices")
        self.replan_all()

    @callback
    def _source_changed(self, _event: Event[EventStateChangedData]) -> None:
        self._read_sources()
        self.replan_all()

    @callback
    def _action_due(self, _now: datetime) -> None:
        self.context.background(self._async_call_action(), f"{DOMAIN} prices")

    def _read_sources(self) -> None:
        """Read the price sensor's and solar forecast's attributes (a state without them keeps what we had)."""
        hass, now = self.context.hass, dt_util.utcnow()
        tz = dt_util.get_default_time_zone()
        state = hass.states.get(self.options.entity) if self.options.entity else None
        if state is not None and state.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN):
            try:
                slots = parse_price_attributes(state.attributes, now=now, tz=tz, scale=self.options.scale)
            except PriceFormatError as err:
                self.price_problem = err
                _LOGGER.warning("Prices of %s cannot be read: %s", self.options.entity, err)
            else:
                self.price_problem = None
                self._new_prices(slots, now)
        if self.options.solar and (state := hass.states.get(self.options.solar)) is not None:
            try:
                self.solar = parse_solar_forecast(state.attributes, tz=tz)
            except PriceFormatError as err:
                _LOGGER.warning("The solar forecast of %s cannot be read: %s", self.options.solar, err)
                self.solar = []
        elif not self.options.solar:
            self.solar = []

    def _new_prices(self, slots: list[PriceSlot], now: datetime) -> None:
        merged = merge_prices(self.prices, slots, keep_after=now - KEEP_PRICES)
        if merged != self.prices:
            self.prices = merged
            self._schedule_save()

    async def _async_call_action(self) -> None:
        """Ask the action for today's and tomorrow's prices (an answer it cannot give is no error for tomorrow)."""
        action = self.options.action
        if not action or "." not in action:
            return
        domain, name = action.split(".", 1)
        today = dt_util.now().date()
        found: list[PriceSlot] = []
        for day in (today, today + timedelta(days=1)):
            try:
                response = await self.context.hass.services.async_call(
                    domain,
                    name,
                    {**self.options.action_data, "date": day.isoformat()},
                    blocking=True,
                    return_response=True,
                )
                found.extend(parse_price_response(response, scale=self.options.scale))
            except PriceFormatError as err:
                self.price_problem = err
                _LOGGER.warning("Prices from %s cannot be read: %s", action, err)
                return
            except HomeAssistantError as err:  # tomorrow's are not out yet, or the action failed
                _LOGGER.debug("Prices from %s for %s: %s", action, day, err)
        if found:
            self.price_problem = None
            self._new_prices(found, dt_util.utcnow())
            self.replan_all()

    # ---- what the stations do --------------------------------------------------------------------------------

    @callback
    def evse_changed(self, station_id: str, evse_id: int) -> None:
        """An EVSE's session or meter changed: its cost, and a plan when a car came, left or draws less."""
        self._update_cost(station_id, evse_id)
        if self._settings(station_id, evse_id).mode is ChargingMode.SMART:
            self._check(station_id, evse_id)
            if (runtime := self.context.runtimes.get(station_id)) is not None:
                self._learn_capacity(station_id, evse_id, runtime.transactions.evse(evse_id))

    @callback
    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """A car arrived (plan at once) or left (the plan ends)."""
        if evse_id > 0 and self._settings(station.station_id, evse_id).mode is ChargingMode.SMART:
            self._check(station.station_id, evse_id)

    @callback
    def station_connected(self, station: Station) -> None:
        """Back online: the plans of its EVSEs are sent again if they changed meanwhile."""
        for station_id, evse_id in list(self._evses):
            if station_id == station.station_id:
                self.replan(station_id, evse_id)

    @callback
    def forget_station(self, station_id: str) -> None:
        """The station was forgotten: its departures, targets and costs go."""
        prefix = f"{station_id}/"
        self._targets = {name: fields for name, fields in self._targets.items() if not name.startswith(prefix)}
        self._costs = {name: cost for name, cost in self._costs.items() if not name.startswith(prefix)}
        for key in [key for key in self._evses if key[0] == station_id]:
            evse = self._evses.pop(key)
            self._stop_live(evse)
            self._stop_departure(evse)
        self._schedule_save()

    # ---- settings ----------------------------------------------------------------------------------------------

    def departure_time(self, station_id: str, evse_id: int) -> time:
        """The EVSE's departure time of day (local)."""
        raw = self._targets.get(_key(station_id, evse_id), {}).get("departure")
        try:
            return time.fromisoformat(raw) if isinstance(raw, str) else DEFAULT_DEPARTURE
        except ValueError:
            return DEFAULT_DEPARTURE

    def energy_kwh(self, station_id: str, evse_id: int) -> float:
        """The energy to add in a session (kWh)."""
        value = self._targets.get(_key(station_id, evse_id), {}).get("energy_kwh", DEFAULT_ENERGY_KWH)
        return float(value)

    def target_soc(self, station_id: str, evse_id: int) -> float:
        """The state of charge to reach (%) when the car reports one (0: the energy to add counts)."""
        return float(self._targets.get(_key(station_id, evse_id), {}).get("target_soc", 0.0))

    def capacity_wh(self, station_id: str, evse_id: int) -> float | None:
        """The battery capacity learnt on the EVSE (Wh; the last car's), None before one was learnt."""
        value = self._targets.get(_key(station_id, evse_id), {}).get("capacity_wh")
        return float(value) if value else None

    def _learn_capacity(self, station_id: str, evse_id: int, session: EvseSession) -> None:
        """Estimate the car's capacity from the energy metered while its state of charge rose; plan again."""
        key = (station_id, evse_id)
        soc, energy = session.meter.soc_percent, session.energy_wh
        evse = self._evses.get(key)
        if evse is None or soc is None or energy is None or session.transaction_id is None:
            return
        start = evse.soc_start
        if start is None or start[0] != session.transaction_id:
            evse.soc_start = (session.transaction_id, soc, energy)
            return
        capacity = estimate_capacity(start[1], start[2], soc, energy)
        if capacity is None:
            return
        evse.soc_start = (session.transaction_id, soc, energy)  # the next estimate from here on
        known = self.capacity_wh(station_id, evse_id)
        self._targets.setdefault(_key(station_id, evse_id), {})["capacity_wh"] = round(capacity)
        self._schedule_save()
        if known is None or abs(capacity - known) > known * CAPACITY_CHANGE:
            self.replan(station_id, evse_id)

    @callback
    def async_set(self, station_id: str, evse_id: int, **changes: Any) -> None:
        """Change the departure (`departure`: a time) or the energy to add (`energy_kwh`), and plan again."""
        fields = self._targets.setdefault(_key(station_id, evse_id), {})
        if isinstance(changes.get("departure"), time):
            fields["departure"] = changes["departure"].replace(microsecond=0).isoformat()
        if "energy_kwh" in changes:
            fields["energy_kwh"] = float(changes["energy_kwh"])
        if "target_soc" in changes:
            fields["target_soc"] = float(changes["target_soc"])
        self._schedule_save()
        self._signal(station_id, evse_id)
        self.replan(station_id, evse_id)

    def next_departure(self, station_id: str, evse_id: int, now: datetime) -> datetime:
        """The next departure after `now` (today's, or tomorrow's once today's has passed)."""
        local = dt_util.as_local(now)
        moment = datetime.combine(local.date(), self.departure_time(station_id, evse_id), local.tzinfo)
        if moment <= local:
            moment = datetime.combine(local.date() + timedelta(days=1), moment.time(), local.tzinfo)
        return dt_util.as_utc(moment)

    # ---- what entities show ------------------------------------------------------------------------------------

    @callback
    def ev_needs_changed(
        self,
        station_id: str,
        evse_id: int,
        *,
        energy_wh: float | None,
        departure: datetime | None,
        max_current: float | None,
    ) -> bool:
        """An ISO 15118 EV said what it needs (NotifyEVChargingNeeds, K15-K17); whether the plan takes it.

        In the smart mode the plan takes the EV's energy, departure and maximum current over the EVSE's settings,
        and the plan on the station is the schedule the EV gets (K15.FR.07); in other modes nothing changes here.
        """
        if self._settings(station_id, evse_id).mode is not ChargingMode.SMART:
            return False
        delivered = 0.0
        runtime = self.context.runtimes.get(station_id)
        if runtime is not None and (session := runtime.transactions.evse(evse_id)).active:
            delivered = session.energy_wh or 0.0
        self._ev_needs[station_id, evse_id] = _EvNeeds(energy_wh, departure, max_current, delivered)
        self.replan(station_id, evse_id)
        return True

    def plan(self, station_id: str, evse_id: int) -> Plan | None:
        """The EVSE's plan (None: not in the smart mode, no car, or nothing planned)."""
        evse = self._evses.get((station_id, evse_id))
        return None if evse is None else evse.plan

    def state(self, station_id: str, evse_id: int) -> EvseState:
        """What the planner does with the EVSE (the energy manager's state sensor shows it in the smart mode)."""
        if not self.options.configured:
            return EvseState.NOT_CONFIGURED
        if not self.context.is_connected(station_id):
            return EvseState.STATION_OFFLINE
        evse = self._evses.get((station_id, evse_id))
        return EvseState.NO_VEHICLE if evse is None else evse.state

    def plan_attributes(self, station_id: str, evse_id: int) -> dict[str, Any] | None:
        """The plan sensor's attributes: the plan, whether the station holds it, what went wrong."""
        evse = self._evses.get((station_id, evse_id))
        if evse is None or evse.plan is None:
            return None
        return {
            **evse.plan.attributes(),
            "on_station": evse.sent is not None and not evse.live,
            "live_limits": evse.live,
            "readback": None if evse.readback is None else evse.readback.attributes(),
            "problem": evse.problem,
            "car_power": evse.car_power,
            "from_ev": (station_id, evse_id) in self._ev_needs,
        }

    def session_cost(self, station_id: str, evse_id: int) -> float | None:
        """The cost of the EVSE's current or last session (None: none counted)."""
        cost = self._costs.get(_key(station_id, evse_id))
        return None if cost is None else round(cost.cost.cost, 4)

    def cost_attributes(self, station_id: str, evse_id: int) -> dict[str, Any] | None:
        """The session cost sensor's attributes."""
        cost = self._costs.get(_key(station_id, evse_id))
        if cost is None:
            return None
        return {
            "transaction_id": cost.transaction_id,
            "energy": round(cost.cost.energy_wh / 1000, 3),
            "unpriced_energy": round(cost.cost.unpriced_wh / 1000, 3),
            "price": price_at(self.prices, dt_util.utcnow()),
        }

    # ---- planning ----------------------------------------------------------------------------------------------

    @callback
    def replan_all(self) -> None:
        """Plan again for every EVSE in the smart mode (new prices, or the start)."""
        for station_id in list(self.context.runtimes):
            runtime = self.context.runtimes.get(station_id)
            for evse_id in sorted(runtime.known_evses) if runtime is not None else ():
                if self._settings(station_id, evse_id).mode is ChargingMode.SMART:
                    self.replan(station_id, evse_id)

    async def async_leaving(self, station_id: str, evse_id: int, mode: ChargingMode) -> None:
        """The charging mode is about to change to `mode`: leaving smart, the plan's profiles go first."""
        if mode is ChargingMode.SMART or (evse := self._evses.pop((station_id, evse_id), None)) is None:
            return
        self._leaving.add((station_id, evse_id))  # no new plan until the mode has changed (`mode_changed`)
        self._stop_live(evse)
        self._stop_departure(evse)
        self._signal(station_id, evse_id)
        if evse.sent is not None and self.context.is_connected(station_id):
            await self._clear_limits(station_id, evse_id)

    @callback
    def mode_changed(self, station_id: str, evse_id: int) -> None:
        """The charging mode changed: in smart, a plan starts."""
        self._leaving.discard((station_id, evse_id))
        self.replan(station_id, evse_id)

    def _vehicle(self, station_id: str, evse_id: int) -> bool:
        station = self.context.central.stations.get(station_id)
        occupied = station is not None and any(
            status is ConnectorStatus.OCCUPIED
            for (evse, _), status in station.connector_status.items()
            if evse == evse_id
        )
        runtime = self.context.runtimes.get(station_id)
        return occupied or (runtime is not None and runtime.transactions.evse(evse_id).active)

    def _check(self, station_id: str, evse_id: int) -> None:
        """A car came or left, or draws less than offered: plan again when it matters."""
        key = (station_id, evse_id)
        evse = self._evses.get(key)
        vehicle = self._vehicle(station_id, evse_id)
        runtime = self.context.runtimes.get(station_id)
        transaction_id = runtime.transactions.evse(evse_id).transaction_id if runtime is not None else None
        if (
            evse is None
            or vehicle != (evse.state is not EvseState.NO_VEHICLE)
            or (vehicle and evse.sent is not None and evse.sent[0] != transaction_id)
            or self._draws_less(key, evse)
        ):
            self.replan(station_id, evse_id)

    def _draws_less(self, key: tuple[str, int], evse: _EvsePlan) -> bool:
        """Whether the car draws clearly less than the plan offers now (then its power is what it draws)."""
        runtime = self.context.runtimes.get(key[0])
        if evse.plan is None or runtime is None:
            return False
        session = runtime.transactions.evse(key[1])
        power = session.meter.active_power_w
        offered_current = evse.plan.current_at(dt_util.utcnow())
        if not session.active or power is None or power <= 0 or offered_current <= 0:
            return False
        voltage, phases = self._electrics(key[0], key[1], evse.plan.phases)
        offered = offered_current * voltage * phases
        if power >= offered * DRAW_SHARE or (evse.car_power is not None and power >= evse.car_power * DRAW_SHARE):
            return False
        evse.car_power = power
        return True

    @callback
    def replan(self, station_id: str, evse_id: int) -> None:
        """Plan the EVSE's charging now and send the plan if it changed."""
        if not self._running:
            return
        key = (station_id, evse_id)
        if key in self._leaving or self._settings(station_id, evse_id).mode is not ChargingMode.SMART:
            return
        evse = self._evses.setdefault(key, _EvsePlan())
        if not self._vehicle(station_id, evse_id):
            self._ev_needs.pop(key, None)
            ended = evse.plan is not None or evse.sent is not None
            evse.plan, evse.state, evse.car_power = None, EvseState.NO_VEHICLE, None
            evse.readback, evse.problem = None, None
            self._stop_live(evse)
            self._stop_departure(evse)
            if ended:
                self._queue(key)  # the plan ends: our profiles go
            self._signal(station_id, evse_id)
            return
        if not self.options.configured or not self.prices:
            evse.state = EvseState.NOT_CONFIGURED
            self._signal(station_id, evse_id)
            return
        evse.plan = self._make_plan(station_id, evse_id, evse)
        self._stop_departure(evse)
        evse.departure_timer = async_track_point_in_utc_time(
            self.context.hass, self._departed(key), evse.plan.departure + timedelta(seconds=1)
        )
        if evse.state in (EvseState.NO_VEHICLE, EvseState.NOT_CONFIGURED):
            evse.state = EvseState.PLAN_ON_STATION
        self._signal(station_id, evse_id)
        self._queue(key)

    def _make_plan(self, station_id: str, evse_id: int, evse: _EvsePlan) -> Plan:
        now = dt_util.utcnow()
        settings = self._settings(station_id, evse_id)
        voltage, phases = self._electrics(station_id, evse_id, None)
        runtime = self.context.runtimes.get(station_id)
        delivered = 0.0
        soc = None
        if runtime is not None and (session := runtime.transactions.evse(evse_id)).active:
            delivered = session.energy_wh or 0.0
            soc = session.meter.soc_percent
        needed = max(self.energy_kwh(station_id, evse_id) * 1000 - delivered, 0.0)
        target = self.target_soc(station_id, evse_id)
        if target > 0 and soc is not None:  # the car says its state of charge: the target counts
            capacity = self.capacity_wh(station_id, evse_id)
            needed = 0.0 if soc >= target else needed if capacity is None else energy_to_target(target, soc, capacity)
        departure = self.next_departure(station_id, evse_id, now)
        max_current = settings.max_current
        if (needs := self._ev_needs.get((station_id, evse_id))) is not None:  # the EV's own word comes first
            if needs.energy_wh is not None:
                needed = max(needs.energy_wh - max(delivered - needs.delivered_wh, 0.0), 0.0)
            if needs.departure is not None and needs.departure > now:
                departure = needs.departure
            if needs.max_current is not None:
                max_current = min(max_current, needs.max_current)
        return make_plan(
            PlanRequest(
                now=now,
                departure=departure,
                energy_wh=needed,
                prices=self.prices,
                min_current=min(settings.min_current, max_current),
                max_current=max_current,
                phases=phases,
                voltage=voltage,
                buffer=self.options.buffer,
                feed_in=self.options.feed_in,
                solar=self.solar,
                max_power=evse.car_power,
            )
        )

    # ---- sending -------------------------------------------------------------------------------------------------

    def _queue(self, key: tuple[str, int]) -> None:
        """Send the EVSE's plan after the one being sent (if any)."""
        if key in self._sending:
            self._again.add(key)
            return
        task = self.context.background(self._send_loop(key), f"{DOMAIN} plan")
        if not task.done():
            self._sending[key] = task

    async def _send_loop(self, key: tuple[str, int]) -> None:
        try:
            while True:
                self._again.discard(key)
                await self._send(key)
                if key not in self._again:
                    return
        finally:
            self._sending.pop(key, None)

    async def _send(self, key: tuple[str, int]) -> None:
        station_id, evse_id = key
        evse = self._evses.get(key)
        if evse is None or not self.context.is_connected(station_id):
            return  # sent when the station is back
        if evse.plan is None:
            if evse.sent is not None:
                evse.sent = None
                evse.periods = []
                try:
                    await self._clear_limits(station_id, evse_id)
                except HomeAssistantError as err:
                    _LOGGER.info("%s EVSE %d: the plan's profiles were not cleared: %s", station_id, evse_id, err)
            return
        plan = evse.plan
        now = dt_util.utcnow()
        runtime = self.context.runtimes.get(station_id)
        transaction_id = runtime.transactions.evse(evse_id).transaction_id if runtime is not None else None
        voltage, _ = self._electrics(station_id, evse_id, None)
        settings = self._settings(station_id, evse_id)
        built: list[Period] = []

        def build() -> list[SetChargingProfileRequest]:
            request, periods = plan_request(
                self._allocator(station_id),
                self._capabilities(station_id),
                plan,
                evse_id=evse_id,
                now=now,
                min_current=settings.min_current,
                transaction_id=transaction_id,
                voltage=voltage,
            )
            built[:] = periods
            return [request]

        maximum = self._capabilities(station_id).periods_per_schedule
        preview = send_periods(plan, now, maximum, min_current=settings.min_current)
        if not preview:
            return  # the plan has ended (its departure passed)
        signature = (transaction_id, tuple((period.end, period.current) for period in preview))
        if signature == evse.sent and not evse.live:
            return
        try:
            await self._send_profiles(station_id, evse_id, build)
        except HomeAssistantError as err:
            _LOGGER.info("%s EVSE %d: the plan was not taken (%s): its limits go live", station_id, evse_id, err)
            evse.sent, evse.periods, evse.problem = signature, preview, str(err)
            if evse.plan is plan:
                await self._go_live(key, evse)
            return
        evse.sent, evse.periods, evse.problem = signature, built or preview, None
        await self._read_back(key, evse, plan)

    async def _read_back(self, key: tuple[str, int], evse: _EvsePlan, plan: Plan) -> None:
        """Compare the station's composite schedule with the plan sent; live limits if it does not hold it."""
        station_id, evse_id = key
        periods = evse.periods
        seconds = int(min(max((periods[-1].end - dt_util.utcnow()).total_seconds(), 60), READBACK_MAX))
        try:
            response = await self._composite(station_id, evse_id, seconds, ChargingRateUnit.A)
        except HomeAssistantError as err:
            _LOGGER.info("%s EVSE %d: the composite schedule was not read: %s", station_id, evse_id, err)
            return
        composite = parse_composite(response)
        if evse.plan is not plan or self._evses.get(key) is not evse:
            return  # planned again meanwhile (or the car left): what follows is sent next
        if composite is None:
            evse.readback = None
            return
        _, phases = self._electrics(station_id, evse_id, evse.plan.phases if evse.plan else None)
        evse.readback = compare_composite(periods, composite, phases=phases)
        if evse.readback.held:
            self._stop_live(evse)
            evse.state = EvseState.PLAN_ON_STATION
            self._signal(station_id, evse_id)
        else:
            evse.problem = "composite_differs"
            await self._go_live(key, evse)

    async def _go_live(self, key: tuple[str, int], evse: _EvsePlan) -> None:
        """Send the plan's limit in force now, and again at each change of the plan."""
        station_id, evse_id = key
        if self._evses.get(key) is not evse or not self._running:
            return  # the plan ended meanwhile (the mode changed, or the entry unloads)
        evse.live = True
        evse.state = EvseState.PLAN_LIVE
        self._signal(station_id, evse_id)
        if evse.plan is None or not self.context.is_connected(station_id):
            return
        now = dt_util.utcnow()
        current = evse.plan.current_at(now)
        try:
            await self._set_limit(station_id, evse_id, current, ChargingRateUnit.A, explicit=True)
        except HomeAssistantError as err:
            _LOGGER.warning("%s EVSE %d: the plan's live limit was not applied: %s", station_id, evse_id, err)
        if evse.timer is not None:
            evse.timer()
            evse.timer = None
        following = next((period.start for period in evse.periods if period.start > now), None)
        if following is not None:
            evse.timer = async_track_point_in_utc_time(self.context.hass, self._live_due(key), following)

    def _departed(self, key: tuple[str, int]) -> Callable[[datetime], None]:
        @callback
        def departed(_now: datetime) -> None:
            if (evse := self._evses.get(key)) is not None:
                evse.departure_timer = None
                self.replan(*key)

        return departed

    @staticmethod
    def _stop_departure(evse: _EvsePlan) -> None:
        if evse.departure_timer is not None:
            evse.departure_timer()
            evse.departure_timer = None

    def _live_due(self, key: tuple[str, int]) -> Callable[[datetime], None]:
        @callback
        def due(_now: datetime) -> None:
            evse = self._evses.get(key)
            if evse is not None:
                evse.timer = None
                if evse.live:
                    self.context.background(self._go_live(key, evse), f"{DOMAIN} plan live")

        return due

    @staticmethod
    def _stop_live(evse: _EvsePlan) -> None:
        evse.live = False
        if evse.timer is not None:
            evse.timer()
            evse.timer = None

    # ---- cost (I) --------------------------------------------------------------------------------------------------

    def _update_cost(self, station_id: str, evse_id: int) -> None:
        runtime = self.context.runtimes.get(station_id)
        if runtime is None or not self.prices:
            return
        session = runtime.transactions.evse(evse_id)
        transaction_id = session.transaction_id or session.last_transaction_id
        if transaction_id is None or session.energy_wh is None:
            return
        name = _key(station_id, evse_id)
        cost = self._costs.get(name)
        if cost is None or cost.transaction_id != transaction_id:
            cost = self._costs[name] = _Cost(transaction_id, SessionCost())
            cost.cost.add_reading(session.started_at or dt_util.utcnow(), 0.0, self.prices)
        moment = session.meter.timestamp or dt_util.utcnow()
        before = (cost.cost.energy_wh, cost.cost.cost)
        cost.cost.add_reading(moment, session.energy_wh, self.prices)
        if (cost.cost.energy_wh, cost.cost.cost) != before:
            self._schedule_save()
            self._signal(station_id, evse_id)
            if session.active and self._tariff_enabled(station_id, "Cost"):
                self._cost_updated(station_id, cost)

    def _cost_updated(self, station_id: str, cost: _Cost) -> None:
        """CostUpdated (I04): the running cost, at most every COST_UPDATE_INTERVAL and only when it changed."""
        now = dt_util.utcnow()
        total = round(cost.cost.cost, 2)
        if cost.sent_cost == total or (cost.sent_at is not None and now - cost.sent_at < COST_UPDATE_INTERVAL):
            return
        cost.sent_at, cost.sent_cost = now, total
        request = CostUpdatedRequest(total_cost=total, transaction_id=cost.transaction_id)
        self.context.background(self._async_send_cost(station_id, request), f"{DOMAIN} cost")

    async def _async_send_cost(self, station_id: str, request: CostUpdatedRequest) -> None:
        try:
            await self.context.call(station_id, request, CostUpdatedResponse)
        except HomeAssistantError as err:
            _LOGGER.debug("%s: CostUpdated not delivered: %s", station_id, err)

    def _tariff_enabled(self, station_id: str, instance: str) -> bool:
        """Whether the station's TariffCostCtrlr Enabled[Tariff|Cost] is true, in the site's currency (I02, I04).

        A station without it, or showing another currency (TariffCostCtrlr.Currency), gets nothing.
        """
        runtime = self.context.runtimes.get(station_id)
        if runtime is None:
            return False
        found = runtime.device_model.find(TARIFF_COST_CTRLR, "Enabled", variable_instance=instance)
        if found is None or str(found.value).lower() != "true":
            return False
        if (currency := self.station_currency(station_id)) != self._currency():
            if station_id not in self._currency_warned:  # its numbers would mean another money: say nothing
                self._currency_warned.add(station_id)
                _LOGGER.warning(
                    "%s shows costs in %s, Home Assistant counts in %s: no cost is sent to it",
                    station_id,
                    currency,
                    self._currency(),
                )
            return False
        return True

    def station_currency(self, station_id: str) -> str:
        """The currency the station shows (TariffCostCtrlr.Currency), else the site's."""
        runtime = self.context.runtimes.get(station_id)
        found = runtime.device_model.find(TARIFF_COST_CTRLR, "Currency") if runtime is not None else None
        return found.value if found is not None and found.value else self._currency()

    @callback
    def transaction_answer(
        self, station_id: str, evse_id: int | None, request: TransactionEventRequest, info: IdTokenInfo | None
    ) -> tuple[float | None, IdTokenInfo | None]:
        """The TransactionEventResponse's totalCost (at Ended) and idTokenInfo with the running price.

        Only for a station whose TariffCostCtrlr is enabled (Cost: totalCost; Tariff: personalMessage); a station
        without it gets nothing (I02.FR.01, I03.FR.01).
        """
        if evse_id is None or not self.prices:
            return None, info
        total = None
        if request.event_type is TransactionEvent.ENDED and self._tariff_enabled(station_id, "Cost"):
            cost = self._costs.get(_key(station_id, evse_id))
            if cost is not None and cost.transaction_id == request.transaction_info.transaction_id:
                total = round(cost.cost.cost, 2)
        if info is not None and info.personal_message is None and self._tariff_enabled(station_id, "Tariff"):
            message = running_price_message(price_at(self.prices, dt_util.utcnow()), self.station_currency(station_id))
            if message is not None:
                content = MessageContent(format=MessageFormat.ASCII, content=message)
                info = info.model_copy(update={"personal_message": content})
        return total, info

    # ---- store ---------------------------------------------------------------------------------------------------

    def _data(self) -> dict[str, Any]:
        return {
            "evses": dict(sorted(self._targets.items())),
            "costs": {
                name: {"transaction_id": cost.transaction_id, "cost": cost.cost.to_dict()}
                for name, cost in sorted(self._costs.items())
            },
            "prices": [[slot.start.isoformat(), slot.end.isoformat(), slot.price] for slot in self.prices],
        }

    def _schedule_save(self) -> None:
        self._store.async_delay_save(self._data, SAVE_DELAY)

    def _signal(self, station_id: str, evse_id: int) -> None:
        self.context.signal(energy_signal(self.context.entry_id, station_id, evse_id))
