"""The stations the user trusts, with what they authenticate with, as plain data the glue persists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from enum import IntEnum, StrEnum
from typing import Any


class SecurityProfile(IntEnum):
    """How a station authenticates (Part 2 A00). NONE: no credentials at all (not an OCPP profile)."""

    NONE = 0
    BASIC_AUTH = 1
    TLS_BASIC_AUTH = 2
    TLS_CLIENT_CERTIFICATE = 3


class UnknownStationPolicy(StrEnum):
    """What the central system does with a station it does not know yet."""

    APPROVE = "approve"  # BootNotification answered Pending until the user approves it (default)
    ACCEPT = "accept"  # trust on first use: the station is stored and accepted at once
    REJECT = "reject"  # BootNotification answered Rejected


@dataclass(frozen=True, slots=True)
class StationRecord:
    """A trusted station: the profile it must connect with (never lower) and its password hash, if any."""

    station_id: str
    security_profile: SecurityProfile
    password_hash: str | None = None
    lenient: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for storage."""
        data = asdict(self)
        data["security_profile"] = int(self.security_profile)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StationRecord:
        """Read the storage form back."""
        return cls(
            station_id=str(data["station_id"]),
            security_profile=SecurityProfile(int(data["security_profile"])),
            password_hash=data.get("password_hash"),
            lenient=bool(data.get("lenient", False)),
        )


class StationRegistry:
    """Trusted stations by id; calls `on_change` after every change so the owner can persist it."""

    def __init__(self, records: list[StationRecord] | None = None) -> None:
        """Start with the records loaded from storage."""
        self._records = {record.station_id: record for record in records or ()}
        self.on_change: Callable[[], None] | None = None

    def get(self, station_id: str) -> StationRecord | None:
        """The record of a trusted station, or None."""
        return self._records.get(station_id)

    def __contains__(self, station_id: object) -> bool:
        """Whether the station is trusted."""
        return station_id in self._records

    def __iter__(self) -> Iterator[StationRecord]:
        """Every record."""
        return iter(list(self._records.values()))

    def put(self, record: StationRecord) -> None:
        """Trust a station, or update what it authenticates with."""
        self._records[record.station_id] = record
        self._changed()

    def remove(self, station_id: str) -> StationRecord | None:
        """Forget a station."""
        record = self._records.pop(station_id, None)
        if record is not None:
            self._changed()
        return record

    def as_list(self) -> list[dict[str, Any]]:
        """Every record in storage form."""
        return [record.as_dict() for record in self._records.values()]

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()
