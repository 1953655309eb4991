"""Transactions and metering end to end: a session, an offline replay, a meter reset; the Energy dashboard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import random
from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.ocpp_csms.const import DOMAIN

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import StationPeer, station_connection

START = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
LIFETIME = "sensor.cp_1_evse_1_energy"
SESSION = "sensor.cp_1_evse_1_session_energy"
POWER = "sensor.cp_1_evse_1_power"
STATE = "sensor.cp_1_evse_1_charging_state"


def meter_value(at: datetime, register_wh: float, power_w: float) -> list[dict[str, Any]]:
    """A MeterValue with the register in kWh (multiplier and unit honoured), power and currents."""
    return [
        {
            "timestamp": at.isoformat(),
            "sampled_value": [
                {
                    "value": register_wh / 1000,
                    "measurand": "Energy.Active.Import.Register",
                    "unit_of_measure": {"unit": "kWh"},
                },
                {"value": power_w / 10, "measurand": "Power.Active.Import", "unit_of_measure": {"multiplier": 1}},
                *(
                    {"value": round(power_w / 230 / 3, 2), "measurand": "Current.Import", "phase": phase}
                    for phase in ("L1", "L2", "L3")
                ),
            ],
        }
    ]


def event(  # noqa: PLR0917 - reads like the event it builds
    transaction_id: str,
    seq_no: int,
    event_type: str,
    at: datetime,
    register_wh: float,
    power_w: float,
    *,
    offline: bool = False,
    state: str = "Charging",
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "event_type": event_type,
        "timestamp": at.isoformat(),
        "trigger_reason": {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVCommunicationLost"}[
            event_type
        ],
        "seq_no": seq_no,
        "transaction_info": {"transaction_id": transaction_id, "charging_state": state},
        "meter_value": meter_value(at, register_wh, power_w),
        "evse": {"id": 1, "connector_id": 1},
    }
    if event_type == "Ended":
        payload["transaction_info"]["stopped_reason"] = "EVDisconnected"
    if event_type == "Started":
        payload["id_token"] = {"id_token": "CARD-1", "type": "ISO14443"}
    if offline:
        payload["offline"] = True
    return payload


async def send(station: StationPeer, payload: dict[str, Any]) -> Any:
    from ocpp.v201 import call  # noqa: PLC0415

    return await station.call(call.TransactionEvent(**payload))


def number(hass: HomeAssistant, entity_id: str) -> float:
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return float(state.state)


async def test_session_offline_replay_and_meter_reset(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    lifetime_seen: list[float] = []

    async def check(session_kwh: float, lifetime_kwh: float) -> None:
        await hass.async_block_till_done()
        assert number(hass, SESSION) == pytest.approx(session_kwh, abs=1e-6)
        lifetime = number(hass, LIFETIME)
        assert lifetime == pytest.approx(lifetime_kwh, abs=1e-6)
        assert not lifetime_seen or lifetime >= lifetime_seen[-1], "the lifetime energy decreased"
        lifetime_seen.append(lifetime)

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        # A: Started at register 10 kWh, then 20 meter updates of +0.5 kWh each.
        register = 10_000.0
        await send(station, event("A", 0, "Started", START, register, 0))
        await check(0.0, 10.0)
        assert hass.states.get(STATE).state == "charging"  # type: ignore[union-attr]
        for n in range(1, 21):
            register += 500
            await send(station, event("A", n, "Updated", START + timedelta(minutes=n), register, 11_000))
            await check(n * 0.5, 10.0 + n * 0.5)
        assert number(hass, POWER) == 11_000
        assert number(hass, "sensor.cp_1_evse_1_current_l1") == pytest.approx(15.94, abs=0.01)
        await send(station, event("A", 21, "Ended", START + timedelta(minutes=21), register, 0, state="EVConnected"))
        await check(10.0, 20.0)  # the ended session's value stays until the next one starts
        assert hass.states.get(STATE).state == "idle"  # type: ignore[union-attr]
        assert hass.states.get("sensor.cp_1_evse_1_last_stop_reason").state == "EVDisconnected"  # type: ignore[union-attr]

    # B: 30 events the station queued while offline, replayed out of order with duplicates after reconnecting.
    base = START + timedelta(hours=1)
    queued = [
        event("B", 0, "Started", base, register, 0, offline=True),
        *(
            event("B", n, "Updated", base + timedelta(minutes=n), register + n * 250, 7_000, offline=True)
            for n in range(1, 29)
        ),
    ]
    queued.append(event("B", 29, "Ended", base + timedelta(minutes=29), register + 28 * 250, 0, offline=True))
    replay = [*queued, *random.Random(7).sample(queued, 5)]
    random.Random(8).shuffle(replay)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        for payload in replay:
            await send(station, payload)
            await hass.async_block_till_done()
            assert lifetime_seen[-1] <= number(hass, LIFETIME)
            lifetime_seen.append(number(hass, LIFETIME))
        register += 28 * 250
        await check(7.0, 27.0)
        assert entry.runtime_data.runtimes["CP-1"].transactions.gaps == {}

        # C: the station's meter was replaced: its register starts again at 0.
        later = base + timedelta(hours=2)
        await send(station, event("C", 0, "Started", later, 0, 0))
        await check(0.0, 27.0)
        await send(station, event("C", 1, "Updated", later + timedelta(minutes=5), 1_500, 11_000))
        await check(1.5, 28.5)
        # Meter values outside transactions count too (J01).
        from ocpp.v201 import call  # noqa: PLC0415

        await station.call(call.MeterValues(evse_id=1, meter_value=meter_value(later + timedelta(minutes=6), 1_700, 0)))
        await check(1.7, 28.7)


async def test_authorize_and_token_events(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    from ocpp.v201 import call  # noqa: PLC0415

    entry = await setup_integration(stations=[trusted_station("CP-1")])
    await hass.services.async_call(
        DOMAIN, "add_id_token", {"id_token": "CARD-1", "label": "Anna", "type": "ISO14443"}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN,
        "add_id_token",
        {"id_token": "OLD", "expires": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
        blocking=True,
    )
    listed = await hass.services.async_call(DOMAIN, "list_id_tokens", blocking=True, return_response=True)
    assert [token["id_token"] for token in listed["id_tokens"]] == ["CARD-1", "OLD"]  # type: ignore[index, union-attr]
    events: list[dict[str, Any]] = []
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        event_entity = "event.cp_1_id_token_presented"

        async def present(token: str, kind: str = "ISO14443") -> str:
            response = await station.call(call.Authorize(id_token={"id_token": token, "type": kind}))
            await hass.async_block_till_done()
            state = hass.states.get(event_entity)
            assert state is not None
            events.append(dict(state.attributes))
            status: str = response.id_token_info["status"]
            return status

        assert await present("CARD-1") == "Accepted"
        assert events[-1]["event_type"] == "accepted"
        assert events[-1]["id_token"] == "CARD-1"
        assert await present("STRANGER") == "Unknown"
        assert (events[-1]["event_type"], events[-1]["decision"]) == ("rejected", "Unknown")
        assert await present("OLD") == "Expired"
        assert await present("card-1", "KeyCode") == "Unknown"  # listed for ISO14443 only
        # The TransactionEvent's idToken is answered too (E01.FR.12).
        response = await send(station, event("T", 0, "Started", START, 0, 0))
        assert response.id_token_info["status"] == "Accepted"
        await hass.services.async_call(DOMAIN, "remove_id_token", {"id_token": "CARD-1"}, blocking=True)
        assert await present("CARD-1") == "Unknown"
    listed = await hass.services.async_call(DOMAIN, "list_id_tokens", blocking=True, return_response=True)
    assert listed["last_unknown_token"]["id_token"] == "CARD-1"  # type: ignore[index, call-overload]
    await asyncio.sleep(0)
