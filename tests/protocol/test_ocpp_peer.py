"""Round trip with an independent station peer: the `ocpp` package's ChargePoint.

It checks our CALLs and CALLRESULTs against the official JSON schemas.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v201 import ChargePoint, call, call_result
from websockets.asyncio.client import connect

from custom_components.ocpp_csms.protocol.errors import RpcErrorCode
from custom_components.ocpp_csms.protocol.session import CallErrorResponse, RpcSession
from custom_components.ocpp_csms.protocol.v201.datatypes import Component, GetVariableData, Variable
from custom_components.ocpp_csms.protocol.v201.enums import Attribute, GetVariableStatus, RegistrationStatus
from custom_components.ocpp_csms.protocol.v201.messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    GetVariablesRequest,
    GetVariablesResponse,
    SetVariablesRequest,
    SetVariablesResponse,
)

from .conftest import CsmsFactory
from .ws_harness import SUBPROTOCOL

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


class Station(ChargePoint):  # type: ignore[misc]
    """A station that answers GetVariables; SetVariables it does not know (the package answers NotImplemented)."""

    @on("GetVariables")  # type: ignore[untyped-decorator]
    async def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        """Every variable asked for is 300."""
        return call_result.GetVariables(
            get_variable_result=[
                {
                    "attribute_status": "Accepted",
                    "attribute_type": "Actual",
                    "attribute_value": "300",
                    "component": data["component"],
                    "variable": data["variable"],
                }
                for data in get_variable_data
            ]
        )


received: list[BootNotificationRequest] = []


async def boot(request: BootNotificationRequest) -> BootNotificationResponse:
    received.append(request)
    return BootNotificationResponse(current_time=NOW, interval=300, status=RegistrationStatus.ACCEPTED)


def setup(session: RpcSession) -> None:
    session.on(BootNotificationRequest, boot)


async def test_round_trip_with_the_ocpp_package(ws_csms: CsmsFactory) -> None:
    received.clear()
    async with ws_csms(setup) as csms, connect(csms.url, subprotocols=[SUBPROTOCOL]) as websocket:  # type: ignore[list-item]
        station = Station("CS001", websocket, response_timeout=2)
        reader = asyncio.create_task(station.start())
        try:
            # The station calls us; the package validates our CALLRESULT against the official schema.
            response = await station.call(
                call.BootNotification(
                    charging_station={"model": "Wallbox", "vendor_name": "ACME", "firmware_version": "1.0"},
                    reason="PowerUp",
                )
            )
            assert (response.status, response.interval, response.current_time) == (
                "Accepted",
                300,
                "2025-06-01T12:00:00Z",
            )
            assert received[0].charging_station.firmware_version == "1.0"

            # We call the station; its answer comes back typed.
            session = await csms.session()
            data = GetVariableData(
                component=Component(name="OCPPCommCtrlr"), variable=Variable(name="HeartbeatInterval")
            )
            result = await session.call(GetVariablesRequest(get_variable_data=[data]), GetVariablesResponse, timeout=2)
            (variable,) = result.get_variable_result
            assert variable.attribute_status is GetVariableStatus.ACCEPTED
            assert variable.attribute_type is Attribute.ACTUAL
            assert variable.attribute_value == "300"
            assert variable.variable.name == "HeartbeatInterval"

            # An action the station has no handler for comes back as a typed CALLERROR.
            outcome = await session.call_outcome(
                SetVariablesRequest.model_validate_json(
                    b'{"setVariableData":[{"attributeValue":"60","component":{"name":"OCPPCommCtrlr"},'
                    b'"variable":{"name":"HeartbeatInterval"}}]}'
                ),
                SetVariablesResponse,
                timeout=2,
            )
            assert isinstance(outcome, CallErrorResponse)
            assert outcome.code in {RpcErrorCode.NOT_IMPLEMENTED, RpcErrorCode.NOT_SUPPORTED}
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
