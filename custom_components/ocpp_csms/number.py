"""Numbers: writable integer and decimal variables of the device model, bounded by their limits."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import UnitOfElectricCurrent, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .charging_control import STATION_CAP
from .control_entity import OcppEvseControlEntity
from .hub import OcppCsmsHub
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ChargingRateUnit
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the charging limits of every EVSE (and of the station) and a number per writable numeric variable."""
    async_add_evse_entities(
        entry,
        async_add_entities,
        lambda hub, station_id, evse_id: [
            OcppChargingLimitNumber(hub, station_id, evse_id, description) for description in LIMIT_NUMBERS
        ],
    )
    async_add_station_entities(
        entry,
        async_add_entities,
        lambda hub, station_id: [
            OcppChargingLimitNumber(hub, station_id, STATION_CAP, description) for description in STATION_LIMIT_NUMBERS
        ],
    )
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.NUMBER}), OcppVariableNumber)


@dataclass(frozen=True, kw_only=True)
class OcppLimitNumberEntityDescription(NumberEntityDescription):
    """A charging limit in one unit."""

    unit: ChargingRateUnit


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
    )
    for description in LIMIT_NUMBERS
)


class OcppChargingLimitNumber(OcppEvseControlEntity, NumberEntity):
    """The charging limit of an EVSE, or the station-wide cap: setting it applies a charging profile.

    Its state is the limit in force as the station's composite schedule says, not merely the last value asked for.
    """

    entity_description: OcppLimitNumberEntityDescription

    @property
    def native_max_value(self) -> float:
        """What the EVSE can do at most (its reported maximum current or power)."""
        control = self.hub.charging
        max_current = control.max_current(self.station_id, self.evse_id)
        if self.entity_description.unit is ChargingRateUnit.A:
            return max_current
        voltage, phases = control.electrics(self.station_id, self.evse_id, None)
        return round(max_current * voltage * phases / 100) * 100

    @property
    def native_value(self) -> float | None:
        """The limit in force."""
        return self.hub.charging.in_force(self.station_id, self.evse_id, self.entity_description.unit)

    async def async_set_native_value(self, value: float) -> None:
        """Apply the limit (flash protection applies; 0 pauses charging)."""
        await self.hub.charging.async_set_limit(self.station_id, self.evse_id, value, self.entity_description.unit)


class OcppVariableNumber(OcppVariableEntity, NumberEntity):
    """A writable numeric variable: setting it sends SetVariables."""

    _attr_mode = NumberMode.BOX

    def __init__(self, hub: OcppCsmsHub, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """Range and step from the variable's characteristics (minLimit, maxLimit, data type)."""
        super().__init__(hub, station_id, key, spec)
        if spec.min_value is not None:
            self._attr_native_min_value = spec.min_value
        if spec.max_value is not None:
            self._attr_native_max_value = spec.max_value
        self._attr_native_step = spec.step if spec.step is not None else 0.1
        self._attr_native_unit_of_measurement = spec.unit
        if spec.device_class is not None and spec.device_class in NumberDeviceClass.__members__.values():
            self._attr_device_class = NumberDeviceClass(spec.device_class)

    @property
    def native_value(self) -> float | None:
        """The variable's value (an integer variable shows no fraction)."""
        value = self.variable_value
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return value

    async def async_set_native_value(self, value: float) -> None:
        """Write the new value; integers go out without a fraction."""
        await self.async_write_value(int(value) if self.spec.step == 1.0 else value)
