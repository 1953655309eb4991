"""The glue between the central system and Home Assistant: devices, discovery, entities' signals, storage."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, discovery_flow
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store

from .charging_control import ChargingControl
from .const import (
    CONF_REMOTE_ID_TOKEN,
    DISCOVERY_UNIQUE_ID_PREFIX,
    DOMAIN,
    EVSE_SEPARATOR,
    ID_TOKENS_STORAGE_KEY,
    STORAGE_KEY,
    STORAGE_VERSION,
)
from .csms.central_system import CentralSystem, CentralSystemConfig, PasswordRotationError
from .csms.listener import OcppListener
from .csms.registry import StationRecord, StationRegistry
from .csms.station import Station
from .entity_detail import EntityLimitCheck
from .protocol.model import OcppModel
from .protocol.session import CallErrorResponse, CallFailed, CallTimeout, SessionClosed
from .station.id_tokens import IdTokenList, UnknownTokenPolicy
from .station_commands import DEFAULT_REMOTE_ID_TOKEN, StationCommands
from .station_messages import StationMessages, new_evse_signal
from .station_runtime import StationRuntime
from .variable_sync import VariableSync

if TYPE_CHECKING:
    from homeassistant.config_entries import ConfigEntry

_LOGGER = logging.getLogger(__name__)

#: How long storage writes are coalesced.
SAVE_DELAY = 1.0


def station_signal(entry_id: str, station_id: str) -> str:
    """Dispatcher signal for changes of one station (connection, boot, EVSEs)."""
    return f"{DOMAIN}_{entry_id}_station_{station_id}"


def new_station_signal(entry_id: str) -> str:
    """Dispatcher signal for a station that became trusted (its entities must be added)."""
    return f"{DOMAIN}_{entry_id}_new_station"


def evse_identifier(station_id: str, evse_id: int) -> str:
    """Device registry identifier of an EVSE of a station."""
    return f"{station_id}{EVSE_SEPARATOR}{evse_id}"


@dataclass
class OcppCsmsHub:
    """Runtime data of the config entry: the central system, its listeners, and what Home Assistant sees of it."""

    hass: HomeAssistant
    entry: ConfigEntry[Any]
    store: Store[dict[str, Any]]
    registry: StationRegistry
    central: CentralSystem = field(init=False)
    listeners: list[OcppListener] = field(default_factory=list)
    #: Stations whose loss of connection was logged, so the return is logged once too.
    _reported_unavailable: set[str] = field(default_factory=set)
    _evse_devices: set[tuple[str, int]] = field(default_factory=set)
    #: Stations whose entities the platforms have added (the rest get them when they are first accepted).
    stations_with_entities: set[str] = field(default_factory=set)
    #: Inventory and sessions of trusted stations, loaded once.
    runtimes: dict[str, StationRuntime] = field(default_factory=dict)
    _runtime_loads: dict[str, asyncio.Future[StationRuntime]] = field(default_factory=dict)
    id_tokens: IdTokenList = field(default_factory=IdTokenList)
    id_token_store: Store[dict[str, Any]] = field(init=False)
    messages: StationMessages = field(init=False)
    variables: VariableSync = field(init=False)
    charging: ChargingControl = field(init=False)
    commands: StationCommands = field(init=False)
    entity_limit: EntityLimitCheck = field(init=False)

    @classmethod
    async def async_load(
        cls,
        hass: HomeAssistant,
        entry: ConfigEntry[Any],
        config: CentralSystemConfig,
        unknown_tokens: UnknownTokenPolicy = UnknownTokenPolicy.REJECT,
    ) -> OcppCsmsHub:
        """Load the trusted stations, their inventories and sessions, and the ID tokens from storage."""
        store: Store[dict[str, Any]] = Store(hass, STORAGE_VERSION, STORAGE_KEY, private=True, atomic_writes=True)
        data = await store.async_load() or {}
        registry = StationRegistry([StationRecord.from_dict(item) for item in data.get("stations", [])])
        hub = cls(hass=hass, entry=entry, store=store, registry=registry)
        hub.central = CentralSystem(registry, hub, config, is_blocked=hub.is_ignored)
        hub.messages = StationMessages(hub)
        hub.variables = VariableSync(hub)
        hub.charging = ChargingControl(hub)
        hub.entity_limit = EntityLimitCheck(hass, entry)
        hub.commands = StationCommands(hub, entry.options.get(CONF_REMOTE_ID_TOKEN) or DEFAULT_REMOTE_ID_TOKEN)
        registry.on_change = hub._schedule_save
        hub.id_token_store = Store(hass, STORAGE_VERSION, ID_TOKENS_STORAGE_KEY, private=True, atomic_writes=True)
        if tokens := await hub.id_token_store.async_load():
            hub.id_tokens = IdTokenList.from_dict(tokens)
        hub.id_tokens.unknown_policy = unknown_tokens
        await asyncio.gather(*(hub.async_runtime(record.station_id) for record in registry))
        return hub

    async def async_runtime(self, station_id: str) -> StationRuntime:
        """The station's inventory and sessions, read from storage the first time."""
        if (runtime := self.runtimes.get(station_id)) is not None:
            return runtime
        if (loading := self._runtime_loads.get(station_id)) is not None:
            return await loading
        loading = self.hass.loop.create_future()
        self._runtime_loads[station_id] = loading
        try:
            runtime = await StationRuntime.async_load(self.hass, station_id)
        except BaseException as err:
            loading.set_exception(err)
            loading.exception()  # retrieved: the error is raised to this caller
            raise
        finally:
            del self._runtime_loads[station_id]
        self.runtimes[station_id] = runtime
        loading.set_result(runtime)
        return runtime

    @callback
    def save_id_tokens(self) -> None:
        """Persist the ID token list soon."""
        self.id_token_store.async_delay_save(self.id_tokens.to_dict, SAVE_DELAY)

    # ---- storage -----------------------------------------------------------------------------------------

    @callback
    def _schedule_save(self) -> None:
        self.store.async_delay_save(self._data_to_save, SAVE_DELAY)

    def _data_to_save(self) -> dict[str, Any]:
        return {"stations": self.registry.as_list()}

    async def async_save_now(self) -> None:
        """Write the trusted stations, their sessions and the ID tokens at once (on unload)."""
        await self.store.async_save(self._data_to_save())
        await self.id_token_store.async_save(self.id_tokens.to_dict())
        await asyncio.gather(*(runtime.async_save_now() for runtime in self.runtimes.values()))

    async def async_forget(self, station_id: str) -> None:
        """Stop trusting a station, and delete what was stored of it."""
        await self.central.forget(station_id)
        self.stations_with_entities.discard(station_id)
        if (runtime := self.runtimes.pop(station_id, None)) is not None:
            await runtime.async_remove()

    # ---- what the user decided in the UI -----------------------------------------------------------------

    def is_ignored(self, station_id: str) -> bool:
        """Whether the user ignored this station's discovery: it is then rejected."""
        unique_id = f"{DISCOVERY_UNIQUE_ID_PREFIX}{station_id}"
        return any(
            entry.unique_id == unique_id and entry.source == SOURCE_IGNORE
            for entry in self.hass.config_entries.async_entries(DOMAIN, include_ignore=True)
        )

    # ---- CentralSystemEvents -----------------------------------------------------------------------------

    @callback
    def station_connected(self, station: Station) -> None:
        """Log the return of a station whose loss was logged, update its entities, check its transactions."""
        if station.station_id in self._reported_unavailable:
            self._reported_unavailable.discard(station.station_id)
            _LOGGER.info("Station %s is connected again", station.station_id)
        if station.station_id in self.registry:
            self.entry.async_create_background_task(
                self.hass, self._async_reconnected(station), f"{DOMAIN} station reconnected"
            )
        self._signal(station)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """Log the loss once, and make the station's entities unavailable."""
        self.variables.connection_lost(station.station_id)
        self.messages.inventory_turn_over(station.station_id)
        if station.station_id in self.registry and station.station_id not in self._reported_unavailable:
            self._reported_unavailable.add(station.station_id)
            # (logged once on loss, once on return)
            _LOGGER.info(
                "Station %s is disconnected; its entities are unavailable until it reconnects", station.station_id
            )
        self._signal(station)

    @callback
    def station_booted(self, station: Station) -> None:
        """Create or update the station's device with what its BootNotification says."""
        self.ensure_station_device(station.station_id)
        self.entry.async_create_background_task(
            self.hass, self._async_station_accepted(station), f"{DOMAIN} station accepted"
        )
        self._signal(station)

    async def _async_reconnected(self, station: Station) -> None:
        """A trusted station (re)connected: queued transaction messages, and variables changed meanwhile."""
        await self.messages.check_transactions(station)
        runtime = await self.async_runtime(station.station_id)
        if runtime.has_inventory:
            await self.async_keep_variables_current(station.station_id)

    async def _async_station_accepted(self, station: Station) -> None:
        """Entities for a newly trusted station; its inventory after the first boot or a firmware change."""
        runtime = await self.async_runtime(station.station_id)
        if station.station_id not in self.stations_with_entities:
            async_dispatcher_send(self.hass, new_station_signal(self.entry.entry_id), station.station_id)
        firmware = station.boot.firmware_version if station.boot else None
        if not runtime.has_inventory or firmware != runtime.inventory_firmware:
            if runtime.assembler.request_id is None:  # not while a report is on its way
                await self.messages.request_inventory(station)
        else:
            await self.async_keep_variables_current(station.station_id)

    async def async_keep_variables_current(self, station_id: str) -> None:
        """Monitors on the enabled variables that support them, and a fresh read of the others."""
        await self.variables.async_set_monitors(station_id)
        await self.variables.async_refresh(station_id)

    @callback
    def approval_requested(self, station: Station) -> None:
        """Show the unknown station as a discovered device the user can add or ignore."""
        boot = station.boot
        discovery_flow.async_create_flow(
            self.hass,
            DOMAIN,
            context={"source": SOURCE_INTEGRATION_DISCOVERY},
            data={
                "station_id": station.station_id,
                "vendor": boot.vendor if boot else "",
                "model": boot.model if boot else "",
                "serial_number": (boot.serial_number if boot else None) or "",
            },
        )

    @callback
    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """Create the EVSE's device and entities the first time it is reported, and update them."""
        if station.station_id in self.registry:
            self.messages.evse_changed(station.station_id, evse_id)
        self._signal(station)

    @callback
    def ensure_evse(self, station_id: str, evse_id: int) -> None:
        """The EVSE's device and entities, created the first time the EVSE is reported."""
        if (station_id, evse_id) in self._evse_devices:
            return
        self.ensure_evse_device(station_id, evse_id)
        runtime = self.runtimes.get(station_id)
        if runtime is not None and evse_id not in runtime.known_evses:
            runtime.known_evses.add(evse_id)
            runtime.schedule_save_sessions()
        async_dispatcher_send(self.hass, new_evse_signal(self.entry.entry_id), station_id, evse_id)

    # ---- devices -----------------------------------------------------------------------------------------

    @callback
    def ensure_station_device(self, station_id: str) -> dr.DeviceEntry:
        """The station's device, created or updated from the last BootNotification."""
        station = self.central.stations.get(station_id)
        boot = station.boot if station else None
        kwargs: dict[str, Any] = {}
        if boot is not None:
            kwargs = {
                "manufacturer": boot.vendor,
                "model": boot.model,
                "serial_number": boot.serial_number,
                "sw_version": boot.firmware_version,
            }
        return dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, station_id)},
            name=station_id,
            **kwargs,
        )

    @callback
    def ensure_evse_device(self, station_id: str, evse_id: int) -> dr.DeviceEntry:
        """An EVSE's device, a child of the station's device."""
        parent = self.ensure_station_device(station_id)
        device = dr.async_get(self.hass).async_get_or_create(
            config_entry_id=self.entry.entry_id,
            identifiers={(DOMAIN, evse_identifier(station_id, evse_id))},
            name=f"{station_id} EVSE {evse_id}",
            manufacturer=parent.manufacturer,
            model=parent.model,
            via_device_id=parent.id,
        )
        self._evse_devices.add((station_id, evse_id))
        return device

    @callback
    def signal_station(self, station: Station) -> None:
        """Tell the station's entities that it changed."""
        self._signal(station)

    @callback
    def _signal(self, station: Station) -> None:
        async_dispatcher_send(self.hass, station_signal(self.entry.entry_id, station.station_id))

    # ---- commands from entities and actions --------------------------------------------------------------

    def connected_station(self, station_id: str) -> Station:
        """The station, when it is connected; a translated error otherwise."""
        station = self.central.stations.get(station_id)
        if station is None or not station.connected:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="station_not_connected",
                translation_placeholders={"station": station_id},
            )
        return station

    async def async_call[Resp: OcppModel](self, station_id: str, request: OcppModel, response: type[Resp]) -> Resp:
        """Send a CALL to a connected station; its response, or a translated error when there is none."""
        station = self.connected_station(station_id)
        try:
            return await station.session.call(request, response)
        except CallFailed as err:
            raise call_failed_error(station_id, err) from err

    async def async_rotate_password(self, station_id: str) -> None:
        """Give the station a new password (A01); raise a translated error when it does not take it."""
        self.connected_station(station_id)
        try:
            await self.central.rotate_password(station_id)
        except PasswordRotationError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="password_rejected",
                translation_placeholders={"station": station_id, "status": err.status},
            ) from err
        except CallFailed as err:
            raise call_failed_error(station_id, err) from err


def call_failed_error(station_id: str, err: CallFailed) -> HomeAssistantError:
    """A translated error for a CALL the station did not answer with a response."""
    if isinstance(err, CallTimeout):
        key, detail = "station_timeout", f"{err.timeout:g} s"
    elif isinstance(err, CallErrorResponse):
        key, detail = "station_error", f"{err.raw_code}: {err.description}"
    elif isinstance(err, SessionClosed):
        key, detail = "station_not_connected", ""
    else:
        key, detail = "station_invalid_response", str(err)
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"station": station_id, "action": err.action, "detail": detail},
    )
