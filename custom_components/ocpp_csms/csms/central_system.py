"""The central system: registers stations (B01-B03), answers them, and tells its owner what happened.

It knows nothing of websockets nor of Home Assistant: the listener attaches connections to it, and the owner (the
Home Assistant glue, or a test) subscribes `StationListener`s, told everything on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
import logging
from typing import Any, Final

from ..protocol.errors import OcppError, RpcErrorCode
from ..protocol.model import OcppModel
from ..protocol.session import DEFAULT_CALL_TIMEOUT, Handler, RpcSession, after_answer
from ..protocol.v201.datatypes import Component, SetVariableData, StatusInfo, Variable
from ..protocol.v201.enums import MessageTrigger, RegistrationStatus, SetVariableStatus, TriggerMessageStatus
from ..protocol.v201.messages import (
    BootNotificationRequest,
    BootNotificationResponse,
    HeartbeatRequest,
    HeartbeatResponse,
    SecurityEventNotificationRequest,
    SetVariablesRequest,
    SetVariablesResponse,
    StatusNotificationRequest,
    StatusNotificationResponse,
    TriggerMessageRequest,
    TriggerMessageResponse,
)
from .notifications import ACKNOWLEDGED, notification_handler
from .passwords import generate_password, hash_password
from .registry import SecurityProfile, StationRecord, StationRegistry, UnknownStationPolicy
from .station import BootInfo, Credentials, Registration, Station, StationConnection

_LOGGER = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_INTERVAL: Final = 300
#: How long a Pending or Rejected station waits before it sends BootNotification again (B02.FR.02, B03.FR.02).
RETRY_INTERVAL: Final = 60
#: WebSocket close code for a policy violation (RFC 6455 §7.4.1), used when B01.FR.12 closes the connection.
CLOSE_POLICY_VIOLATION: Final = 1008


class StationListener:
    """What an owner of the central system is told; override what you need (the rest does nothing).

    Every callback runs on the event loop and must not block. Listeners are told in the order they subscribed.
    """

    def station_connected(self, station: Station) -> None:
        """A connection came up (the first, or one that replaced another)."""

    def station_disconnected(self, station: Station) -> None:
        """The station's connection went down (not called when a new connection replaces it)."""

    def station_booted(self, station: Station) -> None:
        """A BootNotification was accepted: `station.boot` is current."""

    def approval_requested(self, station: Station) -> None:
        """An unknown station booted and waits for the user's approval (answered Pending)."""

    def connector_status_changed(self, station: Station, evse_id: int, connector_id: int) -> None:
        """A StatusNotification arrived (the first one of an EVSE introduces that EVSE)."""


@dataclass(slots=True)
class CentralSystemConfig:
    """Settings the user chooses (options flow)."""

    heartbeat_interval: int = DEFAULT_HEARTBEAT_INTERVAL
    unknown_station_policy: UnknownStationPolicy = UnknownStationPolicy.APPROVE
    call_timeout: float = DEFAULT_CALL_TIMEOUT


#: What the central system answers itself (besides the acknowledgements of `notifications`).
_SERVED: Final[frozenset[type[OcppModel]]] = frozenset(
    {BootNotificationRequest, HeartbeatRequest, StatusNotificationRequest, SecurityEventNotificationRequest}
)

#: What a BootNotification's status makes of the station's registration.
_REGISTRATION: Final = {
    RegistrationStatus.ACCEPTED: Registration.ACCEPTED,
    RegistrationStatus.PENDING: Registration.PENDING,
    RegistrationStatus.REJECTED: Registration.REJECTED,
}


type StationHandler[Req: OcppModel, Resp: OcppModel] = Callable[[Station, Req], Awaitable[Resp]]
"""Serves one action for any station: the station and the typed request in, the typed response out."""


class PasswordRotationError(Exception):
    """The station did not accept its new password; `status` says what it answered."""

    def __init__(self, station_id: str, status: str) -> None:
        """Keep the station's answer."""
        super().__init__(f"{station_id} answered {status} to its new BasicAuthPassword")
        self.station_id = station_id
        self.status = status


class CentralSystem:
    """Every station the central system has seen since it started, and what to answer them."""

    def __init__(
        self,
        registry: StationRegistry,
        config: CentralSystemConfig | None = None,
        *,
        is_blocked: Callable[[str], bool] = lambda _station_id: False,
    ) -> None:
        """Serve the stations in `registry`; `is_blocked` names stations the user chose to ignore (rejected)."""
        self.registry = registry
        self.config = config or CentralSystemConfig()
        self.is_blocked = is_blocked
        self.stations: dict[str, Station] = {}
        self._listeners: tuple[StationListener, ...] = ()
        self._background: set[asyncio.Task[None]] = set()
        self._extra_handlers: dict[type[OcppModel], StationHandler[Any, Any]] = {}
        #: The CALLs the central system serves itself, for every station: `_handler_for` binds the station to one
        #: when it arrives (no handler kept per station).
        self._own_handlers: dict[type[OcppModel], StationHandler[Any, Any]] = {
            BootNotificationRequest: self._boot_notification,
            HeartbeatRequest: self._heartbeat,
            StatusNotificationRequest: self._status_notification,
        }

    def serves(self, request: type[OcppModel]) -> bool:
        """Whether a request of this kind gets a real answer (not a refusal of a feature that is not offered)."""
        return request in _SERVED or request in ACKNOWLEDGED or request in self._extra_handlers

    def subscribe(self, listener: StationListener) -> Callable[[], None]:
        """Tell `listener` what happens to stations from now on; the returned callable unsubscribes it."""
        self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            self._listeners = tuple(known for known in self._listeners if known is not listener)

        return unsubscribe

    def handle[Req: OcppModel, Resp: OcppModel](self, request: type[Req], handler: StationHandler[Req, Resp]) -> None:
        """Serve `request` CALLs of every station (present and future) with `handler(station, request)`."""
        self._extra_handlers[request] = handler

    def _handler_for(self, station: Station, request: type[OcppModel]) -> Handler[Any, Any] | None:
        """The handler of a CALL (the session has none registered): made when it arrives, nothing kept per station."""
        if (own := self._own_handlers.get(request)) is not None:
            return partial(own, station)
        if (handler := self._extra_handlers.get(request)) is not None:
            return partial(handler, station)
        return notification_handler(station, request)

    # ---- connections -------------------------------------------------------------------------------------

    def station(self, station_id: str) -> Station:
        """The station object for an id, created (with its session and handlers) on first use."""
        station = self.stations.get(station_id)
        if station is None:
            station = Station(station_id)
            record = self.registry.get(station_id)
            station.bind(
                lambda send: RpcSession(
                    send,
                    station_id=station_id,
                    call_timeout=self.config.call_timeout,
                    lenient=record.lenient if record else False,
                    guard=partial(self._guard, station),
                    fallback=partial(self._handler_for, station),
                )
            )
            self.stations[station_id] = station
        return station

    async def attach(self, station_id: str, connection: StationConnection, credentials: Credentials) -> Station:
        """A connection of `station_id` is up; a previous one of the same station is closed (it is replaced)."""
        station = self.station(station_id)
        previous = station.connection
        station.connection = connection
        station.credentials = credentials
        now = datetime.now(UTC)
        station.connected_since = station.last_seen = now
        # A station we trust was accepted before: a reconnect is no reboot, it need not boot again (B01).
        # A station we do not trust (yet) must boot on every connection.
        if station_id not in self.registry:
            self._register(station, Registration.NEW)
        elif station.registration is not Registration.REJECTED:
            self._register(station, Registration.ACCEPTED)
        if previous is not None:
            _LOGGER.info("%s: a new connection replaces the previous one", station_id)
            # A CALL outstanding on the old connection will not be answered on the new one.
            station.session.connection_lost()
            self._spawn(previous.close(1000, "Replaced by a new connection"))
        station.ready = asyncio.Event()  # this connection's: set once the station has booted or spoken on it
        for listener in self._listeners:
            listener.station_connected(station)
        return station

    async def wait_ready(self, station: Station) -> bool:
        """Wait until the station may be sent CALLs on its current connection; False when it left meanwhile.

        A station that boots (after a reboot) must first get its BootNotification answered: until then it may
        drop what it is sent. One that reconnects without rebooting is ready as soon as it says anything (a
        status, a heartbeat). One that says nothing for a heartbeat interval is taken as ready then.
        """
        ready = station.ready
        connection = station.connection
        if connection is None:
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.config.heartbeat_interval):
                await ready.wait()
        return station.connection is connection

    def detach(self, station: Station, connection: StationConnection) -> None:
        """A connection went down; nothing happens when it was already replaced by a newer one."""
        if station.connection is not connection:
            return
        station.connection = None
        station.connected_since = None
        station.session.connection_lost()
        for listener in self._listeners:
            listener.station_disconnected(station)

    # ---- what the user decides ---------------------------------------------------------------------------

    async def approve(self, station_id: str) -> StationRecord:
        """Trust a station that waits for approval, with the credentials it connected with, and accept it now.

        The station is stored with the profile and password it presented, then asked to boot again
        (TriggerMessage BootNotification) so that it is Accepted at once rather than at its next retry.
        """
        record = self._trust(self.station(station_id))
        if self.stations[station_id].connected:
            self._spawn(self.trigger(station_id, MessageTrigger.BOOT_NOTIFICATION))
        return record

    async def forget(self, station_id: str) -> None:
        """Stop trusting a station and drop its connection."""
        self.registry.remove(station_id)
        station = self.stations.pop(station_id, None)
        if station is None:
            return
        connection, station.connection = station.connection, None
        await station.session.close()
        if connection is not None:
            await connection.close(1000, "Station removed")

    async def trigger(self, station_id: str, message: MessageTrigger) -> TriggerMessageStatus | None:
        """Ask the station to send a message (F06); the answer it will send is allowed before acceptance."""
        station = self.station(station_id)
        station.awaited.expect_trigger(message)
        outcome = await station.session.call_outcome(
            TriggerMessageRequest(requested_message=message), TriggerMessageResponse
        )
        if isinstance(outcome, TriggerMessageResponse):
            return outcome.status
        _LOGGER.info("%s: TriggerMessage(%s) failed: %s", station_id, message, outcome)
        return None

    async def rotate_password(self, station_id: str) -> None:
        """Give the station a new random BasicAuthPassword (A01); store its hash only once the station accepts.

        Raises PasswordRotationError when the station refuses, and the session's CallFailed subclasses when it
        does not answer.
        """
        station = self.station(station_id)
        password = generate_password()
        response = await station.session.call(
            SetVariablesRequest(
                set_variable_data=[
                    SetVariableData(
                        attribute_value=password,
                        component=Component(name="SecurityCtrlr"),
                        variable=Variable(name="BasicAuthPassword"),
                    )
                ]
            ),
            SetVariablesResponse,
        )
        status = response.set_variable_result[0].attribute_status
        if status is not SetVariableStatus.ACCEPTED:
            raise PasswordRotationError(station_id, status.value)
        password_hash = await asyncio.get_running_loop().run_in_executor(None, hash_password, password)
        record = self.registry.get(station_id)
        profile = max(record.security_profile, SecurityProfile.BASIC_AUTH) if record else SecurityProfile.BASIC_AUTH
        self.registry.put(
            StationRecord(
                station_id=station_id,
                security_profile=SecurityProfile(profile),
                password_hash=password_hash,
                lenient=record.lenient if record else False,
            )
        )
        _LOGGER.info("%s: BasicAuthPassword rotated", station_id)

    async def close(self) -> None:
        """Close every session and connection, and wait for background work to end."""
        for task in list(self._background):
            task.cancel()
        stations = list(self.stations.values())
        await asyncio.gather(*(station.session.close() for station in stations), return_exceptions=True)
        connections = [station.connection for station in stations if station.connection is not None]
        for station in stations:
            station.connection = None
        await asyncio.gather(
            *(connection.close(1001, "Central system stopping") for connection in connections), return_exceptions=True
        )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    # ---- serving the station -----------------------------------------------------------------------------

    async def _heartbeat(self, _station: Station, _request: HeartbeatRequest) -> HeartbeatResponse:
        return HeartbeatResponse(current_time=datetime.now(UTC))

    async def _status_notification(
        self, station: Station, request: StatusNotificationRequest
    ) -> StatusNotificationResponse:
        station.connector_status[request.evse_id, request.connector_id] = request.connector_status
        station.operative.pop(request.evse_id, None)  # the station's own report wins from now on
        for listener in self._listeners:
            listener.connector_status_changed(station, request.evse_id, request.connector_id)
        return StatusNotificationResponse()

    def _guard(self, station: Station, action: str, request: OcppModel) -> None:
        """Before acceptance, only BootNotification and what we asked for are served (B01.FR.10, B02.FR.09)."""
        station.last_seen = datetime.now(UTC)
        if isinstance(request, BootNotificationRequest):
            return
        if station.registration is Registration.ACCEPTED:
            station.ready.set()  # an accepted station that speaks (without booting) takes our CALLs
            return
        if station.awaited.take(type(request)):
            return
        raise OcppError(
            RpcErrorCode.SECURITY_ERROR, f"{action} refused: the station is {station.registration.value}, not accepted"
        )

    async def _boot_notification(self, station: Station, request: BootNotificationRequest) -> BootNotificationResponse:
        station.awaited.done(BootNotificationRequest)
        charging_station = request.charging_station
        station.boot = BootInfo(
            vendor=charging_station.vendor_name,
            model=charging_station.model,
            serial_number=charging_station.serial_number,
            firmware_version=charging_station.firmware_version,
            reason=request.reason.value,
            received_at=datetime.now(UTC),
        )
        status = self._decide_registration(station)
        credentials = station.credentials
        if (
            status is RegistrationStatus.ACCEPTED
            and credentials is not None
            and credentials.profile is SecurityProfile.TLS_CLIENT_CERTIFICATE
            and charging_station.serial_number != credentials.certificate_cn
        ):
            # B01.FR.11-12: with profile 3 the serial number must be the certificate's common name.
            _LOGGER.warning(
                "%s: BootNotification serial number %r is not the certificate's common name %r; closing",
                station.station_id,
                charging_station.serial_number,
                credentials.certificate_cn,
            )
            status = RegistrationStatus.REJECTED
            self._register(station, Registration.REJECTED)
            if (connection := station.connection) is not None:
                await connection.close(CLOSE_POLICY_VIOLATION, "Serial number does not match certificate")
        if status is RegistrationStatus.ACCEPTED and station.station_id not in self.registry:
            self._trust(station)  # trust on first use (UnknownStationPolicy.ACCEPT)
        self._register(station, _REGISTRATION[status])
        _LOGGER.info(
            "%s: BootNotification (%s %s, %s) answered %s",
            station.station_id,
            charging_station.vendor_name,
            charging_station.model,
            request.reason,
            status,
        )
        after_answer(lambda: self._tell_boot(station, status))  # what follows reaches the station after its answer
        accepted = status is RegistrationStatus.ACCEPTED
        return BootNotificationResponse(
            current_time=datetime.now(UTC),
            interval=self.config.heartbeat_interval if accepted else RETRY_INTERVAL,
            status=status,
            status_info=None if accepted else StatusInfo(reason_code=status.value),
        )

    def _tell_boot(self, station: Station, status: RegistrationStatus) -> None:
        if status is RegistrationStatus.ACCEPTED:
            station.ready.set()
        for listener in self._listeners:
            if status is RegistrationStatus.ACCEPTED:
                listener.station_booted(station)
            elif status is RegistrationStatus.PENDING:
                listener.approval_requested(station)

    def _decide_registration(self, station: Station) -> RegistrationStatus:
        """What to answer a BootNotification: trusted stations are accepted, unknown ones as the policy says."""
        station_id = station.station_id
        if station_id in self.registry:
            return RegistrationStatus.ACCEPTED
        if self.is_blocked(station_id):
            return RegistrationStatus.REJECTED
        return {
            UnknownStationPolicy.REJECT: RegistrationStatus.REJECTED,
            UnknownStationPolicy.ACCEPT: RegistrationStatus.ACCEPTED,
            UnknownStationPolicy.APPROVE: RegistrationStatus.PENDING,
        }[self.config.unknown_station_policy]

    @staticmethod
    def _register(station: Station, registration: Registration) -> None:
        """The one place a station's registration changes."""
        if station.registration is not registration:
            _LOGGER.debug("%s: registration %s -> %s", station.station_id, station.registration, registration)
            station.registration = registration

    def _trust(self, station: Station) -> StationRecord:
        """Store a station with the credentials of its current connection (trust on first use or approval)."""
        credentials = station.credentials or Credentials(SecurityProfile.NONE)
        record = StationRecord(
            station_id=station.station_id,
            security_profile=credentials.profile,
            password_hash=credentials.password_hash,
        )
        self.registry.put(record)
        return record

    def _spawn(self, work: Awaitable[object]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                _LOGGER.exception("Background work failed")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)
