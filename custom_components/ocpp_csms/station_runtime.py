"""What Home Assistant keeps of each trusted station between messages and restarts: inventory and sessions."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import slugify

from .charging.habits import ChargingHabits
from .const import DOMAIN
from .station.device_model import DeviceModel, ReportAssembler
from .station.monitors import StationMonitors
from .station.transactions import TransactionTracker

STORAGE_VERSION = 1
#: Sessions change with every meter value: their writes are coalesced over this many seconds.
SESSION_SAVE_DELAY = 30.0
INVENTORY_SAVE_DELAY = 1.0


def _store_key(kind: str, station_id: str) -> str:
    # The slug alone could collide ("CP 1" and "CP-1"); the hex of the id cannot.
    return f"{DOMAIN}.{kind}.{slugify(station_id)}_{station_id.encode().hex()[:16]}"


def _store(hass: HomeAssistant, kind: str, station_id: str) -> Store[dict[str, Any]]:
    return Store(hass, STORAGE_VERSION, _store_key(kind, station_id), private=True, atomic_writes=True)


async def async_remove_station_stores(hass: HomeAssistant, station_id: str) -> None:
    """Delete what was stored of a station (its inventory and sessions), loaded or not."""
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
    async def async_load(cls, hass: HomeAssistant, station_id: str) -> StationRuntime:
        """Read what was stored of the station (nothing, for a new one)."""
        inventory_store = _store(hass, "inventory", station_id)
        session_store = _store(hass, "sessions", station_id)
        runtime = cls(station_id, inventory_store, session_store)
        if inventory := await inventory_store.async_load():
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
        await self.inventory_store.async_remove()
        await self.session_store.async_remove()


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

    async def async_get(self, station_id: str) -> StationRuntime:
        """The station's runtime, read from storage the first time."""
        if (runtime := self._runtimes.get(station_id)) is not None:
            return runtime
        if (loading := self._loading.get(station_id)) is not None:
            return await loading
        loading = self._hass.loop.create_future()
        self._loading[station_id] = loading
        try:
            runtime = await StationRuntime.async_load(self._hass, station_id)
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
