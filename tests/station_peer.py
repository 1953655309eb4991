"""An independent OCPP 2.0.1 station for tests: the `ocpp` package's ChargePoint on a `websockets` client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
import ssl
from typing import Any

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

SUBPROTOCOL = Subprotocol("ocpp2.0.1")


def basic_auth_header(username: str, password: str) -> dict[str, str]:
    """An HTTP Basic Authorization header (A00.FR.205: the password as UTF-8, base64 encoded with the user)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class StationPeer(ChargePoint):  # type: ignore[misc]
    """A charging station that boots, answers TriggerMessage and SetVariables, and records what it was sent."""

    def __init__(self, station_id: str, connection: ClientConnection, *, serial_number: str = "SN-0001") -> None:
        """A station on an open connection; `start()` must run for it to answer the central system."""
        super().__init__(station_id, connection, response_timeout=5)
        self.serial_number = serial_number
        self.received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.variables: dict[tuple[str, str], str] = {}
        self.set_variables_status = "Accepted"
        self.boot_statuses: list[str] = []
        #: Messages the station sends on its own after answering a request (cancelled when the test is done).
        self.background: set[asyncio.Task[Any]] = set()

    async def boot(self, reason: str = "PowerUp") -> Any:
        """Send BootNotification; returns the response (status, interval, current_time)."""
        response = await self.call(
            call.BootNotification(
                charging_station={
                    "model": "Wallbox 22",
                    "vendor_name": "ACME",
                    "serial_number": self.serial_number,
                    "firmware_version": "1.2.3",
                },
                reason=reason,
            )
        )
        self.boot_statuses.append(response.status)
        return response

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, **kwargs: Any) -> call_result.TriggerMessage:
        """Accept every trigger."""
        self.received.put_nowait(("TriggerMessage", {"requested_message": requested_message, **kwargs}))
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, **_kwargs: Any) -> None:
        """Send what was asked for, once the response went out (F06.FR.04)."""
        if (task := asyncio.current_task()) is not None:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        with contextlib.suppress(ConnectionClosed):  # the test may be done with the station already
            if requested_message == "BootNotification":
                await self.boot(reason="Triggered")
            elif requested_message == "Heartbeat":
                await self.call(call.Heartbeat())

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **kwargs: Any) -> call_result.SetVariables:
        """Store the values and answer `set_variables_status` for each."""
        self.received.put_nowait(("SetVariables", {"set_variable_data": set_variable_data, **kwargs}))
        results = []
        for item in set_variable_data:
            if self.set_variables_status == "Accepted":
                self.variables[item["component"]["name"], item["variable"]["name"]] = item["attribute_value"]
            results.append(
                {
                    "attribute_status": self.set_variables_status,
                    "component": item["component"],
                    "variable": item["variable"],
                }
            )
        return call_result.SetVariables(set_variable_result=results)

    async def next_received(self, action: str | None = None, timeout: float = 5) -> tuple[str, dict[str, Any]]:
        """The next CSMS-initiated request this station served (of `action`, skipping others, when given)."""
        async with asyncio.timeout(timeout):
            while True:
                received = await self.received.get()
                if action is None or received[0] == action:
                    return received


@contextlib.asynccontextmanager
async def station_connection(
    url: str,
    station_id: str,
    *,
    password: str | None = None,
    username: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    serial_number: str = "SN-0001",
) -> AsyncIterator[StationPeer]:
    """A connected, running StationPeer; its connection is closed on exit."""
    headers = basic_auth_header(username or station_id, password) if password is not None else None
    connection = await connect(
        f"{url}/{station_id}", subprotocols=[SUBPROTOCOL], additional_headers=headers, ssl=ssl_context, open_timeout=5
    )
    peer = StationPeer(station_id, connection, serial_number=serial_number)
    task = asyncio.create_task(peer.start())
    try:
        yield peer
    finally:
        tasks = [task, *peer.background]
        for pending in tasks:
            pending.cancel()
        await connection.close()
        await asyncio.gather(*tasks, return_exceptions=True)
