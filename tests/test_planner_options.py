"""The price source options (next to the energy manager's, applied without a reload) and a price action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_csms.const import CONF_ENERGY, PLANNER_STORAGE_KEY
from custom_components.ocpp_csms.departure_planning import (
    FEED_IN_PRICE,
    PER_KWH,
    PER_MWH,
    PLAN_BUFFER,
    PRICE_ACTION,
    PRICE_ACTION_DATA,
    PRICE_ENTITY,
    PRICE_UNIT,
    SOLAR_FORECAST,
)
from custom_components.ocpp_csms.energy_manager import BATTERY_SIGN, DISCHARGE_POSITIVE, GRID_SIGN, IMPORT_POSITIVE

from .conftest import SetupIntegration, wait_for
from .test_config_flow_options import options_step

BASE = {GRID_SIGN: IMPORT_POSITIVE, BATTERY_SIGN: DISCHARGE_POSITIVE, PRICE_UNIT: PER_KWH}


def _prices() -> dict[str, Any]:
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    return {"prices": [{"time": (start + timedelta(hours=h)).isoformat(), "price": 0.2 + h / 100} for h in range(4)]}


async def test_a_price_sensor_feed_in_solar_and_buffer_apply_at_once(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set("sensor.entsoe", "0.2", _prices())
    hass.states.async_set("sensor.solcast", "3.1", {"detailedForecast": []})
    entry = await setup_integration()
    result = await options_step(hass, entry, "energy")
    assert result["step_id"] == "energy"
    site = {
        **BASE,
        PRICE_ENTITY: "sensor.entsoe",
        FEED_IN_PRICE: 0.08,
        SOLAR_FORECAST: "sensor.solcast",
        PLAN_BUFFER: 15,
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], site)
    assert result.get("errors") is None, result.get("errors")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_ENERGY][PRICE_ENTITY] == "sensor.entsoe"
    planner = entry.runtime_data.planner
    assert planner.options.entity == "sensor.entsoe"
    assert planner.options.feed_in == 0.08
    assert planner.options.buffer == timedelta(minutes=15)
    assert len(planner.prices) == 4
    assert planner.price_problem is None


async def test_unreadable_sources_say_what_was_expected(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    hass.states.async_set("sensor.odd_prices", "0.2", {"current": 0.2, "unit": "EUR/kWh"})
    hass.states.async_set("sensor.odd_solar", "3.1", {"energy_today": 12})
    entry = await setup_integration()
    result = await options_step(hass, entry, "energy")
    site = {
        **BASE,
        PRICE_ENTITY: "sensor.odd_prices",
        PRICE_ACTION: "nordpool.nowhere",
        SOLAR_FORECAST: "sensor.odd_solar",
    }
    result = await hass.config_entries.options.async_configure(result["flow_id"], site)
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {
        PRICE_ENTITY: "price_format",
        PRICE_ACTION: "price_action_unknown",
        SOLAR_FORECAST: "solar_format",
    }
    assert "detailedForecast" in result["description_placeholders"]["expected"]
    site = {**BASE, PRICE_ENTITY: "sensor.missing", SOLAR_FORECAST: "sensor.gone"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], site)
    assert result["errors"] == {PRICE_ENTITY: "entity_not_found", SOLAR_FORECAST: "entity_not_found"}
    site = {**BASE, PRICE_ENTITY: "sensor.odd_prices"}
    result = await hass.config_entries.options.async_configure(result["flow_id"], site)
    assert result["errors"] == {PRICE_ENTITY: "price_format"}
    assert result["description_placeholders"] == {
        "expected": result["description_placeholders"]["expected"],
        "found": "attributes current, unit",
    }


async def test_prices_from_an_action_per_mwh(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    calls: list[dict[str, Any]] = []

    async def get_prices(call: ServiceCall) -> ServiceResponse:
        calls.append(dict(call.data))
        if call.data["date"] != dt_util.now().date().isoformat():
            return {"SE3": []}  # tomorrow's: not out yet
        start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
        return {
            "SE3": [
                {
                    "start": (start + timedelta(hours=h)).isoformat(),
                    "end": (start + timedelta(hours=h + 1)).isoformat(),
                    "price": 100.0 + h,
                }
                for h in range(3)
            ]
        }

    hass.services.async_register("prices", "get", get_prices, supports_response=SupportsResponse.ONLY)
    entry = await setup_integration()
    result = await options_step(hass, entry, "energy")
    site = {**BASE, PRICE_ACTION: "prices.get", PRICE_ACTION_DATA: {"areas": "SE3"}, PRICE_UNIT: PER_MWH}
    result = await hass.config_entries.options.async_configure(result["flow_id"], site)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    planner = entry.runtime_data.planner
    await wait_for(lambda: len(planner.prices) == 3)
    assert [round(slot.price, 3) for slot in planner.prices] == [0.1, 0.101, 0.102]
    assert calls[0]["areas"] == "SE3"
    assert {call["date"] for call in calls} >= {dt_util.now().date().isoformat()}


async def test_what_is_kept_comes_back_and_a_failing_action_is_no_error(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    start = dt_util.utcnow().replace(minute=0, second=0, microsecond=0)
    hass_storage[PLANNER_STORAGE_KEY] = {
        "version": 1,
        "key": PLANNER_STORAGE_KEY,
        "data": {
            "evses": {"CP-1/1": {"departure": "not a time", "energy_kwh": 12}},
            "costs": {"CP-1/1": {"transaction_id": "tx-9", "cost": {"cost": 1.5, "energy_wh": 6000}}, "bad": {}},
            "prices": [[start.isoformat(), (start + timedelta(hours=1)).isoformat(), 0.3]],
        },
    }
    failures: list[str] = []

    async def broken(call: ServiceCall) -> ServiceResponse:
        failures.append(call.data["date"])
        raise HomeAssistantError("no prices today")

    async def odd(_call: ServiceCall) -> ServiceResponse:
        return {"count": 3}

    hass.services.async_register("prices", "broken", broken, supports_response=SupportsResponse.ONLY)
    hass.services.async_register("prices", "odd", odd, supports_response=SupportsResponse.ONLY)
    entry = await setup_integration(options={CONF_ENERGY: {PRICE_ACTION: "prices.broken"}})
    planner = entry.runtime_data.planner
    assert planner.departure_time("CP-1", 1).isoformat() == "07:00:00"
    assert planner.energy_kwh("CP-1", 1) == 12
    assert planner.session_cost("CP-1", 1) == 1.5
    assert planner.cost_attributes("CP-1", 1) == {
        "transaction_id": "tx-9",
        "energy": 6.0,
        "unpriced_energy": 0.0,
        "price": 0.3,
    }
    assert planner.cost_attributes("CP-1", 2) is None
    assert planner.plan_attributes("CP-1", 1) is None
    await wait_for(lambda: len(failures) >= 2)  # today's and tomorrow's, both failed: the prices kept stay
    assert len(planner.prices) == 1
    before = len(failures)
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(hours=1, minutes=1))
    await wait_for(lambda: len(failures) >= before + 2)
    planner.configure({PRICE_ACTION: "prices.odd"})
    await wait_for(lambda: planner.price_problem is not None)
    assert planner.price_problem.placeholders["found"] == "attributes count"
    planner.configure({})
    assert planner.state("CP-1", 1).value == "not_configured"
    await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    saved = hass_storage[PLANNER_STORAGE_KEY]["data"]
    assert saved["costs"]["CP-1/1"]["cost"]["cost"] == 1.5
    assert saved["evses"]["CP-1/1"]["energy_kwh"] == 12
