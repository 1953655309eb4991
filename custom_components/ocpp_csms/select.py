"""Selects: writable option-list variables of the device model, and the station's monitoring level (N05)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .entity import OcppEntity, OcppEntityDescription
from .platform import async_add_station_entities, async_add_variable_entities
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .signals import variables_signal
from .station.device_model import VariableKey
from .station.monitors import SEVERITY_LEVELS
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a select per writable option-list variable, and each station's monitoring level."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SELECT}), OcppVariableSelect)
    async_add_station_entities(entry, async_add_entities, OcppMonitoringLevelSelect, (MONITORING_LEVEL,))


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


# ---- station management (N05: monitoring level) ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OcppSelectEntityDescription(SelectEntityDescription, OcppEntityDescription):
    """A select of a station."""


MONITORING_LEVEL = OcppSelectEntityDescription(
    key="monitoring_level",
    translation_key="monitoring_level",
    entity_category=EntityCategory.CONFIG,
    options=list(SEVERITY_LEVELS),
)


class OcppMonitoringLevelSelect(OcppEntity, SelectEntity):
    """Which monitoring events the station reports: those this severe or more (SetMonitoringLevel, N05)."""

    entity_description: OcppSelectEntityDescription

    @override
    def update_signals(self) -> tuple[SignalType[()], ...]:
        """The station's, and its variables' (MonitoringCtrlr.ActiveMonitoringLevel)."""
        return (*super().update_signals(), variables_signal(self.data.context.entry_id, self.station_id))

    @property
    @override
    def current_option(self) -> str | None:
        """The level the station reports, or the one last set."""
        level = self.data.monitoring.level(self.station_id)
        return SEVERITY_LEVELS[level] if level is not None and 0 <= level < len(SEVERITY_LEVELS) else None

    @override
    async def async_select_option(self, option: str) -> None:
        """Set the level."""
        await self.data.monitoring.async_set_level(self.station_id, SEVERITY_LEVELS.index(option))
