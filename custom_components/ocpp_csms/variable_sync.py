"""Keeping the station's variables and Home Assistant in step: batched writes (B05), reads (B06), monitors (N04, N07).

- Writes made in the same event loop turn (entities, the `set_variables` action) go out together as SetVariables
  requests, split to the station's ItemsPerMessage / BytesPerMessage. Each writer learns the result of its value;
  a value that needs a reboot opens a repair, deleted when the station boots again.
- Variables that support monitoring get a Delta monitor once their entity is enabled, so the station tells us of
  changes with NotifyEvent (served by `monitoring.py`, which hands the events to `async_events_received`); the
  others, and all of them while the monitoring level silences our monitors, are refreshed with batched
  GetVariables every POLL_INTERVAL. Never one call per entity per poll. The monitors' ids are recorded as the
  integration's own (`StationRuntime.monitors`), so that the user's monitoring actions never remove them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import Final

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import station_error, translated_errors
from .protocol.batching import batches
from .protocol.session import CallFailed
from .protocol.v201.datatypes import (
    GetVariableData,
    GetVariableResult,
    SetMonitoringData,
    SetVariableData,
    SetVariableResult,
)
from .protocol.v201.enums import Attribute, Monitor, SetMonitoringStatus, SetVariableStatus
from .protocol.v201.messages import (
    GetVariablesRequest,
    GetVariablesResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)
from .signals import variables_signal
from .station.device_model import VariableKey
from .station.events import VariableEvent, apply_events
from .station.monitors import MonitorOwner
from .station_runtime import StationRuntime

_LOGGER = logging.getLogger(__name__)

POLL_INTERVAL: Final = timedelta(minutes=5)
#: Severity of our monitors: 8 is "Informational" (Part 2, SetMonitoringLevelRequest); the station then sends
#: NotifyEvent, nothing else. A monitoring level below it silences them: their variables are then polled.
MONITOR_SEVERITY: Final = 8


def reboot_issue_id(station_id: str) -> str:
    """Repair issue id: the station needs a reboot to apply a setting."""
    return f"reboot_required_{station_id}"


@dataclass(slots=True)
class _PendingWrite:
    data: SetVariableData
    key: VariableKey
    future: asyncio.Future[SetVariableResult]


class VariableSync(StationListener):
    """Reads and writes of one config entry's station variables."""

    def __init__(self, context: StationContext) -> None:
        """Serve NotifyEvent; nothing pending; polling starts with `async_start`."""
        self.context = context
        self._writes: dict[str, list[_PendingWrite]] = {}
        self._flushes: set[asyncio.Task[None]] = set()
        #: Enabled variable entities per station: what polling and monitors cover.
        self._enabled: dict[str, set[VariableKey]] = {}
        self._monitored: dict[str, set[VariableKey]] = {}
        #: Stations whose monitors are set once this turn's burst of enabled entities is in.
        self._monitors_due: set[str] = set()
        self._monitor_locks: dict[str, asyncio.Lock] = {}

    @callback
    def async_start(self) -> CALLBACK_TYPE:
        """Refresh polled variables every POLL_INTERVAL; the returned callable stops it."""
        return async_track_time_interval(self.context.hass, self._async_poll, POLL_INTERVAL)

    # ---- station events ---------------------------------------------------------------------------------

    @callback
    def station_connected(self, station: Station) -> None:
        """A trusted station (re)connected: variables may have changed meanwhile (read once it is ready)."""
        if station.station_id in self.context.central.registry:
            self.context.background(self._async_keep_current_when_ready(station), f"{DOMAIN} variables")

    @callback
    def station_booted(self, station: Station) -> None:
        """A reboot applied the settings that needed one."""
        ir.async_delete_issue(self.context.hass, DOMAIN, reboot_issue_id(station.station_id))

    async def _async_keep_current_when_ready(self, station: Station) -> None:
        """Monitors and a fresh read once per connection, when the station has an inventory of its firmware."""
        runtime = await self.context.runtimes.async_get(station.station_id)
        if not await self.context.central.wait_ready(station) or not runtime.has_inventory:
            return
        firmware = station.boot.firmware_version if station.boot else None
        if firmware is None or firmware == runtime.inventory_firmware:  # else a new inventory is on its way
            await self.async_keep_current(station.station_id)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """Monitors are set again after a reconnect (a rebooted station may have dropped them)."""
        self._monitored.pop(station.station_id, None)

    async def async_keep_current(self, station_id: str) -> None:
        """Monitors on the enabled variables that support them, and a fresh read of the others."""
        await self.async_set_monitors(station_id)
        await self.async_refresh(station_id)

    async def async_events_received(self, station_id: str, events: list[VariableEvent]) -> None:
        """Monitored values changed (N07, NotifyEvent): update the model and the entities showing them."""
        runtime = await self.context.runtimes.async_get(station_id)
        if apply_events(runtime.device_model, events):
            self._changed(runtime)

    async def async_monitors_dropped(self, station_id: str) -> None:
        """The station deleted every custom monitor (SetMonitoringBase, N03): ours go out again."""
        self._monitored.pop(station_id, None)
        if self.context.is_connected(station_id):
            await self.async_set_monitors(station_id)

    @callback
    def _changed(self, runtime: StationRuntime) -> None:
        runtime.schedule_save_inventory()
        self.context.signal(variables_signal(self.context.entry_id, runtime.station_id))

    # ---- writes ----------------------------------------------------------------------------------------------

    async def async_set(self, station_id: str, key: VariableKey, value: str) -> None:
        """Write one variable; a translated error unless the station accepts it (or accepts it after a reboot)."""
        (result,) = await self.async_set_many(station_id, [(key, value)])
        status = result.attribute_status
        if status not in (SetVariableStatus.ACCEPTED, SetVariableStatus.REBOOT_REQUIRED):
            raise station_error(
                "variable_rejected", station_id, variable=f"{key.component}.{key.variable}", status=status.value
            )

    async def async_set_many(
        self, station_id: str, values: Iterable[tuple[VariableKey, str]]
    ) -> list[SetVariableResult]:
        """Write variables (batched with the other writes of this turn); the station's result for each."""
        self.context.connected(station_id)
        loop = self.context.hass.loop
        pending = self._writes.setdefault(station_id, [])
        if not pending:  # the first write of this turn schedules the flush of all of them
            task = self.context.background(self._flush(station_id), f"{DOMAIN} SetVariables")
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        writes = [
            _PendingWrite(
                SetVariableData(attribute_value=value, component=key.to_component(), variable=key.to_variable()),
                key,
                loop.create_future(),
            )
            for key, value in values
        ]
        pending.extend(writes)
        outcomes = await asyncio.gather(*(write.future for write in writes), return_exceptions=True)
        results: list[SetVariableResult] = []
        for write, outcome in zip(writes, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                with translated_errors(station_id):
                    raise outcome
            if outcome.attribute_status is SetVariableStatus.REBOOT_REQUIRED:
                self._reboot_required(station_id, write.key)
            results.append(outcome)
        return results

    async def async_written(
        self, station_id: str, request: SetVariablesRequest, response: SetVariablesResponse
    ) -> None:
        """SetVariables sent as it was given (the `send_request` action): its entities show what the station holds.

        The values it accepted are recorded and read back with GetVariables (one that cannot be read back keeps
        the value written); a value that needs a reboot opens the repair.
        """
        runtime = await self.context.runtimes.async_get(station_id)
        model = runtime.device_model
        if model.apply_set_variable_results(request.set_variable_data, response.set_variable_result):
            self._changed(runtime)
        read_back: list[GetVariableData] = []
        for result in response.set_variable_result:
            key = VariableKey.from_ocpp(result.component, result.variable)
            if result.attribute_status is SetVariableStatus.REBOOT_REQUIRED:
                self._reboot_required(station_id, key)
            elif result.attribute_status is SetVariableStatus.ACCEPTED and (info := model.get(key)) is not None:
                attribute = info.attributes.get(result.attribute_type or Attribute.ACTUAL)
                if attribute is None or attribute.readable:
                    read_back.append(
                        GetVariableData(
                            component=result.component,
                            variable=result.variable,
                            attribute_type=result.attribute_type,
                        )
                    )
        if not read_back or not self.context.is_connected(station_id):
            return
        try:
            await self._async_get_data(station_id, read_back)
        except CallFailed as err:
            _LOGGER.debug("%s: variables written not read back: %s", station_id, err)

    @callback
    def _reboot_required(self, station_id: str, key: VariableKey) -> None:
        ir.async_create_issue(
            self.context.hass,
            DOMAIN,
            reboot_issue_id(station_id),
            is_fixable=True,
            severity=ir.IssueSeverity.WARNING,
            translation_key="reboot_required",
            translation_placeholders={"station": station_id, "variable": f"{key.component}.{key.variable}"},
            data={"entry_id": self.context.entry_id, "station_id": station_id},
        )

    async def _flush(self, station_id: str) -> None:
        await asyncio.sleep(0)  # let the other writes of this turn join
        pending = self._writes.pop(station_id, [])
        runtime = await self.context.runtimes.async_get(station_id)
        model = runtime.device_model
        session = self.context.central.station(station_id).session
        for group in batches(
            pending,
            max_items=model.items_per_message("SetVariables"),
            max_bytes=model.bytes_per_message("SetVariables"),
            payload=lambda write: write.data,
        ):
            request = SetVariablesRequest(set_variable_data=[write.data for write in group])
            try:
                response = await session.call(request, SetVariablesResponse)
            except CallFailed as err:
                for write in group:
                    if not write.future.done():  # its writer may have been cancelled meanwhile
                        write.future.set_exception(err)
                continue
            if model.apply_set_variable_results(request.set_variable_data, response.set_variable_result):
                self._changed(runtime)
            results = {
                VariableKey.from_ocpp(result.component, result.variable).slug: result
                for result in response.set_variable_result
            }
            for write in group:
                result = results.get(write.key.slug) or SetVariableResult(
                    attribute_status=SetVariableStatus.REJECTED,
                    component=write.data.component,
                    variable=write.data.variable,
                )
                if not write.future.done():
                    write.future.set_result(result)

    # ---- reads: monitors and polling ----------------------------------------------------------------------

    @callback
    def entity_enabled(self, station_id: str, key: VariableKey) -> CALLBACK_TYPE:
        """A variable entity was added (enabled): keep its value current until the returned callable is called.

        Its monitor goes out with those of the other entities enabled in the same burst, in one request.
        """
        self._enabled.setdefault(station_id, set()).add(key)
        if station_id not in self._monitors_due and self.context.is_connected(station_id):
            self._monitors_due.add(station_id)
            self.context.background(self._async_monitors_due(station_id), f"{DOMAIN} monitors")
        return lambda: self._enabled.get(station_id, set()).discard(key)

    async def _async_monitors_due(self, station_id: str) -> None:
        await asyncio.sleep(0)  # the rest of the burst joins
        self._monitors_due.discard(station_id)
        if self.context.is_connected(station_id):
            await self.async_set_monitors(station_id)

    async def async_inventory_received(self, station_id: str) -> None:
        """A new inventory: monitors on the enabled variables that support them."""
        await self.async_set_monitors(station_id)

    async def async_set_monitors(self, station_id: str) -> None:
        """Put a Delta monitor on each enabled variable that supports monitoring (N04), once per connection.

        One station's monitors go out one request at a time: what a request covers is known before the next asks.
        """
        lock = self._monitor_locks.setdefault(station_id, asyncio.Lock())
        async with lock:
            await self._async_set_monitors(station_id)

    async def _async_set_monitors(self, station_id: str) -> None:
        runtime = await self.context.runtimes.async_get(station_id)
        model = runtime.device_model
        monitored = self._monitored.setdefault(station_id, set())
        wanted = [
            key
            for key in self._enabled.get(station_id, ())
            if key not in monitored
            and (info := model.get(key)) is not None
            and info.characteristics is not None
            and info.characteristics.supports_monitoring
        ]
        if not wanted:
            return
        data = [
            SetMonitoringData(
                value=0,
                type=Monitor.DELTA,
                severity=MONITOR_SEVERITY,
                component=key.to_component(),
                variable=key.to_variable(),
            )
            for key in wanted
        ]
        session = self.context.central.station(station_id).session
        for group in batches(
            data,
            max_items=model.items_per_message("SetVariableMonitoring"),
            max_bytes=model.bytes_per_message("SetVariableMonitoring"),
            payload=lambda item: item,
        ):
            outcome = await session.call_outcome(
                SetVariableMonitoringRequest(set_monitoring_data=group), SetVariableMonitoringResponse
            )
            if not isinstance(outcome, SetVariableMonitoringResponse):
                return
            runtime.monitors.record_results(
                outcome.set_monitoring_result, MonitorOwner.INTEGRATION, dict.fromkeys(wanted, 0.0)
            )
            monitored.update(
                VariableKey.from_ocpp(result.component, result.variable)
                for result in outcome.set_monitoring_result
                if result.status is SetMonitoringStatus.ACCEPTED
            )

    async def async_refresh(self, station_id: str) -> None:
        """Read the enabled, unmonitored variables the station reported with batched GetVariables (B06)."""
        if not self.context.is_connected(station_id):
            return
        runtime = await self.context.runtimes.async_get(station_id)
        monitored = self._monitored.get(station_id, set()) if self._monitors_report(runtime) else set()
        wanted = [
            key for key in self._enabled.get(station_id, ()) if key not in monitored and key in runtime.device_model
        ]
        try:
            await self.async_get_many(station_id, sorted(wanted, key=lambda key: key.slug))
        except CallFailed as err:
            _LOGGER.debug("%s: variables not refreshed: %s", station_id, err)

    @staticmethod
    def _monitors_report(runtime: StationRuntime) -> bool:
        """Whether the station's monitoring level lets our monitors' events through (N05.FR.03)."""
        model = runtime.device_model
        for variable in ("ActiveMonitoringLevel", "MonitoringLevel"):
            info = model.find("MonitoringCtrlr", variable)
            if info is not None and info.value is not None and info.value.strip().isdigit():
                return int(info.value) >= MONITOR_SEVERITY
        return True

    async def async_get_many(self, station_id: str, keys: list[VariableKey]) -> list[GetVariableResult]:
        """Read variables with GetVariables split to the station's limits (B06.FR.05); the results in order.

        Raises CallFailed when a request is not answered; the values read before are kept.
        """
        data = [GetVariableData(component=key.to_component(), variable=key.to_variable()) for key in keys]
        return await self._async_get_data(station_id, data)

    async def _async_get_data(self, station_id: str, data: list[GetVariableData]) -> list[GetVariableResult]:
        runtime = await self.context.runtimes.async_get(station_id)
        model = runtime.device_model
        session = self.context.connected(station_id).session
        results: list[GetVariableResult] = []
        for group in batches(
            data,
            max_items=model.items_per_message("GetVariables"),
            max_bytes=model.bytes_per_message("GetVariables"),
            payload=lambda item: item,
        ):
            response = await session.call(GetVariablesRequest(get_variable_data=group), GetVariablesResponse)
            if model.apply_get_variable_results(response.get_variable_result):
                self._changed(runtime)
            results.extend(response.get_variable_result)
        return results

    async def _async_poll(self, _now: object = None) -> None:
        for station_id in list(self._enabled):
            await self.async_refresh(station_id)
