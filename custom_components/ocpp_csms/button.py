"""Buttons: a station's password rotation, resets, authorization cache and inventory refresh; unlocking a connector."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.components.button.const import ButtonDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntity, OcppEntityDescription, StationView
from .platform import async_add_evse_entities, async_add_station_entities
from .protocol.v201.enums import Reset
from .runtime_data import OcppCsmsConfigEntry

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OcppButtonEntityDescription(ButtonEntityDescription, OcppEntityDescription):
    """What pressing the button does to the station or the EVSE."""

    press_fn: Callable[[StationView], Awaitable[object]]


STATION_BUTTONS: tuple[OcppButtonEntityDescription, ...] = (
    OcppButtonEntityDescription(
        key="rotate_password",
        translation_key="rotate_password",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda view: view.data.trust.async_rotate_password(view.station_id),
    ),
    OcppButtonEntityDescription(
        key="reset_on_idle",
        translation_key="reset_on_idle",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda view: view.data.commands.async_reset(view.station_id, Reset.ON_IDLE),
    ),
    OcppButtonEntityDescription(
        key="reset_immediate",
        translation_key="reset_immediate",
        device_class=ButtonDeviceClass.RESTART,
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        press_fn=lambda view: view.data.commands.async_reset(view.station_id, Reset.IMMEDIATE),
    ),
    OcppButtonEntityDescription(
        key="refresh_inventory",
        translation_key="refresh_inventory",
        entity_category=EntityCategory.CONFIG,
        press_fn=lambda view: view.data.inventory.async_refresh(view.station_id),
    ),
)
#: ClearCache (C11): the station forgets the tokens it cached (the local list stays).
CLEAR_CACHE = OcppButtonEntityDescription(
    key="clear_cache",
    translation_key="clear_cache",
    entity_category=EntityCategory.CONFIG,
    press_fn=lambda view: view.data.authorization.async_clear_cache(view.station_id),
)
EVSE_BUTTONS: tuple[OcppButtonEntityDescription, ...] = (
    OcppButtonEntityDescription(
        key="unlock_connector",
        translation_key="unlock_connector",
        press_fn=lambda view: view.data.commands.async_unlock(view.station_id, view.evse_id),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the buttons of every trusted station and EVSE, now and as they appear."""
    async_add_station_entities(entry, async_add_entities, OcppButton, STATION_BUTTONS)
    async_add_station_entities(entry, async_add_entities, OcppButton, (CLEAR_CACHE,))
    async_add_evse_entities(entry, async_add_entities, OcppButton, EVSE_BUTTONS)


class OcppButton(OcppEntity, ButtonEntity):
    """A button of a station or an EVSE."""

    entity_description: OcppButtonEntityDescription

    @override
    async def async_press(self) -> None:
        """Do what the button says."""
        await self.entity_description.press_fn(self.view)
