"""The price source options (next to the energy manager's, applied without a reload) and a price action."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util

from custom_components.ocpp_csms.const import CONF_ENERGY
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
