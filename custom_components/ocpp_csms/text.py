"""Texts: writable string and list variables of the device model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.text import TextEntity, TextEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntityDescription
from .helpers import user_error
from .platform import async_add_variable_entities
from .protocol.v201.enums import Data
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .value_names import list_members, readable_list
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 1
#: attributeValue is a string[1000] (SetVariableDataType).
MAX_VALUE_LENGTH = 1000
LIST_TYPES = frozenset({Data.MEMBER_LIST, Data.SEQUENCE_LIST})


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a text per writable string variable."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.TEXT}), OcppVariableText)


@dataclass(frozen=True, kw_only=True)
class OcppVariableTextEntityDescription(TextEntityDescription, OcppEntityDescription):
    """A writable string variable's text."""


class OcppVariableText(OcppVariableEntity, TextEntity):
    """A writable string variable: setting it sends SetVariables."""

    entity_description: OcppVariableTextEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """The length the variable allows (maxLimit is a string's length), at most the message's."""
        native_max = int(spec.max_value) if spec.max_value else MAX_VALUE_LENGTH
        description = variable_description(OcppVariableTextEntityDescription, key, spec, native_max=native_max)
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def native_value(self) -> str | None:
        """The variable's value; a list by its members' names (`EV connected, Power path closed`)."""
        value = self.variable_value
        if isinstance(value, tuple):
            return readable_list(value)
        return None if value is None else str(value)

    @override
    async def async_set_value(self, value: str) -> None:
        """Write the new text; a list's members may be given by name or OCPP value."""
        info = self.info
        data_type = info.characteristics.data_type if info and info.characteristics else None
        if data_type not in LIST_TYPES:
            await self.async_write_value(value)
            return
        members = list_members(value)
        if not members:  # e.g. TxUpdatedMeasurands: never leave the station with nothing to sample
            raise user_error("empty_list", variable=self.key.variable)
        await self.async_write_value(members)
