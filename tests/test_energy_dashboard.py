"""The lifetime energy sensor passes Home Assistant's Energy dashboard validation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import RecorderInstanceContextManager

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import station_connection
from .test_transactions import LIFETIME, POWER, START, event, send


@pytest.fixture(autouse=True)
def mock_recorder_before_hass(async_test_recorder: RecorderInstanceContextManager) -> None:
    """The recorder is set up before Home Assistant (energy validation reads its statistics metadata)."""


async def test_lifetime_energy_passes_energy_validation(
    hass: HomeAssistant, recorder_mock: Any, setup_integration: SetupIntegration
) -> None:
    from homeassistant.components.energy import data as energy_data, validate  # noqa: PLC0415

    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("A", 0, "Started", START, 1_000, 0))
        await send(station, event("A", 1, "Updated", START + timedelta(minutes=1), 1_200, 11_000))
        await hass.async_block_till_done()
        # Compile statistics as the recorder does every five minutes, so the sensor has statistics metadata.
        now = dt_util.utcnow()
        do_adhoc_statistics(hass, start=now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0))
        await async_wait_recording_done(hass)
        assert await async_setup_component(hass, "energy", {})
        manager = await energy_data.async_get_manager(hass)
        await manager.async_update({"device_consumption": [{"stat_consumption": LIFETIME, "stat_rate": POWER}]})
        await hass.async_block_till_done()
        result = await validate.async_validate(hass)
    assert result.as_dict()["device_consumption"] == [[]]


async def test_lifetime_energy_with_a_price_entity_gets_its_cost_tracked(
    hass: HomeAssistant, recorder_mock: Any, setup_integration: SetupIntegration
) -> None:
    """The Energy dashboard's cost tracking: a price entity (per kWh) with the lifetime energy as the meter."""
    from homeassistant.components.energy import data as energy_data, validate  # noqa: PLC0415

    price = "sensor.electricity_price"
    hass.states.async_set(price, "0.30", {"unit_of_measurement": f"{hass.config.currency}/kWh"})
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await send(station, event("A", 0, "Started", START, 1_000, 0))
        await send(station, event("A", 1, "Updated", START + timedelta(minutes=1), 1_200, 11_000))
        await hass.async_block_till_done()
        now = dt_util.utcnow()
        do_adhoc_statistics(hass, start=now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0))
        await async_wait_recording_done(hass)
        assert await async_setup_component(hass, "energy", {})
        manager = await energy_data.async_get_manager(hass)
        grid = {
            "type": "grid",
            "stat_energy_from": LIFETIME,
            "stat_energy_to": None,
            "stat_cost": None,
            "entity_energy_price": price,
            "number_energy_price": None,
            "stat_compensation": None,
            "entity_energy_price_export": None,
            "number_energy_price_export": None,
            "cost_adjustment_day": 0,
        }
        await manager.async_update({"energy_sources": [grid]})
        await hass.async_block_till_done()
        result = await validate.async_validate(hass)
        assert result.as_dict()["energy_sources"] == [[]]
        cost = f"{LIFETIME}_cost"
        await send(station, event("A", 2, "Updated", START + timedelta(minutes=2), 2_200, 11_000))
        await hass.async_block_till_done()
        state = hass.states.get(cost)
        assert state is not None
        assert state.attributes["unit_of_measurement"] == hass.config.currency
        assert float(state.state) == pytest.approx(1.0 * 0.30)  # 1 kWh more at 0.30 per kWh
