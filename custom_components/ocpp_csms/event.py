"""Event entities: an ID token was presented at a station, with the decision the central system made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OcppCsmsConfigEntry
from .charging_control import external_limit_signal
from .entity import OcppStationEntity
from .platform import async_add_station_entities
from .station_messages import TokenPresented, token_signal

PARALLEL_UPDATES = 0

TOKEN_PRESENTED = EventEntityDescription(
    key="token_presented",
    translation_key="token_presented",
    event_types=["accepted", "rejected"],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the token event entity of every trusted station."""
    async_add_station_entities(
        entry,
        async_add_entities,
        lambda hub, station_id: [
            OcppTokenEvent(hub, station_id, TOKEN_PRESENTED),
            OcppChargingLimitEvent(hub, station_id, CHARGING_LIMIT),
        ],
    )


CHARGING_LIMIT = EventEntityDescription(
    key="external_charging_limit",
    translation_key="external_charging_limit",
    event_types=["notified", "cleared"],
)


class OcppStationEvent(OcppStationEntity, EventEntity):
    """An event entity of a station, fired by one of the station's dispatcher signals."""

    signal: Callable[[str, str], str]

    @property
    def available(self) -> bool:
        """Events are history: the entity stays available."""
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the station's signal."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, type(self).signal(self.hub.entry.entry_id, self.station_id), self._handle_event
            )
        )

    @callback
    def _handle_event(self, *args: Any) -> None:
        event_type, attributes = self.describe(*args)
        self._trigger_event(event_type, attributes)
        self.async_write_ha_state()

    def describe(self, *args: Any) -> tuple[str, dict[str, Any]]:
        """The event type and attributes of a signal's arguments."""
        raise NotImplementedError


class OcppTokenEvent(OcppStationEvent):
    """Fires `accepted` or `rejected` with the token, its type, the EVSE and the exact decision."""

    signal = staticmethod(token_signal)

    def describe(self, *args: Any) -> tuple[str, dict[str, Any]]:
        """From a TokenPresented."""
        presented: TokenPresented = args[0]
        return "accepted" if presented.decision.value == "Accepted" else "rejected", {
            "id_token": presented.id_token,
            "token_type": presented.token_type,
            "station_id": presented.station_id,
            "evse_id": presented.evse_id,
            "decision": presented.decision.value,
        }


class OcppChargingLimitEvent(OcppStationEvent):
    """Fires when the station reports an external charging limit (NotifyChargingLimit) or its end (K12, K13)."""

    signal = staticmethod(external_limit_signal)

    def describe(self, *args: Any) -> tuple[str, dict[str, Any]]:
        """From (kind, source, EVSE id)."""
        kind, source, evse_id = args
        return kind, {"evse_id": evse_id, "source": source}
