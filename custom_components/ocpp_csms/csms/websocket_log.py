"""What `websockets` logs about the stations' connections, with no secret in it: the logger the listener gives it.

Given a logger, websockets writes to it each connection's opening handshake at debug level (the request line and
every header, `Authorization: Basic <identity:password in base64>` among them), each frame at debug level, and
connection events at info level and above. `WebsocketsLogger` stands between websockets and our loggers:

- a header's value is logged only when the header is one that holds nothing secret (`SHOWN_HEADERS`); any other
  header, Authorization first, is logged with its value withheld;
- the request line is logged without its query string;
- frames never reach the connection logger: data frames (the OCPP messages) are dropped, as the RPC session logs
  each message whole and redacted on `ocpp_csms.frames`; control frames (ping, pong, close) and transport notes
  (keepalive, EOF, state changes) go to `ocpp_csms.frames`;
- any other debug line is logged only when it is one websockets is known to write: a line that a newer
  websockets adds is dropped, rather than risk it quoting a header;
- an exception websockets logs is summarised as its type and the text before its first colon (websockets quotes
  the offending request line or header after one), except where our own code failed: there the traceback stays;
- every line starts with the connection it is about: the station identity from its URL and the remote address.

Formats are checked, not text: nothing is formatted unless a handler emits the record.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
import sys
from typing import Any, Final, override

from websockets.frames import CTRL_OPCODES, Frame

from ..protocol.frame_log import FRAMES
from .identity import station_id_from_path

#: Request and response headers whose values are logged; every other header's value is withheld.
SHOWN_HEADERS: Final = frozenset(
    {
        "accept-encoding",
        "cache-control",
        "connection",
        "content-length",
        "content-type",
        "date",
        "host",
        "origin",
        "pragma",
        "retry-after",
        "sec-websocket-accept",
        "sec-websocket-extensions",
        "sec-websocket-key",
        "sec-websocket-protocol",
        "sec-websocket-version",
        "server",
        "upgrade",
        "user-agent",
        "www-authenticate",
    }
)
WITHHELD: Final = "<withheld>"

_REQUEST_LINE: Final = "< %s %s %s"
_HEADER_LINES: Final = frozenset({"< %s: %s", "> %s: %s"})
_FRAME_LINES: Final = frozenset({"< %s", "> %s"})
#: Debug lines about the handshake and the connection: to the connection logger (exceptions summarised).
_CONNECTION_LINES: Final = frozenset(
    {
        "> HTTP/1.1 %d %s",
        "> [body] (%d bytes)",
        "! invalid origin",
        "! invalid method",
        "! invalid protocol",
        "! invalid upgrade",
        "! invalid handshake",
        "! request line too long",
        "! header fields too large",
        "! no valid HTTP request",
        "! error while sending data",
        "- timed out waiting for keepalive pong",
    }
)
#: Debug lines about the transport: to the frames logger.
_TRANSPORT_LINES: Final = frozenset(
    {
        "% sent keepalive ping",
        "% received keepalive pong",
        "< EOF",
        "> EOF",
        "= connection is %s",
        "x half-closing TCP connection",
        "x closing TCP connection",
    }
)
#: Errors websockets logs when our code (the listener's request check or connection handler) raised: the
#: traceback is ours, and it is what a bug report needs.
_OUR_FAILURES: Final = frozenset({"process_request failed", "process_response failed", "connection handler failed"})
_MAX_SUMMARY: Final = 100


class WebsocketsLogger(logging.LoggerAdapter[logging.Logger]):
    """The `logger=` of the listener's websockets server: handshake and connection events, no secret (module doc)."""

    def __init__(self, logger: logging.Logger) -> None:
        """Log connection events to `logger`, control frames to `ocpp_csms.frames`."""
        super().__init__(logger)

    @override
    def isEnabledFor(self, level: int) -> bool:
        """Debug is on when either logger wants it (websockets asks once per connection)."""
        return self.logger.isEnabledFor(level) or (level == logging.DEBUG and FRAMES.isEnabledFor(logging.DEBUG))

    @override
    def log(
        self,
        level: int,
        msg: object,
        *args: object,
        exc_info: Any = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        extra: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        """Pass the record on to the right logger with nothing secret in it, or drop it."""
        if not isinstance(msg, str):  # websockets logs format strings only
            return
        target: logging.Logger = self.logger
        if level <= logging.DEBUG:
            if msg in _HEADER_LINES and len(args) == 2:
                name, value = args
                args = (name, value if str(name).casefold() in SHOWN_HEADERS else WITHHELD)
            elif msg == _REQUEST_LINE and len(args) == 3:
                args = (args[0], _without_query(str(args[1])), args[2])
            elif msg in _FRAME_LINES and len(args) == 1 and isinstance(args[0], Frame):
                if args[0].opcode not in CTRL_OPCODES:
                    return  # a data frame: the session logs the OCPP message, redacted
                target = FRAMES
            elif msg in _TRANSPORT_LINES:
                target = FRAMES
            elif msg not in _CONNECTION_LINES:
                return  # a debug line websockets is not known to write
        if not target.isEnabledFor(level):
            return
        if exc_info and (level <= logging.DEBUG or msg not in _OUR_FAILURES):
            msg, args, exc_info = _summarised(msg, args, exc_info)
        label = _connection_label(extra)
        if label is not None:
            msg, args = ("%s: %s", (label, msg)) if not args else ("%s: " + msg, (label, *args))
        # stacklevel + 1: past this method, to the line of websockets that logged.
        target.log(level, msg, *args, exc_info=exc_info, stack_info=stack_info, stacklevel=stacklevel + 1, extra=extra)


def _connection_label(extra: Mapping[str, object] | None) -> str | None:
    """The station identity the connection's URL names and its remote address, e.g. `CP-1 (192.0.2.7)`."""
    websocket: Any = extra.get("websocket") if extra else None
    if websocket is None:
        return None
    try:
        request = websocket.request
        address = websocket.remote_address
    except ReferenceError:  # the connection (a weak proxy) is gone
        return None
    host = str(address[0]) if address else "unknown address"
    if request is None:
        return host
    identity = station_id_from_path(request.path)
    return f"{identity} ({host})" if identity is not None else f"no station identity ({host})"


def _without_query(path: str) -> str:
    path, question_mark, _query = path.partition("?")
    return f"{path}?{WITHHELD}" if question_mark else path


def _summarised(msg: str, args: tuple[object, ...], exc_info: Any) -> tuple[str, tuple[object, ...], None]:
    """The record's message with its exception summarised (type and text before the first colon), no traceback."""
    if exc_info is True:
        exc = sys.exception()
    elif isinstance(exc_info, BaseException):
        exc = exc_info
    elif isinstance(exc_info, tuple) and len(exc_info) == 3:
        exc = exc_info[1]
    else:
        exc = None
    if exc is None:
        return msg, args, None
    parts: list[str] = []
    current: BaseException | None = exc
    while current is not None and len(parts) < 4:
        text = str(current).partition(":")[0].strip()[:_MAX_SUMMARY]
        parts.append(f"{type(current).__name__}: {text}" if text else type(current).__name__)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    if not args:  # the message was not a format string: now it is one
        msg = msg.replace("%", "%%")
    return f"{msg} (%s)", (*args, "; caused by ".join(parts)), None
