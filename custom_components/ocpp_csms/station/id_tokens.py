"""The user's list of ID tokens allowed to charge, and the authorization answers built from it (C01, E05).

Answers (AuthorizationStatusEnumType):
- a listed token, not expired: Accepted, with its expiry as `cacheExpiryDateTime` so that the station's
  authorization cache does not outlive it, and its group as `groupIdToken` (C01.FR.06);
- a listed token past its expiry: Expired;
- an empty idToken of any type but NoAuthorization: Invalid;
- a token not on the list: Unknown, or Accepted when the policy for unknown tokens says so;
- type NoAuthorization (a station with only a start button; its idToken is empty by definition): Accepted,
  unless disabled.

IdToken is case insensitive (IdTokenType: "IdToken is case insensitive"): tokens are matched ignoring case. An
entry may name the token type it is valid for, or leave it open to any type.

The glue answers AuthorizeRequest (C01) and every TransactionEventRequest that carries an idToken
(E03.FR.02, E05.FR.01) with `authorize()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from ..protocol.v201.datatypes import IdToken, IdTokenInfo
from ..protocol.v201.enums import AuthorizationStatus, IdTokenEnum


class UnknownTokenPolicy(StrEnum):
    """What to answer for a token that is not on the list."""

    REJECT = "reject"  # Unknown
    ACCEPT = "accept"  # Accepted: anyone may charge


def _match_key(id_token: str) -> str:
    return id_token.casefold()


@dataclass(frozen=True, slots=True)
class IdTokenEntry:
    """One allowed token."""

    id_token: str
    #: The token type it is valid for; None: any type.
    type: IdTokenEnum | None = None
    label: str = ""
    #: Not accepted from this moment on (timezone-aware).
    expires_at: datetime | None = None
    #: The group it belongs to (returned as groupIdToken: tokens of a group can stop each other's sessions).
    group_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {"id_token": self.id_token, "label": self.label}
        if self.type is not None:
            data["type"] = self.type.value
        if self.expires_at is not None:
            data["expires_at"] = self.expires_at.isoformat()
        if self.group_id is not None:
            data["group_id"] = self.group_id
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdTokenEntry:
        """The inverse of `to_dict()`."""
        return cls(
            id_token=data["id_token"],
            type=IdTokenEnum(data["type"]) if "type" in data else None,
            label=data.get("label", ""),
            expires_at=datetime.fromisoformat(data["expires_at"]) if "expires_at" in data else None,
            group_id=data.get("group_id"),
        )


@dataclass(frozen=True, slots=True)
class UnknownToken:
    """The last token that was not on the list: for the user to add it."""

    id_token: str
    type: IdTokenEnum
    seen_at: datetime


class IdTokenList:
    """The allowed tokens, looked up in O(1) ignoring case."""

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
        """List a token, replacing the entry of the same token string."""
        if not entry.id_token:
            raise ValueError("an ID token entry needs a token")
        self._entries[_match_key(entry.id_token)] = entry

    def remove(self, id_token: str) -> bool:
        """Unlist a token; whether it was listed."""
        return self._entries.pop(_match_key(id_token), None) is not None

    def authorize(self, id_token: IdToken, now: datetime) -> IdTokenInfo:
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
        if entry.expires_at is not None and now >= entry.expires_at:
            return IdTokenInfo(status=AuthorizationStatus.EXPIRED)
        group = IdToken(id_token=entry.group_id, type=IdTokenEnum.CENTRAL) if entry.group_id else None
        return IdTokenInfo(
            status=AuthorizationStatus.ACCEPTED, cache_expiry_date_time=entry.expires_at, group_id_token=group
        )

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
