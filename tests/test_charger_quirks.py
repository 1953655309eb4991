"""What real chargers do (../shared/research/charger-quirks.md and issue 18), reproduced with the station peer.

Each test names the behaviour it reproduces; none of it bends the specification for stations that follow it.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ocpp_csms import sessions
from custom_components.ocpp_csms.diagnostics import async_get_config_entry_diagnostics

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station_peer import station_connection
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
