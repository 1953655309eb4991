"""A station's device model inventory (B07, B08): asked for after its first boot and after a firmware change.

Stations take turns reporting (MAX_CONCURRENT_INVENTORIES at a time): a fleet connecting for the first time would
otherwise send a thousand reports at once, every station's parts held in memory together (the process keeps that
high-water mark) and parsed in one burst that stalls the event loop. The *Refresh inventory* button asks again,
in the station's turn.

Reports an action asks for (`get_report`, a GetBaseReport or GetReport sent with `send_request`) are assembled
apart from the inventory's, each by its requestId, so that neither supersedes the other: a FullInventory becomes
the inventory, the variables of any other report are merged into it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
import logging
from typing import Any, Final

from homeassistant.core import callback

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import not_connected, refused, user_error
from .protocol.session import CallTimeout
from .protocol.v201.datatypes import ComponentVariable
from .protocol.v201.enums import ComponentCriterion, GenericDeviceModelStatus, ReportBase
from .protocol.v201.messages import (
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetReportRequest,
    GetReportResponse,
    NotifyReportRequest,
    NotifyReportResponse,
)
from .signals import inventory_signal, variables_signal
from .station.device_model import DeviceModel, ReportAssembler
from .station_runtime import StationRuntime

_LOGGER = logging.getLogger(__name__)

#: At most this many stations report their inventory at a time.
MAX_CONCURRENT_INVENTORIES: Final = 8
#: How long a station's inventory may take before the next station's turn (its report is still taken later).
INVENTORY_TURN_TIMEOUT: Final = 60.0
#: A report that never completes is asked for again after this long, this many times per connection at most.
INVENTORY_RETRY_DELAY: Final = 120.0
INVENTORY_ATTEMPTS: Final = 3
#: How long the parts of a report an action asked for may take.
REPORT_TIMEOUT: Final = 60.0

type ReportRequest = GetBaseReportRequest | GetReportRequest
type ReportResponse = GetBaseReportResponse | GetReportResponse


@dataclass(slots=True)
class _AskedReport:
    """A report an action asked for, assembled apart from the inventory's."""

    #: A FullInventory: it becomes the inventory (the variables of other reports are merged into it).
    full: bool
    assembler: ReportAssembler = field(default_factory=ReportAssembler)
    #: Set when the report is complete or the station left.
    over: asyncio.Event = field(default_factory=asyncio.Event)
    model: DeviceModel | None = None
    #: What had arrived of a report that did not complete in time.
    partial: DeviceModel | None = None
    left: bool = False


def report_entries(model: DeviceModel | None) -> list[dict[str, Any]]:
    """A report's variables, readable: where each is, its attributes and its characteristics.

    Each entry: `component`, `variable` and, where the station gave them, `component_instance`, `evse_id`,
    `connector_id`, `variable_instance`; `attributes` (type, mutability, value, persistent, constant) and
    `characteristics` (data type, unit, limits, the values allowed). WriteOnly values are never reported.
    """
    return [{**key.to_dict(), **info.to_dict()} for key, info in model.items()] if model is not None else []


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
        #: Reports actions asked for, per station and requestId.
        self._asked: dict[str, dict[int, _AskedReport]] = {}
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
        """A station that left has ended its turn, and sends no more of the reports actions asked for."""
        self._end_turn(station.station_id)
        for report in self._asked.get(station.station_id, {}).values():
            report.left = True
            report.over.set()

    async def async_refresh(self, station_id: str) -> None:
        """Ask the connected station for its full inventory again (in its turn; the report is taken when it is in)."""
        station = self.context.connected(station_id)
        self.context.background(self.request_inventory(station), f"{DOMAIN} inventory")

    async def request_inventory(self, station: Station) -> None:
        """Ask for the full inventory (B07) once it is the station's turn; again while connected if it stalls.

        A turn ends when the report is complete, the station disconnects, or after INVENTORY_TURN_TIMEOUT. A
        report that never completes, or a GetBaseReport that is not answered in time, is asked for again after
        INVENTORY_RETRY_DELAY, at most INVENTORY_ATTEMPTS times per connection (a late report is still taken
        meanwhile).
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
                request_id = self._fresh_request_id(station_id, runtime)
                runtime.assembler.expect(request_id)
                station.awaited.expect(NotifyReportRequest, until_done=True)  # B02.FR.09: even before acceptance
                outcome = await station.session.call_outcome(
                    GetBaseReportRequest(request_id=request_id, report_base=ReportBase.FULL_INVENTORY),
                    GetBaseReportResponse,
                )
                _LOGGER.debug("%s: GetBaseReport(FullInventory) answered %s", station_id, outcome)
                if isinstance(outcome, CallTimeout) and station.connected:
                    return False  # no answer (lost, or the station busy): asked again while it stays connected
                if (
                    not isinstance(outcome, GetBaseReportResponse)
                    or outcome.status is not GenericDeviceModelStatus.ACCEPTED
                ):
                    runtime.assembler.take_partial()  # no report follows: the next boot asks again
                    self._awaited_done(station, runtime)
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
        """Assemble the parts; a complete inventory becomes the inventory, a report an action asked for is taken."""
        station_id = station.station_id
        runtime = await self.context.runtimes.async_get(station_id)
        if (asked := self._asked.get(station_id, {}).get(request.request_id)) is not None:
            self._take_asked(station, runtime, asked, request)
            return NotifyReportResponse()
        assembled = runtime.assembler.feed(request)
        if assembled is None:
            return NotifyReportResponse()
        self._awaited_done(station, runtime)
        self._take_inventory(station, runtime, assembled)
        self._end_turn(station_id)
        return NotifyReportResponse()

    @callback
    def _take_inventory(self, station: Station, runtime: StationRuntime, assembled: DeviceModel) -> None:
        """A complete FullInventory report becomes the station's inventory and its entities."""
        station_id = station.station_id
        runtime.device_model = assembled
        runtime.has_inventory = True
        runtime.inventory_firmware = station.boot.firmware_version if station.boot else None
        runtime.schedule_save_inventory()
        _LOGGER.info("%s: inventory of %d variables received", station_id, len(assembled))
        for evse_id in sorted({key.evse_id for key in assembled if key.evse_id}):
            self._evse_reported(station_id, evse_id)  # the EVSEs it reports get their devices
        self.context.signal(inventory_signal(self.context.entry_id), station_id)
        self.context.signal(variables_signal(self.context.entry_id, station_id))
        self.context.background(self._inventory_received(station_id), f"{DOMAIN} monitors")

    # ---- reports actions ask for ----------------------------------------------------------------------------

    async def async_get_base_report(self, station_id: str, report_base: ReportBase) -> dict[str, Any]:
        """GetBaseReport (B07); the station's status, whether the report completed in time, and its variables."""
        runtime = await self.context.runtimes.async_get(station_id)
        request = GetBaseReportRequest(request_id=self._fresh_request_id(station_id, runtime), report_base=report_base)
        return await self._async_report(station_id, request)

    async def async_get_report(
        self,
        station_id: str,
        *,
        criteria: list[ComponentCriterion] | None = None,
        component_variables: list[ComponentVariable] | None = None,
    ) -> dict[str, Any]:
        """GetReport (B08) with these criteria; as `async_get_base_report` answers.

        Component variables beyond the station's ItemsPerMessage GetReport go out in further requests, one after
        the other; their reports are given together.
        """
        runtime = await self.context.runtimes.async_get(station_id)
        size = runtime.device_model.items_per_message("GetReport")
        groups: list[list[ComponentVariable] | None] = [None]
        if component_variables:
            groups = [component_variables[start : start + size] for start in range(0, len(component_variables), size)]
        answers = []
        for group in groups:
            request = GetReportRequest(
                request_id=self._fresh_request_id(station_id, runtime),
                component_variable=group,
                component_criteria=criteria,
            )
            answers.append(await self._async_report(station_id, request))
        accepted = [answer for answer in answers if answer["status"] == GenericDeviceModelStatus.ACCEPTED]
        return {
            "status": (accepted[0] if accepted else answers[0])["status"],
            "complete": all(answer["complete"] for answer in answers),
            "report": [entry for answer in answers for entry in answer["report"]],
        }

    async def async_send_report_request(self, station_id: str, request: ReportRequest) -> ReportResponse:
        """Send a report request as given, with its own requestId; the station's answer.

        The report is taken when it is complete (awaited in the background for REPORT_TIMEOUT).
        """
        station = self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        report = self._expect(station, runtime, request)
        response = await self._ask(station, runtime, request)
        if response.status is GenericDeviceModelStatus.ACCEPTED:
            self.context.background(self._async_wait(station, runtime, request, report), f"{DOMAIN} report")
        return response

    async def _async_report(self, station_id: str, request: ReportRequest) -> dict[str, Any]:
        """Ask for one report and wait for it; refusals and a station that leaves are translated errors."""
        station = self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        report = self._expect(station, runtime, request)
        status = (await self._ask(station, runtime, request)).status
        if status is GenericDeviceModelStatus.EMPTY_RESULT_SET:
            return {"status": status.value, "complete": True, "report": []}
        if status is not GenericDeviceModelStatus.ACCEPTED:
            action = "GetBaseReport" if isinstance(request, GetBaseReportRequest) else "GetReport"
            raise refused(station_id, action, status.value)
        await self._async_wait(station, runtime, request, report)
        if report.left:
            raise not_connected(station_id)
        complete = report.model is not None
        return {
            "status": status.value,
            "complete": complete,
            "report": report_entries(report.model if complete else report.partial),
        }

    def _fresh_request_id(self, station_id: str, runtime: StationRuntime) -> int:
        """A requestId no report of the station uses (an action may have given one of its own)."""
        asked = self._asked.get(station_id, {})
        while (request_id := runtime.request_id()) in asked:
            pass
        return request_id

    def _expect(self, station: Station, runtime: StationRuntime, request: ReportRequest) -> _AskedReport:
        """Take the parts of the report with the request's requestId from now on (before its acceptance too)."""
        request_id = request.request_id
        asked = self._asked.setdefault(station.station_id, {})
        if request_id in asked or request_id == runtime.assembler.request_id:
            raise user_error("report_request_id_in_use", station=station.station_id, request_id=str(request_id))
        full = isinstance(request, GetBaseReportRequest) and request.report_base is ReportBase.FULL_INVENTORY
        report = asked[request_id] = _AskedReport(full=full)
        station.awaited.expect(NotifyReportRequest, until_done=True)  # B02.FR.09
        return report

    async def _ask(self, station: Station, runtime: StationRuntime, request: ReportRequest) -> ReportResponse:
        """Send the request; unless the station accepts it, no report follows and none is awaited."""
        response: ReportResponse
        try:
            if isinstance(request, GetBaseReportRequest):
                response = await self.context.call(station.station_id, request, GetBaseReportResponse)
            else:
                response = await self.context.call(station.station_id, request, GetReportResponse)
        except BaseException:
            self._forget(station, runtime, request.request_id)
            raise
        _LOGGER.debug("%s: %s answered %s", station.station_id, request, response.status)
        if response.status is not GenericDeviceModelStatus.ACCEPTED:
            self._forget(station, runtime, request.request_id)
        return response

    async def _async_wait(
        self, station: Station, runtime: StationRuntime, request: ReportRequest, report: _AskedReport
    ) -> None:
        """Until the report is complete, the station left or REPORT_TIMEOUT passed (what came is kept as partial)."""
        try:
            async with asyncio.timeout(REPORT_TIMEOUT):
                await report.over.wait()
        except TimeoutError:
            report.partial = report.assembler.take_partial()
            _LOGGER.info("%s: report %d incomplete after %g s", station.station_id, request.request_id, REPORT_TIMEOUT)
        finally:
            self._forget(station, runtime, request.request_id)

    @callback
    def _take_asked(
        self, station: Station, runtime: StationRuntime, report: _AskedReport, part: NotifyReportRequest
    ) -> None:
        """A part of a report an action asked for; once complete, the report goes into the inventory."""
        assembled = report.assembler.feed(part)
        if assembled is None:
            return
        if report.full:
            self._take_inventory(station, runtime, assembled)
        else:
            self._merge(station.station_id, runtime, assembled)
        report.model = assembled
        report.over.set()

    @callback
    def _merge(self, station_id: str, runtime: StationRuntime, report: DeviceModel) -> None:
        """The variables of a report other than the full inventory, merged into the inventory."""
        model = runtime.device_model
        count = len(model)
        if not model.merge(report):
            return
        if runtime.has_inventory:
            runtime.schedule_save_inventory()
        if len(model) > count:  # new variables: their EVSEs' devices and their entities
            for evse_id in sorted({key.evse_id for key in report if key.evse_id}):
                self._evse_reported(station_id, evse_id)
            self.context.signal(inventory_signal(self.context.entry_id), station_id)
        self.context.signal(variables_signal(self.context.entry_id, station_id))

    @callback
    def _forget(self, station: Station, runtime: StationRuntime, request_id: int) -> None:
        """A report an action asked for is over: its late parts are ignored, not taken as a new report."""
        asked = self._asked.get(station.station_id, {})
        if asked.pop(request_id, None) is not None:
            runtime.assembler.ignore(request_id)
        if not asked:
            self._asked.pop(station.station_id, None)
        self._awaited_done(station, runtime)

    @callback
    def _awaited_done(self, station: Station, runtime: StationRuntime) -> None:
        """NotifyReport is no longer awaited (before acceptance) once no report of the station is pending."""
        if runtime.assembler.request_id is None and not self._asked.get(station.station_id):
            station.awaited.done(NotifyReportRequest)
