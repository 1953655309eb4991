"""OCPP 2.0.1 central system (CSMS) for Home Assistant.

`async_setup_entry` composes the integration: the HA-free central system, the shared context, the glue services
(each depending on the context and on callables passed here, never on each other), the listeners, and the runtime
data that entities and actions use.
"""

from __future__ import annotations

import asyncio
from functools import partial
import logging
from pathlib import Path
import ssl

from homeassistant.const import EVENT_HOMEASSISTANT_STOP, Platform
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr, issue_registry as ir
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .authorization import Authorization
from .availability import StationAvailability
from .charging_control import ChargingControl
from .const import (
    CERTIFICATE_DIR,
    CONF_HEARTBEAT_INTERVAL,
    CONF_PORT,
    CONF_REMOTE_ID_TOKEN,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_REMOTE_ID_TOKEN,
    DOMAIN,
    EVSE_SEPARATOR,
)
from .context import StationContext
from .csms.central_system import CentralSystem, CentralSystemConfig
from .csms.listener import OcppListener
from .csms.passwords import PasswordVerifier
from .csms.registry import UnknownStationPolicy
from .csms.throttle import FailureThrottle
from .devices import StationDevices
from .entity_detail import EntityLimitCheck, async_check_entity_limit, entity_detail_from
from .inventory import InventoryReader
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .services import async_setup_services
from .sessions import ChargingSessions
from .station.id_tokens import UnknownTokenPolicy
from .station_commands import StationCommands
from .station_requests import StationRequests
from .station_runtime import StationRuntimes, async_remove_station_stores
from .station_trust import StationTrust, async_load_registry, is_ignored, registry_store
from .tls_setup import CertificateError, build_server_context, remove_generated_certificates
from .variable_sync import VariableSync

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

DATA_AUTH: HassKey[tuple[PasswordVerifier, FailureThrottle]] = HassKey(f"{DOMAIN}_auth")
CERTIFICATES_ISSUE = "tls_certificates"


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Start the central system, its listeners (ws:// and, when configured, wss://) and the stations' entities."""
    options = entry.options
    ports: list[tuple[int, ssl.SSLContext | None]] = [(entry.data[CONF_PORT], None)]
    if tls_port := int(options.get(CONF_TLS_PORT, 0)):
        ports.append((tls_port, await _async_tls_context(hass, entry)))

    store = registry_store(hass)
    central = CentralSystem(
        await async_load_registry(store),
        CentralSystemConfig(
            heartbeat_interval=int(options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL)),
            unknown_station_policy=UnknownStationPolicy(
                options.get(CONF_UNKNOWN_STATIONS, UnknownStationPolicy.APPROVE)
            ),
        ),
        is_blocked=partial(is_ignored, hass),
    )
    runtimes = StationRuntimes(hass)
    await asyncio.gather(*(runtimes.async_get(record.station_id) for record in central.registry))
    context = StationContext(
        hass=hass,
        entry_id=entry.entry_id,
        central=central,
        runtimes=runtimes,
        background=partial(entry.async_create_background_task, hass),
    )

    token_store = Authorization.token_store(hass)
    tokens = await Authorization.async_load_tokens(
        token_store, UnknownTokenPolicy(options.get(CONF_UNKNOWN_TOKENS, "reject"))
    )
    authorization = Authorization(context, token_store, tokens)
    devices = StationDevices(context)
    variables = VariableSync(context)
    charging = ChargingControl(context)
    commands = StationCommands(
        context,
        remote_id_token=options.get(CONF_REMOTE_ID_TOKEN) or DEFAULT_REMOTE_ID_TOKEN,
        allow_remote_start=authorization.allow_remote_start,
        start_profile=charging.start_profile,
    )
    inventory = InventoryReader(
        context, evse_reported=devices.evse_reported, inventory_received=variables.async_inventory_received
    )
    requests = StationRequests(
        context,
        profiles_changed=charging.async_read_back,
        variables_written=variables.async_written,
        send_report_request=inventory.async_send_report_request,
    )
    sessions = ChargingSessions(
        context,
        evse_changed=devices.evse_changed,
        authorize=authorization.authorize,
        transaction_started=charging.transaction_started,
        transaction_ended=charging.transaction_ended,
    )
    trust = StationTrust(context, store)
    for service in (trust, devices, StationAvailability(context), inventory, sessions, variables):
        entry.async_on_unload(central.subscribe(service))

    # Kept across reloads: after a reload every station reconnects, and a verified password costs no new scrypt
    # run; failures counted before the reload still count.
    verifier, throttle = hass.data.get(DATA_AUTH) or _async_create_auth(hass)
    listeners: list[OcppListener] = []
    for port, ssl_context in ports:
        listener = OcppListener(central, verifier=verifier, throttle=throttle)
        try:
            await listener.start(port, ssl_context=ssl_context)
        except OSError as err:
            for started in listeners:
                await started.stop()
            await central.close()
            placeholders = {"port": str(port), "error": err.strerror or str(err)}
            ir.async_create_issue(
                hass,
                DOMAIN,
                f"port_unavailable_{port}",
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="port_unavailable",
                translation_placeholders=placeholders,
            )
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN, translation_key="port_unavailable", translation_placeholders=placeholders
            ) from err
        ir.async_delete_issue(hass, DOMAIN, f"port_unavailable_{port}")
        listeners.append(listener)

    detail = entity_detail_from(options)
    entity_limit = EntityLimitCheck(hass, entry.entry_id, detail)
    entry.runtime_data = OcppCsmsRuntimeData(
        context=context,
        listeners=tuple(listeners),
        trust=trust,
        devices=devices,
        inventory=inventory,
        sessions=sessions,
        authorization=authorization,
        variables=variables,
        charging=charging,
        commands=commands,
        requests=requests,
        entity_detail=detail,
        entity_limit=entity_limit,
    )
    entry.async_on_unload(variables.async_start())
    entry.async_on_unload(entity_limit.cancel)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_check_entity_limit(hass, entry.entry_id, detail)
    return True


async def _async_tls_context(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> ssl.SSLContext:
    """The wss:// listener's TLS context; a repair and a retry later when its certificates cannot be used."""
    try:
        context = await hass.async_add_executor_job(
            build_server_context, dict(entry.options), Path(hass.config.path(CERTIFICATE_DIR))
        )
    except CertificateError as err:
        placeholders = {"files": err.files}
        ir.async_create_issue(
            hass,
            DOMAIN,
            CERTIFICATES_ISSUE,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=f"certificates_{err.reason}",
            translation_placeholders=placeholders,
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key=f"certificates_{err.reason}",
            translation_placeholders=placeholders,
        ) from err
    ir.async_delete_issue(hass, DOMAIN, CERTIFICATES_ISSUE)
    return context


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
    """Stop the listeners, close every station connection, and save what is kept."""
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    data = entry.runtime_data
    data.charging.async_shutdown()
    for listener in data.listeners:
        await listener.stop()
    await data.central.close()
    await data.trust.async_save_now()
    await data.authorization.async_save_now()
    await data.runtimes.async_save_now()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> None:
    """Deleting the integration forgets everything it kept.

    The trusted stations (with their password hashes), their inventories and sessions, the ID tokens and the
    generated certificates are deleted: added again, the integration trusts no station it knew before.
    """
    store = registry_store(hass)
    for record in await async_load_registry(store):
        await async_remove_station_stores(hass, record.station_id)
    await store.async_remove()
    await Authorization.token_store(hass).async_remove()
    await hass.async_add_executor_job(remove_generated_certificates, Path(hass.config.path(CERTIFICATE_DIR)))
    _LOGGER.info("OCPP central system removed: trusted stations, ID tokens and generated certificates deleted")


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: OcppCsmsConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Removing a station's device forgets the station, and removes its EVSEs; an EVSE goes with its station."""
    for domain, identifier in device.identifiers:
        if domain != DOMAIN:
            continue
        if EVSE_SEPARATOR in identifier:
            return False
        await entry.runtime_data.trust.async_forget(identifier)
        entry.runtime_data.devices.remove_station(identifier)
    return True
