"""Session benchmark: what one long charging session costs the station's transaction tracker.

Started by `scripts/bench session`. One transaction of `--hours` (10) with a TransactionEvent every
`--interval` seconds (10), in seqNo order, through the tracker Home Assistant keeps per station
(`station/transactions.py`), then the same with a gap of `--gap` (60) events that arrive at the end (an offline
queue replayed late). Measured: the memory the tracker holds at the end (tracemalloc), the session's readings held,
the size of what is stored for the station (its sessions store, written after meter values) and the time to build
it, and the µs per event. The reference is the same tracker without folding settled readings (every reading held,
as before issue 19's change): a 1000-station fleet multiplies the memory column by a thousand.

Prints a markdown table.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import gc
import json
from pathlib import Path
import platform
import sys
import time
import tracemalloc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custom_components.ocpp_csms.protocol.v201 import TransactionEventRequest
from custom_components.ocpp_csms.station.energy import SessionEnergy
from custom_components.ocpp_csms.station.transactions import TransactionTracker

T0 = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
REGISTER_WH = 1_000_000.0


def event(event_type: str, seq_no: int, seconds: float, register: float) -> TransactionEventRequest:
    """A TransactionEvent with an energy register reading and the power, as stations send them."""
    timestamp = (T0 + timedelta(seconds=seconds)).isoformat()
    payload = {
        "eventType": event_type,
        "timestamp": timestamp,
        "triggerReason": {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}[event_type],
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": "TX-LONG", "chargingState": "Charging"},
        "meterValue": [
            {
                "timestamp": timestamp,
                "sampledValue": [
                    {"value": register, "measurand": "Energy.Active.Import.Register"},
                    {"value": 11000.0, "measurand": "Power.Active.Import"},
                ],
            }
        ],
    }
    if event_type == "Started":
        payload["evse"] = {"id": 1, "connectorId": 1}
    return TransactionEventRequest.from_payload(payload)


@dataclass
class Figures:
    """What one run measured."""

    events: int
    held_kib: float
    peak_kib: float
    points: int
    stored_kib: float
    store_ms: float
    us_per_event: float
    energy_kwh: float


@contextmanager
def without_settling() -> Iterator[None]:
    """The reference: every reading of the session held, as before settled readings were folded."""
    settle = SessionEnergy.settle
    SessionEnergy.settle = lambda _self, _through: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        SessionEnergy.settle = settle  # type: ignore[method-assign]


def run(events: list[TransactionEventRequest]) -> Figures:
    """Apply the events to a new tracker."""
    timed = TransactionTracker()
    started = time.perf_counter()
    for request in events:
        timed.apply_event(request)
    elapsed = time.perf_counter() - started
    del timed
    gc.collect()
    tracemalloc.start()  # a second pass for the memory: tracing slows every allocation
    before = tracemalloc.get_traced_memory()[0]
    tracker = TransactionTracker()
    for request in events:
        tracker.apply_event(request)
    gc.collect()
    held, peak = tracemalloc.get_traced_memory()
    held -= before
    tracemalloc.stop()
    started = time.perf_counter()
    stored = json.dumps(tracker.to_dict())
    store_ms = (time.perf_counter() - started) * 1000
    record = tracker.transaction("TX-LONG")
    assert record is not None
    return Figures(
        events=len(events),
        held_kib=held / 1024,
        peak_kib=(peak - before) / 1024,
        points=len(record.energy.to_dict()["points"]),
        stored_kib=len(stored) / 1024,
        store_ms=store_ms,
        us_per_event=elapsed / len(events) * 1e6,
        energy_kwh=record.energy.energy_wh / 1000,
    )


def session(hours: float, interval: float, gap: int) -> tuple[list[TransactionEventRequest], ...]:
    """The session in order, and with `gap` events from its middle arriving at its end."""
    count = int(hours * 3600 / interval)
    power_wh_per_event = 11000.0 * interval / 3600
    events = [
        event("Updated", seq_no, seq_no * interval, REGISTER_WH + seq_no * power_wh_per_event)
        for seq_no in range(count)
    ]
    events[0] = event("Started", 0, 0.0, REGISTER_WH)
    middle = count // 2
    late = events[middle : middle + gap]
    return events, events[:middle] + events[middle + gap :] + late


def main() -> int:
    """Run both arrival orders with and without folding; print the table."""
    parser = argparse.ArgumentParser(prog="scripts/bench session", description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=10.0, help="length of the session (10)")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between TransactionEvents (10)")
    parser.add_argument("--gap", type=int, default=60, help="events from the middle that arrive at the end (60)")
    args = parser.parse_args(sys.argv[1:])
    in_order, with_gap = session(args.hours, args.interval, args.gap)
    rows = []
    for arrival, events in (("in order", in_order), (f"{args.gap} events late", with_gap)):
        with without_settling():
            reference = run(events)
        rows.append((arrival, "every reading held (reference)", reference))
        rows.append((arrival, "settled readings folded", run(events)))
    print("### Session: one long transaction through the station's transaction tracker")
    print()
    print(
        f"Python {platform.python_version()}; {args.hours:g} h with a TransactionEvent every {args.interval:g} s "
        f"({len(in_order)} events)."
    )
    print()
    print(
        "| arrival | tracker | memory held at the end (KiB) | peak (KiB) | readings held | stored (KiB) "
        "| building the store (ms) | µs per event | session energy (kWh) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for arrival, name, figures in rows:
        print(
            f"| {arrival} | {name} | {figures.held_kib:.1f} | {figures.peak_kib:.1f} | {figures.points} "
            f"| {figures.stored_kib:.1f} "
            f"| {figures.store_ms:.2f} | {figures.us_per_event:.1f} | {figures.energy_kwh:.3f} |"
        )
    energies = {round(figures.energy_kwh, 6) for _arrival, _name, figures in rows}
    print()
    print(f"Every run counts the same energy: {'yes' if len(energies) == 1 else 'NO: ' + str(sorted(energies))}")
    return 0 if len(energies) == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
