"""Benchmarks in one Home Assistant process: control latency, and the CPU cost of one meter value.

`scripts/bench latency`: the time from a state change an automation reacts to, to the SetChargingProfile request
arriving at a connected simulated station (the project's simulator, in the same process), p50 / p99 over N
changes, for (a) setting the current limit number and (b) changing the grid power sensor the solar-surplus
blueprint follows. The flash-protection interval is set to 0 for the run, so that every change goes out (the
filter itself still runs). Measured in the steady state, once the station's connect conversation is over.

`scripts/bench meter`: Home Assistant CPU time per TransactionEvent(Updated) with 9 sampled values, entity
updates included (sensors written as the values change), fed straight into the station's session; against the
protocol path alone (parse, validate, answer) as the reference in the same run. Budget: well under 2 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
import json
import logging
from pathlib import Path
import shutil
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import homeassistant  # noqa: F401 - before anything imports voluptuous (Home Assistant swaps in probatio)

from custom_components.ocpp_csms.const import CONF_PORT, DOMAIN, STORAGE_KEY
from custom_components.ocpp_csms.csms.passwords import hash_password

STATION = "bench-1"
PASSWORD = "bench-password-0123456789"
NUMBER = "number.bench_1_evse_1_charging_current_limit"


def free_port() -> int:
    """A TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


@contextlib.asynccontextmanager
async def home_assistant(config_dir: Path) -> Any:
    """A Home Assistant instance in this process (the test plugin's builder), our integration set up."""
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        MockConfigEntry,
        async_test_home_assistant,
    )

    import custom_components.ocpp_csms  # noqa: F401, PLC0415 - resolvable before Home Assistant looks for it

    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    record = {"station_id": STATION, "security_profile": 1, "password_hash": hash_password(PASSWORD), "lenient": False}
    (storage / STORAGE_KEY).write_text(
        json.dumps({"version": 1, "minor_version": 1, "key": STORAGE_KEY, "data": {"stations": [record]}})
    )
    async with async_test_home_assistant(asyncio.get_running_loop(), config_dir=str(config_dir)) as hass:
        from homeassistant import loader  # noqa: PLC0415
        from homeassistant.helpers import frame as frame_helper  # noqa: PLC0415

        frame_helper.async_setup(hass)  # as the test plugin's hass fixture does
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)  # as the test plugin's enable_custom_integrations does
        port = free_port()
        entry = MockConfigEntry(domain=DOMAIN, unique_id=DOMAIN, data={CONF_PORT: port})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        try:
            yield hass, entry, port
        finally:
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop(force=True)


async def wait_for(condition: Any, timeout: float = 30) -> None:
    """Poll until `condition()` holds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def simulated_station(port: int) -> Any:
    """The project's simulator, one station with one EVSE, connected and with its inventory read."""
    from tools.simulator.station import SimStation, StationConfig  # noqa: PLC0415

    config = StationConfig(url=f"ws://127.0.0.1:{port}", station_id=STATION, password=PASSWORD, evses=1)
    station = SimStation(config)
    task = asyncio.create_task(station.run())
    try:
        yield station
    finally:
        await station.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


async def settled(station: Any, quiet: float = 0.5, timeout: float = 30) -> None:
    """Wait until the station's connect conversation is over: no CALL has reached it for `quiet` seconds.

    The changes are measured in the steady state; the first ones would otherwise queue behind the inventory read.
    """
    last = [time.perf_counter()]
    for handlers in station.route_map.values():
        if "_on_action" in handlers:
            original = handlers["_on_action"]

            def stamped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                last[0] = time.perf_counter()
                return _original(*args, **kwargs)

            handlers["_on_action"] = stamped
    await wait_for(lambda: time.perf_counter() - last[0] >= quiet, timeout)


def watch_profiles(station: Any) -> asyncio.Queue[float]:
    """A queue of the perf_counter times at which SetChargingProfile requests reach the station."""
    arrivals: asyncio.Queue[float] = asyncio.Queue()
    handlers = station.route_map["SetChargingProfile"]
    original = handlers["_on_action"]

    def timed(**kwargs: Any) -> Any:
        arrivals.put_nowait(time.perf_counter())
        return original(**kwargs)

    handlers["_on_action"] = timed
    return arrivals


async def measure(changes: list[Any], arrivals: asyncio.Queue[float], expected: int = 1) -> list[float]:
    """For each change (a callable returning None): ms until the first of its `expected` requests arrives."""
    latencies = []
    for change in changes:
        while not arrivals.empty():
            arrivals.get_nowait()
        started = time.perf_counter()
        change()
        arrived = await asyncio.wait_for(arrivals.get(), 10)
        latencies.append((arrived - started) * 1000)
        for _ in range(expected - 1):
            await asyncio.wait_for(arrivals.get(), 10)
        await asyncio.sleep(0.005)  # the read-back GetCompositeSchedule completes before the next change
    return latencies


async def bench_latency(count: int) -> list[tuple[str, list[float]]]:
    """The two latency series."""
    from homeassistant.setup import async_setup_component  # noqa: PLC0415

    from custom_components.ocpp_csms.charging.limiter import LimitFilterConfig, LimitRequestFilter  # noqa: PLC0415

    results = []
    with tempfile.TemporaryDirectory() as config:
        async with home_assistant(Path(config)) as (hass, entry, port), simulated_station(port) as station:
            data = entry.runtime_data
            await wait_for(
                lambda: hass.states.get(NUMBER) is not None and hass.states.get(NUMBER).state != "unavailable"
            )
            await settled(station)
            no_interval = LimitFilterConfig(increase_interval=timedelta(0))
            data.charging.evse(STATION, 1).filter = LimitRequestFilter(no_interval)
            arrivals = watch_profiles(station)

            def set_number(value: float) -> Any:
                return lambda: hass.async_create_task(
                    hass.services.async_call("number", "set_value", {"entity_id": NUMBER, "value": value})
                )

            values = [6 + (n % 2) * 10 for n in range(count)]  # 6 A, 16 A, ...: every change is one to send
            results.append(
                ("current limit number → SetChargingProfile", await measure([set_number(v) for v in values], arrivals))
            )

            # The solar-surplus blueprint following a grid power sensor.
            blueprint = Path(hass.config.path("blueprints", "automation", "ocpp_csms"))
            blueprint.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / "blueprints" / "automation" / "ocpp_csms" / "solar_surplus_charging.yaml", blueprint)
            from homeassistant.helpers import device_registry as dr  # noqa: PLC0415

            evse = dr.async_get(hass).async_get_device_by_identifier((DOMAIN, f"{STATION}/evse/1"), entry.entry_id)
            assert evse is not None
            evse_device = evse.id
            hass.states.async_set("sensor.grid", "0", {"device_class": "power", "unit_of_measurement": "W"})
            inputs = {
                "charger": evse_device,
                "evse_power": "sensor.bench_1_evse_1_power",
                "grid_power": "sensor.grid",
                "grid_sign": "import_positive",
                "min_current": 6,
                "max_current": 16,
                "phases": "3",
                "voltage": 230,
                "start_threshold": 0,
                "stop_threshold": 100000,
                "start_delay": {"seconds": 0},
                "stop_delay": {"seconds": 0},
            }
            config_automation = {
                "id": "solar",
                "alias": "solar",
                "use_blueprint": {"path": "ocpp_csms/solar_surplus_charging.yaml", "input": inputs},
            }
            assert await async_setup_component(hass, "automation", {"automation": [config_automation]})
            await hass.async_block_till_done()
            await asyncio.sleep(0.5)

            def grid(watts: float) -> Any:
                return lambda: hass.states.async_set(
                    "sensor.grid", str(watts), {"device_class": "power", "unit_of_measurement": "W"}
                )

            # Alternate between 4.8 kW and 10.4 kW export (7 A and 15 A at 3 x 230 V, minus the charger's draw).
            exports = [-(4_800 + (n % 2) * 5_600) - n * 0.01 for n in range(count)]
            with contextlib.suppress(TimeoutError):
                results.append(
                    (
                        "grid sensor → solar blueprint → SetChargingProfile",
                        await measure([grid(w) for w in exports], arrivals),
                    )
                )
    return results


async def bench_meter(count: int) -> list[tuple[str, float]]:
    """CPU ms per TransactionEvent(Updated): full (entities included) and the protocol path alone."""
    from custom_components.ocpp_csms.protocol.session import RpcSession  # noqa: PLC0415
    from custom_components.ocpp_csms.protocol.v201.messages import (  # noqa: PLC0415
        TransactionEventRequest,
        TransactionEventResponse,
    )

    def frame(seq_no: int, register_wh: float) -> bytes:
        at = (datetime(2026, 11, 21, 12, 0, tzinfo=UTC) + timedelta(seconds=seq_no)).isoformat()
        sampled = [
            {"value": register_wh, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
            {"value": 11000 + seq_no % 7, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
            *({"value": 16 + (seq_no % 3) / 10, "measurand": "Current.Import", "phase": p} for p in ("L1", "L2", "L3")),
            *({"value": 230 + seq_no % 2, "measurand": "Voltage", "phase": f"{p}-N"} for p in ("L1", "L2", "L3")),
            {"value": 40 + seq_no % 60, "measurand": "SoC", "unitOfMeasure": {"unit": "Percent"}},
        ]
        payload = {
            "eventType": "Started" if seq_no == 0 else "Updated",
            "timestamp": at,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": seq_no,
            "transactionInfo": {"transactionId": "bench-tx", "chargingState": "Charging"},
            "meterValue": [{"timestamp": at, "sampledValue": sampled}],
            "evse": {"id": 1, "connectorId": 1},
        }
        return json.dumps([2, f"m{seq_no}", "TransactionEvent", payload]).encode()

    with tempfile.TemporaryDirectory() as config:
        async with home_assistant(Path(config)) as (hass, entry, port), simulated_station(port):
            data = entry.runtime_data
            await wait_for(
                lambda: hass.states.get(NUMBER) is not None and hass.states.get(NUMBER).state != "unavailable"
            )
            session = data.central.stations[STATION].session
            sent: list[bytes] = []
            real_send = session._send  # noqa: SLF001 - the benchmark feeds the session directly

            async def no_send(message: bytes) -> None:
                sent.append(message)

            session._send = no_send  # noqa: SLF001
            frames = [frame(n, 1_000 + n * 3.0) for n in range(count + 1)]
            await session.receive(frames[0])
            await hass.async_block_till_done()
            started = time.process_time()
            for message in frames[1:]:
                await session.receive(message)
                await hass.async_block_till_done()
            full = (time.process_time() - started) * 1000 / count
            session._send = real_send  # noqa: SLF001
            changes = hass.states.get("sensor.bench_1_evse_1_power")
            assert changes is not None

            # Reference: the same frames through a bare session with a trivial handler (no entities).
            bare = RpcSession(no_send, station_id="ref")

            async def answer(_request: TransactionEventRequest) -> TransactionEventResponse:
                return TransactionEventResponse()

            bare.on(TransactionEventRequest, answer)
            started = time.process_time()
            for message in frames[1:]:
                await bare.receive(message)
            protocol = (time.process_time() - started) * 1000 / count
            await bare.close()
    return [("full path: frame → transaction → sensors written", full), ("protocol only (reference)", protocol)]


def main() -> int:
    """Run one benchmark and print its markdown table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", choices=["latency", "meter"])
    parser.add_argument("--count", type=int, default=200, help="changes (latency) or messages (meter)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("ocpp").setLevel(logging.ERROR)
    logging.getLogger("tools.simulator").setLevel(logging.ERROR)
    if args.benchmark == "latency":
        series = asyncio.run(bench_latency(args.count))
        print(f"Control latency over {args.count} changes (ms), one Home Assistant process, simulator in-process.\n")
        print("| path | n | p50 | p99 | max |")
        print("|---|---:|---:|---:|---:|")
        for name, values in series:
            print(
                f"| {name} | {len(values)} | {statistics.median(values):.2f} | {percentile(values, 0.99):.2f} "
                f"| {max(values):.2f} |"
            )
        print("\nTarget: p99 under 20 ms.")
    else:
        rows = asyncio.run(bench_meter(args.count))
        print(f"Home Assistant CPU time per TransactionEvent(Updated) with 9 sampled values, over {args.count}.\n")
        print("| path | CPU ms/message |")
        print("|---|---:|")
        for name, value in rows:
            print(f"| {name} | {value:.3f} |")
        print(f"\nRatio full / protocol: {rows[0][1] / rows[1][1]:.1f}x. Budget: well under 2 ms per message.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
