"""Event entities: an ID token was presented at a station, with the decision the central system made."""

from __future__ import annotations

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


class OcppTokenEvent(OcppStationEntity, EventEntity):
    """Fires `accepted` or `rejected` with the token, its type, the EVSE and the exact decision."""

    @property
    def available(self) -> bool:
        """Events are history: the entity stays available."""
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the station's presented tokens."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, token_signal(self.hub.entry.entry_id, self.station_id), self._handle_token
            )
        )

    @callback
    def _handle_token(self, presented: TokenPresented) -> None:
        accepted = presented.decision.value == "Accepted"
        self._trigger_event(
            "accepted" if accepted else "rejected",
            {
                "id_token": presented.id_token,
                "token_type": presented.token_type,
                "station_id": presented.station_id,
                "evse_id": presented.evse_id,
                "decision": presented.decision.value,
            },
        )
        self.async_write_ha_state()


class OcppChargingLimitEvent(OcppStationEntity, EventEntity):
    """Fires when the station reports an external charging limit (NotifyChargingLimit) or its end (K12, K13)."""

    @property
    def available(self) -> bool:
        """Events are history: the entity stays available."""
        return True

    async def async_added_to_hass(self) -> None:
        """Follow the external limits of the station and of its EVSEs."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass, external_limit_signal(self.hub.entry.entry_id, self.station_id), self._handle_limit
            )
        )

    @callback
    def _handle_limit(self, kind: str, source: str, evse_id: int) -> None:
        self._trigger_event(kind, {"evse_id": evse_id, "source": source})
        self.async_write_ha_state()
