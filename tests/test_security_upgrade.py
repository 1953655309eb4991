"""Upgrading a station's security profile from Home Assistant (A05), 1 → 2 → 3, with the simulator.

The simulator implements the station's side as the spec says: InstallCertificate, CSR and CertificateSigned (its key
never leaves it), SetNetworkProfile, NetworkConfigurationPriority (refused without a CSMS root or a station
certificate, A05.FR.02-03), reboot onto the first connection profile and dropping the lower ones (A05.FR.05-06).
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from custom_components.ocpp_csms.const import (
    CERTIFICATE_DIR,
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    DOMAIN,
)
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from tools.simulator import SimStation, StationConfig

from .certificate_station import CertificateStation
from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url
from .station_peer import SUBPROTOCOL, basic_auth_header, station_connection


def station_config(entry: MockConfigEntry) -> StationConfig:
    return StationConfig(
        station_id="sim-001",
        url=ws_url(entry),
        password=STATION_PASSWORD,
        security_profile=1,
        meter_interval=5,
        plug_delay=0.05,
        reboot_delay=0.05,
        backoff_min=0.05,
        backoff_range=0.05,
        response_timeout=5,
        open_timeout=5,
    )


async def upgrade(hass: HomeAssistant, entry: MockConfigEntry, profile: int, **extra: Any) -> Any:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "sim-001"), entry.entry_id)
    assert device is not None
    return await hass.services.async_call(
        DOMAIN,
        "upgrade_security_profile",
        {"device_id": device.id, "security_profile": profile, "timeout": 20, **extra},
        blocking=True,
        return_response=True,
    )


async def test_a05_upgrade_from_profile_1_to_2_to_3_with_the_simulator(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    tls_port = free_port()
    entry = await setup_integration(
        options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        stations=[trusted_station("sim-001")],
    )
    registry = entry.runtime_data.registry
    station = SimStation(station_config(entry))
    task = asyncio.create_task(station.run())
    try:
        await wait_for(station.online.is_set)
        await wait_for(lambda: len(entry.runtime_data.runtimes["sim-001"].device_model) > 100)
        # Profile 2: the CSMS root, a wss:// connection profile first, a reset, back over TLS with the password.
        result = await upgrade(hass, entry, 2)
        assert result == {
            "security_profile": 2,
            "steps": ["InstallCertificate", "SetNetworkProfile", "SetVariables", "Reset", "Reconnect"],
        }
        record = registry.get("sim-001")
        assert record is not None
        assert record.security_profile is SecurityProfile.TLS_BASIC_AUTH
        assert station.connection_target() == (f"wss://localhost:{tls_port}", 2)
        # A05.FR.06 on the station's side: set once its own connection is up, which may be a moment after ours.
        await wait_for(lambda: station.device_model.value("SecurityCtrlr", "SecurityProfile") == "2", timeout=5)
        # The station's inventory (its OrganizationName, which its CSR carries) is read after it boots.
        runtime = entry.runtime_data.runtimes["sim-001"]
        await wait_for(lambda: runtime.device_model.find("SecurityCtrlr", "OrganizationName"), timeout=5)
        # Profile 3: a station certificate signed (the simulator's own key), then the same with client certificates.
        result = await upgrade(hass, entry, 3)
        assert result["steps"] == [
            "InstallCertificate",
            "SignCertificate",
            "SetNetworkProfile",
            "SetVariables",
            "Reset",
            "Reconnect",
        ]
        record = registry.get("sim-001")
        assert record is not None
        assert record.security_profile is SecurityProfile.TLS_CLIENT_CERTIFICATE
        credentials = entry.runtime_data.central.stations["sim-001"].credentials
        assert credentials is not None
        assert (credentials.profile, credentials.certificate_cn) == (SecurityProfile.TLS_CLIENT_CERTIFICATE, "sim-001")
        # A05.FR.07: the lower profile is refused from now on.
        import ssl  # noqa: PLC0415

        context = ssl.create_default_context(cafile=hass.config.path(CERTIFICATE_DIR, "ca.crt"))
        with pytest.raises(InvalidStatus) as refused:
            await connect(
                f"wss://localhost:{tls_port}/sim-001",
                subprotocols=[SUBPROTOCOL],
                additional_headers=basic_auth_header("sim-001", STATION_PASSWORD),
                ssl=context,
                open_timeout=5,
            )
        assert refused.value.response.status_code == 403
        with pytest.raises(ServiceValidationError) as err:
            await upgrade(hass, entry, 3)
        assert err.value.translation_key == "profile_not_higher"
    finally:
        await station.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a05_a_refused_step_is_named_and_rolled_back(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    tls_port = free_port()
    entry = await setup_integration(
        options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        stations=[trusted_station("sim-001")],
    )
    station = SimStation(station_config(entry))
    task = asyncio.create_task(station.run())
    try:
        await wait_for(station.online.is_set)
        # The station never comes back on profile 2 (its wss:// URL is wrong): after the reset it falls back to its
        # old profile; the upgrade fails at Reconnect and the priority is restored.
        entry.runtime_data.upgrade.tls_url = f"wss://localhost:{free_port()}"
        station.device_model.find("OCPPCommCtrlr", "NetworkProfileConnectionAttempts").value = "1"  # type: ignore[union-attr]
        with pytest.raises(HomeAssistantError) as err:
            await upgrade(hass, entry, 2, timeout=3)
        assert err.value.translation_key == "upgrade_failed"
        assert err.value.translation_placeholders is not None
        assert err.value.translation_placeholders["step"] == "Reconnect"
        record = entry.runtime_data.registry.get("sim-001")
        assert record is not None
        assert record.security_profile is SecurityProfile.BASIC_AUTH
        await wait_for(lambda: station.device_model.value("OCPPCommCtrlr", "NetworkConfigurationPriority") == "0")
        # Profile 3 with a CSR that cannot be signed (another organization): no certificate in time, the step named.
        station.preset("SecurityCtrlr.OrganizationName", "Somebody Else")
        entry.runtime_data.upgrade.sign_timeout = 2
        entry.runtime_data.upgrade.tls_url = f"wss://localhost:{tls_port}"
        with pytest.raises(HomeAssistantError) as err:
            await upgrade(hass, entry, 3)
        assert err.value.translation_placeholders is not None
        assert err.value.translation_placeholders["step"] == "SignCertificate"
    finally:
        await station.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a05_needs_the_tls_listener(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    entry.runtime_data.devices.ensure_station("sim-001")
    with pytest.raises(ServiceValidationError) as err:
        await upgrade(hass, entry, 2)
    assert err.value.translation_key == "tls_listener_required"


class NetworkStation(CertificateStation):
    """A station peer whose SetNetworkProfile answer the test chooses."""

    network_status = "Rejected"

    @on(Action.set_network_profile)
    def on_set_network_profile(self, configuration_slot: int, connection_data: dict[str, Any], **_: Any) -> Any:
        """Answer `network_status` (B09)."""
        self.received.put_nowait(("SetNetworkProfile", {"configuration_slot": configuration_slot, **connection_data}))
        return call_result.SetNetworkProfile(status=self.network_status)


async def test_a05_each_refusal_names_its_step(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    tls_port = free_port()
    entry = await setup_integration(
        options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        stations=[trusted_station("sim-001")],
    )
    upgrader = entry.runtime_data.upgrade

    async def step(profile: int = 2) -> str:
        with pytest.raises(HomeAssistantError) as err:
            await upgrader.async_upgrade("sim-001", profile, within=1)
        assert err.value.translation_placeholders is not None
        return str(err.value.translation_placeholders["step"])

    with pytest.raises(ServiceValidationError):
        await upgrader.async_upgrade("unknown", 2)
    async with station_connection(
        ws_url(entry), "sim-001", password=STATION_PASSWORD, peer_class=NetworkStation, serial_number="sim-001"
    ) as station:
        assert isinstance(station, NetworkStation)
        await station.boot()
        station.install_status = "Rejected"
        assert await step() == "InstallCertificate"
        station.install_status = "Accepted"
        assert await step() == "GetVariables"  # the station does not know NetworkConfigurationPriority
        station.variables["OCPPCommCtrlr", "NetworkConfigurationPriority"] = "0"
        assert await step() == "SetNetworkProfile"
        station.network_status = "Accepted"
        station.set_variables_status = "Rejected"
        assert await step() == "SetVariables"
        station.trigger_status = "Rejected"
        assert await step(3) == "TriggerMessage"
        station.set_variables_status = "Accepted"
        assert await step() == "Reconnect"  # reset accepted, but the station never comes back: priority restored
        written = []
        while not station.received.empty():
            name, request = station.received.get_nowait()
            if name == "SetVariables":
                written.append(request["set_variable_data"][0]["attribute_value"])
        assert written[-2:] == ["1,0", "0"]  # the new priority, then the old one restored
    record = entry.runtime_data.registry.get("sim-001")
    assert record is not None
    assert record.security_profile is SecurityProfile.BASIC_AUTH


# ---- the guided upgrade: the options flow's step --------------------------------------------------------------


async def upgrade_step(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    return await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "security_upgrade"})


async def run_upgrade(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    """Submit the station and profile; follow the progress to the result."""
    result = await hass.config_entries.options.async_configure(result["flow_id"], user_input)
    while result["type"] is FlowResultType.SHOW_PROGRESS:
        assert result["progress_action"] == "upgrading"
        await hass.async_block_till_done()
        result = await hass.config_entries.options.async_configure(result["flow_id"])
    return result


async def test_a05_guided_upgrade_in_the_options(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    tls_port = free_port()
    entry = await setup_integration(
        options={CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "localhost"},
        stations=[trusted_station("sim-001")],
    )
    result = await upgrade_step(hass, entry)
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "nothing_to_upgrade")  # none connected
    station = SimStation(station_config(entry))
    task = asyncio.create_task(station.run())
    try:
        await wait_for(station.online.is_set)
        await wait_for(lambda: len(entry.runtime_data.runtimes["sim-001"].device_model) > 100)
        result = await upgrade_step(hass, entry)
        assert result["step_id"] == "security_upgrade"
        assert result["description_placeholders"] == {"url": f"wss://localhost:{tls_port}"}
        result = await run_upgrade(hass, result, {"station": "sim-001", "security_profile": "2"})
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "upgraded")
        assert result["description_placeholders"] == {
            "station": "sim-001",
            "profile": "2",
            "steps": "InstallCertificate, SetNetworkProfile, SetVariables, Reset, Reconnect",
        }
        await wait_for(lambda: entry.runtime_data.context.is_connected("sim-001"))
        # Not higher than what it has: the form says so.
        result = await upgrade_step(hass, entry)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"station": "sim-001", "security_profile": "2"}
        )
        assert result["errors"] == {"security_profile": "profile_not_higher"}
        # A failed step is named (a CSR of another organization: no certificate in time).
        station.preset("SecurityCtrlr.OrganizationName", "Somebody Else")
        entry.runtime_data.upgrade.sign_timeout = 1
        result = await run_upgrade(hass, result, {"station": "sim-001", "security_profile": "3"})
        assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "upgrade_failed")
        assert result["description_placeholders"]["step"] == "SignCertificate"
    finally:
        await station.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a05_guided_upgrade_needs_the_tls_listener_and_a_running_entry(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    result = await upgrade_step(hass, entry)
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "tls_listener_required")
    await hass.config_entries.async_unload(entry.entry_id)
    result = await upgrade_step(hass, entry)
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "not_loaded")
