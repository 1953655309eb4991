"""Charging limits beyond the happy path: stack levels learnt late, deferred increases, clears, the limit in force."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from ocpp.routing import on
from ocpp.v201 import call_result
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection
from .test_command_errors import report_evse
from .test_control_surface import CURRENT_LIMIT, device_id, ready_station, wait_until
from .test_transactions import START, event, send

LIMIT_IN_FORCE = "sensor.cp_1_evse_1_charging_limit_in_force"


def requests_of(station: StationPeer, action: str) -> list[dict[str, Any]]:
    """The requests of `action` the station got since the last look (the others are dropped)."""
    found = []
    while not station.received.empty():
        name, request = station.received.get_nowait()
        if name == action:
            found.append(request)
    return found


def limits_sent(station: StationPeer) -> list[float]:
    """The first period's limit of each SetChargingProfile the station got since the last look."""
    return [
        request["charging_profile"]["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
        for request in requests_of(station, "SetChargingProfile")
    ]


async def set_current(hass: HomeAssistant, value: float) -> None:
    await hass.services.async_call(
        "number", "set_value", {ATTR_ENTITY_ID: CURRENT_LIMIT, "value": value}, blocking=True
    )


async def let_time_pass(hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float) -> None:
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# ---- stack levels learnt after the first limit ----------------------------------------------------------------


async def test_stack_levels_reported_after_a_first_limit_are_adopted_and_old_profiles_cleared(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Without an inventory the station says (GetVariables) it has one stack level (0); then it reports 8.

    The next limit goes out on the level it has among 0-8, with a new id; the profile left on the old level is
    cleared with ClearChargingProfile (K10), so the station holds one limit of ours, not two.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.variables["SmartChargingCtrlr", "ProfileStackLevel"] = "0"
        await station.boot()
        await report_evse(station)
        await hass.async_block_till_done()
        await set_current(hass, 16)
        [(_, first)] = station.profiles
        assert first["stack_level"] == 0

        station.load_inventory(inventory())  # e.g. after a firmware update
        await station.boot()
        await station.next_received("GetBaseReport")
        await wait_until(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        assert entry.runtime_data.charging.capabilities("CP-1").max_stack_level == 8

        await set_current(hass, 10)  # a decrease: sent at once
        await hass.async_block_till_done()
        cleared = [request["charging_profile_id"] for request in requests_of(station, "ClearChargingProfile")]
        assert cleared == [first["id"]]
        [(evse_id, current)] = station.profiles
        assert evse_id == 1
        assert current["id"] != first["id"]
        assert current["stack_level"] != 0
        assert current["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 10


# ---- flash protection: deferred increases ---------------------------------------------------------------------


async def test_a_deferred_increase_that_fails_when_due_is_dropped_and_the_next_request_goes_at_once(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await set_current(hass, 10)
        await set_current(hass, 16)  # an increase: deferred by the flash protection
        assert limits_sent(station) == [10]
        station.charging_profile_status = "Rejected"
        with caplog.at_level(logging.WARNING):
            await let_time_pass(hass, freezer, 31)
        assert limits_sent(station) == [16, 11040]  # sent when due, refused, and refused in W too
        assert "deferred limit not applied" in caplog.text
        # What the station holds is unknown now: asking for 16 A again goes out at once, not held back.
        station.charging_profile_status = "Accepted"
        await set_current(hass, 16)
        assert limits_sent(station) == [16]


async def test_a_decrease_cancels_a_deferred_increase_and_unloading_cancels_it_too(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await set_current(hass, 10)
        await set_current(hass, 16)  # deferred
        await set_current(hass, 8)  # a decrease goes at once, and the increase no longer applies
        assert limits_sent(station) == [10, 8]
        await let_time_pass(hass, freezer, 31)
        assert limits_sent(station) == []
        assert hass.states.get(CURRENT_LIMIT).state == "8.0"  # type: ignore[union-attr]

        await set_current(hass, 12)  # 30 s after the last change: at once
        await set_current(hass, 20)  # deferred again
        assert limits_sent(station) == [12]
        assert await hass.config_entries.async_unload(entry.entry_id)
        await let_time_pass(hass, freezer, 31)
        assert limits_sent(station) == []


# ---- clears ------------------------------------------------------------------------------------------------


async def test_clearing_the_station_cap_clears_its_charging_station_max_profile(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        station_device = device_id(hass, entry, "CP-1")
        await hass.services.async_call(
            DOMAIN,
            "set_charging_limit",
            {"device_id": station_device, "current": 25, "station_cap": True},
            blocking=True,
        )
        [(_, cap)] = station.profiles
        assert cap["charging_profile_purpose"] == "ChargingStationMaxProfile"
        await hass.services.async_call(
            DOMAIN, "clear_charging_limit", {"device_id": station_device, "station_cap": True}, blocking=True
        )
        assert [request["charging_profile_id"] for request in requests_of(station, "ClearChargingProfile")] == [
            cap["id"]
        ]
        assert station.profiles == []


async def test_clearing_a_limit_the_station_no_longer_holds_is_no_error(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """The station lost our profile (a reboot, a local reset): ClearChargingProfile answers Unknown; that is fine."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await set_current(hass, 10)
        station.profiles.clear()
        requests_of(station, "ClearChargingProfile")
        await hass.services.async_call(
            DOMAIN,
            "clear_charging_limit",
            {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1))},
            blocking=True,
        )
        assert len(requests_of(station, "ClearChargingProfile")) == 1
        await hass.async_block_till_done()
        assert hass.states.get(CURRENT_LIMIT).state == "unknown"  # type: ignore[union-attr]


async def test_a_transactions_tx_profile_is_not_cleared_after_the_transaction_ended(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """K02.FR.05: the station deletes a TxProfile when its transaction ends.

    Clearing the limit afterwards clears only the TxDefaultProfile.
    """
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        await send(station, event("T-1", 0, "Started", START, 0, 0))
        await hass.async_block_till_done()
        await set_current(hass, 10)
        profiles = {profile["charging_profile_purpose"]: profile["id"] for _, profile in station.profiles}
        assert profiles.keys() == {"TxDefaultProfile", "TxProfile"}
        await send(station, event("T-1", 1, "Ended", START + timedelta(hours=1), 5000, 0))
        await hass.async_block_till_done()
        requests_of(station, "ClearChargingProfile")
        await hass.services.async_call(
            DOMAIN,
            "clear_charging_limit",
            {"device_id": device_id(hass, entry, evse_identifier("CP-1", 1))},
            blocking=True,
        )
        cleared = [request["charging_profile_id"] for request in requests_of(station, "ClearChargingProfile")]
        assert cleared == [profiles["TxDefaultProfile"]]


# ---- the limit in force ---------------------------------------------------------------------------------------


class ConstrainedStation(StationPeer):
    """Reports a composite schedule from now on, capped at `constraint` A by something else (K08).

    With `composite_supported` False it answers GetCompositeSchedule with a CALLERROR.
    """

    constraint = 8.0
    composite_supported = True

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(self, duration: int, evse_id: int, **kwargs: Any) -> Any:
        """The lowest of our limit and the constraint, starting now."""
        self.received.put_nowait(("GetCompositeSchedule", {"duration": duration, "evse_id": evse_id}))
        if not self.composite_supported:
            raise NotImplementedError("GetCompositeSchedule")  # the ocpp package answers a CALLERROR
        limits = [
            profile["charging_schedule"][0]["charging_schedule_period"][0]["limit"]
            for target, profile in self.profiles
            if target in (0, evse_id)
        ]
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": datetime.now(UTC).isoformat(),
                "charging_rate_unit": "A",
                "charging_schedule_period": [{"start_period": 0, "limit": min([*limits, self.constraint])}],
            },
        )


async def test_the_limit_shown_is_the_one_in_force_not_the_one_asked_for(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """K08: the number and the limit-in-force sensor show what the composite schedule says is in force now."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=ConstrainedStation
    ) as station:
        await ready_station(hass, entry, station)
        await set_current(hass, 16)
        await hass.async_block_till_done()
        assert hass.states.get(CURRENT_LIMIT).state == "8.0"  # type: ignore[union-attr]
        sensor = hass.states.get(LIMIT_IN_FORCE)
        assert sensor is not None
        assert sensor.state == "8.0"
        assert (sensor.attributes["requested_limit"], sensor.attributes["limit_status"]) == (16, "lower")

        # A station that cannot tell its composite schedule any more: the limit asked for is what is known.
        station.composite_supported = False
        await set_current(hass, 6)
        await hass.async_block_till_done()
        assert requests_of(station, "GetCompositeSchedule")
        assert hass.states.get(CURRENT_LIMIT).state == "8.0"  # type: ignore[union-attr]
