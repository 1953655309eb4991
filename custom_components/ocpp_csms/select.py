"""Selects: writable option-list variables of the device model."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .hub import OcppCsmsHub
from .platform import async_add_variable_entities
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per writable option-list variable."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SELECT}), OcppVariableSelect)


class OcppVariableSelect(OcppVariableEntity, SelectEntity):
    """A writable option-list variable: choosing an option sends SetVariables."""

    def __init__(self, hub: OcppCsmsHub, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """The options from the variable's values list."""
        super().__init__(hub, station_id, key, spec)
        self._attr_options = list(spec.options)

    @property
    def current_option(self) -> str | None:
        """The variable's value, when it is one of the options."""
        value = self.variable_value
        return value if isinstance(value, str) and value in self.spec.options else None

    async def async_select_option(self, option: str) -> None:
        """Write the chosen option."""
        await self.async_write_value(option)
