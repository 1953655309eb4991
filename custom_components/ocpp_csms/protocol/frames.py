"""OCPP-J framing (Part 4 §4): parse and serialise CALL, CALLRESULT and CALLERROR frames.

Built for the receive hot path: a CALL or CALLRESULT in the usual compact shape is recognised by a regular
expression on its header, and its payload is handed on as the raw JSON text it arrived as, so the typed model
can be validated straight from it (`Model.model_validate_json`) without decoding the frame twice. Such a payload
is *unverified*: the slice may not be a single JSON value (e.g. a frame with a fifth element). The caller
validates it and, when that reports invalid JSON, calls `parse_frame_strict`, which decodes the whole frame with
orjson and classifies what is wrong. Anything the fast path does not recognise goes through the strict parser.

Parsing errors raise `FrameError`, carrying the CALLERROR to answer (Part 4 §4.2.3, §4.3):

- not JSON, or JSON but not a frame → RpcFrameworkError, with the message id when it can be read, else "-1";
- a Message Type Number other than 2, 3 or 4 → MessageTypeNotSupported (the payload is ignored, §4.1.3).

Malformed CALLRESULT and CALLERROR frames are reported with `respond=False`: a response is never answered.

The frame classes are plain slotted dataclasses, not frozen ones (four times cheaper to build on the hot path):
treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
import re
from typing import Any, Final
import uuid

import orjson

from .errors import MAX_DESCRIPTION_LENGTH, RpcErrorCode

#: A message id is a string[36] (Part 4 §4.1.4).
MAX_MESSAGE_ID_LENGTH: Final = 36
#: The message id of a CALLERROR answering a message whose id cannot be read (Part 4 §4.2.3).
UNREADABLE_MESSAGE_ID: Final = "-1"

type RawJson = bytes | str
"""JSON text, as bytes (UTF-8) or str; pydantic and orjson read both."""


class MessageType(IntEnum):
    """The Message Type Numbers of Part 4 §4.1.3."""

    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(slots=True)
class CallFrame:
    """A request: `[2, messageId, action, payload]`.

    `payload` is the payload's JSON text. When `verified` is False it was sliced out of the frame without
    decoding it, and may turn out not to be a single JSON value: see `parse_frame_strict`.
    """

    message_id: str
    action: str
    payload: RawJson
    raw: RawJson
    verified: bool


@dataclass(slots=True)
class CallResultFrame:
    """A response: `[3, messageId, payload]` (`payload` as in `CallFrame`)."""

    message_id: str
    payload: RawJson
    raw: RawJson
    verified: bool


@dataclass(slots=True)
class CallErrorFrame:
    """An error response: `[4, messageId, errorCode, errorDescription, errorDetails]`."""

    message_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


type Frame = CallFrame | CallResultFrame | CallErrorFrame


class FrameError(Exception):
    """A message that is not a usable OCPP-J frame, with the CALLERROR that answers it.

    `respond` is False when no CALLERROR may be sent (the frame was a CALLRESULT or CALLERROR).
    """

    def __init__(
        self,
        code: RpcErrorCode,
        description: str,
        message_id: str = UNREADABLE_MESSAGE_ID,
        *,
        respond: bool = True,
        message_type: int | None = None,
    ) -> None:
        """Keep what the CALLERROR needs: code, description and the id to answer to."""
        super().__init__(f"{code}: {description} (message id {message_id!r})")
        self.code = code
        self.description = description
        self.message_id = message_id
        self.respond = respond
        self.message_type = message_type

    def to_callerror(self) -> bytes:
        """The CALLERROR frame answering the offending message."""
        return dump_call_error(self.message_id, self.code, self.description)


# The compact shape of a CALL / CALLRESULT header. The id is limited to printable ASCII without quote or
# backslash, so it needs no unescaping and is valid JSON; anything else goes the strict way.
_WS = r"[ \t\r\n]*"  # JSON whitespace only (`\s` would take more)
_ID = r'"([\x20\x21\x23-\x5b\x5d-\x7e]{0,36})"'
_CALL_HEAD = (
    _WS + r"\[" + _WS + "2" + _WS + "," + _WS + _ID + _WS + "," + _WS + r'"([A-Za-z0-9]{1,64})"' + _WS + "," + _WS
)
_RESULT_HEAD = _WS + r"\[" + _WS + "3" + _WS + "," + _WS + _ID + _WS + "," + _WS
_CALL_HEAD_B = re.compile(_CALL_HEAD.encode())
_RESULT_HEAD_B = re.compile(_RESULT_HEAD.encode())
_CALL_HEAD_S = re.compile(_CALL_HEAD)
_RESULT_HEAD_S = re.compile(_RESULT_HEAD)
_WHITESPACE_B = b" \t\r\n"
_WHITESPACE_S = " \t\r\n"


def parse_frame(data: RawJson) -> Frame:
    """Parse one websocket message into a frame; the payload may be unverified (see the module doc).

    Raises FrameError for anything that is not a valid frame.
    """
    frame = _parse_compact_bytes(data) if isinstance(data, bytes) else _parse_compact_str(data)
    return parse_frame_strict(data) if frame is None else frame


def _parse_compact_bytes(data: bytes) -> Frame | None:
    if (match := _CALL_HEAD_B.match(data)) is not None:
        body = data.rstrip(_WHITESPACE_B)
        if body[-1:] == b"]":
            return CallFrame(match[1].decode(), match[2].decode(), body[match.end() : -1], data, False)
    elif (match := _RESULT_HEAD_B.match(data)) is not None:
        body = data.rstrip(_WHITESPACE_B)
        if body[-1:] == b"]":
            return CallResultFrame(match[1].decode(), body[match.end() : -1], data, False)
    return None


def _parse_compact_str(data: str) -> Frame | None:
    if (match := _CALL_HEAD_S.match(data)) is not None:
        text = data.rstrip(_WHITESPACE_S)
        if text[-1:] == "]":
            return CallFrame(match[1], match[2], text[match.end() : -1], data, False)
    elif (match := _RESULT_HEAD_S.match(data)) is not None:
        text = data.rstrip(_WHITESPACE_S)
        if text[-1:] == "]":
            return CallResultFrame(match[1], text[match.end() : -1], data, False)
    return None


def parse_frame_strict(data: RawJson) -> Frame:
    """Decode the whole message with orjson and check every element; the payload comes back verified."""
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise FrameError(RpcErrorCode.RPC_FRAMEWORK_ERROR, f"Message is not valid JSON: {exc}") from None
    if not isinstance(message, list) or not message:
        raise FrameError(RpcErrorCode.RPC_FRAMEWORK_ERROR, "Message is not a JSON array [MessageTypeId, ...]")
    message_type = message[0]
    message_id = _readable_id(message)
    if type(message_type) is not int:  # bool is no MessageTypeId either
        raise FrameError(
            RpcErrorCode.RPC_FRAMEWORK_ERROR,
            "MessageTypeId is not an integer",
            message_id or UNREADABLE_MESSAGE_ID,
        )
    if message_type not in _SHAPES:
        raise FrameError(
            RpcErrorCode.MESSAGE_TYPE_NOT_SUPPORTED,
            f"Message Type Number {message_type} is not supported",
            message_id or UNREADABLE_MESSAGE_ID,
            message_type=message_type,
        )
    respond = message_type == MessageType.CALL
    if message_id is None:
        raise FrameError(
            RpcErrorCode.RPC_FRAMEWORK_ERROR,
            f"MessageId is missing, not a string or longer than {MAX_MESSAGE_ID_LENGTH} characters",
            respond=respond,
            message_type=message_type,
        )
    name, length = _SHAPES[message_type]
    if len(message) != length:
        raise FrameError(
            RpcErrorCode.RPC_FRAMEWORK_ERROR,
            f"A {name} has {length} elements, this message has {len(message)}",
            message_id,
            respond=respond,
            message_type=message_type,
        )
    if message_type == MessageType.CALL:
        action = message[2]
        if type(action) is not str or not action:
            raise FrameError(RpcErrorCode.RPC_FRAMEWORK_ERROR, "Action is not a string", message_id)
        return CallFrame(message_id, action, _payload_bytes(message[3], message_id, respond), data, True)
    if message_type == MessageType.CALLRESULT:
        return CallResultFrame(message_id, _payload_bytes(message[2], message_id, respond), data, True)
    code, description, details = message[2], message[3], message[4]
    if type(code) is not str:
        raise FrameError(
            RpcErrorCode.RPC_FRAMEWORK_ERROR,
            "ErrorCode is not a string",
            message_id,
            respond=False,
            message_type=message_type,
        )
    # Description and details are informative: take what is there rather than lose the error.
    return CallErrorFrame(
        message_id,
        code,
        description if type(description) is str else "",
        details if type(details) is dict else {},
    )


def _payload_bytes(payload: Any, message_id: str, respond: bool) -> bytes:
    """The payload as JSON bytes; nested deeper than orjson writes (255 levels), no OCPP payload: FormatViolation."""
    try:
        return orjson.dumps(payload)
    except TypeError:
        raise FrameError(
            RpcErrorCode.FORMAT_VIOLATION, "Payload nested too deeply", message_id, respond=respond
        ) from None


_SHAPES: Final[dict[int, tuple[str, int]]] = {
    MessageType.CALL: ("CALL", 4),
    MessageType.CALLRESULT: ("CALLRESULT", 3),
    MessageType.CALLERROR: ("CALLERROR", 5),
}


def _readable_id(message: list[Any]) -> str | None:
    """The message id when the second element is one (a string of at most 36 characters)."""
    if len(message) < 2:
        return None
    message_id = message[1]
    if type(message_id) is not str or len(message_id) > MAX_MESSAGE_ID_LENGTH:
        return None
    return message_id


def new_message_id() -> str:
    """A fresh message id for a CALL we send: a UUID4 (36 characters)."""
    return str(uuid.uuid4())


def dump_call(message_id: str, action: str, payload: bytes) -> bytes:
    """A CALL frame around a payload that is already JSON (bytes)."""
    return b"[2," + orjson.dumps(message_id) + b"," + orjson.dumps(action) + b"," + payload + b"]"


def dump_call_result(message_id: str, payload: bytes) -> bytes:
    """A CALLRESULT frame around a payload that is already JSON (bytes)."""
    return b"[3," + orjson.dumps(message_id) + b"," + payload + b"]"


def dump_call_error(
    message_id: str,
    code: RpcErrorCode | str,
    description: str = "",
    details: dict[str, Any] | None = None,
) -> bytes:
    """A CALLERROR frame: description cut to 255 characters, `{}` when there are no details."""
    return orjson.dumps(
        [
            MessageType.CALLERROR.value,
            message_id,
            str(code),
            description[:MAX_DESCRIPTION_LENGTH],
            details or {},
        ]
    )
