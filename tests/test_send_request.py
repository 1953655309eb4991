"""The `send_request` action: any CSMS-initiated request as given, the station's answer, and what it changed read back.

The payload is checked against the typed model of the action's request before anything goes out; the answer is the
station's response in wire JSON. A SetVariables is read back with GetVariables (entities show what the station
holds), a charging profile with GetCompositeSchedule (the limit entities), a report is taken by the inventory.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from ocpp.routing import after, on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.protocol.v201.messages import ACTIONS, Initiator, NotifyReportRequest
from custom_components.ocpp_csms.station_requests import CSMS_ACTIONS
from custom_components.ocpp_csms.variable_sync import reboot_issue_id

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_actions import sent_actions
from .test_control_surface import CURRENT_LIMIT, device_id, ready_station

SERVICES_YAML = Path(__file__).parent.parent / "custom_components" / "ocpp_csms" / "services.yaml"
LIMIT_IN_FORCE = "sensor.cp_1_evse_1_charging_limit_in_force"


class AdjustingStation(StationPeer):
    """Keeps a heartbeat interval it accepts in whole minutes, and reports its composite schedules from now on."""

    @on(Action.set_variables)
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **kwargs: Any) -> call_result.SetVariables:
        """Accept as the peer does, then round HeartbeatInterval down to whole minutes."""
        response = super().on_set_variables(set_variable_data, **kwargs)
        key = ("OCPPCommCtrlr", "HeartbeatInterval")
        if key in self.variables:
            self.variables[key] = str(int(self.variables[key]) // 60 * 60)
        return response

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **kwargs: Any) -> Any:
        """The peer's composite, starting now."""
        response = super().on_get_composite_schedule(duration, evse_id, **kwargs)
        if response.schedule is not None:
            response.schedule["schedule_start"] = datetime.now(UTC).isoformat()
        return response


class SilentReporter(StationPeer):
    """Accepts every GetBaseReport and never sends the report."""

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **_kwargs: Any) -> None:
        """Nothing follows."""


def heartbeat_entity(hass: HomeAssistant) -> str:
    """The entity of CP-1's OCPPCommCtrlr.HeartbeatInterval."""
    entity_id = er.async_get(hass).async_get_entity_id("number", DOMAIN, "CP-1_var_ocppcommctrlr/heartbeatinterval")
    assert entity_id is not None
    return entity_id


async def send_request(
    hass: HomeAssistant, entry: MockConfigEntry, action: str, payload: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the action on CP-1's device; the station's response."""
    data: dict[str, Any] = {"device_id": device_id(hass, entry, "CP-1"), "action": action}
    if payload is not None:
        data["payload"] = payload
    response = await hass.services.async_call(DOMAIN, "send_request", data, blocking=True, return_response=True)
    assert response is not None
    return dict(response)


def test_the_action_offers_every_csms_initiated_action_and_no_other() -> None:
    """services.yaml lists exactly the actions the central system may send (DataTransfer goes both ways)."""
    fields = yaml.safe_load(SERVICES_YAML.read_text(encoding="utf-8"))["send_request"]["fields"]
    options = fields["action"]["selector"]["select"]["options"]
    assert options == list(CSMS_ACTIONS) == sorted(CSMS_ACTIONS)
    assert {"Reset", "SetVariables", "GetBaseReport", "DataTransfer", "UpdateFirmware"} <= set(options)
    assert not {"BootNotification", "NotifyReport", "TransactionEvent"} & set(options)
    assert {name for name, spec in ACTIONS.items() if Initiator.CSMS in spec.initiated_by} == set(options)


async def test_set_variables_is_sent_as_given_and_its_entity_reads_back_what_the_station_holds(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """The station keeps 600 of the 605 s it accepted: the entity shows 600, read back with GetVariables."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AdjustingStation
    ) as station:
        await ready_station(hass, entry, station)
        entity_id = heartbeat_entity(hass)
        assert hass.states.get(entity_id).state == "300"  # type: ignore[union-attr]
        sent_actions(station)
        variable = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        response = await send_request(
            hass, entry, "SetVariables", {"setVariableData": [{**variable, "attributeValue": "605"}]}
        )
        assert response == {"setVariableResult": [{"attributeStatus": "Accepted", **variable}]}
        _, written = await station.next_received("SetVariables")
        assert written["set_variable_data"] == [{"attribute_value": "605", **variable}]
        _, read = await station.next_received("GetVariables")
        assert read["get_variable_data"] == [variable]
        await hass.async_block_till_done()
        assert hass.states.get(entity_id).state == "600"

        # A value that needs a reboot opens the repair that offers one.
        station.set_variables_status = "RebootRequired"
        response = await send_request(
            hass, entry, "SetVariables", {"setVariableData": [{**variable, "attributeValue": "900"}]}
        )
        assert response["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
        assert ir.async_get(hass).async_get_issue(DOMAIN, reboot_issue_id("CP-1")) is not None
        assert hass.states.get(entity_id).state == "600"  # in force after the reboot only


async def test_a_charging_profile_is_read_back_with_the_composite_schedule(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """K01 then K08: the limit entities show the profile's limit; once it is cleared (K10) they show none."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AdjustingStation
    ) as station:
        await ready_station(hass, entry, station)
        sent_actions(station)
        profile = {
            "id": 900,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 12.0}]}
            ],
        }
        response = await send_request(hass, entry, "SetChargingProfile", {"evseId": 1, "chargingProfile": profile})
        assert response == {"status": "Accepted"}
        _, request = await station.next_received("SetChargingProfile")
        assert (request["evse_id"], request["charging_profile"]["id"]) == (1, 900)
        _, composite = await station.next_received("GetCompositeSchedule")
        assert composite["evse_id"] == 1
        await hass.async_block_till_done()
        assert hass.states.get(LIMIT_IN_FORCE).state == "12.0"  # type: ignore[union-attr]
        assert hass.states.get(CURRENT_LIMIT).state == "12.0"  # type: ignore[union-attr]

        # Cleared by its id: the EVSE is not named, so every EVSE's composite schedule is read again.
        response = await send_request(hass, entry, "ClearChargingProfile", {"chargingProfileId": 900})
        assert response == {"status": "Accepted"}
        read = [(await station.next_received("GetCompositeSchedule"))[1]["evse_id"] for _ in range(2)]
        assert read == [0, 1]
        await hass.async_block_till_done()
        assert hass.states.get(LIMIT_IN_FORCE).state == "unknown"  # type: ignore[union-attr]

        # Nothing cleared: nothing to read back.
        sent_actions(station)
        response = await send_request(
            hass, entry, "ClearChargingProfile", {"chargingProfileCriteria": {"evseId": 1, "stackLevel": 3}}
        )
        assert response == {"status": "Unknown"}
        await hass.async_block_till_done()
        assert sent_actions(station) == ["ClearChargingProfile"]


async def test_a_base_report_asked_for_becomes_the_inventory(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """B07 with the requestId the refused first inventory used: the report is assembled, not dropped as late."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    runtime = entry.runtime_data.runtimes["CP-1"]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        _, first = await station.next_received("GetBaseReport")  # answered NotSupported: no inventory yet
        await wait_for(lambda: runtime.assembler.request_id is None)
        assert not runtime.has_inventory
        station.load_inventory(inventory())
        response = await send_request(
            hass, entry, "GetBaseReport", {"requestId": first["request_id"], "reportBase": "FullInventory"}
        )
        assert response == {"status": "Accepted"}
        await wait_for(lambda: runtime.has_inventory)
        await hass.async_block_till_done()
        assert len(runtime.device_model) == len(inventory())
        assert hass.states.get(heartbeat_entity(hass)).state == "300"  # type: ignore[union-attr]


async def test_a_report_request_id_in_use_is_refused(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """Two reports with one requestId could not be told apart: the second is refused before it is sent."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=SilentReporter
    ) as station:
        station.load_inventory(inventory())
        await station.boot()
        await station.next_received("GetBaseReport")  # the inventory, never reported
        payload = {"requestId": 77, "reportBase": "ConfigurationInventory"}
        assert await send_request(hass, entry, "GetBaseReport", payload) == {"status": "Accepted"}
        await station.next_received("GetBaseReport")
        with pytest.raises(ServiceValidationError) as err:
            await send_request(hass, entry, "GetBaseReport", payload)
        assert err.value.translation_key == "report_request_id_in_use"
        assert err.value.translation_placeholders == {"station": "CP-1", "request_id": "77"}
        runtime = entry.runtime_data.runtimes["CP-1"]
        inventory_id = runtime.assembler.request_id
        assert inventory_id is not None
        with pytest.raises(ServiceValidationError) as err:
            await send_request(hass, entry, "GetReport", {"requestId": inventory_id})
        assert err.value.translation_key == "report_request_id_in_use"
        await hass.async_block_till_done()
        assert sent_actions(station) == []


async def test_other_requests_return_the_stations_answer(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A trigger, a reset, a vendor message: sent as given, answered as the station answered (wire names)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        assert await send_request(hass, entry, "TriggerMessage", {"requestedMessage": "Heartbeat"}) == {
            "status": "Accepted"
        }
        _, trigger = await station.next_received("TriggerMessage")
        assert trigger["requested_message"] == "Heartbeat"
        assert await send_request(hass, entry, "Reset", {"type": "OnIdle", "evseId": 1}) == {"status": "Accepted"}
        _, reset = await station.next_received("Reset")
        assert reset == {"type": "OnIdle", "evse_id": 1}
        response = await send_request(
            hass, entry, "DataTransfer", {"vendorId": "test", "messageId": "m", "data": {"a": [1, 2]}}
        )
        assert response == {"status": "Accepted", "data": {"a": [1, 2]}}
        # A report request the station has nothing for: no report follows, none is awaited.
        response = await send_request(hass, entry, "GetReport", {"requestId": 5, "componentCriteria": ["Active"]})
        assert response == {"status": "EmptyResultSet"}
        await station.next_received("GetReport")
        assert not entry.runtime_data.central.station("CP-1").awaited.take(NotifyReportRequest)


@pytest.mark.parametrize(
    ("action", "payload", "problem"),
    [
        ("SetVariables", None, ("setVariableData", "missing")),
        ("Reset", {"type": "Sometime"}, ("type", "enum")),
        ("Reset", {"type": "OnIdle", "evse_id": "1"}, ("evse_id", "int_type")),
        ("GetBaseReport", {"requestId": 1, "reportBase": "FullInventory", "extra": 1}, ("extra", "extra_forbidden")),
        (
            "SetVariables",
            {"setVariableData": [{"attributeValue": "1", "component": {"name": "C"}, "variable": {"name": "V" * 51}}]},
            ("setVariableData.0.variable.name", "string_too_long"),
        ),
    ],
)
async def test_a_payload_that_is_no_valid_request_is_refused_before_it_is_sent(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    action: str,
    payload: dict[str, Any] | None,
    problem: tuple[str, str],
) -> None:
    """The action, where the first problem is and its kind (pydantic's error type) name it."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.next_received("GetBaseReport")  # what its boot starts
        await hass.async_block_till_done()
        sent_actions(station)
        with pytest.raises(ServiceValidationError) as err:
            await send_request(hass, entry, action, payload)
        assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "invalid_payload")
        assert err.value.translation_placeholders == {"action": action, "field": problem[0], "problem": problem[1]}
        await hass.async_block_till_done()
        assert sent_actions(station) == []


async def test_the_schema_refuses_what_the_station_sends_and_payloads_that_are_no_object(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    station_device = device_id(hass, entry, "CP-1")
    for data in (
        {"device_id": station_device, "action": "BootNotification", "payload": {}},
        {"device_id": station_device, "action": "NoSuchAction"},
        {"device_id": station_device, "action": "Reset", "payload": ["OnIdle"]},
        {"device_id": station_device},
    ):
        with pytest.raises(probatio.Invalid):
            await hass.services.async_call(DOMAIN, "send_request", data, blocking=True, return_response=True)


async def test_a_station_that_is_not_connected_says_so(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    with pytest.raises(HomeAssistantError) as err:
        await send_request(hass, entry, "Reset", {"type": "OnIdle"})
    assert err.value.translation_key == "station_not_connected"
    assert err.value.translation_placeholders == {"station": "CP-1"}


class FailingStation(StationPeer):
    """Its firmware crashes on ClearCache (the `ocpp` package answers InternalError)."""

    @on(Action.clear_cache)
    def on_clear_cache(self, **kwargs: Any) -> Any:
        """Crash."""
        raise RuntimeError("the station's firmware crashed")


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [("ClearCache", {}, "InternalError"), ("CancelReservation", {"reservationId": 1}, "NotImplemented")],
)
async def test_a_callerror_is_a_translated_error(
    hass: HomeAssistant, setup_integration: SetupIntegration, action: str, payload: dict[str, Any], code: str
) -> None:
    """A crash in the station's handler, an action it does not implement: `station_error` with its code."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=FailingStation
    ) as station:
        await station.boot()
        await hass.async_block_till_done()
        with pytest.raises(HomeAssistantError) as err:
            await send_request(hass, entry, action, payload)
    assert err.value.translation_key == "station_error"
    assert err.value.translation_placeholders == {"station": "CP-1", "action": action, "code": code}


async def test_an_evse_device_is_no_target(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """The payload says which EVSE a request concerns: the action targets the station's device."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "send_request",
                {"device_id": evse, "action": "Reset", "payload": {"type": "OnIdle"}},
                blocking=True,
                return_response=True,
            )
        assert err.value.translation_key == "not_a_station"
