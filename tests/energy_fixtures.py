"""What the energy manager's tests share: the site's sensors as input numbers, simulated stations, the entities."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import CONF_ENERGY, CONF_UNKNOWN_TOKENS
from custom_components.ocpp_csms.energy_manager import (
    BATTERY_POWER,
    BATTERY_SOC,
    FUSE_CURRENT,
    GRID_CURRENTS,
    GRID_POWER,
    GRID_SIGN,
    IMPORT_POSITIVE,
    MARGIN,
)
from tools.simulator import SimStation
from tools.simulator.meter import Car
from tools.simulator.smart_charging import Profile

from .conftest import SetupIntegration, trusted_station, wait_for, ws_url
from .test_simulator import ANY_TOKEN, fast_config, simulated

GRID = "input_number.grid_power"
BATTERY = "input_number.battery_power"
SOC = "input_number.battery_soc"
CURRENTS = tuple(f"input_number.grid_current_{phase}" for phase in ("l1", "l2", "l3"))
#: A 25 A three-phase fuse with 1 A of margin, per-phase sensors and a grid power sensor (positive importing).
FUSE_SITE: dict[str, Any] = {
    GRID_POWER: GRID,
    GRID_SIGN: IMPORT_POSITIVE,
    FUSE_CURRENT: 25,
    MARGIN: 1,
    **dict(zip(GRID_CURRENTS, CURRENTS, strict=True)),
}
SOLAR_SITE: dict[str, Any] = {GRID_POWER: GRID, GRID_SIGN: IMPORT_POSITIVE}
BATTERY_SITE: dict[str, Any] = {**SOLAR_SITE, BATTERY_POWER: BATTERY, BATTERY_SOC: SOC}


async def setup_sensors(hass: HomeAssistant) -> None:
    """The site's sensors: grid power (W), battery power (W) and state of charge (%), grid currents (A)."""
    numbers = {
        "grid_power": {"min": -30000, "max": 30000, "step": 1, "unit_of_measurement": "W", "initial": 0},
        "battery_power": {"min": -10000, "max": 10000, "step": 1, "unit_of_measurement": "W", "initial": 0},
        "battery_soc": {"min": 0, "max": 100, "step": 1, "unit_of_measurement": "%", "initial": 50},
        **{
            f"grid_current_{phase}": {"min": -100, "max": 100, "step": 0.1, "unit_of_measurement": "A", "initial": 0}
            for phase in ("l1", "l2", "l3")
        },
    }
    assert await async_setup_component(hass, "input_number", {"input_number": numbers})
    await hass.async_block_till_done()


async def set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Set an input number (a site sensor) and let Home Assistant react."""
    await hass.services.async_call("input_number", "set_value", {"entity_id": entity_id, "value": value}, blocking=True)


async def set_currents(hass: HomeAssistant, *values: float) -> None:
    """Set the three grid currents."""
    for entity_id, value in zip(CURRENTS, values, strict=True):
        await set_number(hass, entity_id, value)


def entity(station_id: str, evse_id: int, platform: str, key: str) -> str:
    """The entity id of an EVSE entity ("sim-001", 1, "select", "charging_mode")."""
    return f"{platform}.{station_id.replace('-', '_')}_evse_{evse_id}_{key}"


async def set_mode(hass: HomeAssistant, station_id: str, evse_id: int, mode: str) -> None:
    """Choose an EVSE's charging mode."""
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": entity(station_id, evse_id, "select", "charging_mode"), "option": mode},
        blocking=True,
    )


def manager_state(hass: HomeAssistant, station_id: str, evse_id: int = 1) -> Any:
    """The state object of an EVSE's energy manager sensor."""
    state = hass.states.get(entity(station_id, evse_id, "sensor", "energy_manager"))
    assert state is not None
    return state


def installed(station: SimStation, evse_id: int = 1) -> list[Profile]:
    """The charging profiles the simulated station holds for an EVSE, by stack level (highest first)."""
    return sorted(
        (profile for profile in station.profiles.profiles.values() if profile.evse_id == evse_id),
        key=lambda profile: (-profile.stack_level, profile.purpose),
    )


def live_limit(station: SimStation, evse_id: int = 1) -> float | None:
    """The limit the station applies to the EVSE now (its own composite, amperes per phase)."""
    limit = station._limit(station.evses[evse_id])
    return None if limit is None else round(limit.current, 1)


def eleven_kw() -> Car:
    """A car that takes 16 A on three phases."""
    return Car(max_current=16.0, phases=3, battery_wh=60_000.0, soc=30.0)


@contextlib.asynccontextmanager
async def energy_site(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    site: dict[str, Any],
    *,
    stations: tuple[str, ...] = ("sim-001",),
    variables: dict[str, str] | None = None,
) -> AsyncIterator[tuple[MockConfigEntry, list[SimStation]]]:
    """The integration with the site's options and sensors, and simulated stations that are online."""
    await setup_sensors(hass)
    entry = await setup_integration(
        options={CONF_ENERGY: site, CONF_UNKNOWN_TOKENS: "accept"},
        stations=[trusted_station(station_id) for station_id in stations],
    )
    async with contextlib.AsyncExitStack() as stack:
        running = [
            await stack.enter_async_context(
                simulated(
                    fast_config(
                        ws_url(entry), station_id, car=eleven_kw(), variables={**ANY_TOKEN, **(variables or {})}
                    )
                )
            )
            for station_id in stations
        ]
        for station in running:
            await wait_for(station.online.is_set)
        await wait_for(lambda: all(station_id in entry.runtime_data.runtimes for station_id in stations))
        for station_id in stations:
            await wait_for(lambda sid=station_id: entry.runtime_data.runtimes[sid].known_evses)  # type: ignore[misc]
        await hass.async_block_till_done()
        yield entry, running


async def plug_and_charge(station: SimStation, evse_id: int = 1) -> None:
    """A driver plugs in and presents a card: the session starts."""
    evse = station.evses[evse_id]
    station.start_session(evse, station.tokens[0])
    await wait_for(lambda: evse.tx is not None)
