"""Messages on a station's display (O01-O06): set, read back and cleared, within what the display can do.

The integration manages the message ids: the station's notify entity always uses NOTIFY_MESSAGE_ID (a new
message replaces the last one, O04), and the `set_display_message` action takes the lowest free id above it unless
told which to replace. Before its first message to a station in a run, the integration asks the station which
messages it holds (GetDisplayMessages), so that an id in use is never taken by mistake. What the station's
DisplayMessageCtrlr reports (formats, priorities, how many messages) is checked before anything is sent; a station
without a usable display (none in its inventory, Available or Enabled false, or a CALLERROR NotImplemented /
NotSupported) raises a translated error that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import logging
from typing import Final

from homeassistant.core import callback

from .context import StationContext
from .csms.central_system import StationListener
from .csms.station import Station
from .helpers import call_failed, refused, station_error, user_error
from .protocol.model import OcppModel
from .protocol.session import CallErrorResponse, CallFailed
from .protocol.v201.datatypes import MessageContent, MessageInfo
from .protocol.v201.enums import (
    ClearMessageStatus,
    DisplayMessageStatus,
    GetDisplayMessagesStatus,
    MessageFormat,
    MessagePriority,
    MessageState,
)
from .protocol.v201.messages import (
    ClearDisplayMessageRequest,
    ClearDisplayMessageResponse,
    GetDisplayMessagesRequest,
    GetDisplayMessagesResponse,
    NotifyDisplayMessagesRequest,
    NotifyDisplayMessagesResponse,
    SetDisplayMessageRequest,
    SetDisplayMessageResponse,
)
from .station.display import DisplayCapabilities, as_ascii, free_ids
from .station.report_parts import ReportParts

_LOGGER = logging.getLogger(__name__)

#: The id of the message the station's notify entity shows: each notification replaces the previous one.
NOTIFY_MESSAGE_ID: Final = 1
#: MessageContentType.content is at most 512 characters.
MAX_CONTENT: Final = 512
#: CALLERROR codes of a station that has no display messages at all.
NO_DISPLAY_ERRORS: Final = frozenset({"NotImplemented", "NotSupported"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DisplayMessage:
    """A message to show; what is None takes the display's defaults."""

    content: str
    message_id: int | None = None
    priority: MessagePriority | None = None
    format: MessageFormat | None = None
    state: MessageState | None = None
    start: datetime | None = None
    end: datetime | None = None
    language: str | None = None
    transaction_id: str | None = None


class DisplayMessages(StationListener):
    """The display messages of one config entry's stations."""

    def __init__(self, context: StationContext) -> None:
        """Serve NotifyDisplayMessages."""
        self.context = context
        self._reports: ReportParts[MessageInfo] = ReportParts()
        #: Message ids each station holds, as far as known in this run (asked for before the first message).
        self._in_use: dict[str, set[int]] = {}
        context.central.handle(NotifyDisplayMessagesRequest, self._notify_display_messages)

    @callback
    def station_disconnected(self, station: Station) -> None:
        """No more report parts will come."""
        self._reports.discard_station(station.station_id)

    def capabilities(self, station_id: str) -> DisplayCapabilities:
        """What the station's display can do, from its inventory."""
        runtime = self.context.runtimes.get(station_id)
        if runtime is None:
            return DisplayCapabilities(available=None)
        return DisplayCapabilities.from_model(runtime.device_model, has_inventory=runtime.has_inventory)

    def has_display(self, station_id: str) -> bool:
        """Whether the station may have a display (not known to lack one)."""
        return self.capabilities(station_id).available is not False

    # ---- set (O01, O02, O04, O06) ---------------------------------------------------------------------------

    async def async_notify(self, station_id: str, text: str) -> int:
        """The notify entity's message: the display's defaults, always the same id, cut to what fits."""
        return await self.async_set(
            station_id, DisplayMessage(content=text[:MAX_CONTENT], message_id=NOTIFY_MESSAGE_ID), fit=True
        )

    async def async_set(self, station_id: str, message: DisplayMessage, *, fit: bool = False) -> int:
        """SetDisplayMessage; the message's id. `fit` turns text the display cannot show into text it can."""
        self.context.connected(station_id)
        display = self.capabilities(station_id)
        if display.available is False:
            raise station_error("no_display", station_id)
        message_format = message.format or display.default_format
        priority = message.priority or display.default_priority
        if not display.supports_format(message_format):
            raise user_error(
                "display_format_unsupported",
                station=station_id,
                format=message_format.value,
                supported=", ".join(item.value for item in display.formats),
            )
        if not display.supports_priority(priority):
            raise user_error(
                "display_priority_unsupported",
                station=station_id,
                priority=priority.value,
                supported=", ".join(item.value for item in display.priorities),
            )
        content = message.content
        if message_format is MessageFormat.ASCII and not content.isascii():
            if not fit:
                raise user_error("display_not_ascii", station=station_id)
            content = as_ascii(content)
        in_use = await self._async_ids_in_use(station_id)
        message_id = message.message_id or free_ids(in_use, start=NOTIFY_MESSAGE_ID + 1)[0]
        if display.max_messages is not None and message_id not in in_use and len(in_use) >= display.max_messages:
            raise station_error("display_full", station_id, messages=str(display.max_messages))
        request = SetDisplayMessageRequest(
            message=MessageInfo(
                id=message_id,
                priority=priority,
                state=message.state,
                start_date_time=message.start,
                end_date_time=message.end,
                transaction_id=message.transaction_id,
                message=MessageContent(format=message_format, content=content, language=message.language),
            )
        )
        response = await self._call_display(station_id, request, SetDisplayMessageResponse)
        if response.status is not DisplayMessageStatus.ACCEPTED:
            raise refused(station_id, "SetDisplayMessage", response.status.value)
        in_use.add(message_id)
        return message_id

    async def _call_display[Resp: OcppModel](self, station_id: str, request: OcppModel, response: type[Resp]) -> Resp:
        """A display CALL; a station that does not know display messages at all says so with a translated error."""
        station = self.context.connected(station_id)
        outcome = await station.session.call_outcome(request, response)
        if isinstance(outcome, CallErrorResponse) and outcome.raw_code in NO_DISPLAY_ERRORS:
            raise station_error("no_display", station_id)
        if isinstance(outcome, CallFailed):
            raise call_failed(station_id, outcome)
        return outcome

    async def _async_ids_in_use(self, station_id: str) -> set[int]:
        """The ids the station holds: asked for once per run (O03), then kept up to date here."""
        if (known := self._in_use.get(station_id)) is not None:
            return known
        messages = await self.async_get(station_id)
        return self._in_use.setdefault(station_id, {message.id for message in messages})

    # ---- read and clear (O03, O04, O05) ---------------------------------------------------------------------

    async def async_get(
        self,
        station_id: str,
        *,
        ids: list[int] | None = None,
        priority: MessagePriority | None = None,
        state: MessageState | None = None,
    ) -> list[MessageInfo]:
        """GetDisplayMessages: the messages the station holds (of those ids, that priority, that state)."""
        self.context.connected(station_id)
        if self.capabilities(station_id).available is False:
            raise station_error("no_display", station_id)
        runtime = await self.context.runtimes.async_get(station_id)
        request_id = runtime.request_id()
        _response, found = await self.context.call_for_report(
            station_id,
            GetDisplayMessagesRequest(request_id=request_id, id=ids, priority=priority, state=state),
            GetDisplayMessagesResponse,
            parts=self._reports,
            request_id=request_id,
            accepted=lambda answer: answer.status is GetDisplayMessagesStatus.ACCEPTED,
            call=self._call_display,
        )
        messages = found or []
        if not ids and priority is None and state is None:
            self._in_use[station_id] = {message.id for message in messages}
        return messages

    async def async_clear(self, station_id: str, message_id: int) -> str:
        """ClearDisplayMessage; Accepted, or Unknown when the station held no such message."""
        response = await self._call_display(
            station_id, ClearDisplayMessageRequest(id=message_id), ClearDisplayMessageResponse
        )
        if response.status is ClearMessageStatus.ACCEPTED or response.status is ClearMessageStatus.UNKNOWN:
            self._in_use.get(station_id, set()).discard(message_id)
        return response.status.value

    async def _notify_display_messages(
        self, station: Station, request: NotifyDisplayMessagesRequest
    ) -> NotifyDisplayMessagesResponse:
        """A part of the messages the station holds (O03.FR.04: tbc on all but the last)."""
        if not self._reports.feed(station.station_id, request.request_id, request.message_info, tbc=bool(request.tbc)):
            _LOGGER.debug("%s: NotifyDisplayMessages %d not asked for", station.station_id, request.request_id)
        return NotifyDisplayMessagesResponse()
