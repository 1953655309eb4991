"""Departure planning end to end: a price sensor, the smart mode, the plan on a simulated station, session cost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_csms.departure_planning import FEED_IN_PRICE, PLAN_BUFFER, PRICE_ENTITY, SOLAR_FORECAST
from custom_components.ocpp_csms.planner.schedule import send_periods
from tools.simulator import SimStation
from tools.simulator.smart_charging import Limit

from .conftest import SetupIntegration, wait_for
from .energy_fixtures import energy_site, entity, installed, manager_state, plug_and_charge, set_mode

PRICES = "sensor.day_ahead_prices"
SITE: dict[str, Any] = {PRICE_ENTITY: PRICES, PLAN_BUFFER: 0}
HOUR = timedelta(hours=1)


def _hour() -> datetime:
    return dt_util.utcnow().replace(minute=0, second=0, microsecond=0)


def price_attributes(prices: list[float], start: datetime | None = None) -> dict[str, Any]:
    """Nord Pool style attributes: hourly prices from the current hour on."""
    first = start or _hour()
    return {
        "raw_today": [
            {"start": (first + HOUR * i).isoformat(), "end": (first + HOUR * (i + 1)).isoformat(), "value": price}
            for i, price in enumerate(prices)
        ],
        "raw_tomorrow": [],
        "unit": "kWh",
    }


async def set_departure(hass: HomeAssistant, moment: datetime) -> None:
    """The EVSE's departure: the local time of day of `moment`."""
    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": entity("sim-001", 1, "time", "departure"), "time": dt_util.as_local(moment).strftime("%H:%M")},
        blocking=True,
    )


async def set_energy(hass: HomeAssistant, kwh: float) -> None:
    """The energy to add."""
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": entity("sim-001", 1, "number", "energy_to_add"), "value": kwh},
        blocking=True,
    )


def plan_profile(station: SimStation, purpose: str | None = None) -> Any:
    """Our plan on the station: an Absolute profile with several periods (None when there is none)."""
    found = [
        p for p in installed(station) if p.kind == "Absolute" and len(p.periods) > 1 and purpose in (None, p.purpose)
    ]
    return found[0] if found else None


def station_limit(station: SimStation, moment: datetime) -> float | None:
    """The station's own composite limit of EVSE 1 at `moment` (A per phase)."""
    evse = station.evses[1]
    tx = evse.tx
    limit = station.profiles.evse_limit(
        1,
        moment,
        transaction_id=tx.id if tx else None,
        anchor=tx.started_at if tx else moment,
    )
    if limit is None:
        return None
    own = Limit(evse.meter.max_current, evse.meter.phases)
    return round(min(limit.current, own.current), 1)


async def smart_session(hass: HomeAssistant, station: SimStation, *, kwh: float = 15.0, hours: int = 8) -> None:
    """Prices, a departure `hours` ahead, the energy, the smart mode; then the car comes."""
    await set_departure(hass, dt_util.utcnow() + timedelta(hours=hours))
    await set_energy(hass, kwh)
    await set_mode(hass, "sim-001", 1, "smart")
    assert manager_state(hass, "sim-001").state == "no_vehicle"
    await plug_and_charge(station)


async def test_a_plan_that_fits_goes_to_the_station_as_an_absolute_tx_profile(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    first = _hour()  # fixed: the test may run across the hour
    hass.states.async_set(
        PRICES, "0.4", price_attributes([0.40, 0.40, 0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40], start=first)
    )
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        await smart_session(hass, station)
        planner = entry.runtime_data.planner
        await wait_for(lambda: plan_profile(station, "TxProfile") is not None)
        plan = planner.plan("sim-001", 1)
        assert plan is not None
        assert plan.complete
        cheap = first + 2 * HOUR
        assert [slot.start for slot in plan.charging_slots][:1] == [cheap]
        profile = plan_profile(station, "TxProfile")
        assert plan_profile(station, "TxDefaultProfile") is not None  # sent when the car came, before the transaction
        assert profile.transaction_id == station.evses[1].tx.id
        assert profile.periods[0].limit == 0.0
        sent = send_periods(plan, profile.start_schedule, 24, min_current=6.0)
        assert [(p.start, p.limit) for p in profile.periods] == [
            (int((period.start - sent[0].start).total_seconds()), period.current) for period in sent
        ]
        await wait_for(lambda: manager_state(hass, "sim-001").state == "plan_on_station")
        state = hass.states.get(entity("sim-001", 1, "sensor", "charging_plan"))
        assert state is not None
        assert dt_util.parse_datetime(state.state) == cheap
        assert state.attributes["complete"] is True
        assert state.attributes["on_station"] is True
        assert state.attributes["slots"][0]["price"] == 0.05
        assert state.attributes["readback"] == {"held": True, "mismatches": []}


async def test_a_plan_that_cannot_meet_the_target_says_so(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.30] * 6))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        await smart_session(hass, station, kwh=100.0, hours=3)
        await wait_for(lambda: entry.runtime_data.planner.plan("sim-001", 1) is not None)
        state = hass.states.get(entity("sim-001", 1, "sensor", "charging_plan"))
        assert state is not None
        assert state.attributes["complete"] is False
        assert state.attributes["shortfall"] == pytest.approx(100 - state.attributes["expected_energy"], abs=0.01)
        assert state.attributes["shortfall"] > 20  # 3 hours at the EVSE's most are far from 100 kWh
        # at the departure the car is still there: it is planned again (to its next departure)
        before = entry.runtime_data.planner.plan("sim-001", 1)
        assert before is not None
        async_fire_time_changed(hass, before.departure + timedelta(seconds=2))
        await wait_for(lambda: entry.runtime_data.planner.plan("sim-001", 1) is not before)


async def test_replanned_on_new_prices_and_unloaded_mid_plan_the_station_keeps_it(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    first = _hour()  # fixed: the test may run across the hour
    hass.states.async_set(
        PRICES, "0.4", price_attributes([0.40, 0.40, 0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40], start=first)
    )
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        await smart_session(hass, station, kwh=10.0)
        planner = entry.runtime_data.planner
        await wait_for(lambda: plan_profile(station, "TxProfile") is not None)
        # tomorrow's prices, cheaper later in the night: a new plan goes out
        hass.states.async_set(
            PRICES, "0.4", price_attributes([0.40, 0.40, 0.30, 0.30, 0.40, 0.01, 0.40, 0.40, 0.40], start=first)
        )
        later = first + 5 * HOUR
        await wait_for(
            lambda: (plan := planner.plan("sim-001", 1)) is not None and plan.charging_slots[0].start == later
        )
        await wait_for(
            lambda: (plan := planner.plan("sim-001", 1)) is not None and plan.charging_slots[0].start == later
        )
        current = planner.plan("sim-001", 1).charging_slots[0].current  # type: ignore[union-attr]
        await wait_for(lambda: station_limit(station, later + timedelta(minutes=30)) == current)
        assert station_limit(station, first + 2 * HOUR + timedelta(minutes=30)) == 0.0
        plan = planner.plan("sim-001", 1)
        assert plan is not None
        # Home Assistant goes away: the station's own composite schedule still follows the plan
        assert await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        for period in send_periods(plan, dt_util.utcnow(), 24, min_current=6.0):
            middle = period.start + (period.end - period.start) / 2
            assert station_limit(station, middle) == period.current, period


async def test_unplugging_ends_the_plan(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.40, 0.40, 0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        await smart_session(hass, station, kwh=10.0)
        await wait_for(lambda: plan_profile(station) is not None)
        await station.unplug(station.evses[1])
        await wait_for(lambda: plan_profile(station) is None)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "no_vehicle")
        assert entry.runtime_data.planner.plan("sim-001", 1) is None


async def test_session_cost_against_the_metered_energy(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.25", price_attributes([0.25] * 30, start=_hour() - 4 * HOUR))
    async with energy_site(hass, setup_integration, SITE) as (_entry, (station,)):
        await plug_and_charge(station)
        cost_id = entity("sim-001", 1, "sensor", "session_cost")
        energy_id = entity("sim-001", 1, "sensor", "session_energy")

        def cost_matches() -> bool:
            cost, energy = hass.states.get(cost_id), hass.states.get(energy_id)
            if cost is None or energy is None or cost.state in ("unknown", "unavailable"):
                return False
            kwh = float(energy.state)
            return kwh > 0.001 and abs(float(cost.state) - kwh * 0.25) < 1e-3

        await wait_for(cost_matches)
        state = hass.states.get(cost_id)
        assert state is not None
        assert state.attributes["unit_of_measurement"] == hass.config.currency
        assert state.attributes["price"] == 0.25


def _responses(station: SimStation) -> list[tuple[str, Any]]:
    """Record the TransactionEvent responses the station gets (event type, response)."""
    seen: list[tuple[str, Any]] = []
    original = station.queue_transaction_event

    def capture(on_response: Callable[[Any], None] | None = None, **kwargs: Any) -> None:
        def record(result: Any) -> None:
            seen.append((kwargs["event_type"], result))
            if on_response is not None:
                on_response(result)

        original(on_response=record, **kwargs)

    station.queue_transaction_event = capture  # type: ignore[method-assign]
    return seen


TARIFF_ON = {"TariffCostCtrlr.Enabled:Cost": "true", "TariffCostCtrlr.Enabled:Tariff": "true"}


async def test_total_cost_and_cost_updated_on_a_station_with_tariff_and_cost(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.25", price_attributes([0.25] * 30, start=_hour() - 4 * HOUR))
    async with energy_site(hass, setup_integration, SITE, variables=TARIFF_ON) as (entry, (station,)):
        runtime = entry.runtime_data.runtimes["sim-001"]
        await wait_for(lambda: runtime.device_model.find("TariffCostCtrlr", "Currency") is not None)
        seen = _responses(station)
        await plug_and_charge(station)
        await wait_for(lambda: station.stats.received["CostUpdated"] >= 1)
        started = [response for kind, response in seen if kind == "Started"]
        assert started
        assert "EUR/kWh" in started[0].id_token_info["personal_message"]["content"]
        await wait_for(lambda: (entry.runtime_data.planner.session_cost("sim-001", 1) or 0) > 0.0005)
        station.stop_transaction(station.evses[1], "StopAuthorized", "Local")
        await wait_for(lambda: any(kind == "Ended" for kind, _ in seen))
        ended = next(response for kind, response in seen if kind == "Ended")
        cost = entry.runtime_data.planner.session_cost("sim-001", 1)
        assert cost is not None
        assert ended.total_cost == round(cost, 2)


@pytest.mark.parametrize(
    "variables",
    [{}, {**TARIFF_ON, "TariffCostCtrlr.Currency": "USD"}],
    ids=["without_tariff_cost", "in_another_currency"],
)
async def test_silence_on_a_station_without_tariff_and_cost(
    hass: HomeAssistant, setup_integration: SetupIntegration, variables: dict[str, str]
) -> None:
    hass.states.async_set(PRICES, "0.25", price_attributes([0.25] * 30, start=_hour() - 4 * HOUR))
    async with energy_site(hass, setup_integration, SITE, variables=variables) as (entry, (station,)):
        runtime = entry.runtime_data.runtimes["sim-001"]
        await wait_for(lambda: runtime.device_model.find("TariffCostCtrlr", "Currency") is not None)
        seen = _responses(station)
        await plug_and_charge(station)
        await wait_for(lambda: (entry.runtime_data.planner.session_cost("sim-001", 1) or 0) > 0.0005)
        station.stop_transaction(station.evses[1], "StopAuthorized", "Local")
        await wait_for(lambda: any(kind == "Ended" for kind, _ in seen))
        assert station.stats.received["CostUpdated"] == 0
        assert all(response.total_cost is None for _, response in seen)
        assert all(
            response.id_token_info is None or "personal_message" not in response.id_token_info for _, response in seen
        )


async def test_a_station_that_refuses_the_plan_gets_its_limits_live(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.05, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40]))
    refusing = {"SmartChargingCtrlr.Enabled": "false"}
    async with energy_site(hass, setup_integration, SITE, variables=refusing) as (entry, (station,)):
        await smart_session(hass, station, kwh=5.0)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "plan_live")
        attributes = entry.runtime_data.planner.plan_attributes("sim-001", 1)
        assert attributes is not None
        assert attributes["live_limits"] is True
        assert attributes["on_station"] is False
        assert attributes["problem"]
        tried = station.stats.received["SetChargingProfile"]
        # the plan's next period: its limit goes out live then
        evse = entry.runtime_data.planner._evses["sim-001", 1]
        following = next(period.start for period in evse.periods if period.start > dt_util.utcnow())
        async_fire_time_changed(hass, following + timedelta(seconds=1))
        await wait_for(lambda: station.stats.received["SetChargingProfile"] > tried)


async def test_a_car_that_draws_less_lowers_the_planned_power(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        assert station.config.car is not None
        station.config.car.max_current = 8.0  # an onboard charger of 8 A a phase: about 5.5 kW
        await smart_session(hass, station, kwh=15.0)
        planner = entry.runtime_data.planner
        await wait_for(lambda: (planner.plan_attributes("sim-001", 1) or {}).get("car_power") is not None)
        plan = planner.plan("sim-001", 1)
        assert plan is not None
        assert plan.charging_slots[0].power < 7_000


async def test_leaving_smart_clears_the_plan(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.40, 0.40, 0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        await smart_session(hass, station, kwh=10.0)
        await wait_for(lambda: plan_profile(station, "TxProfile") is not None)
        await set_mode(hass, "sim-001", 1, "manual")
        await wait_for(lambda: plan_profile(station) is None)
        assert entry.runtime_data.planner.plan("sim-001", 1) is None
        assert manager_state(hass, "sim-001").state == "manual"


async def test_an_unreadable_price_update_keeps_the_prices_known(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.40, 0.40, 0.05]))
    hass.states.async_set("sensor.solar", "1", {"watts": {dt_util.utcnow().isoformat(): 2000}})
    site = {**SITE, SOLAR_FORECAST: "sensor.solar", FEED_IN_PRICE: 0.07}
    async with energy_site(hass, setup_integration, site) as (entry, _stations):
        planner = entry.runtime_data.planner
        assert len(planner.prices) == 3
        assert len(planner.solar) == 1
        hass.states.async_set(PRICES, "0.4", {"unit": "EUR/kWh"})
        hass.states.async_set("sensor.solar", "1", {"energy": 3})
        await hass.async_block_till_done()
        assert planner.price_problem is not None
        assert planner.price_problem.placeholders["found"] == "attributes unit"
        assert len(planner.prices) == 3
        assert planner.solar == []
        assert planner.state("sim-001", 1).value == "no_vehicle"
        entry.runtime_data.planner.forget_station("sim-001")


async def test_the_plan_is_merged_to_the_stations_periods_per_schedule(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    zigzag = [0.05, 0.40, 0.06, 0.40, 0.07, 0.40, 0.08, 0.40, 0.09, 0.40]
    hass.states.async_set(PRICES, "0.4", price_attributes(zigzag))
    few = {"SmartChargingCtrlr.PeriodsPerSchedule": "3"}
    async with energy_site(hass, setup_integration, SITE, variables=few) as (entry, (station,)):
        runtime = entry.runtime_data.runtimes["sim-001"]
        await wait_for(lambda: entry.runtime_data.charging.capabilities("sim-001").periods_per_schedule == 3)
        assert runtime.device_model
        await smart_session(hass, station, kwh=40.0, hours=10)
        await wait_for(lambda: plan_profile(station, "TxProfile") is not None)
        plan = entry.runtime_data.planner.plan("sim-001", 1)
        assert plan is not None
        assert len(plan.charging_slots) >= 4  # more changes than the station holds...
        profile = plan_profile(station, "TxProfile")
        assert len(profile.periods) <= 3  # ...merged to what it holds, and accepted
        await wait_for(lambda: manager_state(hass, "sim-001").state == "plan_on_station")


async def test_a_target_state_of_charge_with_the_capacity_learnt(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set(PRICES, "0.4", price_attributes([0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        assert station.config.car is not None
        station.config.car.battery_wh = 600.0  # a tiny battery: its state of charge rises fast
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": entity("sim-001", 1, "number", "target_state_of_charge"), "value": 90},
            blocking=True,
        )
        planner = entry.runtime_data.planner
        assert planner.target_soc("sim-001", 1) == 90
        await smart_session(hass, station, kwh=30.0)
        # before the capacity is known, the energy to add counts
        await wait_for(lambda: (plan := planner.plan("sim-001", 1)) is not None and plan.target_wh > 20_000)
        await wait_for(lambda: planner.capacity_wh("sim-001", 1) is not None, timeout=30)
        assert planner.capacity_wh("sim-001", 1) == pytest.approx(600, rel=0.05)
        plan = planner.plan("sim-001", 1)
        assert plan is not None
        assert plan.target_wh < 600  # (90 % - the state of charge now) of 600 Wh


async def test_k15_an_iso_15118_cars_needs_are_the_plans_departure_and_energy(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """In the smart mode the EV's NotifyEVChargingNeeds (energy, departure, maximum current) feed the plan.

    The plan on the station is then the EV's schedule: no one-period TxProfile for its needs besides it.
    """
    hass.states.async_set(PRICES, "0.4", price_attributes([0.40, 0.05, 0.05, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):
        car = station.config.car
        assert car is not None
        car.iso15118, car.departure_in, car.soc, car.max_current = True, 4 * 3600.0, 90.0, 10.0
        await smart_session(hass, station, kwh=30.0, hours=8)
        planner = entry.runtime_data.planner
        await wait_for(lambda: (planner.plan_attributes("sim-001", 1) or {}).get("from_ev") is True, timeout=10)
        plan = planner.plan("sim-001", 1)
        assert plan is not None
        # The car's departure in 4 h, not the EVSE's in 8 h; its 6 kWh (90 % of 60 kWh), not the 30 kWh set.
        assert abs(plan.departure - (dt_util.utcnow() + timedelta(hours=4))) < timedelta(minutes=2)
        assert plan.energy_wh == pytest.approx(6000, abs=300)
        assert ("sim-001", 1) not in entry.runtime_data.iso15118.sent
        assert max(slot.current for slot in plan.charging_slots) <= 10.0  # the EV's maximum current

        def within_the_evs_maximum() -> bool:
            profile = plan_profile(station, "TxProfile")
            return profile is not None and max(period.limit for period in profile.periods) <= 10.0

        await wait_for(within_the_evs_maximum)  # the plan sent again with the EV's needs


async def test_a_station_that_accepts_the_plan_but_does_not_hold_it_gets_its_limits_live(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """The composite schedule read back differs from the plan (a station that drops what it accepted): live limits."""
    hass.states.async_set(PRICES, "0.4", price_attributes([0.05, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40, 0.40]))
    async with energy_site(hass, setup_integration, SITE) as (entry, (station,)):

        def forgetful(*_args: Any, **_kwargs: Any) -> list[dict[str, Any]]:
            return [{"start_period": 0, "limit": 32.0}]  # whatever it was sent, it charges at its own 32 A

        station.profiles.composite = forgetful  # type: ignore[method-assign]
        await smart_session(hass, station, kwh=5.0)
        await wait_for(lambda: manager_state(hass, "sim-001").state == "plan_live")
        attributes = entry.runtime_data.planner.plan_attributes("sim-001", 1)
        assert attributes is not None
        assert (attributes["live_limits"], attributes["on_station"], attributes["problem"]) == (
            True,
            False,
            "composite_differs",
        )
        assert attributes["readback"] is not None
