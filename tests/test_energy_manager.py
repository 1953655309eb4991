"""The energy manager end to end: real Home Assistant, input numbers as the site's sensors, simulated stations.

Each mode; the solar start and stop delays with a frozen clock; two stations under one fuse with a house load step;
phase switching where the station reports it and its absence where it does not; modes and settings kept across a
restart; the fallback to the safe limit on the station itself once Home Assistant stops refreshing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from homeassistant.core import HomeAssistant, State
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
import pytest

from custom_components.ocpp_csms import async_remove_config_entry_device
from custom_components.ocpp_csms.charging import limiter
from custom_components.ocpp_csms.const import CONF_ENERGY, DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.energy.manager import VALIDITY
from custom_components.ocpp_csms.energy_manager import (
    BATTERY_POWER,
    BATTERY_PRIORITY_SOC,
    BATTERY_SIGN,
    BATTERY_SOC,
    CHARGE_POSITIVE,
    DISABLE_DELAY,
    ENABLE_DELAY,
    EXPORT_POSITIVE,
    FALLBACK_CURRENT,
    FUSE_CURRENT,
    GRID_CURRENTS,
    GRID_POWER,
    GRID_SIGN,
    IMPORT_POSITIVE,
    MAX_GRID_POWER,
    SOLAR_POWER,
    EnergyManagement,
    SensorKind,
    read_sensor,
)
from tools.simulator.meter import Limit

from .conftest import SetupIntegration, wait_for
from .energy_fixtures import (
    BATTERY,
    BATTERY_SITE,
    CURRENTS,
    FUSE_SITE,
    GRID,
    SOC,
    SOLAR_SITE,
    energy_site,
    entity,
    installed,
    live_limit,
    manager_state,
    plug_and_charge,
    set_currents,
    set_mode,
    set_number,
    setup_sensors,
)
from .test_control_surface import device_id

PHASE_SWITCHING = {
    "SmartChargingCtrlr.ACPhaseSwitchingSupported": "true",
    "SmartChargingCtrlr.Phases3to1": "true",
}


@pytest.fixture(autouse=True)
def no_increase_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """The flash protection's interval between increases (30 s, tested on its own) is left out here.

    The simulated stations run in real time (a frozen clock would stop them), so the energy manager's delays run on
    a clock of their own (`Clock`) and the flash protection does not hold increases back.
    """
    monkeypatch.setattr(
        limiter, "LimitFilterConfig", partial(limiter.LimitFilterConfig, increase_interval=timedelta(0))
    )


class Clock:
    """The energy manager's clock, moved by the test; each move is followed by the decision its timer would make."""

    def __init__(self, energy: EnergyManagement) -> None:
        """Take over the manager's clock (real time until moved)."""
        self.energy = energy
        self.offset = timedelta(0)
        energy.clock = self.now

    def now(self) -> datetime:
        """The manager's time."""
        return dt_util.utcnow() + self.offset

    async def tick(self, hass: HomeAssistant, seconds: float) -> None:
        """Move on and decide, as the manager's timer would."""
        self.offset += timedelta(seconds=seconds)
        self.energy.decide()
        await hass.async_block_till_done()


async def select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call("select", "select_option", {"entity_id": entity_id, "option": option}, blocking=True)


async def set_value(hass: HomeAssistant, entity_id: str, value: float) -> None:
    assert hass.states.get(entity_id) is not None, entity_id
    await hass.services.async_call("number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True)


# ---- modes ---------------------------------------------------------------------------------------------------


async def test_fast_mode_sends_a_limit_valid_for_a_while_over_a_safe_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE) as (entry, (station,)):
        assert manager_state(hass, "sim-001").state == "manual"
        await plug_and_charge(station)
        await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].transactions.evse(1).active)
        await set_mode(hass, "sim-001", 1, "fast")
        await wait_for(lambda: live_limit(station) == 16.0 and len(installed(station)) == 3)
        profiles = installed(station)
        assert [(p.purpose, p.periods[0].limit, p.valid_to is None) for p in profiles] == [
            ("TxDefaultProfile", 16.0, False),
            ("TxProfile", 16.0, False),
            ("TxDefaultProfile", 0.0, True),  # the safe limit: 0 with load balancing
        ]
        live = profiles[0]
        assert live.valid_to is not None
        assert VALIDITY - timedelta(minutes=1) < live.valid_to - datetime.now(UTC) <= VALIDITY
        state = manager_state(hass, "sim-001")
        assert state.state == "charging_fast"
        assert state.attributes["target_current"] == 16.0
        assert state.attributes["fuse_headroom"] == [24.0, 24.0, 24.0]
        assert state.attributes["fallback_on_station"] is True
        assert entry.runtime_data.energy.decision("sim-001", 1) is not None


async def test_off_pauses_and_manual_hands_the_limits_back(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (_entry, (station,)):
        await plug_and_charge(station)
        assert installed(station) == []  # manual (the default): the manager sends nothing
        await set_mode(hass, "sim-001", 1, "off")
        await wait_for(lambda: live_limit(station) == 0.0)
        assert manager_state(hass, "sim-001").state == "off"
        # Manual again: the manager's profiles are cleared, the car charges as the station allows.
        await set_mode(hass, "sim-001", 1, "manual")
        await wait_for(lambda: installed(station) == [])
        assert manager_state(hass, "sim-001").state == "manual"
        # And the limit number works again.
        await set_value(hass, entity("sim-001", 1, "number", "charging_current_limit"), 10)
        await wait_for(lambda: live_limit(station) == 10.0)


async def test_a_limit_set_by_hand_or_a_blueprint_is_refused_in_another_mode(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (_station,)):
        await set_mode(hass, "sim-001", 1, "fast")
        evse = device_id(hass, entry, evse_identifier("sim-001", 1))
        with pytest.raises(ServiceValidationError) as refused:
            await hass.services.async_call(
                DOMAIN, "set_charging_limit", {"device_id": evse, "current": 10}, blocking=True
            )
        assert refused.value.translation_key == "energy_manager_in_control"
        assert refused.value.translation_placeholders["mode"] == "fast"
        assert "fast" in str(refused.value)
        with pytest.raises(ServiceValidationError):
            await set_value(hass, entity("sim-001", 1, "number", "charging_current_limit"), 10)


async def test_min_solar_charges_at_the_minimum_without_surplus_and_follows_the_surplus(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (_entry, (station,)):
        await set_number(hass, GRID, 500)  # importing: no surplus
        await set_mode(hass, "sim-001", 1, "min_solar")
        await plug_and_charge(station)
        await wait_for(lambda: live_limit(station) == 6.0)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "charging_min")
        state = manager_state(hass, "sim-001")
        assert state.attributes["surplus_power"] <= 6.0 * 230 * 3 - 500 + 200
        # Exporting 5 kW besides what the car draws: more (an increase, through the flash protection).
        await set_number(hass, GRID, -5000)
        await wait_for(lambda: manager_state(hass, "sim-001").attributes["target_current"] > 6.0)
        assert manager_state(hass, "sim-001").state == "charging_solar"


async def test_solar_starts_after_the_enable_delay_and_stops_after_the_disable_delay(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (station,)):
        clock = Clock(entry.runtime_data.energy)
        await set_number(hass, GRID, 0)
        await set_mode(hass, "sim-001", 1, "solar")
        await plug_and_charge(station)
        await wait_for(lambda: live_limit(station) == 0.0)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "waiting_for_surplus")

        await set_number(hass, GRID, -5000)  # 5 kW exported: 7 A on three phases
        await clock.tick(hass, 30)
        assert manager_state(hass, "sim-001").state == "waiting_for_surplus"
        assert live_limit(station) == 0.0
        attributes = manager_state(hass, "sim-001").attributes
        assert attributes["surplus_power"] == 5000
        assert attributes["next_change_at"] is not None
        await clock.tick(hass, 31)  # the enable delay (1 min) has passed
        assert manager_state(hass, "sim-001").state == "charging_solar"
        await wait_for(lambda: (live_limit(station) or 0.0) >= 7.0)

        # A cloud: importing 3 kW besides what the car draws. It keeps its minimum for the disable delay (3 min),
        # then stops.
        await set_number(hass, GRID, station.evses[1].meter.power_w + 3000)
        await clock.tick(hass, 120)
        assert manager_state(hass, "sim-001").state == "charging_solar"
        await wait_for(lambda: live_limit(station) == 6.0)
        await clock.tick(hass, 61)
        await wait_for(lambda: live_limit(station) == 0.0)
        assert manager_state(hass, "sim-001").state == "waiting_for_surplus"


async def test_the_home_battery_below_its_priority_soc_charges_first(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    site = {**BATTERY_SITE, BATTERY_PRIORITY_SOC: 80}
    async with energy_site(hass, setup_integration, site) as (_entry, (station,)):
        await set_number(hass, SOC, 50)
        await set_number(hass, BATTERY, -3000)  # charging (positive: discharging)
        await set_number(hass, GRID, -500)
        await set_mode(hass, "sim-001", 1, "solar")
        await plug_and_charge(station)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "paused_battery_priority")
        assert live_limit(station) == 0.0
        await set_number(hass, SOC, 90)  # above it: the battery's charging power is surplus too
        assert manager_state(hass, "sim-001").state == "waiting_for_surplus"
        assert manager_state(hass, "sim-001").attributes["surplus_power"] == 3500


async def test_a_missing_grid_sensor_value_applies_the_safe_limit(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE) as (_entry, (station,)):
        await set_mode(hass, "sim-001", 1, "fast")
        await plug_and_charge(station)
        await wait_for(lambda: live_limit(station) == 16.0)
        hass.states.async_set(CURRENTS[0], "unavailable")
        await hass.async_block_till_done()
        assert manager_state(hass, "sim-001").state == "sensor_unavailable"
        await wait_for(lambda: live_limit(station) == 0.0)


async def test_solar_without_a_grid_sensor_is_not_configured(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, {}) as (_entry, (station,)):
        await set_mode(hass, "sim-001", 1, "min_solar")
        await plug_and_charge(station)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "not_configured")
        await wait_for(lambda: live_limit(station) == 6.0)  # min_solar keeps its minimum


# ---- load balancing ----------------------------------------------------------------------------------------------


def draws(stations: list[Any], phase: int) -> float:
    """What the simulated cars draw on a phase now."""
    return sum(station.evses[1].meter.currents[phase] for station in stations)


async def house(hass: HomeAssistant, stations: list[Any], amps: float) -> None:
    """The grid's currents: the house's own load on every phase plus what the cars draw now."""
    await set_currents(hass, *(amps + draws(stations, phase) for phase in range(3)))


async def test_two_stations_share_the_fuse_and_answer_a_house_load_step(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE, stations=("sim-001", "sim-002")) as (
        entry,
        stations,
    ):
        for station in stations:
            await plug_and_charge(station)
        for station_id in ("sim-001", "sim-002"):
            await set_mode(hass, station_id, 1, "fast")
        # 24 A per phase for two cars that would take 16 A each: fair shares of 12 A.
        await wait_for(lambda: [live_limit(station) for station in stations] == [12.0, 12.0])
        await wait_for(lambda: draws(stations, 0) > 23)

        # The kettle and the oven: 12 A of the house's own. 12 A left: one car at its minimum or more, the other
        # paused (never less than its minimum), within the same turn as the sensor's change.
        await house(hass, stations, 12.0)
        decisions = [entry.runtime_data.energy.decision(station_id, 1) for station_id in ("sim-001", "sim-002")]
        assert all(decision is not None for decision in decisions)
        given = [decision.attributes["limit"] for decision in decisions]  # type: ignore[union-attr]
        assert sum(given) <= 12.0
        assert all(limit == 0 or limit >= 6 for limit in given)
        await wait_for(lambda: sum(live_limit(station) or 0.0 for station in stations) <= 12.0)
        states = {manager_state(hass, station_id).state for station_id in ("sim-001", "sim-002")}
        assert states <= {"limited_by_fuse", "paused_by_fuse", "charging_fast"}

        # Priority: the second station's EVSE goes first (the grid follows what the cars draw meanwhile).
        await set_value(hass, entity("sim-002", 1, "number", "charging_priority"), 9)

        async def second_first() -> bool:
            await house(hass, stations, 12.0)
            return (live_limit(stations[1]) or 0.0) >= 6.0

        for _ in range(50):
            if await second_first():
                break
            await asyncio.sleep(0.2)
        assert (live_limit(stations[1]) or 0.0) >= 6.0


async def test_a_maximum_grid_power_is_shared_too(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    site = {GRID_POWER: GRID, GRID_SIGN: IMPORT_POSITIVE, MAX_GRID_POWER: 8000}
    async with energy_site(hass, setup_integration, site) as (_entry, (station,)):
        await set_mode(hass, "sim-001", 1, "fast")
        await plug_and_charge(station)
        # 8 kW less 3 x 230 W of margin: 10 A on three phases.
        await wait_for(lambda: live_limit(station) == 10.0)
        assert manager_state(hass, "sim-001").attributes["grid_power_headroom"] >= 6900


# ---- phase switching ---------------------------------------------------------------------------------------------


async def test_phases_are_offered_and_switched_only_where_the_station_can(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE, stations=("sim-001",), variables=PHASE_SWITCHING) as (
        entry,
        (station,),
    ):
        clock = Clock(entry.runtime_data.energy)
        phases = entity("sim-001", 1, "select", "charging_phases")
        await wait_for(lambda: hass.states.get(phases) is not None)
        await set_mode(hass, "sim-001", 1, "fast")
        await select(hass, phases, "1")
        await plug_and_charge(station)
        await wait_for(lambda: bool(installed(station)) and installed(station)[0].periods[0].phases == 1)
        assert manager_state(hass, "sim-001").attributes["phases"] == 1
        # Back to three phases while charging (the station switches during a transaction): after the delay.
        await select(hass, phases, "3")
        assert manager_state(hass, "sim-001").state == "phase_switch_pending"
        await clock.tick(hass, 61)
        await wait_for(lambda: installed(station)[0].periods[0].phases in (3, None))
        assert manager_state(hass, "sim-001").attributes["phases"] == 3


async def test_no_phase_select_on_a_station_that_cannot_switch(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, FUSE_SITE) as (_entry, (_station,)):
        assert hass.states.get(entity("sim-001", 1, "select", "charging_mode")) is not None
        assert hass.states.get(entity("sim-001", 1, "select", "charging_phases")) is None


# ---- settings ----------------------------------------------------------------------------------------------------


async def test_modes_and_settings_are_kept_across_a_restart(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (_station,)):
        await set_mode(hass, "sim-001", 1, "min_solar")
        await set_value(hass, entity("sim-001", 1, "number", "minimum_charging_current"), 8)
        await set_value(hass, entity("sim-001", 1, "number", "maximum_charging_current"), 12)
        await set_value(hass, entity("sim-001", 1, "number", "charging_priority"), 3)
        with pytest.raises(ServiceValidationError):  # the minimum above the maximum
            await set_value(hass, entity("sim-001", 1, "number", "minimum_charging_current"), 14)
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
        assert hass.states.get(entity("sim-001", 1, "select", "charging_mode")).state == "min_solar"  # type: ignore[union-attr]
        assert hass.states.get(entity("sim-001", 1, "number", "minimum_charging_current")).state == "8.0"  # type: ignore[union-attr]
        assert hass.states.get(entity("sim-001", 1, "number", "maximum_charging_current")).state == "12.0"  # type: ignore[union-attr]
        assert hass.states.get(entity("sim-001", 1, "number", "charging_priority")).state == "3"  # type: ignore[union-attr]


async def test_the_site_changes_without_a_restart(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (station,)):
        await set_mode(hass, "sim-001", 1, "fast")
        await plug_and_charge(station)
        await wait_for(lambda: live_limit(station) == 16.0)
        connection = entry.runtime_data.central.stations["sim-001"]
        hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_ENERGY: {**SOLAR_SITE, MAX_GRID_POWER: 6000}}
        )
        await hass.async_block_till_done()
        await wait_for(lambda: live_limit(station) == 7.0)  # (6000 - 690) / 690
        assert entry.runtime_data.central.stations["sim-001"] is connection  # not reloaded


# ---- the fallback on the station -------------------------------------------------------------------------------


async def test_the_station_falls_back_to_the_safe_limit_by_itself_when_home_assistant_stops(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    site = {**SOLAR_SITE, FALLBACK_CURRENT: 8}
    async with energy_site(hass, setup_integration, site) as (entry, (station,)):
        await plug_and_charge(station)
        await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].transactions.evse(1).active)
        await set_mode(hass, "sim-001", 1, "fast")
        await wait_for(lambda: live_limit(station) == 16.0)
        await wait_for(lambda: len(installed(station)) == 3)
        assert await hass.config_entries.async_unload(entry.entry_id)  # nothing refreshes the limit any more
        await hass.async_block_till_done()
        now = datetime.now(UTC)
        evse = station.evses[1]
        assert evse.tx is not None
        # The station's own composite schedule (K08) from now on: 16 A while the limit is valid, then the safe 8 A.
        composite = station.profiles.composite(
            1,
            now,
            int(VALIDITY.total_seconds()) + 60,
            "A",
            evses={1: (evse.tx.id, evse.tx.started_at, Limit(32.0, 3))},
        )
        assert [period["limit"] for period in composite] == [16.0, 8.0]
        assert VALIDITY - timedelta(seconds=5) <= timedelta(seconds=composite[1]["start_period"]) <= VALIDITY
        assert live_limit(station) == 16.0
        assert station._limit(evse, now + VALIDITY + timedelta(seconds=1)).current == 8.0


# ---- the options step --------------------------------------------------------------------------------------------


async def energy_step(hass: HomeAssistant, entry_id: str, user_input: dict[str, Any]) -> Any:
    result = await hass.config_entries.options.async_init(entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "energy"})
    assert (result["type"], result["step_id"]) == (FlowResultType.FORM, "energy")
    return await hass.config_entries.options.async_configure(result["flow_id"], user_input)


async def test_the_energy_step_stores_the_site(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    await setup_sensors(hass)
    entry = await setup_integration()
    site = {
        GRID_POWER: GRID,
        GRID_SIGN: IMPORT_POSITIVE,
        BATTERY_POWER: BATTERY,
        BATTERY_SIGN: CHARGE_POSITIVE,
        BATTERY_SOC: SOC,
        BATTERY_PRIORITY_SOC: 40,
        FUSE_CURRENT: 25,
        **dict(zip(GRID_CURRENTS, CURRENTS, strict=True)),
        ENABLE_DELAY: 30,
        DISABLE_DELAY: 120,
    }
    result = await energy_step(hass, entry.entry_id, site)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert entry.options[CONF_ENERGY] == site
    assert entry.runtime_data.energy.load_balancing
    assert entry.runtime_data.energy.site.config.enable_delay == timedelta(seconds=30)


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({GRID_POWER: "sensor.nowhere"}, {GRID_POWER: "entity_not_found"}),
        ({GRID_POWER: CURRENTS[0]}, {GRID_POWER: "unit_not_convertible"}),
        ({SOLAR_POWER: "sensor.a_current"}, {SOLAR_POWER: "wrong_device_class"}),
        ({GRID_CURRENTS[0]: CURRENTS[0]}, {"base": "phase_sensors_incomplete"}),
        ({FUSE_CURRENT: 25}, {FUSE_CURRENT: "fuse_needs_sensors"}),
        ({MAX_GRID_POWER: 9000}, {MAX_GRID_POWER: "grid_power_required"}),
        ({BATTERY_PRIORITY_SOC: 50}, {BATTERY_SOC: "battery_soc_required"}),
        ({GRID_POWER: GRID, FALLBACK_CURRENT: 3}, {FALLBACK_CURRENT: "fallback_below_minimum"}),
    ],
)
async def test_the_energy_step_refuses_what_cannot_work(
    hass: HomeAssistant, setup_integration: SetupIntegration, user_input: dict[str, Any], errors: dict[str, str]
) -> None:
    await setup_sensors(hass)
    hass.states.async_set("sensor.a_current", "3", {"device_class": "current", "unit_of_measurement": "A"})
    entry = await setup_integration()
    result = await energy_step(
        hass, entry.entry_id, {GRID_SIGN: IMPORT_POSITIVE, BATTERY_SIGN: CHARGE_POSITIVE, **user_input}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors


# ---- reconnection, forgetting, sensors that cannot be read -------------------------------------------------------


async def test_a_mode_left_while_the_station_is_away_is_cleaned_up_when_it_is_back(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (station,)):
        await set_mode(hass, "sim-001", 1, "off")
        await wait_for(lambda: live_limit(station) == 0.0)
        station.config = replace(station.config, reboot_delay=1.0)
        context = entry.runtime_data.context
        rebooting = asyncio.create_task(station._reboot("PowerUp"))
        await wait_for(lambda: not context.is_connected("sim-001"))
        # Decided at the end of the turn the station left in (once for whatever else stations did in it).
        await wait_for(lambda: manager_state(hass, "sim-001").state == "station_offline")
        await set_mode(hass, "sim-001", 1, "manual")  # cannot be cleared now: when the station is back
        assert installed(station)
        await rebooting
        await wait_for(lambda: context.is_connected("sim-001"))
        await wait_for(lambda: installed(station) == [])
        await wait_for(lambda: hass_storage_cleanup(entry) == [])


def hass_storage_cleanup(entry: Any) -> list[str]:
    return entry.runtime_data.energy._data()["cleanup"]  # type: ignore[no-any-return]


async def test_forgetting_a_station_forgets_its_settings(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    async with energy_site(hass, setup_integration, SOLAR_SITE) as (entry, (_station,)):
        await set_mode(hass, "sim-001", 1, "fast")
        device = device_id(hass, entry, "sim-001")
        registry = dr.async_get(hass)
        assert await async_remove_config_entry_device(hass, entry, registry.async_get(device))  # type: ignore[arg-type]
        assert entry.runtime_data.energy.settings("sim-001", 1).mode == "manual"


def test_sensor_values_in_other_units_or_none_at_all() -> None:
    power = {"unit_of_measurement": "kW", "device_class": "power"}
    assert read_sensor(State("sensor.grid", "1.5", power), SensorKind.POWER) == 1500.0
    assert read_sensor(State("sensor.grid", "lots", power), SensorKind.POWER) is None
    assert read_sensor(State("sensor.grid", "unavailable", power), SensorKind.POWER) is None
    assert read_sensor(State("sensor.grid", "3", {"unit_of_measurement": "A"}), SensorKind.POWER) is None
    assert read_sensor(State("sensor.l1", "3", {"unit_of_measurement": "mA"}), SensorKind.CURRENT) == 0.003
    assert read_sensor(State("sensor.soc", "40", {"unit_of_measurement": "%"}), SensorKind.BATTERY) == 40.0
    assert read_sensor(None, SensorKind.BATTERY) is None


async def test_the_sign_conventions_are_undone(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    site = {
        GRID_POWER: GRID,
        GRID_SIGN: EXPORT_POSITIVE,
        BATTERY_POWER: BATTERY,
        BATTERY_SIGN: CHARGE_POSITIVE,
        SOLAR_POWER: BATTERY,
        **dict(zip(GRID_CURRENTS, CURRENTS, strict=True)),
    }
    async with energy_site(hass, setup_integration, site) as (entry, (_station,)):
        await set_number(hass, GRID, 2000)  # exporting 2 kW
        await set_number(hass, BATTERY, 1000)  # charging 1 kW
        await set_currents(hass, 3, 3, 3)
        reading = entry.runtime_data.energy.site_reading()
        assert (reading.grid_power, reading.battery_power, reading.grid_currents) == (-2000.0, -1000.0, (-3, -3, -3))


async def test_what_stations_do_in_one_turn_is_decided_once(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: meter values and connections of a fleet decide once per event-loop turn, not once each."""
    async with energy_site(hass, setup_integration, FUSE_SITE) as (entry, (station,)):
        await plug_and_charge(station)
        await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].transactions.evse(1).active)
        await set_mode(hass, "sim-001", 1, "fast")
        await wait_for(lambda: live_limit(station) == 16.0)
        energy = entry.runtime_data.energy
        decided = 0
        decide = energy.decide

        def counting() -> None:
            nonlocal decided
            decided += 1
            decide()

        monkeypatch.setattr(energy, "decide", counting)
        central_station = entry.runtime_data.central.stations["sim-001"]
        for _ in range(50):  # a storm's worth of what stations do, in one turn
            energy.evse_changed("sim-001", 1)
            energy.connector_status_changed(central_station, 1, 1)
            energy.evse_changed("sim-999", 1)  # not managed: nothing to decide
        assert decided == 0
        await hass.async_block_till_done()
        assert decided == 1
        energy.station_disconnected(central_station)
        energy.async_shutdown()  # a decision still due is dropped with the manager
        await hass.async_block_till_done()
        assert decided == 1
