"""The options menu, the ID-token and TLS options steps, and the config flow's remaining branches."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
import socket
from typing import Any

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_INTEGRATION_DISCOVERY
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import (
    CERTIFICATES_FILES,
    CERTIFICATES_GENERATE,
    CONF_CERT_FILE,
    CONF_CERTIFICATES,
    CONF_KEY_FILE,
    CONF_PORT,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    DOMAIN,
    ID_TOKENS_STORAGE_KEY,
)
from custom_components.ocpp_csms.protocol.v201.enums import IdTokenEnum
from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry

from .conftest import SetupIntegration, free_port


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        yield busy.getsockname()[1]


async def options_step(hass: HomeAssistant, entry: MockConfigEntry, step: str) -> Any:
    """Open the options menu and pick `step`."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": step})


async def test_the_options_menu_offers_settings_id_tokens_tls_and_energy(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "init"
    assert result["menu_options"] == ["settings", "id_tokens", "tls", "iso15118", "energy", "security_upgrade"]


# ---- ID tokens ----------------------------------------------------------------------------------------------


async def test_id_tokens_step_adds_a_token_with_type_label_and_expiry(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    await hass.config.async_set_time_zone("Europe/Berlin")
    entry = await setup_integration()
    result = await options_step(hass, entry, "id_tokens")
    assert result["step_id"] == "id_tokens"
    assert result["description_placeholders"] == {"count": "0", "tokens": "-"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "id_token_add"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "id_token": "  CARD-1  ",
            "label": "Anna's card",
            "type": "ISO14443",
            "status": "Accepted",
            "expires": "2027-01-31 12:00:00",  # local time (CET): 11:00 UTC
        },
    )
    assert (result["type"], result["step_id"]) == (FlowResultType.MENU, "id_tokens")  # back to the list
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "id_tokens_done"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.runtime_data.authorization.tokens.get("CARD-1") == IdTokenEntry(
        id_token="CARD-1",
        type=IdTokenEnum.ISO14443,
        label="Anna's card",
        expires_at=datetime(2027, 1, 31, 11, 0, tzinfo=UTC),
    )
    # The list is kept: it is in storage once the entry unloads.
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[ID_TOKENS_STORAGE_KEY]["data"]["entries"] == [
        {
            "id_token": "CARD-1",
            "label": "Anna's card",
            "status": "Accepted",
            "type": "ISO14443",
            "expires_at": "2027-01-31T11:00:00+00:00",
        }
    ]


async def test_id_tokens_step_lists_tokens_and_removes_the_ones_picked(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    for id_token, label in (("CARD-1", "Anna"), ("CARD-2", ""), ("CARD-3", "Ben")):
        await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": id_token, "label": label}, blocking=True)
    result = await options_step(hass, entry, "id_tokens")
    assert result["description_placeholders"]["count"] == "3"
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "id_token_remove"})
    remove = result["data_schema"].schema["remove_id_tokens"]
    assert remove.config["options"] == [
        {"value": "CARD-1", "label": "CARD-1 Anna"},
        {"value": "CARD-2", "label": "CARD-2"},
        {"value": "CARD-3", "label": "CARD-3 Ben"},
    ]
    # Removing two, then adding one valid for any type, without expiry.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"remove_id_tokens": ["CARD-1", "CARD-3"]}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "id_token_add"})
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"id_token": "CARD-4", "type": "any", "status": "Accepted"}
    )
    tokens = entry.runtime_data.authorization.tokens
    assert [token.id_token for token in tokens] == ["CARD-2", "CARD-4"]
    assert tokens.get("CARD-4") == IdTokenEntry(id_token="CARD-4")

    # Removing nothing changes nothing.
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "id_token_remove"})
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert [token.id_token for token in entry.runtime_data.authorization.tokens] == ["CARD-2", "CARD-4"]


async def test_id_tokens_step_needs_the_central_system_running(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """The token list lives in the running central system: an unloaded entry has none to edit."""
    entry = await setup_integration()
    assert await hass.config_entries.async_unload(entry.entry_id)
    result = await options_step(hass, entry, "id_tokens")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "not_loaded"


# ---- TLS ------------------------------------------------------------------------------------------------


async def test_tls_step_refuses_a_port_in_use(
    hass: HomeAssistant, setup_integration: SetupIntegration, busy_port: int
) -> None:
    entry = await setup_integration()
    result = await options_step(hass, entry, "tls")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TLS_PORT: busy_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "x.lan"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_TLS_PORT: "port_in_use"}


async def test_tls_step_names_own_files_that_do_not_exist(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    entry = await setup_integration()
    result = await options_step(hass, entry, "tls")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_TLS_PORT: free_port(),
            CONF_CERTIFICATES: CERTIFICATES_FILES,
            CONF_CERT_FILE: str(tmp_path / "server.crt"),
            CONF_KEY_FILE: str(tmp_path / "server.key"),
        },
    )
    assert result["errors"] == {CONF_CERT_FILE: "file_not_found", CONF_KEY_FILE: "file_not_found"}


async def test_tls_step_requires_host_names_for_generated_certificates(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    result = await options_step(hass, entry, "tls")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: " , "}
    )
    assert result["errors"] == {CONF_TLS_HOSTS: "hosts_required"}


async def test_tls_port_0_turns_the_tls_listener_off(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(
        options={CONF_TLS_PORT: free_port(), CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"}
    )
    assert [listener.tls for listener in entry.runtime_data.listeners] == [False, True]
    result = await options_step(hass, entry, "tls")
    # The form suggests what is configured.
    suggested = {str(key): key.description["suggested_value"] for key in result["data_schema"].schema}
    assert suggested[CONF_TLS_PORT] == entry.options[CONF_TLS_PORT]
    assert suggested[CONF_TLS_HOSTS] == "localhost"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_TLS_PORT: 0, CONF_CERTIFICATES: CERTIFICATES_GENERATE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_TLS_PORT] == 0
    assert [(listener.port, listener.tls) for listener in entry.runtime_data.listeners] == [
        (entry.data[CONF_PORT], False)
    ]


# ---- reconfigure and discovery ----------------------------------------------------------------------------


async def test_reconfigure_refuses_a_port_in_use(
    hass: HomeAssistant, setup_integration: SetupIntegration, busy_port: int
) -> None:
    entry = await setup_integration()
    port = entry.data[CONF_PORT]
    result = await entry.start_reconfigure_flow(hass)
    schema_keys = {str(key): key for key in result["data_schema"].schema}
    assert schema_keys[CONF_PORT].description == {"suggested_value": port}  # the current port
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: busy_port})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_PORT: "port_in_use"}
    assert entry.data[CONF_PORT] == port


@pytest.mark.parametrize("source", ["ignore", "pending"])
async def test_discovery_of_a_station_already_offered_or_ignored_is_not_offered_again(
    hass: HomeAssistant, setup_integration: SetupIntegration, source: str
) -> None:
    await setup_integration()
    discovery = {"station_id": "CP-X", "vendor": "ACME", "model": "M", "serial_number": "SN-1"}
    if source == "ignore":
        MockConfigEntry(domain=DOMAIN, source=SOURCE_IGNORE, unique_id="station:CP-X").add_to_hass(hass)
    else:
        first = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=discovery
        )
        assert first["step_id"] == "approve"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_INTEGRATION_DISCOVERY}, data=discovery
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == ("already_configured" if source == "ignore" else "already_in_progress")


async def test_tls_step_takes_a_second_certificate_of_the_other_key_type(
    hass: HomeAssistant, setup_integration: SetupIntegration, tmp_path: Path
) -> None:
    """A00.FR.318 with the user's own files: an EC and an RSA certificate, each with its key; a half pair is refused."""
    from custom_components.ocpp_csms.const import CONF_SECOND_CERT_FILE, CONF_SECOND_KEY_FILE  # noqa: PLC0415
    from custom_components.ocpp_csms.csms.certificates import (  # noqa: PLC0415
        generate_ca,
        generate_server_certificate,
        write_key_pair,
    )

    ca = generate_ca("Own CA")
    ec_cert, ec_key = write_key_pair(tmp_path, "ec", *generate_server_certificate(*ca, ["localhost"]))
    rsa_cert, rsa_key = write_key_pair(
        tmp_path, "rsa", *generate_server_certificate(*ca, ["localhost"], key_type="rsa")
    )
    entry = await setup_integration()
    result = await options_step(hass, entry, "tls")
    own = {
        CONF_TLS_PORT: free_port(),
        CONF_CERTIFICATES: CERTIFICATES_FILES,
        CONF_CERT_FILE: str(ec_cert),
        CONF_KEY_FILE: str(ec_key),
        CONF_SECOND_CERT_FILE: str(rsa_cert),
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], own)
    assert result["errors"] == {CONF_SECOND_KEY_FILE: "file_required"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**own, CONF_SECOND_KEY_FILE: str(rsa_key)}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_SECOND_KEY_FILE] == str(rsa_key)
    assert [listener.tls for listener in entry.runtime_data.listeners] == [False, True]


async def test_iso15118_step_takes_an_http_provider_url(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    from custom_components.ocpp_csms.const import CONF_CONTRACT_PROVIDER_URL  # noqa: PLC0415

    entry = await setup_integration()
    result = await options_step(hass, entry, "iso15118")
    assert result["step_id"] == "iso15118"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CONTRACT_PROVIDER_URL: "file:///etc/passwd"}
    )
    assert result["errors"] == {CONF_CONTRACT_PROVIDER_URL: "invalid_url"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_CONTRACT_PROVIDER_URL: " https://pnc.example/ocpp "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_CONTRACT_PROVIDER_URL] == "https://pnc.example/ocpp"


async def test_iso15118_step_takes_the_household_cars_one_per_line(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    from custom_components.ocpp_csms.const import CONF_CONTRACT_PROVIDER_URL, CONF_HOME_CONTRACTS  # noqa: PLC0415

    entry = await setup_integration()
    result = await options_step(hass, entry, "iso15118")
    for text, error, line in (
        ("WMIV1234567890ABCD", "invalid_home_contract", "WMIV1234567890ABCD"),
        ("WMIV1234567890ABCD DE-8AA-1B2C3D4E5", "invalid_home_contract", "WMIV1234567890ABCD DE-8AA-1B2C3D4E5"),
        ("SHORTPCID DE8AAA1B2C3D4E5", "invalid_home_contract", "SHORTPCID DE8AAA1B2C3D4E5"),
        (
            "WMIV1234567890ABCD DE8AAA1B2C3D4E5\nwmiv1234567890abcd=DE8AAA1B2C3D4E6",
            "duplicate_car",
            "wmiv1234567890abcd=DE8AAA1B2C3D4E6",
        ),
    ):
        result = await hass.config_entries.options.async_configure(result["flow_id"], {CONF_HOME_CONTRACTS: text})
        assert result["errors"] == {CONF_HOME_CONTRACTS: error}
        assert result["description_placeholders"] == {"line": line}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_HOME_CONTRACTS: " wmiv1234567890abcd  de8aaa1b2c3d4e5 \n\nWMIV9876543210ABC: DE8AAA1B2C3D4E6\n"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    contracts = {"WMIV1234567890ABCD": "DE8AAA1B2C3D4E5", "WMIV9876543210ABC": "DE8AAA1B2C3D4E6"}
    assert entry.options[CONF_HOME_CONTRACTS] == contracts
    assert entry.options[CONF_CONTRACT_PROVIDER_URL] == ""
    assert entry.runtime_data.home_mobility.contracts == contracts  # applied without a reload
    assert entry.runtime_data.home_mobility.assigned("de8aaa1b2c3d4e6")
    # Shown again as it was written back: one car per line.
    result = await options_step(hass, entry, "iso15118")
    schema = result["data_schema"].schema
    suggested = {str(key): key.description["suggested_value"] for key in schema}
    assert suggested[CONF_HOME_CONTRACTS] == "WMIV1234567890ABCD DE8AAA1B2C3D4E5\nWMIV9876543210ABC DE8AAA1B2C3D4E6"
