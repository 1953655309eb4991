"""A station's local authorization list (D01, D02): what Home Assistant sent it, and what to send next.

Home Assistant keeps, per station, the version the station holds and the entries it sent (as the station holds
them). From the user's token list it computes the entries the station should hold; the difference goes out as
Differential updates (D01.FR.16-17), or everything as a Full list when the versions disagree or a Differential
was refused (D01.FR.03). Requests respect the station's ItemsPerMessage and BytesPerMessage (D01.FR.11): a Full
list that needs several requests starts with a Full one and continues with Differential ones, each with the next
version. A list longer than the station's maximum (LocalAuthListCtrlr.Entries maxLimit, D01.FR.12) is refused as
a whole, never truncated.

A token listed for any type goes to the stations as an ISO14443 card (the local list needs a type). Entries carry
the token's status at the time of the update: a token that expires is sent again as Expired then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from ..protocol.batching import batches
from ..protocol.v201.datatypes import AuthorizationData, IdToken
from ..protocol.v201.enums import IdTokenEnum, Update
from ..protocol.v201.messages import SendLocalListRequest
from .device_model import DeviceModel
from .id_tokens import IdTokenList

#: The type an entry listed for any token type has in the stations' lists.
DEFAULT_LIST_TYPE: Final = IdTokenEnum.ISO14443


class SyncStatus(StrEnum):
    """Where a station's local list stands."""

    PENDING = "pending"  # not sent yet: the station is away, or its device model not read yet
    IN_SYNC = "in_sync"
    FAILED = "failed"  # the station refused a Full list
    TOO_LARGE = "too_large"  # more tokens than the station's list holds: nothing was sent
    DISABLED = "disabled"  # Home Assistant's option is off
    NOT_SUPPORTED = "not_supported"  # the station has no enabled LocalAuthListCtrlr


class LocalListTooLargeError(Exception):
    """The token list does not fit in a station's local list."""

    def __init__(self, entries: int, limit: int) -> None:
        """Keep the numbers for the message."""
        super().__init__(f"{entries} tokens, the station's local list holds {limit}")
        self.entries = entries
        self.limit = limit


def flag(model: DeviceModel, component: str, variable: str) -> bool | None:
    """A boolean variable's value; None when the station does not report it."""
    info = model.find(component, variable)
    value = info.value if info is not None else None
    return {"true": True, "false": False}.get(value.strip().lower()) if value is not None else None


@dataclass(frozen=True, slots=True)
class LocalListCapabilities:
    """What a station's LocalAuthListCtrlr allows (D01.FR.11-13)."""

    enabled: bool
    #: LocalAuthListCtrlr.Entries maxLimit: how many tokens the list holds (None: not reported).
    max_entries: int | None
    max_items: int
    max_bytes: int

    @classmethod
    def of(cls, model: DeviceModel) -> LocalListCapabilities:
        """Read from the station's device model: enabled when Enabled is true and Available is not false."""
        entries = model.find("LocalAuthListCtrlr", "Entries")
        limit = entries.characteristics.max_limit if entries is not None and entries.characteristics else None
        return cls(
            enabled=bool(flag(model, "LocalAuthListCtrlr", "Enabled"))
            and flag(model, "LocalAuthListCtrlr", "Available") is not False,
            max_entries=int(limit) if limit is not None and limit >= 0 else None,
            max_items=model.items_per_message("SendLocalList"),
            max_bytes=model.bytes_per_message("SendLocalList"),
        )


def token_key(id_token: IdToken) -> str:
    """The identity of an entry in a local list: its type and its token, ignoring case (D01.FR.06)."""
    return f"{id_token.type.value}:{id_token.id_token.casefold()}"


def wanted_list(tokens: IdTokenList, station_id: str, now: datetime) -> dict[str, AuthorizationData]:
    """The entries the station's local list should hold now, by `token_key`."""
    wanted: dict[str, AuthorizationData] = {}
    for entry in tokens:
        id_token = IdToken(id_token=entry.id_token, type=entry.type or DEFAULT_LIST_TYPE)
        wanted[token_key(id_token)] = AuthorizationData(
            id_token=id_token, id_token_info=entry.token_info(now, station_id)
        )
    return wanted


@dataclass(slots=True)
class LocalListState:
    """What a station's local list holds, as far as Home Assistant sent it."""

    version: int = 0
    #: token_key → the entry's payload (AuthorizationData, wire format).
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: SyncStatus = SyncStatus.PENDING
    synced_at: datetime | None = None

    def apply(self, request: SendLocalListRequest) -> None:
        """The station accepted `request`: its list is now this (D01.FR.04, D01.FR.15-17)."""
        if request.update_type is Update.FULL:
            self.entries = {}
        for data in request.local_authorization_list or ():
            key = token_key(data.id_token)
            if data.id_token_info is None:
                self.entries.pop(key, None)
            else:
                self.entries[key] = data.to_payload()
        self.version = request.version_number

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "version": self.version,
            "entries": self.entries,
            "status": self.status.value,
            "synced_at": self.synced_at.isoformat() if self.synced_at else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LocalListState:
        """The inverse of `to_dict()`."""
        synced_at = data.get("synced_at")
        return cls(
            version=int(data.get("version", 0)),
            entries=dict(data.get("entries", {})),
            status=SyncStatus(data.get("status", SyncStatus.PENDING)),
            synced_at=datetime.fromisoformat(synced_at) if synced_at else None,
        )


def plan_updates(
    state: LocalListState,
    wanted: Mapping[str, AuthorizationData],
    *,
    full: bool,
    max_items: int,
    max_bytes: int,
    max_entries: int | None = None,
    station_version: int = 0,
) -> list[SendLocalListRequest]:
    """The SendLocalList requests that bring the station from `state` to `wanted`, in order; none when in step.

    Raises LocalListTooLargeError when `wanted` has more entries than `max_entries`.
    """
    if max_entries is not None and len(wanted) > max_entries:
        raise LocalListTooLargeError(len(wanted), max_entries)
    version = max(state.version, station_version)
    if full:
        items = list(wanted.values())
    else:
        items = [data for key, data in wanted.items() if state.entries.get(key) != data.to_payload()]
        items += [
            AuthorizationData(id_token=IdToken.from_payload(payload["idToken"]))
            for key, payload in state.entries.items()
            if key not in wanted
        ]
        if not items:
            return []
    groups = batches(items, max_items=max_items, max_bytes=max_bytes, payload=lambda item: item) or [[]]
    requests: list[SendLocalListRequest] = []
    for index, group in enumerate(groups, start=1):
        requests.append(
            SendLocalListRequest(
                version_number=version + index,  # D01.FR.18-19: above 0 and above the station's
                update_type=Update.FULL if full and index == 1 else Update.DIFFERENTIAL,
                local_authorization_list=group or None,
            )
        )
    return requests
