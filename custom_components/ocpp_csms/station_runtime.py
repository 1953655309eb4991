"""What Home Assistant keeps of each trusted station between messages and restarts: inventory and sessions."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import slugify
from homeassistant.util.hass_dict import HassKey

from .charging.habits import ChargingHabits
from .const import DOMAIN
from .station.device_model import DeviceModel, ReportAssembler
from .station.monitors import StationMonitors
from .station.transactions import TransactionTracker

STORAGE_VERSION = 1
#: Sessions change with every meter value: their writes are coalesced over this many seconds.
SESSION_SAVE_DELAY = 30.0
INVENTORY_SAVE_DELAY = 1.0
#: How long the device models an unloaded entry leaves behind are kept for its next setup (an entry reload).
INVENTORY_CACHE_TTL = 300.0


def _store_key(kind: str, station_id: str) -> str:
    # The slug alone could collide ("CP 1" and "CP-1"); the hex of the id cannot.
    return f"{DOMAIN}.{kind}.{slugify(station_id)}_{station_id.encode().hex()[:16]}"


def _store(hass: HomeAssistant, kind: str, station_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, _store_key(kind, station_id), private=True, atomic_writes=True)


async def async_remove_station_stores(hass: HomeAssistant, station_id: str) -> None:
    """Delete what was stored of a station (its inventory and sessions), loaded or not."""
    InventoryCache.drop_station(hass, station_id)
    for kind in ("inventory", "sessions"):
        await _store(hass, kind, station_id).async_remove()


@dataclass
class StationRuntime:
    """One station's device model inventory and transaction tracker, each persisted in its own store."""

    station_id: str
    inventory_store: Store[dict[str, Any]]
    session_store: Store[dict[str, Any]]
    device_model: DeviceModel = field(default_factory=DeviceModel)
    #: The firmware the inventory was read from: a different one after a boot means reading it again.
    inventory_firmware: str | None = None
    has_inventory: bool = False
    transactions: TransactionTracker = field(default_factory=TransactionTracker)
    assembler: ReportAssembler = field(default_factory=ReportAssembler)
    #: EVSEs the station has reported: their entities exist before the station reconnects.
    known_evses: set[int] = field(default_factory=set)
    #: Our charging profile ids and stack levels at the station (charging.profiles.ProfileAllocator).
    charging_profiles: dict[str, Any] | None = None
    #: What works with the station's smart charging, learnt from its refusals.
    charging_habits: ChargingHabits = field(default_factory=ChargingHabits)
    #: Features its device model does not mention, learnt from how the station answered (e.g. "local_auth_list").
    probed: dict[str, bool] = field(default_factory=dict)
    next_request_id: int = 1
    #: The station's variable monitors known in this run, by id, with their owners (N02-N07).
    monitors: StationMonitors = field(default_factory=StationMonitors)
    #: What was repaired or worked around for this station since Home Assistant started, by kind (diagnostics).
    workarounds: Counter[str] = field(default_factory=Counter)
    #: The inventory as last read or written (model, its revision, firmware): unchanged, it is not written again.
    _stored_inventory: tuple[DeviceModel, int, str | None] | None = field(default=None, repr=False, compare=False)

    def supports(self, feature: str, reported: bool | None) -> bool | None:
        """Whether the station has a feature: as its device model says, else as probing found (None: unknown)."""
        return reported if reported is not None else self.probed.get(feature)

    @callback
    def remember_probe(self, feature: str, supported: bool) -> None:
        """What probing found of a feature the device model does not mention; kept with the sessions."""
        if self.probed.get(feature) is not supported:
            self.probed[feature] = supported
            self.schedule_save_sessions()

    def worked_around(self, kind: str) -> None:
        """Count one workaround of `kind` for the station's diagnostics."""
        self.workarounds[kind] += 1

    @classmethod
    async def async_load(
        cls, hass: HomeAssistant, station_id: str, kept: tuple[DeviceModel, str | None] | None = None
    ) -> StationRuntime:
        """Read what was stored of the station (nothing, for a new one).

        `kept`: the inventory as the entry's last unload saved it (device model, firmware), taken instead of
        reading and parsing the store again.
        """
        inventory_store = _store(hass, "inventory", station_id)
        session_store = _store(hass, "sessions", station_id)
        runtime = cls(station_id, inventory_store, session_store)
        if kept is not None:
            runtime.device_model, runtime.inventory_firmware = kept
            runtime.has_inventory = True
            runtime._stored_inventory = runtime._inventory_state()
        elif inventory := await inventory_store.async_load():
            runtime.device_model = DeviceModel.from_dict(inventory["device_model"])
            runtime.inventory_firmware = inventory.get("firmware")
            runtime.has_inventory = True
            runtime._stored_inventory = runtime._inventory_state()
        if sessions := await session_store.async_load():
            runtime.transactions = TransactionTracker.from_dict(sessions["transactions"])
            runtime.known_evses = set(sessions.get("evses", []))
            runtime.charging_profiles = sessions.get("charging_profiles")
            runtime.charging_habits = ChargingHabits.from_list(sessions.get("charging_habits", ()))
            runtime.probed = dict(sessions.get("probed", {}))
            if not sessions.get("clean"):
                # Saved while running (Home Assistant was killed, or stopped before it could save again): the
                # energy shown before may be ahead of what was saved. Shown again once the register is read.
                runtime.transactions.lifetime.mark_unconfirmed()
        return runtime

    def request_id(self) -> int:
        """A fresh requestId for a report or monitoring request."""
        request_id = self.next_request_id
        self.next_request_id += 1
        return request_id

    @callback
    def schedule_save_inventory(self) -> None:
        """Persist the inventory soon."""
        self.inventory_store.async_delay_save(self._inventory_data, INVENTORY_SAVE_DELAY)

    def _inventory_data(self) -> dict[str, Any]:
        """What is stored of the inventory (taken when it is written, which then counts as stored)."""
        self._stored_inventory = self._inventory_state()
        return {"device_model": self.device_model.to_dict(), "firmware": self.inventory_firmware}

    @callback
    def schedule_save_sessions(self) -> None:
        """Persist the sessions and lifetime energy, coalescing bursts of meter values."""
        self.session_store.async_delay_save(self._sessions_data, SESSION_SAVE_DELAY)

    def _sessions_data(self, *, clean: bool = False) -> dict[str, Any]:
        """What is stored of the sessions; `clean`: saved after the station's connection closed (nothing after)."""
        return {
            "transactions": self.transactions.to_dict(),
            "evses": sorted(self.known_evses),
            "charging_profiles": self.charging_profiles,
            "charging_habits": self.charging_habits.to_list(),
            "probed": self.probed,
            "clean": clean,
        }

    def _inventory_state(self) -> tuple[DeviceModel, int, str | None]:
        return self.device_model, self.device_model.revision, self.inventory_firmware

    def stored_inventory(self) -> tuple[DeviceModel, int, str | None] | None:
        """The inventory exactly as stored (model, its revision then, firmware); None if it changed since."""
        return self._stored_inventory if self.has_inventory and self._inventory_unchanged() else None

    def _inventory_unchanged(self) -> bool:
        stored = self._stored_inventory
        return (
            stored is not None
            and stored[0] is self.device_model
            and stored[1] == self.device_model.revision
            and stored[2] == self.inventory_firmware
        )

    async def async_save_now(self) -> None:
        """Write both stores at once (on unload and stop, after the listeners closed: the last word, clean).

        The inventory only when it changed since it was read or written: an entry reload with a thousand stations
        then serializes a thousand small session records, not a thousand device models.
        """
        if self.has_inventory and not self._inventory_unchanged():
            await self.inventory_store.async_save(self._inventory_data())
        await self.session_store.async_save(self._sessions_data(clean=True))

    async def async_remove(self) -> None:
        """Delete what was stored (the station was forgotten)."""
        InventoryCache.drop_station(self.inventory_store.hass, self.station_id)
        await self.inventory_store.async_remove()
        await self.session_store.async_remove()


class InventoryCache:
    """The device models an unloaded config entry saved, kept for its next setup (issue 19: an entry reload).

    Parsing a thousand stations' inventories again allocates millions of objects, and the garbage collector's
    full collections they set off stall the event loop for most of a second each. The unload keeps each saved
    model (immutable from then on: its connections are closed) with the revision it was saved at; the next setup
    takes it instead of reading the store. A model is served only as it was saved: a model changed after its
    save, a station whose stores were deleted (forgotten, or the entry removed), and everything after
    INVENTORY_CACHE_TTL seconds or once a setup took what it wanted, are read from storage again.
    """

    KEY: Final[HassKey[dict[str, InventoryCache]]] = HassKey(f"{DOMAIN}_inventory_cache")

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Empty; dropped after INVENTORY_CACHE_TTL seconds, or when Home Assistant stops."""
        self._hass = hass
        self._entry_id = entry_id
        self.kept: dict[str, tuple[DeviceModel, int, str | None]] = {}
        self._cancel_expiry: CALLBACK_TYPE = async_call_later(hass, INVENTORY_CACHE_TTL, self._expired)
        self._cancel_stop: CALLBACK_TYPE = hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._stopping)

    @classmethod
    @callback
    def keep(cls, hass: HomeAssistant, entry_id: str, runtimes: Iterable[StationRuntime]) -> None:
        """Keep the inventories of an unloading entry's stations as they were just saved."""
        cls.discard(hass, entry_id)
        if hass.is_stopping:
            return  # no setup follows
        cache = cls(hass, entry_id)
        for runtime in runtimes:
            if (stored := runtime.stored_inventory()) is not None:
                cache.kept[runtime.station_id] = stored
        hass.data.setdefault(cls.KEY, {})[entry_id] = cache

    @classmethod
    @callback
    def take(cls, hass: HomeAssistant, entry_id: str) -> dict[str, tuple[DeviceModel, str | None]]:
        """What the entry's last unload kept, by station, unchanged since; the cache is gone afterwards."""
        cache = hass.data.get(cls.KEY, {}).get(entry_id)
        if cache is None:
            return {}
        cache.drop()
        return {
            station_id: (model, firmware)
            for station_id, (model, revision, firmware) in cache.kept.items()
            if model.revision == revision
        }

    @classmethod
    @callback
    def discard(cls, hass: HomeAssistant, entry_id: str) -> None:
        """Drop what an entry's unload kept (the entry is removed)."""
        if (cache := hass.data.get(cls.KEY, {}).get(entry_id)) is not None:
            cache.drop()

    @classmethod
    @callback
    def drop_station(cls, hass: HomeAssistant, station_id: str) -> None:
        """A station's stores are deleted: no entry serves its kept inventory."""
        for cache in hass.data.get(cls.KEY, {}).values():
            cache.kept.pop(station_id, None)

    @callback
    def drop(self) -> None:
        """No longer kept: out of hass.data, the timer and the stop listener cancelled."""
        self._cancel_expiry()
        self._cancel_stop()
        if self._hass.data.get(self.KEY, {}).get(self._entry_id) is self:
            del self._hass.data[self.KEY][self._entry_id]

    @callback
    def _expired(self, _now: Any) -> None:
        self._cancel_expiry = _nothing  # fired
        self.drop()

    @callback
    def _stopping(self, _event: Event) -> None:
        self._cancel_stop = _nothing  # fired
        self.drop()


def _nothing() -> None:
    """What cancels a timer or listener that has fired."""


#: Stations whose stores are read and parsed at the same time when the entry is set up.
LOAD_CONCURRENCY: Final = 4


class StationRuntimes:
    """The runtimes of the trusted stations, each read from storage once, also when asked for twice at once."""

    def __init__(self, hass: HomeAssistant) -> None:
        """None loaded yet."""
        self._hass = hass
        self._runtimes: dict[str, StationRuntime] = {}
        self._loading: dict[str, asyncio.Future[StationRuntime]] = {}

    def get(self, station_id: str) -> StationRuntime | None:
        """The station's runtime, if it is loaded."""
        return self._runtimes.get(station_id)

    def __getitem__(self, station_id: str) -> StationRuntime:
        """The station's runtime (KeyError when it is not loaded)."""
        return self._runtimes[station_id]

    def __iter__(self) -> Iterator[str]:
        """The ids of the loaded stations."""
        return iter(list(self._runtimes))

    def values(self) -> list[StationRuntime]:
        """Every loaded runtime."""
        return list(self._runtimes.values())

    async def async_load_all(self, station_ids: Iterable[str], kept: dict[str, tuple[DeviceModel, str | None]]) -> None:
        """Load the stations' runtimes at setup, LOAD_CONCURRENCY at a time (`kept`: inventories already read).

        `kept` holds the inventories the entry's last unload kept, by station. All at once, a fleet's stores (a
        device model is some 85 kB of JSON) would be read and parsed together: their parsed forms alive at the
        same time, and the memory they took left fragmented around what stays.
        """
        waiting = iter(list(station_ids))

        async def load_next() -> None:
            for station_id in waiting:  # shared: each station is taken by one of the loaders
                await self.async_get(station_id, kept.get(station_id))

        await asyncio.gather(*(load_next() for _ in range(LOAD_CONCURRENCY)))

    async def async_get(self, station_id: str, kept: tuple[DeviceModel, str | None] | None = None) -> StationRuntime:
        """The station's runtime, read from storage the first time (`kept`: its inventory, already read)."""
        if (runtime := self._runtimes.get(station_id)) is not None:
            return runtime
        if (loading := self._loading.get(station_id)) is not None:
            return await loading
        loading = self._hass.loop.create_future()
        self._loading[station_id] = loading
        try:
            runtime = await StationRuntime.async_load(self._hass, station_id, kept)
        except BaseException as err:
            loading.set_exception(err)
            loading.exception()  # retrieved: the error is raised to this caller
            raise
        finally:
            del self._loading[station_id]
        self._runtimes[station_id] = runtime
        loading.set_result(runtime)
        return runtime

    async def async_forget(self, station_id: str) -> None:
        """Delete what was stored of a station that is no longer trusted."""
        if (runtime := self._runtimes.pop(station_id, None)) is not None:
            await runtime.async_remove()
        else:
            await async_remove_station_stores(self._hass, station_id)

    async def async_save_now(self) -> None:
        """Write every runtime at once (on unload)."""
        await asyncio.gather(*(runtime.async_save_now() for runtime in self._runtimes.values()))
