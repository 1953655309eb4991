"""The stations' local authorization lists (D01, D02), kept in step with the user's ID tokens.

When a station's LocalAuthListCtrlr is enabled and the option is on, it gets the tokens as a Full list after it
is first accepted (version 1), then Differential updates whenever tokens change or one expires. After every
(re)connection, and on demand, GetLocalListVersion (D02) tells whether the station still holds what it was sent;
when it does not, or a Differential update is refused (Failed, VersionMismatch), the Full list goes again
(D01.FR.03). Requests are split to the station's ItemsPerMessage / BytesPerMessage (D01.FR.11); a token list longer
than the station's list can hold is refused with a translated error and a repair, never truncated. With the option
off, a list sent before is emptied. Cards then keep working while a station is offline, and a card blocked in
Home Assistant is blocked at the station by the next update.

The version and what each station holds are stored (personal data: a private store), so that a restart of Home
Assistant sends only what changed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
from typing import Any, Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Registration, Station
from .helpers import (
    NOT_IMPLEMENTED_CODES,
    call_failed,
    not_connected,
    refused,
    station_error,
    translated_errors,
    user_error,
)
from .protocol.session import CallErrorResponse
from .protocol.v201.enums import SendLocalListStatus, Update
from .protocol.v201.messages import (
    GetLocalListVersionRequest,
    GetLocalListVersionResponse,
    SendLocalListRequest,
    SendLocalListResponse,
)
from .signals import inventory_signal, station_removed_signal, station_signal
from .station.id_tokens import IdTokenList
from .station.local_list import (
    LocalListCapabilities,
    LocalListState,
    LocalListTooLargeError,
    SyncStatus,
    plan_updates,
    wanted_list,
)
from .station_runtime import StationRuntime

_LOGGER = logging.getLogger(__name__)

#: The feature's name among what probing found of a station (`StationRuntime.probed`).
LOCAL_AUTH_LIST: Final = "local_auth_list"
LOCAL_LISTS_STORAGE_KEY: Final = f"{DOMAIN}.local_auth_lists"
LOCAL_LISTS_STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 1.0


def too_large_issue_id(station_id: str) -> str:
    """Repair issue id: the station's local list cannot hold the tokens."""
    return f"local_list_too_large_{station_id}"


class LocalAuthLists(StationListener):
    """Keeps the local authorization lists of one config entry's stations in step with the token list."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        tokens: IdTokenList,
        states: dict[str, LocalListState],
        *,
        enabled: bool = True,
    ) -> None:
        """Stations get lists when `enabled` (the option); `states` is what they hold (`async_load_states`)."""
        self.context = context
        self.store = store
        self.tokens = tokens
        self.enabled = enabled
        self._states = states
        self._locks: dict[str, asyncio.Lock] = {}
        #: Stations whose sync is scheduled and not started: (ask the version first, send a Full list).
        self._queued: dict[str, tuple[bool, bool]] = {}
        self._expiry: CALLBACK_TYPE | None = None

    @staticmethod
    def list_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where the stations' lists are kept."""
        return Store(hass, LOCAL_LISTS_STORAGE_VERSION, LOCAL_LISTS_STORAGE_KEY, private=True, atomic_writes=True)

    @staticmethod
    async def async_load_states(store: Store[dict[str, Any]]) -> dict[str, LocalListState]:
        """What each station's list holds, as stored."""
        data = await store.async_load() or {}
        return {station_id: LocalListState.from_dict(state) for station_id, state in data.get("stations", {}).items()}

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Follow inventories (list settings), forgotten stations and token expiries; undo with the result."""
        hass, entry_id = self.context.hass, self.context.entry_id
        unsubscribes = [
            async_dispatcher_connect(hass, inventory_signal(entry_id), self._inventory_received),
            async_dispatcher_connect(hass, station_removed_signal(entry_id), self._station_removed),
        ]
        self._arm_expiry()

        @callback
        def stop() -> None:
            for unsubscribe in unsubscribes:
                unsubscribe()
            if self._expiry is not None:
                self._expiry()
                self._expiry = None

        return stop

    def state(self, station_id: str) -> LocalListState | None:
        """What the station's list holds, if Home Assistant ever synchronised it."""
        return self._states.get(station_id)

    # ---- what happens -----------------------------------------------------------------------------------

    @callback
    def station_booted(self, station: Station) -> None:
        """Accepted (the first time: its first list, version 1): ask what it holds, send what it misses."""
        self.schedule(station.station_id, ask_version=True)

    @callback
    def station_connected(self, station: Station) -> None:
        """A trusted station reconnected: its list may have changed meanwhile (D02)."""
        if station.station_id in self.context.central.registry and station.registration is Registration.ACCEPTED:
            self.schedule(station.station_id, ask_version=True)

    @callback
    def _inventory_received(self, station_id: str) -> None:
        self.schedule(station_id, ask_version=True)

    @callback
    def _station_removed(self, station_id: str) -> None:
        if self._states.pop(station_id, None) is not None:
            self._save()
        ir.async_delete_issue(self.context.hass, DOMAIN, too_large_issue_id(station_id))

    @callback
    def tokens_changed(self) -> None:
        """The token list changed (or a token expired): Differential updates to the stations that hold a list."""
        for station_id, station in self.context.central.stations.items():
            if station.connected and station_id in self.context.central.registry:
                self.schedule(station_id)
        self._arm_expiry()

    @callback
    def _arm_expiry(self) -> None:
        if self._expiry is not None:
            self._expiry()
            self._expiry = None
        if (when := self.tokens.next_expiry(datetime.now(UTC))) is not None:
            self._expiry = async_track_point_in_utc_time(self.context.hass, self._token_expired, when)

    @callback
    def _token_expired(self, _now: datetime) -> None:
        self._expiry = None
        self.tokens_changed()

    @callback
    def check_capacity(self, count: int) -> None:
        """Raise a translated error when a station's local list cannot hold `count` tokens."""
        if not self.enabled:
            return
        for record in self.context.central.registry:
            runtime = self.context.runtimes.get(record.station_id)
            if runtime is None or not runtime.has_inventory:
                continue
            capabilities = LocalListCapabilities.of(runtime.device_model)
            enabled = runtime.supports(LOCAL_AUTH_LIST, capabilities.enabled)
            if enabled and capabilities.max_entries is not None and count > capabilities.max_entries:
                raise user_error(
                    "local_list_too_large",
                    station=record.station_id,
                    entries=str(count),
                    limit=str(capabilities.max_entries),
                )

    # ---- synchronisation --------------------------------------------------------------------------------

    @callback
    def schedule(self, station_id: str, *, ask_version: bool = False, full: bool = False) -> None:
        """Synchronise the station's list soon (a sync not started yet takes this one in)."""
        queued = self._queued.get(station_id)
        if queued is not None:
            self._queued[station_id] = (queued[0] or ask_version, queued[1] or full)
            return
        self._queued[station_id] = (ask_version, full)
        self.context.background(self._async_run_queued(station_id), f"{DOMAIN} local list")

    async def _async_run_queued(self, station_id: str) -> None:
        async with self._lock(station_id):
            ask_version, full = self._queued.pop(station_id)
            try:
                await self._async_sync(station_id, ask_version=ask_version, full=full)
            except HomeAssistantError as err:
                _LOGGER.debug("%s: local list not synchronised: %s", station_id, err.translation_key)

    async def async_sync(self, station_id: str, *, full: bool = False) -> LocalListState:
        """On demand: ask the version (D02), send what the station misses; its list, or a translated error."""
        async with self._lock(station_id):
            return await self._async_sync(station_id, ask_version=True, full=full, on_demand=True)

    def _lock(self, station_id: str) -> asyncio.Lock:
        return self._locks.setdefault(station_id, asyncio.Lock())

    async def _async_sync(
        self, station_id: str, *, ask_version: bool, full: bool, on_demand: bool = False
    ) -> LocalListState:
        station = self.context.central.stations.get(station_id)
        if (
            station is None
            or not station.connected
            or station.registration is not Registration.ACCEPTED
            or station_id not in self.context.central.registry
        ):
            raise not_connected(station_id)
        state = self._states.setdefault(station_id, LocalListState())
        runtime = await self.context.runtimes.async_get(station_id)
        capabilities = LocalListCapabilities.of(runtime.device_model)
        if not runtime.has_inventory and not on_demand:
            return state  # its LocalAuthListCtrlr is not known yet: the inventory brings it
        enabled = runtime.supports(LOCAL_AUTH_LIST, capabilities.enabled)
        if runtime.has_inventory and enabled is None:
            enabled = await self._async_probe(station, runtime)
        if runtime.has_inventory and not enabled:
            self._set_status(station_id, state, SyncStatus.NOT_SUPPORTED)
            raise station_error("local_list_not_supported", station_id)
        with translated_errors(station_id):
            if not self.enabled:
                await self._async_disable(station, state)
                return state
            station_version = 0
            if ask_version:
                response = await station.session.call(GetLocalListVersionRequest(), GetLocalListVersionResponse)
                station_version = response.version_number
                _LOGGER.debug("%s: local list version %d (sent %d)", station_id, station_version, state.version)
                full = full or station_version != state.version
            full = full or state.version == 0 or state.status is SyncStatus.FAILED
            await self._async_send(station, state, capabilities, full=full, station_version=station_version)
        return state

    async def _async_probe(self, station: Station, runtime: StationRuntime) -> bool:
        """Whether a station whose device model does not mention LocalAuthListCtrlr Enabled has a local list.

        A missing variable is unknown, not "no": GetLocalListVersion (D02, which changes nothing) tells, once; the
        answer is kept. NotImplemented or NotSupported: no list; any other answer: a list.
        """
        outcome = await station.session.call_outcome(GetLocalListVersionRequest(), GetLocalListVersionResponse)
        if isinstance(outcome, CallErrorResponse) and outcome.code in NOT_IMPLEMENTED_CODES:
            supported = False
        elif isinstance(outcome, GetLocalListVersionResponse):
            supported = True
        else:
            raise call_failed(station.station_id, outcome)
        _LOGGER.info(
            "%s: its device model does not say whether it has a local authorization list; asked: %s",
            station.station_id,
            "it has one" if supported else "it has none",
        )
        runtime.remember_probe(LOCAL_AUTH_LIST, supported=supported)
        return supported

    async def _async_send(
        self,
        station: Station,
        state: LocalListState,
        capabilities: LocalListCapabilities,
        *,
        full: bool,
        station_version: int,
    ) -> None:
        station_id = station.station_id
        wanted = wanted_list(self.tokens, station_id, datetime.now(UTC))

        def plan(full: bool) -> list[SendLocalListRequest]:
            return plan_updates(
                state,
                wanted,
                full=full,
                max_items=capabilities.max_items,
                max_bytes=capabilities.max_bytes,
                max_entries=capabilities.max_entries,
                station_version=station_version,
            )

        try:
            requests = plan(full)
        except LocalListTooLargeError as err:
            self._too_large(station_id, state, err)
            raise station_error(
                "local_list_too_large", station_id, entries=str(err.entries), limit=str(err.limit)
            ) from err
        ir.async_delete_issue(self.context.hass, DOMAIN, too_large_issue_id(station_id))
        sent_full = full
        while requests:
            request = requests.pop(0)
            response = await station.session.call(request, SendLocalListResponse)
            if response.status is SendLocalListStatus.ACCEPTED:
                state.apply(request)
                self._save()
                continue
            _LOGGER.debug("%s: SendLocalList(%s) answered %s", station_id, request.update_type, response.status)
            if not sent_full:  # D01.FR.03: the whole list instead
                sent_full = True
                station_version = max(station_version, request.version_number)  # versions only go up
                requests = plan(True)
                continue
            self._set_status(station_id, state, SyncStatus.FAILED)
            raise refused(station_id, "SendLocalList", response.status.value)
        state.synced_at = datetime.now(UTC)
        self._set_status(station_id, state, SyncStatus.IN_SYNC, synced=True)

    async def _async_disable(self, station: Station, state: LocalListState) -> None:
        """The option is off: a list Home Assistant sent is emptied (a Full list without entries, D01.FR.04)."""
        if state.entries:
            request = SendLocalListRequest(version_number=state.version + 1, update_type=Update.FULL)
            response = await station.session.call(request, SendLocalListResponse)
            if response.status is SendLocalListStatus.ACCEPTED:
                state.apply(request)
                state.synced_at = datetime.now(UTC)
                self._save()
        self._set_status(station.station_id, state, SyncStatus.DISABLED)

    @callback
    def _too_large(self, station_id: str, state: LocalListState, err: LocalListTooLargeError) -> None:
        _LOGGER.warning(
            "%s: %d ID tokens do not fit in the station's local list of %d; it was not updated",
            station_id,
            err.entries,
            err.limit,
        )
        ir.async_create_issue(
            self.context.hass,
            DOMAIN,
            too_large_issue_id(station_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="local_list_too_large",
            translation_placeholders={"station": station_id, "entries": str(err.entries), "limit": str(err.limit)},
        )
        self._set_status(station_id, state, SyncStatus.TOO_LARGE)

    @callback
    def _set_status(self, station_id: str, state: LocalListState, status: SyncStatus, *, synced: bool = False) -> None:
        """Keep and show a new status, or a new sync time (`synced`).

        The same status again, as on each reconnect while the option is off, is nothing new.
        """
        if state.status is status and not synced:
            return
        state.status = status
        self._save()
        self.context.signal(station_signal(self.context.entry_id, station_id))

    @callback
    def _save(self) -> None:
        self.store.async_delay_save(self._data, SAVE_DELAY)

    def _data(self) -> dict[str, Any]:
        return {"stations": {station_id: state.to_dict() for station_id, state in self._states.items()}}

    async def async_save_now(self) -> None:
        """Write what the stations hold at once (on unload)."""
        await self.store.async_save(self._data())
