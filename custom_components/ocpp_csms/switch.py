"""Switches: charging and availability of each EVSE, the station's availability, and writable boolean variables."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import logging
from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import OcppEntity, OcppEntityDescription, StationView, essential
from .platform import async_add_evse_entities, async_add_station_entities, async_add_variable_entities
from .protocol.v201.enums import ConnectorStatus
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.variable_kinds import EntityKind, EntitySpec
from .variable_entity import OcppVariableEntity, variable_description

PARALLEL_UPDATES = 1
_LOGGER = logging.getLogger(__name__)


def _charging(view: StationView) -> bool:
    """A transaction runs and is not paused (by this switch, or with a limit of 0)."""
    return view.session.active and not view.data.charging.paused(view.station_id, view.evse_id)


def _charging_control(view: StationView) -> dict[str, Any]:
    """How the switch controls charging now: `pause` (a 0 A limit; the session stays) or `transaction`."""
    charging = view.data.charging
    session = view.session
    paused = session.active and charging.paused(view.station_id, view.evse_id)
    return {"control": "pause" if session.active else "transaction", "paused": paused}


def _operative(view: StationView) -> bool:
    station = view.station
    if (operative := station.operative.get(view.evse_id)) is not None:
        return operative
    statuses = [
        status for (evse, _), status in station.connector_status.items() if view.evse_id in (0, evse) and evse > 0
    ]
    return not statuses or any(status is not ConnectorStatus.UNAVAILABLE for status in statuses)


async def _start_or_stop(view: StationView, on: bool) -> None:
    """Off pauses a running transaction (a 0 A limit), on resumes it; without one, on starts a transaction.

    Pausing keeps the session and avoids the stop/start that leaves some stations stuck (Finishing, SuspendedEV).
    A station that refuses the 0 A limit has its transaction stopped instead.
    """
    station_id, evse_id = view.station_id, view.evse_id
    charging, commands = view.data.charging, view.data.commands
    if not view.session.active:
        if on:
            await commands.async_start(station_id, evse_id)
        else:
            await commands.async_stop(station_id, evse_id)  # nothing runs: the translated "no transaction"
        return
    if on:
        await charging.async_resume(station_id, evse_id)
        return
    try:
        await charging.async_pause(station_id, evse_id)
    except HomeAssistantError as err:
        _LOGGER.info("%s EVSE %d: a 0 A pause was refused (%s); stopping the transaction", station_id, evse_id, err)
        await commands.async_stop(station_id, evse_id)


def _change_availability(view: StationView, on: bool) -> Awaitable[Any]:
    return view.data.commands.async_change_availability(view.station_id, view.evse_id, on)


@dataclass(frozen=True, kw_only=True)
class OcppSwitchEntityDescription(SwitchEntityDescription, OcppEntityDescription):
    """A switch whose state follows the station and whose changes are commands."""

    is_on_fn: Callable[[StationView], bool]
    turn_fn: Callable[[StationView, bool], Awaitable[Any]]
    attributes_fn: Callable[[StationView], dict[str, Any] | None] = lambda _view: None


EVSE_SWITCHES: tuple[OcppSwitchEntityDescription, ...] = (
    OcppSwitchEntityDescription(
        key="charging",
        translation_key="charging",
        is_on_fn=_charging,
        turn_fn=_start_or_stop,
        attributes_fn=_charging_control,
        has_fn=essential,
    ),
    OcppSwitchEntityDescription(
        key="availability",
        translation_key="availability",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=_operative,
        turn_fn=_change_availability,
    ),
)
STATION_SWITCHES: tuple[OcppSwitchEntityDescription, ...] = (
    OcppSwitchEntityDescription(
        key="availability",
        translation_key="station_availability",
        entity_category=EntityCategory.CONFIG,
        is_on_fn=_operative,
        turn_fn=_change_availability,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add charging and availability switches per EVSE, availability per station, and boolean variables."""
    async_add_evse_entities(entry, async_add_entities, OcppSwitch, EVSE_SWITCHES)
    async_add_station_entities(entry, async_add_entities, OcppSwitch, STATION_SWITCHES)
    async_add_variable_entities(entry, async_add_entities, frozenset({EntityKind.SWITCH}), OcppVariableSwitch)


class OcppSwitch(OcppEntity, SwitchEntity):
    """Charging on/off (RequestStart/StopTransaction) or availability (ChangeAvailability).

    The state follows the station (the real transaction, the reported status), not the last command.
    """

    entity_description: OcppSwitchEntityDescription

    @property
    @override
    def is_on(self) -> bool:
        """What the station reports."""
        return self.entity_description.is_on_fn(self.view)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """For the charging switch: whether off pauses (a running session) or ends nothing (none runs)."""
        return self.entity_description.attributes_fn(self.view)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging, or make the EVSE / station operative."""
        await self.entity_description.turn_fn(self.view, True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging, or make the EVSE / station inoperative."""
        await self.entity_description.turn_fn(self.view, False)


@dataclass(frozen=True, kw_only=True)
class OcppVariableSwitchEntityDescription(SwitchEntityDescription, OcppEntityDescription):
    """A writable boolean variable's switch."""


class OcppVariableSwitch(OcppVariableEntity, SwitchEntity):
    """A writable boolean variable: turning it on or off sends SetVariables."""

    entity_description: OcppVariableSwitchEntityDescription

    def __init__(self, data: OcppCsmsRuntimeData, station_id: str, key: VariableKey, spec: EntitySpec) -> None:
        """The variable's switch."""
        description = variable_description(OcppVariableSwitchEntityDescription, key, spec)
        super().__init__(data, station_id, key, spec, description)

    @property
    @override
    def is_on(self) -> bool | None:
        """The variable's value."""
        value = self.variable_value
        return value if isinstance(value, bool) else None

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Set the variable to true."""
        await self.async_write_value(True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Set the variable to false."""
        await self.async_write_value(False)
