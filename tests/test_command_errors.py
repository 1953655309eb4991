"""Commands that do not work out: each refusal and each way a CALL can fail, as the translated error a user sees.

A station peer (the `ocpp` package's ChargePoint) refuses, answers a CALLERROR or an invalid response, never
answers, or hangs up mid-call; the product's own protocol layer runs unchanged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.routing import on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import pytest

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_control_surface import device_id
from .test_transactions import START, event, send

#: The call timeout of these tests' central system: a station that never answers fails fast.
CALL_TIMEOUT = 0.3


class RefusingStation(StationPeer):
    """Refuses every remote command."""

    @on(Action.request_start_transaction)
    def on_request_start_transaction(self, **kwargs: Any) -> Any:
        """Rejected."""
        return call_result.RequestStartTransaction(status="Rejected")

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(self, **kwargs: Any) -> Any:
        """Rejected."""
        return call_result.RequestStopTransaction(status="Rejected")

    @on(Action.reset)
    def on_reset(self, **kwargs: Any) -> Any:
        """Rejected."""
        return call_result.Reset(status="Rejected")

    @on(Action.trigger_message)
    def on_trigger_message(self, **kwargs: Any) -> Any:
        """Rejected."""
        return call_result.TriggerMessage(status="Rejected")

    @on(Action.change_availability)
    def on_change_availability(self, **kwargs: Any) -> Any:
        """Rejected."""
        return call_result.ChangeAvailability(status="Rejected")


class MisbehavingStation(StationPeer):
    """Answers Reset as `reset_behaviour` says: a CALLERROR, an invalid response, nothing, or a hang-up."""

    reset_behaviour = "error"

    @on(Action.reset, skip_schema_validation=True)
    async def on_reset(self, **kwargs: Any) -> Any:
        """Misbehave."""
        if self.reset_behaviour == "error":
            raise RuntimeError("the station's firmware crashed")  # the ocpp package answers InternalError
        if self.reset_behaviour == "silent":
            await asyncio.sleep(30)  # cancelled when the test closes the connection
        if self.reset_behaviour == "hang_up":
            await self._connection.close()
        return call_result.Reset(status="Perhaps")  # not a ResetStatusEnumType value


async def report_evse(station: StationPeer) -> None:
    await station.call(
        call.StatusNotification(
            timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
        )
    )


async def test_each_refusal_is_a_translated_error_naming_what_the_station_answered(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """F01, F03, B11, F06, G03 refused: `command_refused` with the action and the station's status."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=RefusingStation
    ) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        station_device = device_id(hass, entry, "CP-1")
        await send(station, event("T-1", 0, "Started", START, 0, 0))
        await hass.async_block_till_done()

        refusals: list[tuple[str, dict[str, Any], str, str]] = [
            ("start_charging", {"device_id": evse}, "RequestStartTransaction", "Rejected"),
            ("stop_charging", {"device_id": evse}, "RequestStopTransaction", "Rejected"),
            ("reset", {"device_id": station_device}, "Reset", "Rejected"),
            ("trigger_message", {"device_id": evse, "message": "MeterValues"}, "TriggerMessage", "Rejected"),
            ("change_availability", {"device_id": evse, "operative": False}, "ChangeAvailability", "Rejected"),
        ]
        for service, data, action, status in refusals:
            with pytest.raises(HomeAssistantError) as err:
                await hass.services.async_call(DOMAIN, service, data, blocking=True)
            assert err.value.translation_key == "command_refused", service
            assert err.value.translation_placeholders == {"station": "CP-1", "command": action, "status": status}
        # A refused availability change leaves the switch as it was.
        assert hass.states.get("switch.cp_1_evse_1_available").state == "on"  # type: ignore[union-attr]


async def test_stop_without_a_running_transaction_sends_nothing(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """F03 needs the transaction id: without a running transaction, `no_transaction` and no CALL."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN,
                "stop_charging",
                {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1))},
                blocking=True,
            )
        assert err.value.translation_key == "no_transaction"
        assert err.value.translation_placeholders == {"station": "CP-1", "evse": "1"}
        await hass.async_block_till_done()
        sent = []
        while not station.received.empty():
            sent.append(station.received.get_nowait()[0])
        assert "RequestStopTransaction" not in sent


@pytest.mark.parametrize(
    ("behaviour", "translation_key", "placeholders"),
    [
        ("error", "station_error", {"station": "CP-1", "action": "Reset", "code": "InternalError"}),
        (
            "invalid",
            "station_invalid_response",
            {"station": "CP-1", "action": "Reset", "code": "PropertyConstraintViolation"},
        ),
        ("silent", "station_timeout", {"station": "CP-1", "action": "Reset", "seconds": f"{CALL_TIMEOUT:g}"}),
        ("hang_up", "station_not_connected", {"station": "CP-1"}),
    ],
)
async def test_a_call_that_fails_is_a_translated_error(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    behaviour: str,
    translation_key: str,
    placeholders: dict[str, str],
) -> None:
    """A CALLERROR, an invalid CALLRESULT, no answer within the call timeout, a connection closed mid-call."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    # The station's session exists from setup on (its entities are restored): give it a short call timeout.
    entry.runtime_data.central.station("CP-1").session.call_timeout = CALL_TIMEOUT
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=MisbehavingStation
    ) as station:
        station.reset_behaviour = behaviour
        await station.boot()
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN, "reset", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
            )
    assert err.value.translation_key == translation_key
    assert err.value.translation_placeholders == placeholders
    assert not isinstance(err.value, ServiceValidationError)  # the station's fault, not the user's


# ---- what cannot be built: the user's fault or the station's ------------------------------------------------


async def test_a_schedule_with_two_periods_at_the_same_start_is_the_users_error(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """ServiceValidationError `profile_duplicate_period_start`, naming both periods; nothing is sent."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "set_charging_schedule",
                {
                    "device_id": device_id(hass, entry, evse_identifier("CP-1", 1)),
                    "periods": [{"start": 0, "limit": 16}, {"start": 600, "limit": 10}, {"start": 0, "limit": 6}],
                },
                blocking=True,
            )
        assert err.value.translation_key == "profile_duplicate_period_start"
        assert err.value.translation_placeholders == {"station": "CP-1", "first": "1", "second": "3"}
        assert not station.profiles


async def test_a_limit_the_stations_single_stack_level_cannot_hold_is_the_stations_error(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """K01.FR.53: a station with ProfileStackLevel 0 has one level, held by the station-wide limit.

    The EVSE's limit cannot go beside it: a HomeAssistantError (not a validation error) naming the profile to
    clear first.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.variables["SmartChargingCtrlr", "ProfileStackLevel"] = "0"  # read when no inventory says it
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        await hass.services.async_call(
            DOMAIN, "set_charging_limit", {"device_id": device_id(hass, entry, "CP-1"), "current": 16}, blocking=True
        )
        [(evse_id, station_wide)] = station.profiles
        assert (evse_id, station_wide["stack_level"]) == (0, 0)
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN,
                "set_charging_limit",
                {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1)), "current": 10},
                blocking=True,
            )
        assert not isinstance(err.value, ServiceValidationError)
        assert err.value.translation_key == "profile_stack_level_conflict"
        assert err.value.translation_placeholders == {
            "station": "CP-1",
            "level": "0",
            "evse": "0",
            "profile_id": str(station_wide["id"]),
        }
        assert len(station.profiles) == 1


async def test_input_the_schema_takes_but_the_ocpp_message_does_not_is_an_invalid_request(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """A station that takes 2000 periods per schedule, a schedule of 1025: ChargingScheduleType holds 1024.

    The action's schema does not limit the periods (the station's PeriodsPerSchedule does); the OCPP model
    refuses the request before it is sent, and `invalid_request` names the field.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(
            [
                {**item, "variableAttribute": [{**item["variableAttribute"][0], "value": "2000"}]}
                if item["variable"]["name"] == "PeriodsPerSchedule"
                else item
                for item in inventory()
            ]
        )
        await station.boot()
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        await report_evse(station)
        await hass.async_block_till_done()
        assert entry.runtime_data.charging.capabilities("CP-1").periods_per_schedule == 2000
        with pytest.raises(ServiceValidationError) as err:
            await hass.services.async_call(
                DOMAIN,
                "set_charging_schedule",
                {
                    "device_id": device_id(hass, entry, evse_identifier("CP-1", 1)),
                    "periods": [{"start": 60 * index, "limit": 6 + index % 2} for index in range(1025)],
                },
                blocking=True,
            )
        assert err.value.translation_key == "invalid_request"
        assert err.value.translation_placeholders == {"field": "charging_schedule_period", "problem": "too_long"}
        assert not station.profiles
