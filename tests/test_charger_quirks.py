"""What real chargers do (../shared/research/charger-quirks.md and issue 18), reproduced with the station peer.

Each test names the behaviour it reproduces; none of it bends the specification for stations that follow it.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
import json
import os
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from ocpp.exceptions import NotImplementedError, OCPPError, PropertyConstraintViolationError  # noqa: A004
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_csms import sessions
from custom_components.ocpp_csms.charging.habits import Fallback
from custom_components.ocpp_csms.const import CONF_PORT, DOMAIN
from custom_components.ocpp_csms.csms import listener
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.diagnostics import async_get_config_entry_diagnostics

from .auth_station import AuthStation, wait_until
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_charging_control import requests_of, set_current
from .test_command_errors import report_evse
from .test_control_surface import CURRENT_LIMIT, device_id, ready_station
from .test_station_lifecycle import approve
from .test_transactions import START, event, number, send

SESSION = "sensor.cp_1_evse_1_session_energy"
CHARGING = "switch.cp_1_evse_1_charging"


def state(hass: HomeAssistant, entity_id: str) -> str:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state


async def station_diagnostics(hass: HomeAssistant, entry: Any, station_id: str = "CP-1") -> dict[str, Any]:
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    stations: dict[str, Any] = diagnostics["stations"]
    return stations[station_id]


# ---- TransactionEvent sequence numbers -----------------------------------------------------------------


async def test_every_event_with_seq_no_0_still_counts_energy_and_ends(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A station that never increases seqNo: a different event is processed, a retried one is a duplicate."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await hass.async_block_till_done()
        assert state(hass, CHARGING) == "on"
        updated = event("T1", 0, "Updated", START.replace(minute=30), 4500, 7000)
        await send(station, updated)
        await send(station, updated)  # a delivery retry (E13)
        await send(station, event("T1", 0, "Ended", START.replace(minute=45), 6000, 0, state="Idle"))
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(5.0)  # kWh: 1000 → 6000 Wh
        assert state(hass, CHARGING) == "off"
        found = await station_diagnostics(hass, entry)
    assert found["reused_seq_nos"] == {"T1": 2}


async def test_e14_a_transaction_the_station_says_is_over_is_closed(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Ended event was lost while apart: GetTransactionStatus says ongoingIndicator false, nothing queued."""
    monkeypatch.setattr(sessions, "QUEUE_QUIET", 0.1)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await send(station, event("T1", 1, "Updated", START.replace(minute=10), 2000, 7000))
        await hass.async_block_till_done()
        assert state(hass, CHARGING) == "on"
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.transaction_ongoing = False
        await station.boot()
        await station.next_received("GetTransactionStatus")
        await wait_for(lambda: state(hass, CHARGING) == "off")
        assert number(hass, SESSION) == pytest.approx(1.0)  # the energy counted so far stays
        assert entry.runtime_data.runtimes["CP-1"].transactions.evse(1).transaction_id is None
        found = await station_diagnostics(hass, entry)
    assert found["workarounds"] == {"ended_event_lost": 1}


# ---- SetChargingProfile refusals and the station's other way ----------------------------------------------


class SchemaCheckingStation(StationPeer):
    """FoxESS: checks SetChargingProfile against its 1.6 schema once `old_schema` is set: a CALLERROR."""

    old_schema = False

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        """A CALLERROR (PropertyConstraintViolation) or the usual answer."""
        if self.old_schema:
            self.received.put_nowait(("SetChargingProfile", {"evse_id": evse_id, "charging_profile": charging_profile}))
            raise PropertyConstraintViolationError(description="chargingProfile: not a 1.6 csChargingProfiles")
        return super().on_set_charging_profile(evse_id, charging_profile, **kwargs)


class WattsOnlyStation(StationPeer):
    """Takes schedules in W only, without saying so (no SmartChargingCtrlr.RateUnit)."""

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        """Rejected in A (K01.FR.26), kept in W."""
        if charging_profile["charging_schedule"][0]["charging_rate_unit"] == "A":
            self.received.put_nowait(("SetChargingProfile", {"evse_id": evse_id, "charging_profile": charging_profile}))
            return call_result.SetChargingProfile(status="Rejected")
        return super().on_set_charging_profile(evse_id, charging_profile, **kwargs)


class NoTxProfileStation(StationPeer):
    """Refuses TxProfiles for a running transaction; TxDefaultProfile works."""

    @on(Action.set_charging_profile)
    def on_set_charging_profile(self, evse_id: int, charging_profile: dict[str, Any], **kwargs: Any) -> Any:
        """Rejected for a TxProfile."""
        if charging_profile["charging_profile_purpose"] == "TxProfile":
            self.received.put_nowait(("SetChargingProfile", {"evse_id": evse_id, "charging_profile": charging_profile}))
            return call_result.SetChargingProfile(status="Rejected")
        return super().on_set_charging_profile(evse_id, charging_profile, **kwargs)


def sent_profiles(station: StationPeer) -> list[tuple[str, str, float]]:
    """(purpose, unit, first limit) of each SetChargingProfile since the last look."""
    found = []
    for request in requests_of(station, "SetChargingProfile"):
        profile = request["charging_profile"]
        schedule = profile["charging_schedule"][0]
        found.append(
            (
                profile["charging_profile_purpose"],
                schedule["charging_rate_unit"],
                schedule["charging_schedule_period"][0]["limit"],
            )
        )
    return found


async def test_a_callerror_to_set_charging_profile_is_a_refusal_and_the_limit_in_force_stays(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """FoxESS A022KP1 (lbbrhzn/ocpp#2050): the entity goes back to the limit in force; no fallback kept."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=SchemaCheckingStation
    ) as station:
        await ready_station(hass, entry, station)
        await set_current(hass, 10)
        assert number(hass, CURRENT_LIMIT) == 10
        station.old_schema = True
        requests_of(station, "SetChargingProfile")
        with pytest.raises(HomeAssistantError) as refused:
            await set_current(hass, 8)
        assert refused.value.translation_key == "profile_rejected"
        assert refused.value.translation_placeholders["status"] == "CALLERROR"
        await hass.async_block_till_done()
        assert number(hass, CURRENT_LIMIT) == 10  # what the station holds, read back
        assert sent_profiles(station) == [("TxDefaultProfile", "A", 8), ("TxDefaultProfile", "W", 5520)]
        assert entry.runtime_data.runtimes["CP-1"].charging_habits.learnt == set()  # watts did not work either


async def test_a_station_that_takes_watts_only_gets_watts_from_then_on(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Generic 2.0.1 (#2134): RateUnit W only, not reported: after one refusal in A, W; remembered."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=WattsOnlyStation
    ) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        await set_current(hass, 16)
        assert sent_profiles(station) == [("TxDefaultProfile", "A", 16), ("TxDefaultProfile", "W", 11040)]
        assert number(hass, CURRENT_LIMIT) == 16
        await set_current(hass, 10)
        assert sent_profiles(station) == [("TxDefaultProfile", "W", 6900)]  # straight in W
        found = await station_diagnostics(hass, entry)
    assert found["workarounds"] == {"charging_watts": 1}
    # Remembered across restarts: saved with the station's sessions.
    assert await hass.config_entries.async_reload(entry.entry_id)
    assert entry.runtime_data.runtimes["CP-1"].charging_habits.learnt == {Fallback.WATTS}


async def test_a_refused_tx_profile_falls_back_to_the_tx_default_profile(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """BMW/Delta: a TxProfile can get stuck; the TxDefaultProfile alone limits the running session."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=NoTxProfileStation
    ) as station:
        await ready_station(hass, entry, station)
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await hass.async_block_till_done()
        requests_of(station, "SetChargingProfile")
        await set_current(hass, 10)
        assert sent_profiles(station) == [
            ("TxDefaultProfile", "A", 10),
            ("TxProfile", "A", 10),
            ("TxDefaultProfile", "A", 10),
        ]
        assert number(hass, CURRENT_LIMIT) == 10
        await set_current(hass, 8)
        assert sent_profiles(station) == [("TxDefaultProfile", "A", 8)]
    assert entry.runtime_data.runtimes["CP-1"].charging_habits.learnt == {Fallback.TX_DEFAULT_ONLY}


async def test_the_station_cap_is_absolute_with_a_start_schedule(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Autel MaxiCharger refuses a Relative ChargingStationMaxProfile (K01.FR.38)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": device_id(hass, entry, "CP-1"), "current": 25, "station_cap": True},
            blocking=True,
        )
        [request] = requests_of(station, "SetChargingProfile")
    cap = request["charging_profile"]
    assert cap["charging_profile_purpose"] == "ChargingStationMaxProfile"
    assert cap["charging_profile_kind"] == "Absolute"
    assert cap["charging_schedule"][0]["start_schedule"]


# ---- the websocket: subprotocol header, pings, silent stations -------------------------------------------


async def upgrade(
    entry: Any, protocols: str, station_id: str = "CP-1"
) -> tuple[list[str], asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw HTTP upgrade with this Sec-WebSocket-Protocol header: the response's lines, and the open stream."""
    reader, writer = await asyncio.open_connection("127.0.0.1", entry.data[CONF_PORT])
    auth = base64.b64encode(f"{station_id}:{STATION_PASSWORD}".encode()).decode()
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ocpp/{station_id} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {protocols}\r\n"
            f"Authorization: Basic {auth}\r\n\r\n"
        ).encode()
    )
    async with asyncio.timeout(5):
        head = await reader.readuntil(b"\r\n\r\n")
    return head.decode().split("\r\n"), reader, writer


def masked_text(text: str) -> bytes:
    """A client's text frame (masked, as RFC 6455 requires of clients; payload under 126 bytes)."""
    payload = text.encode()
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_a_leading_empty_subprotocol_token_is_skipped(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Keba x30 fw 1.9.0 sends `Sec-WebSocket-Protocol: ,ocpp2.0.1`; padded tokens too."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    for header in (",ocpp2.0.1", " , ocpp2.0.1 ", "ocpp1.6, ,ocpp2.0.1"):
        lines, _reader, writer = await upgrade(entry, header)
        writer.close()
        assert lines[0].startswith("HTTP/1.1 101"), (header, lines[0])
        assert "Sec-WebSocket-Protocol: ocpp2.0.1" in lines, header


async def test_an_ocpp_1_6_probe_is_refused_and_the_2_0_1_connection_after_it_works(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """FoxESS opens an ocpp1.6 probe connection first: refused (no common subprotocol), nothing of it is kept."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    lines, _reader, writer = await upgrade(entry, "ocpp1.6")
    writer.close()
    assert lines[0].startswith("HTTP/1.1 400"), lines[0]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"


async def test_the_listener_pings_and_disconnects_a_silent_station(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pings every 20 s (Wallbox drops idle websockets after 30-45 s); silence ends the connection.

    Mennekes sends no pings: only a read timeout of 3 heartbeat intervals (here shortened) without any message
    ends a connection, so that the station reconnects.
    """
    assert listener.PING_INTERVAL <= 20
    monkeypatch.setattr(listener, "PING_INTERVAL", 0.2)
    monkeypatch.setattr(listener, "READ_TIMEOUT_HEARTBEATS", 0.005)  # x max(heartbeat 300 s, 60 s) + 0.2 s: 1.7 s
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    lines, reader, writer = await upgrade(entry, "ocpp2.0.1")
    assert lines[0].startswith("HTTP/1.1 101")
    writer.write(masked_text(json.dumps([2, "hb", "Heartbeat", {}])))
    opcodes = []
    async with asyncio.timeout(10):
        while (first := await reader.read(2)) and (opcode := first[0] & 0x0F) != 0x8:
            payload = await reader.readexactly(first[1] & 0x7F)  # server frames are unmasked, short here
            opcodes.append(opcode)
            if opcode == 0x9:  # answer the ping (its payload, masked): only the silence counts
                mask = os.urandom(4)
                masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
                writer.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
    close = await reader.read(first[1] & 0x7F)
    writer.close()
    assert opcodes[0] == 0x1, close  # the Heartbeat's answer
    assert opcodes.count(0x9) >= 3, close  # pings while the station said nothing
    assert opcode == 0x8  # then the close
    await wait_for(lambda: not entry.runtime_data.central.stations["CP-1"].connected)


# ---- stations that report little: EVSEs from what they send, station-level status ------------------------


def status(evse_id: int, connector_id: int, connector_status: str = "Available") -> Any:
    return call.StatusNotification(
        timestamp="2026-11-21T10:00:00Z",
        connector_status=connector_status,
        evse_id=evse_id,
        connector_id=connector_id,
    )


async def test_a_station_without_evse_components_gets_evses_from_what_it_sends(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """FoxESS: no EVSE/Connector in its report, StatusNotification for evseId 0 on every boot (the station's)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    devices = dr.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(status(0, 0, "Unavailable"))
        await hass.async_block_till_done()
        assert devices.async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", 0)), entry.entry_id) is None
        assert state(hass, "sensor.cp_1_status") == "unavailable"  # the station's own status
        await station.call(status(1, 1, "Occupied"))  # an EVSE it never listed
        await send(station, {**event("T1", 0, "Started", START, 1000, 7000), "evse": {"id": 2, "connector_id": 1}})
        await hass.async_block_till_done()
        for evse_id in (1, 2):
            assert devices.async_get_device_by_identifier((DOMAIN, evse_identifier("CP-1", evse_id)), entry.entry_id)
        assert state(hass, "sensor.cp_1_evse_1_connector_status") == "occupied"
        assert state(hass, "switch.cp_1_evse_2_charging") == "on"
        await station.call(status(0, 0, "Available"))
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp_1_status") == "available"
    assert entry.runtime_data.runtimes["CP-1"].known_evses == {1, 2}


async def test_a_station_without_a_status_of_its_own_shows_its_busiest_connector(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(status(1, 1, "Available"))
        await station.call(status(2, 1, "Faulted"))
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp_1_status") == "faulted"


async def test_a_status_sent_while_pending_is_refused_and_taken_once_accepted(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """EVerest-based stations send StatusNotification while their boot is Pending (libocpp#504).

    B02.FR.09: SecurityError, and the connection stays (B02.FR.06); once accepted the station sends its statuses
    (B01.FR.05) and they are taken.
    """
    entry = await setup_integration()
    async with station_connection(ws_url(entry), "CP-7", password=STATION_PASSWORD) as station:
        assert (await station.boot()).status == "Pending"
        for _ in range(3):
            with pytest.raises(OCPPError) as refused:
                await station.call(status(1, 1, "Occupied"), suppress=False)
            assert refused.value.code == "SecurityError"
        assert entry.runtime_data.central.stations["CP-7"].connected
        await approve(hass, "CP-7")
        await wait_for(lambda: station.boot_statuses[-1:] == ["Accepted"])
        await station.call(status(1, 1, "Occupied"))
        await hass.async_block_till_done()
        assert state(hass, "sensor.cp_7_evse_1_connector_status") == "occupied"


# ---- a variable the station does not report is unknown, not "no" -----------------------------------------


def without(component: str, variable: str | None = None) -> list[dict[str, Any]]:
    """The test inventory without a component (or one of its variables)."""
    return [
        item
        for item in inventory()
        if not (item["component"]["name"] == component and variable in (None, item["variable"]["name"]))
    ]


async def test_smart_charging_without_available_is_unknown_and_the_limit_still_works(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """FoxESS reports RateUnit and ProfileStackLevel but not SmartChargingCtrlr.Available: unknown, not "no".

    The limit entity is there; a limit goes out as a profile and the composite schedule is read back.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(without("SmartChargingCtrlr", "Available"))
        await station.boot()
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        await hass.async_block_till_done()
        assert entry.runtime_data.charging.capabilities("CP-1").available is None
        assert hass.states.get(CURRENT_LIMIT) is not None
        await set_current(hass, 10)
        _, request = await station.next_received("SetChargingProfile")
        assert request["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 10
        await station.next_received("GetCompositeSchedule")
        await wait_for(lambda: state(hass, CURRENT_LIMIT) == "10.0")


async def test_a_local_list_the_device_model_does_not_mention_is_asked_about_once(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """FoxESS reports some controllers' variables but not Enabled/Available: probe (D02, changes nothing), keep."""
    entry = await setup_integration(stations=[trusted_station("CP-1"), trusted_station("CP-2")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        station.load_inventory(without("LocalAuthListCtrlr", "Enabled"))
        await station.boot()
        await wait_until(lambda: station.local_list_version == 1)  # it answered: it has a list, and got it
        assert entry.runtime_data.runtimes["CP-1"].probed == {"local_auth_list": True}
    async with station_connection(
        ws_url(entry), "CP-2", password=STATION_PASSWORD, peer_class=NoLocalListStation
    ) as station_2:
        station_2.load_inventory(without("LocalAuthListCtrlr"))
        await station_2.boot()
        runtime = await entry.runtime_data.runtimes.async_get("CP-2")
        await wait_until(lambda: runtime.probed == {"local_auth_list": False})  # NotImplemented: it has none
        await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": "ANNA"}, blocking=True)
        await hass.async_block_till_done()  # a change of the tokens: no list to bring in step, nothing asked
        received = []
        while not station_2.received.empty():
            received.append(station_2.received.get_nowait()[0])
        assert received.count("GetLocalListVersion") == 1
        assert "SendLocalList" not in received


class NoLocalListStation(StationPeer):
    """Has no local authorization list: GetLocalListVersion is NotImplemented (recorded)."""

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **kwargs: Any) -> Any:
        """Recorded, then a CALLERROR NotImplemented."""
        self.received.put_nowait(("GetLocalListVersion", kwargs))
        raise NotImplementedError(description="no local authorization list")


# ---- pausing instead of stop/start -----------------------------------------------------------------------


async def test_the_charging_switch_pauses_with_0_a_and_a_station_without_tx_profiles_is_unpaused_at_the_end(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """BMW/Delta sits in Finishing after a stop and refuses the next start; FoxESS goes SuspendedEV then offline.

    Off pauses with a 0 A limit; on a station that takes no TxProfile, with its TxDefaultProfile, which is lifted
    when the transaction ends so that the next session does not start paused.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=NoTxProfileStation
    ) as station:
        await ready_station(hass, entry, station)
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await hass.async_block_till_done()
        drain(station)
        await hass.services.async_call("switch", "turn_off", {"entity_id": CHARGING}, blocking=True)
        assert sent_profiles(station) == [("TxProfile", "A", 0), ("TxDefaultProfile", "A", 0)]
        assert state(hass, CHARGING) == "off"
        assert entry.runtime_data.runtimes["CP-1"].charging_habits.learnt == {Fallback.TX_DEFAULT_ONLY}
        await hass.services.async_call("switch", "turn_on", {"entity_id": CHARGING}, blocking=True)
        assert [action for action, _ in drain(station)] == ["ClearChargingProfile", "GetCompositeSchedule"]
        assert state(hass, CHARGING) == "on"
        await set_current(hass, 10)
        await hass.services.async_call("switch", "turn_off", {"entity_id": CHARGING}, blocking=True)
        assert sent_profiles(station) == [("TxDefaultProfile", "A", 10), ("TxDefaultProfile", "A", 0)]
        await send(station, event("T1", 1, "Ended", START.replace(minute=20), 2000, 0, state="Idle"))
        await hass.async_block_till_done()
        await wait_until(lambda: sent_profiles(station) == [("TxDefaultProfile", "A", 10)])  # the limit before
        assert not entry.runtime_data.charging.paused("CP-1", 1)


async def test_a_station_that_refuses_the_pause_has_its_transaction_stopped(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=SchemaCheckingStation
    ) as station:
        await ready_station(hass, entry, station)
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await hass.async_block_till_done()
        station.old_schema = True
        await hass.services.async_call("switch", "turn_off", {"entity_id": CHARGING}, blocking=True)
        _, request = await station.next_received("RequestStopTransaction")
        assert request == {"transaction_id": "T1"}


def drain(station: StationPeer) -> list[tuple[str, dict[str, Any]]]:
    """What the station received and was not looked at yet."""
    found = []
    while not station.received.empty():
        found.append(station.received.get_nowait())
    return found


# ---- meter values and time stamps ------------------------------------------------------------------------

LIFETIME = "sensor.cp_1_evse_1_energy"
POWER = "sensor.cp_1_evse_1_power"


def bare_reading(at: str, register: float, power: float, unit: str | None = None) -> list[dict[str, Any]]:
    """Autel: Power.Active.Import as a float without unitOfMeasure; the register in Wh or kWh as told."""
    energy: dict[str, Any] = {"value": register, "measurand": "Energy.Active.Import.Register"}
    if unit is not None:
        energy["unit_of_measure"] = {"unit": unit}
    return [{"timestamp": at, "sampled_value": [energy, {"value": power, "measurand": "Power.Active.Import"}]}]


async def test_measurands_without_a_unit_take_the_spec_default_and_kwh_equals_wh(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Autel sends Power.Active.Import without a unit (W by default); a register in Wh and one in kWh agree."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        started = event("T1", 0, "Started", START, 0, 0)
        await send(station, {**started, "meter_value": bare_reading("2026-11-21T18:00:00Z", 10_000, 7360.5)})
        await hass.async_block_till_done()
        assert number(hass, LIFETIME) == pytest.approx(10.0)  # kWh from 10,000 Wh (no unit: Wh)
        power = hass.states.get(POWER)
        assert power is not None
        assert float(power.state) * (1000 if power.attributes["unit_of_measurement"] == "kW" else 1) == pytest.approx(
            7360.5
        )
        updated = event("T1", 1, "Updated", START.replace(minute=10), 0, 0)
        await send(station, {**updated, "meter_value": bare_reading("2026-11-21T18:10:00Z", 11.25, 7000, "kWh")})
        await hass.async_block_till_done()
        assert number(hass, LIFETIME) == pytest.approx(11.25)
        assert number(hass, SESSION) == pytest.approx(1.25)


async def test_time_stamps_without_a_time_zone_and_a_register_that_drops_to_0(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Growatt Thor: time stamps without a zone, and a register that drops to 0 for a reading.

    The time stamps are read as UTC in lenient mode (named in diagnostics); the lifetime energy never decreases
    nor counts twice.
    """
    entry = await setup_integration(stations=[{**trusted_station("CP-1"), "lenient": True}])
    seen: list[float] = []

    async def send_naive(seq_no: int, event_type: str, minute: int, register: float, **kwargs: Any) -> None:
        payload = event("T1", seq_no, event_type, START.replace(minute=minute), register, 3000, **kwargs)
        naive = START.replace(minute=minute, tzinfo=None).isoformat()
        payload["timestamp"] = naive
        payload["meter_value"][0]["timestamp"] = naive
        await send(station, payload)
        await hass.async_block_till_done()
        seen.append(number(hass, LIFETIME))
        assert seen == sorted(seen), "the lifetime energy decreased"

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send_naive(0, "Started", 0, 5000)
        await send_naive(1, "Updated", 10, 5500)
        await send_naive(2, "Updated", 11, 0)  # a reading of 0 for an instant
        await send_naive(3, "Updated", 20, 6000)
        await send_naive(4, "Ended", 30, 6500, state="Idle")
        assert number(hass, SESSION) == pytest.approx(1.5)
        assert seen[-1] == pytest.approx(6.5)
        found = await station_diagnostics(hass, entry)
    repaired = {violation["kind"] for violation in found["last_violations"]}
    assert repaired == {"timezone_missing"}


async def test_a_long_reconnect_gap_loses_neither_the_session_nor_its_energy(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    """FoxESS: reconnect gaps of 6-19 minutes mid-session; the station replays what it queued (offline)."""
    freezer.move_to(START)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 1000, 7000))
        await send(station, event("T1", 1, "Updated", START.replace(minute=5), 1500, 7000))
        await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=19))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, CHARGING) == "unavailable"
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        for seq_no, minute in enumerate((10, 15, 20), start=2):
            at = START.replace(minute=minute)
            replayed = event("T1", seq_no, "Updated", at, 1000 + 100 * minute, 7000, offline=True)
            await send(station, replayed)
        await send(station, event("T1", 5, "Updated", START.replace(minute=24), 3400, 7000))
        await hass.async_block_till_done()
        assert state(hass, CHARGING) == "on"
        assert number(hass, SESSION) == pytest.approx(2.4)
        assert number(hass, LIFETIME) == pytest.approx(3.4)
        await send(station, event("T1", 6, "Ended", START.replace(minute=30), 4000, 0, state="Idle"))
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(3.0)
        assert state(hass, CHARGING) == "off"
