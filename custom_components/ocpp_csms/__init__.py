"""OCPP 2.0.1 central system (CSMS) for Home Assistant.

`async_setup_entry` composes the integration: the HA-free central system, the shared context, the glue services
(each depending on the context and on callables passed here, never on each other), the listeners, and the runtime
data that entities and actions use.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
import logging
from pathlib import Path
from typing import Any

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.typing import ConfigType

from .authorization import Authorization
from .availability import StationAvailability
from .charging_control import ChargingControl
from .const import (
    CERTIFICATE_DIR,
    CONF_CONTRACT_PROVIDER_URL,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOME_CONTRACTS,
    CONF_LOCAL_AUTH_LIST,
    CONF_REMOTE_ID_TOKEN,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOCAL_AUTH_LIST,
    DEFAULT_REMOTE_ID_TOKEN,
    DOMAIN,
    EVSE_SEPARATOR,
    PLATFORMS,
)
from .context import StationContext
from .csms.central_system import CentralSystem, CentralSystemConfig, StationListener
from .csms.certificate_authority import GENERATED_FILES as CA_GENERATED_FILES
from .csms.registry import UnknownStationPolicy
from .devices import StationDevices
from .entity_detail import EntityLimitCheck, async_check_entity_limit, entity_detail_from
from .home_mobility import HomeMobility
from .inventory import InventoryReader
from .iso15118 import Iso15118
from .listener_setup import async_listener_ports, async_start_listeners, tls_url, uses_own_ca
from .live_options import applied_options, async_apply_options
from .local_auth_list import LocalAuthLists
from .platform import async_remove_entities_in_steps
from .protocol.v201.enums import Reset
from .reservations import StationReservations
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .security_upgrade import SecurityUpgrade
from .services import async_setup_services
from .sessions import ChargingSessions
from .signals import station_removed_signal
from .station.id_tokens import UnknownTokenPolicy
from .station_certificates import StationCertificates, async_load_certificates
from .station_commands import StationCommands
from .station_requests import StationRequests
from .station_runtime import InventoryCache, StationRuntimes, async_remove_station_stores
from .station_trust import StationTrust, async_load_registry, is_ignored, registry_store
from .tls_setup import remove_generated_certificates
from .v2g.issuers import GENERATED_FILES as HOME_MOBILITY_FILES
from .variable_sync import VariableSync

# station management: firmware (L), logs, monitoring and customer information (N), display messages (O)
from .const import CONF_PROBLEM_SEVERITY, DEFAULT_PROBLEM_SEVERITY  # isort: skip
from .customer_information import CustomerInformation  # isort: skip
from .display_messages import DisplayMessages  # isort: skip
from .file_transfer import FileTransfer, async_register_views, async_remove_all_logs  # isort: skip
from .firmware_updates import FirmwareUpdates  # isort: skip
from .monitoring import StationMonitoring  # isort: skip
from .station_logs import StationLogs  # isort: skip

# the energy manager: charging modes, solar surplus, phase switching, load balancing
from .const import CONF_ENERGY  # isort: skip
from .energy_manager import EnergyManagement  # isort: skip

# departure planning and session cost (tariffs, block I)
from .departure_planning import DeparturePlanning  # isort: skip

_LOGGER = logging.getLogger(__name__)

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the integration's actions, and the HTTP views stations fetch firmware from and upload logs to."""
    async_setup_services(hass)
    async_register_views(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Start the central system, its listeners (ws:// and, when configured, wss://) and the stations' entities."""
    options = entry.options
    ports = await async_listener_ports(hass, entry.data, options)

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
    await runtimes.async_load_all(
        (record.station_id for record in central.registry), InventoryCache.take(hass, entry.entry_id)
    )
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
    list_store = LocalAuthLists.list_store(hass)
    local_lists = LocalAuthLists(
        context,
        list_store,
        tokens,
        await LocalAuthLists.async_load_states(list_store),
        enabled=bool(options.get(CONF_LOCAL_AUTH_LIST, DEFAULT_LOCAL_AUTH_LIST)),
    )
    reservation_store = StationReservations.reservation_store(hass)
    reservations = StationReservations(
        context, reservation_store, await StationReservations.async_load_book(reservation_store)
    )
    devices = StationDevices(context)
    variables = VariableSync(context)
    charging = ChargingControl(context)
    energy, planner = await _async_setup_energy(hass, entry, context, charging)
    # ---- issue 17: ISO 15118 (OCSP, contract certificates, EV charging needs) ----
    home_mobility = HomeMobility(hass, Path(hass.config.path(CERTIFICATE_DIR)), options.get(CONF_HOME_CONTRACTS, {}))
    iso15118 = Iso15118(
        context,
        provider_url=options.get(CONF_CONTRACT_PROVIDER_URL),
        ev_schedule=charging.async_ev_schedule,
        has_transaction=lambda station_id, evse_id: evse_id in charging.transactions(station_id, evse_id),
        needs_changed=planner.ev_needs_changed,
        home_contract=home_mobility.async_certificate,
        own_contract_status=home_mobility.async_contract_status,
    )
    authorization = Authorization(
        context,
        token_store,
        tokens,
        check_capacity=local_lists.check_capacity,
        tokens_changed=local_lists.tokens_changed,
        contract_check=iso15118.check_contract,
        assigned_contract=home_mobility.assigned,
    )
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
        evse_changed=_all(devices.evse_changed, energy.evse_changed, planner.evse_changed),
        authorize=authorization.authorize,
        transaction_started=charging.transaction_started,
        transaction_ended=charging.transaction_ended,
        reservation_used=reservations.reservation_used,
        cost_answer=planner.transaction_answer,
    )
    trust = StationTrust(context, store)
    for service in (trust, devices, StationAvailability(context), inventory, sessions, variables, local_lists):
        entry.async_on_unload(central.subscribe(service))

    management = await _async_setup_station_management(hass, entry, context, variables)
    certificates, upgrade = await _async_setup_certificates(hass, entry, context, commands.async_reset)

    try:
        listeners = await async_start_listeners(hass, central, ports)
    except ConfigEntryNotReady:
        await central.close()
        raise

    detail = entity_detail_from(options)
    entity_limit = EntityLimitCheck(hass, entry.entry_id, detail)
    entry.runtime_data = OcppCsmsRuntimeData(
        context=context,
        listeners=listeners,
        applied_options=applied_options(entry),
        trust=trust,
        devices=devices,
        inventory=inventory,
        sessions=sessions,
        authorization=authorization,
        variables=variables,
        charging=charging,
        commands=commands,
        requests=requests,
        entity_limit=entity_limit,
        **management,
        local_lists=local_lists,
        reservations=reservations,
        certificates=certificates,
        iso15118=iso15118,
        home_mobility=home_mobility,
        upgrade=upgrade,
        energy=energy,
        planner=planner,
    )
    entry.async_on_unload(variables.async_start())
    entry.async_on_unload(local_lists.async_start())
    entry.async_on_unload(reservations.async_start())
    entry.async_on_unload(certificates.async_start())
    entry.async_on_unload(async_dispatcher_connect(hass, station_removed_signal(entry.entry_id), certificates.forget))
    entry.async_on_unload(entity_limit.cancel)
    entry.async_on_unload(entry.add_update_listener(_async_options_updated))
    entry.async_on_unload(hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, partial(_async_stop, entry)))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    async_check_entity_limit(hass, entry.entry_id, detail)
    return True


async def _async_setup_certificates(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    context: StationContext,
    reset: Callable[[str, Reset], Awaitable[str]],
) -> tuple[StationCertificates, SecurityUpgrade]:
    """Station certificates (A02-A03, M03-M05) and security profile upgrades (A05)."""
    options = entry.options
    certificate_store = StationCertificates.storage(hass)
    certificates = StationCertificates(
        context,
        certificate_store,
        await async_load_certificates(certificate_store),
        certificate_dir=Path(hass.config.path(CERTIFICATE_DIR)),
        own_ca=uses_own_ca(options),
    )
    entry.async_on_unload(context.central.subscribe(certificates))
    upgrade = SecurityUpgrade(
        context,
        tls_url=tls_url(options),
        install_root=certificates.async_install,
        has_new_certificate=certificates.has_new_certificate,
        reset=reset,
    )
    return certificates, upgrade


async def _async_setup_energy(
    hass: HomeAssistant, entry: OcppCsmsConfigEntry, context: StationContext, charging: ChargingControl
) -> tuple[EnergyManagement, DeparturePlanning]:
    """The energy manager (its settings restored; it sends limits through the charging control) and the planner."""
    store = EnergyManagement.energy_store(hass)
    energy = EnergyManagement(
        context,
        store,
        await EnergyManagement.async_load(store),
        options=entry.options.get(CONF_ENERGY, {}),
        set_limit=charging.async_set_limit,
        clear_limits=charging.async_clear,
        capabilities=charging.capabilities,
        electrics=charging.electrics,
        max_current=charging.max_current,
    )
    entry.async_on_unload(context.central.subscribe(energy))
    entry.async_on_unload(energy.async_start())
    return energy, await _async_setup_planner(hass, entry, context, charging, energy)


async def _async_setup_planner(
    hass: HomeAssistant,
    entry: OcppCsmsConfigEntry,
    context: StationContext,
    charging: ChargingControl,
    energy: EnergyManagement,
) -> DeparturePlanning:
    """The departure planner and session cost: the energy manager's currents, the charging control's profiles."""
    store = DeparturePlanning.planner_store(hass)
    planner = DeparturePlanning(
        context,
        store,
        await DeparturePlanning.async_load(store),
        options=entry.options.get(CONF_ENERGY, {}),
        settings=energy.settings,
        capabilities=charging.capabilities,
        allocator=charging.allocator,
        electrics=charging.electrics,
        send_profiles=charging.async_send_profiles,
        composite=charging.async_composite,
        set_limit=charging.async_set_limit,
        clear_limits=charging.async_clear,
        currency=lambda: hass.config.currency,
    )
    entry.async_on_unload(context.central.subscribe(planner))
    entry.async_on_unload(planner.async_start())
    return planner


def _all(*callbacks: Callable[[str, int], None]) -> Callable[[str, int], None]:
    """One callback that calls several (an EVSE changed: its devices' entities, the energy manager, the planner)."""

    @callback
    def each(station_id: str, evse_id: int) -> None:
        for changed in callbacks:
            changed(station_id, evse_id)

    return each


async def _async_setup_station_management(
    hass: HomeAssistant, entry: OcppCsmsConfigEntry, context: StationContext, variables: VariableSync
) -> dict[str, Any]:
    """Firmware (L), logs, monitoring and customer information (N), display messages (O): the runtime data's."""
    files = FileTransfer(hass)
    entry.async_on_unload(files.withdraw_all)
    firmware_store = FirmwareUpdates.offers_store(hass)
    firmware = FirmwareUpdates(
        context,
        firmware_store,
        await FirmwareUpdates.async_load_offers(firmware_store),
        resolve_file=files.async_resolve_firmware,
        serve_file=files.serve_file,
    )
    monitoring = StationMonitoring(
        context,
        events_received=variables.async_events_received,
        own_monitors_dropped=variables.async_monitors_dropped,
        problem_severity=int(entry.options.get(CONF_PROBLEM_SEVERITY, DEFAULT_PROBLEM_SEVERITY)),
    )
    display = DisplayMessages(context)
    customer_information = CustomerInformation(context)
    listeners: tuple[StationListener, ...] = (monitoring, display, customer_information)
    for listener in listeners:
        entry.async_on_unload(context.central.subscribe(listener))
    return {
        "files": files,
        "firmware": firmware,
        "logs": StationLogs(
            context, base_url=files.base_url, expect_upload=files.expect_upload, signed_url=files.signed_log_url
        ),
        "monitoring": monitoring,
        "display": display,
        "customer_information": customer_information,
    }


async def _async_options_updated(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> None:
    """Options (or the port) changed: apply them while running; only what cannot be is applied by a reload."""
    if not await async_apply_options(hass, entry):
        await hass.config_entries.async_reload(entry.entry_id)


async def _async_stop(entry: OcppCsmsConfigEntry, _event: Event) -> None:
    """Home Assistant stops (entries are not unloaded): close the stations' connections first, then save.

    Stations queue what happens from then on and replay it to the next run; what was acknowledged is saved, and
    the sessions are marked clean (their energy is shown at once after the restart).
    """
    data = entry.runtime_data
    await _async_close_stations(data)
    await data.runtimes.async_save_now()


async def _async_close_stations(data: OcppCsmsRuntimeData) -> None:
    """Stop listening and close every station's connection."""
    for listener in data.listeners:
        await listener.stop()
    await data.central.close()


async def async_unload_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Stop the listeners, close every station connection, and save what is kept.

    The entities go in steps first (a fleet's thousands would stall the event loop for seconds in one go).
    """
    data = entry.runtime_data
    data.stop_platform_listeners()
    await async_remove_entities_in_steps(hass, entry)
    unloaded = await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
    data.charging.async_shutdown()
    await _async_close_stations(data)
    await data.trust.async_save_now()
    await data.authorization.async_save_now()
    await data.local_lists.async_save_now()
    await data.reservations.async_save_now()
    await data.runtimes.async_save_now()
    InventoryCache.keep(hass, entry.entry_id, data.runtimes.values())
    await data.firmware.async_save_now()
    await data.certificates.async_save_now()
    await data.energy.async_save_now()
    await data.planner.async_save_now()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> None:
    """Deleting the integration forgets everything it kept.

    The trusted stations (with their password hashes), their inventories and sessions, the ID tokens, what the
    stations' local lists hold, the reservations, the energy manager's settings and the generated certificates are
    deleted: added again, the integration trusts no station it knew before.
    """
    InventoryCache.discard(hass, entry.entry_id)
    store = registry_store(hass)
    for record in await async_load_registry(store):
        await async_remove_station_stores(hass, record.station_id)
    await store.async_remove()
    await Authorization.token_store(hass).async_remove()
    await FirmwareUpdates.offers_store(hass).async_remove()
    await async_remove_all_logs(hass)
    await LocalAuthLists.list_store(hass).async_remove()
    await StationReservations.reservation_store(hass).async_remove()
    await StationCertificates.storage(hass).async_remove()
    await hass.async_add_executor_job(
        remove_generated_certificates,
        Path(hass.config.path(CERTIFICATE_DIR)),
        (*CA_GENERATED_FILES, *HOME_MOBILITY_FILES),
    )
    await EnergyManagement.energy_store(hass).async_remove()
    await DeparturePlanning.planner_store(hass).async_remove()
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
        # station management: its firmware offer, problems and logs go too
        entry.runtime_data.firmware.forget_station(identifier)
        entry.runtime_data.monitoring.forget_station(identifier)
        await entry.runtime_data.files.async_remove_station_logs(identifier)
        entry.runtime_data.energy.forget_station(identifier)
        entry.runtime_data.planner.forget_station(identifier)
    return True
