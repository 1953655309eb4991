"""Charging sessions and metering (E, J): TransactionEvent and MeterValues applied to the stations' trackers.

Each message updates the HA-free tracker (`station/transactions.py`), schedules a coalesced save, and signals the
one EVSE it concerns. Nothing here grows with the number of stations. When a trusted station connects, what its
EVSEs show is asked for at once (F06): the status of connectors not known yet, the latest meter values, and the
transactions we think run (E14).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Final, Protocol

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .protocol.v201.datatypes import EVSE, IdToken, IdTokenInfo
from .protocol.v201.enums import MessageTrigger, TransactionEvent, TriggerReason
from .protocol.v201.messages import (
    GetTransactionStatusRequest,
    GetTransactionStatusResponse,
    MeterValuesRequest,
    MeterValuesResponse,
    TransactionEventRequest,
    TransactionEventResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
)
from .station.id_tokens import Purpose
from .station_runtime import StationRuntime

_LOGGER = logging.getLogger(__name__)

#: After a reconnect, the station's queued events are in once none came for this long (E14: then ask).
QUEUE_QUIET: Final = 2.0
#: ... or after this long at most.
QUEUE_WAIT: Final = 30.0


class Authorize(Protocol):
    """Decides on an ID token: station id, EVSE id, token, whether the event was queued offline, transaction id."""

    def __call__(  # noqa: D102 - the class says it
        self,
        station_id: str,
        evse_id: int | None,
        id_token: IdToken,
        offline: bool,
        transaction_id: str | None = None,
        *,
        purpose: Purpose,
    ) -> IdTokenInfo: ...


type CostAnswer = Callable[
    [str, int | None, TransactionEventRequest, IdTokenInfo | None], tuple[float | None, IdTokenInfo | None]
]
"""The totalCost and idTokenInfo (with the running price) of a TransactionEventResponse (I02, I03)."""


def _no_cost(
    _station_id: str, _evse_id: int | None, _request: TransactionEventRequest, info: IdTokenInfo | None
) -> tuple[float | None, IdTokenInfo | None]:
    return None, info


class ChargingSessions(StationListener):
    """Serves TransactionEvent and MeterValues of trusted stations; after a reconnect, asks about running ones."""

    def __init__(
        self,
        context: StationContext,
        *,
        evse_changed: Callable[[str, int], None],
        authorize: Authorize,
        transaction_started: Callable[[str, int], None],
        transaction_ended: Callable[[str, int], None],
        reservation_used: Callable[[str, int], None] = lambda _station_id, _reservation_id: None,
        cost_answer: CostAnswer = _no_cost,
    ) -> None:
        """Serve TransactionEvent and MeterValues; the callables come from the other services.

        `evse_changed` shows an EVSE's new state; `transaction_started` reads the limit in force of a transaction
        that runs (also one found running after a reconnect); `transaction_ended` frees what it held;
        `reservation_used(station_id, reservation_id)` ends the reservation a transaction used (H01.FR.15);
        `cost_answer` adds the session's cost and the running price to the answer (I02, I03).
        """
        self.context = context
        self._evse_changed = evse_changed
        self._authorize = authorize
        self._transaction_started = transaction_started
        self._transaction_ended = transaction_ended
        self._reservation_used = reservation_used
        self._cost_answer = cost_answer
        #: When each station's last TransactionEvent arrived (loop time): its offline queue drains after a reconnect.
        self._last_event: dict[str, float] = {}
        context.central.handle(TransactionEventRequest, self.transaction_event)
        context.central.handle(MeterValuesRequest, self.meter_values)

    @callback
    def station_connected(self, station: Station) -> None:
        """A trusted station (re)connected: ask what its EVSEs show, and about the transactions we think run."""
        if station.station_id in self.context.central.registry:
            self.context.background(self._async_connected(station), f"{DOMAIN} EVSE state")

    async def _async_connected(self, station: Station) -> None:
        runtime = await self.context.runtimes.async_get(station.station_id)
        if not await self.context.central.wait_ready(station):
            return
        await self.ask_evse_state(station, runtime)
        await self._async_queue_drained(station)
        await self.check_transactions(station)

    async def _async_queue_drained(self, station: Station) -> None:
        """Wait until the events the station queued while offline are in (quiet for QUEUE_QUIET, at most QUEUE_WAIT)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + QUEUE_WAIT
        while station.connected and loop.time() < deadline:
            quiet_since = self._last_event.get(station.station_id, 0.0)
            if loop.time() - quiet_since >= QUEUE_QUIET:
                return
            await asyncio.sleep(QUEUE_QUIET - (loop.time() - quiet_since))

    async def transaction_event(self, station: Station, request: TransactionEventRequest) -> TransactionEventResponse:
        """Apply the event idempotently; answer the ID token's status (E01.FR.12, E03.FR.02)."""
        station_id = station.station_id
        self._last_event[station_id] = asyncio.get_running_loop().time()
        runtime = await self.context.runtimes.async_get(station_id)
        outcome = runtime.transactions.apply_event(request)
        runtime.schedule_save_sessions()
        evse_id = outcome.evse_id if outcome.evse_id is not None else (request.evse.id if request.evse else None)
        if evse_id is not None and not outcome.duplicate:
            self._evse_changed(station_id, evse_id)
            if request.event_type is TransactionEvent.STARTED and outcome.current:
                self._transaction_started(station_id, evse_id)
            elif request.event_type is TransactionEvent.ENDED and outcome.current:
                self._transaction_ended(station_id, evse_id)
        if request.reservation_id is not None and not outcome.duplicate:
            self._reservation_used(station_id, request.reservation_id)
        id_token_info = None
        if request.id_token is not None:
            # The token that ends a transaction stops it (a master pass may, C16); any other starts or authorizes it.
            stopping = (
                request.event_type is TransactionEvent.ENDED or request.trigger_reason is TriggerReason.STOP_AUTHORIZED
            )
            purpose = Purpose.STOP if stopping else Purpose.START
            transaction_id = request.transaction_info.transaction_id
            id_token_info = self._authorize(
                station_id, evse_id, request.id_token, bool(request.offline), transaction_id, purpose=purpose
            )
        total_cost, id_token_info = self._cost_answer(station_id, evse_id, request, id_token_info)
        return TransactionEventResponse(total_cost=total_cost, id_token_info=id_token_info)

    async def meter_values(self, station: Station, request: MeterValuesRequest) -> MeterValuesResponse:
        """Meter values outside transactions (J01)."""
        runtime = await self.context.runtimes.async_get(station.station_id)
        if runtime.transactions.apply_meter_values(request.evse_id, request.meter_value):
            runtime.schedule_save_sessions()
            self._evse_changed(station.station_id, request.evse_id)
        return MeterValuesResponse()

    async def check_transactions(self, station: Station) -> None:
        """Ask about the transactions we think run (E14): still running, or over with its Ended event lost."""
        station_id = station.station_id
        runtime = await self.context.runtimes.async_get(station_id)
        for evse_id in runtime.transactions.evse_ids:
            transaction_id = runtime.transactions.evse(evse_id).transaction_id
            if transaction_id is None:
                continue
            outcome = await station.session.call_outcome(
                GetTransactionStatusRequest(transaction_id=transaction_id), GetTransactionStatusResponse
            )
            if isinstance(outcome, GetTransactionStatusResponse):
                _LOGGER.debug(
                    "%s: transaction %s: messages in queue %s, ongoing %s",
                    station_id,
                    transaction_id,
                    outcome.messages_in_queue,
                    outcome.ongoing_indicator,
                )
                if outcome.ongoing_indicator is False and not outcome.messages_in_queue:
                    if runtime.transactions.end_without_event(transaction_id, dt_util.utcnow()):
                        _LOGGER.info(
                            "%s: transaction %s ended while we were apart and its Ended event was lost: "
                            "the session is closed now",
                            station_id,
                            transaction_id,
                        )
                        runtime.worked_around("ended_event_lost")
                        runtime.schedule_save_sessions()
                        self._evse_changed(station_id, evse_id)
                        self._transaction_ended(station_id, evse_id)
                    continue
            self._transaction_started(station_id, evse_id)  # its limit in force, read again

    async def ask_evse_state(self, station: Station, runtime: StationRuntime) -> None:
        """Trigger what the EVSEs show (F06): unknown connectors' statuses (F06.FR.13), the latest meter values."""
        connectors = {
            (key.evse_id, key.connector_id)
            for key in runtime.device_model
            if key.component == "Connector" and key.evse_id and key.connector_id
        }
        connectors |= {(evse_id, 1) for evse_id in runtime.known_evses if not any(c[0] == evse_id for c in connectors)}
        triggers = [
            TriggerMessageRequest(
                requested_message=MessageTrigger.STATUS_NOTIFICATION,
                evse=EVSE(id=evse_id, connector_id=connector_id),
            )
            for evse_id, connector_id in sorted(connectors)
            if (evse_id, connector_id) not in station.connector_status
        ]
        if runtime.known_evses:
            triggers.append(TriggerMessageRequest(requested_message=MessageTrigger.METER_VALUES))
        for trigger in triggers:
            outcome = await station.session.call_outcome(trigger, TriggerMessageResponse)
            _LOGGER.debug("%s: TriggerMessage(%s) answered %s", station.station_id, trigger.requested_message, outcome)
