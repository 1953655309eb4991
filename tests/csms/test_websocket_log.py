"""What websockets logs through the listener's `WebsocketsLogger`: connection events, never a secret."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
import gc
import logging
from typing import Any
import weakref

import pytest
from websockets.frames import Close, Frame, Opcode

from custom_components.ocpp_csms.csms.central_system import CentralSystem
from custom_components.ocpp_csms.csms.listener import OcppListener
from custom_components.ocpp_csms.csms.registry import StationRegistry
from custom_components.ocpp_csms.csms.websocket_log import WITHHELD, WebsocketsLogger
from custom_components.ocpp_csms.protocol.frame_log import FRAMES_LOGGER

CONNECTION_LOGGER = "tests.websocket_log"
SECRET = "the-Password-0123456789"


@pytest.fixture
def adapter(caplog: pytest.LogCaptureFixture) -> WebsocketsLogger:
    """An adapter on a logger of its own at DEBUG; the frames logger stays as it is (off)."""
    caplog.set_level(logging.DEBUG, logger=CONNECTION_LOGGER)
    return WebsocketsLogger(logging.getLogger(CONNECTION_LOGGER))


def messages(caplog: pytest.LogCaptureFixture, name: str = CONNECTION_LOGGER) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == name]


@dataclass
class _Request:
    path: str


@dataclass
class _Connection:
    """What the adapter reads of the connection websockets puts in `extra`."""

    request: _Request | None
    remote_address: tuple[str, int] | None


# ---- over a real socket ----------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def listener_port() -> AsyncIterator[int]:
    central = CentralSystem(StationRegistry())
    listener = OcppListener(central)
    await listener.start(0, "127.0.0.1")
    try:
        assert listener.port is not None
        yield listener.port
    finally:
        await listener.stop()
        await central.close()
        listener.verifier.close()


async def raw_request(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(5):
            return await reader.read()
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.usefixtures("socket_enabled")
async def test_a_broken_request_is_summarised_without_the_header_it_quotes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.ocpp_csms")
    token = base64.b64encode(f"CP-1:{SECRET}".encode())
    async with listener_port() as port:
        # A control character in the header: websockets' error quotes the value.
        broken = b"GET /CP-1 HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + token + b"\x01\r\n\r\n"
        assert await raw_request(port, broken) == b""
        # No upgrade: refused after the headers are read.
        answer = await raw_request(port, b"GET /CP-1?key=" + SECRET.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 426 Upgrade Required")
    logged = messages(caplog, "custom_components.ocpp_csms.csms.listener.websockets")
    assert "127.0.0.1: ! no valid HTTP request (ValueError: invalid HTTP header value)" in logged
    assert f"127.0.0.1: < GET /CP-1?{WITHHELD} HTTP/1.1" in logged
    assert "CP-1 (127.0.0.1): ! invalid upgrade (InvalidUpgrade: missing Connection header)" in logged
    assert "CP-1 (127.0.0.1): connection rejected (426 Upgrade Required)" in logged
    assert SECRET not in caplog.text
    assert token.decode() not in caplog.text
    assert not [record for record in caplog.records if record.exc_info and record.name.startswith("custom")]


# ---- each kind of line -------------------------------------------------------------------------------------------


def test_headers_show_only_values_that_hold_no_secret(
    adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture
) -> None:
    adapter.debug("< %s: %s", "Authorization", "Basic Q1AtMTpzZWNyZXQ=")
    adapter.debug("< %s: %s", "X-Api-Key", SECRET)
    adapter.debug("< %s: %s", "Cookie", f"session={SECRET}")
    adapter.debug("< %s: %s", "Sec-WebSocket-Protocol", "ocpp2.0.1")
    adapter.debug("> %s: %s", "WWW-Authenticate", 'Basic realm="OCPP"')
    assert messages(caplog) == [
        f"< Authorization: {WITHHELD}",
        f"< X-Api-Key: {WITHHELD}",
        f"< Cookie: {WITHHELD}",
        "< Sec-WebSocket-Protocol: ocpp2.0.1",
        '> WWW-Authenticate: Basic realm="OCPP"',
    ]


def test_lines_websockets_is_not_known_to_write_are_dropped(
    adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture
) -> None:
    adapter.debug("< %s = %s", "Authorization", SECRET)  # a format a newer websockets might use
    adapter.debug("> %s", "not a frame")
    adapter.debug(Frame(Opcode.TEXT, SECRET.encode()))  # not a format string
    adapter.info(Frame(Opcode.TEXT, SECRET.encode()))
    adapter.debug("> HTTP/1.1 %d %s", 101, "Switching Protocols")
    adapter.info("connection open")
    assert messages(caplog) == ["> HTTP/1.1 101 Switching Protocols", "connection open"]


def test_frames_go_to_the_frames_logger_data_frames_nowhere(
    adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    connection = _Connection(_Request("/ocpp/CP-1"), ("192.0.2.7", 4711))
    extra = {"websocket": connection}
    adapter.debug("< %s", Frame(Opcode.TEXT, f'[2,"1","X",{{"password":"{SECRET}"}}]'.encode()), extra=extra)
    adapter.debug("> %s", Frame(Opcode.BINARY, SECRET.encode()), extra=extra)
    adapter.debug("> %s", Frame(Opcode.CLOSE, Close(1000, "bye").serialize()), extra=extra)
    adapter.debug("% sent keepalive ping", extra=extra)
    adapter.debug("= connection is %s", "CLOSED", extra=extra)
    assert messages(caplog, FRAMES_LOGGER) == [
        "CP-1 (192.0.2.7): > CLOSE 1000 (OK) bye [5 bytes]",
        "CP-1 (192.0.2.7): % sent keepalive ping",
        "CP-1 (192.0.2.7): = connection is CLOSED",
    ]
    assert messages(caplog) == []
    assert SECRET not in caplog.text


def test_debug_is_on_when_either_logger_wants_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger=CONNECTION_LOGGER)
    adapter = WebsocketsLogger(logging.getLogger(CONNECTION_LOGGER))
    assert not adapter.isEnabledFor(logging.DEBUG)
    assert adapter.isEnabledFor(logging.INFO)
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    assert adapter.isEnabledFor(logging.DEBUG)
    adapter.debug("< %s: %s", "Host", "x")  # websockets asks once per connection: lines still go where enabled
    assert messages(caplog) == []


def parse_request() -> None:
    """Fail as websockets does on a broken header: the text after the colon quotes it."""
    error = RuntimeError("did not receive a valid HTTP request")
    error.__cause__ = ValueError(f"invalid HTTP header value: Basic {SECRET}")
    raise error


def test_exceptions_are_summarised_unless_our_code_raised(
    adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        parse_request()
    except RuntimeError as error:
        adapter.debug("! no valid HTTP request", exc_info=True)
        adapter.error("opening handshake failed", exc_info=(type(error), error, error.__traceback__))
        adapter.error("connection handler failed", exc_info=error)
    adapter.debug("! invalid handshake", exc_info=True)  # no exception being handled: nothing to summarise
    adapter.error("keepalive ping %s", "failed", exc_info=ValueError(""))
    adapter.debug("! invalid origin", exc_info="what")
    summary = "RuntimeError: did not receive a valid HTTP request; caused by ValueError: invalid HTTP header value"
    assert messages(caplog) == [
        f"! no valid HTTP request ({summary})",
        f"opening handshake failed ({summary})",
        "connection handler failed",
        "! invalid handshake",
        "keepalive ping failed (ValueError)",
        "! invalid origin",
    ]
    records = [record for record in caplog.records if record.name == CONNECTION_LOGGER]
    assert [record.exc_info is not None for record in records] == [False, False, True, False, False, False]
    assert SECRET not in "\n".join(messages(caplog))


def test_a_message_that_is_no_format_string_stays_one(
    adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture
) -> None:
    adapter.error("100% broken", exc_info=KeyError("x"))
    adapter.error("100% broken", extra={"websocket": _Connection(None, ("192.0.2.7", 1))})
    assert messages(caplog) == ["100% broken (KeyError: 'x')", "192.0.2.7: 100% broken"]


def test_lines_name_the_connection(adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture) -> None:
    adapter.info("connection open", extra={"websocket": _Connection(_Request("/ocpp/CP%201"), ("::1", 1, 0, 0))})
    adapter.info("connection open", extra={"websocket": _Connection(_Request("/"), None)})
    gone = _Connection(None, None)
    proxy: Any = weakref.proxy(gone)
    del gone
    gc.collect()
    adapter.info("connection closed", extra={"websocket": proxy})
    adapter.info("server listening on %s", "0.0.0.0:9201")
    assert messages(caplog) == [
        "CP 1 (::1): connection open",
        "no station identity (unknown address): connection open",
        "connection closed",
        "server listening on 0.0.0.0:9201",
    ]


def test_records_point_at_the_line_that_logged(adapter: WebsocketsLogger, caplog: pytest.LogCaptureFixture) -> None:
    adapter.info("connection open")
    record = next(record for record in caplog.records if record.name == CONNECTION_LOGGER)
    assert record.pathname == __file__
    assert record.funcName == "test_records_point_at_the_line_that_logged"
