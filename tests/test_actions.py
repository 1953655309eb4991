"""The actions' contract: who may call them, what they target, what their schemas refuse, how they batch.

Actions that change what a station trusts or is (resets, variables, vendor data, any request sent as given,
passwords, ID tokens) are for administrators; the others are for every user. Each targets a device of this
integration, on a loaded entry. The schemas hold OCPP's string lengths, so a request the station would refuse is
never built. Reads and writes of many variables go out in requests of at most the station's ItemsPerMessage.
"""

from __future__ import annotations

import contextlib
from typing import Any

from homeassistant.auth.const import GROUP_ID_USER
from homeassistant.core import Context, HomeAssistant, SupportsResponse
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError, Unauthorized
from homeassistant.helpers import device_registry as dr, entity_registry as er
from ocpp.v201 import call
import probatio
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.services import SERVICES
from custom_components.ocpp_csms.station.device_model import VariableKey

from .auth_station import AuthStation
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_control_surface import device_id, ready_station
from .test_transactions import START, event, send

ADMIN_ACTIONS = {
    "reset",
    "set_variables",
    "data_transfer",
    "send_request",
    "rotate_password",
    "add_id_token",
    "remove_id_token",
    # authorization (C, D)
    "update_id_token",
    "sync_local_list",
    # issue 17: what a station trusts (its certificates) and how it connects
    "install_certificate",
    "delete_certificate",
    "upgrade_security_profile",
}


async def normal_user(hass: HomeAssistant) -> MockUser:
    """A user of the "users" group: no administrator."""
    group = await hass.auth.async_get_group(GROUP_ID_USER)
    assert group is not None
    user = MockUser(groups=[group]).add_to_hass(hass)
    assert not user.is_admin
    return user


def sent_actions(station: StationPeer) -> list[str]:
    """The actions of the requests the station got since the last look."""
    actions = []
    while not station.received.empty():
        actions.append(station.received.get_nowait()[0])
    return actions


def writable_variables(data_type: str) -> list[dict[str, Any]]:
    """The inventory's station-level ReadWrite variables of a data type (no EVSE, no instances)."""
    return [
        item
        for item in inventory()
        if item["variableAttribute"][0].get("mutability") == "ReadWrite"
        and item["variableCharacteristics"]["dataType"] == data_type
        and set(item["component"]) == {"name"}
        and set(item["variable"]) == {"name"}
    ]


# ---- who may call what ----------------------------------------------------------------------------------


async def test_admin_actions_refuse_a_user_who_is_no_administrator(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_admin_user: MockUser
) -> None:
    """Unauthorized before anything is sent or changed; an administrator may."""
    assert {name for name, (*_, admin) in SERVICES.items() if admin} == ADMIN_ACTIONS
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": "KEEP"}, blocking=True)
    user = await normal_user(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        station_device = device_id(hass, entry, "CP-1")
        calls: dict[str, dict[str, Any]] = {
            "reset": {"device_id": station_device},
            "set_variables": {
                "device_id": station_device,
                "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "1"}],
            },
            "data_transfer": {"device_id": station_device, "vendor_id": "test"},
            "send_request": {"device_id": station_device, "action": "Reset", "payload": {"type": "Immediate"}},
            "rotate_password": {"device_id": station_device},
            "add_id_token": {"id_token": "MINE"},
            "remove_id_token": {"id_token": "KEEP"},
            "update_id_token": {"id_token": "KEEP", "status": "Blocked"},
            "sync_local_list": {"device_id": station_device},
            "install_certificate": {"device_id": station_device, "certificate_type": "CSMSRootCertificate"},
            "delete_certificate": {"device_id": station_device, "serial_number": "1"},
            "upgrade_security_profile": {"device_id": station_device, "security_profile": 2},
        }
        assert calls.keys() == ADMIN_ACTIONS
        record = entry.runtime_data.registry.get("CP-1")
        sent_actions(station)
        for action, data in calls.items():
            with pytest.raises(Unauthorized):
                await hass.services.async_call(DOMAIN, action, data, blocking=True, context=Context(user_id=user.id))
        await hass.async_block_till_done()
        assert not {"Reset", "SetVariables", "DataTransfer", "InstallCertificate", "DeleteCertificate"} & set(
            sent_actions(station)
        )
    assert [token.id_token for token in entry.runtime_data.authorization.tokens] == ["KEEP"]
    assert entry.runtime_data.authorization.tokens.get("KEEP").status.value == "Accepted"  # type: ignore[union-attr]
    assert entry.runtime_data.registry.get("CP-1") == record  # the password is the same

    await hass.services.async_call(
        DOMAIN, "add_id_token", {"id_token": "MINE"}, blocking=True, context=Context(user_id=hass_admin_user.id)
    )
    assert "MINE" in entry.runtime_data.authorization.tokens


async def test_the_other_actions_work_for_a_user_who_is_no_administrator(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    context = Context(user_id=(await normal_user(hass)).id)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as station:
        await ready_station(hass, entry, station)
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        await send(station, event("T-1", 0, "Started", START, 0, 0))
        await hass.async_block_till_done()
        calls: dict[str, tuple[dict[str, Any], str | None]] = {
            "set_charging_limit": ({"device_id": evse, "current": 10}, "SetChargingProfile"),
            "set_charging_schedule": (
                {"device_id": evse, "periods": [{"start": 0, "limit": 16}, {"start": 3600, "limit": 8}]},
                "SetChargingProfile",
            ),
            "get_composite_schedule": ({"device_id": evse}, "GetCompositeSchedule"),
            "clear_charging_limit": ({"device_id": evse}, "ClearChargingProfile"),
            "start_charging": ({"device_id": evse}, "RequestStartTransaction"),
            "stop_charging": ({"device_id": evse}, "RequestStopTransaction"),
            "change_availability": ({"device_id": evse, "operative": True}, "ChangeAvailability"),
            "unlock_connector": ({"device_id": evse}, "UnlockConnector"),
            "trigger_message": ({"device_id": evse, "message": "StatusNotification"}, "TriggerMessage"),
            "get_variables": (
                {
                    "device_id": evse,
                    "variables": [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}],
                },
                "GetVariables",
            ),
            "get_report": ({"device_id": evse, "report_base": "SummaryInventory"}, "GetBaseReport"),
            "list_id_tokens": ({}, None),
            "get_charging_profiles": ({"device_id": evse}, "GetChargingProfiles"),
            "get_transaction_status": ({"device_id": evse}, "GetTransactionStatus"),
            # Authorization (C, D, H)
            "clear_cache": ({"device_id": device_id(hass, entry, "CP-1")}, "ClearCache"),
            "reserve": ({"device_id": evse, "id_token": "ANNA"}, "ReserveNow"),
            "cancel_reservation": ({"device_id": evse}, "CancelReservation"),
            "get_installed_certificate_ids": ({"device_id": device_id(hass, entry, "CP-1")}, None),
        }
        assert calls.keys() == SERVICES.keys() - ADMIN_ACTIONS
        for action, (data, request) in calls.items():
            sent_actions(station)
            # This test station does not implement M03: it answers a CALLERROR, the action a translated error.
            failing = action == "get_installed_certificate_ids"
            with pytest.raises(HomeAssistantError) if failing else contextlib.nullcontext():
                await hass.services.async_call(
                    DOMAIN,
                    action,
                    data,
                    blocking=True,
                    context=context,
                    return_response=SERVICES[action][2] is not SupportsResponse.NONE,
                )
            if request is not None:
                assert request in sent_actions(station), action


# ---- targets --------------------------------------------------------------------------------------------


async def test_an_action_on_a_device_that_is_no_station_is_refused(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A device of another integration, a device that does not exist, an EVSE for a station-only action."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    other_entry = MockConfigEntry(domain="other")
    other_entry.add_to_hass(hass)
    other = dr.async_get(hass).async_get_or_create(config_entry_id=other_entry.entry_id, identifiers={("other", "x")})
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
            )
        )
        await hass.async_block_till_done()
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        cases = [
            ("reset", other.id),
            ("set_charging_limit", other.id),
            ("get_variables", "no-such-device"),
            ("rotate_password", evse),
        ]
        for action, target in cases:
            data: dict[str, Any] = {"device_id": target}
            if action == "set_charging_limit":
                data["current"] = 10
            if action == "get_variables":
                data["variables"] = [{"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval"}]
            with pytest.raises(ServiceValidationError) as err:
                await hass.services.async_call(
                    DOMAIN, action, data, blocking=True, return_response=SERVICES[action][2] is SupportsResponse.ONLY
                )
            assert (err.value.translation_domain, err.value.translation_key) == (DOMAIN, "not_a_station"), action
            assert err.value.translation_placeholders == {"device": target}


async def test_an_action_on_an_unloaded_entry_says_so(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    station_device = device_id(hass, entry, "CP-1")
    assert await hass.config_entries.async_unload(entry.entry_id)
    for action, data in (
        ("start_charging", {"device_id": station_device}),
        ("reset", {"device_id": station_device}),
        ("list_id_tokens", {}),
        ("add_id_token", {"id_token": "CARD-1"}),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN, action, data, blocking=True, return_response=SERVICES[action][2] is SupportsResponse.ONLY
            )
        assert (err.value.translation_domain, err.value.translation_key) == (
            "homeassistant",
            "service_config_entry_not_loaded",
        ), action


# ---- schemas --------------------------------------------------------------------------------------------


async def test_the_schemas_refuse_strings_longer_than_ocpp_allows(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Longer than OCPP's idToken 36, names 50, attributeValue 1000, vendorId 255: refused before sending."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await hass.async_block_till_done()
        station_device = device_id(hass, entry, "CP-1")
        too_long: list[tuple[str, dict[str, Any]]] = [
            ("add_id_token", {"id_token": "x" * 37}),
            ("remove_id_token", {"id_token": "x" * 37}),
            ("start_charging", {"device_id": station_device, "id_token": "x" * 37}),
            ("get_variables", {"device_id": station_device, "variables": [{"component": "C" * 51, "variable": "V"}]}),
            ("get_variables", {"device_id": station_device, "variables": [{"component": "C", "variable": "V" * 51}]}),
            (
                "set_variables",
                {"device_id": station_device, "variables": [{"component": "C", "variable": "V", "value": "v" * 1001}]},
            ),
            ("data_transfer", {"device_id": station_device, "vendor_id": "v" * 256}),
            ("data_transfer", {"device_id": station_device, "vendor_id": "test", "message_id": "m" * 51}),
        ]
        sent_actions(station)
        for action, data in too_long:
            with pytest.raises(probatio.Invalid):
                await hass.services.async_call(
                    DOMAIN, action, data, blocking=True, return_response=SERVICES[action][2] is SupportsResponse.ONLY
                )
        await hass.async_block_till_done()
        assert not {"RequestStartTransaction", "GetVariables", "SetVariables", "DataTransfer"} & set(
            sent_actions(station)
        )
        assert len(entry.runtime_data.authorization.tokens) == 0

        # At the limits themselves, the requests go out.
        await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": "x" * 36}, blocking=True)
        assert "x" * 36 in entry.runtime_data.authorization.tokens
        response = await hass.services.async_call(
            DOMAIN,
            "data_transfer",
            {"device_id": station_device, "vendor_id": "v" * 255, "message_id": "m" * 50},
            blocking=True,
            return_response=True,
        )
        assert response == {"status": "UnknownVendorId", "data": None}
        _, request = await station.next_received("DataTransfer")
        assert (len(request["vendor_id"]), len(request["message_id"])) == (255, 50)


async def test_the_schemas_refuse_a_limits_duration_or_a_schedules_offset_beyond_ocpp_integers(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Durations and period offsets are OCPP integers of seconds (at most 2**31 - 1): longer ones are refused.

    Without the bound a duration or offset past the year 9999 failed with an untranslated OverflowError.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
            )
        )
        await hass.async_block_till_done()
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        for action, data in (
            ("set_charging_limit", {"device_id": evse, "current": 10, "duration": {"days": 3_000_000}}),
            ("set_charging_limit", {"device_id": evse, "current": 10, "duration": {"seconds": 2**31}}),
            ("set_charging_schedule", {"device_id": evse, "periods": [{"start": 10**12, "limit": 6}]}),
            ("set_charging_schedule", {"device_id": evse, "periods": [{"start": 2**31, "limit": 6}]}),
        ):
            with pytest.raises(probatio.Invalid):
                await hass.services.async_call(DOMAIN, action, data, blocking=True)
        assert not station.profiles
        # At the bound, the profile goes out.
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": evse, "current": 10, "duration": {"seconds": 2**31 - 1}},
            blocking=True,
        )
        [(_, profile)] = station.profiles
        assert profile["valid_to"]


# ---- batches (B06.FR.05, B05.FR.11) -----------------------------------------------------------------------


async def test_get_variables_beyond_items_per_message_goes_out_in_several_requests(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """B06.FR.05: ItemsPerMessage[GetVariables] is 24: 30 variables are read in requests of 24 and 6, in order."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        wanted = (writable_variables("boolean") + writable_variables("integer"))[:30]
        assert len(wanted) == 30
        sent_actions(station)
        response = await hass.services.async_call(
            DOMAIN,
            "get_variables",
            {
                "device_id": device_id(hass, entry, "CP-1"),
                "variables": [
                    {"component": item["component"]["name"], "variable": item["variable"]["name"]} for item in wanted
                ],
            },
            blocking=True,
            return_response=True,
        )
        sizes = []
        while not station.received.empty():
            action, request = station.received.get_nowait()
            if action == "GetVariables":
                sizes.append(len(request["get_variable_data"]))
    assert sizes == [24, 6]
    assert response is not None
    results: list[dict[str, Any]] = response["results"]  # type: ignore[assignment]
    assert [(result["component"]["name"], result["variable"]["name"]) for result in results] == [
        (item["component"]["name"], item["variable"]["name"]) for item in wanted
    ]
    assert [result["attributeValue"] for result in results] == [
        item["variableAttribute"][0]["value"] for item in wanted
    ]


async def test_set_variables_beyond_items_per_message_goes_out_in_several_requests(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """B05.FR.11: ItemsPerMessage[SetVariables] is 12: 14 values are written in requests of 12 and 2.

    The entities of the variables written show the new values.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    registry = er.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        written = writable_variables("integer")[:14]
        assert len(written) == 14
        values = {
            (item["component"]["name"], item["variable"]["name"]): str(int(item["variableAttribute"][0]["value"]) + 7)
            for item in written
        }
        sent_actions(station)
        response = await hass.services.async_call(
            DOMAIN,
            "set_variables",
            {
                "device_id": device_id(hass, entry, "CP-1"),
                "variables": [
                    {"component": component, "variable": variable, "value": value}
                    for (component, variable), value in values.items()
                ],
            },
            blocking=True,
            return_response=True,
        )
        sizes = []
        while not station.received.empty():
            action, request = station.received.get_nowait()
            if action == "SetVariables":
                sizes.append(len(request["set_variable_data"]))
        await hass.async_block_till_done()
        assert sizes == [12, 2]
        assert response is not None
        assert [result["attributeStatus"] for result in response["results"]] == ["Accepted"] * 14  # type: ignore[union-attr]
        assert station.variables.items() >= values.items()

        shown = {}
        for (component, variable), value in values.items():
            slug = VariableKey(component=component, variable=variable).slug
            entity_id = registry.async_get_entity_id("number", DOMAIN, f"CP-1_var_{slug}")
            if entity_id is not None and (state := hass.states.get(entity_id)) is not None:
                shown[component, variable] = (state.state, value)
        assert ("OCPPCommCtrlr", "HeartbeatInterval") in shown  # at least the enabled, curated ones
        assert all(float(state) == float(value) for state, value in shown.values()), shown
