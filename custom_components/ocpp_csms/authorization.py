"""ID tokens (C01): the user's list, kept in storage, answers Authorize and the tokens of transactions.

The token of a remote start Home Assistant makes (F01) is accepted for that start only: until its transaction
starts (at most REMOTE_START_TIMEOUT), and then for that transaction while it runs.

Every token a station presents fires that station's *ID token presented* event entity (the same token and
decision again within TOKEN_EVENT_DEBOUNCE_S fire nothing new: Authorize and the TransactionEvent it starts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import ID_TOKENS_STORAGE_KEY, STORAGE_VERSION
from .context import StationContext
from .csms.station import Station
from .protocol.v201.datatypes import IdToken, IdTokenInfo
from .protocol.v201.enums import AuthorizationStatus, IdTokenEnum
from .protocol.v201.messages import AuthorizeRequest, AuthorizeResponse
from .signals import TokenPresented, token_signal
from .station.id_tokens import IdTokenList, UnknownTokenPolicy

type ContractCheck = Callable[[str, AuthorizeRequest, IdTokenInfo], Awaitable[AuthorizeResponse]]
"""Decides an Authorize with a contract certificate (C07): station id, request, the token's decision."""

#: The same token presented again this soon fires no new event.
TOKEN_EVENT_DEBOUNCE_S: Final = 30.0
#: How long writes of the token list are coalesced.
SAVE_DELAY: Final = 1.0
#: How long the token of a remote start waits for its transaction (a car may be plugged in after the start).
REMOTE_START_TIMEOUT: Final = timedelta(minutes=10)


@dataclass(slots=True)
class _RemoteStart:
    """The token of one remote start: pending until its transaction starts, then bound to it."""

    token: str  # casefolded: IdToken is case insensitive
    type: IdTokenEnum
    expires_at: datetime
    transaction_id: str | None = None


class Authorization:
    """Decides on the ID tokens of one config entry's stations, from the user's list."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        tokens: IdTokenList,
        *,
        contract_check: ContractCheck | None = None,
    ) -> None:
        """Serve Authorize; `tokens` is the stored list (`async_load_tokens`).

        `contract_check` decides an Authorize that carries an ISO 15118 contract certificate (C07), given the
        token's own decision.
        """
        self.context = context
        self._contract_check = contract_check
        self.store = store
        self.tokens = tokens
        #: Per station, the remote starts Home Assistant made: their transactions are authorized (F01.FR.01-03).
        self._remote_starts: dict[str, list[_RemoteStart]] = {}
        self._last_presented: dict[str, TokenPresented] = {}
        context.central.handle(AuthorizeRequest, self._authorize_request)

    @staticmethod
    def token_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where the token list is kept."""
        return Store(hass, STORAGE_VERSION, ID_TOKENS_STORAGE_KEY, private=True, atomic_writes=True)

    @staticmethod
    async def async_load_tokens(store: Store[dict[str, Any]], unknown_policy: UnknownTokenPolicy) -> IdTokenList:
        """The stored token list, with the policy for tokens not on it."""
        tokens = IdTokenList.from_dict(data) if (data := await store.async_load()) else IdTokenList()
        tokens.unknown_policy = unknown_policy
        return tokens

    @callback
    def save(self) -> None:
        """Persist the token list soon (after the user changed it)."""
        self.store.async_delay_save(self.tokens.to_dict, SAVE_DELAY)

    async def async_save_now(self) -> None:
        """Write the token list at once (on unload)."""
        await self.store.async_save(self.tokens.to_dict())

    @callback
    def allow_remote_start(self, station_id: str, id_token: IdToken) -> None:
        """Accept the token of a remote start Home Assistant makes, for the transaction it starts (F01)."""
        expires_at = datetime.now(UTC) + REMOTE_START_TIMEOUT
        start = _RemoteStart(id_token.id_token.casefold(), id_token.type, expires_at)
        self._remote_starts.setdefault(station_id, []).append(start)

    def _remote_start(self, station_id: str, id_token: IdToken, transaction_id: str | None, now: datetime) -> bool:
        """Whether the token is that of a remote start: pending, or bound to this transaction (then it binds)."""
        starts = self._remote_starts.get(station_id)
        if not starts:
            return False
        runtime = self.context.runtimes.get(station_id)
        live: list[_RemoteStart] = []
        for start in starts:
            if start.transaction_id is None and start.expires_at <= now:
                continue  # its transaction never came
            if start.transaction_id is not None and start.transaction_id != transaction_id and runtime is not None:
                record = runtime.transactions.transaction(start.transaction_id)
                if record is None or record.ended:
                    continue  # its transaction is over
            live.append(start)
        self._remote_starts[station_id] = live
        key = id_token.id_token.casefold()
        for start in live:
            if (start.token, start.type) != (key, id_token.type):
                continue
            if start.transaction_id is None and transaction_id is not None:
                start.transaction_id = transaction_id
                return True
            if start.transaction_id in (None, transaction_id):
                return True
        return False

    @callback
    def authorize(
        self,
        station_id: str,
        evse_id: int | None,
        id_token: IdToken,
        offline: bool,
        transaction_id: str | None = None,
    ) -> IdTokenInfo:
        """The decision on a token a station presents (for a transaction, when it names one).

        Tokens presented now (not queued offline) fire the event.
        """
        now = datetime.now(UTC)
        if self._remote_start(station_id, id_token, transaction_id, now):
            info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        else:
            info = self.tokens.authorize(id_token, now)
        if not offline:
            self._presented(station_id, evse_id, id_token, info.status)
        return info

    async def _authorize_request(self, station: Station, request: AuthorizeRequest) -> AuthorizeResponse:
        info = self.authorize(station.station_id, None, request.id_token, False)
        if self._contract_check is not None and (request.iso15118_certificate_hash_data or request.certificate):
            return await self._contract_check(station.station_id, request, info)  # C07
        return AuthorizeResponse(id_token_info=info)

    @callback
    def _presented(
        self, station_id: str, evse_id: int | None, id_token: IdToken, decision: AuthorizationStatus
    ) -> None:
        now = datetime.now(UTC)
        presented = TokenPresented(station_id, evse_id, id_token.id_token, id_token.type.value, decision, now)
        last = self._last_presented.get(station_id)
        if (
            last is not None
            and (last.id_token, last.decision) == (presented.id_token, presented.decision)
            and (now - last.at).total_seconds() < TOKEN_EVENT_DEBOUNCE_S
        ):
            return
        self._last_presented[station_id] = presented
        self.context.signal(token_signal(self.context.entry_id, station_id), presented)
