"""The energy manager end to end: Home Assistant, the integration and a simulated station, in one process.

Part of `scripts/bench energy`: the core's decisions must reach the station. A 25 A fuse (1 A margin) with per-phase
grid current sensors, one simulated station with an 11 kW car in `fast`; the house's own load steps through
0, 20, 8 and 16 A on every phase. After each step the energy manager decides (in the same event-loop turn as the
sensor change) and the station's own composite limit must come to the decided limit: at once for a decrease, after
the flash protection's increase interval (30 s) for an increase. Printed: each step, the decided limit, the
station's limit, and the time from the sensor change to the station applying it.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
import tempfile
import time
from typing import Any

from tools.bench_latency import PASSWORD, STATION, home_assistant

HOUSE_STEPS = (0.0, 20.0, 8.0, 16.0)
PHASES = ("l1", "l2", "l3")


async def _station(port: int) -> Any:
    from tools.simulator.meter import Car  # noqa: PLC0415
    from tools.simulator.station import SimStation, StationConfig  # noqa: PLC0415

    config = StationConfig(
        url=f"ws://127.0.0.1:{port}",
        station_id=STATION,
        password=PASSWORD,
        evses=1,
        meter_interval=0.5,
        plug_delay=0.05,
        car=Car(max_current=16.0, phases=3, battery_wh=60_000.0, soc=30.0),
        variables={"TxCtrlr.StopTxOnInvalidId": "false", "TxCtrlr.MaxEnergyOnInvalidId": "1000000000"},
    )
    return SimStation(config)


async def _wait(condition: Any, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.005)


async def run() -> list[tuple[float, float, float | None, float | None]]:
    """(house A, decided A, station A, ms to apply) per step."""
    from homeassistant.setup import async_setup_component  # noqa: PLC0415

    from custom_components.ocpp_csms.const import CONF_ENERGY, CONF_UNKNOWN_TOKENS  # noqa: PLC0415
    from custom_components.ocpp_csms.energy_manager import (  # noqa: PLC0415
        FUSE_CURRENT,
        GRID_CURRENTS,
        GRID_POWER,
        GRID_SIGN,
        IMPORT_POSITIVE,
        MARGIN,
    )

    rows: list[tuple[float, float, float | None, float | None]] = []
    with tempfile.TemporaryDirectory() as config:
        async with home_assistant(Path(config)) as (hass, entry, port):
            numbers = {
                "grid_power": {"min": -30000, "max": 30000, "unit_of_measurement": "W", "initial": 0},
                **{
                    f"grid_current_{phase}": {"min": -100, "max": 100, "step": 0.1, "unit_of_measurement": "A"}
                    for phase in PHASES
                },
            }
            assert await async_setup_component(hass, "input_number", {"input_number": numbers})
            site = {
                GRID_POWER: "input_number.grid_power",
                GRID_SIGN: IMPORT_POSITIVE,
                FUSE_CURRENT: 25,
                MARGIN: 1,
                **{key: f"input_number.grid_current_{phase}" for key, phase in zip(GRID_CURRENTS, PHASES, strict=True)},
            }
            hass.config_entries.async_update_entry(
                entry, options={**entry.options, CONF_ENERGY: site, CONF_UNKNOWN_TOKENS: "accept"}
            )
            await hass.async_block_till_done()
            station = await _station(port)
            task = asyncio.create_task(station.run())
            try:
                await _wait(station.online.is_set)
                await _wait(
                    lambda: (
                        entry.runtime_data.runtimes.get(STATION) and entry.runtime_data.runtimes[STATION].known_evses
                    )
                )
                evse = station.evses[1]
                station.start_session(evse, station.tokens[0])
                await _wait(lambda: evse.tx is not None)
                select = f"select.{STATION.replace('-', '_')}_evse_1_charging_mode"
                await _wait(lambda: hass.states.get(select) is not None)
                await hass.services.async_call(
                    "select", "select_option", {"entity_id": select, "option": "fast"}, blocking=True
                )
                rows = await _steps(hass, entry.runtime_data.energy, station, evse)
            finally:
                await station.stop()
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
    return rows


async def _steps(
    hass: Any, energy: Any, station: Any, evse: Any
) -> list[tuple[float, float, float | None, float | None]]:
    """Each house load step: the settled decision, the station's limit, the time until the station applied it."""
    rows: list[tuple[float, float, float | None, float | None]] = []
    for house in HOUSE_STEPS:
        draws = evse.meter.currents
        started = time.perf_counter()
        for index, phase in enumerate(PHASES):
            value = round(house + draws[index], 1)
            await hass.services.async_call(
                "input_number",
                "set_value",
                {"entity_id": f"input_number.grid_current_{phase}", "value": value},
                blocking=True,
            )

        def decided() -> float:
            decision = energy.decision(STATION, 1)
            return float(decision.attributes["limit"]) if decision is not None else float("nan")

        def applied() -> bool:
            limit = station._limit(evse)  # noqa: SLF001 - the station's own composite limit
            return limit is not None and round(limit.current, 1) == round(decided(), 1)

        took: float | None = None
        settled = (decided(), time.perf_counter())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(45):
                while True:  # the decision settles (2 s unchanged: delays and budget spent), is applied
                    now, current = time.perf_counter(), decided()
                    if current != settled[0]:
                        settled, took = (current, now), None
                    if took is None and applied():
                        took = (now - started) * 1000
                    if took is not None and now - settled[1] >= 2:
                        break
                    await asyncio.sleep(0.005)
        limit = station._limit(evse)  # noqa: SLF001
        rows.append((house, decided(), None if limit is None else round(limit.current, 1), took))
    return rows


def print_table(rows: list[tuple[float, float, float | None, float | None]]) -> bool:
    """The end-to-end table; whether every decision reached the station."""
    print("\nEnd to end (Home Assistant + the integration + a simulated station, `fast` under a 25 A fuse):\n")
    print("| house load A per phase | decided A | station's limit A | sensor change → station applies (ms) |")
    print("|---:|---:|---:|---:|")
    for house, decided, station, took in rows:
        print(
            f"| {house:.0f} | {decided:.1f} | {'-' if station is None else f'{station:.1f}'} | "
            f"{'not applied' if took is None else f'{took:.0f}'} |"
        )
    reached = sum(took is not None for *_, took in rows)
    print(
        "\nA decision is the one in force once it stopped changing for 2 s; an increase reaches the station after "
        "the flash protection's 30 s, a decrease at once; an EVSE the fuse paused starts again only after its "
        "enable delay."
    )
    print(f"- decisions that reached the station: {reached} of {len(rows)}")
    return reached == len(rows)
