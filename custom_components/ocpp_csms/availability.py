"""A station's connection as its entities and the log show it: signalled on every change, logged once each way.

The changes of one event-loop turn are signalled once per station by a task in the next, SIGNAL_STEP stations per
turn: in a reconnection storm a turn serves hundreds of stations' connect, boot and status messages (a blip
disconnects a thousand in one), and each signal makes every entity of the station look at what it shows.
"""

from __future__ import annotations

import asyncio
from itertools import islice
import logging
from typing import Final

from homeassistant.core import callback

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .signals import station_signal

_LOGGER = logging.getLogger(__name__)
#: Stations whose entities are told per event-loop turn (each has about ten).
SIGNAL_STEP: Final = 10


class StationAvailability(StationListener):
    """Tells a station's entities that its connection, boot or connector statuses changed; logs loss and return."""

    def __init__(self, context: StationContext) -> None:
        """No loss logged yet."""
        self.context = context
        #: Trusted stations whose loss of connection was logged, so that their return is logged too.
        self._reported_unavailable: set[str] = set()
        #: Stations whose entities are told in the next turn.
        self._changed: dict[str, None] = {}

    @callback
    def station_connected(self, station: Station) -> None:
        """Log the return of a station whose loss was logged."""
        if station.station_id in self._reported_unavailable:
            self._reported_unavailable.discard(station.station_id)
            _LOGGER.info("Station %s is connected again", station.station_id)
        self._signal(station)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """Log the loss of a trusted station once."""
        station_id = station.station_id
        if station_id in self.context.central.registry and station_id not in self._reported_unavailable:
            self._reported_unavailable.add(station_id)
            _LOGGER.info("Station %s is disconnected; its entities are unavailable until it reconnects", station_id)
        self._signal(station)

    @callback
    def station_booted(self, station: Station) -> None:
        """Vendor, model and firmware may have changed."""
        self._signal(station)

    @callback
    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """Connector statuses show on the station's and the EVSE's entities."""
        self._signal(station)

    @callback
    def _signal(self, station: Station) -> None:
        if not self._changed:  # a task, not a bare callback: waiting for Home Assistant's tasks waits for it too
            self.context.hass.async_create_task(self._async_flush(), f"{DOMAIN} availability", eager_start=False)
        self._changed[station.station_id] = None

    async def _async_flush(self) -> None:
        """SIGNAL_STEP stations per event-loop turn (a blip disconnects a thousand in one turn)."""
        while self._changed:
            step = list(islice(self._changed, SIGNAL_STEP))
            for station_id in step:
                del self._changed[station_id]
                self.context.signal(station_signal(self.context.entry_id, station_id))
            if self._changed:
                await asyncio.sleep(0)
