"""ID tokens (C01): the user's list, kept in storage, answers Authorize and the tokens of transactions.

Every token a station presents fires that station's *ID token presented* event entity (the same token and
decision again within TOKEN_EVENT_DEBOUNCE_S fire nothing new: Authorize and the TransactionEvent it starts).
"""

from __future__ import annotations

from datetime import UTC, datetime
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

#: The same token presented again this soon fires no new event.
TOKEN_EVENT_DEBOUNCE_S: Final = 30.0
#: How long writes of the token list are coalesced.
SAVE_DELAY: Final = 1.0


class Authorization:
    """Decides on the ID tokens of one config entry's stations, from the user's list."""

    def __init__(self, context: StationContext, store: Store[dict[str, Any]], tokens: IdTokenList) -> None:
        """Serve Authorize; `tokens` is the stored list (`async_load_tokens`)."""
        self.context = context
        self.store = store
        self.tokens = tokens
        #: Tokens Home Assistant started sessions with: their transactions are authorized (F01.FR.01-02).
        self._remote_tokens: set[str] = set()
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
    def allow_remote_token(self, id_token: str) -> None:
        """Accept the (Central) token of a remote start Home Assistant makes."""
        self._remote_tokens.add(id_token.casefold())

    @callback
    def authorize(self, station_id: str, evse_id: int | None, id_token: IdToken, offline: bool) -> IdTokenInfo:
        """The decision on a token a station presents; tokens presented now (not queued offline) fire the event."""
        if id_token.type is IdTokenEnum.CENTRAL and id_token.id_token.casefold() in self._remote_tokens:
            info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        else:
            info = self.tokens.authorize(id_token, datetime.now(UTC))
        if not offline:
            self._presented(station_id, evse_id, id_token, info.status)
        return info

    async def _authorize_request(self, station: Station, request: AuthorizeRequest) -> AuthorizeResponse:
        return AuthorizeResponse(id_token_info=self.authorize(station.station_id, None, request.id_token, False))

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
