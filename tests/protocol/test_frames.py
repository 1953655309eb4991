"""OCPP-J framing (Part 4 §4.1-4.3): the fast and the strict parser agree, errors map to the right CALLERROR."""

from __future__ import annotations

import orjson
import pytest

from custom_components.ocpp_csms.protocol.errors import RpcErrorCode
from custom_components.ocpp_csms.protocol.frames import (
    CallErrorFrame,
    CallFrame,
    CallResultFrame,
    FrameError,
    RawJson,
    dump_call,
    dump_call_error,
    dump_call_result,
    new_message_id,
    parse_frame,
    parse_frame_strict,
)

CALL = '[2,"19223201","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]'
PAYLOAD = '{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}'


def as_(kind: type, text: str) -> RawJson:
    return text.encode() if kind is bytes else text


@pytest.mark.parametrize("kind", [bytes, str])
def test_compact_call_takes_the_fast_path(kind: type) -> None:
    frame = parse_frame(as_(kind, CALL))
    assert isinstance(frame, CallFrame)
    assert (frame.message_id, frame.action, frame.verified) == ("19223201", "BootNotification", False)
    assert orjson.loads(frame.payload) == orjson.loads(PAYLOAD)


@pytest.mark.parametrize("kind", [bytes, str])
def test_compact_callresult_takes_the_fast_path(kind: type) -> None:
    frame = parse_frame(as_(kind, ' [ 3 , "abc" , {"status":"Accepted"} ]\n'))
    assert isinstance(frame, CallResultFrame)
    assert (frame.message_id, frame.verified) == ("abc", False)
    assert orjson.loads(frame.payload) == {"status": "Accepted"}


@pytest.mark.parametrize(
    "text",
    [
        '[2,"a\\"b","Heartbeat",{}]',  # escaped quote in the id
        '[2,"id","Heartbeat",{}',  # no closing bracket: not JSON at all
        '[2,"\u00e9","Heartbeat",{}]',  # non-ASCII id
        '[3,"id",{}',  # a CALLRESULT without its closing bracket
        '[3,"id",{"a":1}]',  # valid: both parsers read the same
    ],
)
def test_unusual_frames_go_the_strict_way(text: str) -> None:
    for data in (text, text.encode()):
        try:
            fast: object = _summary(parse_frame(data))
        except FrameError as exc:
            fast = (exc.code, exc.message_id)
        try:
            strict: object = _summary(parse_frame_strict(data))
        except FrameError as exc:
            strict = (exc.code, exc.message_id)
        assert fast == strict


def _summary(frame: object) -> object:
    if isinstance(frame, CallFrame | CallResultFrame):
        return type(frame), frame.message_id, orjson.loads(frame.payload)
    return frame


def test_strict_parse_unescapes_the_id() -> None:
    frame = parse_frame('[2,"a\\"b","Heartbeat",{}]')
    assert isinstance(frame, CallFrame)
    assert (frame.message_id, frame.verified, frame.payload) == ('a"b', True, b"{}")


def test_callerror_frame() -> None:
    frame = parse_frame('[4,"x","NotSupported","nope",{"a":1}]')
    assert frame == CallErrorFrame("x", "NotSupported", "nope", {"a": 1})


def test_callerror_frame_with_odd_description_and_details_is_kept() -> None:
    assert parse_frame('[4,"x","InternalError",null,[]]') == CallErrorFrame("x", "InternalError", "", {})


@pytest.mark.parametrize(
    ("text", "code", "message_id", "respond"),
    [
        ("not json", RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ("{}", RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ("[]", RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ("[2]", RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ('[2,"id"]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[2,"id","Heartbeat"]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[2,"id","Heartbeat",{},{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[2,"id",7,{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[2,"id","",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[2,42,"Heartbeat",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ('[2,"' + "x" * 37 + '","Heartbeat",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", True),
        ('["2","id","Heartbeat",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[true,"id","Heartbeat",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", True),
        ('[5,"id","Heartbeat",{}]', RpcErrorCode.MESSAGE_TYPE_NOT_SUPPORTED, "id", True),
        ("[5]", RpcErrorCode.MESSAGE_TYPE_NOT_SUPPORTED, "-1", True),
        ('[3,"id"]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", False),
        ("[3]", RpcErrorCode.RPC_FRAMEWORK_ERROR, "-1", False),
        ('[4,"id","NotSupported"]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", False),
        ('[4,"id",1,"",{}]', RpcErrorCode.RPC_FRAMEWORK_ERROR, "id", False),
    ],
)
def test_invalid_frames(text: str, code: RpcErrorCode, message_id: str, respond: bool) -> None:
    for data in (text, text.encode()):
        with pytest.raises(FrameError) as caught:
            parse_frame_strict(data)
        assert (caught.value.code, caught.value.message_id, caught.value.respond) == (code, message_id, respond)
        callerror = orjson.loads(caught.value.to_callerror())
        assert callerror[:3] == [4, message_id, code.value]
        assert callerror[4] == {}
        assert isinstance(callerror[3], str)
        assert callerror[3]


def test_fast_path_leaves_trailing_elements_to_payload_validation() -> None:
    frame = parse_frame('[2,"id","Heartbeat",{},{}]')
    assert isinstance(frame, CallFrame)
    assert not frame.verified
    assert frame.payload == "{},{}"


def test_dumps() -> None:
    assert dump_call("id", "Heartbeat", b"{}") == b'[2,"id","Heartbeat",{}]'
    assert dump_call_result('a"b', b'{"x":1}') == b'[3,"a\\"b",{"x":1}]'
    assert dump_call_error("id", RpcErrorCode.NOT_SUPPORTED) == b'[4,"id","NotSupported","",{}]'
    long = orjson.loads(dump_call_error("id", RpcErrorCode.GENERIC_ERROR, "x" * 300, {"k": "v"}))
    assert long == [4, "id", "GenericError", "x" * 255, {"k": "v"}]


def test_new_message_ids_are_uuid4_strings() -> None:
    ids = {new_message_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 36 and i[14] == "4" for i in ids)


@pytest.mark.parametrize(("template", "respond"), [('[2,"deep","Heartbeat",{}]', True), ('[3,"deep",{}]', False)])
def test_a_payload_nested_too_deeply_is_a_format_violation(template: str, respond: bool) -> None:
    """Found by the fuzzer (issue 19): deeper than orjson writes, it was an InternalError."""
    text = template.replace("{}", '{"a":' + "[" * 300 + "]" * 300 + "}")
    with pytest.raises(FrameError) as raised:
        parse_frame_strict(text)
    assert (raised.value.code, raised.value.message_id, raised.value.respond) == (
        RpcErrorCode.FORMAT_VIOLATION,
        "deep",
        respond,
    )
