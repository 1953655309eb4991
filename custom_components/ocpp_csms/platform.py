"""What every entity platform does: add the entities of each trusted station, now and when one is approved."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .hub import OcppCsmsHub, new_station_signal


@callback
def async_add_station_entities(
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[OcppCsmsHub, str], Iterable[Entity]],
) -> None:
    """Add `entities_for(hub, station_id)` for every trusted station, and for each station trusted later."""
    hub = entry.runtime_data

    @callback
    def add_station(station_id: str) -> None:
        hub.ensure_station_device(station_id)
        hub.stations_with_entities.add(station_id)
        async_add_entities(entities_for(hub, station_id))

    for record in hub.registry:
        add_station(record.station_id)
    entry.async_on_unload(
        async_dispatcher_connect(entry.runtime_data.hass, new_station_signal(entry.entry_id), add_station)
    )
