"""ID tokens (C): the user's list, kept in storage, answers Authorize and the tokens of transactions.

Every token a station presents fires that station's *ID token presented* event entity (the same token and
decision again within TOKEN_EVENT_DEBOUNCE_S fire nothing new: Authorize and the TransactionEvent it starts).
Changes to the list go through `add` and `remove`: they are refused when a station's local list could not hold
the new list, saved, and passed on (`tokens_changed`: the local lists follow). ClearCache (C11) empties a
station's authorization cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final, override

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import ID_TOKENS_STORAGE_KEY
from .context import StationContext
from .csms.station import Station
from .helpers import refused
from .protocol.v201.datatypes import IdToken, IdTokenInfo
from .protocol.v201.enums import AuthorizationStatus, ClearCacheStatus, IdTokenEnum
from .protocol.v201.messages import AuthorizeRequest, AuthorizeResponse, ClearCacheRequest, ClearCacheResponse
from .signals import TokenPresented, token_signal
from .station.id_tokens import IdTokenEntry, IdTokenList, Purpose, UnknownTokenPolicy, migrate_v1

#: The same token presented again this soon fires no new event.
TOKEN_EVENT_DEBOUNCE_S: Final = 30.0
#: How long writes of the token list are coalesced.
SAVE_DELAY: Final = 1.0
#: Version 2: tokens have a status, language, personal message and EVSEs (version 1: allowed or not listed).
TOKENS_STORAGE_VERSION: Final = 2


class _TokenStore(Store[dict[str, Any]]):
    """The token list's store; older versions migrate when loaded."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        if old_major_version == 1:
            return migrate_v1(old_data)
        raise NotImplementedError  # pragma: no cover - a newer version than this code knows


class Authorization:
    """Decides on the ID tokens of one config entry's stations, from the user's list."""

    def __init__(
        self,
        context: StationContext,
        store: Store[dict[str, Any]],
        tokens: IdTokenList,
        *,
        check_capacity: Callable[[int], None] = lambda _count: None,
        tokens_changed: Callable[[], None] = lambda: None,
    ) -> None:
        """Serve Authorize; `tokens` is the stored list (`async_load_tokens`).

        `check_capacity(count)` raises a translated error when a station's local list cannot hold `count` tokens;
        `tokens_changed()` is called after every change of the list.
        """
        self.context = context
        self.store = store
        self.tokens = tokens
        self._check_capacity = check_capacity
        self._tokens_changed = tokens_changed
        #: Tokens Home Assistant started sessions with: their transactions are authorized (F01.FR.01-02).
        self._remote_tokens: set[str] = set()
        self._last_presented: dict[str, TokenPresented] = {}
        context.central.handle(AuthorizeRequest, self._authorize_request)

    @staticmethod
    def token_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where the token list is kept."""
        return _TokenStore(hass, TOKENS_STORAGE_VERSION, ID_TOKENS_STORAGE_KEY, private=True, atomic_writes=True)

    @staticmethod
    async def async_load_tokens(store: Store[dict[str, Any]], unknown_policy: UnknownTokenPolicy) -> IdTokenList:
        """The stored token list, with the policy for tokens not on it."""
        tokens = IdTokenList.from_dict(data) if (data := await store.async_load()) else IdTokenList()
        tokens.unknown_policy = unknown_policy
        return tokens

    # ---- the list ---------------------------------------------------------------------------------------

    @callback
    def add(self, entry: IdTokenEntry, *, replacing: str | None = None) -> None:
        """List a token (instead of `replacing`, when given); a translated error when a local list is too small."""
        self._check_capacity(self.tokens.count_after(entry.id_token, replacing))
        if replacing is not None:
            self.tokens.replace(replacing, entry)
        else:
            self.tokens.add(entry)
        self._changed()

    @callback
    def remove(self, id_tokens: Iterable[str]) -> int:
        """Unlist tokens; how many were listed."""
        removed = sum(self.tokens.remove(id_token) for id_token in id_tokens)
        if removed:
            self._changed()
        return removed

    @callback
    def _changed(self) -> None:
        self.save()
        self._tokens_changed()

    @callback
    def save(self) -> None:
        """Persist the token list soon."""
        self.store.async_delay_save(self.tokens.to_dict, SAVE_DELAY)

    async def async_save_now(self) -> None:
        """Write the token list at once (on unload)."""
        await self.store.async_save(self.tokens.to_dict())

    # ---- decisions --------------------------------------------------------------------------------------

    @callback
    def allow_remote_token(self, id_token: str) -> None:
        """Accept the (Central) token of a remote start Home Assistant makes."""
        self._remote_tokens.add(id_token.casefold())

    @callback
    def authorize(
        self,
        station_id: str,
        evse_id: int | None,
        id_token: IdToken,
        offline: bool,
        purpose: Purpose = Purpose.AUTHORIZE,
    ) -> IdTokenInfo:
        """The decision on a token a station presents; tokens presented now (not queued offline) fire the event."""
        if id_token.type is IdTokenEnum.CENTRAL and id_token.id_token.casefold() in self._remote_tokens:
            info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        else:
            info = self.tokens.authorize(
                id_token,
                datetime.now(UTC),
                station_id=station_id,
                evse_id=evse_id,
                master_pass_group=self.master_pass_group(station_id),
                purpose=purpose,
            )
        if not offline:
            self._presented(station_id, evse_id, id_token, info.status)
        return info

    def master_pass_group(self, station_id: str) -> str | None:
        """The station's AuthCtrlr.MasterPassGroupId (C16), when it reported one."""
        runtime = self.context.runtimes.get(station_id)
        info = runtime.device_model.find("AuthCtrlr", "MasterPassGroupId") if runtime is not None else None
        return info.value if info is not None and info.value else None

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

    # ---- the station's cache ----------------------------------------------------------------------------

    async def async_clear_cache(self, station_id: str) -> None:
        """ClearCache (C11): the station forgets the tokens it cached; a translated error when it refuses."""
        response = await self.context.call(station_id, ClearCacheRequest(), ClearCacheResponse)
        if response.status is not ClearCacheStatus.ACCEPTED:
            raise refused(station_id, "ClearCache", response.status.value)  # C11.FR.04-05
