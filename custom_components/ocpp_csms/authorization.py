"""ID tokens (C): the user's list, kept in storage, answers Authorize and the tokens of transactions.

The token of a remote start Home Assistant makes (F01) is accepted for that start only: until its transaction
starts (at most REMOTE_START_TIMEOUT), and then for that transaction while it runs.

Every token a station presents fires that station's *ID token presented* event entity (the same token and
decision again within TOKEN_EVENT_DEBOUNCE_S fire nothing new: Authorize and the TransactionEvent it starts).
Changes to the list go through `add` and `remove`: they are refused when a station's local list could not hold
the new list, saved, and passed on (`tokens_changed`: the local lists follow). ClearCache (C11) empties a
station's authorization cache.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, override

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store

from .const import ID_TOKENS_STORAGE_KEY, ID_TOKENS_STORAGE_VERSION
from .context import StationContext
from .csms.station import Station
from .helpers import refused
from .protocol.v201.datatypes import IdToken, IdTokenInfo
from .protocol.v201.enums import AuthorizationStatus, ClearCacheStatus, IdTokenEnum
from .protocol.v201.messages import AuthorizeRequest, AuthorizeResponse, ClearCacheRequest, ClearCacheResponse
from .signals import TokenPresented, token_signal
from .station.id_tokens import IdTokenEntry, IdTokenList, Purpose, UnknownTokenPolicy, migrate_v1

type ContractCheck = Callable[[str, AuthorizeRequest, IdTokenInfo], Awaitable[AuthorizeResponse]]
"""Decides an Authorize with a contract certificate (C07): station id, request, the token's decision."""

#: The same token presented again this soon fires no new event.
TOKEN_EVENT_DEBOUNCE_S: Final = 30.0
#: How long writes of the token list are coalesced.
SAVE_DELAY: Final = 1.0
#: How long the token of a remote start waits for its transaction (a car may be plugged in after the start).
REMOTE_START_TIMEOUT: Final = timedelta(minutes=10)


class _TokenStore(Store[dict[str, Any]]):
    """The token list's store; older versions migrate when loaded."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        if old_major_version == 1:
            return migrate_v1(old_data)
        raise NotImplementedError  # pragma: no cover - a newer version than this code knows


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
        check_capacity: Callable[[int], None] = lambda _count: None,
        tokens_changed: Callable[[], None] = lambda: None,
        contract_check: ContractCheck | None = None,
        assigned_contract: Callable[[str], bool] = lambda _emaid: False,
    ) -> None:
        """Serve Authorize; `tokens` is the stored list (`async_load_tokens`).

        `check_capacity(count)` raises a translated error when a station's local list cannot hold `count` tokens;
        `tokens_changed()` is called after every change of the list; `contract_check` decides an Authorize that
        carries an ISO 15118 contract certificate (C07), given the token's own decision; `assigned_contract(emaid)`
        says whether an eMAID is one the user assigned to a car of the household (accepted unless listed otherwise).
        """
        self.context = context
        self._contract_check = contract_check
        self._assigned_contract = assigned_contract
        self.store = store
        self.tokens = tokens
        self._check_capacity = check_capacity
        self._tokens_changed = tokens_changed
        #: Per station, the remote starts Home Assistant made: their transactions are authorized (F01.FR.01-03).
        self._remote_starts: dict[str, list[_RemoteStart]] = {}
        self._last_presented: dict[str, TokenPresented] = {}
        context.central.handle(AuthorizeRequest, self._authorize_request)

    @staticmethod
    def token_store(hass: HomeAssistant) -> Store[dict[str, Any]]:
        """Where the token list is kept."""
        return _TokenStore(hass, ID_TOKENS_STORAGE_VERSION, ID_TOKENS_STORAGE_KEY, private=True, atomic_writes=True)

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
        *,
        purpose: Purpose = Purpose.AUTHORIZE,
    ) -> IdTokenInfo:
        """The decision on a token a station presents (for a transaction, when it names one, and what for).

        Tokens presented now (not queued offline) fire the event.
        """
        now = datetime.now(UTC)
        if self._remote_start(station_id, id_token, transaction_id, now):
            info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)
        else:
            info = self.tokens.authorize(
                id_token,
                now,
                station_id=station_id,
                evse_id=evse_id,
                master_pass_group=self.master_pass_group(station_id),
                purpose=purpose,
            )
            if (
                info.status is not AuthorizationStatus.ACCEPTED
                and id_token.type is IdTokenEnum.E_MAID
                and id_token.id_token not in self.tokens
                and self._assigned_contract(id_token.id_token)
            ):
                info = IdTokenInfo(status=AuthorizationStatus.ACCEPTED)  # a household car's own contract
        if not offline:
            self._presented(station_id, evse_id, id_token, info.status)
        return info

    def master_pass_group(self, station_id: str) -> str | None:
        """The station's AuthCtrlr.MasterPassGroupId (C16), when it reported one."""
        runtime = self.context.runtimes.get(station_id)
        info = runtime.device_model.find("AuthCtrlr", "MasterPassGroupId") if runtime is not None else None
        return info.value if info is not None and info.value else None

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

    # ---- the station's cache ----------------------------------------------------------------------------

    async def async_clear_cache(self, station_id: str) -> None:
        """ClearCache (C11): the station forgets the tokens it cached; a translated error when it refuses."""
        response = await self.context.call(station_id, ClearCacheRequest(), ClearCacheResponse)
        if response.status is not ClearCacheStatus.ACCEPTED:
            raise refused(station_id, "ClearCache", response.status.value)  # C11.FR.04-05
