"""Keeping variable entities and the station in step: batched writes (B05), monitors (N04), batched reads (B06).

- Writes from entities made in the same event loop turn go out together as SetVariables requests, split to the
  station's ItemsPerMessage / BytesPerMessage. Each entity learns the status of its own value.
- Variables that support monitoring get a Delta monitor once their entity is enabled, so the station tells us of
  changes with NotifyEvent; the others are refreshed with batched GetVariables at a modest interval. Never one
  call per entity per poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
import logging
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval

from .const import DOMAIN
from .protocol.model import OcppModel
from .protocol.session import CallFailed
from .protocol.v201.datatypes import GetVariableData, SetMonitoringData, SetVariableData
from .protocol.v201.enums import Monitor, SetMonitoringStatus, SetVariableStatus
from .protocol.v201.messages import (
    GetVariablesRequest,
    GetVariablesResponse,
    SetVariableMonitoringRequest,
    SetVariableMonitoringResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)
from .station.device_model import VariableKey
from .station_messages import variables_signal

if TYPE_CHECKING:
    from .hub import OcppCsmsHub

_LOGGER = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(minutes=5)
#: Severity of our monitors: 8 is "Debug" (Part 2 N04); the station then sends NotifyEvent, nothing else.
MONITOR_SEVERITY = 8
#: Room left for the frame around the items when a BytesPerMessage limit applies.
FRAME_OVERHEAD = 128


def reboot_issue_id(station_id: str) -> str:
    """Repair issue id: the station needs a reboot to apply a setting."""
    return f"reboot_required_{station_id}"


@dataclass(slots=True)
class _PendingWrite:
    data: SetVariableData
    key: VariableKey
    future: asyncio.Future[SetVariableStatus]


def batches[T](items: list[T], *, max_items: int, max_bytes: int, payload: Callable[[T], OcppModel]) -> list[list[T]]:
    """Split items into requests of at most `max_items` items and `max_bytes` bytes (`payload` of an item)."""
    result: list[list[T]] = []
    current: list[T] = []
    current_bytes = FRAME_OVERHEAD
    for item in items:
        item_bytes = len(payload(item).to_json()) + 1
        if current and (len(current) >= max_items or current_bytes + item_bytes > max_bytes):
            result.append(current)
            current, current_bytes = [], FRAME_OVERHEAD
        current.append(item)
        current_bytes += item_bytes
    if current:
        result.append(current)
    return result


class VariableSync:
    """Reads and writes of one config entry's station variables."""

    def __init__(self, hub: OcppCsmsHub) -> None:
        """Nothing pending; polling starts with `async_start`."""
        self.hub = hub
        self._writes: dict[str, list[_PendingWrite]] = {}
        self._flushes: set[asyncio.Task[None]] = set()
        #: Enabled variable entities per station: what polling and monitors cover.
        self._enabled: dict[str, set[VariableKey]] = {}
        self._monitored: dict[str, set[VariableKey]] = {}

    @callback
    def async_start(self) -> None:
        """Refresh polled variables at a modest interval while the entry is loaded."""
        self.hub.entry.async_on_unload(async_track_time_interval(self.hub.hass, self._async_poll, POLL_INTERVAL))

    # ---- writes ------------------------------------------------------------------------------------------

    async def async_set(self, station_id: str, key: VariableKey, value: str) -> None:
        """Write one variable; raises a translated HomeAssistantError unless the station accepts it."""
        self.hub.connected_station(station_id)
        future: asyncio.Future[SetVariableStatus] = self.hub.hass.loop.create_future()
        data = SetVariableData(attribute_value=value, component=key.to_component(), variable=key.to_variable())
        pending = self._writes.setdefault(station_id, [])
        pending.append(_PendingWrite(data, key, future))
        if len(pending) == 1:  # the first write of this turn schedules the flush of all of them
            task = self.hub.entry.async_create_background_task(
                self.hub.hass, self._flush(station_id), f"{DOMAIN} SetVariables"
            )
            self._flushes.add(task)
            task.add_done_callback(self._flushes.discard)
        try:
            status = await future
        except CallFailed as err:
            from .hub import call_failed_error  # noqa: PLC0415 - hub imports this module

            raise call_failed_error(station_id, err) from err
        if status is SetVariableStatus.REBOOT_REQUIRED:
            ir.async_create_issue(
                self.hub.hass,
                DOMAIN,
                reboot_issue_id(station_id),
                is_fixable=True,
                severity=ir.IssueSeverity.WARNING,
                translation_key="reboot_required",
                translation_placeholders={"station": station_id, "variable": f"{key.component}.{key.variable}"},
                data={"entry_id": self.hub.entry.entry_id, "station_id": station_id},
            )
            return
        if status is not SetVariableStatus.ACCEPTED:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="variable_rejected",
                translation_placeholders={
                    "station": station_id,
                    "variable": f"{key.component}.{key.variable}",
                    "status": status.value,
                },
            )

    async def _flush(self, station_id: str) -> None:
        await asyncio.sleep(0)  # let the other writes of this turn join
        pending = self._writes.pop(station_id, [])
        runtime = await self.hub.async_runtime(station_id)
        model = runtime.device_model
        groups = batches(
            pending,
            max_items=model.items_per_message("SetVariables"),
            max_bytes=model.bytes_per_message("SetVariables"),
            payload=lambda write: write.data,
        )
        session = self.hub.central.station(station_id).session
        for group in groups:
            request = SetVariablesRequest(set_variable_data=[write.data for write in group])
            try:
                response = await session.call(request, SetVariablesResponse)
            except CallFailed as err:
                for write in group:
                    if not write.future.done():
                        write.future.set_exception(err)
                continue
            if model.apply_set_variable_results(request.set_variable_data, response.set_variable_result):
                runtime.schedule_save_inventory()
                async_dispatcher_send(self.hub.hass, variables_signal(self.hub.entry.entry_id, station_id))
            statuses = {
                (VariableKey.from_ocpp(result.component, result.variable).slug): result.attribute_status
                for result in response.set_variable_result
            }
            for write in group:
                if not write.future.done():
                    write.future.set_result(statuses.get(write.key.slug, SetVariableStatus.REJECTED))

    # ---- reads: monitors and polling ---------------------------------------------------------------------

    @callback
    def entity_enabled(self, station_id: str, key: VariableKey) -> None:
        """A variable entity was added (enabled): keep its value current."""
        self._enabled.setdefault(station_id, set()).add(key)

    @callback
    def entity_removed(self, station_id: str, key: VariableKey) -> None:
        """A variable entity went away."""
        self._enabled.get(station_id, set()).discard(key)

    async def async_set_monitors(self, station_id: str) -> None:
        """Put a Delta monitor on each enabled variable that supports monitoring (N04), once per connection."""
        runtime = await self.hub.async_runtime(station_id)
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
        session = self.hub.central.station(station_id).session
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
            monitored.update(
                VariableKey.from_ocpp(result.component, result.variable)
                for result in outcome.set_monitoring_result
                if result.status is SetMonitoringStatus.ACCEPTED
            )

    @callback
    def connection_lost(self, station_id: str) -> None:
        """Monitors are set again after a reconnect (a rebooted station may have dropped them)."""
        self._monitored.pop(station_id, None)

    async def async_refresh(self, station_id: str, keys: Iterable[VariableKey] | None = None) -> None:
        """Read enabled, unmonitored variables with batched GetVariables (B06)."""
        station = self.hub.central.stations.get(station_id)
        if station is None or not station.connected:
            return
        runtime = await self.hub.async_runtime(station_id)
        model = runtime.device_model
        monitored = self._monitored.get(station_id, set())
        candidates = self._enabled.get(station_id, set()) if keys is None else keys
        wanted = sorted((key for key in candidates if key not in monitored and key in model), key=lambda key: key.slug)
        data = [GetVariableData(component=key.to_component(), variable=key.to_variable()) for key in wanted]
        changed = False
        for group in batches(
            data,
            max_items=model.items_per_message("GetVariables"),
            max_bytes=model.bytes_per_message("GetVariables"),
            payload=lambda item: item,
        ):
            outcome = await station.session.call_outcome(
                GetVariablesRequest(get_variable_data=group), GetVariablesResponse
            )
            if not isinstance(outcome, GetVariablesResponse):
                return
            changed |= bool(model.apply_get_variable_results(outcome.get_variable_result))
        if changed:
            runtime.schedule_save_inventory()
            async_dispatcher_send(self.hub.hass, variables_signal(self.hub.entry.entry_id, station_id))

    async def _async_poll(self, _now: object = None) -> None:
        for station_id in list(self._enabled):
            await self.async_refresh(station_id)
