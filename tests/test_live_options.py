"""Options apply while running (issue 18): stations stay connected, entities stay, only a moved port reconnects."""

from __future__ import annotations

import socket
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import (
    CERTIFICATES_GENERATE,
    CONF_CERTIFICATES,
    CONF_ENTITY_DETAIL,
    CONF_HEARTBEAT_INTERVAL,
    CONF_LOCAL_AUTH_LIST,
    CONF_PORT,
    CONF_PROBLEM_SEVERITY,
    CONF_REMOTE_ID_TOKEN,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DOMAIN,
)
from custom_components.ocpp_csms.live_options import async_apply_options

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_transactions import START, event, number, send

SESSION = "sensor.cp_1_evse_1_session_energy"


async def settings(hass: HomeAssistant, entry: MockConfigEntry, **changes: Any) -> None:
    """The options flow's settings step, with the current values and `changes`."""
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    user_input = {CONF_UNKNOWN_STATIONS: "approve", CONF_UNKNOWN_TOKENS: "reject", CONF_HEARTBEAT_INTERVAL: 300}
    result = await hass.config_entries.options.async_configure(result["flow_id"], {**user_input, **changes})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def still_connected(station: StationPeer) -> None:
    """The station's own connection still carries its calls."""
    assert (await station.call(call.Heartbeat())).current_time


async def test_policies_heartbeat_tokens_and_severity_apply_without_a_reload(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    data = entry.runtime_data
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        refused = await station.call(call.Authorize(id_token={"id_token": "STRANGER", "type": "ISO14443"}))
        assert refused.id_token_info["status"] == "Unknown"
        await settings(
            hass,
            entry,
            **{
                CONF_UNKNOWN_STATIONS: "reject",
                CONF_UNKNOWN_TOKENS: "accept",
                CONF_HEARTBEAT_INTERVAL: 120,
                CONF_REMOTE_ID_TOKEN: "HA-REMOTE",
                CONF_PROBLEM_SEVERITY: "error",
                CONF_LOCAL_AUTH_LIST: False,
            },
        )
        assert entry.runtime_data is data  # no reload
        assert entry.state is ConfigEntryState.LOADED
        # B01.FR.03 style: the connected station gets the new interval at once, later boots from the response.
        _, request = await station.next_received("SetVariables")
        [item] = request["set_variable_data"]
        assert (item["variable"]["name"], item["attribute_value"]) == ("HeartbeatInterval", "120")
        accepted = await station.call(call.Authorize(id_token={"id_token": "STRANGER", "type": "ISO14443"}))
        assert accepted.id_token_info["status"] == "Accepted"
        assert (await station.boot()).interval == 120
        await still_connected(station)
    assert data.central.config.unknown_station_policy.value == "reject"
    assert data.commands.remote_id_token == "HA-REMOTE"
    assert data.monitoring.problem_severity == 4  # Error
    assert data.local_lists.enabled is False


async def test_the_entity_detail_changes_the_entities_not_the_connections(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    data = entry.runtime_data
    registry = er.async_get(hass)

    def variable_entities() -> int:
        return sum("_var_" in item.unique_id for item in er.async_entries_for_config_entry(registry, entry.entry_id))

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(inventory())
        await station.boot()
        await wait_for(lambda: data.runtimes["CP-1"].has_inventory)
        await hass.async_block_till_done()
        full = variable_entities()
        assert full > 10
        listening = len(data.platform_listeners)
        await settings(hass, entry, **{CONF_ENTITY_DETAIL: "essential"})
        assert entry.runtime_data is data
        assert data.entity_detail.value == "essential"
        assert variable_entities() == 0
        await still_connected(station)
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await send(station, event("T1", 1, "Updated", START.replace(minute=10), 1500, 7000))
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(0.5)

        await settings(hass, entry, **{CONF_ENTITY_DETAIL: "full"})
        assert variable_entities() == full
        assert number(hass, SESSION) == pytest.approx(0.5)  # the session went on meanwhile
        await send(station, event("T1", 2, "Updated", START.replace(minute=20), 2000, 7000))
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(1.0)
    # What the first platforms listened to was stopped with them: new stations' entities are added once.
    assert len(data.platform_listeners) == listening


async def test_the_tls_listener_restarts_alone(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    data = entry.runtime_data
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        for _ in range(2):  # on, then moved
            tls_port = free_port()
            result = await hass.config_entries.options.async_init(entry.entry_id)
            result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "tls"})
            result = await hass.config_entries.options.async_configure(
                result["flow_id"],
                {CONF_TLS_PORT: tls_port, CONF_CERTIFICATES: CERTIFICATES_GENERATE, CONF_TLS_HOSTS: "127.0.0.1"},
            )
            assert result["type"] is FlowResultType.CREATE_ENTRY
            await hass.async_block_till_done()
            assert entry.runtime_data is data
            assert [(listener.port, listener.tls) for listener in data.listeners] == [
                (entry.data[CONF_PORT], False),
                (tls_port, True),
            ]
            assert data.upgrade.tls_url == f"wss://127.0.0.1:{tls_port}"
            await still_connected(station)


async def test_a_new_port_moves_the_listener_and_keeps_what_home_assistant_knows(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    data = entry.runtime_data
    old_url = ws_url(entry)
    async with station_connection(old_url, "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await send(station, event("T1", 1, "Updated", START.replace(minute=10), 1500, 7000))
        await hass.async_block_till_done()
        port = free_port()
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_PORT: port})
        assert result["reason"] == "reconfigure_successful"
        await hass.async_block_till_done()
        await wait_for(lambda: not data.central.stations["CP-1"].connected)
    assert entry.runtime_data is data
    assert [listener.port for listener in data.listeners] == [port]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 2, "Updated", START.replace(minute=20), 2000, 7000))
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(1.0)
    with pytest.raises(ConnectionRefusedError):
        async with station_connection(old_url, "CP-1", password=STATION_PASSWORD, timeout=1):
            pass


async def test_an_option_that_cannot_apply_live_reloads_the_entry(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    data = entry.runtime_data
    hass.config_entries.async_update_entry(entry, options={**entry.options, "future_option": 1})
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data is not data
    assert entry.runtime_data.applied_options["future_option"] == 1


async def test_a_port_taken_meanwhile_falls_back_to_a_reload_that_reports_it(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_TLS_PORT: busy.getsockname()[1]})
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        assert ir.async_get(hass).async_get_issue(DOMAIN, f"port_unavailable_{busy.getsockname()[1]}")


async def test_a_station_that_refuses_the_new_heartbeat_gets_it_at_its_next_boot(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        station.set_variables_status = "Rejected"
        await settings(hass, entry, **{CONF_HEARTBEAT_INTERVAL: 90})
        await station.next_received("SetVariables")
        await wait_for(lambda: "the new heartbeat interval applies from its next boot" in caplog.text)
        assert (await station.boot()).interval == 90
    assert await async_apply_options(hass, entry)  # nothing changed since: nothing to do
