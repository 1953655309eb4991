"""What the central system knows of one station while Home Assistant runs: connection, registration, EVSEs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
import logging
from typing import Protocol

from ..protocol.session import RpcSession
from ..protocol.v201.enums import ConnectorStatus
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


@dataclass(slots=True)
class Station:
    """One station: the RPC session survives reconnections; the transport underneath is swapped."""

    station_id: str
    session: RpcSession = field(init=False)
    connection: StationConnection | None = None
    credentials: Credentials | None = None
    registration: Registration = Registration.NEW
    boot: BootInfo | None = None
    connector_status: dict[tuple[int, int], ConnectorStatus] = field(default_factory=dict)
    #: Actions the station may send before it is accepted, because we asked for them (B02.FR.09, B03.FR.07).
    triggered: set[str] = field(default_factory=set)
    #: The availability last set with ChangeAvailability, per EVSE (0: the station), until it reports otherwise.
    operative: dict[int, bool] = field(default_factory=dict)
    connected_since: datetime | None = None
    last_seen: datetime | None = None

    def bind(self, session_factory: Callable[[Callable[[bytes], Awaitable[None]]], RpcSession]) -> None:
        """Create the station's session, sending over whatever connection is current."""
        self.session = session_factory(self._send)

    @property
    def connected(self) -> bool:
        """Whether a connection is up."""
        return self.connection is not None

    @property
    def evse_ids(self) -> set[int]:
        """The EVSEs the station has reported (EVSE 0, the station itself, excluded)."""
        return {evse_id for evse_id, _ in self.connector_status if evse_id > 0}

    async def _send(self, message: bytes) -> None:
        connection = self.connection
        if connection is None:
            raise ConnectionError(f"{self.station_id} is not connected")
        await connection.send(message)
