"""Numbers: each EVSE's limits, energy manager settings, energy to add; the station-wide cap; writable variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfElectricCurrent, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charging_control import STATION_CAP
from .departure_planning import MAX_ENERGY_KWH
from .energy.model import MAX_PRIORITY, EvseSettings
from .entity import OcppEntity, OcppEntityDescription, StationView, always, essential, full_only
from .helpers import user_error
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ChargingRateUnit
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 1


def _max_current(view: StationView) -> float:
    return view.data.charging.max_current(view.station_id, view.evse_id)


def _max_power(view: StationView) -> float:
    voltage, phases = view.data.charging.electrics(view.station_id, view.evse_id, None)
    return round(_max_current(view) * voltage * phases / 100) * 100


@dataclass(frozen=True, kw_only=True)
class OcppLimitNumberEntityDescription(NumberEntityDescription, OcppEntityDescription):
    """A charging limit in one unit; `max_fn` is the most the EVSE (or the station) can be given."""

    unit: ChargingRateUnit
    max_fn: Callable[[StationView], float]


LIMIT_NUMBERS: tuple[OcppLimitNumberEntityDescription, ...] = (
    OcppLimitNumberEntityDescription(
        key="charging_current_limit",
        translation_key="charging_current_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_min_value=0,
        native_step=1,
        mode=NumberMode.SLIDER,
        unit=ChargingRateUnit.A,
        max_fn=_max_current,
        has_fn=essential,
    ),
    OcppLimitNumberEntityDescription(
        key="charging_power_limit",
        translation_key="charging_power_limit",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        native_min_value=0,
        native_step=100,
        mode=NumberMode.BOX,
        entity_registry_enabled_default=False,
        unit=ChargingRateUnit.W,
        max_fn=_max_power,
    ),
)
STATION_LIMIT_NUMBERS = tuple(
    OcppLimitNumberEntityDescription(
        key=f"station_{description.key.replace('charging_', '')}_cap",
        translation_key=f"station_{str(description.translation_key).replace('charging_', '')}_cap",
        device_class=description.device_class,
        native_unit_of_measurement=description.native_unit_of_measurement,
        native_min_value=0,
        native_step=description.native_step,
        mode=NumberMode.BOX,
        entity_registry_enabled_default=False,
        unit=description.unit,
        max_fn=description.max_fn,
        has_fn=full_only,
    )
    for description in LIMIT_NUMBERS
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging limits of every EVSE, the station-wide caps, and a number per writable numeric variable."""
    async_add_evse_entities(entry, async_add_entities, OcppChargingLimitNumber, LIMIT_NUMBERS)
    async_add_station_entities(
        entry, async_add_entities, OcppChargingLimitNumber, STATION_LIMIT_NUMBERS, evse_id=STATION_CAP
    )
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.NUMBER}), OcppVariableNumber)
    async_add_evse_entities(entry, async_add_entities, OcppEnergyNumber, ENERGY_NUMBERS)
    async_add_evse_entities(entry, async_add_entities, OcppPlanNumber, (ENERGY_TO_ADD, TARGET_SOC))


class OcppChargingLimitNumber(OcppEntity, NumberEntity):
    """The charging limit of an EVSE, or the station-wide cap: setting it applies a charging profile.

    Its state is the limit in force as the station's composite schedule says, not merely the last value asked for.
    """

    entity_description: OcppLimitNumberEntityDescription

    @property
    @override
    def native_max_value(self) -> float:
        """What the EVSE (or the station) can do at most (its reported maximum current or power)."""
        return self.entity_description.max_fn(self.view)

    @property
    @override
    def native_value(self) -> float | None:
        """The limit in force."""
        return self.data.charging.in_force(self.station_id, self.evse_id, self.entity_description.unit)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Apply the limit (flash protection applies; 0 pauses). Between 0 and the minimum a car charges at: refused."""
        self.data.energy.check_manual(self.station_id, self.evse_id)  # another charging mode: the manager's limit
        unit = self.entity_description.unit
        minimum = self.data.charging.minimum(self.station_id, self.evse_id, unit)
        if self.evse_id != STATION_CAP and 0 < value < minimum:
            raise user_error("limit_below_minimum", minimum=f"{minimum:g}", unit=str(self.native_unit_of_measurement))
        explicit = self._context is not None and self._context.user_id is not None  # a person, not an automation
        await self.data.charging.async_set_limit(self.station_id, self.evse_id, value, unit, explicit=explicit)


@dataclass(frozen=True, kw_only=True)
class OcppVariableNumberEntityDescription(NumberEntityDescription, OcppEntityDescription):
    """A writable numeric variable's number."""


class OcppVariableNumber(OcppVariableEntity, NumberEntity):
    """A writable numeric variable: setting it sends SetVariables."""

    entity_description: OcppVariableNumberEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """Range and step from the variable's characteristics (minLimit, maxLimit, data type)."""
        fields: dict[str, Any] = {
            "mode": NumberMode.BOX,
            "native_step": spec.step if spec.step is not None else 0.1,
            "native_unit_of_measurement": spec.unit,
        }
        if spec.min_value is not None:
            fields["native_min_value"] = spec.min_value
        if spec.max_value is not None:
            fields["native_max_value"] = spec.max_value
        if spec.device_class is not None and spec.device_class in NumberDeviceClass.__members__.values():
            fields["device_class"] = NumberDeviceClass(spec.device_class)
        description = variable_description(OcppVariableNumberEntityDescription, key, spec, **fields)
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def native_value(self) -> float | None:
        """The variable's value (an integer variable shows no fraction)."""
        value = self.variable_value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Write the new value; integers go out without a fraction."""
        await self.async_write_value(int(value) if self.spec.step == 1.0 else value)


# ---- the energy manager's settings of each EVSE ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OcppEnergyNumberEntityDescription(NumberEntityDescription, OcppEntityDescription):
    """One of the energy manager's settings of an EVSE (`setting`: the EvseSettings field); `bounds_fn`: its range."""

    setting: str
    value_fn: Callable[[EvseSettings], float]
    bounds_fn: Callable[[StationView], tuple[float, float]]


def _current_bounds(view: StationView) -> tuple[float, float]:
    return view.data.energy.bounds(view.station_id, view.evse_id)


ENERGY_NUMBERS: tuple[OcppEnergyNumberEntityDescription, ...] = (
    OcppEnergyNumberEntityDescription(
        key="min_charging_current",
        translation_key="min_charging_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        setting="min_current",
        value_fn=lambda settings: settings.min_current,
        bounds_fn=_current_bounds,
        available_fn=always,
        energy=True,
    ),
    OcppEnergyNumberEntityDescription(
        key="max_charging_current",
        translation_key="max_charging_current",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        setting="max_current",
        value_fn=lambda settings: settings.max_current,
        bounds_fn=_current_bounds,
        available_fn=always,
        energy=True,
    ),
    OcppEnergyNumberEntityDescription(
        key="charging_priority",
        translation_key="charging_priority",
        native_step=1,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        setting="priority",
        value_fn=lambda settings: settings.priority,
        bounds_fn=lambda _view: (0, MAX_PRIORITY),
        available_fn=always,
        energy=True,
    ),
)


class OcppEnergyNumber(OcppEntity, NumberEntity):
    """An energy manager setting of an EVSE (kept across restarts): its minimum or maximum current, its priority."""

    entity_description: OcppEnergyNumberEntityDescription

    @property
    @override
    def native_min_value(self) -> float:
        """The lowest the EVSE allows."""
        return self.entity_description.bounds_fn(self.view)[0]

    @property
    @override
    def native_max_value(self) -> float:
        """The highest the EVSE allows."""
        return self.entity_description.bounds_fn(self.view)[1]

    @property
    @override
    def native_value(self) -> float:
        """The setting."""
        return self.entity_description.value_fn(self.data.energy.settings(self.station_id, self.evse_id))

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; the energy manager decides with it at once."""
        setting = self.entity_description.setting
        await self.data.energy.async_set(
            self.station_id, self.evse_id, **{setting: int(value) if setting == "priority" else float(value)}
        )


# ---- departure planning: the energy to add by the departure ------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OcppPlanNumberEntityDescription(NumberEntityDescription, OcppEntityDescription):
    """A departure planning setting of an EVSE."""


#: The energy to add in a session by the departure (kWh); the smart mode plans it. Kept across restarts.
ENERGY_TO_ADD = OcppPlanNumberEntityDescription(
    key="energy_to_add",
    translation_key="energy_to_add",
    device_class=NumberDeviceClass.ENERGY,
    native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
    native_min_value=0,
    native_max_value=MAX_ENERGY_KWH,
    native_step=0.5,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
    available_fn=always,
    energy=True,
)


#: The state of charge to reach by the departure (%) when the car reports its state of charge (0: off, the energy to
#: add counts). The battery's capacity is learnt from the energy metered while the state of charge rises.
TARGET_SOC = OcppPlanNumberEntityDescription(
    key="target_soc",
    translation_key="target_soc",
    native_unit_of_measurement=PERCENTAGE,
    native_min_value=0,
    native_max_value=100,
    native_step=1,
    mode=NumberMode.BOX,
    entity_category=EntityCategory.CONFIG,
    available_fn=always,
    energy=True,
)


class OcppPlanNumber(OcppEntity, NumberEntity):
    """The energy to add by the departure, or the state of charge to reach."""

    entity_description: OcppPlanNumberEntityDescription

    @property
    @override
    def native_value(self) -> float:
        """The energy to add (kWh), or the target state of charge (%)."""
        if self.entity_description.key == TARGET_SOC.key:
            return self.data.planner.target_soc(self.station_id, self.evse_id)
        return self.data.planner.energy_kwh(self.station_id, self.evse_id)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change it; the plan is made again at once."""
        setting = "target_soc" if self.entity_description.key == TARGET_SOC.key else "energy_kwh"
        self.data.planner.async_set(self.station_id, self.evse_id, **{setting: float(value)})
