"""Reservations Home Assistant made at stations (H01-H04): ids, what is reserved for whom, until when.

A reservation is made with ReserveNow (H01) and ends in one of four ways: a transaction uses it (its
TransactionEvent carries the reservationId, H01.FR.15, H03.FR.09), it expires (ReservationStatusUpdate Expired,
H04.FR.01, or its expiry passing while the station is away), the station removes it (ReservationStatusUpdate
Removed, H01.FR.16-17), or Home Assistant cancels it (CancelReservation, H02). Reservation ids are unique across
the central system and never reused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ..protocol.v201.enums import Connector, IdTokenEnum

#: The largest reservation id (OCPP integers are 32-bit).
MAX_RESERVATION_ID: Final = 2**31 - 1


class ReservationEnd(StrEnum):
    """How a reservation ended."""

    USED = "used"
    EXPIRED = "expired"
    REMOVED = "removed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Reservation:
    """A reservation the station accepted."""

    id: int
    station_id: str
    #: The reserved EVSE; None: any EVSE of the station (of `connector_type`, when given).
    evse_id: int | None
    connector_type: Connector | None
    id_token: str
    token_type: IdTokenEnum
    group_id: str | None
    expires_at: datetime

    def attributes(self) -> dict[str, Any]:
        """What an entity shows of it."""
        return {
            "reservation_id": self.id,
            "evse_id": self.evse_id,
            "connector_type": self.connector_type.value if self.connector_type else None,
            "id_token": self.id_token,
            "token_type": self.token_type.value,
            "group_id": self.group_id,
            "expires": self.expires_at.isoformat(),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.attributes(), "station_id": self.station_id}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reservation:
        """The inverse of `to_dict()`."""
        return cls(
            id=int(data["reservation_id"]),
            station_id=data["station_id"],
            evse_id=data.get("evse_id"),
            connector_type=Connector(data["connector_type"]) if data.get("connector_type") else None,
            id_token=data["id_token"],
            token_type=IdTokenEnum(data["token_type"]),
            group_id=data.get("group_id"),
            expires_at=datetime.fromisoformat(data["expires"]),
        )


class ReservationBook:
    """The reservations in force, by id and by station; the next id to give."""

    def __init__(self, reservations: Mapping[int, Reservation] | None = None, next_id: int = 1) -> None:
        """A book holding `reservations`."""
        self.next_id = next_id
        self._by_id: dict[int, Reservation] = {}
        self._by_station: dict[str, dict[int, Reservation]] = {}
        for reservation in (reservations or {}).values():
            self.add(reservation)

    def __iter__(self) -> Iterator[Reservation]:
        """Every reservation in force."""
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        """How many reservations are in force."""
        return len(self._by_id)

    def new_id(self) -> int:
        """An id no reservation had before (wrapping around after 2^31 - 1)."""
        reservation_id = self.next_id
        while reservation_id in self._by_id:
            reservation_id = reservation_id % MAX_RESERVATION_ID + 1
        self.next_id = reservation_id % MAX_RESERVATION_ID + 1
        return reservation_id

    def get(self, reservation_id: int) -> Reservation | None:
        """A reservation in force by id."""
        return self._by_id.get(reservation_id)

    def add(self, reservation: Reservation) -> None:
        """A reservation the station accepted (replacing one of the same id, H01.FR.02)."""
        self.end(reservation.id)
        self._by_id[reservation.id] = reservation
        self._by_station.setdefault(reservation.station_id, {})[reservation.id] = reservation

    def end(self, reservation_id: int) -> Reservation | None:
        """The reservation is over; it, if it was in force."""
        reservation = self._by_id.pop(reservation_id, None)
        if reservation is not None:
            at_station = self._by_station[reservation.station_id]
            del at_station[reservation_id]
            if not at_station:
                del self._by_station[reservation.station_id]
        return reservation

    def at(self, station_id: str, evse_id: int | None = None) -> list[Reservation]:
        """The station's reservations of the EVSE (None: those of no particular EVSE), soonest ending first."""
        found = [r for r in self._by_station.get(station_id, {}).values() if r.evse_id == evse_id]
        return sorted(found, key=lambda reservation: (reservation.expires_at, reservation.id))

    def of_station(self, station_id: str) -> list[Reservation]:
        """Every reservation at the station."""
        return list(self._by_station.get(station_id, {}).values())

    def expired(self, now: datetime) -> list[Reservation]:
        """The reservations whose expiry has passed."""
        return [reservation for reservation in self._by_id.values() if reservation.expires_at <= now]

    def next_expiry(self) -> datetime | None:
        """When the next reservation expires."""
        return min((reservation.expires_at for reservation in self._by_id.values()), default=None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"next_id": self.next_id, "reservations": [r.to_dict() for r in self._by_id.values()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReservationBook:
        """The inverse of `to_dict()`."""
        reservations = [Reservation.from_dict(item) for item in data.get("reservations", ())]
        return cls({r.id: r for r in reservations}, next_id=int(data.get("next_id", 1)))
