"""Switches: writable boolean variables of the device model."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .platform import async_add_variable_entities
from .station.variable_kinds import EntityKind
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch per writable boolean variable."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SWITCH}), OcppVariableSwitch)


class OcppVariableSwitch(OcppVariableEntity, SwitchEntity):
    """A writable boolean variable: turning it on or off sends SetVariables."""

    @property
    def is_on(self) -> bool | None:
        """The variable's value."""
        value = self.variable_value
        return value if isinstance(value, bool) else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the variable to true."""
        await self.async_write_value(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Set the variable to false."""
        await self.async_write_value(False)
