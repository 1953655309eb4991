"""The devices of stations and their EVSEs: created from what stations report, removed with the station."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.core import callback
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, EVSE_SEPARATOR
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .signals import evse_signal, new_evse_signal, new_station_signal, station_removed_signal
from .station.transactions import MAX_EVSES

_LOGGER = logging.getLogger(__name__)


def evse_identifier(station_id: str, evse_id: int) -> str:
    """Device registry identifier of an EVSE of a station."""
    return f"{station_id}{EVSE_SEPARATOR}{evse_id}"


def device_identifier(station_id: str, evse_id: int = 0) -> tuple[str, str]:
    """The device registry identifier of a station (EVSE 0 or below) or of one of its EVSEs."""
    return (DOMAIN, evse_identifier(station_id, evse_id) if evse_id > 0 else station_id)


class StationDevices(StationListener):
    """A device per trusted station (from its BootNotification) and per EVSE it reports, below the station's."""

    def __init__(self, context: StationContext) -> None:
        """No EVSE introduced yet in this run."""
        self.context = context
        self._evses: set[tuple[str, int]] = set()
        self._too_many: set[str] = set()

    # ---- what stations report -------------------------------------------------------------------------

    @callback
    def station_booted(self, station: Station) -> None:
        """Create or update the station's device; its entities are added unless they exist."""
        self.ensure_station(station.station_id)
        self.context.signal(new_station_signal(self.context.entry_id), station.station_id)

    @callback
    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """A trusted station's EVSE gets its device and entities the first time it is reported."""
        if station.station_id in self.context.central.registry:
            self.evse_changed(station.station_id, evse_id)

    @callback
    def evse_changed(self, station_id: str, evse_id: int) -> None:
        """Show an EVSE's new state, introducing the EVSE the first time (EVSE 0, the station, is none)."""
        if evse_id <= 0:
            return
        self.evse_reported(station_id, evse_id)
        self.context.signal(evse_signal(self.context.entry_id, station_id, evse_id))

    @callback
    def evse_reported(self, station_id: str, evse_id: int) -> None:
        """The EVSE's device and entities, created the first time the EVSE is reported."""
        if (station_id, evse_id) in self._evses:
            return
        runtime = self.context.runtimes.get(station_id)
        if runtime is not None and evse_id not in runtime.known_evses and len(runtime.known_evses) >= MAX_EVSES:
            if station_id not in self._too_many:
                self._too_many.add(station_id)
                _LOGGER.warning(
                    "%s: reports more than %d EVSEs; EVSE %d and further ones get no device",
                    station_id,
                    MAX_EVSES,
                    evse_id,
                )
            return
        self.ensure_evse(station_id, evse_id)
        if runtime is not None and evse_id not in runtime.known_evses:
            runtime.known_evses.add(evse_id)
            runtime.schedule_save_sessions()
        self.context.signal(new_evse_signal(self.context.entry_id), station_id, evse_id)

    # ---- the device registry ------------------------------------------------------------------------------

    @callback
    def ensure_station(self, station_id: str) -> dr.DeviceEntry:
        """The station's device, created or updated from the last BootNotification."""
        station = self.context.central.stations.get(station_id)
        boot = station.boot if station else None
        details: dict[str, Any] = {}
        if boot is not None:
            details = {
                "manufacturer": boot.vendor,
                "model": boot.model,
                "serial_number": boot.serial_number,
                "sw_version": boot.firmware_version,
            }
        return dr.async_get(self.context.hass).async_get_or_create(
            config_entry_id=self.context.entry_id,
            identifiers={device_identifier(station_id)},
            name=station_id,
            **details,
        )

    @callback
    def ensure_evse(self, station_id: str, evse_id: int) -> dr.DeviceEntry:
        """An EVSE's device, a child of the station's device."""
        parent = self.ensure_station(station_id)
        device = dr.async_get(self.context.hass).async_get_or_create(
            config_entry_id=self.context.entry_id,
            identifiers={device_identifier(station_id, evse_id)},
            name=f"{station_id} EVSE {evse_id}",
            manufacturer=parent.manufacturer,
            model=parent.model,
            via_device_id=parent.id,
        )
        self._evses.add((station_id, evse_id))
        return device

    @callback
    def remove_station(self, station_id: str) -> None:
        """Remove the devices of a forgotten station's EVSEs (their entities go with them)."""
        registry = dr.async_get(self.context.hass)
        prefix = f"{station_id}{EVSE_SEPARATOR}"
        for device in dr.async_entries_for_config_entry(registry, self.context.entry_id):
            if any(domain == DOMAIN and ident.startswith(prefix) for domain, ident in device.identifiers):
                registry.async_remove_device(device.id)
        self._evses = {(station, evse) for station, evse in self._evses if station != station_id}
        self.context.signal(station_removed_signal(self.context.entry_id), station_id)
