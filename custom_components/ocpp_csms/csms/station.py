"""What the central system knows of one station while Home Assistant runs: connection, registration, EVSEs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import logging
from typing import Final, Protocol

from ..protocol.model import OcppModel
from ..protocol.session import RpcSession
from ..protocol.v201.enums import ConnectorStatus, MessageTrigger
from ..protocol.v201.messages import (
    BootNotificationRequest,
    FirmwareStatusNotificationRequest,
    HeartbeatRequest,
    LogStatusNotificationRequest,
    MeterValuesRequest,
    PublishFirmwareStatusNotificationRequest,
    SignCertificateRequest,
    StatusNotificationRequest,
    TransactionEventRequest,
)
from .registry import SecurityProfile

_LOGGER = logging.getLogger(__name__)


class StationConnection(Protocol):
    """The transport a station is connected over (a websocket, or a test double of one)."""

    async def send(self, message: bytes) -> None:
        """Send one OCPP-J message as a text frame."""

    async def close(self, code: int, reason: str) -> None:
        """Close the connection."""


class Registration(StrEnum):
    """Where the station stands with the central system (BootNotification status, B01-B03)."""

    NEW = "new"  # connected, never booted, not trusted: only BootNotification is served
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


#: The message a TriggerMessage makes the station send (F06).
TRIGGERED_REQUEST: Final[dict[MessageTrigger, type[OcppModel]]] = {
    MessageTrigger.BOOT_NOTIFICATION: BootNotificationRequest,
    MessageTrigger.LOG_STATUS_NOTIFICATION: LogStatusNotificationRequest,
    MessageTrigger.FIRMWARE_STATUS_NOTIFICATION: FirmwareStatusNotificationRequest,
    MessageTrigger.HEARTBEAT: HeartbeatRequest,
    MessageTrigger.METER_VALUES: MeterValuesRequest,
    MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE: SignCertificateRequest,
    MessageTrigger.SIGN_V2G_CERTIFICATE: SignCertificateRequest,
    MessageTrigger.SIGN_COMBINED_CERTIFICATE: SignCertificateRequest,
    MessageTrigger.STATUS_NOTIFICATION: StatusNotificationRequest,
    MessageTrigger.TRANSACTION_EVENT: TransactionEventRequest,
    MessageTrigger.PUBLISH_FIRMWARE_STATUS_NOTIFICATION: PublishFirmwareStatusNotificationRequest,
}


@dataclass(slots=True)
class AwaitedMessages:
    """Messages a station may send before it is accepted because we asked for them (B02.FR.09, B03.FR.07).

    A triggered message is allowed once; a report (NotifyReport parts) is allowed until it is complete.
    """

    _once: set[type[OcppModel]] = field(default_factory=set)
    _until_done: set[type[OcppModel]] = field(default_factory=set)

    def expect(self, request: type[OcppModel], *, until_done: bool = False) -> None:
        """Allow `request` before acceptance: once, or (`until_done`) until `done(request)`."""
        (self._until_done if until_done else self._once).add(request)

    def expect_trigger(self, trigger: MessageTrigger) -> None:
        """Allow the message a TriggerMessage asks for, once."""
        self.expect(TRIGGERED_REQUEST[trigger])

    def done(self, request: type[OcppModel]) -> None:
        """No more of `request` is awaited."""
        self._once.discard(request)
        self._until_done.discard(request)

    def take(self, request: type[OcppModel]) -> bool:
        """Whether `request` is awaited; a one-time expectation is used up."""
        if request in self._until_done:
            return True
        if request in self._once:
            self._once.discard(request)
            return True
        return False


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What the station said of itself in its last BootNotification."""

    vendor: str
    model: str
    serial_number: str | None
    firmware_version: str | None
    reason: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """How the current connection authenticated: its profile, the password hash it presented, the cert CN."""

    profile: SecurityProfile
    password_hash: str | None = None
    certificate_cn: str | None = None
    remote_address: str | None = None
    #: The end of validity of the TLS client certificate presented (profile 3): renewal is due before it (A03).
    certificate_not_after: datetime | None = None


@dataclass(slots=True)
class Station:
    """One station: the RPC session survives reconnections; the transport underneath is swapped."""

    station_id: str
    session: RpcSession = field(init=False)
    connection: StationConnection | None = None
    credentials: Credentials | None = None
    #: Changed only by the central system's `_register` (B01-B03).
    registration: Registration = Registration.NEW
    boot: BootInfo | None = None
    connector_status: dict[tuple[int, int], ConnectorStatus] = field(default_factory=dict)
    awaited: AwaitedMessages = field(default_factory=AwaitedMessages)
    #: When Home Assistant last had the station reset (B11, B12): the reboot it reports then is expected.
    reboot_requested: datetime | None = None
    #: The availability last set with ChangeAvailability, per EVSE (0: the station), until it reports otherwise.
    operative: dict[int, bool] = field(default_factory=dict)
    connected_since: datetime | None = None
    last_seen: datetime | None = None
    #: Set once the station may be sent CALLs on its current connection (see CentralSystem.wait_ready).
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def bind(self, session_factory: Callable[[Callable[[bytes], Awaitable[None]]], RpcSession]) -> None:
        """Create the station's session, sending over whatever connection is current."""
        self.session = session_factory(self._send)

    @property
    def connected(self) -> bool:
        """Whether a connection is up."""
        return self.connection is not None

    async def _send(self, message: bytes) -> None:
        connection = self.connection
        if connection is None:
            raise ConnectionError(f"{self.station_id} is not connected")
        await connection.send(message)
