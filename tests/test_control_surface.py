"""The control surface end to end: every action and control entity, and the exact OCPP messages a station gets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_transactions import START, event, send

CURRENT_LIMIT = "number.cp_1_evse_1_charging_current_limit"


async def wait_until(condition: Callable[[], bool]) -> None:
    """Let the loop run until `condition()` holds; no sleeping, as some tests freeze the clock."""
    for _ in range(100_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def device_id(hass: HomeAssistant, entry: MockConfigEntry, identifier: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, identifier), entry.entry_id)
    assert device is not None, identifier
    return device.id


async def ready_station(hass: HomeAssistant, entry: MockConfigEntry, station: StationPeer) -> None:
    """Boot with the inventory (RateUnit "A,W", 3 phases, 32 A) and report EVSE 1."""
    station.load_inventory(inventory())
    await station.boot()
    await station.next_received("GetBaseReport")
    await wait_until(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
    await station.call(
        call.StatusNotification(
            timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
        )
    )
    await hass.async_block_till_done()


def profile_summary(request: dict[str, Any]) -> dict[str, Any]:
    profile = request["charging_profile"]
    schedule = profile["charging_schedule"][0]
    period = schedule["charging_schedule_period"][0]
    return {
        "evse_id": request["evse_id"],
        "purpose": profile["charging_profile_purpose"],
        "kind": profile["charging_profile_kind"],
        "stack_level": profile["stack_level"],
        "unit": schedule["charging_rate_unit"],
        "limit": period["limit"],
        "phases": period.get("number_phases"),
        "transaction_id": profile.get("transaction_id"),
    }


async def test_limits_profiles_and_readback(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        state = hass.states.get(CURRENT_LIMIT)
        assert state is not None
        assert state.attributes["max"] == 31.9  # 22 kW (EVSE.Power maxLimit) on 3 x 230 V

        # The number applies a TxDefaultProfile on the EVSE; its state is the limit read back.
        await hass.services.async_call(
            "number", "set_value", {ATTR_ENTITY_ID: CURRENT_LIMIT, "value": 10}, blocking=True
        )
        _, request = await station.next_received("SetChargingProfile")
        first = profile_summary(request)
        assert first == {
            "evse_id": 1,
            "purpose": "TxDefaultProfile",
            "kind": "Absolute",
            "stack_level": first["stack_level"],
            "unit": "A",
            "limit": 10,
            "phases": None,
            "transaction_id": None,
        }
        _, composite = await station.next_received("GetCompositeSchedule")
        assert composite["evse_id"] == 1
        await hass.async_block_till_done()
        assert hass.states.get(CURRENT_LIMIT).state == "10.0"  # type: ignore[union-attr]
        assert hass.states.get("sensor.cp_1_evse_1_charging_limit_in_force").state == "10.0"  # type: ignore[union-attr]

        # Flash protection: a 0.3 A change is skipped, an increase waits 30 s, a decrease goes at once.
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": evse, "current": 10.3}, blocking=True
        )
        await hass.services.async_call(DOMAIN, "set_charging_limit", {"device_id": evse, "current": 16}, blocking=True)
        await hass.async_block_till_done()
        assert station.received.empty()
        freezer.tick(timedelta(seconds=31))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        _, request = await station.next_received("SetChargingProfile")
        assert profile_summary(request)["limit"] == 16
        assert profile_summary(request)["stack_level"] == first["stack_level"]  # replaces our own profile
        assert request["charging_profile"]["id"] == (await_id := request["charging_profile"]["id"])
        await station.next_received("GetCompositeSchedule")
        await hass.services.async_call(DOMAIN, "set_charging_limit", {"device_id": evse, "current": 8}, blocking=True)
        _, request = await station.next_received("SetChargingProfile")
        assert profile_summary(request)["limit"] == 8
        assert request["charging_profile"]["id"] == await_id

        # While a transaction runs, the limit also goes out as a TxProfile for it; below 6 A it is raised to 6.
        await send(station, event("T1", 0, "Started", START, 0, 0))
        await hass.async_block_till_done()
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": evse, "current": 4, "phases": 1}, blocking=True
        )
        _, default = await station.next_received("SetChargingProfile")
        _, tx = await station.next_received("SetChargingProfile")
        assert (profile_summary(default)["purpose"], profile_summary(default)["limit"]) == ("TxDefaultProfile", 6)
        assert profile_summary(default)["phases"] == 1
        assert profile_summary(tx)["purpose"] == "TxProfile"
        assert profile_summary(tx)["transaction_id"] == "T1"
        # 0 pauses.
        await hass.services.async_call(DOMAIN, "set_charging_limit", {"device_id": evse, "current": 0}, blocking=True)
        _, default = await station.next_received("SetChargingProfile")
        _, tx = await station.next_received("SetChargingProfile")
        assert (profile_summary(default)["limit"], profile_summary(tx)["limit"]) == (0, 0)

        # Power in W on a station that takes A and W goes out in W; the station cap is a ChargingStationMaxProfile.
        station_device = device_id(hass, entry, "CP-1")
        freezer.tick(timedelta(seconds=31))
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": station_device, "power": 11000}, blocking=True
        )
        _, request = await station.next_received("SetChargingProfile")
        summary = profile_summary(request)
        assert (summary["evse_id"], summary["purpose"], summary["unit"], summary["limit"]) == (
            0,
            "TxDefaultProfile",
            "W",
            11000,
        )
        # The running transaction gets it as a TxProfile ranking below the EVSE's own limit.
        _, tx = await station.next_received("SetChargingProfile")
        assert (profile_summary(tx)["evse_id"], profile_summary(tx)["purpose"]) == (1, "TxProfile")
        assert profile_summary(tx)["stack_level"] < profile_summary(default)["stack_level"]
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": station_device, "current": 25, "station_cap": True, "duration": {"hours": 2}},
            blocking=True,
        )
        _, request = await station.next_received("SetChargingProfile")
        cap = request["charging_profile"]
        assert (request["evse_id"], cap["charging_profile_purpose"]) == (0, "ChargingStationMaxProfile")
        assert cap["valid_to"]
        # Every profile id of ours is distinct per (purpose, EVSE, stack level) (K01.FR.06).
        seen = {(evse, p["charging_profile_purpose"], p["stack_level"]): p["id"] for evse, p in station.profiles}
        assert len(set(seen.values())) == len(seen)

        # Schedules with clock times, recurring daily.
        await hass.services.async_call(
            DOMAIN,
            "set_charging_schedule",
            {
                "device_id": evse,
                "periods": [{"start": "22:00", "limit": 16}, {"start": "06:00", "limit": 6}],
                "recurrence": "daily",
            },
            blocking=True,
        )
        _, request = await station.next_received("SetChargingProfile")
        profile = request["charging_profile"]
        assert (profile["charging_profile_kind"], profile["recurrency_kind"]) == ("Recurring", "Daily")
        periods = profile["charging_schedule"][0]["charging_schedule_period"]
        assert {period["limit"] for period in periods} == {6, 16}  # a daily cycle: 16 until 06:00, 6, 16 from 22:00
        await station.next_received("SetChargingProfile")  # and the TxProfile of the running transaction

        # The composite schedule, as the station reports it.
        response = await hass.services.async_call(
            DOMAIN, "get_composite_schedule", {"device_id": evse}, blocking=True, return_response=True
        )
        assert response is not None
        assert response["status"] == "Accepted"
        # Clearing removes our profiles by id only.
        ids_before = {p["id"] for _, p in station.profiles}
        await hass.services.async_call(DOMAIN, "clear_charging_limit", {"device_id": evse}, blocking=True)
        cleared = []
        while not station.received.empty():
            action, payload = station.received.get_nowait()
            if action == "ClearChargingProfile":
                cleared.append(payload["charging_profile_id"])
        assert cleared
        assert set(cleared) <= ids_before

        # A refused profile is a translated error.
        station.charging_profile_status = "Rejected"
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "set_charging_limit", {"device_id": evse, "current": 12}, blocking=True
            )
        assert err.value.translation_key == "profile_rejected"


async def test_external_limits(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    # The sensor is disabled by default (the event says it first): enabled here.
    er.async_get(hass).async_get_or_create(
        "sensor",
        DOMAIN,
        "CP-1_evse_1_external_charging_limit",
        suggested_object_id="cp_1_evse_1_external_charging_limit",
    )
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await station.call(
            call.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "EMS", "is_grid_critical": True}, evse_id=1
            )
        )
        await hass.async_block_till_done()
        sensor = hass.states.get("sensor.cp_1_evse_1_external_charging_limit")
        assert sensor is not None
        assert (sensor.state, sensor.attributes["grid_critical"]) == ("EMS", True)
        events = hass.states.get("event.cp_1_external_charging_limit")
        assert events is not None
        assert (events.attributes["event_type"], events.attributes["source"]) == ("notified", "EMS")
        await station.call(call.ClearedChargingLimit(charging_limit_source="EMS", evse_id=1))
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp_1_evse_1_external_charging_limit").state == "unknown"  # type: ignore[union-attr]
        assert hass.states.get("event.cp_1_external_charging_limit").attributes["event_type"] == "cleared"  # type: ignore[union-attr]


async def test_commands(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        station_device = device_id(hass, entry, "CP-1")
        charging = "switch.cp_1_evse_1_charging"

        # The charging switch starts a session; its state follows the real transaction.
        await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: charging}, blocking=True)
        _, request = await station.next_received("RequestStartTransaction")
        assert (request["id_token"], request["evse_id"]) == ({"id_token": "HomeAssistant", "type": "Central"}, 1)
        assert hass.states.get(charging).state == "off"  # type: ignore[union-attr]
        started = event("REMOTE-1", 0, "Started", START, 0, 0)
        started["id_token"] = {"id_token": "HomeAssistant", "type": "Central"}
        answer = await send(station, started)
        assert answer.id_token_info["status"] == "Accepted"  # the token of our own remote start (F01)
        await hass.async_block_till_done()
        assert hass.states.get(charging).state == "on"  # type: ignore[union-attr]
        # Off pauses the running session with a 0 A TxProfile (the session stays); on lifts the pause.
        await hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: charging}, blocking=True)
        _, request = await station.next_received("SetChargingProfile")
        profile = request["charging_profile"]
        assert (profile["charging_profile_purpose"], profile["transaction_id"]) == ("TxProfile", "REMOTE-1")
        assert profile["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 0
        state = hass.states.get(charging)
        assert state is not None
        assert (state.state, state.attributes["control"], state.attributes["paused"]) == ("off", "pause", True)
        await hass.services.async_call("switch", "turn_on", {ATTR_ENTITY_ID: charging}, blocking=True)
        _, request = await station.next_received("ClearChargingProfile")
        assert request == {"charging_profile_id": profile["id"]}
        assert hass.states.get(charging).state == "on"  # type: ignore[union-attr]
        # The stop action ends the transaction.
        await hass.services.async_call(DOMAIN, "stop_charging", {"device_id": evse}, blocking=True)
        _, request = await station.next_received("RequestStopTransaction")
        assert request == {"transaction_id": "REMOTE-1"}
        response = await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": evse, "id_token": "CARD-9"}, blocking=True, return_response=True
        )
        assert response == {"transaction_id": "REMOTE-1"}

        # Availability per EVSE and per station.
        await hass.services.async_call(
            "switch", "turn_off", {ATTR_ENTITY_ID: "switch.cp_1_evse_1_available"}, blocking=True
        )
        _, request = await station.next_received("ChangeAvailability")
        assert request == {"operational_status": "Inoperative", "evse": {"id": 1}}
        assert hass.states.get("switch.cp_1_evse_1_available").state == "off"  # type: ignore[union-attr]
        response = await hass.services.async_call(
            DOMAIN,
            "change_availability",
            {"device_id": station_device, "operative": True},
            blocking=True,
            return_response=True,
        )
        assert response == {"status": "Accepted"}
        _, request = await station.next_received("ChangeAvailability")
        assert request == {"operational_status": "Operative"}

        # Unlock, reset, trigger.
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.cp_1_evse_1_unlock_connector"}, blocking=True
        )
        assert (await station.next_received("UnlockConnector"))[1] == {"evse_id": 1, "connector_id": 1}
        station.unlock_status = "UnlockFailed"
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(DOMAIN, "unlock_connector", {"device_id": evse}, blocking=True)
        assert err.value.translation_placeholders == {
            "station": "CP-1",
            "command": "UnlockConnector",
            "status": "UnlockFailed",
        }
        await hass.services.async_call(
            "button", "press", {ATTR_ENTITY_ID: "button.cp_1_reboot_when_idle"}, blocking=True
        )
        assert (await station.next_received("Reset"))[1]["type"] == "OnIdle"
        response = await hass.services.async_call(
            DOMAIN, "reset", {"device_id": station_device, "type": "immediate"}, blocking=True, return_response=True
        )
        assert response == {"status": "Accepted"}
        assert (await station.next_received("Reset"))[1]["type"] == "Immediate"
        response = await hass.services.async_call(
            DOMAIN,
            "trigger_message",
            {"device_id": evse, "message": "StatusNotification"},
            blocking=True,
            return_response=True,
        )
        assert response == {"status": "Accepted"}
        assert (await station.next_received("TriggerMessage"))[1] == {
            "requested_message": "StatusNotification",
            "evse": {"id": 1},
        }

        # Variables and vendor data, with response data.
        response = await hass.services.async_call(
            DOMAIN,
            "get_variables",
            {
                "device_id": station_device,
                "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}],
            },
            blocking=True,
            return_response=True,
        )
        assert response is not None
        assert response["results"][0]["attributeValue"] == "300"  # type: ignore[index]
        response = await hass.services.async_call(
            DOMAIN,
            "set_variables",
            {
                "device_id": station_device,
                "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "900"}],
            },
            blocking=True,
            return_response=True,
        )
        assert response["results"][0]["attributeStatus"] == "Accepted"  # type: ignore[index]
        response = await hass.services.async_call(
            DOMAIN,
            "data_transfer",
            {"device_id": station_device, "vendor_id": "test", "message_id": "ping", "data": {"n": 1}},
            blocking=True,
            return_response=True,
        )
        assert response == {"status": "Accepted", "data": {"n": 1}}

        # An incoming vendor DataTransfer fires an event.
        fired: list[Any] = []
        hass.bus.async_listen("ocpp_csms_data_transfer", fired.append)
        answer = await station.call(call.DataTransfer(vendor_id="acme", message_id="hello", data="hi"))
        await hass.async_block_till_done()
        assert answer.status == "UnknownVendorId"
        assert fired[0].data == {"station_id": "CP-1", "vendor_id": "acme", "message_id": "hello", "data": "hi"}

        # Bad targets get translated validation errors.
        with pytest.raises(ServiceValidationError) as invalid:
            await hass.services.async_call(DOMAIN, "stop_charging", {"device_id": station_device}, blocking=True)
        assert invalid.value.translation_key == "evse_required"
        with pytest.raises(ServiceValidationError) as invalid:
            await hass.services.async_call(DOMAIN, "set_charging_limit", {"device_id": evse}, blocking=True)
        assert invalid.value.translation_key == "limit_required"
