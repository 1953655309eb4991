"""A simulated OCPP 2.0.1 charging station: the `ocpp` package's ChargePoint on a `websockets` client.

`SimStation.run()` keeps the station connected: it connects (HTTP Basic auth, TLS for profiles 2-3), boots
(BootNotification, retried while Pending/Rejected), reports its connectors, sends heartbeats at the interval
the CSMS gives, and reconnects with back-off (OCPPCommCtrlr.RetryBackOff*) when the connection drops. A Reset
closes the connection and boots again with reason RemoteReset.

Three scopes of background work, each in its own task set:

- connection: the reader, heartbeats, the TransactionEvent sender, work triggered by the CSMS; cancelled when
  the connection drops;
- power cycle: the charging scenario of each EVSE and the transactions' meter loops; they keep running while
  offline (TransactionEvents are queued and sent later with offline=true) and end with a reboot;
- station: reboots and firmware updates, which outlive both; cancelled only when the station stops.

Every CSMS-initiated action the `ocpp` package knows is answered as the specification says; the CALLERRORs a
CSMS answers to the station's own CALLs (e.g. NotSupported from a CSMS that does not handle TransactionEvent)
are counted and logged once per action and code, and never stop the station.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter, deque
from collections.abc import Callable, Coroutine
import contextlib
import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import hashlib
import logging
from pathlib import Path
import random
import ssl
import tempfile
import time
from typing import Any, Final, cast
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ocpp.exceptions import (
    NotImplementedError as OcppNotImplementedError,
    OccurrenceConstraintViolationError,
    OCPPError,
    UnknownCallErrorCodeError,
)
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from .device_model import DeviceModel, InventorySettings, Variable, build_inventory
from .evse import Evse, Reservation, Transaction
from .management import (
    LogLine,
    TransferError,
    download,
    firmware_version,
    load_certificate,
    log_content,
    signature_valid,
    upload,
)
from .meter import Car, Limit, Meter, iso, iso_now
from .smart_charging import TX, Capabilities, ProfileStore, parse_time

# The `ocpp` package logs every message at INFO and every CALLERROR at WARNING; the CLI lowers this with DEBUG.
_OCPP_LOGGER = logging.getLogger("tools.simulator.ocpp")
if _OCPP_LOGGER.level == logging.NOTSET:
    _OCPP_LOGGER.setLevel(logging.ERROR)

SUBPROTOCOL: Final = Subprotocol("ocpp2.0.1")
SCENARIOS: Final = ("idle", "charge")
#: Retry interval while Pending/Rejected when the CSMS gives none (interval 0).
DEFAULT_BOOT_RETRY: Final = 30.0
OK: Final = "ok"
ERROR: Final = "error"
TIMEOUT: Final = "timeout"
CLOSED: Final = "closed"

type Handler = Callable[..., Any]


def on_action[F: Handler](action: Action) -> Callable[[F], F]:
    """`ocpp.routing.on`, typed."""
    return cast("Callable[[F], F]", on(action))


def after_action[F: Handler](action: Action) -> Callable[[F], F]:
    """`ocpp.routing.after`, typed."""
    return cast("Callable[[F], F]", after(action))


def station_tokens(station_id: str, count: int = 3) -> list[str]:
    """The RFID card UIDs the drivers of a station present: stable per station, so a CSMS can list them."""
    return [hashlib.sha256(f"{station_id}/{n}".encode()).hexdigest()[:14].upper() for n in range(count)]


def basic_auth_header(username: str, password: str) -> dict[str, str]:
    """HTTP Basic credentials (A00.FR.205: username is the station identity)."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class StationConfig:
    """How one simulated station behaves. Times are seconds (floats, so tests can run fast)."""

    station_id: str
    url: str = "ws://127.0.0.1:9201"
    password: str | None = None
    security_profile: int = 1
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    evses: int = 1
    meter_interval: float = 10.0
    scenario: str = "idle"
    #: charge scenario: pause between sessions, and how long the driver charges (both randomised +-50 %).
    idle_time: float = 60.0
    charge_time: float = 1800.0
    #: between plug-in and authorization, and between the end of a transaction and unplugging.
    plug_delay: float = 2.0
    #: how long a reboot takes.
    reboot_delay: float = 2.0
    #: reconnection back-off (OCPPCommCtrlr RetryBackOffWaitMinimum, RetryBackOffRandomRange, RepeatTimes).
    backoff_min: float = 5.0
    backoff_range: float = 10.0
    backoff_repeat: int = 5
    #: a random delay before the first connection (spreads a fleet's start).
    start_spread: float = 0.0
    open_timeout: float = 30.0
    response_timeout: float = 30.0
    #: NotifyReport entries per message.
    report_part_size: int = 20
    #: send BootNotification on every reconnection, not only after a (re)boot.
    boot_on_reconnect: bool = False
    #: simulated delay of each firmware update / log upload step.
    step_delay: float = 1.0
    vendor: str = "OCPP CSMS Simulator"
    model: str = "SimCharger AC 11"
    firmware_version: str = "1.0.0"
    serial_number: str | None = None
    seed: int | None = None
    #: the car every session plugs in (a copy of it); None: a random mix of 11 kW and 7.4 kW cars.
    car: Car | None = None
    #: device model values to start with: {"Component.Variable" or "Component.Variable:Instance": value}.
    variables: dict[str, str] = field(default_factory=dict)
    #: station management (L, N, O): how logs are uploaded (PUT, or POST as multipart form data, N01.FR.18-19),
    #: the least size of a log (padded), whether the station has a display (DisplayMessageCtrlr), and how many
    #: display messages go in one NotifyDisplayMessages.
    log_upload_method: str = "PUT"
    log_min_bytes: int = 0
    display: bool = True
    display_part_size: int = 4

    @property
    def endpoint(self) -> str:
        """The websocket URL of this station: the CSMS URL with the station identity appended."""
        return f"{self.url.rstrip('/')}/{self.station_id}"


@dataclass
class Stats:
    """What a station did; the fleet sums these up."""

    connects: int = 0
    connect_failures: int = 0
    boots: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    timeouts: Counter[str] = field(default_factory=Counter)
    received: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A CALL the station sent, with how it ended (ok, error, timeout, closed) and the CALLERROR code if any."""

    action: str
    payload: Any
    outcome: str
    error_code: str | None = None
    at: float = 0.0


class _Offline(Exception):  # noqa: N818 - a state, not an error
    """The connection is gone."""


@dataclass
class _TxEvent:
    """A queued TransactionEvent (E01-E13: sent in order, kept while offline)."""

    kwargs: dict[str, Any]
    on_response: Callable[[Any], None] | None = None
    attempts: int = 0


class SimStation(ChargePoint):  # type: ignore[misc]  # ocpp is untyped
    """One simulated charging station."""

    def __init__(self, config: StationConfig) -> None:
        """A station that is not connected yet; `run()` brings it up."""
        self.log = logging.getLogger(f"tools.simulator.{config.station_id}")
        super().__init__(
            config.station_id,
            None,
            response_timeout=config.response_timeout,
            logger=_OCPP_LOGGER,
        )
        self.config = config
        self.rng = random.Random(config.seed if config.seed is not None else config.station_id)  # noqa: S311
        self.password = config.password
        #: with security profile 3 it becomes the certificate's common name when `run()` reads it (B01.FR.12).
        self.serial_number = config.serial_number or config.station_id
        self.firmware_version = config.firmware_version
        self.device_model: DeviceModel = build_inventory(
            InventorySettings(
                station_id=config.station_id,
                evses=config.evses,
                vendor=config.vendor,
                model=config.model,
                serial_number=self.serial_number,
                firmware_version=config.firmware_version,
                password=config.password,
                security_profile=config.security_profile,
                meter_interval=max(1, round(config.meter_interval)),
                retry_wait_minimum=round(config.backoff_min),
                retry_random_range=round(config.backoff_range),
                retry_repeat_times=config.backoff_repeat,
            )
        )
        self.device_model.on_set = self._variable_set
        self.device_model.on_event = self._monitor_events
        self.meter_interval = config.meter_interval
        self.heartbeat_interval = 300.0
        self.profiles = ProfileStore(on_change=self._limits_changed)
        self.evses: dict[int, Evse] = {
            evse_id: Evse(id=evse_id, meter=Meter(rng=random.Random(self.rng.random())))  # noqa: S311
            for evse_id in range(1, config.evses + 1)
        }
        self.tokens = [{"id_token": token, "type": "ISO14443"} for token in station_tokens(config.station_id)]
        #: called on each refusal of one of the station's own cards: (station, card, action, status).
        self.on_card_refused: Callable[[SimStation, str, str, str], None] | None = None
        self.operative = True
        self.boot_reason = "PowerUp"
        #: status of the last BootNotification response (None: not booted in this power cycle).
        self.registration: str | None = None
        self.boot_statuses: list[str] = []
        self.stats = Stats()
        #: the last CALLs sent, newest last (for tests and debugging).
        self.sent: deque[SentMessage] = deque(maxlen=500)
        self.connected = asyncio.Event()
        self.online = asyncio.Event()
        self.firmware_status = "Idle"
        self.log_status = "Idle"
        self.local_list_version = 0
        #: the local authorization list (D01), by ID token ignoring case: AuthorizationData as received.
        self.local_list: dict[str, dict[str, Any]] = {}
        #: the authorization cache (C10), by ID token ignoring case: the last IdTokenInfo the CSMS answered.
        self.auth_cache: dict[str, dict[str, Any]] = {}
        self.certificates: dict[str, tuple[str, str]] = {}  # serial -> (type, PEM)
        self.display_messages: dict[int, dict[str, Any]] = {}
        #: station management: firmware images downloaded, logs uploaded, what it keeps per customer (N09).
        self.firmware_requests: list[dict[str, Any]] = []
        self.firmware_downloads: list[bytes] = []
        self.log_requests: list[dict[str, Any]] = []
        self.uploaded_logs: list[bytes] = []
        self.customer_data: dict[str, list[str]] = {}
        if not config.display:
            self.device_model.remove_component("DisplayMessageCtrlr")
        self.network_profiles: dict[int, dict[str, Any]] = {}
        self.security_profile = config.security_profile
        #: Signed certificates with their keys, per type (A02/A03); the keys never leave the station (A02.FR.05).
        self.identities: dict[str, tuple[str, bytes]] = {}
        self._csr_keys: dict[str, ec.EllipticCurvePrivateKey] = {}
        self._profile_fallback = 0
        self._connect_failures = 0
        self._target_profile = config.security_profile
        self.pending_reset = False
        self._init_runtime()
        for name, value in config.variables.items():
            self.preset(name, value)

    def _init_runtime(self) -> None:
        """Connection and task bookkeeping."""
        self._connection: ClientConnection | None = None
        self._ssl: ssl.SSLContext | None = None
        self._stopping = False
        self._rebooting = False
        self._powered = False
        self._boot_now = asyncio.Event()
        self._boot_waiting = False
        self._booting: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._aligned: asyncio.Task[None] | None = None
        self._tx_queue: deque[_TxEvent] = deque()
        self._tx_wakeup = asyncio.Event()
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._power_tasks: set[asyncio.Task[Any]] = set()
        self._station_tasks: set[asyncio.Task[Any]] = set()
        self._inflight: set[asyncio.Task[Any]] = set()
        self._reported_errors: set[tuple[str, str]] = set()

    def preset(self, name: str, value: str) -> None:
        """Set a device model value before the station runs ("Component.Variable[:Instance]"); ValueError if unknown."""
        component, _, variable = name.partition(".")
        variable, _, instance = variable.partition(":")
        found = self.device_model.find(component, variable, instance=instance or None)
        if found is None or (component, variable) == ("SecurityCtrlr", "BasicAuthPassword"):
            raise ValueError(f"no settable variable {name}")
        problem = found.check(value)
        if problem is not None:
            raise ValueError(f"{name}={value}: {problem}")
        old, found.value = found.value, value
        self._variable_set(found, old)

    @property
    def station_id(self) -> str:
        """The station identity."""
        return self.config.station_id

    # ---- tasks -----------------------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, Any], scope: set[asyncio.Task[Any]]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(self._guarded(work))
        scope.add(task)
        task.add_done_callback(scope.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            self.log.exception("%s: background work failed", self.station_id)

    def spawn_conn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Work that ends with the connection."""
        return self._spawn(work, self._conn_tasks)

    def spawn_power(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Work that ends with a reboot."""
        return self._spawn(work, self._power_tasks)

    def spawn_station(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Work that ends when the station stops."""
        return self._spawn(work, self._station_tasks)

    @staticmethod
    async def _cancel(tasks: set[asyncio.Task[Any]]) -> None:
        current = asyncio.current_task()
        pending = [task for task in tasks if task is not current]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    # ---- connection ------------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, serve, reconnect, until cancelled or `stop()`."""
        attempt = 0
        try:
            loop = asyncio.get_running_loop()
            # Reading certificate files is blocking I/O: done once, off the event loop.
            if self.config.serial_number is None and (
                common_name := await loop.run_in_executor(None, _certificate_cn, self.config)
            ):
                self.serial_number = common_name
                self.device_model.update(self.device_model.find("Controller", "SerialNumber"), common_name)
            if self.config.start_spread > 0:
                await asyncio.sleep(self.rng.uniform(0, self.config.start_spread))
            while not self._stopping:
                try:
                    websocket = await self._connect()
                except (OSError, InvalidHandshake, TimeoutError, ssl.SSLError) as err:
                    self.stats.connect_failures += 1
                    attempt += 1
                    self._connect_failures += 1
                    attempts = int(self.device_model.number("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", 3))
                    if self._connect_failures >= attempts and len(self._priority()) > self._profile_fallback + 1:
                        self._profile_fallback += 1  # the next connection profile by priority
                        self._connect_failures = 0
                    delay = self._backoff(attempt)
                    level = logging.WARNING if isinstance(err, InvalidStatus) else logging.INFO
                    self.log.log(level, "%s: cannot connect (%s); retrying in %.1f s", self.station_id, err, delay)
                    await asyncio.sleep(delay)
                    continue
                attempt = 0
                await self._serve(websocket)
                if self.stopping:
                    break
                if self._rebooting:
                    await asyncio.sleep(self.config.reboot_delay)
                    self._rebooting = False
                    continue
                attempt = 1
                delay = self._backoff(attempt)
                self.log.info("%s: connection lost; reconnecting in %.1f s", self.station_id, delay)
                await asyncio.sleep(delay)
        finally:
            await self._shutdown()

    async def stop(self) -> None:
        """Disconnect for good (run() returns)."""
        self._stopping = True
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(1001, "Station shutting down")

    @property
    def stopping(self) -> bool:
        """Whether `stop()` was called."""
        return self._stopping

    def _backoff(self, attempt: int) -> float:
        """RetryBackOffWaitMinimum doubled per attempt (at most RepeatTimes times) plus a random part."""
        doublings = min(max(attempt - 1, 0), self.config.backoff_repeat)
        return self.config.backoff_min * 2.0**doublings + self.rng.uniform(0, self.config.backoff_range)

    def _ssl_context(self) -> ssl.SSLContext | None:
        url, profile = self.connection_target()
        if not url.startswith("wss://"):
            return None
        context = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # A00.FR.309
        roots = [pem for kind, pem in self.certificates.values() if kind == "CSMSRootCertificate"]
        if roots:  # installed with InstallCertificate (M05): trusted for the CSMS's server certificate
            context.load_verify_locations(cadata="".join(roots))
        if profile == 3 and "ChargingStationCertificate" in self.identities:
            context.load_cert_chain(*self._identity_files())
        elif profile == 3 and self.config.cert_file is not None:
            context.load_cert_chain(self.config.cert_file, self.config.key_file)
        return context

    # ---- network connection profiles (B09, A05) and station certificates (A02, A03) ---------------------------

    def connection_target(self) -> tuple[str, int]:
        """The CSMS URL and security profile of the connection profile in use (A05.FR.05: the first by priority)."""
        slots = [int(slot) for slot in self._priority() if slot.strip().isdigit()]
        if self._profile_fallback < len(slots) and (data := self.network_profiles.get(slots[self._profile_fallback])):
            return str(data["ocpp_csms_url"]), int(data["security_profile"])
        return self.config.url, self.security_profile

    def _priority(self) -> list[str]:
        variable = self.device_model.find("OCPPCommCtrlr", "NetworkConfigurationPriority")
        return (variable.value if variable is not None else "0").split(",")

    def _identity_files(self) -> tuple[Path, Path]:
        """The signed station certificate and its key as files for TLS (private, 0600). Blocking: an executor."""
        chain, key_pem = self.identities["ChargingStationCertificate"]
        directory = Path(tempfile.mkdtemp(prefix=f"sim-{self.station_id}-"))
        cert_file, key_file = directory / "station.crt", directory / "station.key"
        cert_file.write_text(chain)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        return cert_file, key_file

    def _connected_on(self, profile: int) -> None:
        """A05.FR.06: connected on a higher profile: it becomes SecurityProfile, lower connection profiles go."""
        if profile <= self.security_profile:
            return
        self.log.info("%s: now on security profile %d", self.station_id, profile)
        self.security_profile = profile
        self.device_model.update(self.device_model.find("SecurityCtrlr", "SecurityProfile"), str(profile))
        kept = [
            slot
            for slot in self._priority()
            if slot.isdigit() and int(self.network_profiles.get(int(slot), {}).get("security_profile", 0)) >= profile
        ]
        self.device_model.update(
            self.device_model.find("OCPPCommCtrlr", "NetworkConfigurationPriority"), ",".join(kept)
        )
        self._profile_fallback = 0

    def _priority_refused(self, value: str) -> str | None:
        """A05.FR.02-03: a higher profile first needs a CSMS root, and for profile 3 a station certificate."""
        first = value.split(",", maxsplit=1)[0]
        data = self.network_profiles.get(int(first)) if first.isdigit() else None
        profile = int(data["security_profile"]) if data is not None else self.security_profile
        if profile <= self.security_profile:
            return None
        has_root = self.config.ca_file is not None or any(
            k == "CSMSRootCertificate" for k, _ in self.certificates.values()
        )
        if profile >= 2 and not has_root:
            return "no CSMSRootCertificate installed"
        if profile == 3 and "ChargingStationCertificate" not in self.identities and self.config.cert_file is None:
            return "no ChargingStationCertificate installed"
        return None

    async def _connect(self) -> ClientConnection:
        url, profile = self.connection_target()
        loop = asyncio.get_running_loop()
        self._ssl = await loop.run_in_executor(None, self._ssl_context)
        headers = None
        if self.password is not None and profile in (1, 2):
            headers = basic_auth_header(self.station_id, self.password)
        ping = int(self.device_model.number("OCPPCommCtrlr", "WebSocketPingInterval", 0))
        self._target_profile = profile
        websocket = await connect(
            f"{url.rstrip('/')}/{self.station_id}",
            subprotocols=[SUBPROTOCOL],
            additional_headers=headers,
            ssl=self._ssl,
            open_timeout=self.config.open_timeout,
            ping_interval=ping or None,
            close_timeout=2,
            max_size=4 * 1024 * 1024,
            user_agent_header=f"{self.config.vendor.replace(' ', '-')}/{self.firmware_version}",
        )
        if websocket.subprotocol != SUBPROTOCOL:
            await websocket.close(1002, "ocpp2.0.1 is required")
            raise InvalidHandshake(f"the CSMS chose subprotocol {websocket.subprotocol!r}")
        return websocket

    async def _serve(self, websocket: ClientConnection) -> None:
        """Serve one connection until it closes."""
        self._connection = websocket
        self._rebooting = False
        self._response_queue: asyncio.Queue[Any] = asyncio.Queue()
        self._call_lock = asyncio.Lock()
        self.stats.connects += 1
        self._connect_failures = 0
        self._connected_on(self._target_profile)
        self.connected.set()
        self.log.info("%s: connected to %s", self.station_id, self.connection_target()[0])
        reader = self.spawn_conn(self._read(websocket))
        self.spawn_conn(self._on_connected())
        try:
            await asyncio.shield(reader)
        finally:
            self._connection = None
            self.connected.clear()
            self.online.clear()
            for task in list(self._inflight):
                task.cancel()
            await self._cancel(self._conn_tasks)
            with contextlib.suppress(Exception):
                await websocket.close()

    async def _read(self, websocket: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in websocket:
                self.log.debug("%s: received %s", self.station_id, message)
                await self.route_message(message)

    async def _on_connected(self) -> None:
        """Boot when needed, then report and start the periodic work."""
        if self.registration != "Accepted" or self.config.boot_on_reconnect:
            self.registration = None
            self._booting = asyncio.current_task()
            with contextlib.suppress(_Offline):
                await self._boot()
                await self._become_online()
            return
        await self._become_online()

    async def _become_online(self) -> None:
        self.online.set()
        for evse in self.evses.values():
            evse.reported_status = None
        await self._report_statuses()
        self._restart_heartbeat()
        self._restart_aligned()
        if self._sender is None or self._sender.done():
            self._sender = self.spawn_conn(self._tx_sender())
        if not self._powered:
            self._powered = True
            self._after_boot()

    def _after_boot(self) -> None:
        """Once per power cycle, after the first accepted BootNotification.

        A BootNotification the central system triggered while the station waited (approval) is no reboot.
        """
        if self.boot_reason not in ("PowerUp", "Triggered") or self.stats.boots > 1:
            tech = f"boot reason {self.boot_reason}"
            self.spawn_conn(
                self.send(call.SecurityEventNotification(type="ResetOrReboot", timestamp=iso_now(), tech_info=tech))
            )
        if self.firmware_status == "InstallRebooting":
            self._firmware_installed()
        self.boot_reason = "PowerUp"
        if self.config.scenario == "charge":
            for evse in self.evses.values():
                self.spawn_power(self._charge_scenario(evse))

    async def _shutdown(self) -> None:
        self._stopping = True
        connection = self._connection
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(1001, "Station shutting down")
        for scope in (self._station_tasks, self._power_tasks, self._conn_tasks):
            await self._cancel(scope)

    # ---- sending ---------------------------------------------------------------------------------------------

    async def _call(self, payload: Any) -> tuple[str, Any]:
        """Send one CALL and classify the outcome: (OK, response), (ERROR, OCPPError), (TIMEOUT|CLOSED, None)."""
        action = type(payload).__name__
        if self._connection is None:
            self.stats.dropped[action] += 1
            return CLOSED, None
        self.stats.sent[action] += 1
        task = asyncio.ensure_future(self.call(payload, suppress=False))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        outcome: tuple[str, Any]
        try:
            outcome = (OK, await task)
        except OCPPError as err:
            outcome = (ERROR, err)
        except UnknownCallErrorCodeError as err:
            outcome = (ERROR, OCPPError(str(err)))
        except TimeoutError:
            outcome = (TIMEOUT, None)
        except ConnectionClosed, _Offline:
            outcome = (CLOSED, None)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            outcome = (CLOSED, None)  # the connection went down under the CALL
        self._record(action, payload, outcome)
        return outcome

    def _record(self, action: str, payload: Any, outcome: tuple[str, Any]) -> None:
        kind, result = outcome
        code = getattr(result, "code", "GenericError") if kind == ERROR else None
        self.sent.append(SentMessage(action, payload, kind, code, time.monotonic()))
        if kind == OK:
            self.stats.answered[action] += 1
        elif kind == ERROR:
            self.stats.errors[action] += 1
            description = getattr(result, "description", "")
            details = getattr(result, "details", None)
            if isinstance(details, dict) and "ocpp_message" in details:
                # The `ocpp` package refused our own payload before sending it: a bug of the simulator.
                self.log.error("%s: built an invalid %s: %s", self.station_id, action, details.get("cause"))
            if (action, str(code)) not in self._reported_errors:
                self._reported_errors.add((action, str(code)))
                self.log.info(
                    "%s: the CSMS answered %s with CALLERROR %s (%s)", self.station_id, action, code, description
                )
            if code == "SecurityError" and action != "BootNotification" and self.registration == "Accepted":
                # The CSMS does not consider us accepted (e.g. it restarted and forgot us): boot again (B02).
                self.registration = None
                self.online.clear()
                self._start_boot()
        elif kind == TIMEOUT:
            self.stats.timeouts[action] += 1
            self.log.info("%s: no answer to %s within %.0f s", self.station_id, action, self._response_timeout)

    async def send(self, payload: Any) -> Any | None:
        """Send a CALL once accepted; the response, or None when there is none (offline, CALLERROR, timeout)."""
        if not self.online.is_set():
            self.stats.dropped[type(payload).__name__] += 1
            return None
        kind, result = await self._call(payload)
        return result if kind == OK else None

    def queue_transaction_event(self, on_response: Callable[[Any], None] | None = None, **kwargs: Any) -> None:
        """Queue a TransactionEvent; events are sent in order, kept while offline and then flagged offline."""
        if not self.online.is_set():
            kwargs["offline"] = True
        self._tx_queue.append(_TxEvent(kwargs, on_response))
        self._tx_wakeup.set()

    async def _tx_sender(self) -> None:
        """Send the queued TransactionEvents (E13: retried MessageAttempts times on timeout)."""
        while True:
            while not self._tx_queue:
                self._tx_wakeup.clear()
                await self._tx_wakeup.wait()
            if not self.online.is_set():
                await asyncio.sleep(0.2)
                continue
            item = self._tx_queue[0]
            kind, result = await self._call(call.TransactionEvent(**item.kwargs))
            if kind == CLOSED:
                return
            if kind == TIMEOUT:
                item.attempts += 1
                attempts = self.device_model.number("OCPPCommCtrlr", "MessageAttempts", 3, instance="TransactionEvent")
                if item.attempts < attempts:
                    interval = self.device_model.number(
                        "OCPPCommCtrlr", "MessageAttemptInterval", 10, instance="TransactionEvent"
                    )
                    await asyncio.sleep(interval * item.attempts)
                    continue
            if self._tx_queue and self._tx_queue[0] is item:
                self._tx_queue.popleft()
            if kind == OK and item.on_response is not None:
                item.on_response(result)

    async def drain_transaction_events(self, within: float) -> bool:
        """Wait until the queued TransactionEvents are sent (True) or `within` seconds passed (False)."""
        deadline = time.monotonic() + within
        while self._tx_queue and time.monotonic() < deadline:
            if not self.online.is_set():
                return False
            await asyncio.sleep(0.05)
        return not self._tx_queue

    async def _send(self, message: str) -> None:
        """Send one frame on the current connection (`ocpp` calls this)."""
        connection = self._connection
        if connection is None:
            raise _Offline
        self.log.debug("%s: send %s", self.station_id, message)
        await connection.send(message)

    # ---- boot, heartbeat -------------------------------------------------------------------------------------

    def _start_boot(self) -> None:
        if self._booting is None or self._booting.done():
            self._booting = self.spawn_conn(self._boot_then_online())

    async def _boot_then_online(self) -> None:
        with contextlib.suppress(_Offline):
            await self._boot()
            await self._become_online()

    async def _boot(self) -> None:
        """BootNotification until Accepted (B01-B03)."""
        while True:
            self._boot_now.clear()
            kind, response = await self._call(
                call.BootNotification(
                    charging_station={
                        "model": self.config.model,
                        "vendor_name": self.config.vendor,
                        "serial_number": self.serial_number,
                        "firmware_version": self.firmware_version,
                    },
                    reason=self.boot_reason,
                )
            )
            if kind == CLOSED:
                raise _Offline  # the connection is gone; the reconnection boots again
            wait = DEFAULT_BOOT_RETRY
            if kind == OK:
                self.registration = response.status
                self.boot_statuses.append(response.status)
                if response.status == "Accepted":
                    self.stats.boots += 1
                    if response.interval > 0:
                        self.heartbeat_interval = float(response.interval)
                        heartbeat = self.device_model.find("OCPPCommCtrlr", "HeartbeatInterval")
                        if heartbeat is not None:
                            heartbeat.value = str(response.interval)
                    self.log.info("%s: accepted (heartbeat every %d s)", self.station_id, response.interval)
                    return
                wait = float(response.interval) or DEFAULT_BOOT_RETRY
                self.log.info("%s: BootNotification %s; retrying in %.0f s", self.station_id, response.status, wait)
            self._boot_waiting = True
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._boot_now.wait()
            finally:
                self._boot_waiting = False

    def _restart_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        self._heartbeat = self.spawn_conn(self._heartbeats())

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            await self.send(call.Heartbeat())

    def _restart_aligned(self) -> None:
        if self._aligned is not None:
            self._aligned.cancel()
        interval = self.device_model.number("AlignedDataCtrlr", "Interval", 0)
        if interval > 0 and self.device_model.flag("AlignedDataCtrlr", "Enabled", default=True):
            self._aligned = self.spawn_conn(self._aligned_meter_values(interval))

    async def _aligned_meter_values(self, interval: float) -> None:
        """Clock-aligned meter values (J01): MeterValues when idle (SendDuringIdle), else in TransactionEvent."""
        while True:
            now = time.time()
            await asyncio.sleep(interval - now % interval)
            measurands = self.device_model.members("AlignedDataCtrlr", "Measurands")
            for evse in self.evses.values():
                self._advance(evse)
                sample = evse.meter.sample(measurands, "Sample.Clock", evse.car)
                if evse.tx is not None:
                    self._queue_updated(evse, "MeterValueClock", [sample])
                elif self.device_model.flag("AlignedDataCtrlr", "SendDuringIdle"):
                    await self.send(call.MeterValues(evse_id=evse.id, meter_value=[sample]))

    # ---- connectors and charging -------------------------------------------------------------------------------

    async def _report_statuses(self, evses: list[Evse] | None = None) -> None:
        """StatusNotification for each connector whose status changed since it was last reported."""
        for evse in evses or list(self.evses.values()):
            status = evse.connector_status(self.operative)
            if status in ("Unavailable", "Faulted") and evse.reservation is not None:
                removed = evse.reservation
                self._end_reservation(evse)
                self.spawn_conn(
                    self.send(
                        call.ReservationStatusUpdate(reservation_id=removed.id, reservation_update_status="Removed")
                    )
                )
            self._update_availability_variables(evse, status)
            if status == evse.reported_status:
                continue
            evse.reported_status = status
            await self.send(
                call.StatusNotification(
                    timestamp=iso_now(), connector_status=status, evse_id=evse.id, connector_id=evse.connector_id
                )
            )
            if not self.online.is_set():
                evse.reported_status = None  # not delivered: report it after reconnecting

    def _update_availability_variables(self, evse: Evse, status: str) -> None:
        dm = self.device_model
        dm.update(dm.find("Connector", "AvailabilityState", evse_id=evse.id, connector_id=evse.connector_id), status)
        evse_state = "Unavailable" if not evse.operative else status
        dm.update(dm.find("EVSE", "AvailabilityState", evse_id=evse.id), evse_state)
        dm.update(dm.find("EVSE", "Available", evse_id=evse.id), "true" if evse.operative else "false")
        dm.update(dm.find("ChargingStation", "AvailabilityState"), "Available" if self.operative else "Unavailable")
        dm.update(dm.find("ChargingStation", "Available"), "true" if self.operative else "false")

    def _limit(self, evse: Evse, moment: datetime | None = None) -> Limit | None:
        tx = evse.tx
        now = moment or datetime.now(UTC)
        return self.profiles.evse_limit(
            evse.id, now, transaction_id=tx.id if tx else None, anchor=tx.started_at if tx else now
        )

    def _advance(self, evse: Evse) -> None:
        """Bring the EVSE's meter to now under the limit in force, and mirror it in the device model."""
        tx = evse.tx
        energy_allowed = tx is not None and evse.car is not None and evse.operative
        if tx is not None and tx.energy_cap_wh is not None:
            energy_allowed = energy_allowed and evse.meter.energy_wh - tx.meter_start_wh < tx.energy_cap_wh
        evse.meter.advance(time.monotonic(), evse.car, self._limit(evse), energy_allowed=energy_allowed)
        dm, meter = self.device_model, evse.meter
        dm.update(dm.find("EVSE", "Power", evse_id=evse.id), f"{meter.power_w:.0f}")
        for phase, current, voltage in zip(("L1", "L2", "L3"), meter.currents, meter.voltages, strict=True):
            dm.update(dm.find("EVSE", "ACCurrent", evse_id=evse.id, instance=phase), f"{current:.1f}")
            dm.update(dm.find("EVSE", "ACVoltage", evse_id=evse.id, instance=phase), f"{voltage:.0f}")
        dm.update(dm.find("FiscalMetering", "EnergyImportRegister", evse_id=evse.id), f"{meter.energy_wh:.0f}")
        total = sum(other.meter.power_w for other in self.evses.values())
        dm.update(dm.find("ChargingStation", "Power"), f"{total:.0f}")
        if evse.car is not None:
            dm.update(dm.find("ConnectedEV", "StateOfCharge", evse_id=evse.id), f"{evse.car.soc:.0f}")

    def _charging_state(self, evse: Evse) -> str:
        if evse.car is None:
            return "Idle"
        if evse.meter.power_w > 0:
            return "Charging"
        if evse.meter.offered < 6.0 or not evse.operative:
            return "SuspendedEVSE"
        return "SuspendedEV"

    def _limits_changed(self) -> None:
        """Profiles changed (K01.FR.07, K10.FR.05): apply the new limits now and report changed rates."""
        self.device_model.update(
            self.device_model.find("SmartChargingCtrlr", "Entries", instance="ChargingProfiles"),
            str(len(self.profiles)),
        )
        for evse in self.evses.values():
            if evse.tx is None:
                continue
            before = evse.meter.offered
            self._advance(evse)
            if abs(evse.meter.offered - before) > 0.01:
                self._queue_updated(evse, "ChargingRateChanged")

    def _queue_updated(self, evse: Evse, trigger: str, samples: list[dict[str, Any]] | None = None) -> None:
        tx = evse.tx
        if tx is None:
            return
        state = self._charging_state(evse)
        if state != tx.charging_state:
            tx.charging_state = state
            if trigger == "MeterValuePeriodic":
                trigger = "ChargingStateChanged"
        if samples is None:
            measurands = self.device_model.members("SampledDataCtrlr", "TxUpdatedMeasurands")
            context = "Sample.Periodic" if trigger in ("MeterValuePeriodic", "ChargingStateChanged") else "Trigger"
            samples = [evse.meter.sample(measurands, context, evse.car)]
        self.queue_transaction_event(
            event_type="Updated",
            timestamp=iso_now(),
            trigger_reason=trigger,
            seq_no=tx.next_seq(),
            transaction_info={"transaction_id": tx.id, "charging_state": state},
            meter_value=samples,
            evse={"id": evse.id, "connector_id": evse.connector_id},
        )

    async def plug_in(self, evse: Evse, car: Car | None = None) -> None:
        """A car is connected (StatusNotification Occupied)."""
        evse.car = car or (dataclasses.replace(self.config.car) if self.config.car else Car.random(self.rng))
        dm = self.device_model
        dm.update(dm.find("ConnectedEV", "Available", evse_id=evse.id), "true")
        dm.update(dm.find("CPPWMController", "State", evse_id=evse.id), "B")
        dm.update(dm.find("ConnectorPlugRetentionLock", "Active", evse_id=evse.id, connector_id=1), "true")
        self._advance(evse)
        await self._report_statuses([evse])

    async def unplug(self, evse: Evse) -> None:
        """The car leaves; a transaction still running ends (EVDisconnected)."""
        if evse.tx is not None:
            self.stop_transaction(evse, "EVCommunicationLost", "EVDisconnected")
        evse.car = None
        dm = self.device_model
        dm.update(dm.find("ConnectedEV", "Available", evse_id=evse.id), "false")
        dm.update(dm.find("CPPWMController", "State", evse_id=evse.id), "A")
        dm.update(dm.find("ConnectorPlugRetentionLock", "Active", evse_id=evse.id, connector_id=1), "false")
        self._advance(evse)
        await self._report_statuses([evse])

    async def authorize(self, id_token: dict[str, Any]) -> bool:
        """Whether the token may charge (C01, C13-C15): see `authorize_info`."""
        return (await self.authorize_info(id_token)).get("status") == "Accepted"

    async def authorize_info(self, id_token: dict[str, Any]) -> dict[str, Any]:
        """The IdTokenInfo a presented token gets: from the local list or cache, or Authorize (C01, C10-C15).

        Online, an Accepted local list or cache entry is used without asking when LocalPreAuthorize is on (C12,
        C14); any other token is asked about with Authorize, and the answer cached (C10). Offline (or without an
        answer), a local list or cache entry decides when LocalAuthorizeOffline is on (C13), and an unknown token
        is accepted only with OfflineTxForUnknownIdEnabled (C15).
        """
        dm = self.device_model
        dm.update(dm.find("TokenReader", "Token"), id_token["id_token"])
        local = self.local_info(id_token)
        if self.online.is_set():
            # C12, C14.FR.02: an accepted token of the local list or the cache starts at once.
            if local is not None and local[1].get("status") == "Accepted" and dm.flag("AuthCtrlr", "LocalPreAuthorize"):
                return local[1]
            kind, response = await self._call(call.Authorize(id_token=id_token))
            if kind == OK:
                info = dict(response.id_token_info)
                if dm.flag("AuthCacheCtrlr", "Enabled", default=True):
                    self.auth_cache[_card_key(id_token)] = info  # C10.FR.04
                if info.get("status") != "Accepted":
                    self._card_refused(id_token, "Authorize", str(info.get("status")))
                return info
        if local is not None:
            if dm.flag("AuthCtrlr", "LocalAuthorizeOffline", default=True):
                return local[1]
            return {"status": "Unknown"}
        if dm.flag("AuthCtrlr", "OfflineTxForUnknownIdEnabled", default=True):
            return {"status": "Accepted"}  # C15.FR.08
        return {"status": "Unknown"}

    def local_info(self, id_token: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """What the local list (first, C13.FR.01) or the cache knows of a token: ("list" | "cache", IdTokenInfo).

        An entry whose cacheExpiryDateTime passed counts as Expired.
        """
        key = _card_key(id_token)
        found: tuple[str, dict[str, Any]] | None = None
        entry = self.local_list.get(key) if self.device_model.flag("LocalAuthListCtrlr", "Enabled") else None
        if entry is not None:
            found = ("list", dict(entry["id_token_info"]))
        elif self.device_model.flag("AuthCacheCtrlr", "Enabled", default=True) and key in self.auth_cache:
            found = ("cache", dict(self.auth_cache[key]))
        if found is not None:
            expiry = parse_time(found[1].get("cache_expiry_date_time"))
            if expiry is not None and expiry <= datetime.now(UTC) and found[1].get("status") == "Accepted":
                found[1]["status"] = "Expired"
        return found

    def _is_master_pass(self, info: dict[str, Any]) -> bool:
        """Whether an accepted token belongs to the Master Pass group (C16)."""
        group = (info.get("group_id_token") or {}).get("id_token")
        master = self.device_model.value("AuthCtrlr", "MasterPassGroupId")
        return info.get("status") == "Accepted" and bool(master) and _same(group, master)

    async def present_token(self, evse: Evse, id_token: dict[str, Any]) -> str:
        """A driver presents a card at the EVSE; what happened: started, stopped, master_pass or refused.

        During a transaction the same card, or an accepted one of the same group, stops it (C01.FR.03, C09.FR.03);
        a master pass stops every transaction (C16.FR.02, no UI) and starts none (C16.FR.03). Otherwise a session
        starts, if the card is accepted and a reservation of the EVSE is its own (H03).
        """
        tx = evse.tx
        if tx is not None and tx.id_token is not None and _same(tx.id_token.get("id_token"), id_token["id_token"]):
            self.stop_transaction(evse, "StopAuthorized", "Local", id_token)  # C01.FR.03: no Authorize needed
            return "stopped"
        info = await self.authorize_info(id_token)
        if self._is_master_pass(info):
            for running in self.evses.values():
                if running.tx is not None:
                    self.stop_transaction(running, "StopAuthorized", "MasterPass", id_token)
            return "master_pass"
        if info.get("status") != "Accepted":
            return "refused"
        if tx is not None:
            started_group = (tx.group_id_token or {}).get("id_token")
            if _same(started_group, (info.get("group_id_token") or {}).get("id_token")):
                self.stop_transaction(evse, "StopAuthorized", "Local", id_token)  # C09.FR.03
                return "stopped"
            return "refused"  # C01.FR.23
        if not self._may_use_reservation(evse, id_token, info):
            return "refused"
        self.start_session(evse, id_token, authorize=False, token_info=info)
        return "started"

    def _may_use_reservation(self, evse: Evse, id_token: dict[str, Any], info: dict[str, Any]) -> bool:
        """A reserved EVSE serves only the reservation's token, or its group (H03.FR.01, H03.FR.04)."""
        reservation = evse.reservation
        if reservation is None:
            return True
        if _same(reservation.id_token.get("id_token"), id_token.get("id_token")):
            return True
        group = (reservation.group_id_token or {}).get("id_token")
        return _same(group, (info.get("group_id_token") or {}).get("id_token"))

    def _card_refused(self, id_token: dict[str, Any], action: str, status: str) -> None:
        """The CSMS refused an ID token: note it when it is one of the station's own cards (not a remote start's)."""
        card = str(id_token.get("id_token"))
        if not any(token["id_token"] == card for token in self.tokens):
            return
        if self.on_card_refused is not None:
            self.on_card_refused(self, card, action, status)

    def start_transaction(
        self,
        evse: Evse,
        id_token: dict[str, Any] | None,
        trigger: str,
        *,
        remote_start_id: int | None = None,
        token_info: dict[str, Any] | None = None,
    ) -> Transaction:
        """A transaction starts (E01-E03): TransactionEvent Started, then Updated every TxUpdatedInterval."""
        now = datetime.now(UTC)
        reservation = evse.reservation
        tx = Transaction(
            id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            evse_id=evse.id,
            started_at=now,
            id_token=id_token,
            remote_start_id=remote_start_id,
            reservation_id=reservation.id if reservation is not None else None,
            meter_start_wh=evse.meter.energy_wh,
            group_id_token=(token_info or {}).get("group_id_token"),
        )
        if reservation is not None:
            self._end_reservation(evse)
        evse.tx = tx
        self._advance(evse)
        tx.charging_state = self._charging_state(evse)
        self.device_model.update(self.device_model.find("PowerContactor", "Active", evse_id=evse.id), "true")
        info: dict[str, Any] = {"transaction_id": tx.id, "charging_state": tx.charging_state}
        if remote_start_id is not None:
            info["remote_start_id"] = remote_start_id
        measurands = self.device_model.members("SampledDataCtrlr", "TxStartedMeasurands")
        kwargs: dict[str, Any] = {
            "event_type": "Started",
            "timestamp": iso(now),
            "trigger_reason": trigger,
            "seq_no": tx.next_seq(),
            "transaction_info": info,
            "meter_value": [evse.meter.sample(measurands, "Transaction.Begin", evse.car)],
            "evse": {"id": evse.id, "connector_id": evse.connector_id},
            "number_of_phases_used": evse.car.phases if evse.car else 3,
        }
        if id_token is not None:
            kwargs["id_token"] = id_token
            # What the station keeps about the customer (N09): their transactions.
            self.customer_data.setdefault(str(id_token.get("id_token")), []).append(
                f"{iso(now)} transaction {tx.id} on EVSE {evse.id}"
            )
        if tx.reservation_id is not None:
            kwargs["reservation_id"] = tx.reservation_id

        def started(response: Any) -> None:
            info = getattr(response, "id_token_info", None) or {}
            status = info.get("status", "Accepted")
            if id_token is not None and info and self.device_model.flag("AuthCacheCtrlr", "Enabled", default=True):
                self.auth_cache[_card_key(id_token)] = dict(info)  # C10.FR.05
            if status == "Accepted":
                tx.group_id_token = info.get("group_id_token") or tx.group_id_token
                if evse.car is not None and evse.car.iso15118 and evse.tx is tx:
                    self.spawn_conn(self.notify_ev_charging_needs(evse))  # K15: once the transaction started
                return
            if id_token is not None:
                self._card_refused(id_token, "TransactionEvent", str(status))
            if evse.tx is not tx:
                return
            self.log.info("%s: the CSMS answered ID token status %s for the transaction", self.station_id, status)
            self.deauthorized(evse, tx)

        self.queue_transaction_event(on_response=started, **kwargs)
        tx.meter_task = self.spawn_power(self._meter_loop(evse, tx))
        self.log.info("%s: transaction %s started on EVSE %d (%s)", self.station_id, tx.id, evse.id, trigger)
        return tx

    def deauthorized(self, evse: Evse, tx: Transaction) -> None:
        """The CSMS did not accept the transaction's token (E05, E06.FR.04, C15.FR.03-07)."""
        stop_points = set(self.device_model.members("TxCtrlr", "TxStopPoint"))
        if self.device_model.flag("TxCtrlr", "StopTxOnInvalidId"):
            if stop_points & {"Authorized", "PowerPathClosed", "EnergyTransfer"}:
                self.stop_transaction(evse, "Deauthorized", "DeAuthorized")  # E05.FR.10
                return
            tx.energy_cap_wh = 0.0  # E05.FR.09: no more energy, the transaction goes on (EVConnected)
            self._advance(evse)
            tx.charging_state = "EVConnected"
            self.queue_transaction_event(
                event_type="Updated",
                timestamp=iso_now(),
                trigger_reason="Deauthorized",
                seq_no=tx.next_seq(),
                transaction_info={"transaction_id": tx.id, "charging_state": "EVConnected"},
                evse={"id": evse.id, "connector_id": evse.connector_id},
            )
        else:  # E05.FR.02-03: energy only up to MaxEnergyOnInvalidId
            tx.energy_cap_wh = self.device_model.number("TxCtrlr", "MaxEnergyOnInvalidId", 0)
            self._advance(evse)
            self._queue_updated(evse, "Deauthorized")

    async def notify_ev_charging_needs(self, evse: Evse) -> Any | None:
        """NotifyEVChargingNeeds (K15.FR.01) of an ISO 15118 car: AC parameters and its departure time."""
        car = evse.car
        if car is None:
            return None
        needs = {
            "requested_energy_transfer": "AC_three_phase" if car.phases == 3 else "AC_single_phase",
            "departure_time": iso(datetime.now(UTC) + timedelta(seconds=car.departure_in)),
            "ac_charging_parameters": {
                "energy_amount": round(car.battery_wh * (100.0 - car.soc) / 100.0),
                "ev_min_current": 6,
                "ev_max_current": round(car.max_current),
                "ev_max_voltage": 400 if car.phases == 3 else 230,
            },
        }
        response = await self.send(call.NotifyEVChargingNeeds(charging_needs=needs, evse_id=evse.id))
        self.stats.received["NotifyEVChargingNeedsResponse"] += 1 if response is not None else 0
        return response

    async def _meter_loop(self, evse: Evse, tx: Transaction) -> None:
        while evse.tx is tx:
            interval = self.meter_interval
            await asyncio.sleep(interval if interval > 0 else 1.0)
            if interval > 0 and evse.tx is tx:
                self._advance(evse)
                self._queue_updated(evse, "MeterValuePeriodic")

    def stop_transaction(self, evse: Evse, trigger: str, reason: str, id_token: dict[str, Any] | None = None) -> None:
        """The transaction on `evse` ends (E06): TransactionEvent Ended with the final meter values."""
        tx = evse.tx
        if tx is None:
            return
        if tx.meter_task is not None and tx.meter_task is not asyncio.current_task():
            tx.meter_task.cancel()
        self._advance(evse)
        evse.tx = None
        self._advance(evse)  # no transaction, no power
        self.device_model.update(self.device_model.find("PowerContactor", "Active", evse_id=evse.id), "false")
        measurands = self.device_model.members("SampledDataCtrlr", "TxEndedMeasurands")
        kwargs: dict[str, Any] = {
            "event_type": "Ended",
            "timestamp": iso_now(),
            "trigger_reason": trigger,
            "seq_no": tx.next_seq(),
            "transaction_info": {
                "transaction_id": tx.id,
                "charging_state": "EVConnected" if evse.car is not None else "Idle",
                "stopped_reason": reason,
            },
            "meter_value": [evse.meter.sample(measurands, "Transaction.End", evse.car)],
            "evse": {"id": evse.id, "connector_id": evse.connector_id},
        }
        if id_token is not None:
            kwargs["id_token"] = id_token
        self.queue_transaction_event(**kwargs)
        self.profiles.remove_transaction(tx.id)
        tx.ended.set()
        self.log.info("%s: transaction %s ended (%s)", self.station_id, tx.id, reason)
        if evse.pending_operative is not None:
            evse.operative, evse.pending_operative = evse.pending_operative, None
        if self.pending_reset and not any(other.tx for other in self.evses.values()):
            self.pending_reset = False
            self.spawn_station(self._reboot("RemoteReset"))

    async def _session(
        self,
        evse: Evse,
        id_token: dict[str, Any],
        *,
        trigger: str = "Authorized",
        remote_start_id: int | None = None,
        authorize: bool = True,
        duration: float | None = None,
        token_info: dict[str, Any] | None = None,
    ) -> None:
        """One charging session: plug in, authorize, charge, stop, unplug."""
        try:
            if evse.car is None:
                await self.plug_in(evse)
                await asyncio.sleep(self.config.plug_delay)
            info = await self.authorize_info(id_token) if authorize else (token_info or {"status": "Accepted"})
            refused = info.get("status") != "Accepted" or self._is_master_pass(info)  # C16.FR.03
            if refused or not self._may_use_reservation(evse, id_token, info):
                self.log.info("%s: ID token %s not accepted here", self.station_id, id_token["id_token"])
                await asyncio.sleep(self.config.plug_delay)
                await self.unplug(evse)
                return
            if not evse.operative:
                await self.unplug(evse)
                return
            tx = self.start_transaction(evse, id_token, trigger, remote_start_id=remote_start_id, token_info=info)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(duration):
                    await tx.ended.wait()
            if evse.tx is tx:
                self.stop_transaction(evse, "StopAuthorized", "Local", id_token)
            await asyncio.sleep(self.config.plug_delay)
            await self.unplug(evse)
        finally:
            if evse.session is asyncio.current_task():
                evse.session = None

    def start_session(self, evse: Evse, id_token: dict[str, Any], **kwargs: Any) -> None:
        """Run a session on the EVSE in the background."""
        evse.session = self.spawn_power(self._session(evse, id_token, **kwargs))

    async def _charge_scenario(self, evse: Evse) -> None:
        """Sessions one after the other: idle, plug in, authorize, charge a while, stop, unplug, repeat."""
        await asyncio.sleep(self.rng.uniform(0, self.config.idle_time))
        while True:
            if evse.free and self.operative and evse.reservation is None:
                token = self.rng.choice(self.tokens)
                duration = self.config.charge_time * self.rng.uniform(0.5, 1.5)
                self.start_session(evse, token, duration=duration)
                if evse.session is not None:
                    await asyncio.shield(evse.session)
                await asyncio.sleep(self.config.idle_time * self.rng.uniform(0.5, 1.5))
            else:
                await asyncio.sleep(max(self.config.plug_delay, 0.1))

    # ---- reboot ----------------------------------------------------------------------------------------------

    async def _reboot(self, reason: str) -> None:
        """End transactions, close the connection, boot again after `reboot_delay` (B11, B12)."""
        self.log.info("%s: rebooting (%s)", self.station_id, reason)
        for evse in self.evses.values():
            if evse.tx is not None:
                stop_reason = "ImmediateReset" if reason == "RemoteReset" else "Reboot"
                self.stop_transaction(evse, "ResetCommand", stop_reason)
        await self.drain_transaction_events(5.0)
        self.boot_reason = reason
        self.registration = None
        self._rebooting = True
        self._powered = False
        await self._cancel(self._power_tasks)
        for evse in self.evses.values():
            evse.car = None
            evse.session = None
            evse.reported_status = None
            evse.meter.advance(time.monotonic(), None, None, energy_allowed=False)
        connection = self._connection
        if connection is not None:
            await connection.close(1012, "Rebooting")

    # ---- CSMS-initiated: provisioning (B) ----------------------------------------------------------------------

    @on_action(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:  # noqa: A002 - the OCPP field name
        """Reset (B11, B12): Immediate now, OnIdle once transactions ended (Scheduled)."""
        self.stats.received["Reset"] += 1
        if evse_id is not None:
            evse = self.evses.get(evse_id)
            if evse is None:
                return call_result.Reset(status="Rejected", status_info={"reason_code": "UnknownEvse"})
            if evse.tx is not None:
                self.stop_transaction(evse, "ResetCommand", "ImmediateReset")
            return call_result.Reset(status="Accepted")
        busy = any(evse.tx for evse in self.evses.values())
        if type == "OnIdle" and busy:
            self.pending_reset = True
            return call_result.Reset(status="Scheduled")
        self.pending_reset = False
        self._reset_now = True
        return call_result.Reset(status="Accepted")

    _reset_now = False

    @after_action(Action.reset)
    def after_reset(self, **_: Any) -> None:
        """Reboot once the answer went out."""
        if self._reset_now:
            self._reset_now = False
            self.spawn_station(self._reboot("RemoteReset"))

    @on_action(Action.get_base_report)
    def on_get_base_report(self, request_id: int, report_base: str, **_: Any) -> Any:
        """GetBaseReport (B07): Accepted, then NotifyReport in parts."""
        self.stats.received["GetBaseReport"] += 1
        variables = self.device_model.base_report(report_base)
        if variables is None:
            return call_result.GetBaseReport(status="NotSupported")
        self._pending_report = (request_id, variables)
        return call_result.GetBaseReport(status="Accepted")

    @after_action(Action.get_base_report)
    def after_get_base_report(self, **_: Any) -> None:
        """Send the report."""
        self._send_pending_report()

    @on_action(Action.get_report)
    def on_get_report(
        self,
        request_id: int,
        component_criteria: list[str] | None = None,
        component_variable: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        """GetReport (B08): Accepted and NotifyReport, or EmptyResultSet."""
        self.stats.received["GetReport"] += 1
        limit = self.device_model.number("DeviceDataCtrlr", "ItemsPerMessage", 50, instance="GetReport")
        if component_variable and len(component_variable) > limit:
            raise OccurrenceConstraintViolationError(description=f"at most {limit:.0f} componentVariables")
        variables = self.device_model.report(component_criteria, component_variable)
        if not variables:
            self._pending_report = None
            return call_result.GetReport(status="EmptyResultSet")
        self._pending_report = (request_id, variables)
        return call_result.GetReport(status="Accepted")

    @after_action(Action.get_report)
    def after_get_report(self, **_: Any) -> None:
        """Send the report."""
        self._send_pending_report()

    _pending_report: tuple[int, list[Variable]] | None = None

    def _send_pending_report(self) -> None:
        pending, self._pending_report = self._pending_report, None
        if pending is not None:
            self.spawn_conn(self._notify_report(*pending))

    async def _notify_report(self, request_id: int, variables: list[Variable]) -> None:
        """NotifyReport parts: seqNo from 0, tbc on all but the last (B07.FR.10, B08.FR.14)."""
        max_bytes = int(self.device_model.number("DeviceDataCtrlr", "BytesPerMessage", 65000, instance="GetReport"))
        parts = self.device_model.report_parts(variables, self.config.report_part_size, max_bytes)
        generated_at = iso_now()
        for seq_no, part in enumerate(parts):
            # Asked for by the CSMS: sent even before the BootNotification answer is read (B02.FR.09).
            await self._call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at=generated_at,
                    seq_no=seq_no,
                    report_data=part,
                    tbc=seq_no < len(parts) - 1,
                )
            )

    @on_action(Action.get_variables)
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        """GetVariables (B06)."""
        self.stats.received["GetVariables"] += 1
        limit = self.device_model.number("DeviceDataCtrlr", "ItemsPerMessage", 25, instance="GetVariables")
        if len(get_variable_data) > limit:
            raise OccurrenceConstraintViolationError(description=f"at most {limit:.0f} items (B06.FR.16)")
        return call_result.GetVariables(
            get_variable_result=[self.device_model.get_variable(item) for item in get_variable_data]
        )

    @on_action(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        """SetVariables (B05): per variable Accepted, Rejected, RebootRequired, Unknown..."""
        self.stats.received["SetVariables"] += 1
        limit = self.device_model.number("DeviceDataCtrlr", "ItemsPerMessage", 25, instance="SetVariables")
        if len(set_variable_data) > limit:
            raise OccurrenceConstraintViolationError(description=f"at most {limit:.0f} items")
        results = []
        for item in set_variable_data:
            names = (item["component"]["name"], item["variable"]["name"])
            if names == ("OCPPCommCtrlr", "NetworkConfigurationPriority") and (
                problem := self._priority_refused(str(item["attribute_value"]))
            ):
                results.append(
                    {
                        "attribute_status": "Rejected",
                        "component": item["component"],
                        "variable": item["variable"],
                        "attribute_status_info": {"reason_code": "InvalidValue", "additional_info": problem},
                    }
                )
                continue
            results.append(self.device_model.set_variable(item))
        return call_result.SetVariables(set_variable_result=results)

    def _variable_set(self, variable: Variable, _old: str) -> None:
        """Side effects of a value the CSMS set."""
        key = (variable.component, variable.name)
        if key == ("SecurityCtrlr", "BasicAuthPassword"):
            self.password = variable.value  # used from the next connection on (A01)
            self.log.info("%s: BasicAuthPassword changed; used from the next connection on", self.station_id)
            self.spawn_conn(
                self.send(
                    call.SecurityEventNotification(
                        type="ReconfigurationOfSecurityParameters", timestamp=iso_now(), tech_info="BasicAuthPassword"
                    )
                )
            )
        elif key == ("OCPPCommCtrlr", "HeartbeatInterval"):
            self.heartbeat_interval = float(variable.value)
            if self.online.is_set():
                self._restart_heartbeat()
        elif key == ("SampledDataCtrlr", "TxUpdatedInterval"):
            self.meter_interval = float(variable.value)
        elif key == ("OCPPCommCtrlr", "MessageTimeout"):
            self._response_timeout = float(variable.value)
        elif key == ("OCPPCommCtrlr", "RetryBackOffWaitMinimum"):
            self.config.backoff_min = float(variable.value)
        elif key == ("OCPPCommCtrlr", "RetryBackOffRandomRange"):
            self.config.backoff_range = float(variable.value)
        elif key == ("OCPPCommCtrlr", "RetryBackOffRepeatTimes"):
            self.config.backoff_repeat = int(variable.value)
        elif (
            variable.component == "AlignedDataCtrlr"
            and variable.name in ("Interval", "Enabled")
            and self.online.is_set()
        ):
            self._restart_aligned()

    # ---- CSMS-initiated: monitoring (N) -----------------------------------------------------------------------

    def _monitor_events(self, events: list[dict[str, Any]]) -> None:
        """NotifyEvent for what monitors saw (N07)."""
        if self.online.is_set():
            self.spawn_conn(self.send(call.NotifyEvent(generated_at=iso_now(), seq_no=0, event_data=events)))

    @on_action(Action.set_variable_monitoring)
    def on_set_variable_monitoring(self, set_monitoring_data: list[dict[str, Any]], **_: Any) -> Any:
        """SetVariableMonitoring (N04)."""
        self.stats.received["SetVariableMonitoring"] += 1
        return call_result.SetVariableMonitoring(
            set_monitoring_result=[self.device_model.set_monitor(item) for item in set_monitoring_data]
        )

    @on_action(Action.clear_variable_monitoring)
    def on_clear_variable_monitoring(self, id: list[int], **_: Any) -> Any:  # noqa: A002
        """ClearVariableMonitoring (N06)."""
        self.stats.received["ClearVariableMonitoring"] += 1
        return call_result.ClearVariableMonitoring(
            clear_monitoring_result=[{"status": self.device_model.clear_monitor(i), "id": i} for i in id]
        )

    @on_action(Action.set_monitoring_base)
    def on_set_monitoring_base(self, monitoring_base: str, **_: Any) -> Any:
        """SetMonitoringBase (N03): FactoryDefault and HardWiredOnly drop the custom monitors."""
        self.stats.received["SetMonitoringBase"] += 1
        self.device_model.monitoring_base = monitoring_base
        if monitoring_base != "All":
            for variable in self.device_model:
                variable.monitors.clear()
        self.device_model.update(self.device_model.find("MonitoringCtrlr", "MonitoringBase"), monitoring_base)
        self.device_model.update(self.device_model.find("MonitoringCtrlr", "ActiveMonitoringBase"), monitoring_base)
        return call_result.SetMonitoringBase(status="Accepted")

    @on_action(Action.set_monitoring_level)
    def on_set_monitoring_level(self, severity: int, **_: Any) -> Any:
        """SetMonitoringLevel (N05)."""
        self.stats.received["SetMonitoringLevel"] += 1
        if not 0 <= severity <= 9:
            return call_result.SetMonitoringLevel(status="Rejected")
        self.device_model.monitoring_level = severity
        self.device_model.update(self.device_model.find("MonitoringCtrlr", "MonitoringLevel"), str(severity))
        self.device_model.update(self.device_model.find("MonitoringCtrlr", "ActiveMonitoringLevel"), str(severity))
        return call_result.SetMonitoringLevel(status="Accepted")

    @on_action(Action.get_monitoring_report)
    def on_get_monitoring_report(
        self,
        request_id: int,
        component_variable: list[dict[str, Any]] | None = None,
        monitoring_criteria: list[str] | None = None,
        **_: Any,
    ) -> Any:
        """GetMonitoringReport (N02): NotifyMonitoringReport, or EmptyResultSet."""
        self.stats.received["GetMonitoringReport"] += 1
        entries = self.device_model.monitoring_report(monitoring_criteria, component_variable)
        if not entries:
            return call_result.GetMonitoringReport(status="EmptyResultSet")
        self._pending_monitoring = (request_id, entries)
        return call_result.GetMonitoringReport(status="Accepted")

    _pending_monitoring: tuple[int, list[dict[str, Any]]] | None = None

    @after_action(Action.get_monitoring_report)
    def after_get_monitoring_report(self, **_: Any) -> None:
        """Send the monitoring report in parts."""
        pending, self._pending_monitoring = self._pending_monitoring, None
        if pending is not None:
            self.spawn_conn(self._notify_monitoring_report(*pending))

    async def _notify_monitoring_report(self, request_id: int, entries: list[dict[str, Any]]) -> None:
        size = self.config.report_part_size
        parts = [entries[i : i + size] for i in range(0, len(entries), size)]
        generated_at = iso_now()
        for seq_no, part in enumerate(parts):
            await self.send(
                call.NotifyMonitoringReport(
                    request_id=request_id,
                    seq_no=seq_no,
                    generated_at=generated_at,
                    monitor=part,
                    tbc=seq_no < len(parts) - 1,
                )
            )

    # ---- CSMS-initiated: smart charging (K) --------------------------------------------------------------------

    def _capabilities(self) -> Capabilities:
        dm = self.device_model
        return Capabilities(
            evse_ids=frozenset(self.evses),
            transactions={evse.id: evse.tx.id for evse in self.evses.values() if evse.tx is not None},
            rate_units=frozenset(dm.members("SmartChargingCtrlr", "RateUnit")),
            max_stack_level=int(dm.number("SmartChargingCtrlr", "ProfileStackLevel", 10)),
            max_periods=int(dm.number("SmartChargingCtrlr", "PeriodsPerSchedule", 24)),
            max_entries=int(
                (dm.find("SmartChargingCtrlr", "Entries", instance="ChargingProfiles") or Variable("", "")).max_limit
                or 20
            ),
            phase_switching=dm.flag("SmartChargingCtrlr", "ACPhaseSwitchingSupported"),
            enabled=dm.flag("SmartChargingCtrlr", "Enabled", default=True),
        )

    @on_action(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **_: Any) -> Any:
        """SetChargingProfile (K01): validate, store, apply at once."""
        self.stats.received["SetChargingProfile"] += 1
        verdict = self.profiles.install(evse_id, charging_profile, self._capabilities())
        if verdict.accepted:
            self.log.info(
                "%s: charging profile %s (%s) installed on EVSE %d",
                self.station_id,
                charging_profile.get("id"),
                charging_profile.get("charging_profile_purpose"),
                evse_id,
            )
            return call_result.SetChargingProfile(status="Accepted")
        self.log.info("%s: charging profile rejected: %s", self.station_id, verdict.info)
        return call_result.SetChargingProfile(
            status="Rejected",
            status_info={"reason_code": verdict.reason or "Rejected", "additional_info": (verdict.info or "")[:512]},
        )

    @on_action(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """ClearChargingProfile (K10)."""
        self.stats.received["ClearChargingProfile"] += 1
        criteria = charging_profile_criteria or {}
        status = self.profiles.clear(
            charging_profile_id,
            evse_id=criteria.get("evse_id"),
            purpose=criteria.get("charging_profile_purpose"),
            stack_level=criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    _pending_profiles: tuple[int, dict[int, list[dict[str, Any]]]] | None = None

    @on_action(Action.get_charging_profiles)
    def on_get_charging_profiles(
        self, request_id: int, charging_profile: dict[str, Any], evse_id: int | None = None, **_: Any
    ) -> Any:
        """GetChargingProfiles (K09): ReportChargingProfiles per EVSE, or NoProfiles."""
        self.stats.received["GetChargingProfiles"] += 1
        found = self.profiles.matching(evse_id, charging_profile)
        if not found:
            return call_result.GetChargingProfiles(status="NoProfiles")
        by_evse: dict[int, list[dict[str, Any]]] = {}
        for profile in found:
            by_evse.setdefault(profile.evse_id, []).append(profile.raw)
        self._pending_profiles = (request_id, by_evse)
        return call_result.GetChargingProfiles(status="Accepted")

    @after_action(Action.get_charging_profiles)
    def after_get_charging_profiles(self, **_: Any) -> None:
        """Send the profiles."""
        pending, self._pending_profiles = self._pending_profiles, None
        if pending is not None:
            self.spawn_conn(self._report_charging_profiles(*pending))

    async def _report_charging_profiles(self, request_id: int, by_evse: dict[int, list[dict[str, Any]]]) -> None:
        groups = sorted(by_evse.items())
        for index, (evse_id, profiles) in enumerate(groups):
            await self.send(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    charging_profile=profiles,
                    evse_id=evse_id,
                    tbc=index < len(groups) - 1,  # K09.FR.02
                )
            )

    @on_action(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        """GetCompositeSchedule (K08): this station's own composite of the profiles in force."""
        self.stats.received["GetCompositeSchedule"] += 1
        units = self.device_model.members("SmartChargingCtrlr", "RateUnit")
        if evse_id != 0 and evse_id not in self.evses:
            return call_result.GetCompositeSchedule(status="Rejected", status_info={"reason_code": "UnknownEvse"})
        if charging_rate_unit is not None and charging_rate_unit not in units:
            return call_result.GetCompositeSchedule(
                status="Rejected", status_info={"reason_code": "UnsupportedRateUnit"}
            )
        unit = charging_rate_unit or "W"
        start = datetime.now(UTC).replace(microsecond=0)
        evses = {
            evse.id: (
                evse.tx.id if evse.tx else None,
                evse.tx.started_at if evse.tx else None,
                Limit(evse.meter.max_current, evse.meter.phases),
            )
            for evse in self.evses.values()
        }
        periods = self.profiles.composite(evse_id, start, duration, unit, evses=evses)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": iso(start),
                "charging_rate_unit": unit,
                "charging_schedule_period": periods,
            },
        )

    # ---- CSMS-initiated: transactions and availability (F, G, E) -------------------------------------------------

    @on_action(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """RequestStartTransaction (F01): start a session on the EVSE (plugging a car in if none is)."""
        self.stats.received["RequestStartTransaction"] += 1
        if evse_id is not None:
            evse = self.evses.get(evse_id)
        else:
            evse = next((e for e in self.evses.values() if e.free), None) or next(
                (e for e in self.evses.values() if e.tx is None and e.session is None and e.operative), None
            )
        if evse is None:
            return call_result.RequestStartTransaction(status="Rejected", status_info={"reason_code": "NoFreeEvse"})
        if evse.tx is not None:
            return call_result.RequestStartTransaction(status="Rejected", transaction_id=evse.tx.id)
        if evse.session is not None or not (evse.operative and self.operative):
            return call_result.RequestStartTransaction(status="Rejected", status_info={"reason_code": "Occupied"})
        if evse.reservation is not None and evse.reservation.id_token.get("id_token") != id_token.get("id_token"):
            return call_result.RequestStartTransaction(status="Rejected", status_info={"reason_code": "Reserved"})
        if charging_profile is not None and charging_profile.get("charging_profile_purpose") != TX:
            return call_result.RequestStartTransaction(status="Rejected", status_info={"reason_code": "InvalidProfile"})
        self._pending_start = (evse, id_token, remote_start_id, charging_profile)
        return call_result.RequestStartTransaction(status="Accepted")

    _pending_start: tuple[Evse, dict[str, Any], int, dict[str, Any] | None] | None = None

    @after_action(Action.request_start_transaction)
    def after_request_start_transaction(self, **_: Any) -> None:
        """Start the session."""
        pending, self._pending_start = self._pending_start, None
        if pending is None:
            return
        evse, id_token, remote_start_id, profile = pending
        duration = self.config.charge_time * self.rng.uniform(0.5, 1.5) if self.config.scenario == "charge" else None
        authorize = self.device_model.flag("AuthCtrlr", "AuthorizeRemoteStart")
        self.start_session(
            evse,
            id_token,
            trigger="RemoteStart",
            remote_start_id=remote_start_id,
            authorize=authorize,
            duration=duration,
        )
        if profile is not None:
            self.spawn_power(self._install_remote_profile(evse, profile))

    async def _install_remote_profile(self, evse: Evse, profile: dict[str, Any]) -> None:
        """F01.FR.08: the TxProfile of a RequestStartTransaction applies to the transaction it starts."""
        while evse.tx is None:
            if evse.session is None:
                return
            await asyncio.sleep(0.05)
        verdict = self.profiles.install(evse.id, {**profile, "transaction_id": evse.tx.id}, self._capabilities())
        if not verdict.accepted:
            self.log.info("%s: the remote start's charging profile was rejected: %s", self.station_id, verdict.info)

    @on_action(Action.request_stop_transaction)
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        """RequestStopTransaction (F03)."""
        self.stats.received["RequestStopTransaction"] += 1
        if not any(evse.tx and evse.tx.id == transaction_id for evse in self.evses.values()):
            return call_result.RequestStopTransaction(status="Rejected")
        return call_result.RequestStopTransaction(status="Accepted")

    @after_action(Action.request_stop_transaction)
    def after_request_stop_transaction(self, transaction_id: str, **_: Any) -> None:
        """Stop it once the answer went out."""
        for evse in self.evses.values():
            if evse.tx is not None and evse.tx.id == transaction_id:
                self.stop_transaction(evse, "RemoteStop", "Remote")

    @on_action(Action.get_transaction_status)
    def on_get_transaction_status(self, transaction_id: str | None = None, **_: Any) -> Any:
        """GetTransactionStatus (E14)."""
        self.stats.received["GetTransactionStatus"] += 1
        queued = [item for item in self._tx_queue if transaction_id is None or _tx_id(item) == transaction_id]
        if transaction_id is None:
            return call_result.GetTransactionStatus(messages_in_queue=bool(queued))
        ongoing = any(evse.tx and evse.tx.id == transaction_id for evse in self.evses.values())
        return call_result.GetTransactionStatus(messages_in_queue=bool(queued), ongoing_indicator=ongoing)

    @on_action(Action.change_availability)
    def on_change_availability(self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any) -> Any:
        """ChangeAvailability (G03-G05): Scheduled while a transaction runs on an EVSE going inoperative."""
        self.stats.received["ChangeAvailability"] += 1
        operative = operational_status == "Operative"
        if evse is None or evse.get("id", 0) == 0:
            targets = list(self.evses.values())
            self.operative = operative
        else:
            found = self.evses.get(int(evse["id"]))
            if found is None or evse.get("connector_id", 1) != found.connector_id:
                return call_result.ChangeAvailability(status="Rejected", status_info={"reason_code": "UnknownEvse"})
            targets = [found]
        scheduled = False
        for target in targets:
            if not operative and target.tx is not None:
                target.pending_operative = False
                scheduled = True
            else:
                target.operative = operative
                target.pending_operative = None
        return call_result.ChangeAvailability(status="Scheduled" if scheduled else "Accepted")

    @after_action(Action.change_availability)
    def after_change_availability(self, **_: Any) -> None:
        """Report the connectors whose status changed."""
        self.spawn_conn(self._report_statuses())

    @on_action(Action.unlock_connector)
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        """UnlockConnector (F05)."""
        self.stats.received["UnlockConnector"] += 1
        evse = self.evses.get(evse_id)
        if evse is None or connector_id != evse.connector_id:
            return call_result.UnlockConnector(status="UnknownConnector")
        if evse.tx is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")  # F05.FR.02
        self.device_model.update(
            self.device_model.find("ConnectorPlugRetentionLock", "Active", evse_id=evse_id, connector_id=1), "false"
        )
        return call_result.UnlockConnector(status="Unlocked")

    @on_action(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any) -> Any:
        """TriggerMessage (F06): Accepted for what the station can send, answered before it is sent (F06.FR.04)."""
        self.stats.received["TriggerMessage"] += 1
        evse_id = evse.get("id") if evse else None
        if evse_id not in (None, 0) and evse_id not in self.evses:
            return call_result.TriggerMessage(status="Rejected", status_info={"reason_code": "UnknownEvse"})
        match requested_message:
            case "BootNotification":
                if self.registration == "Accepted":
                    return call_result.TriggerMessage(status="Rejected")  # F06.FR.17
            case "TransactionEvent":
                if not any(e.tx for e in self._evses_for(evse_id)):
                    return call_result.TriggerMessage(status="Rejected", status_info={"reason_code": "NoTransaction"})
            case "Heartbeat" | "StatusNotification" | "MeterValues" | "FirmwareStatusNotification":
                pass
            case "LogStatusNotification" | "SignChargingStationCertificate" | "SignV2GCertificate":
                pass
            case _:  # SignV2GCertificate, SignCombinedCertificate (no ISO 15118), PublishFirmwareStatusNotification
                return call_result.TriggerMessage(status="NotImplemented")  # F06.FR.08
        return call_result.TriggerMessage(status="Accepted")

    @after_action(Action.trigger_message)
    def after_trigger_message(self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any) -> None:
        """Send what was asked for."""
        evse_id = evse.get("id") if evse else None
        if evse_id not in (None, 0) and evse_id not in self.evses:
            return
        if requested_message == "BootNotification":
            # While a boot is on its way (e.g. right after connecting), that one answers the trigger (F06.FR.10).
            if self.registration != "Accepted" and self._boot_waiting:
                self.boot_reason = "Triggered"
                self._boot_now.set()
            return
        self.spawn_conn(self._triggered(requested_message, evse_id))

    def _evses_for(self, evse_id: int | None) -> list[Evse]:
        return list(self.evses.values()) if evse_id in (None, 0) else [self.evses[evse_id]]

    async def _triggered(self, requested_message: str, evse_id: int | None) -> None:
        targets = self._evses_for(evse_id)
        match requested_message:
            case "Heartbeat":
                await self.send(call.Heartbeat())
            case "StatusNotification":
                for target in targets:
                    target.reported_status = None
                await self._report_statuses(targets)
            case "MeterValues":
                measurands = self.device_model.members("AlignedDataCtrlr", "Measurands")
                for target in targets:
                    self._advance(target)
                    sample = target.meter.sample(measurands, "Trigger", target.car)
                    await self.send(call.MeterValues(evse_id=target.id, meter_value=[sample]))
            case "TransactionEvent":
                for target in targets:
                    if target.tx is not None:
                        self._advance(target)
                        self._queue_updated(target, "Trigger")
            case "FirmwareStatusNotification":
                await self._firmware_status(self.firmware_status if self.firmware_status != "Installed" else "Idle")
            case "LogStatusNotification":
                await self.send(call.LogStatusNotification(status=self.log_status))
            case "SignChargingStationCertificate":
                await self.send(call.SignCertificate(csr=self._csr(), certificate_type="ChargingStationCertificate"))
            case "SignV2GCertificate":
                await self.send(
                    call.SignCertificate(csr=self._csr("V2GCertificate"), certificate_type="V2GCertificate")
                )

    # ---- CSMS-initiated: authorization, reservation (C, D, H) --------------------------------------------------

    @on_action(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        """ClearCache (C11)."""
        self.stats.received["ClearCache"] += 1
        enabled = self.device_model.flag("AuthCacheCtrlr", "Enabled", default=True)
        if enabled:
            self.auth_cache.clear()  # C11.FR.03
        return call_result.ClearCache(status="Accepted" if enabled else "Rejected")  # C11.FR.04

    @on_action(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        """GetLocalListVersion (D02): 0 when the list is disabled (D02.FR.03) or never sent (D02.FR.02)."""
        self.stats.received["GetLocalListVersion"] += 1
        enabled = self.device_model.flag("LocalAuthListCtrlr", "Enabled")
        return call_result.GetLocalListVersion(version_number=self.local_list_version if enabled else 0)

    @on_action(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        """SendLocalList (D01): Full replaces, Differential updates (newer versions only).

        Failed when the list is disabled, when the request carries more than ItemsPerMessage entries (D01.FR.11) or
        when the list would exceed its maximum (LocalAuthListCtrlr.Entries maxLimit); the list stays as it was.
        """
        self.stats.received["SendLocalList"] += 1
        entries = local_authorization_list or []
        dm = self.device_model
        if not dm.flag("LocalAuthListCtrlr", "Enabled"):
            return call_result.SendLocalList(status="Failed", status_info={"reason_code": "Disabled"})
        if len(entries) > dm.number("LocalAuthListCtrlr", "ItemsPerMessage", 100):
            return call_result.SendLocalList(status="Failed", status_info={"reason_code": "TooManyItems"})
        if update_type == "Differential" and version_number <= self.local_list_version:
            return call_result.SendLocalList(status="VersionMismatch")  # D01.FR.19
        updated = {} if update_type == "Full" else dict(self.local_list)
        for entry in entries:
            key = _card_key(entry["id_token"])
            if entry.get("id_token_info") is None:
                updated.pop(key, None)  # D01.FR.17
            else:
                updated[key] = entry  # D01.FR.16
        limit = dm.find("LocalAuthListCtrlr", "Entries")
        if limit is not None and limit.max_limit is not None and len(updated) > limit.max_limit:
            return call_result.SendLocalList(status="Failed", status_info={"reason_code": "ListFull"})
        self.local_list = updated
        self.local_list_version = version_number
        self.device_model.update(self.device_model.find("LocalAuthListCtrlr", "Entries"), str(len(self.local_list)))
        return call_result.SendLocalList(status="Accepted")

    @on_action(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,  # noqa: A002
        expiry_date_time: str,
        id_token: dict[str, Any],
        *,
        evse_id: int | None = None,
        group_id_token: dict[str, Any] | None = None,
        connector_type: str | None = None,
        **_: Any,
    ) -> Any:
        """ReserveNow (H01). A reservation of no particular EVSE holds one free EVSE (of the connector type)."""
        self.stats.received["ReserveNow"] += 1
        dm = self.device_model
        if not dm.flag("ReservationCtrlr", "Enabled", default=True):
            return call_result.ReserveNow(status="Rejected")  # H01.FR.01
        if evse_id is None and not dm.flag("ReservationCtrlr", "NonEvseSpecific"):
            return call_result.ReserveNow(status="Rejected")  # H01.FR.19
        if connector_type is not None and connector_type != dm.value(
            "Connector", "ConnectorType", evse_id=1, connector_id=1
        ):
            return call_result.ReserveNow(status="Rejected", status_info={"reason_code": "UnknownConnectorType"})
        for reserved in self.evses.values():  # H01.FR.02: a known id replaces the reservation
            if reserved.reservation is not None and reserved.reservation.id == id:
                self._end_reservation(reserved)
        if evse_id is not None:
            evse = self.evses.get(evse_id)
            if evse is None:
                return call_result.ReserveNow(status="Rejected", status_info={"reason_code": "UnknownEvse"})
        else:
            evse = next((e for e in self.evses.values() if e.free and e.reservation is None), None)
            if evse is None:
                return call_result.ReserveNow(status="Occupied")
        if not (evse.operative and self.operative):
            return call_result.ReserveNow(status="Unavailable")
        if not evse.free or evse.reservation is not None:
            return call_result.ReserveNow(status="Occupied")
        expiry = parse_time(expiry_date_time) or datetime.now(UTC)
        evse.reservation = Reservation(id, evse.id, expiry, id_token, group_id_token)
        evse.reservation.task = self.spawn_station(self._expire_reservation(evse, evse.reservation))
        return call_result.ReserveNow(status="Accepted")

    @after_action(Action.reserve_now)
    def after_reserve_now(self, **_: Any) -> None:
        """Report the reserved connector."""
        self.spawn_conn(self._report_statuses())

    async def _expire_reservation(self, evse: Evse, reservation: Reservation) -> None:
        await asyncio.sleep(max(0.0, (reservation.expiry - datetime.now(UTC)).total_seconds()))
        if evse.reservation is reservation:
            evse.reservation = None
            await self._report_statuses([evse])  # H04.FR.03
            await self.send(
                call.ReservationStatusUpdate(reservation_id=reservation.id, reservation_update_status="Expired")
            )  # H04.FR.01

    def _end_reservation(self, evse: Evse) -> None:
        reservation, evse.reservation = evse.reservation, None
        if reservation is not None and reservation.task is not None and reservation.task is not asyncio.current_task():
            reservation.task.cancel()

    @on_action(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        """CancelReservation (H02)."""
        self.stats.received["CancelReservation"] += 1
        for evse in self.evses.values():
            if evse.reservation is not None and evse.reservation.id == reservation_id:
                self._end_reservation(evse)
                self.spawn_conn(self._report_statuses([evse]))
                return call_result.CancelReservation(status="Accepted")
        return call_result.CancelReservation(status="Rejected")

    # ---- CSMS-initiated: security (A, M) -----------------------------------------------------------------------

    def _csr(self, use: str = "ChargingStationCertificate") -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        self._csr_keys[use] = key  # kept for the certificate CertificateSigned brings (A02.FR.05)
        organization = self.device_model.value("SecurityCtrlr", "OrganizationName", "OCPP CSMS Simulator")
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, self.serial_number),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            ]
        )
        request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        return request.public_bytes(serialization.Encoding.PEM).decode()

    @on_action(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, certificate_type: str | None = None, **_: Any) -> Any:
        """CertificateSigned (A02): Accepted when the chain parses and holds the key of the last CSR."""
        self.stats.received["CertificateSigned"] += 1
        parsed = _certificate_hash_data(certificate_chain)
        if parsed is None:
            return call_result.CertificateSigned(status="Rejected", status_info={"reason_code": "InvalidCertificate"})
        use = certificate_type or "ChargingStationCertificate"
        key = self._csr_keys.get(use)
        leaf = x509.load_pem_x509_certificates(certificate_chain.encode())[0]
        if key is None or leaf.public_key() != key.public_key():
            return call_result.CertificateSigned(status="Rejected", status_info={"reason_code": "InvalidCertificate"})
        del self._csr_keys[use]
        self.identities[use] = (
            certificate_chain,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        self.certificates[parsed["serial_number"]] = (
            certificate_type or "ChargingStationCertificate",
            certificate_chain,
        )
        return call_result.CertificateSigned(status="Accepted")

    @on_action(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        """InstallCertificate (M05)."""
        self.stats.received["InstallCertificate"] += 1
        parsed = _certificate_hash_data(certificate)
        if parsed is None:
            return call_result.InstallCertificate(status="Rejected", status_info={"reason_code": "InvalidCertificate"})
        self.certificates[parsed["serial_number"]] = (certificate_type, certificate)
        self.device_model.update(
            self.device_model.find("SecurityCtrlr", "CertificateEntries"), str(len(self.certificates))
        )
        return call_result.InstallCertificate(status="Accepted")

    @on_action(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: list[str] | None = None, **_: Any) -> Any:
        """GetInstalledCertificateIds (M03)."""
        self.stats.received["GetInstalledCertificateIds"] += 1
        chain = []
        for kind, pem in self.certificates.values():
            if certificate_type and kind not in certificate_type:
                continue
            hash_data = _certificate_hash_data(pem)
            if hash_data is not None and kind != "ChargingStationCertificate":
                chain.append({"certificate_type": kind, "certificate_hash_data": hash_data})
        if not chain:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chain)

    @on_action(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> Any:
        """DeleteCertificate (M04)."""
        self.stats.received["DeleteCertificate"] += 1
        serial = str(certificate_hash_data.get("serial_number", "")).lower().lstrip("0")
        for known in list(self.certificates):
            if known.lower().lstrip("0") == serial:
                del self.certificates[known]
                return call_result.DeleteCertificate(status="Accepted")
        return call_result.DeleteCertificate(status="NotFound")

    # ---- CSMS-initiated: firmware, diagnostics, display, misc (L, N, O, P, B09) -----------------------------------

    async def _firmware_status(self, status: str, request_id: int | None = None) -> None:
        """FirmwareStatusNotification (L01.FR.01); requestId on all but Idle (L01.FR.20)."""
        self.firmware_status = status
        if status != "Idle" and request_id is None:
            request_id = self._firmware_request_id
        await self.send(call.FirmwareStatusNotification(status=status, request_id=request_id))

    async def _security_event(self, event: str, tech_info: str | None = None) -> None:
        await self.send(call.SecurityEventNotification(type=event, timestamp=iso_now(), tech_info=tech_info))

    _firmware_request_id: int | None = None
    _pending_firmware: tuple[int, dict[str, Any], int, float] | None = None
    _firmware_task: asyncio.Task[Any] | None = None

    @on_action(Action.update_firmware)
    def on_update_firmware(
        self,
        request_id: int,
        firmware: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> Any:
        """UpdateFirmware (L01, L02): a signing certificate that is no certificate is refused (L01.FR.21-22)."""
        self.stats.received["UpdateFirmware"] += 1
        self.firmware_requests.append({"request_id": request_id, **firmware})
        if firmware.get("signing_certificate") and load_certificate(firmware["signing_certificate"]) is None:
            self.spawn_conn(self._security_event("InvalidFirmwareSigningCertificate"))  # L01.FR.02
            return call_result.UpdateFirmware(status="InvalidCertificate")
        busy = self._firmware_task is not None and not self._firmware_task.done()
        self._pending_firmware = (request_id, firmware, retries or 0, float(retry_interval or 0))
        return call_result.UpdateFirmware(status="AcceptedCanceled" if busy else "Accepted")  # L01.FR.24

    @after_action(Action.update_firmware)
    def after_update_firmware(self, **_: Any) -> None:
        """Start the update (cancelling one in progress)."""
        pending, self._pending_firmware = self._pending_firmware, None
        if pending is not None:
            if self._firmware_task is not None:
                self._firmware_task.cancel()
            self._firmware_task = self.spawn_station(self._update_firmware(*pending))

    async def _update_firmware(self, request_id: int, firmware: dict[str, Any], retries: int, interval: float) -> None:
        """Download (with retries), verify the signature, install, reboot; Installed comes from the new firmware."""
        self._firmware_request_id = request_id
        retrieve_at = parse_time(firmware.get("retrieve_date_time"))
        if retrieve_at is not None and (wait := (retrieve_at - datetime.now(UTC)).total_seconds()) > 0:
            await self._firmware_status("DownloadScheduled", request_id)  # L01.FR.13
            await asyncio.sleep(wait)
        content: bytes | None = None
        for attempt in range(retries + 1):
            await self._firmware_status("Downloading", request_id)
            try:
                content = await download(firmware["location"])
                break
            except TransferError as err:
                self.log.info("%s: firmware download failed (%s)", self.station_id, err)
                if attempt < retries:
                    await asyncio.sleep(interval)
        if content is None:
            await self._firmware_status("DownloadFailed", request_id)  # L01.FR.30
            return
        self.firmware_downloads.append(content)
        await asyncio.sleep(self.config.step_delay)
        await self._firmware_status("Downloaded", request_id)
        certificate = load_certificate(firmware.get("signing_certificate"))
        if certificate is not None or firmware.get("signature"):
            if not signature_valid(content, certificate, firmware.get("signature")):
                await self._firmware_status("InvalidSignature", request_id)
                await self._security_event("InvalidFirmwareSignature")  # L01.FR.03
                return
            await self._firmware_status("SignatureVerified", request_id)
        install_at = parse_time(firmware.get("install_date_time"))
        if install_at is not None and (wait := (install_at - datetime.now(UTC)).total_seconds()) > 0:
            await self._firmware_status("InstallScheduled", request_id)  # L01.FR.16
            await asyncio.sleep(wait)
        while any(evse.tx for evse in self.evses.values()):  # L01.FR.06
            await asyncio.sleep(max(self.config.step_delay, 0.05))
        await asyncio.sleep(self.config.step_delay)
        await self._firmware_status("Installing", request_id)
        await asyncio.sleep(self.config.step_delay)
        self.firmware_version = firmware_version(content, self.firmware_version)
        self.device_model.update(self.device_model.find("Controller", "FirmwareVersion"), self.firmware_version)
        await self._firmware_status("InstallRebooting", request_id)  # L01.FR.15, then Installed (L01.FR.32 a)
        await self._reboot("FirmwareUpdate")

    def _firmware_installed(self) -> None:
        """After the reboot into the new firmware: Installed (L01.FR.32) and the security event (L01.FR.31)."""
        self.spawn_conn(self._firmware_status("Installed", self._firmware_request_id))
        self.spawn_conn(self._security_event("FirmwareUpdated", f"firmware {self.firmware_version}"))

    @on_action(Action.publish_firmware)
    def on_publish_firmware(self, **_: Any) -> Any:
        """PublishFirmware (L03): only a local controller publishes firmware."""
        self.stats.received["PublishFirmware"] += 1
        return call_result.PublishFirmware(status="Rejected", status_info={"reason_code": "NotLocalController"})

    @on_action(Action.unpublish_firmware)
    def on_unpublish_firmware(self, **_: Any) -> Any:
        """UnpublishFirmware (L04)."""
        self.stats.received["UnpublishFirmware"] += 1
        return call_result.UnpublishFirmware(status="NoFirmware")

    _pending_log: dict[str, Any] | None = None
    _log_task: asyncio.Task[Any] | None = None
    _log_request_id: int | None = None

    @on_action(Action.get_log)
    def on_get_log(
        self,
        log_type: str,
        request_id: int,
        log: dict[str, Any],
        retries: int | None = None,
        retry_interval: int | None = None,
        **_: Any,
    ) -> Any:
        """GetLog (N01): Accepted with the file name, AcceptedCanceled when an upload was on its way (N01.FR.12)."""
        self.stats.received["GetLog"] += 1
        self.log_requests.append({"request_id": request_id, "log_type": log_type, **log})
        filename = f"{self.station_id}-{log_type}-{datetime.now(UTC):%Y%m%dT%H%M%S}.log"
        busy = self._log_task is not None and not self._log_task.done()
        self._pending_log = {
            "request_id": request_id,
            "log_type": log_type,
            "log": log,
            "filename": filename,
            "retries": retries or 0,
            "interval": float(retry_interval or 0),
        }
        return call_result.GetLog(status="AcceptedCanceled" if busy else "Accepted", filename=filename)

    @after_action(Action.get_log)
    def after_get_log(self, **_: Any) -> None:
        """Upload the log (cancelling an upload on its way, N01.FR.20)."""
        pending, self._pending_log = self._pending_log, None
        if pending is None:
            return
        if self._log_task is not None and not self._log_task.done():
            self._log_task.cancel()
            self.spawn_conn(
                self.send(call.LogStatusNotification(status="AcceptedCanceled", request_id=self._log_request_id))
            )
        self._log_task = self.spawn_conn(self._upload_log(**pending))

    def log_lines(self) -> list[LogLine]:
        """The station's log: what it sent, with the outcomes; security events are the security log."""
        now_wall, now_mono = datetime.now(UTC), time.monotonic()
        return [
            LogLine(
                at=now_wall - timedelta(seconds=now_mono - message.at),
                text=f"{message.action} {message.outcome}" + (f" {message.error_code}" if message.error_code else ""),
                security=message.action == "SecurityEventNotification",
            )
            for message in self.sent
        ]

    async def _upload_log(
        self, request_id: int, log_type: str, *, log: dict[str, Any], filename: str, retries: int, interval: float
    ) -> None:
        """Uploading, the upload (with retries), Uploaded or the failure (N01.FR.08-10)."""
        self._log_request_id = request_id
        content = log_content(
            self.log_lines(),
            security=log_type == "SecurityLog",
            oldest=parse_time(log.get("oldest_timestamp")),
            latest=parse_time(log.get("latest_timestamp")),
            min_bytes=self.config.log_min_bytes,
        )
        status = "UploadFailure"
        for attempt in range(retries + 1):
            self.log_status = "Uploading"
            await self.send(call.LogStatusNotification(status="Uploading", request_id=request_id))
            try:
                await upload(log["remote_location"], content, filename, self.config.log_upload_method)
            except TransferError as err:
                self.log.info("%s: log upload failed (%s)", self.station_id, err)
                status = err.status
                if status == "UploadFailure" and attempt < retries:
                    await asyncio.sleep(interval)
                    continue
                break
            status = "Uploaded"
            self.uploaded_logs.append(content)
            break
        self.log_status = status
        await self.send(call.LogStatusNotification(status=status, request_id=request_id))
        self.log_status = "Idle"

    _pending_customer: tuple[int, str | None, bool, bool] | None = None

    @on_action(Action.customer_information)
    def on_customer_information(
        self,
        request_id: int,
        report: bool,
        clear: bool,
        *,
        id_token: dict[str, Any] | None = None,
        customer_identifier: str | None = None,
        customer_certificate: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        """CustomerInformation (N09, N10): what the station keeps per ID token (its transactions)."""
        self.stats.received["CustomerInformation"] += 1
        references = [item for item in (id_token, customer_identifier, customer_certificate) if item]
        if len(references) != 1:
            return call_result.CustomerInformation(status="Invalid")  # N09.FR.09
        if not report and not clear:
            return call_result.CustomerInformation(status="Rejected")  # N09.FR.07
        customer = id_token["id_token"] if id_token else customer_identifier
        self._pending_customer = (request_id, customer, report, clear)
        return call_result.CustomerInformation(status="Accepted")

    @after_action(Action.customer_information)
    def after_customer_information(self, **_: Any) -> None:
        """Report (in parts of at most 512 characters) and/or clear."""
        pending, self._pending_customer = self._pending_customer, None
        if pending is not None:
            self.spawn_conn(self._customer_information(*pending))

    async def _customer_information(self, request_id: int, customer: str | None, report: bool, clear: bool) -> None:
        held = self.customer_data.get(customer or "", [])
        if clear:
            self.customer_data.pop(customer or "", None)
        if report and held:
            text = "\n".join(held)
        elif held:
            text = "Customer data cleared"  # N10.FR.06
        else:
            text = "No customer data stored"  # N09.FR.06, N10.FR.04
        parts = [text[index : index + 512] for index in range(0, len(text), 512)]
        generated_at = iso_now()
        for seq_no, part in enumerate(parts):
            await self.send(
                call.NotifyCustomerInformation(
                    data=part,
                    seq_no=seq_no,
                    generated_at=generated_at,
                    request_id=request_id,
                    tbc=seq_no < len(parts) - 1,
                )
            )

    def _display_count_changed(self) -> None:
        count = self.device_model.find("DisplayMessageCtrlr", "DisplayMessages")
        if count is not None:
            count.value = str(len(self.display_messages))

    @on_action(Action.set_display_message)
    def on_set_display_message(self, message: dict[str, Any], **_: Any) -> Any:
        """SetDisplayMessage (O01, O02, O04: the same id replaces; O01.FR.11: at most DisplayMessages.maxLimit)."""
        self.stats.received["SetDisplayMessage"] += 1
        if not self.config.display:
            raise OcppNotImplementedError(details={"cause": "This station has no display"})
        content = message.get("message", {})
        if content.get("format") not in self.device_model.members("DisplayMessageCtrlr", "SupportedFormats"):
            return call_result.SetDisplayMessage(status="NotSupportedMessageFormat")
        if message.get("priority") not in self.device_model.members("DisplayMessageCtrlr", "SupportedPriorities"):
            return call_result.SetDisplayMessage(status="NotSupportedPriority")
        if message.get("state") not in (None, "Charging", "Idle"):
            return call_result.SetDisplayMessage(status="NotSupportedState")
        if message.get("transaction_id") is not None and not any(
            e.tx and e.tx.id == message["transaction_id"] for e in self.evses.values()
        ):
            return call_result.SetDisplayMessage(status="UnknownTransaction")
        capacity = self.device_model.find("DisplayMessageCtrlr", "DisplayMessages")
        limit = int(capacity.max_limit) if capacity is not None and capacity.max_limit else 10
        if int(message["id"]) not in self.display_messages and len(self.display_messages) >= limit:
            return call_result.SetDisplayMessage(status="Rejected")
        self.display_messages[int(message["id"])] = message
        self._display_count_changed()
        return call_result.SetDisplayMessage(status="Accepted")

    @on_action(Action.get_display_messages)
    def on_get_display_messages(
        self,
        request_id: int,
        id: list[int] | None = None,  # noqa: A002
        priority: str | None = None,
        state: str | None = None,
        **_: Any,
    ) -> Any:
        """GetDisplayMessages (O03, O04): Accepted and NotifyDisplayMessages, or Unknown (O03.FR.06)."""
        self.stats.received["GetDisplayMessages"] += 1
        if not self.config.display:
            raise OcppNotImplementedError(details={"cause": "This station has no display"})
        found = [
            m
            for m in self.display_messages.values()
            if (not id or int(m["id"]) in id)
            and (priority is None or m.get("priority") == priority)
            and (state is None or m.get("state") == state)
        ]
        if not found:
            return call_result.GetDisplayMessages(status="Unknown")
        self._pending_display = (request_id, found)
        return call_result.GetDisplayMessages(status="Accepted")

    _pending_display: tuple[int, list[dict[str, Any]]] | None = None

    @after_action(Action.get_display_messages)
    def after_get_display_messages(self, **_: Any) -> None:
        """Send the messages, in parts of `display_part_size` (O03.FR.03-05: tbc on all but the last)."""
        pending, self._pending_display = self._pending_display, None
        if pending is not None:
            self.spawn_conn(self._notify_display_messages(*pending))

    async def _notify_display_messages(self, request_id: int, messages: list[dict[str, Any]]) -> None:
        size = max(self.config.display_part_size, 1)
        parts = [messages[index : index + size] for index in range(0, len(messages), size)]
        for number, part in enumerate(parts):
            await self.send(
                call.NotifyDisplayMessages(request_id=request_id, message_info=part, tbc=number < len(parts) - 1)
            )

    @on_action(Action.clear_display_message)
    def on_clear_display_message(self, id: int, **_: Any) -> Any:  # noqa: A002
        """ClearDisplayMessage (O05)."""
        self.stats.received["ClearDisplayMessage"] += 1
        if not self.config.display:
            raise OcppNotImplementedError(details={"cause": "This station has no display"})
        if self.display_messages.pop(id, None) is None:
            return call_result.ClearDisplayMessage(status="Unknown")
        self._display_count_changed()
        return call_result.ClearDisplayMessage(status="Accepted")

    @on_action(Action.cost_updated)
    def on_cost_updated(self, total_cost: float, transaction_id: str, **_: Any) -> Any:
        """CostUpdated (I04)."""
        self.stats.received["CostUpdated"] += 1
        return call_result.CostUpdated()

    @on_action(Action.set_network_profile)
    def on_set_network_profile(self, configuration_slot: int, connection_data: dict[str, Any], **_: Any) -> Any:
        """SetNetworkProfile (B09): stored in a slot NetworkConfigurationPriority knows."""
        self.stats.received["SetNetworkProfile"] += 1
        slots = (
            self.device_model.find("OCPPCommCtrlr", "NetworkConfigurationPriority") or Variable("", "")
        ).values_list
        if str(configuration_slot) not in (slots or "").split(","):
            return call_result.SetNetworkProfile(status="Rejected", status_info={"reason_code": "InvalidSlot"})
        self.network_profiles[configuration_slot] = connection_data
        return call_result.SetNetworkProfile(status="Accepted")

    @on_action(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any) -> Any:
        """DataTransfer (P01): the vendor "sim" echoes; every other vendor is unknown."""
        self.stats.received["DataTransfer"] += 1
        if vendor_id != "sim":
            return call_result.DataTransfer(status="UnknownVendorId")
        if message_id not in (None, "echo"):
            return call_result.DataTransfer(status="UnknownMessageId")
        return call_result.DataTransfer(status="Accepted", data=data)


def _tx_id(item: _TxEvent) -> str | None:
    info = item.kwargs.get("transaction_info") or {}
    return info.get("transaction_id")


def _certificate_hash_data(pem: str) -> dict[str, Any] | None:
    """CertificateHashDataType of the first certificate in a PEM chain (None: not a certificate)."""
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None
    issuer_key = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if certificate.issuer != certificate.subject:
        try:
            issuer_key = (
                certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier or b""
            )
        except x509.ExtensionNotFound:
            issuer_key = certificate.issuer.public_bytes()
    return {
        "hash_algorithm": "SHA256",
        "issuer_name_hash": hashlib.sha256(certificate.issuer.public_bytes()).hexdigest(),
        "issuer_key_hash": hashlib.sha256(issuer_key).hexdigest(),
        "serial_number": format(certificate.serial_number, "x")[:40],
    }


def _certificate_cn(config: StationConfig) -> str | None:
    """With security profile 3 the serial number must be the client certificate's common name (B01.FR.12)."""
    if config.security_profile != 3 or config.cert_file is None:
        return None
    try:
        certificate = x509.load_pem_x509_certificate(Path(config.cert_file).read_bytes())
    except OSError, ValueError:
        return None
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else None


__all__ = ["SCENARIOS", "SentMessage", "SimStation", "StationConfig", "Stats"]


def _card_key(id_token: dict[str, Any]) -> str:
    """An ID token's identity in the local list and the cache: IdToken is case insensitive."""
    return str(id_token.get("id_token", "")).casefold()


def _same(first: str | None, second: str | None) -> bool:
    """Two tokens or group ids are the same: both set, equal ignoring case."""
    return bool(first) and bool(second) and str(first).casefold() == str(second).casefold()
