"""Buttons: rotate a station's password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .control_entity import OcppEvseControlEntity
from .entity import OcppStationEntity
from .hub import OcppCsmsHub
from .platform import async_add_evse_entities, async_add_station_entities
from .protocol.v201.enums import Reset

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppButtonEntityDescription(ButtonEntityDescription):
    """What pressing the button does to the station."""

    press_fn: Callable[[OcppCsmsHub, str], Awaitable[object]]


STATION_BUTTONS: tuple[OcppButtonEntityDescription, ...] = (
    OcppButtonEntityDescription(
        key="rotate_password",
        translation_key="rotate_password",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda hub, station_id: hub.async_rotate_password(station_id),
    ),
    OcppButtonEntityDescription(
        key="reset_on_idle",
        translation_key="reset_on_idle",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda hub, station_id: hub.commands.async_reset(station_id, Reset.ON_IDLE),
    ),
    OcppButtonEntityDescription(
        key="reset_immediate",
        translation_key="reset_immediate",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        press_fn=lambda hub, station_id: hub.commands.async_reset(station_id, Reset.IMMEDIATE),
    ),
)


@dataclass(frozen=True, kw_only=True)
class OcppEvseButtonEntityDescription(ButtonEntityDescription):
    """What pressing the button does to the EVSE."""

    press_fn: Callable[[OcppCsmsHub, str, int], Awaitable[object]]


EVSE_BUTTONS: tuple[OcppEvseButtonEntityDescription, ...] = (
    OcppEvseButtonEntityDescription(
        key="unlock_connector",
        translation_key="unlock_connector",
        press_fn=lambda hub, station_id, evse_id: hub.commands.async_unlock(station_id, evse_id),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every trusted station, now and as stations are approved."""
    async_add_station_entities(
        entry,
        async_add_entities,
        lambda hub, station_id: [OcppButton(hub, station_id, description) for description in STATION_BUTTONS],
    )
    async_add_evse_entities(
        entry,
        async_add_entities,
        lambda hub, station_id, evse_id: [
            OcppEvseButton(hub, station_id, evse_id, description) for description in EVSE_BUTTONS
        ],
    )


class OcppButton(OcppStationEntity, ButtonEntity):
    """A button of a station."""

    entity_description: OcppButtonEntityDescription

    async def async_press(self) -> None:
        """Do what the button says."""
        await self.entity_description.press_fn(self.hub, self.station_id)


class OcppEvseButton(OcppEvseControlEntity, ButtonEntity):
    """A button of an EVSE."""

    entity_description: OcppEvseButtonEntityDescription

    async def async_press(self) -> None:
        """Do what the button says."""
        await self.entity_description.press_fn(self.hub, self.station_id, self.evse_id)
