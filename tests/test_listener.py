"""The listener inside Home Assistant, over real sockets, with the `ocpp` package's ChargePoint as the station."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from homeassistant.config_entries import SOURCE_IGNORE, SOURCE_INTEGRATION_DISCOVERY, ConfigEntryState
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er, issue_registry as ir
from ocpp.exceptions import OCPPError
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from custom_components.ocpp_csms.const import (
    CONF_HEARTBEAT_INTERVAL,
    CONF_PORT,
    CONF_UNKNOWN_STATIONS,
    DISCOVERY_UNIQUE_ID_PREFIX,
    DOMAIN,
    STORAGE_KEY,
)
from custom_components.ocpp_csms.csms import listener as listener_module
from custom_components.ocpp_csms.csms.registry import SecurityProfile
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.listener_setup import DATA_AUTH

from .conftest import STATION_PASSWORD, SetupIntegration, free_port, trusted_station, wait_for, ws_url
from .station_peer import SUBPROTOCOL, basic_auth_header, station_connection


async def refused_status(url: str, **kwargs: Any) -> int:
    """The HTTP status a refused websocket handshake got."""
    with pytest.raises(InvalidStatus) as refused:
        await connect(url, subprotocols=[SUBPROTOCOL], open_timeout=5, **kwargs)
    return refused.value.response.status_code


# ---- security profile 1: HTTP Basic auth before the upgrade (A00.FR.202-207) --------------------------------


async def test_profile1_good_password_is_accepted(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        response = await station.boot()
    assert response.status == "Accepted"
    assert response.interval == 300


async def test_permessage_deflate_is_negotiated_with_a_2_kb_window_and_no_context_on_our_side(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """OCPP-J Part 4 §3.3: the CSMS supports RFC 7692 compression; a station without it is served uncompressed."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    headers = basic_auth_header("CP-1", STATION_PASSWORD)
    async with connect(f"{ws_url(entry)}/CP-1", subprotocols=[SUBPROTOCOL], additional_headers=headers) as ws:
        assert ws.response is not None
        assert ws.response.headers["Sec-WebSocket-Extensions"] == (
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=11; client_max_window_bits=11"
        )
        await ws.send('[2,"1","Heartbeat",{}]')
        assert '"1"' in str(await ws.recv())  # our answer (compressed without context) arrives whole
    async with connect(
        f"{ws_url(entry)}/CP-1", subprotocols=[SUBPROTOCOL], additional_headers=headers, compression=None
    ) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        (basic_auth_header("CP-1", "wrong-password-00000"), "wrong password"),
        (None, "no credentials"),
        (basic_auth_header("CP-2", STATION_PASSWORD), "username is not the station identity (A00.FR.204)"),
        ({"Authorization": "Basic !!!not-base64"}, "garbage header"),
    ],
)
async def test_profile1_bad_or_missing_password_gets_401(
    hass: HomeAssistant, setup_integration: SetupIntegration, headers: dict[str, str] | None, why: str
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    status = await refused_status(f"{ws_url(entry)}/CP-1", additional_headers=headers)
    assert status == 401, why
    assert (
        not entry.runtime_data.central.stations.get("CP-1", None)
        or not entry.runtime_data.central.stations["CP-1"].connected
    )


async def test_repeated_failures_are_slowed_down(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    statuses = [
        await refused_status(f"{ws_url(entry)}/CP-1", additional_headers=basic_auth_header("CP-1", "x" * 20))
        for _ in range(7)
    ]
    assert statuses[:5] == [401] * 5
    assert statuses[-1] == 429
    # Even the right password is turned away while the address is locked out.
    good = basic_auth_header("CP-1", STATION_PASSWORD)
    assert await refused_status(f"{ws_url(entry)}/CP-1", additional_headers=good) == 429


async def test_identity_from_any_path_prefix(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP 1", password=None, profile=SecurityProfile.NONE)])
    port = entry.data[CONF_PORT]
    async with station_connection(f"ws://127.0.0.1:{port}/deep/prefix", "CP%201") as station:
        assert (await station.boot()).status == "Accepted"
    assert "CP 1" in entry.runtime_data.central.stations


async def test_handshake_without_ocpp_subprotocol_is_refused(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Errata TC_B_58: a handshake offering no supported subprotocol is refused."""
    entry = await setup_integration()
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{ws_url(entry)}/CP-1", subprotocols=["ocpp1.6"], open_timeout=5)  # type: ignore[list-item]
    assert refused.value.response.status_code == 400
    with pytest.raises(InvalidStatus):
        await connect(f"{ws_url(entry)}/CP-1", open_timeout=5)
    # Offering several, ocpp2.0.1 among them, selects it.
    async with connect(
        f"{ws_url(entry)}/CP-1",
        subprotocols=["ocpp1.6", SUBPROTOCOL],  # type: ignore[list-item]
        open_timeout=5,
    ) as client:
        assert client.subprotocol == SUBPROTOCOL


async def test_invalid_identity_is_refused(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration()
    assert await refused_status(f"{ws_url(entry)}/a:b") == 404
    assert await refused_status(f"{ws_url(entry)}/{'x' * 49}") == 404


async def test_downgrade_is_refused(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """A station stored with profile 2 never gets in over plain ws://, even with the right password."""
    entry = await setup_integration(stations=[trusted_station("CP-1", SecurityProfile.TLS_BASIC_AUTH)])
    status = await refused_status(
        f"{ws_url(entry)}/CP-1", additional_headers=basic_auth_header("CP-1", STATION_PASSWORD)
    )
    assert status == 403


async def test_station_without_password_stays_without(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1", SecurityProfile.NONE, password=None)])
    async with station_connection(ws_url(entry), "CP-1") as station:
        assert (await station.boot()).status == "Accepted"


# ---- provisioning: unknown stations (B01-B03) --------------------------------------------------------------


async def test_approve_policy_end_to_end(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """Pending, shown as a discovered device, added by the user, triggered to boot and accepted at once."""
    entry = await setup_integration()
    async with station_connection(ws_url(entry), "CP-9", password=STATION_PASSWORD, serial_number="SER-9") as station:
        response = await station.boot()
        assert response.status == "Pending"

        # B02.FR.09: before acceptance, anything but BootNotification gets SecurityError.
        with pytest.raises(OCPPError) as refused:
            await station.call(call.Heartbeat(), suppress=False)
        assert refused.value.code == "SecurityError"

        await hass.async_block_till_done()
        flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert len(flows) == 1
        flow = flows[0]
        assert flow["context"]["source"] == SOURCE_INTEGRATION_DISCOVERY
        assert flow["context"]["title_placeholders"] == {"name": "CP-9 — ACME Wallbox 22"}
        assert flow["step_id"] == "approve"

        result = await hass.config_entries.flow.async_configure(flow["flow_id"], {})
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "station_approved"

        trigger = await station.next_received()
        assert trigger == ("TriggerMessage", {"requested_message": "BootNotification"})
        await wait_for(lambda: station.boot_statuses[-1:] == ["Accepted"])
        await hass.async_block_till_done()

    record = entry.runtime_data.registry.get("CP-9")
    assert record is not None
    assert record.security_profile is SecurityProfile.BASIC_AUTH
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-9"), entry.entry_id)
    assert device is not None
    assert (device.manufacturer, device.model, device.serial_number, device.sw_version) == (
        "ACME",
        "Wallbox 22",
        "SER-9",
        "1.2.3",
    )
    # The password it presented is now the one it must use.
    assert await refused_status(f"{ws_url(entry)}/CP-9", additional_headers=basic_auth_header("CP-9", "y" * 20)) == 401
    async with station_connection(ws_url(entry), "CP-9", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"


async def test_ignored_station_is_rejected(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration()
    MockConfigEntry(domain=DOMAIN, unique_id=f"{DISCOVERY_UNIQUE_ID_PREFIX}CP-7", source=SOURCE_IGNORE).add_to_hass(
        hass
    )
    async with station_connection(ws_url(entry), "CP-7", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Rejected"
        with pytest.raises(OCPPError) as refused:
            await station.call(call.Heartbeat(), suppress=False)
        assert refused.value.code == "SecurityError"  # B03.FR.07
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_accept_policy_trusts_on_first_use(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(options={CONF_UNKNOWN_STATIONS: "accept", CONF_HEARTBEAT_INTERVAL: 120})
    async with station_connection(ws_url(entry), "CP-2", password=STATION_PASSWORD) as station:
        response = await station.boot()
        assert (response.status, response.interval) == ("Accepted", 120)
        assert (await station.call(call.Heartbeat())).current_time
        await hass.async_block_till_done()
    assert "CP-2" in entry.runtime_data.registry
    await hass.async_block_till_done()
    state = hass.states.get("binary_sensor.cp_2_connectivity")
    assert state is not None
    assert state.state == STATE_OFF


async def test_reject_policy(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(options={CONF_UNKNOWN_STATIONS: "reject"})
    async with station_connection(ws_url(entry), "CP-3", password=STATION_PASSWORD) as station:
        response = await station.boot()
    assert response.status == "Rejected"
    assert "CP-3" not in entry.runtime_data.registry


# ---- connections, devices, entities -------------------------------------------------------------------------


async def test_reconnect_with_same_id_replaces_connection(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    central = entry.runtime_data.central
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as first:
        await first.boot()
        station = central.stations["CP-1"]
        session = station.session
        async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as second:
            # The first connection is closed (a frame sent before the close may still be read from it).
            async with asyncio.timeout(5):
                await first._connection.wait_closed()
            assert first._connection.close_code == 1000
            # The same station object and session serve the new connection.
            assert central.stations["CP-1"] is station
            assert station.session is session
            assert station.connected
            assert (await second.call(call.Heartbeat())).current_time
            await entry.runtime_data.trust.async_rotate_password("CP-1")
            assert ("SecurityCtrlr", "BasicAuthPassword") in second.variables
        await wait_for(lambda: not station.connected)


async def test_devices_connectivity_and_availability(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    entity_id = "binary_sensor.cp_1_connectivity"
    button_id = "button.cp_1_rotate_password"
    # Entities of trusted stations exist before the station connects.
    assert hass.states.get(entity_id).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(button_id).state == STATE_UNAVAILABLE  # type: ignore[union-attr]

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
            )
        )
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Occupied", evse_id=2, connector_id=1
            )
        )
        await hass.async_block_till_done()
        assert hass.states.get(entity_id).state == STATE_ON  # type: ignore[union-attr]
        assert hass.states.get(button_id).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
        devices = dr.async_get(hass)
        parent = devices.async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id)
        assert parent is not None
        for evse in (1, 2):
            child = devices.async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", evse)), entry.entry_id)
            assert child is not None
            assert child.via_device_id == parent.id
    await wait_for(lambda: not entry.runtime_data.central.stations["CP-1"].connected)
    await hass.async_block_till_done()
    assert hass.states.get(entity_id).state == STATE_OFF  # type: ignore[union-attr]
    assert hass.states.get(button_id).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    assert caplog.text.count("Station CP-1 is disconnected") == 1

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
    assert caplog.text.count("Station CP-1 is connected again") == 1
    entity = er.async_get(hass).async_get(entity_id)
    assert entity is not None
    assert entity.unique_id == "CP-1_connectivity"


async def test_devices_survive_a_restart(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id)
    assert device is not None
    assert device.manufacturer == "ACME"
    assert hass.states.get("binary_sensor.cp_1_connectivity") is not None


async def test_removing_the_device_forgets_the_station(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, "CP-1"), entry.entry_id)
    assert device is not None
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
            )
        )
        await hass.async_block_till_done()
        evse = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", 1)), entry.entry_id)
        assert evse is not None
        from custom_components.ocpp_csms import async_remove_config_entry_device  # noqa: PLC0415

        assert not await async_remove_config_entry_device(hass, entry, evse)  # an EVSE goes with its station
        assert await async_remove_config_entry_device(hass, entry, device)
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await station._connection.recv()
    assert "CP-1" not in entry.runtime_data.registry
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[STORAGE_KEY]["data"]["stations"] == []


async def test_fifty_stations_connect_at_once(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    ids = [f"CP-{n:03d}" for n in range(50)]
    entry = await setup_integration(stations=[trusted_station(station_id) for station_id in ids])

    async def one(station_id: str) -> str:
        # Fifty first connections: fifty scrypt runs, and the devices and entities of fifty new stations; slow
        # with asyncio's debug mode on a loaded test machine (scripts/bench scale measures the real cost).
        async with station_connection(ws_url(entry), station_id, password=STATION_PASSWORD, timeout=30) as station:
            status: str = (await station.boot()).status
            return status

    statuses = await asyncio.gather(*(one(station_id) for station_id in ids))
    assert statuses == ["Accepted"] * 50
    assert set(entry.runtime_data.central.stations) == set(ids)


async def test_a_storm_is_paced_and_beyond_the_queue_refused_with_retry_after(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Issue 19: new connections beyond the pace's burst wait for their place; too far out: 503, Retry-After."""
    ids = [f"CP-{n:03d}" for n in range(4)]
    entry = await setup_integration(stations=[trusted_station(station_id) for station_id in ids])
    pace = entry.runtime_data.listeners[0].pace
    pace.burst, pace.rate, pace.max_wait = 1, 20.0, 0.06

    async def one(station_id: str) -> str:
        async with station_connection(ws_url(entry), station_id, password=STATION_PASSWORD) as station:
            status: str = (await station.boot()).status
            return status

    # Two at once: the burst lets one in, the other waits its turn (50 ms at 20 per second).
    assert await asyncio.gather(one(ids[0]), one(ids[2])) == ["Accepted", "Accepted"]
    assert pace.paced == 1
    pace.rate = 0.001  # the next place is minutes out, beyond max_wait
    with pytest.raises(InvalidStatus) as refused:
        await one(ids[1])
    assert refused.value.response.status_code == 503
    assert refused.value.response.headers["Retry-After"] == "1"
    assert pace.refused >= 1


# ---- the config entry's life ------------------------------------------------------------------------------


async def test_port_in_use_raises_not_ready_with_a_repair(hass: HomeAssistant, socket_enabled: None) -> None:
    import socket  # noqa: PLC0415

    with socket.socket() as busy:
        busy.bind(("", 0))
        busy.listen()
        port = busy.getsockname()[1]
        entry = MockConfigEntry(domain=DOMAIN, unique_id=DOMAIN, data={CONF_PORT: port})
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.SETUP_RETRY
        issue = ir.async_get(hass).async_get_issue(DOMAIN, f"port_unavailable_{port}")
        assert issue is not None
        assert issue.translation_placeholders is not None
        assert issue.translation_placeholders["port"] == str(port)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_unload_closes_station_connections(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    port = entry.data[CONF_PORT]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        assert await hass.config_entries.async_unload(entry.entry_id)
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                await station._connection.recv()
    with pytest.raises(OSError):  # noqa: PT011 - nothing listens any more
        await connect(f"ws://127.0.0.1:{port}/CP-1", open_timeout=2)
    assert free_port()


async def test_notifications_are_acknowledged(
    hass: HomeAssistant, setup_integration: SetupIntegration, caplog: pytest.LogCaptureFixture
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(call.FirmwareStatusNotification(status="Idle"), suppress=False)
        await station.call(call.LogStatusNotification(status="Idle"), suppress=False)
        await station.call(
            call.SecurityEventNotification(type="TamperDetectionActivated", timestamp="2026-11-21T10:00:00Z"),
            suppress=False,
        )
    assert "CP-1: security event TamperDetectionActivated" in caplog.text


async def test_password_cache_and_throttle_outlive_a_reload(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A reload reconnects every station: their passwords are then checked from the cache, without scrypt."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    verifier, throttle = hass.data[DATA_AUTH]
    assert len(verifier) == 0  # empty, and still the shared one
    assert entry.runtime_data.listeners[0].verifier is verifier
    assert entry.runtime_data.listeners[0].throttle is throttle
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
    assert len(verifier) == 1
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.runtime_data.listeners[0].verifier is verifier
    stored = entry.runtime_data.registry.get("CP-1").password_hash  # type: ignore[union-attr]
    assert verifier.check_cached("CP-1", STATION_PASSWORD, stored)


async def test_a_connection_keeps_no_handshake_headers(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Once admitted, a connection drops its handshake's headers (memory per station, issue 19); the path stays."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    listener = entry.runtime_data.listeners[0]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
        assert listener._server is not None
        (websocket,) = listener._server.connections
        assert websocket.request is not None
        assert websocket.response is not None
        assert websocket.request.path.endswith("/CP-1")
        assert not websocket.request.headers
        assert not websocket.response.headers


async def test_stopping_closes_every_station_with_going_away_a_step_at_a_time(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: a listener that stops closes its connections CLOSE_STEP per event-loop turn, each with 1001."""
    monkeypatch.setattr(listener_module, "CLOSE_STEP", 2)
    station_ids = [f"CP-{number}" for number in range(5)]
    entry = await setup_integration(stations=[trusted_station(station_id) for station_id in station_ids])
    async with contextlib.AsyncExitStack() as stack:
        peers = [
            await stack.enter_async_context(station_connection(ws_url(entry), station_id, password=STATION_PASSWORD))
            for station_id in station_ids
        ]
        for peer in peers:
            assert (await peer.boot()).status == "Accepted"
        assert await hass.config_entries.async_unload(entry.entry_id)
        for peer in peers:
            connection = peer._connection
            await asyncio.wait_for(connection.wait_closed(), 5)
            assert (connection.close_code, connection.close_reason) == (1001, "Central system stopping")
