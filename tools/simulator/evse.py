"""What the station knows of each EVSE: the car plugged in, the transaction, the reservation, availability."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .meter import Car, Meter


@dataclass(eq=False)
class Transaction:
    """A running transaction (E01-E07): TransactionEvent messages carry its id and a rising seqNo."""

    id: str
    evse_id: int
    started_at: datetime
    id_token: dict[str, Any] | None
    remote_start_id: int | None = None
    reservation_id: int | None = None
    seq_no: int = 0
    charging_state: str = "EVConnected"
    meter_start_wh: float = 0.0
    #: E05.FR.03: the CSMS did not accept the ID token; energy is delivered up to this much (None: no cap).
    energy_cap_wh: float | None = None
    #: The group of the token that started it (IdTokenInfo.groupIdToken): its members may stop it (C09.FR.03).
    group_id_token: dict[str, Any] | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    meter_task: asyncio.Task[None] | None = None

    def next_seq(self) -> int:
        """The seqNo of the next TransactionEvent of this transaction."""
        seq_no = self.seq_no
        self.seq_no += 1
        return seq_no


@dataclass(eq=False)
class Reservation:
    """A reservation (H01) of an EVSE for an ID token until it expires."""

    id: int
    evse_id: int
    expiry: datetime
    id_token: dict[str, Any]
    group_id_token: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = None


@dataclass(eq=False)
class Evse:
    """One EVSE with one connector (type 2 socket)."""

    id: int
    meter: Meter
    connector_id: int = 1
    car: Car | None = None
    operative: bool = True
    #: ChangeAvailability answered Scheduled: the availability to take once the transaction ends (G03.FR.05).
    pending_operative: bool | None = None
    tx: Transaction | None = None
    reservation: Reservation | None = None
    #: The charging session (plug in ... unplug) running on this EVSE, if any.
    session: asyncio.Task[None] | None = None
    reported_status: str | None = None

    @property
    def plugged(self) -> bool:
        """Whether a car is connected."""
        return self.car is not None

    @property
    def free(self) -> bool:
        """Whether a new session can start here."""
        return self.operative and self.tx is None and self.car is None and self.session is None

    def connector_status(self, station_operative: bool) -> str:
        """ConnectorStatusEnumType of the connector now."""
        if not (self.operative and station_operative) and self.tx is None:
            return "Unavailable"
        if self.car is not None or self.tx is not None:
            return "Occupied"
        if self.reservation is not None:
            return "Reserved"
        return "Available"
