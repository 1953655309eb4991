"""Switches: writable boolean variables of the device model."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .control_entity import OcppEvseControlEntity
from .hub import OcppCsmsHub
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ConnectorStatus
from .station.variable_kinds import EntityKind
from .variable_entity import OcppVariableEntity

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add charging and availability switches per EVSE, availability per station, and boolean variables."""
    async_add_evse_entities(
        entry,
        async_add_entities,
        lambda hub, station_id, evse_id: [
            OcppControlSwitch(hub, station_id, evse_id, description) for description in EVSE_SWITCHES
        ],
    )
    async_add_station_entities(
        entry, async_add_entities, lambda hub, station_id: [OcppControlSwitch(hub, station_id, 0, STATION_AVAILABILITY)]
    )
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SWITCH}), OcppVariableSwitch)


def _charging(hub: OcppCsmsHub, station_id: str, evse_id: int) -> bool:
    runtime = hub.runtimes.get(station_id)
    return runtime is not None and runtime.transactions.evse(evse_id).active


def _operative(hub: OcppCsmsHub, station_id: str, evse_id: int) -> bool:
    station = hub.central.station(station_id)
    if (operative := station.operative.get(evse_id)) is not None:
        return operative
    statuses = [status for (evse, _), status in station.connector_status.items() if evse_id in (0, evse) and evse > 0]
    return not statuses or any(status is not ConnectorStatus.UNAVAILABLE for status in statuses)


@dataclass(frozen=True, kw_only=True)
class OcppControlSwitchEntityDescription(SwitchEntityDescription):
    """A switch whose state follows the station and whose changes are commands."""

    is_on_fn: Callable[[OcppCsmsHub, str, int], bool]
    turn_fn: Callable[[OcppCsmsHub, str, int, bool], Awaitable[Any]]


EVSE_SWITCHES: tuple[OcppControlSwitchEntityDescription, ...] = (
    OcppControlSwitchEntityDescription(
        key="charging",
        translation_key="charging",
        is_on_fn=_charging,
        turn_fn=lambda hub, station_id, evse_id, on: (
            hub.commands.async_start(station_id, evse_id) if on else hub.commands.async_stop(station_id, evse_id)
        ),
    ),
    OcppControlSwitchEntityDescription(
        key="availability",
        translation_key="availability",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=_operative,
        turn_fn=lambda hub, station_id, evse_id, on: hub.commands.async_change_availability(station_id, evse_id, on),
    ),
)
STATION_AVAILABILITY = OcppControlSwitchEntityDescription(
    key="availability",
    translation_key="station_availability",
    entity_category=EntityCategory.CONFIG,
    is_on_fn=_operative,
    turn_fn=lambda hub, station_id, evse_id, on: hub.commands.async_change_availability(station_id, evse_id, on),
)


class OcppControlSwitch(OcppEvseControlEntity, SwitchEntity):
    """Charging on/off (RequestStart/StopTransaction) or availability (ChangeAvailability).

    The state follows the station (the real transaction, the reported status), not the last command.
    """

    entity_description: OcppControlSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """What the station reports."""
        return self.entity_description.is_on_fn(self.hub, self.station_id, self.evse_id)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging, or make the EVSE / station operative."""
        await self.entity_description.turn_fn(self.hub, self.station_id, self.evse_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging, or make the EVSE / station inoperative."""
        await self.entity_description.turn_fn(self.hub, self.station_id, self.evse_id, False)


class OcppVariableSwitch(OcppVariableEntity, SwitchEntity):
    """A writable boolean variable: turning it on or off sends SetVariables."""

    @property
    def is_on(self) -> bool | None:
        """The variable's value."""
        value = self.variable_value
        return value if isinstance(value, bool) else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the variable to true."""
        await self.async_write_value(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Set the variable to false."""
        await self.async_write_value(False)
