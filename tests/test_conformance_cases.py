"""Certification-style cases against the public surface: a station peer on a real socket, the exact frames it gets.

Each test is named after the requirement the defect broke (issue 20).
"""

from __future__ import annotations

import asyncio
from functools import cache
import json
import re
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import entity_registry as er
from hypothesis import Phase, given, settings
from ocpp.v201 import call
import pytest
from websockets.asyncio.client import connect

from custom_components.ocpp_csms import sessions
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.protocol.v201 import ACTIONS, Initiator

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .protocol.test_conformance import instances, validator
from .station.inventory import inventory
from .station_peer import SUBPROTOCOL, StationPeer, basic_auth_header, station_connection
from .test_control_surface import device_id, wait_until
from .test_transactions import START, event, send

MILLISECONDS_AT_MOST = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})")
#: Hypothesis draws the example payloads inside the running test; its note about the PRNG it registers is moot here.
pytestmark = pytest.mark.filterwarnings("ignore:It looks like `register_random`:hypothesis.errors.HypothesisWarning")
STATION_ACTIONS = sorted(name for name, spec in ACTIONS.items() if Initiator.CHARGING_STATION in spec.initiated_by)


async def status_notification(station: StationPeer, evse_id: int = 1, status: str = "Available") -> None:
    await station.call(
        call.StatusNotification(
            timestamp="2026-11-21T10:00:00Z", connector_status=status, evse_id=evse_id, connector_id=1
        )
    )


def sent(station: StationPeer, action: str) -> list[dict[str, Any]]:
    """What the central system sent the station of `action` since the last look (the queue is drained)."""
    found = []
    while not station.received.empty():
        name, request = station.received.get_nowait()
        if name == action:
            found.append(request)
    return found


async def test_date_times_have_at_most_three_decimal_places(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Part 2 dateTime: BootNotificationResponse and HeartbeatResponse currentTime."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        boot = await station.boot()
        heartbeat = await station.call(call.Heartbeat())
    for value in (boot.current_time, heartbeat.current_time):
        assert MILLISECONDS_AT_MOST.fullmatch(value), value


# ---- F01: remote start -----------------------------------------------------------------------------------


async def test_f01_fr_04_remote_start_with_a_listed_card_and_its_type_carries_a_tx_profile(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """F01.FR.04 the token and its type as given; F01.FR.08-11 a TxProfile without transactionId."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await status_notification(station)
        await hass.async_block_till_done()
        sent(station, "RequestStartTransaction")
        response = await hass.services.async_call(
            DOMAIN,
            "start_charging",
            {
                "device_id": device_id(hass, entry, evse_identifier("CP-1", 1)),
                "id_token": "TAG-001",
                "token_type": "ISO14443",
                "current": 10,
            },
            blocking=True,
            return_response=True,
        )
        assert response == {"transaction_id": "REMOTE-1"}
        (request,) = sent(station, "RequestStartTransaction")
    assert request["id_token"] == {"id_token": "TAG-001", "type": "ISO14443"}
    assert request["evse_id"] == 1
    profile = request["charging_profile"]
    assert profile["charging_profile_purpose"] == "TxProfile"
    assert profile["charging_profile_kind"] == "Relative"
    assert "transaction_id" not in profile
    assert profile["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 10


async def test_f01_fr_03_the_remote_token_is_accepted_for_that_start_only(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """The Central token of a remote start authorizes its transaction, not the rest of the run."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    central_token = {"id_token": "HomeAssistant", "type": "Central"}
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await status_notification(station)
        # Before any remote start, nobody may use it.
        refused = await station.call(call.Authorize(id_token=central_token))
        assert refused.id_token_info["status"] == "Unknown"
        await hass.services.async_call(
            DOMAIN, "start_charging", {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1))}, blocking=True
        )
        started = event("T1", 0, "Started", START, 0, 0)
        started["id_token"] = central_token
        assert (await send(station, started)).id_token_info["status"] == "Accepted"
        updated = event("T1", 1, "Updated", START, 100, 7000)
        updated["id_token"] = central_token
        assert (await send(station, updated)).id_token_info["status"] == "Accepted"  # its own transaction
        await send(station, event("T1", 2, "Ended", START, 200, 0))
        # The start is over: the token is nobody's.
        again = event("T2", 0, "Started", START, 200, 0)
        again["id_token"] = central_token
        assert (await send(station, again)).id_token_info["status"] == "Unknown"


# ---- F06: TriggerMessage ---------------------------------------------------------------------------------


async def test_f06_sign_certificate_triggers_are_allowed_once_signing_is_served(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Only messages the central system serves are triggered: SignCertificate is served (A02), so its triggers go."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        sent(station, "TriggerMessage")
        answer = await hass.services.async_call(
            DOMAIN,
            "trigger_message",
            {"device_id": device_id(hass, entry, "CP-1"), "message": "SignChargingStationCertificate"},
            blocking=True,
            return_response=True,
        )
        assert answer == {"status": "Accepted"}
        assert [item["requested_message"] for item in sent(station, "TriggerMessage")] == [
            "SignChargingStationCertificate"
        ]


# ---- every station-initiated action gets a response ------------------------------------------------------


@pytest.mark.parametrize("action", STATION_ACTIONS)
async def test_every_station_initiated_action_gets_a_schema_valid_response(
    hass: HomeAssistant, setup_integration: SetupIntegration, action: str
) -> None:
    """Never a CALLERROR (NotSupported) where the spec names an answer: refusals carry the spec's status."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    payload = example(f"{action}Request")
    headers = basic_auth_header("CP-1", STATION_PASSWORD)
    async with connect(f"{ws_url(entry)}/CP-1", subprotocols=[SUBPROTOCOL], additional_headers=headers) as ws:
        await ws.send(json.dumps([2, "boot", "BootNotification", example("BootNotificationRequest")]))
        assert (await answer(ws, "boot"))[0] == 3
        await ws.send(json.dumps([2, "m1", action, payload]))
        frame = await answer(ws, "m1")
    assert frame[:2] == [3, "m1"], frame
    validator(f"{action}Response").validate(frame[2])


async def answer(ws: Any, message_id: str) -> list[Any]:
    """The answer to our CALL `message_id` (CALLs the central system sends meanwhile are skipped)."""
    async with asyncio.timeout(5):
        while True:
            frame: list[Any] = json.loads(await ws.recv())
            if frame[0] in (3, 4) and frame[1] == message_id:
                return frame


@cache
def example(name: str) -> Any:
    """A schema-valid instance: the first hypothesis generates (no shrinking; the same each run)."""
    found: list[Any] = []

    @settings(max_examples=1, database=None, derandomize=True, phases=[Phase.generate], deadline=None)
    @given(instances(name))
    def draw(instance: Any) -> None:
        found.append(instance)

    draw()
    return found[0]


# ---- K01: stack levels -----------------------------------------------------------------------------------


async def test_k01_fr_52_an_unknown_stack_level_is_read_and_a_station_and_an_evse_limit_stand_together(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """ProfileStackLevel unknown: read with GetVariables; never said, 1 is assumed (two levels, K01.FR.52/53)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await status_notification(station)
        await hass.async_block_till_done()
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": device_id(hass, entry, "CP-1"), "current": 16}, blocking=True
        )
        _, probe = await station.next_received("GetVariables")
        assert probe == {
            "get_variable_data": [
                {"component": {"name": "SmartChargingCtrlr"}, "variable": {"name": "ProfileStackLevel"}}
            ]
        }
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1)), "current": 10},
            blocking=True,
        )
    levels = sorted((evse_id, profile["stack_level"]) for evse_id, profile in station.profiles)
    assert levels == [(0, 0), (1, 1)]


# ---- K09, K10: what the station holds --------------------------------------------------------------------


async def test_k10_clear_by_criteria_and_k09_get_charging_profiles(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Profiles the integration has no record of (an earlier install's) are cleared by criteria, and reported."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    foreign = {
        "id": 7,
        "stack_level": 3,
        "charging_profile_purpose": "TxDefaultProfile",
        "charging_profile_kind": "Absolute",
        "charging_schedule": [
            {
                "id": 7,
                "charging_rate_unit": "A",
                "start_schedule": "2026-11-21T00:00:00Z",
                "charging_schedule_period": [{"start_period": 0, "limit": 8}],
            }
        ],
    }
    evse = evse_identifier("CP-1", 1)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.profiles = [(1, foreign)]
        await station.boot()
        await status_notification(station)
        await hass.async_block_till_done()
        reported = await hass.services.async_call(
            DOMAIN,
            "get_charging_profiles",
            {"device_id": device_id(hass, entry, evse)},
            blocking=True,
            return_response=True,
        )
        assert reported == {
            "profiles": [
                {
                    "evse_id": 1,
                    "charging_limit_source": "CSO",
                    "charging_profile": {
                        "id": 7,
                        "stackLevel": 3,
                        "chargingProfilePurpose": "TxDefaultProfile",
                        "chargingProfileKind": "Absolute",
                        "chargingSchedule": [
                            {
                                "id": 7,
                                "chargingRateUnit": "A",
                                "startSchedule": "2026-11-21T00:00:00Z",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8}],
                            }
                        ],
                    },
                }
            ]
        }
        _, request = await station.next_received("GetChargingProfiles")
        assert request == {"request_id": 1, "charging_profile": {}, "evse_id": 1}
        answer = await hass.services.async_call(
            DOMAIN,
            "clear_charging_limit",
            {"device_id": device_id(hass, entry, evse)},
            blocking=True,
            return_response=True,
        )
        assert answer == {"statuses": ["Accepted"]}
        _, clear = await station.next_received("ClearChargingProfile")
        assert clear == {"charging_profile_criteria": {"evse_id": 1, "charging_profile_purpose": "TxDefaultProfile"}}


# ---- a person's change is not held back -----------------------------------------------------------------


async def test_a_change_made_by_a_person_goes_out_at_once_an_automation_keeps_the_protection(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: Any,
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    evse = evse_identifier("CP-1", 1)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(inventory())
        await station.boot()
        await wait_until(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        await status_notification(station)
        await hass.async_block_till_done()

        async def set_limit(current: int, context: Context | None) -> None:
            data = {"device_id": device_id(hass, entry, evse), "current": current}
            await hass.services.async_call(DOMAIN, "set_charging_limit", data, blocking=True, context=context)
            await hass.async_block_till_done()

        await set_limit(6, None)
        sent(station, "SetChargingProfile")
        await set_limit(7, None)  # an automation: an increase within 30 s waits
        assert sent(station, "SetChargingProfile") == []
        await set_limit(7, Context(user_id=hass_admin_user.id))  # a person: at once
        (request,) = sent(station, "SetChargingProfile")
        assert request["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 7


# ---- G03/G04: availability of one connector ---------------------------------------------------------------


async def test_g04_availability_of_one_connector(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await status_notification(station)
        await hass.async_block_till_done()
        await hass.services.async_call(
            DOMAIN,
            "change_availability",
            {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1)), "operative": False, "connector_id": 2},
            blocking=True,
        )
        _, request = await station.next_received("ChangeAvailability")
    assert request == {"operational_status": "Inoperative", "evse": {"id": 1, "connector_id": 2}}


# ---- E14: GetTransactionStatus on demand ------------------------------------------------------------------


async def test_e14_transaction_status_on_demand(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 0, 0))
        await hass.async_block_till_done()
        response = await hass.services.async_call(
            DOMAIN,
            "get_transaction_status",
            {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1))},
            blocking=True,
            return_response=True,
        )
        _, request = await station.next_received("GetTransactionStatus")
    assert request == {"transaction_id": "T1"}
    assert response == {"messages_in_queue": False, "ongoing_indicator": True}


async def test_e14_after_a_reconnect_the_status_is_asked_once_the_queued_events_are_in(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "QUEUE_QUIET", 0.3)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("T1", 0, "Started", START, 0, 0))
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        for seq_no in (1, 2, 3):  # what it queued while offline
            await send(station, event("T1", seq_no, "Updated", START, seq_no * 100, 7000, offline=True))
        replayed_at = asyncio.get_running_loop().time()
        assert sent(station, "GetTransactionStatus") == []
        _, request = await station.next_received("GetTransactionStatus")
        assert request == {"transaction_id": "T1"}
        assert asyncio.get_running_loop().time() - replayed_at >= 0.25
        await station.next_received("GetCompositeSchedule")  # its limit in force, read again


async def test_n04_monitors_go_out_split_to_items_per_message(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """SetVariableMonitoring respects MonitoringCtrlr.ItemsPerMessageSetVariableMonitoring (here 1)."""
    registry = er.async_get(hass)
    for evse_id in (1, 2):  # the EVSEs' Power variables support monitoring; enabled here
        registry.async_get_or_create("sensor", DOMAIN, f"CP-1_var_evse#{evse_id}/power")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    report = inventory()
    for item in report:
        if (item["component"]["name"], item["variable"]["name"], item["variable"].get("instance")) == (
            "MonitoringCtrlr",
            "ItemsPerMessage",
            "SetVariableMonitoring",
        ):
            item["variableAttribute"][0]["value"] = "1"
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(report)
        await station.boot()
        _, first = await station.next_received("SetVariableMonitoring")
        _, second = await station.next_received("SetVariableMonitoring")
    monitored = [request["set_monitoring_data"] for request in (first, second)]
    assert [len(items) for items in monitored] == [1, 1]
    assert sorted(items[0]["component"]["evse"]["id"] for items in monitored) == [1, 2]


# ---- B01/B07: the boot's answer goes out before anything the boot starts ---------------------------------


async def test_b01_boot_answer_precedes_the_inventory_request(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A station waiting for its boot answer may refuse CALLs: the first frame after the boot is its answer."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    headers = basic_auth_header("CP-1", STATION_PASSWORD)
    async with connect(f"{ws_url(entry)}/CP-1", subprotocols=[SUBPROTOCOL], additional_headers=headers) as ws:
        boot = {"chargingStation": {"model": "Wallbox 22", "vendorName": "ACME"}, "reason": "PowerUp"}
        await ws.send(json.dumps([2, "boot", "BootNotification", boot]))
        async with asyncio.timeout(5):
            first = json.loads(await ws.recv())
            assert first[:2] == [3, "boot"], first
            assert first[2]["status"] == "Accepted"
            follow_up = json.loads(await ws.recv())
        assert follow_up[0] == 2
        assert follow_up[2] == "GetBaseReport"  # a new station's inventory (B07), after the answer
