"""Options applied while running: a changed option reaches the service that uses it, without a reload.

Stations stay connected through a change of policies, heartbeat, tokens, local list, monitoring severity,
contract provider, the household's contracts, the energy manager's site and prices, or entity detail. A changed
wss:// port or certificate restarts that listener only; a changed ws:// port (reconfigure) moves that listener:
stations on it reconnect to the new port, everything Home Assistant keeps of them stays. An option this module does
not know (or one that cannot be applied: a port taken, unusable certificates) falls back to reloading the entry,
which then reports the problem as setup does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import logging
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady, HomeAssistantError

from .const import (
    CONF_CA_FILE,
    CONF_CERT_FILE,
    CONF_CERTIFICATES,
    CONF_CONTRACT_PROVIDER_URL,
    CONF_ENERGY,
    CONF_ENTITY_DETAIL,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOME_CONTRACTS,
    CONF_KEY_FILE,
    CONF_LOCAL_AUTH_LIST,
    CONF_PORT,
    CONF_PROBLEM_SEVERITY,
    CONF_REMOTE_ID_TOKEN,
    CONF_SECOND_CERT_FILE,
    CONF_SECOND_KEY_FILE,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOCAL_AUTH_LIST,
    DEFAULT_PROBLEM_SEVERITY,
    DEFAULT_REMOTE_ID_TOKEN,
    DOMAIN,
    PLATFORMS,
)
from .csms.registry import UnknownStationPolicy
from .csms.station import Registration
from .entity_detail import async_check_entity_limit, entity_detail_from
from .listener_setup import async_start_listeners, async_tls_context, tls_url, uses_own_ca
from .platform import async_remove_entities_in_steps
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.id_tokens import UnknownTokenPolicy

_LOGGER = logging.getLogger(__name__)

#: What the wss:// listener is made of: a change restarts it.
TLS_OPTIONS: Final = frozenset(
    {
        CONF_TLS_PORT,
        CONF_CERTIFICATES,
        CONF_TLS_HOSTS,
        CONF_CERT_FILE,
        CONF_KEY_FILE,
        CONF_CA_FILE,
        CONF_SECOND_CERT_FILE,
        CONF_SECOND_KEY_FILE,
    }
)
HEARTBEAT_INTERVAL: Final = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")


def applied_options(entry: OcppCsmsConfigEntry) -> dict[str, Any]:
    """The entry's data and options as one mapping (the port is data, the rest options)."""
    return {**entry.options, **entry.data}


type _Apply = Callable[[HomeAssistant, OcppCsmsRuntimeData, Mapping[str, Any]], None]


def _heartbeat(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    """New boots get the interval (B01.FR.02); connected stations get it now through SetVariables (B01.FR.03)."""
    interval = int(options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL))
    data.central.config.heartbeat_interval = interval
    for station in data.central.stations.values():
        if station.connected and station.registration is Registration.ACCEPTED:
            data.context.background(
                _async_set_heartbeat(data, station.station_id, interval), f"{DOMAIN} heartbeat interval"
            )


async def _async_set_heartbeat(data: OcppCsmsRuntimeData, station_id: str, interval: int) -> None:
    try:
        await data.variables.async_set(station_id, HEARTBEAT_INTERVAL, str(interval))
    except HomeAssistantError as err:
        _LOGGER.info("%s: the new heartbeat interval applies from its next boot: %s", station_id, err)


def _unknown_stations(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    policy = options.get(CONF_UNKNOWN_STATIONS, UnknownStationPolicy.APPROVE)
    data.central.config.unknown_station_policy = UnknownStationPolicy(policy)


def _unknown_tokens(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    data.authorization.tokens.unknown_policy = UnknownTokenPolicy(options.get(CONF_UNKNOWN_TOKENS, "reject"))


def _remote_id_token(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    data.commands.remote_id_token = options.get(CONF_REMOTE_ID_TOKEN) or DEFAULT_REMOTE_ID_TOKEN


def _local_auth_list(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    """On: the stations get their lists; off: their lists are emptied (each sync does what the option says)."""
    data.local_lists.enabled = bool(options.get(CONF_LOCAL_AUTH_LIST, DEFAULT_LOCAL_AUTH_LIST))
    for station in data.central.stations.values():
        if station.connected and station.registration is Registration.ACCEPTED and station.station_id in data.registry:
            data.local_lists.schedule(station.station_id, ask_version=True)


def _problem_severity(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    data.monitoring.problem_severity = int(options.get(CONF_PROBLEM_SEVERITY, DEFAULT_PROBLEM_SEVERITY))


def _energy(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    """The site's sensors, fuse and prices (the energy manager's and the planner's)."""
    site = options.get(CONF_ENERGY, {})
    data.energy.configure(site)
    data.planner.configure(site)


def _contract_provider(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    data.iso15118.provider_url = options.get(CONF_CONTRACT_PROVIDER_URL) or None


def _home_contracts(hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]) -> None:
    data.home_mobility.contracts = dict(options.get(CONF_HOME_CONTRACTS, {}))


#: Options a service takes while running.
_LIVE: Final[Mapping[str, _Apply]] = {
    CONF_HEARTBEAT_INTERVAL: _heartbeat,
    CONF_UNKNOWN_STATIONS: _unknown_stations,
    CONF_UNKNOWN_TOKENS: _unknown_tokens,
    CONF_REMOTE_ID_TOKEN: _remote_id_token,
    CONF_LOCAL_AUTH_LIST: _local_auth_list,
    CONF_PROBLEM_SEVERITY: _problem_severity,
    CONF_CONTRACT_PROVIDER_URL: _contract_provider,
    CONF_HOME_CONTRACTS: _home_contracts,
    CONF_ENERGY: _energy,
}


async def async_apply_options(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Apply what changed since the last time; False when only a reload can apply it."""
    data = entry.runtime_data
    new = applied_options(entry)
    old = data.applied_options
    changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
    if not changed:
        return True
    if changed - _LIVE.keys() - TLS_OPTIONS - {CONF_PORT, CONF_ENTITY_DETAIL}:
        return False
    _LOGGER.debug("Applying changed options while running: %s", ", ".join(sorted(changed)))
    try:
        if CONF_PORT in changed:
            await _async_replace_listener(hass, data, 0, int(new[CONF_PORT]), None)
        if changed & TLS_OPTIONS:
            await _async_restart_tls_listener(hass, data, new)
    except ConfigEntryNotReady:
        return False  # the reload's setup raises it again, with its repair
    for key in sorted(changed & _LIVE.keys()):
        _LIVE[key](hass, data, new)
    if CONF_ENTITY_DETAIL in changed:
        await _async_reload_platforms(hass, entry, new)
    data.applied_options.clear()
    data.applied_options.update(new)
    return True


async def _async_replace_listener(
    hass: HomeAssistant, data: OcppCsmsRuntimeData, index: int, port: int | None, options: Mapping[str, Any] | None
) -> None:
    """Stop listener `index` (if running) and start one on `port` (None: none), TLS when `options` are given."""
    if index < len(data.listeners):
        await data.listeners.pop(index).stop()
    if port is None:
        return
    ssl_context = await async_tls_context(hass, options) if options is not None else None
    (listener,) = await async_start_listeners(hass, data.central, [(port, ssl_context)])
    data.listeners.insert(index, listener)
    _LOGGER.info("Listening for stations on port %d (%s)", port, "wss://" if ssl_context else "ws://")


async def _async_restart_tls_listener(
    hass: HomeAssistant, data: OcppCsmsRuntimeData, options: Mapping[str, Any]
) -> None:
    tls_port = int(options.get(CONF_TLS_PORT, 0))
    await _async_replace_listener(hass, data, 1, tls_port or None, options)
    data.certificates.own_ca = uses_own_ca(options)
    data.upgrade.tls_url = tls_url(options)


async def _async_reload_platforms(hass: HomeAssistant, entry: OcppCsmsConfigEntry, options: Mapping[str, Any]) -> None:
    """The entity detail changed: the platforms add their entities again under it (stations stay connected)."""
    data = entry.runtime_data
    data.stop_platform_listeners()
    await async_remove_entities_in_steps(hass, entry)
    await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    detail = entity_detail_from(options)
    data.entity_limit.detail = detail
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_check_entity_limit(hass, entry.entry_id, detail)
