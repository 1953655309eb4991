"""A station's life in Home Assistant: approval without credentials, repairs, removal, and deleting the integration."""

from __future__ import annotations

from pathlib import Path
import socket
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms import async_remove_config_entry_device
from custom_components.ocpp_csms.const import (
    CERTIFICATE_DIR,
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_PORT,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    DOMAIN,
    ID_TOKENS_STORAGE_KEY,
    STORAGE_KEY,
)
from custom_components.ocpp_csms.csms.passwords import verify_password
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.station_trust import no_password_issue_id
from custom_components.ocpp_csms.tls_setup import GENERATED_FILES
from custom_components.ocpp_csms.variable_sync import reboot_issue_id

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url
from .station_peer import StationPeer, station_connection


async def report_evse(station: StationPeer, evse_id: int = 1) -> None:
    await station.call(
        call_status(evse_id),
    )


def call_status(evse_id: int) -> Any:
    from ocpp.v201 import call  # noqa: PLC0415 - the station side's own types

    return call.StatusNotification(
        timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=evse_id, connector_id=1
    )


async def approve(hass: HomeAssistant, station_id: str) -> None:
    """The user adds the discovered station."""
    await hass.async_block_till_done()
    (flow,) = [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        and flow["context"].get("unique_id") == f"station:{station_id}"
    ]
    result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
    assert result["reason"] == "station_approved"


def evse_entities(hass: HomeAssistant, entry: MockConfigEntry, station_id: str, evse_id: int) -> list[str]:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, evse_identifier(station_id, evse_id)), entry.entry_id
    )
    if device is None:
        return []
    return [item.entity_id for item in er.async_entries_for_device(er.async_get(hass), device.id)]


# ---- removal and approval again -------------------------------------------------------------------------


async def test_removing_a_station_removes_its_evses_and_approving_it_again_brings_them_back(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    devices = dr.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        assert evse_entities(hass, entry, "CP-1", 1)
        assert hass.states.get("sensor.cp_1_evse_1_power") is not None
        device = devices.async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id)
        assert device is not None
        assert await async_remove_config_entry_device(hass, entry, device)
        await hass.async_block_till_done()
    assert devices.async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", 1)), entry.entry_id) is None
    assert evse_entities(hass, entry, "CP-1", 1) == []
    assert hass.states.get("sensor.cp_1_evse_1_power") is None

    # It comes back, is approved again in the same run, and gets its EVSE's device and entities again.
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Pending"
        await approve(hass, "CP-1")
        await wait_for(lambda: station.boot_statuses[-1:] == ["Accepted"])
        await report_evse(station)
        await hass.async_block_till_done()
        assert evse_entities(hass, entry, "CP-1", 1)
        state = hass.states.get("sensor.cp_1_evse_1_connector_status")
        assert state is not None
        assert state.state == "available"


# ---- approval of a station without credentials (A01) ---------------------------------------------------


async def test_a_station_approved_without_credentials_gets_a_password(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    async with station_connection(ws_url(entry), "CP-8") as station:
        assert (await station.boot()).status == "Pending"
        await approve(hass, "CP-8")
        _, request = await station.next_received("SetVariables")
        (item,) = request["set_variable_data"]
        assert (item["component"]["name"], item["variable"]["name"]) == ("SecurityCtrlr", "BasicAuthPassword")
        password = item["attribute_value"]
        assert 16 <= len(password) <= 40
        await wait_for(lambda: entry.runtime_data.registry.get("CP-8").password_hash is not None)  # type: ignore[union-attr]
    record = entry.runtime_data.registry.get("CP-8")
    assert record is not None
    assert record.security_profile is SecurityProfile.BASIC_AUTH
    assert record.password_hash is not None
    assert await hass.async_add_executor_job(verify_password, password, record.password_hash)
    assert ir.async_get(hass).async_get_issue(DOMAIN, no_password_issue_id("CP-8")) is None
    # From now on it must use that password.
    async with station_connection(ws_url(entry), "CP-8", password=password) as station:
        assert (await station.boot()).status == "Accepted"


async def test_a_station_that_refuses_a_password_gets_a_repair(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(options={"unknown_stations": "accept"})
    async with station_connection(ws_url(entry), "CP-8") as station:
        station.set_variables_status = "Rejected"
        assert (await station.boot()).status == "Accepted"
        await station.next_received("SetVariables")
        await wait_for(lambda: ir.async_get(hass).async_get_issue(DOMAIN, no_password_issue_id("CP-8")) is not None)
    issue = ir.async_get(hass).async_get_issue(DOMAIN, no_password_issue_id("CP-8"))
    assert issue is not None
    assert issue.translation_placeholders == {"station": "CP-8", "status": "Rejected"}
    record = entry.runtime_data.registry.get("CP-8")
    assert record is not None
    assert record.security_profile is SecurityProfile.NONE
    # Forgetting the station deletes its repairs.
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-8"), entry.entry_id)
    assert device is not None
    assert await async_remove_config_entry_device(hass, entry, device)
    assert ir.async_get(hass).async_get_issue(DOMAIN, no_password_issue_id("CP-8")) is None


# ---- repairs --------------------------------------------------------------------------------------------


async def test_the_reboot_repair_goes_when_the_station_boots_again(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    issues = ir.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        station.set_variables_status = "RebootRequired"
        response = await hass.services.async_call(
            DOMAIN,
            "set_variables",
            {
                "device_id": dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id).id,  # type: ignore[union-attr]
                "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "120"}],
            },
            blocking=True,
            return_response=True,
        )
        assert response == {
            "results": [
                {
                    "attributeStatus": "RebootRequired",
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        }
        assert issues.async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is not None
        await station.boot(reason="RemoteReset")  # rebooted by other means than the repair
        await hass.async_block_till_done()
        assert issues.async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is None


# ---- certificates ---------------------------------------------------------------------------------------


async def test_missing_certificate_files_get_their_own_repair(
    hass: HomeAssistant, socket_enabled: None, tmp_path: Path
) -> None:
    port = free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DOMAIN,
        data={CONF_PORT: port},
        options={
            CONF_TLS_PORT: free_port(),
            CONF_CERTIFICATES: "files",
            "cert_file": str(tmp_path / "gone.crt"),
            "key_file": str(tmp_path / "gone.key"),
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "tls_certificates")
    assert issue is not None
    assert issue.translation_key == "certificates_missing"
    assert issue.translation_placeholders == {"files": f"{tmp_path / 'gone.crt'}, {tmp_path / 'gone.key'}"}
    assert ir.async_get(hass).async_get_issue(DOMAIN, f"port_unavailable_{port}") is None
    # Nothing was left listening: the plain port is free.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))
    await hass.config_entries.async_unload(entry.entry_id)


async def test_a_corrupt_generated_ca_fails_cleanly(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    directory = Path(hass.config.path(CERTIFICATE_DIR))  # shared by the tests: restored at the end
    saved = await hass.async_add_executor_job(_save_generated, directory)
    await hass.async_add_executor_job((directory / "ca.crt").write_text, "not a certificate")
    await hass.async_add_executor_job((directory / "ca.key").write_text, "not a key")
    port = free_port()
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=DOMAIN,
        data={CONF_PORT: port},
        options={CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
    )
    entry.add_to_hass(hass)
    try:
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        issue = ir.async_get(hass).async_get_issue(DOMAIN, "tls_certificates")
        assert issue is not None
        assert issue.translation_key == "certificates_invalid"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_add_executor_job(_restore_generated, directory, saved)


def _save_generated(directory: Path) -> dict[str, bytes]:
    directory.mkdir(parents=True, exist_ok=True)
    return {name: (directory / name).read_bytes() for name in GENERATED_FILES if (directory / name).exists()}


def _restore_generated(directory: Path, saved: dict[str, bytes]) -> None:
    for name in GENERATED_FILES:
        (directory / name).unlink(missing_ok=True)
    for name, content in saved.items():
        (directory / name).write_bytes(content)


# ---- diagnostics ----------------------------------------------------------------------------------------


async def test_diagnostics_redact_identities(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, serial_number="SN-SECRET"
    ) as station:
        await station.boot()
        await hass.async_block_till_done()
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = str(diagnostics)
    assert "SN-SECRET" not in text
    assert "127.0.0.1" not in text
    station = diagnostics["stations"]["CP-1"]
    assert station["boot"]["serial_number"] == "**REDACTED**"
    assert station["credentials"]["remote_address"] == "**REDACTED**"
    assert station["record"]["password_hash"] == "**REDACTED**"


# ---- deleting the integration ---------------------------------------------------------------------------


async def test_deleting_the_integration_forgets_every_station_token_and_certificate(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_integration(
        options={CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        stations=[trusted_station("CP-1")],
    )
    directory = Path(hass.config.path(CERTIFICATE_DIR))
    own_file = directory / "my-own.pem"
    await hass.async_add_executor_job(own_file.write_text, "kept")
    await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": "CARD-1"}, blocking=True)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
    assert await hass.config_entries.async_unload(entry.entry_id)
    session_keys = [key for key in hass_storage if key.startswith(f"{DOMAIN}.sessions.")]
    assert session_keys
    assert hass_storage[ID_TOKENS_STORAGE_KEY]["data"]["entries"]

    assert (await hass.config_entries.async_remove(entry.entry_id))["require_restart"] is False
    await hass.async_block_till_done()
    assert STORAGE_KEY not in hass_storage
    assert ID_TOKENS_STORAGE_KEY not in hass_storage
    assert not [key for key in hass_storage if key.startswith(f"{DOMAIN}.sessions.")]
    assert not await hass.async_add_executor_job((directory / "ca.key").exists)
    assert await hass.async_add_executor_job(own_file.exists)  # the user's own files stay
    await hass.async_add_executor_job(own_file.unlink)

    # Added again, the integration trusts no station it knew: CP-1 must be approved again.
    entry = await setup_integration()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Pending"


# ---- security events ------------------------------------------------------------------------------------


async def test_the_reboot_home_assistant_asked_for_is_no_warning(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    """A04: a ResetOrReboot after a reset Home Assistant asked for is logged as information, another as a warning."""
    from ocpp.v201 import call  # noqa: PLC0415 - the station side's own types

    entry = await setup_integration(stations=[trusted_station("CP-1")])
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id)
    assert device is not None
    event = call.SecurityEventNotification(type="ResetOrReboot", timestamp="2026-11-21T10:00:00Z")
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.services.async_call(DOMAIN, "reset", {"device_id": device.id}, blocking=True)
        await station.call(event)
        await station.call(event)  # the second one was not asked for
    reboots = [record for record in caplog.records if record.name == "custom_components.ocpp_csms.csms.notifications"]
    assert [record.levelname for record in reboots] == ["INFO", "WARNING"]
    assert reboots[0].getMessage() == "CP-1: rebooted as Home Assistant asked (security event ResetOrReboot)"
