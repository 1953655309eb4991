"""Buttons: rotate a station's password."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .entity import OcppStationEntity
from .hub import OcppCsmsHub
from .platform import async_add_station_entities

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppButtonEntityDescription(ButtonEntityDescription):
    """What pressing the button does to the station."""

    press_fn: Callable[[OcppCsmsHub, str], Awaitable[None]]


STATION_BUTTONS: tuple[OcppButtonEntityDescription, ...] = (
    OcppButtonEntityDescription(
        key="rotate_password",
        translation_key="rotate_password",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda hub, station_id: hub.async_rotate_password(station_id),
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


class OcppButton(OcppStationEntity, ButtonEntity):
    """A button of a station."""

    entity_description: OcppButtonEntityDescription

    async def async_press(self) -> None:
        """Do what the button says."""
        await self.entity_description.press_fn(self.hub, self.station_id)
