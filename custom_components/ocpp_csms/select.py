"""Selects: writable option-list variables of the device model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntityDescription
from .platform import async_add_variable_entities
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per writable option-list variable."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SELECT}), OcppVariableSelect)


@dataclass(frozen=True, kw_only=True)
class OcppVariableSelectEntityDescription(SelectEntityDescription, OcppEntityDescription):
    """A writable option-list variable's select."""


class OcppVariableSelect(OcppVariableEntity, SelectEntity):
    """A writable option-list variable: choosing an option sends SetVariables."""

    entity_description: OcppVariableSelectEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """The options from the variable's values list."""
        description = variable_description(OcppVariableSelectEntityDescription, key, spec, options=list(spec.options))
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def current_option(self) -> str | None:
        """The variable's value, when it is one of the options."""
        value = self.variable_value
        return value if isinstance(value, str) and value in self.spec.options else None

    @override
    async def async_select_option(self, option: str) -> None:
        """Write the chosen option."""
        await self.async_write_value(option)
