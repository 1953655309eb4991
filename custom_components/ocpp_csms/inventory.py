"""A station's device model inventory (B07, B08): asked for after its first boot and after a firmware change.

Stations take turns reporting (MAX_CONCURRENT_INVENTORIES at a time): a fleet connecting for the first time would
otherwise send a thousand reports at once, every station's parts held in memory together (the process keeps that
high-water mark) and parsed in one burst that stalls the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import logging
from typing import Any, Final

from homeassistant.core import callback

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .protocol.v201.enums import GenericDeviceModelStatus, ReportBase
from .protocol.v201.messages import (
    GetBaseReportRequest,
    GetBaseReportResponse,
    NotifyReportRequest,
    NotifyReportResponse,
)
from .signals import inventory_signal, variables_signal

_LOGGER = logging.getLogger(__name__)

#: At most this many stations report their inventory at a time.
MAX_CONCURRENT_INVENTORIES: Final = 8
#: How long a station's inventory may take before the next station's turn (its report is still taken later).
INVENTORY_TURN_TIMEOUT: Final = 60.0
#: A report that never completes is asked for again after this long, this many times per connection at most.
INVENTORY_RETRY_DELAY: Final = 120.0
INVENTORY_ATTEMPTS: Final = 3


class InventoryReader(StationListener):
    """Asks trusted stations for their inventory when they need one, and assembles the reports."""

    def __init__(
        self,
        context: StationContext,
        *,
        evse_reported: Callable[[str, int], None],
        inventory_received: Callable[[str], Coroutine[Any, Any, None]],
    ) -> None:
        """`evse_reported(station_id, evse_id)` introduces an EVSE; `inventory_received` runs after a report."""
        self.context = context
        self._evse_reported = evse_reported
        self._inventory_received = inventory_received
        self._turns = asyncio.Semaphore(MAX_CONCURRENT_INVENTORIES)
        #: Stations waiting for or taking their turn; the event is set when their report is in or they left.
        self._turn_over: dict[str, asyncio.Event] = {}
        #: Stations being asked for their inventory (in a turn, or between attempts).
        self._requesting: set[str] = set()
        context.central.handle(NotifyReportRequest, self.notify_report)

    @callback
    def station_booted(self, station: Station) -> None:
        """Read the inventory after the first accepted boot, and after a firmware change."""
        self.context.background(self._async_booted(station), f"{DOMAIN} inventory")

    async def _async_booted(self, station: Station) -> None:
        runtime = await self.context.runtimes.async_get(station.station_id)
        firmware = station.boot.firmware_version if station.boot else None
        if not runtime.has_inventory or firmware != runtime.inventory_firmware:
            await self.request_inventory(station)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """A station that left has ended its turn."""
        self._end_turn(station.station_id)

    async def request_inventory(self, station: Station) -> None:
        """Ask for the full inventory (B07) once it is the station's turn; again while connected if it stalls.

        A turn ends when the report is complete, the station disconnects, or after INVENTORY_TURN_TIMEOUT. A
        report that never completes is asked for again after INVENTORY_RETRY_DELAY, at most
        INVENTORY_ATTEMPTS times per connection (a late report is still taken meanwhile).
        """
        station_id = station.station_id
        if station_id in self._requesting:
            return  # already waiting for its turn, taking it, or waiting to ask again
        self._requesting.add(station_id)
        try:
            connection = station.connection
            for attempt in range(1, INVENTORY_ATTEMPTS + 1):
                if await self._take_turn(station) or station.connection is not connection:
                    return
                if attempt < INVENTORY_ATTEMPTS:
                    _LOGGER.debug("%s: inventory incomplete; asked again in %g s", station_id, INVENTORY_RETRY_DELAY)
                    await asyncio.sleep(INVENTORY_RETRY_DELAY)
                    runtime = await self.context.runtimes.async_get(station_id)
                    if runtime.assembler.request_id is None or station.connection is not connection:
                        return  # it arrived late, or the station left
        finally:
            self._requesting.discard(station_id)

    async def _take_turn(self, station: Station) -> bool:
        """One GetBaseReport in the station's turn; whether it is settled (complete, refused, or the station left)."""
        station_id = station.station_id
        turn_over = self._turn_over[station_id] = asyncio.Event()
        try:
            async with self._turns:
                if not station.connected or turn_over.is_set():
                    return True
                runtime = await self.context.runtimes.async_get(station_id)
                request_id = runtime.request_id()
                runtime.assembler.expect(request_id)
                station.awaited.expect(NotifyReportRequest, until_done=True)  # B02.FR.09: even before acceptance
                outcome = await station.session.call_outcome(
                    GetBaseReportRequest(request_id=request_id, report_base=ReportBase.FULL_INVENTORY),
                    GetBaseReportResponse,
                )
                _LOGGER.debug("%s: GetBaseReport(FullInventory) answered %s", station_id, outcome)
                if (
                    not isinstance(outcome, GetBaseReportResponse)
                    or outcome.status is not GenericDeviceModelStatus.ACCEPTED
                ):
                    runtime.assembler.take_partial()  # no report follows: the next boot asks again
                    station.awaited.done(NotifyReportRequest)
                    return True
                try:
                    async with asyncio.timeout(INVENTORY_TURN_TIMEOUT):
                        await turn_over.wait()
                except TimeoutError:
                    _LOGGER.debug("%s: inventory still incomplete; the next station's turn", station_id)
                    return False
                return True
        finally:
            if self._turn_over.get(station_id) is turn_over:
                del self._turn_over[station_id]

    @callback
    def _end_turn(self, station_id: str) -> None:
        if (turn_over := self._turn_over.get(station_id)) is not None:
            turn_over.set()

    async def notify_report(self, station: Station, request: NotifyReportRequest) -> NotifyReportResponse:
        """Assemble the parts; when the report is complete, it becomes the inventory."""
        station_id = station.station_id
        runtime = await self.context.runtimes.async_get(station_id)
        assembled = runtime.assembler.feed(request)
        if assembled is None:
            return NotifyReportResponse()
        station.awaited.done(NotifyReportRequest)
        runtime.device_model = assembled
        runtime.has_inventory = True
        runtime.inventory_firmware = station.boot.firmware_version if station.boot else None
        runtime.schedule_save_inventory()
        _LOGGER.info("%s: inventory of %d variables received", station_id, len(assembled))
        self._end_turn(station_id)
        for evse_id in sorted({key.evse_id for key in assembled if key.evse_id}):
            self._evse_reported(station_id, evse_id)  # the EVSEs it reports get their devices
        self.context.signal(inventory_signal(self.context.entry_id), station_id)
        self.context.signal(variables_signal(self.context.entry_id, station_id))
        self.context.background(self._inventory_received(station_id), f"{DOMAIN} monitors")
        return NotifyReportResponse()
