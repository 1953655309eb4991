"""The opt-in frames logger and the redaction of secrets, in messages and in what the RPC session logs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import pytest

from custom_components.ocpp_csms.protocol.frame_log import (
    FRAMES,
    FRAMES_LOGGER,
    REDACTED,
    holds_secret,
    redact_frame,
    scrub_json,
    scrub_value,
    secret_paths,
    secret_values,
)
from custom_components.ocpp_csms.protocol.lenient import ViolationKind
from custom_components.ocpp_csms.protocol.session import CallErrorResponse, RpcSession
from custom_components.ocpp_csms.protocol.v201.datatypes import Component, SetVariableData, Variable
from custom_components.ocpp_csms.protocol.v201.messages import (
    NotifyReportRequest,
    NotifyReportResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)

from .conftest import CsmsFactory
from .ws_harness import recv_frame, send_frame

SECRET = "s3cret-Password-0123456789"
PASSWORD_VARIABLE = {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}}
HEARTBEAT_VARIABLE = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
SET_RESULT = {"setVariableResult": [{"attributeStatus": "Accepted", **PASSWORD_VARIABLE}]}


def frame(*elements: Any) -> str:
    return orjson.dumps(list(elements)).decode()


# ---- what is redacted ---------------------------------------------------------------------------------------


def test_the_frames_logger_is_silent_by_default_even_under_a_debug_root() -> None:
    assert FRAMES.name == FRAMES_LOGGER == "ocpp_csms.frames"
    assert not FRAMES.name.startswith("custom_components.ocpp_csms")  # the integration's level does not reach it
    assert FRAMES.level == logging.INFO  # its own level: a DEBUG root does not turn it on
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.DEBUG)
    try:
        assert not FRAMES.isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(previous)


def test_a_message_without_secrets_is_logged_as_it_is() -> None:
    message = frame(2, "m1", "SetVariables", {"setVariableData": [{"attributeValue": "60", **HEARTBEAT_VARIABLE}]})
    assert redact_frame(message) == message
    assert redact_frame(message.encode()) == message
    assert not holds_secret(message)
    assert not holds_secret(message.encode())
    assert secret_values(message.encode()) == frozenset()


def test_set_variables_of_the_basic_auth_password_a01() -> None:
    message = frame(
        2,
        "m1",
        "SetVariables",
        {
            "setVariableData": [
                {"attributeValue": "60", **HEARTBEAT_VARIABLE},
                {"attributeValue": SECRET, **PASSWORD_VARIABLE},
            ]
        },
    )
    logged = redact_frame(message.encode())
    assert SECRET not in logged
    assert orjson.loads(logged) == [
        2,
        "m1",
        "SetVariables",
        {
            "setVariableData": [
                {"attributeValue": "60", **HEARTBEAT_VARIABLE},
                {"attributeValue": REDACTED, **PASSWORD_VARIABLE},
            ]
        },
    ]
    assert holds_secret(message)
    assert secret_values(message.encode()) == {SECRET}


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        pytest.param(
            {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": SECRET, **PASSWORD_VARIABLE}]},
            ["getVariableResult[0].attributeValue"],
            id="GetVariablesResponse",
        ),
        pytest.param(
            {
                "reportData": [
                    {
                        **PASSWORD_VARIABLE,
                        "variableAttribute": [{"type": "Target", "value": SECRET}, {"value": SECRET}],
                    }
                ]
            },
            ["reportData[0].variableAttribute[0].value", "reportData[0].variableAttribute[1].value"],
            id="NotifyReport",
        ),
        pytest.param(
            {
                "REPORTDATA": [
                    {
                        "Component": {"Name": "X"},
                        "Variable": {"NAME": "basicauthpassword"},
                        "VariableAttribute": {"Value": SECRET},
                    }
                ]
            },
            ["REPORTDATA[0].VariableAttribute.Value"],
            id="NotifyReport bent: any case, an object for an array",
        ),
        pytest.param(
            {"reportData": [{**PASSWORD_VARIABLE, "variableAttribute": [SECRET, {"type": "Actual", "value": SECRET}]}]},
            ["reportData[0].variableAttribute[0]", "reportData[0].variableAttribute[1].value"],
            id="NotifyReport bent: a bare value for an attribute",
        ),
        pytest.param(
            {"eventData": [{"eventId": 1, "actualValue": SECRET, **PASSWORD_VARIABLE}]},
            ["eventData[0].actualValue"],
            id="NotifyEvent",
        ),
        pytest.param(
            {
                "configurationSlot": 1,
                "connectionData": {
                    "apn": {"apn": "internet", "apnPassword": SECRET},
                    "vpn": {"server": "vpn", "user": "me", "password": SECRET, "key": SECRET, "type": "IPSec"},
                },
            },
            [
                "connectionData.apn.apnPassword",
                "connectionData.vpn.password",
                "connectionData.vpn.key",
            ],
            id="SetNetworkProfile",
        ),
    ],
)
def test_secrets_wherever_they_are(payload: dict[str, Any], paths: list[str]) -> None:
    message = frame(2, "m1", "Action", payload)
    logged = redact_frame(message)
    assert SECRET not in logged
    assert logged.count(REDACTED) == len(paths)
    assert secret_paths(payload) == paths
    assert holds_secret(message)


def test_a_secret_behind_json_escapes_is_redacted() -> None:
    message = '[2,"m1","SetVariables",{"setVariableData":[{"attributeValue":"' + SECRET + '",'
    message += '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuth\\u0050asswor\\u0064"}}]}]'
    assert '"BasicAuthPassword"' not in message
    logged = redact_frame(message)
    assert SECRET not in logged
    assert REDACTED in logged


@pytest.mark.parametrize(
    "message",
    [
        '[2,"m1","SetVariables",{"attributeValue":"' + SECRET + '","variable":{"name":"BasicAuthPassword"}',
        "[" * 300 + '"password ' + SECRET + '"' + "]" * 300,  # deeper than orjson writes
        "[" * 1020 + '"password ' + SECRET + '"' + "]" * 1020,  # deeper than Python recurses
    ],
    ids=["not JSON", "nested too deep to write", "nested too deep to walk"],
)
def test_an_unreadable_message_that_may_hold_a_secret_is_withheld(message: str) -> None:
    logged = redact_frame(message)
    assert logged == f"<{len(message)} characters withheld: not readable as JSON, and may hold a secret>"
    assert SECRET not in logged


def test_an_unreadable_message_without_hint_of_a_secret_is_logged() -> None:
    assert redact_frame("[2, nonsense") == "[2, nonsense"
    assert holds_secret('[2,"m1","SetVariables",{"password": ') is True
    assert secret_values(b'[2,"m1","X",{"password": ') == frozenset()


def test_secrets_we_sent_are_replaced_wherever_the_station_echoes_them() -> None:
    echo = frame(4, "m1", "PropertyConstraintViolation", f"value {SECRET} too long", {"value": SECRET, "n": 1})
    logged = redact_frame(echo, {SECRET})
    assert SECRET not in logged
    assert orjson.loads(logged)[3:] == [f"value {REDACTED} too long", {"value": REDACTED, "n": 1}]
    assert scrub_value({"a": [SECRET, 1, None]}, [SECRET, ""]) == {"a": [REDACTED, 1, None]}
    assert scrub_value(SECRET, []) == SECRET
    deep: Any = SECRET
    for _ in range(1100):
        deep = [deep]
    assert scrub_value(deep, [SECRET]) == REDACTED  # too deep to look through: replaced whole
    assert scrub_json(f'{{"info":"{SECRET}"}}', [SECRET]) == f'{{"info":"{REDACTED}"}}'.encode()
    assert scrub_json(f'{{"info":"{SECRET}"', [SECRET]) == f'{{"info":"{REDACTED}"'  # not JSON: in the text
    too_deep = "[" * 300 + f'"{SECRET}"' + "]" * 300
    assert scrub_json(too_deep.encode(), [SECRET]) == too_deep.replace(SECRET, REDACTED)
    assert scrub_json(too_deep, []) == too_deep


# ---- the session's frames logging ----------------------------------------------------------------------------


def password_rotation() -> SetVariablesRequest:
    data = SetVariableData(
        attribute_value=SECRET, component=Component(name="SecurityCtrlr"), variable=Variable(name="BasicAuthPassword")
    )
    return SetVariablesRequest(set_variable_data=[data])


def frames_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == FRAMES_LOGGER]


async def test_frames_logger_off_logs_nothing(ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with ws_csms() as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call(password_rotation(), SetVariablesResponse))
        sent = await recv_frame(client)
        await send_frame(client, [3, sent[1], SET_RESULT])
        await call
    assert frames_lines(caplog) == []
    assert SECRET not in caplog.text


async def test_frames_logger_on_logs_each_message_redacted(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    async with ws_csms() as csms:
        client = await csms.connect()
        session = await csms.session()
        await send_frame(client, [2, "m1", "Heartbeat", {}])
        assert (await recv_frame(client))[:3] == [4, "m1", "NotSupported"]
        call = asyncio.create_task(session.call(password_rotation(), SetVariablesResponse))
        sent = await recv_frame(client)
        await send_frame(client, [3, sent[1], SET_RESULT])
        await call
    station = "/ocpp/CS001"
    assert frames_lines(caplog) == [
        f'{station} < [2,"m1","Heartbeat",{{}}]',
        f'{station} > [4,"m1","NotSupported","HeartbeatRequest not supported",{{}}]',
        (
            f'{station} > [2,"{sent[1]}","SetVariables",{{"setVariableData":[{{"attributeValue":"{REDACTED}",'
            '"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"}}]}]'
        ),
        f'{station} < [3,"{sent[1]}",{orjson.dumps(SET_RESULT).decode()}]',
    ]
    assert all(record.levelno == logging.DEBUG for record in caplog.records if record.name == FRAMES_LOGGER)
    assert SECRET not in caplog.text


# ---- what the session logs and returns about a secret ----------------------------------------------------------


async def test_a_station_echoing_our_secret_in_a_callerror(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    async with ws_csms() as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call(password_rotation(), SetVariablesResponse))
        sent = await recv_frame(client)
        assert sent[3]["setVariableData"][0]["attributeValue"] == SECRET  # the station gets it, of course
        await send_frame(client, [4, sent[1], "PropertyConstraintViolation", f"{SECRET} is too long", {"v": SECRET}])
        with pytest.raises(CallErrorResponse) as failed:
            await call
    assert failed.value.description == f"{REDACTED} is too long"
    assert failed.value.details == {"v": REDACTED}
    assert failed.value.code == "PropertyConstraintViolation"
    assert SECRET not in str(failed.value)
    assert SECRET not in caplog.text
    assert f'"{REDACTED} is too long",{{"v":"{REDACTED}"}}]' in frames_lines(caplog)[-1]


async def test_a_station_echoing_our_secret_in_a_callresult(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    async with ws_csms() as csms:
        client = await csms.connect()
        session = await csms.session()
        call = asyncio.create_task(session.call(password_rotation(), SetVariablesResponse))
        sent = await recv_frame(client)
        result = {
            "attributeStatus": "Rejected",
            "attributeStatusInfo": {"reasonCode": "TooLong", "additionalInfo": f"got {SECRET}"},
            **PASSWORD_VARIABLE,
        }
        await send_frame(client, [3, sent[1], {"setVariableResult": [result]}])
        response = await call
        # Our next CALL carries no secret: what the station answers is left alone.
        heartbeat = SetVariableData(
            attribute_value="60", component=Component(name="OCPPCommCtrlr"), variable=Variable(name="HeartbeatInterval")
        )
        call = asyncio.create_task(
            session.call(SetVariablesRequest(set_variable_data=[heartbeat]), SetVariablesResponse)
        )
        sent = await recv_frame(client)
        await send_frame(client, [3, sent[1], {"setVariableResult": [{**result, "attributeStatus": "Accepted"}]}])
        second = await call
    info = response.set_variable_result[0].attribute_status_info
    assert info is not None
    assert info.additional_info == f"got {REDACTED}"
    second_info = second.set_variable_result[0].attribute_status_info
    assert second_info is not None
    assert second_info.additional_info == f"got {SECRET}"
    assert SECRET not in "\n".join(frames_lines(caplog)[:2])


async def test_a_handler_error_on_a_request_with_a_secret_withholds_its_text(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    async def store(request: NotifyReportRequest) -> NotifyReportResponse:
        raise ValueError(f"cannot store {request!r}")

    report = {
        "requestId": 1,
        "generatedAt": "2026-11-21T10:00:00Z",
        "seqNo": 0,
        "reportData": [{**PASSWORD_VARIABLE, "variableAttribute": [{"value": SECRET}]}],
    }
    async with ws_csms(lambda session: session.on(NotifyReportRequest, store)) as csms:
        client = await csms.connect()
        await send_frame(client, [2, "m1", "NotifyReport", report])
        assert (await recv_frame(client))[:3] == [4, "m1", "InternalError"]
        harmless = [{**HEARTBEAT_VARIABLE, "variableAttribute": [{"value": "300"}]}]
        await send_frame(client, [2, "m2", "NotifyReport", {**report, "reportData": harmless}])
        assert (await recv_frame(client))[:3] == [4, "m2", "InternalError"]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 2
    assert errors[0].getMessage() == (
        "/ocpp/CS001: error while handling NotifyReport (m1): ValueError in "
        "test_a_handler_error_on_a_request_with_a_secret_withholds_its_text.<locals>.store (test_frame_log.py:"
        f"{store.__code__.co_firstlineno + 1}) (details withheld: the request holds a secret)"
    )
    assert errors[0].exc_info is None
    assert SECRET not in caplog.text
    # Without a secret in the request, the error is logged whole, traceback and all.
    assert errors[1].exc_info is not None
    assert "cannot store" in caplog.text


async def test_lenient_repairs_of_a_secret_do_not_quote_it(
    ws_csms: CsmsFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    number = 9876543210987654
    report = {
        "requestId": 1,
        "generatedAt": "2026-11-21T10:00:00Z",
        "seqNo": "0",
        "reportData": [
            {**PASSWORD_VARIABLE, "variableAttribute": {"value": number}},
            {**HEARTBEAT_VARIABLE, "variableAttribute": [{"value": 300}]},
        ],
    }

    async def store(request: NotifyReportRequest) -> NotifyReportResponse:
        return NotifyReportResponse()

    async with ws_csms(lambda session: session.on(NotifyReportRequest, store), lenient=True) as csms:
        client = await csms.connect()
        session: RpcSession = await csms.session()
        await send_frame(client, [2, "m1", "NotifyReport", report])
        assert (await recv_frame(client))[:2] == [3, "m1"]
    assert [(v.path, v.kind, v.detail) for v in session.violations] == [
        ("seqNo", ViolationKind.NUMBER_AS_STRING, "'0'"),
        ("reportData[0].variableAttribute", ViolationKind.OBJECT_FOR_ARRAY, "single object wrapped in an array"),
        ("reportData[0].variableAttribute[0].value", ViolationKind.NUMBER_FOR_STRING, REDACTED),
        ("reportData[1].variableAttribute[0].value", ViolationKind.NUMBER_FOR_STRING, "300"),
    ]
    assert "lenient mode repaired NotifyReport (m1)" in caplog.text
    assert str(number) not in caplog.text
