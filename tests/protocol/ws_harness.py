"""A websocket CSMS for tests: a `websockets` server on 127.0.0.1 hosting one RpcSession per connection.

Each test configures the sessions (handlers, lenient mode, timeouts) with `setup`, connects a raw client with
`connect` (or any other station peer to `url`), and gets the server side of that connection from `session()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve

from custom_components.ocpp_csms.protocol.session import RpcSession

SUBPROTOCOL = "ocpp2.0.1"
#: Long enough for a loaded CI machine, short enough that a missing message fails fast.
RECV_TIMEOUT = 2.0


class WsCsms:
    """The server, its sessions, and helpers for raw clients."""

    def __init__(self, server: Server, setup: Callable[[RpcSession], None] | None = None, **options: Any) -> None:
        """Remember the server; `setup` and `options` shape every new session."""
        self.server = server
        self.setup = setup
        self.options = options
        self.sessions: asyncio.Queue[RpcSession] = asyncio.Queue()
        self.clients: list[ClientConnection] = []

    @property
    def url(self) -> str:
        """The ws:// address of the server."""
        host, port = self.server.sockets[0].getsockname()[:2]
        return f"ws://{host}:{port}/ocpp/CS001"

    async def handle(self, websocket: ServerConnection) -> None:
        """Host an RpcSession for the connection: feed it every message, close it when the socket closes."""

        async def send(message: bytes) -> None:
            await websocket.send(message, text=True)  # OCPP-J: text frames only

        session = RpcSession(send, station_id=websocket.request.path if websocket.request else "", **self.options)
        if self.setup is not None:
            self.setup(session)
        await self.sessions.put(session)
        try:
            async for message in websocket:
                await session.receive(message)
        finally:
            await session.close()

    async def connect(self) -> ClientConnection:
        """A raw station connection (closed at the end of the test)."""
        client = await connect(self.url, subprotocols=[SUBPROTOCOL])  # type: ignore[list-item]
        self.clients.append(client)
        return client

    async def session(self) -> RpcSession:
        """The server-side session of the next connection."""
        return await asyncio.wait_for(self.sessions.get(), RECV_TIMEOUT)


async def recv_frame(client: ClientConnection, within: float = RECV_TIMEOUT) -> list[Any]:
    """The next frame the client receives, decoded; it must come as a text frame."""
    message = await asyncio.wait_for(client.recv(), within)
    assert isinstance(message, str), "OCPP-J messages are text frames"
    frame = orjson.loads(message)
    assert isinstance(frame, list)
    return frame


async def send_frame(client: ClientConnection, frame: Any) -> None:
    """Send a frame (a list, JSON-encoded here, or raw text as it is)."""
    await client.send(frame if isinstance(frame, str) else orjson.dumps(frame).decode())


@contextlib.asynccontextmanager
async def running_csms(setup: Callable[[RpcSession], None] | None = None, **options: Any) -> AsyncIterator[WsCsms]:
    """Run a WsCsms on 127.0.0.1, a free port, subprotocol ocpp2.0.1."""
    holder: list[WsCsms] = []

    async def handler(websocket: ServerConnection) -> None:
        await holder[0].handle(websocket)

    async with serve(handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:  # type: ignore[list-item]
        csms = WsCsms(server, setup, **options)
        holder.append(csms)
        try:
            yield csms
        finally:
            for client in csms.clients:
                await client.close()
            server.close()
            await server.wait_closed()
