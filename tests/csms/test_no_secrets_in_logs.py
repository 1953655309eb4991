"""No secret reaches a log record, at any level, from a whole station session over a real websocket.

Every logger is at DEBUG (the root, every logger that exists, websockets' own, our frames logger), a handler on
the root and on websockets' loggers keeps every record, and `caplog` does too. The station under test is the
`ocpp` package's ChargePoint on a websockets client whose records go to `tests.station.*`: they are the station's,
not ours, and they must hold the secrets (which shows that the capture works at DEBUG and that the needles are
right). Nothing else may hold the password, its base64 forms, or the `Authorization: Basic` header text.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Iterator
import contextlib
import logging
from typing import Any

from ocpp.exceptions import InternalError
from ocpp.v201 import call
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from custom_components.ocpp_csms.csms.central_system import CentralSystem
from custom_components.ocpp_csms.csms.listener import OcppListener
from custom_components.ocpp_csms.csms.passwords import hash_password
from custom_components.ocpp_csms.csms.registry import SecurityProfile, StationRecord, StationRegistry
from custom_components.ocpp_csms.csms.station import Station
from custom_components.ocpp_csms.protocol.frame_log import FRAMES_LOGGER, REDACTED
from custom_components.ocpp_csms.protocol.v201.messages import NotifyReportRequest, NotifyReportResponse

from ..station_peer import SUBPROTOCOL, StationPeer, basic_auth_header

pytestmark = pytest.mark.usefixtures("socket_enabled")

STATION = "CP-1"
PASSWORD = "first-Secret-0123456789"
STATION_LOGGERS = "tests.station"
FORMAT = logging.Formatter("%(name)s %(levelname)s %(message)s")
#: websockets' own loggers: a server given no logger of its own would write to these.
WEBSOCKETS_LOGGERS = ("websockets", "websockets.server", "websockets.client", "websockets.protocol")


class Capture(logging.Handler):
    """Every record, formatted whole (exception tracebacks and stacks included)."""

    def __init__(self) -> None:
        """Keep records from every level."""
        super().__init__(logging.NOTSET)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the logger name and the full text of the record."""
        self.lines.append((record.name, FORMAT.format(record)))

    def ours(self) -> list[str]:
        """Every line but the station's."""
        return [line for name, line in self.lines if not name.startswith(STATION_LOGGERS)]

    def station(self) -> list[str]:
        """The station's lines."""
        return [line for name, line in self.lines if name.startswith(STATION_LOGGERS)]


@pytest.fixture
def everything_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[Capture]:
    """Every logger at DEBUG, enabled, and every record captured; all restored afterwards."""
    for name in (*WEBSOCKETS_LOGGERS, "asyncio", FRAMES_LOGGER, "custom_components.ocpp_csms", STATION_LOGGERS):
        logging.getLogger(name)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.Logger.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    capture = Capture()
    # On the root, on websockets' loggers, and on any logger that does not propagate to the root.
    hosts = [logging.getLogger(), *(logging.getLogger(name) for name in WEBSOCKETS_LOGGERS)]
    hosts += [logger for logger in loggers if not logger.propagate and logger not in hosts]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    for host in hosts:
        host.addHandler(capture)
    caplog.set_level(logging.DEBUG)
    try:
        yield capture
    finally:
        for host in hosts:
            host.removeHandler(capture)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


@contextlib.asynccontextmanager
async def running_central() -> AsyncIterator[tuple[CentralSystem, str]]:
    """The HA-free central system behind a real listener on 127.0.0.1, trusting CP-1 with PASSWORD."""
    registry = StationRegistry([StationRecord(STATION, SecurityProfile.BASIC_AUTH, hash_password(PASSWORD))])
    central = CentralSystem(registry)
    listener = OcppListener(central)
    await listener.start(0, "127.0.0.1")
    try:
        yield central, f"ws://127.0.0.1:{listener.port}"
    finally:
        await listener.stop()
        await central.close()
        listener.verifier.close()


async def open_station(url: str, password: str, *, path: str = STATION) -> ClientConnection:
    """A websocket client connection with Basic auth, logging to the station's own loggers."""
    return await connect(
        f"{url}/{path}",
        subprotocols=[SUBPROTOCOL],
        additional_headers=basic_auth_header(STATION, password),
        open_timeout=5,
        ping_interval=None,
        logger=logging.getLogger(f"{STATION_LOGGERS}.websockets"),
    )


@contextlib.asynccontextmanager
async def station_session(url: str, password: str) -> AsyncIterator[StationPeer]:
    """A running station peer on an authenticated connection; disconnects on exit."""
    connection = await open_station(url, password)
    peer = StationPeer(STATION, connection)
    peer.logger = logging.getLogger(f"{STATION_LOGGERS}.ocpp")
    task = asyncio.create_task(peer.start())
    try:
        yield peer
    finally:
        await connection.close()
        task.cancel()
        await asyncio.gather(task, *peer.background, return_exceptions=True)


async def refused(url: str, password: str, *, path: str = STATION) -> int:
    """The HTTP status of a refused handshake."""
    with pytest.raises(InvalidStatus) as refusal:
        await open_station(url, password, path=path)
    return refusal.value.response.status_code


def secret_report(password: str) -> list[dict[str, Any]]:
    """A report of the station's BasicAuthPassword with its value: no station should send one, a bad one might."""
    return [
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "variable_attribute": [{"type": "Actual", "value": password, "mutability": "WriteOnly"}],
        }
    ]


def needles(*passwords: str) -> list[str]:
    """Every form of the secrets that must appear in no log record of ours."""
    found = ["Authorization: Basic"]
    for password in passwords:
        found += [
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"{STATION}:{password}".encode()).decode(),
        ]
    return found


async def test_a_whole_session_at_debug_logs_no_secret(
    everything_at_debug: Capture, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_central() as (central, url):

        async def store_report(_station: Station, request: NotifyReportRequest) -> NotifyReportResponse:
            raise ValueError(f"cannot store {request!r}")  # an error that quotes its request, password and all

        central.handle(NotifyReportRequest, store_report)

        # A wrong password, with the right one in the URL's query string for good measure.
        assert await refused(url, "wrong-password-00000", path=f"{STATION}?password={PASSWORD}") == 401

        async with station_session(url, PASSWORD) as peer:
            assert (await peer.boot()).status == "Accepted"
            await peer.call(
                call.StatusNotification(
                    timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
                )
            )
            await peer.call(call.Heartbeat())
            await central.rotate_password(STATION)  # A01: SetVariables SecurityCtrlr.BasicAuthPassword
            new_password = peer.variables["SecurityCtrlr", "BasicAuthPassword"]
            assert new_password != PASSWORD
            with pytest.raises(InternalError):
                await peer.call(
                    call.NotifyReport(
                        request_id=1,
                        generated_at="2026-11-21T10:00:00Z",
                        seq_no=0,
                        report_data=secret_report(new_password),
                    ),
                    suppress=False,
                )
        async with asyncio.timeout(5):
            while central.stations[STATION].connected:
                await asyncio.sleep(0.01)

        assert await refused(url, PASSWORD) == 401  # the old password no longer opens the door
        async with station_session(url, new_password) as peer:
            assert (await peer.boot()).status == "Accepted"

    secrets = needles(PASSWORD, new_password)
    ours = everything_at_debug.ours()
    caplog_ours = [
        caplog.handler.format(record) for record in caplog.records if not record.name.startswith(STATION_LOGGERS)
    ]
    for line in ours + caplog_ours:
        for secret in secrets:
            assert secret not in line, f"{secret!r} logged: {line}"

    # The capture did see DEBUG records holding the secrets: the station's own.
    station = "\n".join(everything_at_debug.station())
    assert "Authorization: Basic " in station
    assert new_password in station
    assert base64.b64encode(f"{STATION}:{new_password}".encode()).decode() in station

    # And it saw ours: the handshake, refusals, frames (redacted) and the handler's error.
    text = "\n".join(ours)
    assert "127.0.0.1: < Authorization: <withheld>" in text  # before the request is parsed: no identity yet
    assert f"127.0.0.1: < GET /{STATION}?<withheld> HTTP/1.1" in text
    assert f"{STATION} (127.0.0.1): HTTP response sent (401 Unauthorized)" in text
    assert f"{STATION}: wrong password from 127.0.0.1" in text
    assert f"{STATION}: BasicAuthPassword rotated" in text
    assert "error while handling NotifyReport" in text
    assert "details withheld: the request holds a secret" in text
    frames = [line for name, line in everything_at_debug.lines if name == FRAMES_LOGGER]
    rotation = [line for line in frames if '"SetVariables"' in line]
    assert len(rotation) == 1
    assert f'"attributeValue":"{REDACTED}"' in rotation[0]
    assert '"variable":{"name":"BasicAuthPassword"}' in rotation[0]
    report = [line for line in frames if '"NotifyReport"' in line]
    assert len(report) == 1
    assert f'"value":"{REDACTED}"' in report[0]
    # websockets wrote nothing to its own loggers: the listener's server has a logger of ours.
    assert not [name for name, _ in everything_at_debug.lines if name.startswith("websockets")]


async def boot_chat_and_rotate(url: str, central: CentralSystem) -> str:
    """A station session: boot, a heartbeat, a password rotation; returns the new password."""
    async with station_session(url, PASSWORD) as peer:
        assert (await peer.boot()).status == "Accepted"
        await peer.call(call.Heartbeat())
        await central.rotate_password(STATION)
        new_password: str = peer.variables["SecurityCtrlr", "BasicAuthPassword"]
    async with asyncio.timeout(5):
        while central.stations[STATION].connected:
            await asyncio.sleep(0.01)
    return new_password


def our_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The records of everything but the station."""
    return [record for record in caplog.records if not record.name.startswith(STATION_LOGGERS)]


async def test_integration_debug_logs_connections_but_no_frame(caplog: pytest.LogCaptureFixture) -> None:
    """`custom_components.ocpp_csms: debug` (and even a DEBUG root) shows connections, not the messages."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="custom_components.ocpp_csms")
    assert not logging.getLogger(FRAMES_LOGGER).isEnabledFor(logging.DEBUG)
    async with running_central() as (central, url):
        new_password = await boot_chat_and_rotate(url, central)

    ours = our_records(caplog)
    messages = [record.getMessage() for record in ours]
    assert f"{STATION}: connected from 127.0.0.1" in messages
    assert "127.0.0.1: < GET /CP-1 HTTP/1.1" in messages
    assert f"{STATION} (127.0.0.1): connection open" in messages
    assert f"{STATION}: connection closed (code 1000)" in messages
    assert not [record for record in ours if record.name == FRAMES_LOGGER]
    for message in messages:
        assert '"BootNotification"' not in message
        assert '"SetVariables"' not in message
        assert "TEXT " not in message  # websockets' frame lines
        assert "CLOSE " not in message
        assert new_password not in message


async def test_frames_logger_logs_every_message_redacted(caplog: pytest.LogCaptureFixture) -> None:
    """`ocpp_csms.frames: debug` alone: one line per message in and out, the new password redacted."""
    caplog.set_level(logging.INFO, logger="custom_components.ocpp_csms")
    caplog.set_level(logging.DEBUG, logger=FRAMES_LOGGER)
    async with running_central() as (central, url):
        new_password = await boot_chat_and_rotate(url, central)

    ours = our_records(caplog)
    assert not [
        record
        for record in ours
        if record.levelno < logging.INFO and record.name.startswith("custom_components.ocpp_csms")
    ]
    lines = [record.getMessage() for record in ours if record.name == FRAMES_LOGGER]
    messages = [line for line in lines if line.startswith((f"{STATION} < [", f"{STATION} > ["))]
    calls: dict[str, tuple[str, str]] = {}
    results: dict[str, str] = {}
    for line in messages:
        _station, direction, text = line.split(" ", 2)
        frame = orjson.loads(text)
        if frame[0] == 2:
            calls[frame[1]] = (direction, frame[2])
        else:
            results[frame[1]] = direction
    # Ours and the station's.
    assert sorted(calls.values()) == [("<", "BootNotification"), ("<", "Heartbeat"), (">", "SetVariables")]
    assert {message_id: ("<" if direction == ">" else ">") for message_id, (direction, _) in calls.items()} == results
    rotation = next(line for line in messages if '"SetVariables"' in line)
    assert f'"attributeValue":"{REDACTED}"' in rotation
    # websockets' control frames are there too, and none of its data frames.
    assert f"{STATION} (127.0.0.1): < CLOSE 1000 (OK) [2 bytes]" in lines
    assert not [line for line in lines if "TEXT " in line]
    for line in lines:
        assert new_password not in line


async def test_a_username_is_not_quoted_it_may_be_a_password_in_the_wrong_field(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_central() as (_central, url):
        for username in (PASSWORD, STATION.lower()):
            with pytest.raises(InvalidStatus) as refusal:
                await connect(
                    f"{url}/{STATION}",
                    subprotocols=[SUBPROTOCOL],
                    additional_headers=basic_auth_header(username, STATION),
                    open_timeout=5,
                    logger=logging.getLogger(f"{STATION_LOGGERS}.websockets"),
                )
            assert refusal.value.response.status_code == 401
    warnings = [record.getMessage() for record in our_records(caplog) if record.levelno == logging.WARNING]
    assert warnings == [
        f"{STATION}: Basic auth username is not the station identity (A00.FR.204)",
        f"{STATION}: Basic auth username is not the station identity (it differs in case only) (A00.FR.204)",
    ]
    for record in our_records(caplog):
        assert PASSWORD not in record.getMessage()
