"""What every entity platform does: add entities per trusted station, per EVSE and per reported variable.

Entities of trusted stations exist from setup on (restored from storage), before the station reconnects; new ones
are added when a station is accepted, reports a new EVSE, or reports its inventory. A description whose `has_fn`
refuses the entry's entity detail (`essential`) makes no entity, and its registry entry, left from `full`, goes. One
whose `supported_fn` says the station cannot do it (yet) makes none until the station's inventory says it can.

A fleet's entities are added (entity_steps.py), and removed on unload, ENTITY_STEP per event-loop turn: Home
Assistant adds and removes a platform's entities without yielding, and thousands of them (an entry reload of a
thousand stations) would stall every station's messages for seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import (
    AddConfigEntryEntitiesCallback,
    async_get_current_platform,
    async_get_platforms,
)

from .const import DOMAIN
from .entity import OcppEntity, OcppEntityDescription, StationView, always, unique_id
from .entity_detail import EntityDetail
from .entity_steps import ENTITY_STEP
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .signals import inventory_signal, new_evse_signal, new_station_signal, station_removed_signal
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec, describe
from .variable_entity import VARIABLE_INFIX

type EntityFactory = Callable[..., OcppEntity]
"""An entity class: `(data=, station_id=, evse_id=, description=)`."""


class _EntityAdder:
    """Adds a platform's entities of one config entry, each (station, EVSE, key) once until its station goes."""

    def __init__(self, entry: OcppCsmsConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback) -> None:
        self.data: OcppCsmsRuntimeData = entry.runtime_data
        self.domain = async_get_current_platform().domain
        self.async_add_entities = async_add_entities
        self.detail = self.data.entity_detail
        self.added: set[tuple[str, int, str]] = set()
        self.data.platform_listeners.append(
            async_dispatcher_connect(
                entry.runtime_data.context.hass, station_removed_signal(entry.entry_id), self._station_removed
            )
        )

    @callback
    def _station_removed(self, station_id: str) -> None:
        """A forgotten station may be approved again and then gets its entities again."""
        self.added = {added for added in self.added if added[0] != station_id}

    @callback
    def add(
        self,
        station_id: str,
        evse_id: int,
        factory: EntityFactory,
        descriptions: Iterable[OcppEntityDescription],
        **extra: Any,
    ) -> None:
        """Add the entities of the descriptions the entity detail keeps, and drop the registry entries of the rest."""
        new: list[OcppEntity] = []
        for description in descriptions:
            key = (station_id, evse_id, description.key)
            if key in self.added:
                continue
            if not description.has_fn(self.detail):
                self.remove_registry_entry(unique_id(station_id, evse_id, description.key))
                continue
            if not description.supported_fn(StationView(self.data, station_id, evse_id)):
                continue  # asked again when the station's inventory arrives
            self.added.add(key)
            new.append(
                factory(data=self.data, station_id=station_id, evse_id=evse_id, description=description, **extra)
            )
        self.add_entities(new)

    @callback
    def add_entities(self, entities: list[OcppEntity]) -> None:
        """Add entities in the entry's steps; the limit of enabled entities is checked once the burst is in."""
        if entities:
            self.data.entity_steps.add(self.data.context.hass, self.async_add_entities, entities)
            self.data.entity_limit.schedule()

    @callback
    def remove_registry_entry(self, entity_unique_id: str) -> None:
        """Remove the registry entry of an entity this platform no longer adds."""
        registry = er.async_get(self.data.context.hass)
        if entity_id := registry.async_get_entity_id(self.domain, DOMAIN, entity_unique_id):
            registry.async_remove(entity_id)

    @callback
    def remove_variable_entries(self, entry_id: str) -> None:
        """Remove the registry entries of this platform's variable entities (the essential detail has none)."""
        registry = er.async_get(self.data.context.hass)
        for registry_entry in er.async_entries_for_config_entry(registry, entry_id):
            if registry_entry.domain == self.domain and self._is_variable_entity(registry_entry.unique_id):
                registry.async_remove(registry_entry.entity_id)

    def _is_variable_entity(self, entity_unique_id: str) -> bool:
        """Whether a unique id is `{trusted station id}_var_{slug}` (station ids may contain `_var_` too)."""
        start = 0
        while (found := entity_unique_id.find(VARIABLE_INFIX, start)) != -1:
            if entity_unique_id[:found] in self.data.registry:
                return True
            start = found + 1
        return False


@callback
def async_add_station_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: EntityFactory,
    descriptions: Iterable[OcppEntityDescription],
    *,
    evse_id: int = 0,
) -> None:
    """An entity per description for every trusted station, and for each station trusted later.

    `evse_id` 0 attaches them to the station; `STATION_CAP` makes them the station-wide cap's.
    """
    adder = _EntityAdder(entry, async_add_entities)
    descriptions = tuple(descriptions)

    @callback
    def add_station(station_id: str) -> None:
        if station_id not in adder.data.registry:
            return
        adder.data.devices.ensure_station(station_id)
        adder.add(station_id, evse_id, factory, descriptions)

    hass = adder.data.context.hass
    adder.data.entity_steps.each_station(hass, add_station, [record.station_id for record in adder.data.registry])
    adder.data.platform_listeners.append(
        async_dispatcher_connect(adder.data.context.hass, new_station_signal(entry.entry_id), add_station)
    )


@callback
def async_add_evse_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    factory: EntityFactory,
    descriptions: Iterable[OcppEntityDescription],
) -> None:
    """An entity per description for every known EVSE, and for each EVSE reported later."""
    adder = _EntityAdder(entry, async_add_entities)
    descriptions = tuple(descriptions)

    @callback
    def add_evse(station_id: str, evse_id: int) -> None:
        if station_id not in adder.data.registry:
            return
        adder.data.devices.evse_reported(station_id, evse_id)
        adder.add(station_id, evse_id, factory, descriptions)

    @callback
    def inventory_arrived(station_id: str) -> None:
        if (runtime := adder.data.runtimes.get(station_id)) is not None:
            for evse_id in sorted(runtime.known_evses):
                add_evse(station_id, evse_id)

    hass = adder.data.context.hass
    adder.data.entity_steps.each_station(hass, inventory_arrived, list(adder.data.runtimes))
    adder.data.platform_listeners.append(async_dispatcher_connect(hass, new_evse_signal(entry.entry_id), add_evse))
    if any(description.supported_fn is not always for description in descriptions):
        adder.data.platform_listeners.append(
            async_dispatcher_connect(hass, inventory_signal(entry.entry_id), inventory_arrived)
        )


type VariableEntityFactory = Callable[[OcppCsmsRuntimeData, str, VariableKey, EntitySpec], OcppEntity]


@callback
def async_add_variable_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    kinds: frozenset[EntityKind],
    factory: VariableEntityFactory,
) -> None:
    """An entity for every inventory variable of the given kinds, now and when inventories change.

    Under the essential entity detail there are none: the registry entries left from `full` are removed.
    """
    adder = _EntityAdder(entry, async_add_entities)
    if adder.detail is EntityDetail.ESSENTIAL:
        adder.remove_variable_entries(entry.entry_id)
        return

    @callback
    def add_variables(station_id: str) -> None:
        runtime = adder.data.runtimes.get(station_id)
        if runtime is None or station_id not in adder.data.registry:
            return
        new: list[OcppEntity] = []
        for key, info in runtime.device_model.items():
            spec = describe(key, info)
            if spec.kind not in kinds or (station_id, 0, key.slug) in adder.added:
                continue
            adder.added.add((station_id, 0, key.slug))
            if key.evse_id:
                adder.data.devices.evse_reported(station_id, key.evse_id)  # its device, before the entity refers to it
            new.append(factory(adder.data, station_id, key, spec))
        adder.add_entities(new)

    for station_id in adder.data.runtimes:
        add_variables(station_id)
    adder.data.platform_listeners.append(
        async_dispatcher_connect(adder.data.context.hass, inventory_signal(entry.entry_id), add_variables)
    )


async def async_remove_entities_in_steps(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> None:
    """Remove the entry's entities ENTITY_STEP per event-loop turn (on unload, before Home Assistant's own reset).

    Their registry entries stay: they are added again as they were when the entry is set up again.
    """
    for entity_platform in async_get_platforms(hass, DOMAIN):
        if entity_platform.config_entry is not entry:
            continue
        entities = list(entity_platform.entities.values())
        for start in range(0, len(entities), ENTITY_STEP):
            for entity in entities[start : start + ENTITY_STEP]:
                await entity.async_remove()
            await asyncio.sleep(0)
