"""Monitoring of a station's device model (N02-N08): level, base, the user's monitors, reports, and problems.

- SetMonitoringLevel (N05) from the station's *Monitoring level* select, SetMonitoringBase (N03) from an action.
- The user's monitors (SetVariableMonitoring, N04; ClearVariableMonitoring, N06), split to the station's
  ItemsPerMessage / BytesPerMessage. The integration's own Delta monitors (`variable_sync.py`) are never replaced
  or cleared by these actions, and the integration never touches the user's; after a SetMonitoringBase that deleted
  the custom monitors, the integration sets its own again.
- GetMonitoringReport (N02): the NotifyMonitoringReport parts assembled, the monitors returned and remembered.
- NotifyEvent (N07, N08): values go to the device model (`variable_sync.py`); an event of a monitor at least as
  severe as the problem threshold (option, default 3 "Critical"), or a component's Problem variable turning true,
  fires the station's *Problem* event entity and opens a repair, which the event's end (`cleared`, or Problem
  false) closes.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
import hashlib
import logging
from typing import Any, Final

from homeassistant.core import callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import slugify

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import refused, user_error
from .protocol.batching import batches
from .protocol.v201.datatypes import (
    ClearMonitoringResult,
    ComponentVariable,
    MonitoringData,
    SetMonitoringData,
    SetMonitoringResult,
)
from .protocol.v201.enums import (
    Attribute,
    ClearMonitoringStatus,
    GenericDeviceModelStatus,
    GenericStatus,
    Monitor,
    MonitoringBase,
    MonitoringCriterion,
)
from .protocol.v201.messages import (
    ClearVariableMonitoringRequest,
    ClearVariableMonitoringResponse,
    GetMonitoringReportRequest,
    GetMonitoringReportResponse,
    NotifyEventRequest,
    NotifyEventResponse,
    NotifyMonitoringReportRequest,
    NotifyMonitoringReportResponse,
    SetMonitoringBaseRequest,
    SetMonitoringBaseResponse,
    SetMonitoringLevelRequest,
    SetMonitoringLevelResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
)
from .signals import problem_signal, station_signal, variables_signal
from .station.device_model import VariableKey
from .station.events import VariableEvent, parse_notify_event
from .station.monitors import MonitorInfo, MonitorOwner, ProblemEvent, StationMonitors, problem_of
from .station.report_parts import ReportParts

_LOGGER = logging.getLogger(__name__)

MONITORING_CTRLR: Final = "MonitoringCtrlr"


@dataclass(frozen=True, slots=True)
class MonitorRequest:
    """A monitor the user asks for (SetMonitoringDataType); `id` replaces one of the user's monitors."""

    key: VariableKey
    type: Monitor
    value: float
    severity: int
    transaction: bool = False
    id: int | None = None


def problem_issue_id(station_id: str, key: VariableKey) -> str:
    """The repair issue of a problem a station reports on one variable."""
    digest = hashlib.sha256(f"{station_id}\n{key.slug}".encode()).hexdigest()[:12]
    return f"station_problem_{slugify(station_id)}_{digest}"


class StationMonitoring(StationListener):
    """Monitoring actions and NotifyEvent of one config entry's stations."""

    def __init__(
        self,
        context: StationContext,
        *,
        events_received: Callable[[str, list[VariableEvent]], Coroutine[Any, Any, None]],
        own_monitors_dropped: Callable[[str], Coroutine[Any, Any, None]],
        problem_severity: int,
    ) -> None:
        """Serve NotifyEvent and NotifyMonitoringReport.

        `events_received` applies events' values to the device model; `own_monitors_dropped` sets the integration's
        monitors again; events of monitors with a severity up to `problem_severity` are problems.
        """
        self.context = context
        self._events_received = events_received
        self._own_monitors_dropped = own_monitors_dropped
        self.problem_severity = problem_severity
        self._reports: ReportParts[MonitoringData] = ReportParts()
        #: The level last set in this run, per station, until the station reports its own.
        self._levels: dict[str, int] = {}
        #: Open problems per station: the repair issue ids.
        self._problems: dict[str, set[str]] = {}
        context.central.handle(NotifyEventRequest, self._notify_event)
        context.central.handle(NotifyMonitoringReportRequest, self._notify_monitoring_report)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """No more report parts will come."""
        self._reports.discard_station(station.station_id)

    def monitors(self, station_id: str) -> StationMonitors:
        """The station's monitors known in this run."""
        runtime = self.context.runtimes.get(station_id)
        return runtime.monitors if runtime is not None else StationMonitors()

    # ---- level and base (N05, N03) ------------------------------------------------------------------

    def level(self, station_id: str) -> int | None:
        """The monitoring level in force: as the station reports it, else as last set in this run."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is not None:
            for variable in ("ActiveMonitoringLevel", "MonitoringLevel"):
                info = runtime.device_model.find(MONITORING_CTRLR, variable)
                if info is not None and info.value is not None and info.value.strip().isdigit():
                    return int(info.value)
        return self._levels.get(station_id)

    async def async_set_level(self, station_id: str, severity: int) -> None:
        """SetMonitoringLevel (N05): only events of monitors this severe or more are reported."""
        response = await self.context.call(
            station_id, SetMonitoringLevelRequest(severity=severity), SetMonitoringLevelResponse
        )
        if response.status is not GenericStatus.ACCEPTED:
            raise refused(station_id, "SetMonitoringLevel", response.status.value)
        self._levels[station_id] = severity
        runtime = await self.context.runtimes.async_get(station_id)
        for variable in ("ActiveMonitoringLevel", "MonitoringLevel"):
            for key, _info in runtime.device_model.find_all(MONITORING_CTRLR, variable):
                runtime.device_model.update_value(key, Attribute.ACTUAL, str(severity))
        self.context.signal(variables_signal(self.context.entry_id, station_id))
        self.context.signal(station_signal(self.context.entry_id, station_id))

    async def async_set_base(self, station_id: str, base: MonitoringBase) -> str:
        """SetMonitoringBase (N03); FactoryDefault and HardWiredOnly delete every custom monitor (ours go again)."""
        response = await self.context.call(
            station_id, SetMonitoringBaseRequest(monitoring_base=base), SetMonitoringBaseResponse
        )
        if response.status is not GenericDeviceModelStatus.ACCEPTED:
            raise refused(station_id, "SetMonitoringBase", response.status.value)
        if base is not MonitoringBase.ALL:
            runtime = await self.context.runtimes.async_get(station_id)
            runtime.monitors.forget_custom()
            await self._own_monitors_dropped(station_id)
        return response.status.value

    # ---- the user's monitors (N04, N06) -------------------------------------------------------------

    async def async_set_monitors(self, station_id: str, wanted: list[MonitorRequest]) -> list[SetMonitoringResult]:
        """SetVariableMonitoring of the user's monitors, batched; the station's result for each."""
        self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        for monitor in wanted:
            if monitor.id is not None and runtime.monitors.owner(monitor.id) is MonitorOwner.INTEGRATION:
                raise user_error("monitor_of_integration", station=station_id, id=str(monitor.id))
        data = [
            SetMonitoringData(
                id=monitor.id,
                value=monitor.value,
                type=monitor.type,
                severity=monitor.severity,
                transaction=monitor.transaction or None,
                component=monitor.key.to_component(),
                variable=monitor.key.to_variable(),
            )
            for monitor in wanted
        ]
        values = {monitor.key: monitor.value for monitor in wanted}
        model = runtime.device_model
        results: list[SetMonitoringResult] = []
        for group in batches(
            data,
            max_items=model.items_per_message("SetVariableMonitoring"),
            max_bytes=model.bytes_per_message("SetVariableMonitoring"),
            payload=lambda item: item,
        ):
            response = await self.context.call(
                station_id, SetVariableMonitoringRequest(set_monitoring_data=group), SetVariableMonitoringResponse
            )
            runtime.monitors.record_results(response.set_monitoring_result, MonitorOwner.USER, values)
            results.extend(response.set_monitoring_result)
        return results

    async def async_clear_monitors(self, station_id: str, monitor_ids: list[int]) -> list[ClearMonitoringResult]:
        """ClearVariableMonitoring (N06) of monitors that are not the integration's, batched; each result."""
        self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        for monitor_id in monitor_ids:
            if runtime.monitors.owner(monitor_id) is MonitorOwner.INTEGRATION:
                raise user_error("monitor_of_integration", station=station_id, id=str(monitor_id))
        model = runtime.device_model
        results: list[ClearMonitoringResult] = []
        for group in batches(
            list(monitor_ids),
            max_items=model.items_per_message("ClearVariableMonitoring"),
            max_bytes=model.bytes_per_message("ClearVariableMonitoring"),
            payload=lambda monitor_id: ClearVariableMonitoringRequest(id=[monitor_id]),
        ):
            response = await self.context.call(
                station_id, ClearVariableMonitoringRequest(id=group), ClearVariableMonitoringResponse
            )
            runtime.monitors.forget(
                result.id
                for result in response.clear_monitoring_result
                if result.status is ClearMonitoringStatus.ACCEPTED
            )
            results.extend(response.clear_monitoring_result)
        return results

    # ---- reports (N02) --------------------------------------------------------------------------------

    async def async_report(
        self, station_id: str, criteria: list[MonitoringCriterion], variables: list[VariableKey]
    ) -> tuple[str, list[MonitorInfo]]:
        """GetMonitoringReport: the station's answer and the monitors it reported (remembered, with owners)."""
        self.context.connected(station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        request_id = runtime.request_id()
        request = GetMonitoringReportRequest(
            request_id=request_id,
            monitoring_criteria=criteria or None,
            component_variable=[
                ComponentVariable(component=key.to_component(), variable=key.to_variable()) for key in variables
            ]
            or None,
        )
        response, report = await self.context.call_for_report(
            station_id,
            request,
            GetMonitoringReportResponse,
            parts=self._reports,
            request_id=request_id,
            accepted=lambda answer: answer.status is GenericDeviceModelStatus.ACCEPTED,
        )
        if response.status not in (GenericDeviceModelStatus.ACCEPTED, GenericDeviceModelStatus.EMPTY_RESULT_SET):
            raise refused(station_id, "GetMonitoringReport", response.status.value)
        return response.status.value, runtime.monitors.record_report(report or [])

    async def _notify_monitoring_report(
        self, station: Station, request: NotifyMonitoringReportRequest
    ) -> NotifyMonitoringReportResponse:
        """A part of a monitoring report (N02.FR.09: seqNo from 0, tbc on all but the last)."""
        if not self._reports.feed(
            station.station_id, request.request_id, request.monitor, tbc=bool(request.tbc), seq_no=request.seq_no
        ):
            _LOGGER.debug("%s: NotifyMonitoringReport %d not asked for", station.station_id, request.request_id)
        return NotifyMonitoringReportResponse()

    # ---- events and problems (N07, N08) -------------------------------------------------------------

    async def _notify_event(self, station: Station, request: NotifyEventRequest) -> NotifyEventResponse:
        """Values to the device model; problems to the event entity and repairs (N08.FR.02: an empty response)."""
        station_id = station.station_id
        events = parse_notify_event(request)
        await self._events_received(station_id, events)
        monitors = self.monitors(station_id)
        for event in events:
            problem = problem_of(event, monitors.get(event.variable_monitoring_id), self.problem_severity)
            if problem is not None:
                self._problem(station_id, problem)
        return NotifyEventResponse()

    @callback
    def _problem(self, station_id: str, problem: ProblemEvent) -> None:
        key = problem.event.key
        issue_id = problem_issue_id(station_id, key)
        open_problems = self._problems.setdefault(station_id, set())
        if problem.cleared:
            if issue_id not in open_problems:
                return
            open_problems.discard(issue_id)
            ir.async_delete_issue(self.context.hass, DOMAIN, issue_id)
            _LOGGER.info("%s: problem with %s.%s cleared", station_id, key.component, key.variable)
        else:
            open_problems.add(issue_id)
            where = f"{key.component}.{key.variable}"
            if key.evse_id:
                where += f" (EVSE {key.evse_id})"
            ir.async_create_issue(
                self.context.hass,
                DOMAIN,
                issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="station_problem",
                translation_placeholders={
                    "station": station_id,
                    "variable": where,
                    "value": problem.event.actual_value[:100],
                    "severity": "-" if problem.severity is None else str(problem.severity),
                },
            )
            _LOGGER.warning(
                "%s: problem with %s: %r (severity %s, tech code %r)",
                station_id,
                where,
                problem.event.actual_value[:100],
                problem.severity,
                problem.event.tech_code,
            )
        self.context.signal(problem_signal(self.context.entry_id, station_id), problem)

    @callback
    def forget_station(self, station_id: str) -> None:
        """A forgotten station's problems are no one's to fix."""
        for issue_id in self._problems.pop(station_id, set()):
            ir.async_delete_issue(self.context.hass, DOMAIN, issue_id)
        self._levels.pop(station_id, None)
