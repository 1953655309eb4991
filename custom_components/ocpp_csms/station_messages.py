"""What Home Assistant does with a trusted station's reports, transactions, meter values and ID tokens.

Each handler updates the HA-free model (`station/`), schedules a coalesced save, and signals the entities that
show what changed. Nothing here grows with the number of stations.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
from typing import TYPE_CHECKING, Final

from homeassistant.core import callback
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .const import DOMAIN
from .csms.station import Station
from .protocol.v201.datatypes import EVSE, IdToken, IdTokenInfo
from .protocol.v201.enums import (
    AuthorizationStatus,
    ChargingProfilePurpose,
    GenericDeviceModelStatus,
    IdTokenEnum,
    ReportBase,
    TransactionEvent,
)
from .protocol.v201.messages import (
    AuthorizeRequest,
    AuthorizeResponse,
    GetBaseReportRequest,
    GetBaseReportResponse,
    GetTransactionStatusRequest,
    GetTransactionStatusResponse,
    MeterValuesRequest,
    MeterValuesResponse,
    NotifyEventRequest,
    NotifyEventResponse,
    NotifyReportRequest,
    NotifyReportResponse,
    TransactionEventRequest,
    TransactionEventResponse,
)
from .station.events import apply_events, parse_notify_event

if TYPE_CHECKING:
    from .hub import OcppCsmsHub

_LOGGER = logging.getLogger(__name__)

#: The same token presented again this soon (Authorize, then the TransactionEvent it starts) fires no new event.
TOKEN_EVENT_DEBOUNCE_S = 30.0


def inventory_signal(entry_id: str) -> str:
    """Dispatcher signal: a station's device model inventory changed (station id; entities to add)."""
    return f"{DOMAIN}_{entry_id}_inventory"


def variables_signal(entry_id: str, station_id: str) -> str:
    """Dispatcher signal: variable values of the station changed."""
    return f"{DOMAIN}_{entry_id}_variables_{station_id}"


def evse_signal(entry_id: str, station_id: str, evse_id: int) -> str:
    """Dispatcher signal: an EVSE's session or meter changed."""
    return f"{DOMAIN}_{entry_id}_evse_{station_id}_{evse_id}"


def new_evse_signal(entry_id: str) -> str:
    """Dispatcher signal: a station reported an EVSE for the first time (station id, EVSE id)."""
    return f"{DOMAIN}_{entry_id}_new_evse"


def token_signal(entry_id: str, station_id: str) -> str:
    """Dispatcher signal: an ID token was presented at the station (a TokenPresented)."""
    return f"{DOMAIN}_{entry_id}_token_{station_id}"


@dataclass(frozen=True, slots=True)
class TokenPresented:
    """An ID token a station asked about, and what the central system answered."""

    station_id: str
    evse_id: int | None
    id_token: str
    token_type: str
    decision: AuthorizationStatus
    at: datetime


#: At most this many stations report their inventory at a time. A fleet connecting for the first time would
#: otherwise send a thousand reports at once: every station's parts held in memory together (the process keeps
#: that high-water mark) and parsed in one burst that stalls the event loop.
MAX_CONCURRENT_INVENTORIES: Final = 8
#: How long a station's inventory may take before the next station's turn (its report is still taken later).
INVENTORY_TURN_TIMEOUT: Final = 60.0


class StationMessages:
    """Serves the station messages that feed entities; registered once on the central system."""

    def __init__(self, hub: OcppCsmsHub) -> None:
        """Register the handlers on the hub's central system."""
        self.hub = hub
        self._last_token: dict[str, TokenPresented] = {}
        self._inventory_turns = asyncio.Semaphore(MAX_CONCURRENT_INVENTORIES)
        #: Stations waiting for or taking their turn; the event is set when their report is in or they left.
        self._inventory_turn_over: dict[str, asyncio.Event] = {}
        central = hub.central
        central.handle(NotifyReportRequest, self.notify_report)
        central.handle(NotifyEventRequest, self.notify_event)
        central.handle(TransactionEventRequest, self.transaction_event)
        central.handle(MeterValuesRequest, self.meter_values)
        central.handle(AuthorizeRequest, self.authorize)

    # ---- device model (B07, B08, N07) --------------------------------------------------------------------

    async def request_inventory(self, station: Station) -> None:
        """Ask for the full inventory (B07): after the first accepted boot and after a firmware change.

        Stations take turns (MAX_CONCURRENT_INVENTORIES at a time); a turn ends when the report is complete,
        the station disconnects, or after INVENTORY_TURN_TIMEOUT.
        """
        station_id = station.station_id
        if (waiting := self._inventory_turn_over.get(station_id)) is not None and not waiting.is_set():
            return  # already waiting for its turn, or taking it
        turn_over = self._inventory_turn_over[station_id] = asyncio.Event()
        try:
            async with self._inventory_turns:
                if not station.connected or turn_over.is_set():
                    return
                runtime = await self.hub.async_runtime(station_id)
                request_id = runtime.request_id()
                runtime.assembler.expect(request_id)
                station.triggered.add("NotifyReport")  # B02.FR.09: allowed even before acceptance
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
                    return
                try:
                    async with asyncio.timeout(INVENTORY_TURN_TIMEOUT):
                        await turn_over.wait()
                except TimeoutError:
                    _LOGGER.debug("%s: inventory still incomplete; the next station's turn", station_id)
        finally:
            if self._inventory_turn_over.get(station_id) is turn_over:
                del self._inventory_turn_over[station_id]

    @callback
    def inventory_turn_over(self, station_id: str) -> None:
        """The station's report is in, or it left: the next station may report."""
        if (turn_over := self._inventory_turn_over.get(station_id)) is not None:
            turn_over.set()

    async def notify_report(self, station: Station, request: NotifyReportRequest) -> NotifyReportResponse:
        """Assemble the parts; when the report is complete, it becomes the inventory."""
        runtime = await self.hub.async_runtime(station.station_id)
        station.triggered.add("NotifyReport")  # more parts may follow
        assembled = runtime.assembler.feed(request)
        if assembled is not None:
            station.triggered.discard("NotifyReport")
            runtime.device_model = assembled
            runtime.has_inventory = True
            runtime.inventory_firmware = station.boot.firmware_version if station.boot else None
            runtime.schedule_save_inventory()
            _LOGGER.info("%s: inventory of %d variables received", station.station_id, len(assembled))
            self.inventory_turn_over(station.station_id)
            for evse_id in sorted({key.evse_id for key in assembled if key.evse_id}):
                self.hub.ensure_evse(station.station_id, evse_id)  # the EVSEs it reports get their devices
            entry_id = self.hub.entry.entry_id
            async_dispatcher_send(self.hub.hass, inventory_signal(entry_id), station.station_id)
            async_dispatcher_send(self.hub.hass, variables_signal(entry_id, station.station_id))
            self.hub.entry.async_create_background_task(
                self.hub.hass, self.hub.variables.async_set_monitors(station.station_id), f"{DOMAIN} monitors"
            )
        return NotifyReportResponse()

    async def notify_event(self, station: Station, request: NotifyEventRequest) -> NotifyEventResponse:
        """Monitored values changed (N07): update the model and the entities showing them."""
        runtime = await self.hub.async_runtime(station.station_id)
        if apply_events(runtime.device_model, parse_notify_event(request)):
            runtime.schedule_save_inventory()
            async_dispatcher_send(self.hub.hass, variables_signal(self.hub.entry.entry_id, station.station_id))
        return NotifyEventResponse()

    # ---- transactions and metering (E, J) ----------------------------------------------------------------

    async def transaction_event(self, station: Station, request: TransactionEventRequest) -> TransactionEventResponse:
        """Apply the event idempotently; answer the ID token's status (E01.FR.12, E03.FR.02)."""
        runtime = await self.hub.async_runtime(station.station_id)
        outcome = runtime.transactions.apply_event(request)
        runtime.schedule_save_sessions()
        evse_id = outcome.evse_id if outcome.evse_id is not None else (request.evse.id if request.evse else None)
        if evse_id is not None and not outcome.duplicate:
            self.evse_changed(station.station_id, evse_id)
            if request.event_type is TransactionEvent.ENDED and outcome.current:
                # The station deletes a transaction's TxProfile when it stops (K02.FR.05): its slot is free again.
                self.hub.charging.allocator(station.station_id).release(
                    ChargingProfilePurpose.TX_PROFILE, evse_id, None
                )
        id_token_info = None
        if request.id_token is not None:
            id_token_info = self._authorize(request.id_token)
            if not request.offline:
                self._token_presented(station.station_id, evse_id, request.id_token, id_token_info.status)
        return TransactionEventResponse(id_token_info=id_token_info)

    async def meter_values(self, station: Station, request: MeterValuesRequest) -> MeterValuesResponse:
        """Meter values outside transactions (J01)."""
        runtime = await self.hub.async_runtime(station.station_id)
        if runtime.transactions.apply_meter_values(request.evse_id, request.meter_value):
            runtime.schedule_save_sessions()
            self.evse_changed(station.station_id, request.evse_id)
        return MeterValuesResponse()

    async def check_transactions(self, station: Station) -> None:
        """After a reconnect, ask whether the station still queues messages of its running transactions (E14)."""
        runtime = await self.hub.async_runtime(station.station_id)
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
                    station.station_id,
                    transaction_id,
                    outcome.messages_in_queue,
                    outcome.ongoing_indicator,
                )

    @callback
    def evse_changed(self, station_id: str, evse_id: int) -> None:
        """Show an EVSE's new state, introducing the EVSE the first time."""
        if evse_id <= 0:
            return
        self.hub.ensure_evse(station_id, evse_id)
        async_dispatcher_send(self.hub.hass, evse_signal(self.hub.entry.entry_id, station_id, evse_id))

    # ---- authorization (C01) -----------------------------------------------------------------------------

    async def authorize(self, station: Station, request: AuthorizeRequest) -> AuthorizeResponse:
        """Answer from the user's ID token list; every presented token fires the station's event entity."""
        info = self._authorize(request.id_token)
        self._token_presented(station.station_id, None, request.id_token, info.status)
        return AuthorizeResponse(id_token_info=info)

    def _authorize(self, id_token: IdToken) -> IdTokenInfo:
        """The user's list decides; the tokens Home Assistant itself started sessions with are accepted."""
        if id_token.type is IdTokenEnum.CENTRAL and self.hub.commands.started_with(id_token.id_token):
            return IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        return self.hub.id_tokens.authorize(id_token, datetime.now(UTC))

    @callback
    def _token_presented(
        self, station_id: str, evse_id: int | None, id_token: IdToken, decision: AuthorizationStatus
    ) -> None:
        now = datetime.now(UTC)
        presented = TokenPresented(station_id, evse_id, id_token.id_token, id_token.type.value, decision, now)
        last = self._last_token.get(station_id)
        if (
            last is not None
            and (last.id_token, last.decision) == (presented.id_token, presented.decision)
            and (now - last.at).total_seconds() < TOKEN_EVENT_DEBOUNCE_S
        ):
            return
        self._last_token[station_id] = presented
        async_dispatcher_send(self.hub.hass, token_signal(self.hub.entry.entry_id, station_id), presented)


__all__ = ["EVSE", "StationMessages", "TokenPresented"]
