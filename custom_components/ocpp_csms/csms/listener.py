"""The websocket listener stations connect to (Part 4 §3-§5): identity, subprotocol, authentication, TLS.

One `OcppListener` serves one port: plain `ws://` (security profile 1, or none) or `wss://` (profiles 2 and 3).
Authentication happens in the HTTP upgrade, before any OCPP message: a station that fails it gets HTTP 401 (or
403 for a refused downgrade) and never reaches the central system.

Keeping connections alive: a ping every PING_INTERVAL seconds (some stations drop a websocket idle for 30-45 s);
a station that answers no ping within PING_TIMEOUT, or sends nothing at all for READ_TIMEOUT_HEARTBEATS heartbeat
intervals (some stations send no pings of their own), is disconnected so that it connects again.

Abuse (issue 19), each isolated to the connection or address that causes it: a frame (after decompression: a
permessage-deflate bomb is cut off there) above MAX_MESSAGE_SIZE closes the connection (1009); a handshake not done
within OPEN_TIMEOUT is dropped; an address holds at most MAX_CONNECTIONS_PER_ADDRESS connections (more are answered
HTTP 429 before any password is checked); a station's messages are read at most MESSAGE_RATE per second on average
(bursts of MESSAGE_BURST; beyond, reading pauses, which TCP passes back to the sender, one log line per connection;
the answers to our own CALLs are not counted: we pace those, and a station that answers quickly is no flood);
the session bounds CALLs in both directions (`protocol.session`).

Logging: this module's logger says who connected and why a connection was refused; websockets' own lines (the
handshake at debug level, connection events) go through `WebsocketsLogger` to its child `.websockets`, with
no header value that could hold a secret and no frame; the OCPP messages are on the opt-in `ocpp_csms.frames`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http import HTTPStatus
import logging
import math
import ssl
from typing import Final
import weakref

from websockets import ConnectionClosed
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import CloseCode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Subprotocol

from .basic_auth import parse_basic_auth
from .central_system import RETRY_INTERVAL, CentralSystem
from .identity import station_id_from_path
from .passwords import PasswordVerifier
from .registry import SecurityProfile
from .station import Credentials
from .throttle import AdmissionPace, FailureThrottle, address_key
from .tls import peer_certificate_info
from .websocket_log import WebsocketsLogger

_LOGGER = logging.getLogger(__name__)

OCPP_SUBPROTOCOL: Final = Subprotocol("ocpp2.0.1")
#: NotifyReport and the like can be large; anything beyond this is no OCPP message we want.
MAX_MESSAGE_SIZE: Final = 4 * 1024 * 1024
REALM: Final = 'Basic realm="OCPP", charset="UTF-8"'
#: RFC 7692 compression, which OCPP-J (Part 4 §3.3) requires a CSMS to support. A 2 kB window for the station's
#: messages still lets one refer to the previous one (a 1.5 kB TransactionEvent after another compresses to ~25
#: bytes, as with websockets' default 4 kB); the decompressor of a connection holds 7 kB (of 300 kB for a pair with
#: zlib's defaults). Our messages (mostly short CALLRESULTs) are compressed without context (RFC 7692 §7.1.1.1
#: lets the server choose so): no compressor is kept between them, 22 kB less per connection, 22 MB a thousand.
COMPRESSION: Final = ServerPerMessageDeflateFactory(
    server_no_context_takeover=True,
    server_max_window_bits=11,
    client_max_window_bits=11,
    compress_settings={"memLevel": 4},
)
#: Connections closed per event-loop turn when the listener stops.
CLOSE_STEP: Final = 50
#: Seconds between our websocket pings: below the 30-45 s after which some stations drop an idle connection.
PING_INTERVAL: Final = 20.0
#: Seconds a pong may take before the connection counts as lost.
PING_TIMEOUT: Final = 60.0
#: A station silent for this many heartbeat intervals (no OCPP message at all) has hung: it is disconnected.
READ_TIMEOUT_HEARTBEATS: Final = 3
#: Seconds from TCP accept (and TLS) to a finished websocket handshake.
OPEN_TIMEOUT: Final = 10.0
#: Open connections (and handshakes) per remote address (IPv6: per /64). A site with many stations behind one
#: router stays well below; a stranger opening thousands is answered 429.
MAX_CONNECTIONS_PER_ADDRESS: Final = 1024
#: A station's messages read per second on average, and the burst above it. A station sends one CALL at a time
#: and waits for our answer, so even a replay of its offline queue stays below unless we answer very fast.
MESSAGE_RATE: Final = 100.0
MESSAGE_BURST: Final = 300.0


@dataclass(frozen=True, slots=True)
class _Admitted:
    station_id: str
    credentials: Credentials


class _RateLimit:
    """A token bucket: `wait()` says how long to pause before the next message (0: at once)."""

    __slots__ = ("_at", "_burst", "_rate", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._at = asyncio.get_running_loop().time()

    def wait(self) -> float:
        now = asyncio.get_running_loop().time()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self._rate


class _WebSocket:
    """The StationConnection of a websocket: OCPP-J messages are text frames."""

    __slots__ = ("_websocket",)

    def __init__(self, websocket: ServerConnection) -> None:
        self._websocket = websocket

    async def send(self, message: bytes) -> None:
        await self._websocket.send(message, text=True)

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)


def _forget_handshake_headers(websocket: ServerConnection) -> None:
    """Drop the handshake's headers, read once admitted: 5 kB per connection, 5 MB for a thousand stations.

    The request's path stays (the connection's log lines name the station by it).
    """
    if websocket.request is not None:
        websocket.request.headers = Headers()
    if websocket.response is not None:
        websocket.response.headers = Headers()


class OcppListener:
    """A websocket server on one port that admits stations and hands their connections to the central system."""

    def __init__(
        self,
        central: CentralSystem,
        *,
        verifier: PasswordVerifier | None = None,
        throttle: FailureThrottle | None = None,
        pace: AdmissionPace | None = None,
    ) -> None:
        """Admit stations into `central`; listeners on several ports may share the verifier, throttle and pace."""
        self.central = central
        # `is None`, not `or`: an empty verifier or throttle is falsy (len 0) and must still be the shared one.
        self.verifier = verifier if verifier is not None else PasswordVerifier()
        self.throttle = throttle if throttle is not None else FailureThrottle()
        self.pace = pace if pace is not None else AdmissionPace()
        self._server: Server | None = None
        # Filled by the HTTP upgrade, taken by the connection handler; weak, as a handshake may still fail between.
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, _Admitted] = weakref.WeakKeyDictionary()
        # Connections by address key: weak, so that a handshake failing after the upgrade frees its place.
        self._by_address: dict[str, weakref.WeakSet[ServerConnection]] = {}
        self.tls = False
        #: Counters (diagnostics, benchmarks): connections refused for their address, reads slowed down.
        self.refused_connections = 0
        self.rate_limited = 0

    @property
    def port(self) -> int | None:
        """The port actually bound (useful with port 0), or None when not listening."""
        if self._server is None:
            return None
        sockets = list(self._server.sockets)
        return int(sockets[0].getsockname()[1]) if sockets else None

    async def start(self, port: int, host: str | None = None, ssl_context: ssl.SSLContext | None = None) -> None:
        """Bind and listen (OSError when the port cannot be bound). `host=None` listens on every interface."""
        self.tls = ssl_context is not None
        self._server = await serve(
            self._serve,
            host,
            port,
            ssl=ssl_context,
            subprotocols=[OCPP_SUBPROTOCOL],
            compression=None,  # the extension below instead of websockets' default settings
            extensions=[COMPRESSION],
            process_request=self._process_request,
            max_size=MAX_MESSAGE_SIZE,
            open_timeout=OPEN_TIMEOUT,
            ping_interval=PING_INTERVAL,
            ping_timeout=PING_TIMEOUT,
            close_timeout=5,
            server_header=None,
            logger=WebsocketsLogger(_LOGGER.getChild("websockets")),
        )

    async def stop(self) -> None:
        """Stop accepting, close every connection it accepted (CLOSE_STEP per event-loop turn), and wait for them.

        websockets would send a thousand close frames in one turn (a fleet's listener restart: some 100 ms of
        socket writes in one go); in steps, the event loop serves whatever else is due in between.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.close(close_connections=False)  # no new connections; the open ones are closed below
        closing: list[asyncio.Task[None]] = []
        for connection in list(server.connections):
            closing.append(asyncio.create_task(connection.close(CloseCode.GOING_AWAY, "Central system stopping")))
            if len(closing) % CLOSE_STEP == 0:
                await asyncio.sleep(0)
        if closing:
            await asyncio.wait(closing)
        await server.wait_closed()

    def _read_timeout(self) -> float:
        """How long a station may stay silent: READ_TIMEOUT_HEARTBEATS of the intervals it was given, and a ping."""
        interval = max(self.central.config.heartbeat_interval, RETRY_INTERVAL)
        return READ_TIMEOUT_HEARTBEATS * interval + PING_INTERVAL

    # ---- the HTTP upgrade --------------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "The URL names no valid station identity.\n")
        address = _remote_host(connection)
        if not self._take_place(connection, address):
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too many connections from this address.\n")
        if (delay := self.throttle.delay_for(address)) > 0:
            # Too many failures from this address: answered at once, without checking (or paying for) a password.
            response = connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too many failed attempts.\n")
            response.headers = Headers(response.headers)
            response.headers["Retry-After"] = str(math.ceil(delay))
            return response
        if not await self.pace.admit():  # a storm spread over seconds: the event loop stays responsive
            # A reconnection storm queued longer than a handshake may wait: the station retries with its back-off.
            response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "Too many stations connecting at once.\n")
            response.headers = Headers(response.headers)
            response.headers["Retry-After"] = str(math.ceil(self.pace.max_wait))
            return response
        credentials = await self._authenticate(connection, request, station_id, address)
        if isinstance(credentials, Response):
            self.throttle.record_failure(address)
            return credentials
        if credentials.password_hash is not None or credentials.certificate_cn is not None:
            self.throttle.record_success(address)
        self._admitted[connection] = _Admitted(station_id, credentials)
        return None

    def _take_place(self, connection: ServerConnection, address: str) -> bool:
        """Count the connection for its address; False (logged now and then) when the address has too many."""
        key = address_key(address)
        held = self._by_address.get(key)
        if held is None:
            if len(self._by_address) >= MAX_CONNECTIONS_PER_ADDRESS:  # forget addresses with nothing open
                self._by_address = {key: held for key, held in self._by_address.items() if held}
            held = self._by_address[key] = weakref.WeakSet()
        if len(held) >= MAX_CONNECTIONS_PER_ADDRESS:  # closed ones may linger until collected: count again
            for other in [other for other in held if other.state is State.CLOSED]:
                held.discard(other)
            if len(held) >= MAX_CONNECTIONS_PER_ADDRESS:
                if not self.refused_connections % 1000:
                    _LOGGER.warning("%s holds %d connections: more are refused (429) until some close", key, len(held))
                self.refused_connections += 1
                return False
        held.add(connection)
        return True

    async def _authenticate(
        self, connection: ServerConnection, request: Request, station_id: str, address: str
    ) -> Credentials | Response:
        """Check what the station presents against what it must present (A00.FR.2xx/3xx/4xx).

        Returns the credentials of an admitted connection, or the HTTP response refusing it.
        """
        ssl_object = connection.transport.get_extra_info("ssl_object")
        peer = peer_certificate_info(ssl_object) if ssl_object is not None else None
        basic = parse_basic_auth(request.headers.get("Authorization"))
        if basic is not None and basic[0] != station_id:
            # Not quoted: a username field can hold a password typed into the wrong field.
            _LOGGER.warning(
                "%s: Basic auth username is not the station identity%s (A00.FR.204)",
                station_id,
                " (it differs in case only)" if basic[0].casefold() == station_id.casefold() else "",
            )
            return _unauthorized(connection)
        if not self.tls:
            profile = SecurityProfile.BASIC_AUTH if basic is not None else SecurityProfile.NONE
        elif peer is not None:
            profile = SecurityProfile.TLS_CLIENT_CERTIFICATE
        else:
            profile = SecurityProfile.TLS_BASIC_AUTH
        record = self.central.registry.get(station_id)

        if record is None:
            # Not trusted yet: remember what it presented, so approving it stores exactly that.
            password_hash = None
            if basic is not None:
                password_hash = await self.verifier.async_hash(basic[1])
            if profile is SecurityProfile.TLS_BASIC_AUTH and basic is None:
                return _unauthorized(connection)
            return Credentials(
                profile,
                password_hash,
                peer.common_name if peer else None,
                address,
                peer.not_valid_after if peer else None,
            )

        required = record.security_profile
        if (required >= SecurityProfile.TLS_BASIC_AUTH and not self.tls) or (
            required is SecurityProfile.TLS_CLIENT_CERTIFICATE and peer is None
        ):
            _LOGGER.warning(
                "%s: refused a connection on security profile %d, below its profile %d (no downgrade)",
                station_id,
                profile,
                required,
            )
            return connection.respond(HTTPStatus.FORBIDDEN, "Security profile downgrade refused.\n")
        if profile is SecurityProfile.TLS_CLIENT_CERTIFICATE:
            return Credentials(
                profile,
                record.password_hash,
                peer.common_name if peer else None,
                address,
                peer.not_valid_after if peer else None,
            )
        if record.password_hash is None:
            return Credentials(profile, None, None, address)
        if basic is None:
            _LOGGER.info("%s: connection without credentials refused", station_id)
            return _unauthorized(connection)
        verified = await self.verifier.async_verify(station_id, basic[1], record.password_hash)
        if not verified:
            _LOGGER.warning("%s: wrong password from %s", station_id, address)
            return _unauthorized(connection)
        return Credentials(profile, record.password_hash, None, address)

    # ---- an admitted connection --------------------------------------------------------------------------

    async def _serve(self, websocket: ServerConnection) -> None:
        admitted = self._admitted.pop(websocket)
        _forget_handshake_headers(websocket)
        connection = _WebSocket(websocket)
        station = await self.central.attach(admitted.station_id, connection, admitted.credentials)
        _LOGGER.debug("%s: connected from %s", admitted.station_id, admitted.credentials.remote_address)
        session = station.session
        limit = _RateLimit(MESSAGE_RATE, MESSAGE_BURST)
        slowed = False
        try:
            while True:
                async with asyncio.timeout(self._read_timeout()):
                    message = await websocket.recv()
                if await session.receive(message):
                    continue  # the answer to one of our CALLs: we pace those, the limit does not count them
                if (pause := limit.wait()) > 0:
                    self.rate_limited += 1
                    if not slowed:
                        slowed = True
                        _LOGGER.warning(
                            "%s: sends more than %g messages/s: its messages are read at that rate from now on",
                            admitted.station_id,
                            MESSAGE_RATE,
                        )
                    await asyncio.sleep(pause)
        except ConnectionClosed:
            pass
        except TimeoutError:
            _LOGGER.info(
                "%s: nothing received for %g s; disconnected so that it connects again",
                admitted.station_id,
                self._read_timeout(),
            )
            await websocket.close(CloseCode.GOING_AWAY, "silent")
        finally:
            self.central.detach(station, connection)
            _LOGGER.debug(
                "%s: connection closed (code %s%s)",
                admitted.station_id,
                websocket.close_code,
                f", {websocket.close_reason}" if websocket.close_reason else "",
            )


def _remote_host(connection: ServerConnection) -> str:
    address = connection.remote_address
    return str(address[0]) if address else "unknown"


def _unauthorized(connection: ServerConnection) -> Response:
    response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized.\n")
    response.headers = Headers(response.headers)
    response.headers["WWW-Authenticate"] = REALM
    return response
