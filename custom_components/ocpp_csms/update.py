"""The station's firmware as an update entity (L01, L02): installed version, offered version, install, progress."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.update import (
    UpdateDeviceClass,
    UpdateEntity,
    UpdateEntityDescription,
    UpdateEntityFeature,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntity, OcppEntityDescription, StationView
from .platform import async_add_station_entities
from .runtime_data import OcppCsmsConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppUpdateEntityDescription(UpdateEntityDescription, OcppEntityDescription):
    """The station's firmware."""


FIRMWARE = OcppUpdateEntityDescription(
    key="firmware",
    translation_key="firmware",
    device_class=UpdateDeviceClass.FIRMWARE,
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the firmware update entity of every trusted station."""
    async_add_station_entities(entry, async_add_entities, OcppFirmwareUpdate, (FIRMWARE,))


def installed_version(view: StationView) -> str | None:
    """The firmware of the station's last BootNotification (or of its inventory, while it is away)."""
    station = view.data.central.stations.get(view.station_id)
    if station is not None and station.boot is not None and station.boot.firmware_version:
        return station.boot.firmware_version
    runtime = view.runtime
    return runtime.inventory_firmware if runtime is not None else None


class OcppFirmwareUpdate(OcppEntity, UpdateEntity):
    """The firmware: an offered firmware (`update_firmware` action) is the latest version; install sends it."""

    entity_description: OcppUpdateEntityDescription
    _attr_supported_features = UpdateEntityFeature.INSTALL | UpdateEntityFeature.PROGRESS

    @property
    @override
    def installed_version(self) -> str | None:
        """The firmware the station runs."""
        return installed_version(self.view)

    @property
    @override
    def latest_version(self) -> str | None:
        """The firmware offered, or the installed one when none is."""
        offer = self.data.firmware.offer(self.station_id)
        return offer.version if offer is not None else self.installed_version

    @property
    @override
    def in_progress(self) -> bool:
        """Whether the station is updating its firmware."""
        update = self.data.firmware.update(self.station_id)
        return update is not None and update.in_progress

    @property
    @override
    def update_percentage(self) -> int | None:
        """How far the update got, from the station's last status."""
        update = self.data.firmware.update(self.station_id)
        return update.progress if update is not None and update.in_progress else None

    @override
    def shown(self) -> object:
        """Versions and progress (they are state attributes, which the base's comparison does not see)."""
        return (self.available, self.installed_version, self.latest_version, self.in_progress, self.update_percentage)

    @override
    async def async_install(self, version: str | None, backup: bool, **kwargs: Any) -> None:
        """Send the offered firmware to the station (UpdateFirmware)."""
        await self.data.firmware.async_install(self.station_id)
