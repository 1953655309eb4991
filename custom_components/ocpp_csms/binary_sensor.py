"""Binary sensors: whether a station is connected, and the read-only boolean variables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import BinarySensorEntity, BinarySensorEntityDescription
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .csms.station import Station
from .entity import OcppStationEntity
from .platform import async_add_station_entities, async_add_variable_entities
from .station.variable_kinds import EntityKind
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppBinarySensorEntityDescription(BinarySensorEntityDescription):
    """How a binary sensor reads its state from the station."""

    value_fn: Callable[[Station], bool]
    always_available: bool = False


STATION_BINARY_SENSORS: tuple[OcppBinarySensorEntityDescription, ...] = (
    OcppBinarySensorEntityDescription(
        key="connectivity",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda station: station.connected,
        always_available=True,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the binary sensors of every trusted station, now and as stations are approved."""
    async_add_station_entities(
        entry,
        async_add_entities,
        lambda hub, station_id: [
            OcppBinarySensor(hub, station_id, description) for description in STATION_BINARY_SENSORS
        ],
    )
    async_add_variable_entities(
        entry, async_add_entities, frozenset({EntityKind.BINARY_SENSOR}), OcppVariableBinarySensor
    )


class OcppBinarySensor(OcppStationEntity, BinarySensorEntity):
    """A binary sensor of a station."""

    entity_description: OcppBinarySensorEntityDescription

    @property
    def available(self) -> bool:
        """The connectivity sensor stays available: it reports the disconnection itself."""
        return self.entity_description.always_available or super().available

    @property
    def is_on(self) -> bool:
        """The state, read from the station."""
        return self.entity_description.value_fn(self.station)


class OcppVariableBinarySensor(OcppVariableEntity, BinarySensorEntity):
    """A read-only boolean variable."""

    @property
    def is_on(self) -> bool | None:
        """The variable's value."""
        value = self.variable_value
        return value if isinstance(value, bool) else None
