"""Fuzzing benchmark: `scripts/bench fuzz` sends 100,000 fuzzed frames (or --frames) to the real listener.

One Home Assistant in this process (the test plugin's builder, as `scripts/bench latency`), the integration set up
with two trusted stations. The fuzzed station boots, then `tools/fuzz_frames.py` sends frames built from the 128
official schemas and a seed corpus of real stations' frames, mutated, each followed by a sentinel Heartbeat. The
per-station message rate is lifted for the run (the fuzzer waits for each answer; the limit has its own test).

Printed: frames sent, answers by kind (CALLRESULT or CALLERROR code), CALLERRORs with a code Part 4 does not name,
exceptions escaped (handler errors answered InternalError, errors logged by the integration, exceptions reaching
the event loop), resident memory after a warm-up and at the end (after `gc.collect()`), whether the fuzzed
station's session is still usable and whether a second station is served as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
from pathlib import Path
import sys
import tempfile
import time
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import homeassistant  # noqa: F401 - before anything imports voluptuous (Home Assistant swaps in probatio)
import orjson
from websockets.asyncio.client import connect

from custom_components.ocpp_csms.const import CONF_PORT, DOMAIN, STORAGE_KEY
from custom_components.ocpp_csms.csms import listener
from tools.bench_latency import free_port
from tools.fuzz_frames import FrameFuzzer, FuzzTotals, fuzz_station

FUZZED = "fuzzed"
SECOND = "second"
WARM_UP = 5_000
BOOT = {"reason": "PowerUp", "chargingStation": {"model": "Fuzz", "vendorName": "ACME"}}


def rss_kib() -> int:
    """This process's resident set size."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0  # pragma: no cover - not Linux


class ErrorCount(logging.Handler):
    """Keeps the ERROR records (the integration's and Home Assistant's)."""

    def __init__(self) -> None:
        """None yet."""
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the message."""
        self.records.append(record.getMessage())


@contextlib.asynccontextmanager
async def home_assistant(config_dir: Path) -> Any:
    """A Home Assistant instance in this process with the integration and two trusted stations (no password)."""
    from pytest_homeassistant_custom_component.common import (  # noqa: PLC0415
        MockConfigEntry,
        async_test_home_assistant,
    )

    import custom_components.ocpp_csms  # noqa: F401, PLC0415

    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    records = [
        {"station_id": station, "security_profile": 1, "password_hash": None, "lenient": False}
        for station in (FUZZED, SECOND)
    ]
    (storage / STORAGE_KEY).write_text(
        json.dumps({"version": 1, "minor_version": 1, "key": STORAGE_KEY, "data": {"stations": records}})
    )
    async with async_test_home_assistant(asyncio.get_running_loop(), config_dir=str(config_dir)) as hass:
        from homeassistant import loader  # noqa: PLC0415
        from homeassistant.helpers import frame as frame_helper  # noqa: PLC0415

        frame_helper.async_setup(hass)
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        port = free_port()
        entry = MockConfigEntry(domain=DOMAIN, unique_id=DOMAIN, data={CONF_PORT: port})
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        try:
            yield hass, port
        finally:
            await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop(force=True)


async def call(client: Any, frame: list[Any]) -> list[Any]:
    """Send a CALL and return its answer (skipping the CSMS's own CALLs)."""
    await client.send(orjson.dumps(frame).decode())
    while True:
        answer: list[Any] = orjson.loads(await asyncio.wait_for(client.recv(), 10))
        if answer[0] != 2 and answer[1] == frame[1]:
            return answer


async def second_station_ok(port: int) -> bool:
    """The other station boots and has a TransactionEvent taken."""
    url = f"ws://127.0.0.1:{port}/ocpp/{SECOND}"
    async with connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10) as client:  # type: ignore[list-item]
        boot = await call(client, [2, "b", "BootNotification", BOOT])
        event = {
            "eventType": "Started",
            "timestamp": "2026-12-01T05:00:00Z",
            "triggerReason": "Authorized",
            "seqNo": 0,
            "transactionInfo": {"transactionId": "T1"},
            "evse": {"id": 1, "connectorId": 1},
        }
        started = await call(client, [2, "t", "TransactionEvent", event])
        return boot[0] == 3 and boot[2]["status"] == "Accepted" and started[0] == 3


async def run(frames: int, seed: int) -> dict[str, Any]:
    """One fuzz run; what it measured."""
    listener.MESSAGE_RATE = 1e9  # type: ignore[misc] - lifted for the run, see the module doc
    errors = ErrorCount()
    ours = logging.getLogger("custom_components.ocpp_csms")
    ours.addHandler(errors)
    ours.setLevel(logging.ERROR)  # the fuzz's warnings (invalid frames) are neither printed nor counted
    ours.propagate = False
    logging.getLogger().addHandler(errors)  # Home Assistant's own errors (a store it cannot write) count too
    escaped: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ocpp-fuzz-") as config:
        async with home_assistant(Path(config)) as (hass, port):
            hass.loop.set_exception_handler(lambda _loop, context: escaped.append(context))
            url = f"ws://127.0.0.1:{port}/ocpp/{FUZZED}"
            fuzzer = FrameFuzzer(seed)
            started = time.monotonic()
            async with connect(url, subprotocols=["ocpp2.0.1"], open_timeout=10, max_size=None) as client:  # type: ignore[list-item]
                await call(client, [2, "boot", "BootNotification", BOOT])
                warm = await fuzz_station(client, fuzzer, min(WARM_UP, frames // 10))
                await hass.async_block_till_done()
                gc.collect()
                before = rss_kib()

                def progress(done: int) -> None:
                    print(f"  {warm.frames + done} frames ({time.monotonic() - started:.0f} s)", flush=True)

                totals = await fuzz_station(client, fuzzer, frames - warm.frames, progress)
                await hass.async_block_till_done()
                gc.collect()
                after = rss_kib()
                usable = (await call(client, [2, "after", "Heartbeat", {}]))[0] == 3
            second = await second_station_ok(port)
            elapsed = time.monotonic() - started
    merged = FuzzTotals(frames=warm.frames + totals.frames)
    merged.answers = warm.answers + totals.answers
    merged.csms_calls = warm.csms_calls + totals.csms_calls
    merged.bad_codes = warm.bad_codes + totals.bad_codes
    return {
        "totals": merged,
        "kinds": fuzzer.kinds,
        "errors": errors.records,
        "escaped": escaped,
        "rss_before": before,
        "rss_after": after,
        "usable": usable,
        "second": second,
        "elapsed": elapsed,
    }


def report(result: dict[str, Any], frames: int, seed: int) -> str:
    """Markdown tables."""
    totals: FuzzTotals = result["totals"]
    internal = totals.answers.get("InternalError", 0)
    escaped = internal + len(result["errors"]) + len(result["escaped"])
    lines = [
        f"## Fuzz: {totals.frames} frames (seed {seed}) in {result['elapsed']:.0f} s",
        "",
        "| figure | value |",
        "|---|---|",
        f"| frames sent | {totals.frames} |",
        f"| answers | {sum(totals.answers.values())} |",
        f"| CALLERRORs with a code Part 4 does not name | {totals.bad_codes} |",
        (
            f"| exceptions escaped (InternalError {internal}, errors logged {len(result['errors'])}, "
            f"event loop {len(result['escaped'])}) | {escaped} |"
        ),
        f"| memory after warm-up ({min(WARM_UP, frames // 10)} frames) | {result['rss_before'] / 1024:.1f} MiB |",
        (
            f"| memory at the end | {result['rss_after'] / 1024:.1f} MiB "
            f"({(result['rss_after'] - result['rss_before']) / 1024:+.1f} MiB) |"
        ),
        f"| fuzzed station's session usable after | {'yes' if result['usable'] else 'NO'} |",
        f"| second station served | {'yes' if result['second'] else 'NO'} |",
        "",
        "| answer | count |",
        "|---|---|",
        *(f"| {kind} | {count} |" for kind, count in totals.answers.most_common()),
        "",
        "| frames built as | count |",
        "|---|---|",
        *(f"| {kind} | {count} |" for kind, count in result["kinds"].most_common()),
        "",
        "| the CSMS's own CALLs (answered fuzzed) | count |",
        "|---|---|",
        *(f"| {action} | {count} |" for action, count in totals.csms_calls.most_common()),
    ]
    if result["errors"]:
        lines += ["", "Errors logged:", *(f"- {message}" for message in result["errors"][:20])]
    return "\n".join(lines)


def main() -> int:
    """Run and print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    print(f"Fuzzing the listener with {args.frames} frames (seed {args.seed})", flush=True)
    result = asyncio.run(run(args.frames, args.seed))
    print()
    print(report(result, args.frames, args.seed))
    totals: FuzzTotals = result["totals"]
    ok = (
        totals.bad_codes == 0
        and not totals.answers.get("InternalError")
        and not result["errors"]
        and not result["escaped"]
        and result["usable"]
        and result["second"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
