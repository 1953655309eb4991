"""Binary sensors: whether a station is connected, and the read-only boolean variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntity, OcppEntityDescription, StationView, essential
from .platform import async_add_station_entities, async_add_variable_entities
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppBinarySensorEntityDescription(BinarySensorEntityDescription, OcppEntityDescription):
    """How a binary sensor reads its state."""

    is_on_fn: Callable[[StationView], bool]


STATION_BINARY_SENSORS: tuple[OcppBinarySensorEntityDescription, ...] = (
    OcppBinarySensorEntityDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda view: view.connected,
        available_fn=lambda _view: True,  # it reports the disconnection itself
        has_fn=essential,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every trusted station, now and as stations are approved."""
    async_add_station_entities(entry, async_add_entities, OcppBinarySensor, STATION_BINARY_SENSORS)
    async_add_variable_entities(
        entry, async_add_entities, frozenset({EntityKind.BINARY_SENSOR}), OcppVariableBinarySensor
    )


class OcppBinarySensor(OcppEntity, BinarySensorEntity):
    """A binary sensor of a station."""

    entity_description: OcppBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool:
        """The state, as the description reads it."""
        return self.entity_description.is_on_fn(self.view)


@dataclass(frozen=True, kw_only=True)
class OcppVariableBinarySensorEntityDescription(BinarySensorEntityDescription, OcppEntityDescription):
    """A read-only boolean variable's binary sensor."""


class OcppVariableBinarySensor(OcppVariableEntity, BinarySensorEntity):
    """A read-only boolean variable."""

    entity_description: OcppVariableBinarySensorEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """The variable's binary sensor."""
        description = variable_description(OcppVariableBinarySensorEntityDescription, key, spec)
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def is_on(self) -> bool | None:
        """The variable's value."""
        value = self.variable_value
        return value if isinstance(value, bool) else None
