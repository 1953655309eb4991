"""The user's list of ID tokens, and the authorization answers built from it (C01, C09, C16, E05).

Each listed token has a status the user sets (Accepted, Blocked, Expired, Invalid), an optional expiry, group,
language, personal message, and optionally the EVSEs it may use. The answer to a token (IdTokenInfo):
- a listed token the user blocked or invalidated: that status;
- a listed token past its expiry: Expired, from that moment on, without anyone editing it;
- a listed token allowed only on EVSEs of other stations: NotAtThisLocation (C01.FR.22); allowed on some EVSEs of
  the asking station: Accepted with those EVSEs (C01.FR.20), and NotAtThisLocation for a transaction on another;
- a listed token of the station's master pass group (AuthCtrlr.MasterPassGroupId, C16): Accepted to authorize
  and to stop, but Invalid for a transaction it would start (C16.FR.03);
- otherwise Accepted, with the expiry as `cacheExpiryDateTime` so that the station's authorization cache does not
  outlive it, the group as `groupIdToken` (C01.FR.06, C09.FR.12), `language1` and the `personalMessage`;
- an empty idToken of any type but NoAuthorization: Invalid;
- a token not on the list: Unknown, or Accepted when the policy for unknown tokens says so;
- type NoAuthorization (a station with only a start button; its idToken is empty by definition): Accepted,
  unless disabled.

IdToken is case insensitive (IdTokenType: "IdToken is case insensitive"): tokens are matched ignoring case. An
entry may name the token type it is valid for, or leave it open to any type.

The glue answers AuthorizeRequest (C01) and every TransactionEventRequest that carries an idToken
(E03.FR.02, E05.FR.01) with `authorize()`, and builds the stations' local lists (D01) from `token_info()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Final, Self

from ..protocol.v201.datatypes import IdToken, IdTokenInfo, MessageContent
from ..protocol.v201.enums import AuthorizationStatus, IdTokenEnum, MessageFormat

#: The statuses a user gives a listed token.
TOKEN_STATUSES: Final = (
    AuthorizationStatus.ACCEPTED,
    AuthorizationStatus.BLOCKED,
    AuthorizationStatus.EXPIRED,
    AuthorizationStatus.INVALID,
)
#: IdTokenType.idToken and a group id: at most 36 characters; language1: 8 (RFC 5646); a message: 512.
MAX_TOKEN_LENGTH: Final = 36
MAX_LANGUAGE_LENGTH: Final = 8
MAX_MESSAGE_LENGTH: Final = 512

type EvseRef = tuple[str, int]
"""An EVSE of a station: (station id, EVSE id)."""


class UnknownTokenPolicy(StrEnum):
    """What to answer for a token that is not on the list."""

    REJECT = "reject"  # Unknown
    ACCEPT = "accept"  # Accepted: anyone may charge


class Purpose(StrEnum):
    """What a presented token is for: authorization (Authorize), starting or stopping a transaction."""

    AUTHORIZE = "authorize"
    START = "start"
    STOP = "stop"


def _match_key(id_token: str) -> str:
    return id_token.casefold()


def same_token(first: str | None, second: str | None) -> bool:
    """Whether two token (or group) strings are the same token: both set, equal ignoring case."""
    return bool(first) and bool(second) and _match_key(first or "") == _match_key(second or "")


@dataclass(frozen=True, slots=True)
class IdTokenEntry:
    """One listed token."""

    id_token: str
    #: The token type it is valid for; None: any type.
    type: IdTokenEnum | None = None
    label: str = ""
    #: What the user decided: Accepted, Blocked, Expired or Invalid.
    status: AuthorizationStatus = AuthorizationStatus.ACCEPTED
    #: Not accepted from this moment on (timezone-aware).
    expires_at: datetime | None = None
    #: The group it belongs to (returned as groupIdToken: tokens of a group can stop each other's sessions).
    group_id: str | None = None
    #: The driver's language (RFC 5646, e.g. "de-DE"): the station's messages in it (C01.FR.08).
    language: str | None = None
    #: A message the station shows the driver.
    personal_message: str | None = None
    #: The EVSEs it may use; empty: every EVSE of every station.
    evses: tuple[EvseRef, ...] = field(default=())

    def effective_status(self, now: datetime) -> AuthorizationStatus:
        """Its status now: the user's, or Expired once its expiry has passed."""
        if self.status is AuthorizationStatus.ACCEPTED and self.expires_at is not None and now >= self.expires_at:
            return AuthorizationStatus.EXPIRED
        return self.status

    def allowed_evses(self, station_id: str) -> list[int] | None:
        """The EVSEs of the station it may use; None: every EVSE (no restriction)."""
        if not self.evses:
            return None
        return sorted({evse_id for station, evse_id in self.evses if station == station_id})

    def token_info(self, now: datetime, station_id: str, evse_id: int | None = None) -> IdTokenInfo:
        """The IdTokenInfo of this token at the station (and, when known, on the EVSE), at `now`."""
        status = self.effective_status(now)
        evse_ids = self.allowed_evses(station_id)
        if (
            status is AuthorizationStatus.ACCEPTED
            and evse_ids is not None
            and (not evse_ids or (evse_id is not None and evse_id not in evse_ids))
        ):
            status = AuthorizationStatus.NOT_AT_THIS_LOCATION  # C01.FR.22; a transaction on another EVSE
        accepted = status is AuthorizationStatus.ACCEPTED
        return IdTokenInfo(
            status=status,
            cache_expiry_date_time=self.expires_at if accepted else None,
            evse_id=(evse_ids or None) if accepted else None,
            group_id_token=IdToken(id_token=self.group_id, type=IdTokenEnum.CENTRAL) if self.group_id else None,
            language1=self.language or None,
            personal_message=(
                MessageContent(format=MessageFormat.UTF8, content=self.personal_message, language=self.language)
                if self.personal_message
                else None
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {"id_token": self.id_token, "label": self.label, "status": self.status.value}
        if self.type is not None:
            data["type"] = self.type.value
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.isoformat()
        for key in ("group_id", "language", "personal_message"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        if self.evses:
            data["evses"] = [{"station_id": station_id, "evse_id": evse_id} for station_id, evse_id in self.evses]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdTokenEntry:
        """The inverse of `to_dict()`."""
        return cls(
            id_token=data["id_token"],
            type=IdTokenEnum(data["type"]) if "type" in data else None,
            label=data.get("label", ""),
            status=AuthorizationStatus(data.get("status", AuthorizationStatus.ACCEPTED)),
            expires_at=datetime.fromisoformat(data["expires_at"]) if "expires_at" in data else None,
            group_id=data.get("group_id"),
            language=data.get("language"),
            personal_message=data.get("personal_message"),
            evses=tuple((item["station_id"], int(item["evse_id"])) for item in data.get("evses", ())),
        )


@dataclass(frozen=True, slots=True)
class UnknownToken:
    """The last token that was not on the list: for the user to add it."""

    id_token: str
    type: IdTokenEnum
    seen_at: datetime


class IdTokenList:
    """The listed tokens, looked up in O(1) ignoring case."""

    def __init__(
        self,
        entries: Iterable[IdTokenEntry] = (),
        *,
        unknown_policy: UnknownTokenPolicy = UnknownTokenPolicy.REJECT,
        accept_no_authorization: bool = True,
    ) -> None:
        """A list holding `entries`, rejecting unknown tokens unless the policy says otherwise."""
        self._entries: dict[str, IdTokenEntry] = {}
        self.unknown_policy = unknown_policy
        self.accept_no_authorization = accept_no_authorization
        self.last_unknown: UnknownToken | None = None
        for entry in entries:
            self.add(entry)

    def __iter__(self) -> Iterator[IdTokenEntry]:
        """The entries, in the order they were added."""
        return iter(self._entries.values())

    def __len__(self) -> int:
        """How many tokens are listed."""
        return len(self._entries)

    def __contains__(self, id_token: object) -> bool:
        """Whether a token string is listed (ignoring case)."""
        return isinstance(id_token, str) and _match_key(id_token) in self._entries

    def __eq__(self, other: object) -> bool:
        """Equal when holding the same entries and policies."""
        return isinstance(other, IdTokenList) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def get(self, id_token: str) -> IdTokenEntry | None:
        """The entry of a token string (ignoring case)."""
        return self._entries.get(_match_key(id_token))

    def add(self, entry: IdTokenEntry) -> None:
        """List a token, replacing the entry of the same token string (in its place)."""
        if not entry.id_token:
            raise ValueError("an ID token entry needs a token")
        self._entries[_match_key(entry.id_token)] = entry

    def replace(self, id_token: str, entry: IdTokenEntry) -> None:
        """Replace the entry of `id_token` by `entry` (which may name another token), keeping its place."""
        if not entry.id_token:
            raise ValueError("an ID token entry needs a token")
        old_key, new_key = _match_key(id_token), _match_key(entry.id_token)
        if old_key == new_key or old_key not in self._entries:
            self.add(entry)
            return
        self._entries = {
            (new_key if key == old_key else key): (entry if key == old_key else existing)
            for key, existing in self._entries.items()
            if key != new_key
        }

    def remove(self, id_token: str) -> bool:
        """Unlist a token; whether it was listed."""
        return self._entries.pop(_match_key(id_token), None) is not None

    def count_after(self, id_token: str, replacing: str | None = None) -> int:
        """How many tokens the list would hold with `id_token` listed (instead of `replacing`)."""
        keys = set(self._entries)
        if replacing is not None:
            keys.discard(_match_key(replacing))
        keys.add(_match_key(id_token))
        return len(keys)

    def next_expiry(self, now: datetime) -> datetime | None:
        """The next moment a listed, accepted token expires (its answers and the local lists change then)."""
        upcoming = [
            entry.expires_at
            for entry in self._entries.values()
            if entry.status is AuthorizationStatus.ACCEPTED and entry.expires_at is not None and entry.expires_at > now
        ]
        return min(upcoming, default=None)

    def authorize(
        self,
        id_token: IdToken,
        now: datetime,
        *,
        station_id: str = "",
        evse_id: int | None = None,
        master_pass_group: str | None = None,
        purpose: Purpose = Purpose.AUTHORIZE,
    ) -> IdTokenInfo:
        """The IdTokenInfo to answer an AuthorizeRequest or a TransactionEventRequest's idToken with."""
        if id_token.type is IdTokenEnum.NO_AUTHORIZATION:
            status = AuthorizationStatus.ACCEPTED if self.accept_no_authorization else AuthorizationStatus.INVALID
            return IdTokenInfo(status=status)
        if not id_token.id_token.strip():
            return IdTokenInfo(status=AuthorizationStatus.INVALID)
        entry = self._entries.get(_match_key(id_token.id_token))
        if entry is not None and entry.type is not None and entry.type is not id_token.type:
            entry = None
        if entry is None:
            self.last_unknown = UnknownToken(id_token.id_token, id_token.type, now)
            if self.unknown_policy is UnknownTokenPolicy.ACCEPT:
                return IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
            return IdTokenInfo(status=AuthorizationStatus.UNKNOWN)
        info = entry.token_info(now, station_id, evse_id if purpose is Purpose.START else None)
        if (
            purpose is Purpose.START
            and info.status is AuthorizationStatus.ACCEPTED
            and same_token(entry.group_id, master_pass_group)
        ):
            # C16.FR.03: a master pass stops transactions, it never starts one.
            return info.model_copy(update={"status": AuthorizationStatus.INVALID, "cache_expiry_date_time": None})
        return info

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "unknown_policy": self.unknown_policy.value,
            "accept_no_authorization": self.accept_no_authorization,
            "entries": [entry.to_dict() for entry in self._entries.values()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        return cls(
            (IdTokenEntry.from_dict(item) for item in data.get("entries", ())),
            unknown_policy=UnknownTokenPolicy(data.get("unknown_policy", UnknownTokenPolicy.REJECT)),
            accept_no_authorization=data.get("accept_no_authorization", True),
        )


def migrate_v1(data: Mapping[str, Any]) -> dict[str, Any]:
    """Stored version 1 (tokens were allowed or not listed) → version 2: every listed token Accepted."""
    return {
        **data,
        "entries": [{**item, "status": item.get("status", "Accepted")} for item in data.get("entries", ())],
    }
