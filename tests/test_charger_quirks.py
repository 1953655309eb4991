"""What real chargers do (../shared/research/charger-quirks.md and issue 18), reproduced with the station peer.

Each test names the behaviour it reproduces; none of it bends the specification for stations that follow it.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from ocpp.exceptions import PropertyConstraintViolationError
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
import pytest

from custom_components.ocpp_csms import sessions
from custom_components.ocpp_csms.charging.habits import Fallback
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.diagnostics import async_get_config_entry_diagnostics

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station_peer import StationPeer, station_connection
from .test_charging_control import requests_of, set_current
from .test_command_errors import report_evse
from .test_control_surface import CURRENT_LIMIT, device_id, ready_station
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
