"""Base of the control surface's entities of an EVSE (or, with EVSE 0, of the station)."""

from __future__ import annotations

from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import EntityDescription

from .charging_control import charging_signal
from .const import DOMAIN
from .entity import OcppStationEntity
from .hub import OcppCsmsHub, evse_identifier
from .station_messages import evse_signal


class OcppEvseControlEntity(OcppStationEntity):
    """An entity of an EVSE's (or the station's) control surface, following sessions and limits."""

    def __init__(self, hub: OcppCsmsHub, station_id: str, evse_id: int, description: EntityDescription) -> None:
        """Attach to the EVSE's device (the station's for EVSE 0)."""
        super().__init__(hub, station_id, description)
        self.evse_id = evse_id
        self._shown: tuple[object, ...] | None = None
        if evse_id > 0:
            self._attr_unique_id = f"{station_id}_evse_{evse_id}_{description.key}"
            self._attr_device_info = DeviceInfo(identifiers={(DOMAIN, evse_identifier(station_id, evse_id))})

    async def async_added_to_hass(self) -> None:
        """Follow the EVSE's session and its limits too."""
        await super().async_added_to_hass()
        entry_id = self.hub.entry.entry_id
        for signal in (
            charging_signal(entry_id, self.station_id, self.evse_id),
            evse_signal(entry_id, self.station_id, self.evse_id),
        ):
            self.async_on_remove(async_dispatcher_connect(self.hass, signal, self._handle_control_update))

    @callback
    def _handle_control_update(self, *_args: object) -> None:
        """Write the state only when it changed: meter values reach these entities too."""
        shown = (self.available, self.state, self.extra_state_attributes)
        if shown != self._shown:
            self._shown = shown
            self.async_write_ha_state()
