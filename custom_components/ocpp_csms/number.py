"""Numbers: writable integer and decimal variables of the device model, bounded by their limits."""

from __future__ import annotations

from homeassistant.components.number import NumberDeviceClass, NumberEntity, NumberMode
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
    """Add a number per writable numeric variable."""
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.NUMBER}), OcppVariableNumber)


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
