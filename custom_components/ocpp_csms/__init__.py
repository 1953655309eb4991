"""OCPP 2.0.1 central system (CSMS) for Home Assistant."""

from __future__ import annotations

import logging
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr, issue_registry as ir
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .const import (
    CERTIFICATE_DIR,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PORT,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DOMAIN,
    EVSE_SEPARATOR,
)
from .csms.central_system import CentralSystemConfig
from .csms.listener import OcppListener
from .csms.passwords import PasswordVerifier
from .csms.registry import UnknownStationPolicy
from .csms.throttle import FailureThrottle
from .entity_detail import async_check_entity_limit, async_remove_unkept_entities
from .hub import OcppCsmsHub
from .services import async_setup_services
from .station.id_tokens import UnknownTokenPolicy
from .tls_setup import build_server_context

_LOGGER = logging.getLogger(__name__)

PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
]
CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

type OcppCsmsConfigEntry = ConfigEntry[OcppCsmsHub]

DATA_AUTH: HassKey[tuple[PasswordVerifier, FailureThrottle]] = HassKey(f"{DOMAIN}_auth")


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    async_setup_services(hass)
    return True


def central_system_config(entry: ConfigEntry[OcppCsmsHub]) -> CentralSystemConfig:
    """The central system's settings from the entry's options."""
    options = entry.options
    return CentralSystemConfig(
        heartbeat_interval=int(options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)),
        unknown_station_policy=UnknownStationPolicy(options.get(CONF_UNKNOWN_STATIONS, UnknownStationPolicy.APPROVE)),
    )


async def async_setup_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Start the listeners (ws:// and, when configured, wss://) and the entities of the trusted stations."""
    hub = await OcppCsmsHub.async_load(
        hass, entry, central_system_config(entry), UnknownTokenPolicy(entry.options.get(CONF_UNKNOWN_TOKENS, "reject"))
    )
    # Kept across reloads: after a reload every station reconnects, and a verified password costs no new scrypt
    # run; failures counted before the reload still count.
    verifier, throttle = hass.data.get(DATA_AUTH) or _async_create_auth(hass)
    ports: list[tuple[int, bool]] = [(entry.data[CONF_PORT], False)]
    if tls_port := int(entry.options.get(CONF_TLS_PORT, 0)):
        ports.append((tls_port, True))
    for port, tls in ports:
        listener = OcppListener(hub.central, verifier=verifier, throttle=throttle)
        try:
            ssl_context = None
            if tls:
                certificate_dir = Path(hass.config.path(CERTIFICATE_DIR))
                ssl_context = await hass.async_add_executor_job(
                    build_server_context, dict(entry.options), certificate_dir
                )
            await listener.start(port, ssl_context=ssl_context)
        except OSError as err:
            for started in hub.listeners:
                await started.stop()
            await hub.central.close()
            ir.async_create_issue(
                hass,
                DOMAIN,
                f"port_unavailable_{port}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="port_unavailable",
                translation_placeholders={"port": str(port), "error": err.strerror or str(err)},
            )
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="port_unavailable",
                translation_placeholders={"port": str(port), "error": err.strerror or str(err)},
            ) from err
        ir.async_delete_issue(hass, DOMAIN, f"port_unavailable_{port}")
        hub.listeners.append(listener)
    entry.runtime_data = hub
    hub.variables.async_start()
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    entry.async_on_unload(hub.entity_limit.cancel)
    if removed := async_remove_unkept_entities(
        hass, entry, {station_id: runtime.known_evses for station_id, runtime in hub.runtimes.items()}
    ):
        _LOGGER.info("Removed %d entities that the essential entity detail leaves out", removed)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_check_entity_limit(hass, entry)
    return True


@callback
def _async_create_auth(hass: HomeAssistant) -> tuple[PasswordVerifier, FailureThrottle]:
    """The password verifier and failure throttle of this Home Assistant run; the scrypt threads stop with it."""
    verifier = PasswordVerifier()
    hass.data[DATA_AUTH] = (verifier, FailureThrottle())

    async def stop_threads(_event: Event) -> None:
        await hass.async_add_executor_job(verifier.close)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop_threads)
    return hass.data[DATA_AUTH]


async def _async_options_updated(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> None:
    """Options change how stations are served: start again with them."""
    await hass.config_entries.async_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Stop the listeners, close every station connection and save the trusted stations."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    hub = entry.runtime_data
    hub.charging.async_shutdown()
    for listener in hub.listeners:
        await listener.stop()
    await hub.central.close()
    await hub.async_save_now()
    return unloaded


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: OcppCsmsConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Removing a station's device forgets the station; an EVSE device goes with its station."""
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if EVSE_SEPARATOR in identifier:
            return False
        await entry.runtime_data.async_forget(identifier)
        _LOGGER.info("Station %s forgotten: it must be approved again to connect", identifier)
    return True
