"""Selects: writable option-list variables, the station's monitoring level (N05), each EVSE's charging mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .energy.model import ChargingMode, PhaseSetting
from .entity import OcppEntity, OcppEntityDescription, StationView, always, essential
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
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
    async_add_evse_entities(entry, async_add_entities, OcppEnergySelect, ENERGY_SELECTS)


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


# ---- the energy manager: each EVSE's charging mode, and its phases where the station can switch them ---------


@dataclass(frozen=True, kw_only=True)
class OcppEnergySelectEntityDescription(SelectEntityDescription, OcppEntityDescription):
    """An energy manager setting of an EVSE: `setting` is the EvseSettings field, `parse` makes its value."""

    setting: str
    parse: Callable[[str], ChargingMode | PhaseSetting]


def _phase_switching(view: StationView) -> bool:
    return view.data.energy.phase_switching(view.station_id, view.evse_id)


ENERGY_SELECTS: tuple[OcppEnergySelectEntityDescription, ...] = (
    OcppEnergySelectEntityDescription(
        key="charging_mode",
        translation_key="charging_mode",
        options=[mode.value for mode in ChargingMode],
        setting="mode",
        parse=ChargingMode,
        available_fn=always,
        has_fn=essential,
        energy=True,
    ),
    OcppEnergySelectEntityDescription(
        key="charging_phases",
        translation_key="charging_phases",
        entity_category=EntityCategory.CONFIG,
        options=[setting.value for setting in PhaseSetting],
        setting="phases",
        parse=PhaseSetting,
        available_fn=always,
        supported_fn=_phase_switching,  # only where the station reports AC phase switching
        energy=True,
    ),
)


class OcppEnergySelect(OcppEntity, SelectEntity):
    """The EVSE's charging mode (off, fast, solar, min_solar, manual, smart), or its phases: kept across restarts."""

    entity_description: OcppEnergySelectEntityDescription

    @property
    @override
    def current_option(self) -> str | None:
        """The setting."""
        value = getattr(self.data.energy.settings(self.station_id, self.evse_id), self.entity_description.setting)
        return str(value.value)

    @override
    async def async_select_option(self, option: str) -> None:
        """Change the setting; the energy manager decides with it at once."""
        description = self.entity_description
        value = description.parse(option)
        if isinstance(value, ChargingMode):  # leaving smart: the plan's profiles go before the new mode's come
            await self.data.planner.async_leaving(self.station_id, self.evse_id, value)
        await self.data.energy.async_set(self.station_id, self.evse_id, **{description.setting: value})
        if isinstance(value, ChargingMode):
            self.data.planner.mode_changed(self.station_id, self.evse_id)
