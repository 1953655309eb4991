"""What every entity platform does: add entities per trusted station, per EVSE and per reported variable.

The entry's entity detail option decides which: under `essential` only the essential station and EVSE entities
are added, and no variable entities.

Entities of trusted stations exist from setup on (restored from storage), before the station reconnects; new ones
are added when a station is approved, reports a new EVSE, or reports its inventory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .entity_detail import ESSENTIAL_EVSE_KEYS, ESSENTIAL_STATION_KEYS, EntityDetail, entity_detail, keep
from .hub import OcppCsmsHub, new_station_signal
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec, describe
from .station_messages import inventory_signal, new_evse_signal


@callback
def _add(hub: OcppCsmsHub, async_add_entities: AddConfigEntryEntitiesCallback, entities: list[Entity]) -> None:
    """Add entities; Home Assistant's limit of enabled entities is checked once the burst is in."""
    async_add_entities(entities)
    hub.entity_limit.schedule()


@callback
def async_add_station_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[OcppCsmsHub, str], Iterable[Entity]],
) -> None:
    """Add `entities_for(hub, station_id)` for every trusted station, and for each station trusted later."""
    hub = entry.runtime_data
    detail = entity_detail(entry)

    @callback
    def add_station(station_id: str) -> None:
        hub.ensure_station_device(station_id)
        hub.stations_with_entities.add(station_id)
        _add(hub, async_add_entities, keep(entities_for(hub, station_id), detail, ESSENTIAL_STATION_KEYS))

    for record in hub.registry:
        add_station(record.station_id)
    entry.async_on_unload(async_dispatcher_connect(hub.hass, new_station_signal(entry.entry_id), add_station))


@callback
def async_add_evse_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[OcppCsmsHub, str, int], Iterable[Entity]],
) -> None:
    """Add `entities_for(hub, station_id, evse_id)` for every known EVSE, and for each EVSE reported later."""
    hub = entry.runtime_data
    detail = entity_detail(entry)
    added: set[tuple[str, int]] = set()

    @callback
    def add_evse(station_id: str, evse_id: int) -> None:
        if (station_id, evse_id) in added or station_id not in hub.registry:
            return
        added.add((station_id, evse_id))
        hub.ensure_evse(station_id, evse_id)
        _add(hub, async_add_entities, keep(entities_for(hub, station_id, evse_id), detail, ESSENTIAL_EVSE_KEYS))

    for station_id, runtime in hub.runtimes.items():
        for evse_id in sorted(runtime.known_evses):
            add_evse(station_id, evse_id)
    entry.async_on_unload(async_dispatcher_connect(hub.hass, new_evse_signal(entry.entry_id), add_evse))


@callback
def async_add_variable_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    kinds: frozenset[EntityKind],
    entity_for: Callable[[OcppCsmsHub, str, VariableKey, EntitySpec], Entity],
) -> None:
    """Add an entity for every inventory variable of the given kinds, now and when inventories change."""
    if entity_detail(entry) is EntityDetail.ESSENTIAL:
        return
    hub = entry.runtime_data
    added: set[tuple[str, str]] = set()

    @callback
    def add_variables(station_id: str) -> None:
        runtime = hub.runtimes.get(station_id)
        if runtime is None or station_id not in hub.registry:
            return
        new: list[Entity] = []
        for key, info in runtime.device_model.items():
            if (station_id, key.slug) in added:
                continue
            spec = describe(key, info)
            if spec.kind in kinds:
                added.add((station_id, key.slug))
                if key.evse_id:
                    hub.ensure_evse(station_id, key.evse_id)  # its device, before the entity refers to it
                new.append(entity_for(hub, station_id, key, spec))
        if new:
            _add(hub, async_add_entities, new)

    for station_id in list(hub.runtimes):
        add_variables(station_id)
    entry.async_on_unload(async_dispatcher_connect(hub.hass, inventory_signal(entry.entry_id), add_variables))
