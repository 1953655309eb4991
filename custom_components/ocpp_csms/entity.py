"""Base entity: one station's entity, available while the station is connected."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity, EntityDescription

from .const import DOMAIN
from .csms.station import Station
from .hub import OcppCsmsHub, station_signal


class OcppStationEntity(Entity):
    """An entity of a station: updated by the station's signal, never polled."""

    _attr_has_entity_name = True
    _attr_should_poll = False

    def __init__(self, hub: OcppCsmsHub, station_id: str, description: EntityDescription) -> None:
        """Attach the entity to the station's device."""
        self.hub = hub
        self.station_id = station_id
        self.entity_description = description
        self._attr_unique_id = f"{station_id}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, station_id)})

    @property
    def station(self) -> Station:
        """The central system's object for this station."""
        return self.hub.central.station(self.station_id)

    @property
    def available(self) -> bool:
        """Available while the station is connected."""
        return self.station.connected

    async def async_added_to_hass(self) -> None:
        """Follow the station's changes."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, station_signal(self.hub.entry.entry_id, self.station_id), self._handle_station_update
            )
        )

    @callback
    def _handle_station_update(self) -> None:
        self.async_write_ha_state()
