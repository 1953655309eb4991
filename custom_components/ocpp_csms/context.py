"""What every glue service shares: Home Assistant, the central system, the stations' runtimes, and CALLs.

The glue services (inventory, sessions, variables, charging, commands, ...) each take this context and nothing of
each other; where one needs another's behaviour, `async_setup_entry` passes it a callable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.util.signal_type import SignalType

from .csms.central_system import CentralSystem
from .csms.station import Station
from .helpers import not_connected, report_incomplete, translated_errors
from .protocol.model import OcppModel
from .station.report_parts import ReportIncompleteError, ReportParts
from .station_runtime import StationRuntimes

#: How long a report the station sends in parts may take to arrive (after its request was accepted).
REPORT_TIMEOUT: Final = 60.0

type BackgroundTask = Callable[[Coroutine[Any, Any, Any], str], asyncio.Task[Any]]
"""Runs a coroutine as a background task of the config entry (cancelled on unload), with a name."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StationContext:
    """The shared context of one config entry's glue services."""

    hass: HomeAssistant
    entry_id: str
    central: CentralSystem
    runtimes: StationRuntimes
    background: BackgroundTask

    def connected(self, station_id: str) -> Station:
        """The station, when it is connected; a translated error otherwise."""
        station = self.central.stations.get(station_id)
        if station is None or not station.connected:
            raise not_connected(station_id)
        return station

    def is_connected(self, station_id: str) -> bool:
        """Whether the station is connected."""
        station = self.central.stations.get(station_id)
        return station is not None and station.connected

    async def call[Resp: OcppModel](self, station_id: str, request: OcppModel, response: type[Resp]) -> Resp:
        """Send a CALL to a connected station; its response, or a translated error when there is none."""
        station = self.connected(station_id)
        with translated_errors(station_id):
            return await station.session.call(request, response)

    async def call_for_report[Resp: OcppModel, T](
        self,
        station_id: str,
        request: OcppModel,
        response: type[Resp],
        *,
        parts: ReportParts[T],
        request_id: int,
        accepted: Callable[[Resp], bool],
        call: Callable[[str, OcppModel, type[Resp]], Awaitable[Resp]] | None = None,
    ) -> tuple[Resp, list[T] | None]:
        """Send a request whose result comes in parts (Part 2 generic FR.05); its response and the parts' items.

        The items are None when the response says no parts follow; when they stop coming for REPORT_TIMEOUT
        seconds, or the station leaves, a translated error. `call` sends the request (default: `self.call`).
        """
        waiting = parts.expect(station_id, request_id)
        try:
            answer = await (call or self.call)(station_id, request, response)
            if not accepted(answer):
                return answer, None
            try:
                async with asyncio.timeout(REPORT_TIMEOUT):
                    return answer, await waiting
            except (TimeoutError, ReportIncompleteError) as err:
                raise report_incomplete(station_id, type(request).__name__.removesuffix("Request")) from err
        finally:
            parts.discard(station_id, request_id)

    @callback
    def signal[*Ts](self, signal: SignalType[*Ts], *args: *Ts) -> None:
        """Send a dispatcher signal (see signals.py)."""
        async_dispatcher_send(self.hass, signal, *args)
