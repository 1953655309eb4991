"""Event entities of a station: an ID token presented (with the decision), external limits, problems, reservations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util.signal_type import SignalType

from .entity import OcppEntity, OcppEntityDescription
from .platform import async_add_station_entities
from .protocol.v201.enums import AuthorizationStatus
from .runtime_data import OcppCsmsConfigEntry
from .signals import (
    ExternalLimitChange,
    ReservationEnded,
    TokenPresented,
    external_limit_signal,
    problem_signal,
    reservation_signal,
    token_signal,
)
from .station.monitors import ProblemEvent
from .station.reservations import ReservationEnd

PARALLEL_UPDATES = 0

type Fired = tuple[str, dict[str, Any]]
"""An event type and its attributes."""


@dataclass(frozen=True, kw_only=True)
class OcppEventEntityDescription(EventEntityDescription, OcppEntityDescription):
    """Which signal of the station fires the event, and how its payload reads as an event."""

    signal_fn: Callable[[str, str], SignalType[Any]]
    fired_fn: Callable[[Any], Fired]


def _token_presented(presented: TokenPresented) -> Fired:
    """`accepted` or `rejected`, with the token, its type, the EVSE and the exact decision."""
    accepted = presented.decision is AuthorizationStatus.ACCEPTED
    return "accepted" if accepted else "rejected", {
        "id_token": presented.id_token,
        "token_type": presented.token_type,
        "station_id": presented.station_id,
        "evse_id": presented.evse_id,
        "decision": presented.decision.value,
    }


def _external_limit(change: ExternalLimitChange) -> Fired:
    """`notified` (NotifyChargingLimit, K12) or `cleared` (ClearedChargingLimit, K13), with EVSE and source."""
    return change.kind, {"evse_id": change.evse_id, "source": change.source}


def _problem(problem: ProblemEvent) -> Fired:
    """`problem` or `cleared`, with the component, variable, value, severity and the station's technical codes."""
    event = problem.event
    key = event.key
    return "cleared" if problem.cleared else "problem", {
        "component": key.component,
        "variable": key.variable,
        "evse_id": key.evse_id,
        "connector_id": key.connector_id,
        "value": event.actual_value,
        "severity": problem.severity,
        "trigger": event.trigger.value,
        "tech_code": event.tech_code,
        "tech_info": event.tech_info,
    }


def _reservation_ended(ended: ReservationEnded) -> Fired:
    """How it ended (used, expired, removed, cancelled), with the reservation's id, EVSE, token and expiry."""
    return ended.how.value, ended.reservation.attributes()


STATION_EVENTS: tuple[OcppEventEntityDescription, ...] = (
    OcppEventEntityDescription(
        key="token_presented",
        translation_key="token_presented",
        event_types=["accepted", "rejected"],
        signal_fn=token_signal,
        fired_fn=_token_presented,
        available_fn=lambda _view: True,  # events are history
    ),
    OcppEventEntityDescription(
        key="external_charging_limit",
        translation_key="external_charging_limit",
        event_types=["notified", "cleared"],
        signal_fn=external_limit_signal,
        fired_fn=_external_limit,
        available_fn=lambda _view: True,
    ),
    OcppEventEntityDescription(
        key="problem",
        translation_key="problem",
        event_types=["problem", "cleared"],
        signal_fn=problem_signal,
        fired_fn=_problem,
        available_fn=lambda _view: True,
    ),
)


#: A reservation at the station ended (H02-H04).
RESERVATION_ENDED = OcppEventEntityDescription(
    key="reservation_ended",
    translation_key="reservation_ended",
    event_types=[end.value for end in ReservationEnd],
    signal_fn=reservation_signal,
    fired_fn=_reservation_ended,
    available_fn=lambda _view: True,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the event entities of every trusted station."""
    async_add_station_entities(entry, async_add_entities, OcppEvent, (*STATION_EVENTS, RESERVATION_ENDED))


class OcppEvent(OcppEntity, EventEntity):
    """An event entity of a station, fired by one of the station's dispatcher signals."""

    entity_description: OcppEventEntityDescription

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the station's signal."""
        await super().async_added_to_hass()
        signal = self.entity_description.signal_fn(self.data.context.entry_id, self.station_id)
        self.async_on_remove(async_dispatcher_connect(self.hass, signal, self._async_fire))

    @callback
    def _async_fire(self, payload: Any) -> None:
        event_type, attributes = self.entity_description.fired_fn(payload)
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()
