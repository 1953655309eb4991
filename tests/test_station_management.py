"""Password rotation (A01), diagnostics, and the reconfigure, options and approval flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
    get_diagnostics_for_device,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms.const import (
    CERTIFICATES_FILES,
    CERTIFICATES_GENERATE,
    CONF_CA_FILE,
    CONF_CERT_FILE,
    CONF_CERTIFICATES,
    CONF_HEARTBEAT_INTERVAL,
    CONF_KEY_FILE,
    CONF_PORT,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    DOMAIN,
    SERVICE_ROTATE_PASSWORD,
)
from custom_components.ocpp_csms.csms.passwords import verify_password

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, ws_url
from .station_peer import station_connection


def station_device(hass: HomeAssistant, entry: MockConfigEntry, station_id: str) -> dr.DeviceEntry:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, station_id), entry.entry_id)
    assert device is not None
    return device


# ---- A01: rotating a station's password ---------------------------------------------------------------------


async def test_rotate_password_action_stores_the_new_hash_when_accepted(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    device = station_device(hass, entry, "CP-1")
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.services.async_call(DOMAIN, SERVICE_ROTATE_PASSWORD, {"device_id": device.id}, blocking=True)
        _, request = await station.next_received("SetVariables")
        [item] = request["set_variable_data"]
        assert (item["component"], item["variable"]) == ({"name": "SecurityCtrlr"}, {"name": "BasicAuthPassword"})
        new_password = item["attribute_value"]
        assert 16 <= len(new_password) <= 40
    record = entry.runtime_data.registry.get("CP-1")
    assert record is not None
    assert record.password_hash is not None
    assert verify_password(new_password, record.password_hash)
    assert not verify_password(STATION_PASSWORD, record.password_hash)
    # The station now gets in with its new password only.
    async with station_connection(ws_url(entry), "CP-1", password=new_password) as station:
        assert (await station.boot()).status == "Accepted"


async def test_rotate_password_button_keeps_the_old_password_when_rejected(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    before = entry.runtime_data.registry.get("CP-1")
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        station.set_variables_status = "Rejected"
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                "button", "press", {ATTR_ENTITY_ID: "button.cp_1_rotate_password"}, blocking=True
            )
        assert err.value.translation_key == "password_rejected"
        assert err.value.translation_placeholders == {"station": "CP-1", "status": "Rejected"}
    assert entry.runtime_data.registry.get("CP-1") == before


async def test_rotate_password_errors(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    device = station_device(hass, entry, "CP-1")
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(DOMAIN, SERVICE_ROTATE_PASSWORD, {"device_id": device.id}, blocking=True)
    assert err.value.translation_key == "station_not_connected"

    with pytest.raises(ServiceValidationError) as invalid:
        await hass.services.async_call(DOMAIN, SERVICE_ROTATE_PASSWORD, {"device_id": "nope"}, blocking=True)
    assert invalid.value.translation_key == "not_a_station"

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        station.route_map.pop("SetVariables")  # the station now answers NotImplemented to SetVariables
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(DOMAIN, SERVICE_ROTATE_PASSWORD, {"device_id": device.id}, blocking=True)
        assert err.value.translation_key == "station_error"


# ---- diagnostics ------------------------------------------------------------------------------------------


async def test_diagnostics_redact_secrets(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_integration(
        stations=[trusted_station("CP-1")],
        options={
            CONF_CERTIFICATES: CERTIFICATES_FILES,
            CONF_KEY_FILE: "/secret/key.pem",
            CONF_CERT_FILE: "/secret/cert.pem",
        },
    )
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        device_diagnostics = await get_diagnostics_for_device(
            hass, hass_client, entry, station_device(hass, entry, "CP-1")
        )
    text = json.dumps(diagnostics) + json.dumps(device_diagnostics)
    assert "scrypt$" not in text
    assert STATION_PASSWORD not in text
    assert "/secret/" not in text
    station = diagnostics["stations"]["CP-1"]
    assert station["record"]["password_hash"] == "**REDACTED**"
    assert station["connected"] is True
    assert station["boot"]["vendor"] == "ACME"
    assert diagnostics["listeners"] == [{"port": entry.data[CONF_PORT], "tls": False}]
    assert device_diagnostics["registration"] == "accepted"


# ---- flows ------------------------------------------------------------------------------------------------


async def test_reconfigure_changes_the_port(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration()
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure"
    port = free_port()
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: port})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_PORT] == port
    assert [listener.port for listener in entry.runtime_data.listeners] == [port]
    # Keeping the current port (held by our own listener) is fine too.
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: port})
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()  # the reload it started is done before Home Assistant stops
    assert [listener.port for listener in entry.runtime_data.listeners] == [port]


async def test_options_settings(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    assert result["step_id"] == "settings"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_UNKNOWN_STATIONS: "accept", "unknown_tokens": "accept", CONF_HEARTBEAT_INTERVAL: 60}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    config = entry.runtime_data.central.config
    assert (config.unknown_station_policy.value, config.heartbeat_interval) == ("accept", 60)
    assert entry.runtime_data.authorization.tokens.unknown_policy.value == "accept"
    assert entry.options["entity_detail"] == "full"  # not given: unchanged


async def test_options_tls(hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path) -> None:
    entry = await setup_integration()

    async def tls_step(user_input: dict[str, Any]) -> Any:
        result = await hass.config_entries.options.async_init(entry.entry_id)
        result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tls"})
        assert result["step_id"] == "tls"
        return await hass.config_entries.options.async_configure(result["flow_id"], user_input)

    result = await tls_step({CONF_TLS_PORT: entry.data[CONF_PORT], CONF_CERTIFICATES: CERTIFICATES_GENERATE})
    assert result["errors"] == {CONF_TLS_PORT: "same_port", CONF_TLS_HOSTS: "hosts_required"}

    result = await tls_step(
        {CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_FILES, CONF_CA_FILE: str(tmp_path / "no.pem")}
    )
    assert result["errors"] == {
        CONF_CERT_FILE: "file_required",
        CONF_KEY_FILE: "file_required",
        CONF_CA_FILE: "file_not_found",
    }

    tls_port = free_port()
    result = await tls_step(
        {CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "127.0.0.1"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert [(listener.port, listener.tls) for listener in entry.runtime_data.listeners] == [
        (entry.data[CONF_PORT], False),
        (tls_port, True),
    ]


async def test_options_tls_with_own_files(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    from custom_components.ocpp_csms.csms.certificates import (  # noqa: PLC0415
        generate_ca,
        generate_server_certificate,
        write_key_pair,
    )

    ca = generate_ca("My CA")
    cert_file, key_file = write_key_pair(tmp_path, "server", *generate_server_certificate(*ca, ["127.0.0.1"]))
    ca_file, _ = write_key_pair(tmp_path, "ca", *ca)
    entry = await setup_integration(
        options={
            CONF_TLS_PORT: free_port(),
            CONF_CERTIFICATES: CERTIFICATES_FILES,
            CONF_CERT_FILE: str(cert_file),
            CONF_KEY_FILE: str(key_file),
            CONF_CA_FILE: str(ca_file),
        }
    )
    assert [listener.tls for listener in entry.runtime_data.listeners] == [False, True]


async def test_tls_port_in_use_stops_the_plain_listener_too(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        tls_port = busy.getsockname()[1]
        entry = MockConfigEntry(
            domain=DOMAIN,
            unique_id=DOMAIN,
            data={CONF_PORT: free_port()},
            options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state.recoverable
    await hass.config_entries.async_unload(entry.entry_id)


async def test_approval_of_a_station_that_left(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    await setup_integration()
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_INTEGRATION_DISCOVERY},
        data={"station_id": "CP-X", "vendor": "ACME", "model": "M", "serial_number": ""},
    )
    assert result["step_id"] == "approve"
    assert result["description_placeholders"] == {
        "station_id": "CP-X",
        "vendor": "ACME",
        "model": "M",
        "serial_number": "-",
    }
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "station_gone"
