"""Times: each EVSE's departure (the smart charging mode plans to have the car charged by then)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import override

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntity, OcppEntityDescription, always
from .platform import async_add_evse_entities
from .runtime_data import OcppCsmsConfigEntry

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OcppTimeEntityDescription(TimeEntityDescription, OcppEntityDescription):
    """A time setting of an EVSE."""


#: The next departure: the plan has the energy in by then (less the site's buffer). Kept across restarts.
DEPARTURE = OcppTimeEntityDescription(
    key="departure",
    translation_key="departure",
    entity_category=EntityCategory.CONFIG,
    available_fn=always,
    energy=True,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every EVSE's departure time."""
    async_add_evse_entities(entry, async_add_entities, OcppDepartureTime, (DEPARTURE,))


class OcppDepartureTime(OcppEntity, TimeEntity):
    """The EVSE's departure time of day (local): the smart mode plans to it."""

    entity_description: OcppTimeEntityDescription

    @property
    @override
    def native_value(self) -> time:
        """The departure time."""
        return self.data.planner.departure_time(self.station_id, self.evse_id)

    @override
    async def async_set_value(self, value: time) -> None:
        """Change the departure; the plan is made again at once."""
        self.data.planner.async_set(self.station_id, self.evse_id, departure=value)
