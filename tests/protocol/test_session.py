"""RpcSession over real websockets: every CALLERROR of Part 4 §4.3, our CALLs one at a time, lenient mode."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
import logging
from typing import Any

import orjson
import pytest
from websockets.asyncio.client import ClientConnection

from custom_components.ocpp_csms.protocol.errors import OcppError, RpcErrorCode
from custom_components.ocpp_csms.protocol.lenient import ViolationKind
from custom_components.ocpp_csms.protocol.model import OcppModel
from custom_components.ocpp_csms.protocol.session import (
    CallErrorResponse,
    CallFailed,
    CallTimeout,
    InvalidResponse,
    RpcSession,
    SessionClosed,
)
from custom_components.ocpp_csms.protocol.v201.datatypes import Component, GetVariableData, Variable
from custom_components.ocpp_csms.protocol.v201.enums import RegistrationStatus, Reset, ResetStatus
from custom_components.ocpp_csms.protocol.v201.messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    ResetRequest,
    ResetResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
)

from .conftest import CsmsFactory
from .ws_harness import recv_frame, send_frame

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "Wallbox", "vendorName": "ACME"}}
STATUS = {"timestamp": "2025-06-01T12:00:00Z", "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
#: What the test station answers to our calls.
RESET_OK = {"status": "Accepted"}
GET_VARIABLES_OK = {
    "getVariableResult": [
        {
            "attributeStatus": "Accepted",
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
    ]
}


class Description:
    """Matches any CALLERROR description: a non-empty string of at most 255 characters."""

    def __eq__(self, other: object) -> bool:
        """Whether `other` is such a string."""
        return isinstance(other, str) and 0 < len(other) <= 255

    def __hash__(self) -> int:
        """Unhashable in spirit; constant to satisfy the protocol."""
        return 0

    def __repr__(self) -> str:
        """Shown in assertion diffs."""
        return "<description>"


DESCRIPTION: Any = Description()


async def boot(request: BootNotificationRequest) -> BootNotificationResponse:
    return BootNotificationResponse(current_time=NOW, interval=300, status=RegistrationStatus.ACCEPTED)


async def heartbeat(request: HeartbeatRequest) -> HeartbeatResponse:
    return HeartbeatResponse(current_time=NOW)


async def status_notification(request: StatusNotificationRequest) -> StatusNotificationResponse:
    return StatusNotificationResponse()


def standard(session: RpcSession) -> None:
    """The handlers most tests use. Heartbeat is known to the registry but has no handler: NotSupported."""
    session.on(BootNotificationRequest, boot)
    session.on(StatusNotificationRequest, status_notification)


def reset() -> ResetRequest:
    return ResetRequest(type=Reset.IMMEDIATE)


def get_variables() -> GetVariablesRequest:
    data = GetVariableData(component=Component(name="OCPPCommCtrlr"), variable=Variable(name="HeartbeatInterval"))
    return GetVariablesRequest(get_variable_data=[data])


async def exchange(client: ClientConnection, frame: Any) -> list[Any]:
    await send_frame(client, frame)
    return await recv_frame(client)


async def assert_silent(client: ClientConnection, seconds: float = 0.05) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(client.recv(), seconds)


# ---- CALLs from the station: CALLRESULT or the CALLERROR Part 4 §4.3 prescribes ------------------------------


async def test_call_is_answered_with_a_callresult(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "BootNotification", BOOT]) == [
            3,
            "m1",
            {"currentTime": "2025-06-01T12:00:00Z", "interval": 300, "status": "Accepted"},
        ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("not json at all", [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="invalid-json"),
        pytest.param('[2,"m1","BootNotification",{', [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="truncated"),
        pytest.param("{}", [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="object-not-array"),
        pytest.param("[2]", [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="call-without-id"),
        pytest.param('[2,"m1"]', [4, "m1", "RpcFrameworkError", DESCRIPTION, {}], id="call-without-action"),
        pytest.param(
            '[2,"m1","Heartbeat",{},{}]', [4, "m1", "RpcFrameworkError", DESCRIPTION, {}], id="call-five-elements"
        ),
        pytest.param(
            '[2,"m1","BootNotification",{},"x"]',
            [4, "m1", "RpcFrameworkError", DESCRIPTION, {}],
            id="call-trailing-element-known-action",
        ),
        pytest.param('[2,17,"Heartbeat",{}]', [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="numeric-id"),
        pytest.param(
            '[2,"' + "x" * 37 + '","Heartbeat",{}]', [4, "-1", "RpcFrameworkError", DESCRIPTION, {}], id="id-too-long"
        ),
        pytest.param('[5,"m1",{}]', [4, "m1", "MessageTypeNotSupported", DESCRIPTION, {}], id="message-type-5"),
        pytest.param("[6]", [4, "-1", "MessageTypeNotSupported", DESCRIPTION, {}], id="message-type-6-no-id"),
    ],
)
async def test_invalid_frames_are_answered_per_part4(ws_csms: CsmsFactory, raw: str, expected: list[Any]) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, raw) == expected
        # and the session keeps serving
        assert (await exchange(client, [2, "m2", "BootNotification", BOOT]))[:2] == [3, "m2"]


async def test_unknown_action_is_not_implemented(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "MakeCoffee", {}]) == [
            4,
            "m1",
            "NotImplemented",
            "Unknown action MakeCoffee",
            {},
        ]


async def test_escaped_message_id_is_echoed(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, '[2, "a\\"b", "MakeCoffee", {}]') == [
            4,
            'a"b',
            "NotImplemented",
            "Unknown action MakeCoffee",
            {},
        ]
        assert (await exchange(client, '[2,"a\\u0041","BootNotification",' + orjson.dumps(BOOT).decode() + "]"))[
            :2
        ] == [3, "aA"]


async def test_known_action_without_handler_is_not_supported(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "Heartbeat", {}]) == [
            4,
            "m1",
            "NotSupported",
            "HeartbeatRequest not supported",
            {},
        ]


async def test_off_unregisters_a_handler(ws_csms: CsmsFactory) -> None:
    def setup(session: RpcSession) -> None:
        standard(session)
        session.off(BootNotificationRequest)
        session.off(HeartbeatRequest)  # nothing registered: no-op
        session.off(HeartbeatResponse)  # no request at all: no-op

    async with ws_csms(setup) as csms:
        client = await csms.connect()
        assert (await exchange(client, [2, "m1", "BootNotification", BOOT]))[:3] == [4, "m1", "NotSupported"]


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        pytest.param(
            "BootNotification", {"reason": "PowerUp"}, "OccurrenceConstraintViolation", id="missing-required-field"
        ),
        pytest.param(
            "BootNotification",
            {"reason": "PowerUp", "chargingStation": {"model": 5, "vendorName": "ACME"}},
            "TypeConstraintViolation",
            id="wrong-type",
        ),
        pytest.param("StatusNotification", {**STATUS, "evseId": "1"}, "TypeConstraintViolation", id="number-as-string"),
        pytest.param("BootNotification", {**BOOT, "reason": "Banana"}, "PropertyConstraintViolation", id="out-of-enum"),
        pytest.param(
            "BootNotification",
            {**BOOT, "chargingStation": {"model": "x" * 21, "vendorName": "ACME"}},
            "TypeConstraintViolation",
            id="string-too-long",
        ),
        pytest.param("BootNotification", {**BOOT, "colour": "blue"}, "ProtocolError", id="extra-field"),
        pytest.param("StatusNotification", {**STATUS, "timestamp": "yesterday"}, "FormatViolation", id="bad-date-time"),
    ],
)
async def test_payload_validation_errors(ws_csms: CsmsFactory, action: str, payload: Any, code: str) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", action, payload]) == [4, "m1", code, DESCRIPTION, {}]


async def test_handler_raising_is_an_internal_error_and_the_session_goes_on(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(request: HeartbeatRequest) -> HeartbeatResponse:
        raise RuntimeError("database on fire")

    def setup(session: RpcSession) -> None:
        standard(session)
        session.on(HeartbeatRequest, broken)

    async with ws_csms(setup) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "Heartbeat", {}]) == [
            4,
            "m1",
            "InternalError",
            "Error while handling Heartbeat",
            {},
        ]
        assert (await exchange(client, [2, "m2", "BootNotification", BOOT]))[:2] == [3, "m2"]
    assert "/ocpp/CS001: error while handling Heartbeat (m1)" in caplog.text
    assert "database on fire" in caplog.text


async def test_handler_returning_the_wrong_model_is_an_internal_error(ws_csms: CsmsFactory) -> None:
    async def confused(request: HeartbeatRequest) -> Any:
        return StatusNotificationResponse()

    async with ws_csms(lambda session: session.on(HeartbeatRequest, confused)) as csms:
        client = await csms.connect()
        assert (await exchange(client, [2, "m1", "Heartbeat", {}]))[:3] == [4, "m1", "InternalError"]


async def test_handler_raising_ocpp_error_answers_that_callerror(ws_csms: CsmsFactory) -> None:
    async def refuse(request: HeartbeatRequest) -> HeartbeatResponse:
        raise OcppError(RpcErrorCode.SECURITY_ERROR, "Not accepted yet", {"hint": "boot first"})

    async with ws_csms(lambda session: session.on(HeartbeatRequest, refuse)) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "Heartbeat", {}]) == [
            4,
            "m1",
            "SecurityError",
            "Not accepted yet",
            {"hint": "boot first"},
        ]


async def test_guard_refuses_calls_before_acceptance_fr_04(ws_csms: CsmsFactory) -> None:
    """FR.04: before the station is accepted, anything but BootNotification gets SecurityError."""
    accepted = False

    def guard(action: str, request: OcppModel) -> None:
        if not accepted and action != "BootNotification":
            raise OcppError(RpcErrorCode.SECURITY_ERROR, f"{action} before BootNotification was accepted")

    async def accepting_boot(request: BootNotificationRequest) -> BootNotificationResponse:
        nonlocal accepted
        accepted = True
        return await boot(request)

    def setup(session: RpcSession) -> None:
        standard(session)
        session.on(BootNotificationRequest, accepting_boot)
        session.guard = guard

    async with ws_csms(setup) as csms:
        client = await csms.connect()
        assert await exchange(client, [2, "m1", "StatusNotification", STATUS]) == [
            4,
            "m1",
            "SecurityError",
            "StatusNotification before BootNotification was accepted",
            {},
        ]
        assert (await exchange(client, [2, "m2", "BootNotification", BOOT]))[:2] == [3, "m2"]
        assert await exchange(client, [2, "m3", "StatusNotification", STATUS]) == [3, "m3", {}]


async def test_on_rejects_models_that_are_no_request() -> None:
    async def nothing(message: bytes) -> None:
        pass

    session = RpcSession(nothing)
    with pytest.raises(TypeError, match="HeartbeatResponse is not the request of a known action"):
        session.on(HeartbeatResponse, heartbeat)  # type: ignore[arg-type]


# ---- our CALLs -----------------------------------------------------------------------------------------------


async def test_call_returns_the_typed_response(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call(get_variables(), GetVariablesResponse))
        frame = await recv_frame(client)
        assert frame[0] == 2
        assert len(frame[1]) == 36
        assert frame[2:] == [
            "GetVariables",
            {"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]},
        ]
        await send_frame(client, [3, frame[1], GET_VARIABLES_OK])
        response = await call
        assert isinstance(response, GetVariablesResponse)
        assert response.get_variable_result[0].variable.name == "HeartbeatInterval"


async def test_call_checks_the_response_model() -> None:
    async def nothing(message: bytes) -> None:
        pass

    session = RpcSession(nothing)
    with pytest.raises(TypeError, match="Reset answers ResetResponse, not HeartbeatResponse"):
        await session.call(reset(), HeartbeatResponse)
    with pytest.raises(TypeError, match="ResetResponse is not the request of a known action"):
        await session.call(ResetResponse(status=ResetStatus.ACCEPTED), ResetResponse)


async def test_one_outstanding_call_at_a_time_fr_01(ws_csms: CsmsFactory) -> None:
    """Part 4 §4.1.1 / FR.01: three concurrent calls reach the station strictly one after another, FIFO."""
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        calls = [
            asyncio.create_task(session.call(reset(), ResetResponse)),
            asyncio.create_task(session.call(get_variables(), GetVariablesResponse)),
            asyncio.create_task(session.call(ResetRequest(type=Reset.ON_IDLE), ResetResponse)),
        ]
        seen = []
        for answer in (RESET_OK, GET_VARIABLES_OK, {"status": "Scheduled"}):
            frame = await recv_frame(client)
            seen.append(frame[2])
            await assert_silent(client)  # nothing else goes out while this one is outstanding
            await send_frame(client, [3, frame[1], answer])
        assert seen == ["Reset", "GetVariables", "Reset"]
        results = await asyncio.gather(*calls)
        assert [type(r) for r in results] == [ResetResponse, GetVariablesResponse, ResetResponse]


async def test_crossing_calls_both_complete(ws_csms: CsmsFactory) -> None:
    """Part 4 §4.1.1 note: the station's CALL while ours is outstanding is served at once."""
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call(reset(), ResetResponse))
        ours = await recv_frame(client)
        assert (await exchange(client, [2, "theirs", "StatusNotification", STATUS])) == [3, "theirs", {}]
        await send_frame(client, [3, ours[1], RESET_OK])
        assert (await call).status == "Accepted"


async def test_handler_may_call_the_station_while_serving(ws_csms: CsmsFactory) -> None:
    """A handler awaiting its own CALL to the station does not block reading: handlers run in tasks."""

    def setup(session: RpcSession) -> None:
        async def boot_then_ask(request: BootNotificationRequest) -> BootNotificationResponse:
            await session.call(get_variables(), GetVariablesResponse)
            return await boot(request)

        session.on(BootNotificationRequest, boot_then_ask)

    async with ws_csms(setup) as csms:
        client = await csms.connect()
        await send_frame(client, [2, "boot", "BootNotification", BOOT])
        ours = await recv_frame(client)
        assert ours[2] == "GetVariables"
        await send_frame(client, [3, ours[1], GET_VARIABLES_OK])
        assert (await recv_frame(client))[:2] == [3, "boot"]


async def test_timeout_then_the_next_call_goes_out(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard, call_timeout=0.05) as csms:
        client = await csms.connect()
        session = await csms.session()
        first = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        second = asyncio.create_task(session.call(get_variables(), GetVariablesResponse, timeout=2))
        unanswered = await recv_frame(client)
        outcome = await first
        assert isinstance(outcome, CallTimeout)
        assert (outcome.action, outcome.message_id, outcome.timeout) == ("Reset", unanswered[1], 0.05)
        frame = await recv_frame(client)
        assert frame[2] == "GetVariables"
        await send_frame(client, [3, frame[1], GET_VARIABLES_OK])
        assert isinstance(await second, GetVariablesResponse)


async def test_per_call_timeout_raises_with_call(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        await csms.connect()
        session = await csms.session()
        assert session.call_timeout == 30.0
        with pytest.raises(CallTimeout, match=r"Reset \(.*\): no response within 0.05 s"):
            await session.call(reset(), ResetResponse, timeout=0.05)


async def test_callerror_result(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        frame = await recv_frame(client)
        await send_frame(client, [4, frame[1], "NotSupported", "no resets here", {"why": "firmware"}])
        outcome = await call
        assert isinstance(outcome, CallErrorResponse)
        assert (outcome.code, outcome.raw_code, outcome.description, outcome.details) == (
            RpcErrorCode.NOT_SUPPORTED,
            "NotSupported",
            "no resets here",
            {"why": "firmware"},
        )
        # `call` raises the same
        call2 = asyncio.create_task(session.call(reset(), ResetResponse))
        frame = await recv_frame(client)
        await send_frame(client, [4, frame[1], "OccurenceConstraintViolation", "1.6 spelling", {}])
        with pytest.raises(CallErrorResponse) as caught:
            await call2
        assert (caught.value.code, caught.value.raw_code) == (
            RpcErrorCode.GENERIC_ERROR,
            "OccurenceConstraintViolation",
        )


async def test_callerror_with_unreadable_id_fails_the_outstanding_call(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        await recv_frame(client)
        await send_frame(client, [4, "-1", "RpcFrameworkError", "could not read", {}])
        outcome = await call
        assert isinstance(outcome, CallErrorResponse)
        assert outcome.code == RpcErrorCode.RPC_FRAMEWORK_ERROR


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        pytest.param({"status": "Maybe"}, RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION, id="out-of-enum"),
        pytest.param({}, RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, id="missing-field"),
    ],
)
async def test_invalid_callresult_is_a_typed_error(ws_csms: CsmsFactory, answer: Any, code: RpcErrorCode) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        frame = await recv_frame(client)
        await send_frame(client, [3, frame[1], answer])
        outcome = await call
        assert isinstance(outcome, InvalidResponse)
        assert outcome.code == code
        await assert_silent(client)  # a response is never answered


@pytest.mark.parametrize(
    "template",
    [
        pytest.param('[3,"{id}",{{"status":"Accepted"}},1]', id="callresult-four-elements"),
        pytest.param('[3,"{id}"]', id="callresult-without-payload"),
        pytest.param('[4,"{id}",42,"",{{}}]', id="callerror-numeric-code"),
    ],
)
async def test_broken_response_frame_fails_the_call(ws_csms: CsmsFactory, template: str) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        frame = await recv_frame(client)
        await send_frame(client, template.format(id=frame[1]))
        outcome = await call
        assert isinstance(outcome, InvalidResponse)
        assert outcome.code == RpcErrorCode.RPC_FRAMEWORK_ERROR
        await assert_silent(client)


async def test_unexpected_responses_are_logged_and_dropped(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with ws_csms(standard, call_timeout=0.05) as csms:
        client = await csms.connect()
        session = await csms.session()
        # unknown id, nothing outstanding
        await send_frame(client, [3, "nobody-asked", RESET_OK])
        await send_frame(client, [4, "nobody-asked-either", "GenericError", "", {}])
        await send_frame(client, '[3,"broken"]')
        # late: the call timed out before the answer came
        late = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        timed_out = await recv_frame(client)
        assert isinstance(await late, CallTimeout)
        await send_frame(client, [3, timed_out[1], RESET_OK])
        # duplicate: answered twice
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse, timeout=2))
        frame = await recv_frame(client)
        await send_frame(client, [3, frame[1], RESET_OK])
        assert isinstance(await call, ResetResponse)
        await send_frame(client, [3, frame[1], RESET_OK])
        await send_frame(client, [4, frame[1], "InternalError", "", {}])
        # a mismatched id while a call is outstanding does not complete it
        call = asyncio.create_task(session.call_outcome(reset(), ResetResponse, timeout=2))
        frame = await recv_frame(client)
        await send_frame(client, [3, "not-" + frame[1][4:], {"status": "Rejected"}])
        await send_frame(client, [3, frame[1], RESET_OK])
        outcome = await call
        assert isinstance(outcome, ResetResponse)
        assert outcome.status == "Accepted"
        # none of it was answered, and the session still serves
        assert (await exchange(client, [2, "m1", "BootNotification", BOOT]))[:2] == [3, "m1"]
    assert "response to unknown message id 'nobody-asked' dropped" in caplog.text
    assert "response to unknown message id 'nobody-asked-either' dropped" in caplog.text
    assert f"late or duplicate response to {timed_out[1]} dropped" in caplog.text
    assert caplog.text.count("late or duplicate response") == 3  # the late one, the duplicate CALLRESULT and CALLERROR
    assert caplog.text.count("response to unknown message id") == 3  # the two unknown ids, the mismatched one


# ---- closing -------------------------------------------------------------------------------------------------


async def test_close_ends_outstanding_and_queued_calls(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        outstanding = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
        queued = asyncio.create_task(session.call(get_variables(), GetVariablesResponse))
        await recv_frame(client)
        await client.close()  # the listener closes the session when the socket goes
        first = await outstanding
        assert isinstance(first, SessionClosed)
        assert str(first).endswith("connection closed")
        with pytest.raises(SessionClosed, match=r"GetVariables \(not sent\): connection closed"):
            await queued
        assert session.closed
        after = await session.call_outcome(reset(), ResetResponse)
        assert isinstance(after, SessionClosed)
        await session.receive(b'[2,"late","Heartbeat",{}]')  # dropped quietly
        await session.close()  # idempotent


async def test_connection_lost_ends_the_outstanding_call_only() -> None:
    sent: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def send(message: bytes) -> None:
        sent.put_nowait(orjson.loads(message))

    session = RpcSession(send)
    outstanding = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
    queued = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
    first = await asyncio.wait_for(sent.get(), 1)
    session.connection_lost()
    outcome = await outstanding
    assert isinstance(outcome, SessionClosed)
    assert outcome.message_id == first[1]
    second = await asyncio.wait_for(sent.get(), 1)  # the queued call goes out next, over the session's send
    await session.receive(orjson.dumps([3, second[1], RESET_OK]))
    assert isinstance(await queued, ResetResponse)
    assert not session.closed
    session.connection_lost()  # nothing outstanding: no-op
    await session.close()


async def test_close_cancels_running_handlers() -> None:
    sent: list[bytes] = []
    started = asyncio.Event()

    async def send(message: bytes) -> None:
        sent.append(message)

    async def slow(request: HeartbeatRequest) -> HeartbeatResponse:
        started.set()
        await asyncio.sleep(60)
        return await heartbeat(request)  # pragma: no cover

    session = RpcSession(send)
    session.on(HeartbeatRequest, slow)
    await session.receive(b'[2,"m1","Heartbeat",{}]')
    await started.wait()
    assert len(session._tasks) == 1
    await session.close()
    assert not session._tasks
    assert sent == []


async def test_handler_may_close_its_own_session() -> None:
    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        sent.append(message)

    session = RpcSession(send)

    async def closing(request: HeartbeatRequest) -> HeartbeatResponse:
        await asyncio.sleep(0)
        await session.close()
        return await heartbeat(request)

    session.on(HeartbeatRequest, closing)
    await session.receive(b'[2,"m1","Heartbeat",{}]')
    (task,) = session._tasks
    await task
    assert session.closed
    assert sent == [b'[3,"m1",{"currentTime":"2025-06-01T12:00:00Z"}]']


async def test_send_failure_ends_the_call_and_is_not_fatal() -> None:
    async def broken_send(message: bytes) -> None:
        raise ConnectionResetError("gone")

    session = RpcSession(broken_send)
    session.on(HeartbeatRequest, heartbeat)
    outcome = await session.call_outcome(reset(), ResetResponse)
    assert isinstance(outcome, SessionClosed)
    assert isinstance(outcome.__cause__, ConnectionResetError)
    await session.receive(b'[2,"m1","Heartbeat",{}]')  # the answer cannot go out: logged, not raised
    await session.receive(b"garbage")
    await session.close()


async def test_call_failed_is_the_common_base() -> None:
    for failure in (CallTimeout, CallErrorResponse, InvalidResponse, SessionClosed):
        assert issubclass(failure, CallFailed)


# ---- lenient mode ----------------------------------------------------------------------------------------------

BENT_BOOT = {
    "reason": "powerUp",
    "chargingStation": {"model": "Wallbox", "vendorName": "ACME", "serialNumber": None, "firmware": "1.2"},
    "connectorCount": 2,
}


async def test_strict_mode_rejects_a_bent_boot_notification(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard) as csms:
        client = await csms.connect()
        session = await csms.session()
        assert not session.lenient
        assert (await exchange(client, [2, "m1", "BootNotification", BENT_BOOT]))[:2] == [4, "m1"]
        assert session.violation_count == 0


async def test_lenient_mode_accepts_a_bent_boot_notification_and_records_why(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    received: list[BootNotificationRequest] = []

    async def recording_boot(request: BootNotificationRequest) -> BootNotificationResponse:
        received.append(request)
        return await boot(request)

    async with ws_csms(lambda s: s.on(BootNotificationRequest, recording_boot), lenient=True, max_violations=3) as csms:
        client = await csms.connect()
        session = await csms.session()
        assert (await exchange(client, [2, "m1", "BootNotification", BENT_BOOT]))[:2] == [3, "m1"]
        assert received[0].reason == "PowerUp"
        assert received[0].charging_station.vendor_name == "ACME"
        assert session.violation_count == 4
        assert [(v.action, v.message_id, v.path, v.kind) for v in session.violations] == [
            ("BootNotification", "m1", "chargingStation.serialNumber", ViolationKind.NULL_VALUE),
            ("BootNotification", "m1", "chargingStation.firmware", ViolationKind.UNKNOWN_FIELD),
            ("BootNotification", "m1", "connectorCount", ViolationKind.UNKNOWN_FIELD),
        ]  # bounded: the oldest (reason's case) is gone
        # what cannot be repaired is still refused, with the code of what remains wrong
        assert await exchange(client, [2, "m2", "BootNotification", {"reason": "powerUp"}]) == [
            4,
            "m2",
            "OccurrenceConstraintViolation",
            DESCRIPTION,
            {},
        ]
        # nothing to repair: the strict answer
        assert (await exchange(client, [2, "m3", "BootNotification", {**BOOT, "reason": "Banana"}]))[2] == (
            "PropertyConstraintViolation"
        )
        assert (await exchange(client, '[2,"m4","BootNotification",[1]]'))[2] == "FormatViolation"
        assert session.violation_count == 4
    assert "lenient mode repaired BootNotification (m1)" in caplog.text


async def test_lenient_mode_numbers_as_strings_and_responses(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard, lenient=True) as csms:
        client = await csms.connect()
        session = await csms.session()
        assert await exchange(
            client, [2, "m1", "StatusNotification", {**STATUS, "evseId": "1", "connectorId": "1.0"}]
        ) == [
            3,
            "m1",
            {},
        ]
        assert [v.kind for v in session.violations] == [ViolationKind.NUMBER_AS_STRING] * 2
        call = asyncio.create_task(session.call(reset(), ResetResponse))
        frame = await recv_frame(client)
        await send_frame(client, [3, frame[1], {"status": "ACCEPTED"}])
        assert (await call).status == "Accepted"
        assert session.violations[-1].action == "Reset"
        assert session.violations[-1].kind == ViolationKind.ENUM_CASE


async def test_lenient_mode_cannot_repair_what_is_not_json(ws_csms: CsmsFactory) -> None:
    """Pydantic reads a NaN literal, orjson (and JSON) does not: nothing to repair, the strict answer stands."""
    async with ws_csms(standard, lenient=True) as csms:
        client = await csms.connect()
        raw = '[2,"m1","StatusNotification",{"timestamp":"2025-06-01T12:00:00Z","connectorStatus":"Available",'
        raw += '"evseId":NaN,"connectorId":1}]'
        assert await exchange(client, raw) == [4, "m1", "TypeConstraintViolation", DESCRIPTION, {}]


async def test_lenient_mode_leaves_broken_frames_to_the_frame_rules(ws_csms: CsmsFactory) -> None:
    async with ws_csms(standard, lenient=True) as csms:
        client = await csms.connect()
        assert await exchange(client, '[2,"m1","BootNotification",{"reason":"powerUp"},{}]') == [
            4,
            "m1",
            "RpcFrameworkError",
            DESCRIPTION,
            {},
        ]


def test_payload_bytes_are_orjson_compatible() -> None:
    assert orjson.loads(
        BootNotificationResponse(current_time=NOW, interval=1, status=RegistrationStatus.ACCEPTED).to_json()
    ) == {
        "currentTime": "2025-06-01T12:00:00Z",
        "interval": 1,
        "status": "Accepted",
    }


# ---- issue 19: a station flooding CALLs, a station answering none of ours ----------------------------------


async def test_a_station_flooding_calls_gets_generic_error_beyond_the_limit(caplog: pytest.LogCaptureFixture) -> None:
    from custom_components.ocpp_csms.protocol.session import MAX_CONCURRENT_CALLS  # noqa: PLC0415

    sent: list[list[Any]] = []
    release = asyncio.Event()

    async def send(message: bytes) -> None:
        sent.append(orjson.loads(message))

    async def slow(request: HeartbeatRequest) -> HeartbeatResponse:
        await release.wait()
        return await heartbeat(request)

    session = RpcSession(send, station_id="CP-F")
    session.on(HeartbeatRequest, slow)
    with caplog.at_level(logging.WARNING):
        for number in range(MAX_CONCURRENT_CALLS + 5):
            await session.receive(f'[2,"m{number}","Heartbeat",{{}}]'.encode())
    refused = [frame for frame in sent if frame[0] == 4]
    assert [frame[2] for frame in refused] == ["GenericError"] * 5
    assert session.refused_calls == 5
    assert [r.message for r in caplog.records].count(
        f"CP-F: sends CALLs without waiting for our answers (more than {MAX_CONCURRENT_CALLS} at once, against "
        "OCPP-J's one): the excess is answered GenericError"
    ) == 1
    release.set()
    while session._tasks:
        await asyncio.sleep(0)
    assert len([frame for frame in sent if frame[0] == 3]) == MAX_CONCURRENT_CALLS
    await session.receive(b'[2,"again","Heartbeat",{}]')  # served again once the others are answered
    while session._tasks:
        await asyncio.sleep(0)
    assert sent[-1][:2] == [3, "again"]
    await session.close()


async def test_our_calls_to_a_station_that_never_answers_queue_boundedly(caplog: pytest.LogCaptureFixture) -> None:
    from custom_components.ocpp_csms.protocol.session import MAX_QUEUED_CALLS, CallQueueFull  # noqa: PLC0415

    sent: list[bytes] = []

    async def send(message: bytes) -> None:
        sent.append(message)

    session = RpcSession(send, station_id="CP-N", call_timeout=0.001)
    with caplog.at_level(logging.WARNING):
        calls = [asyncio.create_task(session.call_outcome(reset(), ResetResponse)) for _ in range(MAX_QUEUED_CALLS + 6)]
        outcomes = await asyncio.gather(*calls)
    full = [outcome for outcome in outcomes if isinstance(outcome, CallQueueFull)]
    assert len(full) == 6
    assert all(isinstance(outcome, CallTimeout) for outcome in outcomes)  # a full queue is a timeout at once
    assert len(sent) == MAX_QUEUED_CALLS  # only what queued was sent, one at a time
    assert session.refused_own_calls == 6
    assert sum("calls wait for an answer" in r.message for r in caplog.records) == 1
    assert isinstance(await session.call_outcome(reset(), ResetResponse), CallTimeout)  # room again
    await session.close()


async def test_receive_says_which_messages_answered_our_calls() -> None:
    """What the listener's rate limit leaves uncounted: a result or error for the CALL outstanding, nothing else."""
    sent: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def send(message: bytes) -> None:
        sent.put_nowait(orjson.loads(message))

    session = RpcSession(send)
    first = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
    call = await asyncio.wait_for(sent.get(), 1)
    assert await session.receive(orjson.dumps([3, call[1], RESET_OK])) is True
    assert await session.receive(orjson.dumps([3, call[1], RESET_OK])) is False  # a duplicate answers nothing
    assert isinstance(await first, ResetResponse)
    second = asyncio.create_task(session.call_outcome(reset(), ResetResponse))
    call = await asyncio.wait_for(sent.get(), 1)
    assert await session.receive(orjson.dumps([4, call[1], "InternalError", "", {}])) is True
    await second
    assert await session.receive(orjson.dumps([4, "unknown", "InternalError", "", {}])) is False
    assert await session.receive(b"garbage") is False
    assert await session.receive(b'[2,"m1","Heartbeat",{}]') is False
    await session.close()
    assert await session.receive(b'[3,"m2",{}]') is False  # closed: dropped
