"""Protocol benchmark: the cost of receiving one TransactionEvent(Updated) with 9 sampled values.

Prints a markdown table, µs per message (median over rounds):

(a) ours: bytes in → frame parsed → payload validated into TransactionEventRequest → trivial handler →
    TransactionEventResponse serialised → CALLRESULT bytes, through RpcSession.receive with a no-op send;
(b) the `ocpp` package's JSON-schema validation of the same (already decoded) payload, nothing else;
(c) the floor: orjson.loads + orjson.dumps of the frame.

Then where our time goes (each step alone). Run with `scripts/bench protocol`.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path
import statistics
import sys
import time
from typing import Any

import orjson
import pydantic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from custom_components.ocpp_csms.protocol.frames import CallFrame, RawJson, dump_call_result, parse_frame
from custom_components.ocpp_csms.protocol.session import RpcSession
from custom_components.ocpp_csms.protocol.v201.messages import (
    TransactionEventRequest,
    TransactionEventResponse,
)

TIMESTAMP = "2025-06-01T12:15:00Z"


def sampled(
    value: float, measurand: str, unit: str, phase: str | None = None, location: str = "Outlet"
) -> dict[str, Any]:
    """One sampledValue as a meter reports it periodically."""
    sample: dict[str, Any] = {
        "value": value,
        "context": "Sample.Periodic",
        "measurand": measurand,
        "location": location,
        "unitOfMeasure": {"unit": unit},
    }
    if phase is not None:
        sample["phase"] = phase
    return sample


PAYLOAD: dict[str, Any] = {
    "eventType": "Updated",
    "timestamp": TIMESTAMP,
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 42,
    "transactionInfo": {"transactionId": "c1f0c5b2-4f7e-4a8e-9d8a-6f0e2b7d1a35", "chargingState": "Charging"},
    "evse": {"id": 1, "connectorId": 1},
    "meterValue": [
        {
            "timestamp": TIMESTAMP,
            "sampledValue": [
                sampled(18342.5, "Energy.Active.Import.Register", "Wh"),
                sampled(11040.0, "Power.Active.Import", "W"),
                sampled(16.02, "Current.Import", "A", "L1"),
                sampled(15.97, "Current.Import", "A", "L2"),
                sampled(16.05, "Current.Import", "A", "L3"),
                sampled(230.4, "Voltage", "V", "L1-N"),
                sampled(231.1, "Voltage", "V", "L2-N"),
                sampled(229.8, "Voltage", "V", "L3-N"),
                sampled(63.0, "SoC", "Percent", location="EV"),
            ],
        }
    ],
}
FRAME = orjson.dumps([2, "6a3a7b9e-2c1d-4e8f-9a0b-1c2d3e4f5a6b", "TransactionEvent", PAYLOAD])


def interleaved_medians(runs: dict[str, tuple[Callable[[int], float], int]], rounds: int) -> dict[str, float]:
    """µs per message of each run, median over rounds; the runs take turns so that they share the machine's load.

    `runs` maps a name to `(run, n)`: `run(n)` handles n messages and returns the elapsed ns.
    """
    for run, n in runs.values():
        run(max(n // 5, 1))  # warm-up: caches, validators, allocator
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, (run, n) in runs.items():
            samples[name].append(run(n) / n / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


def timed(body: Callable[[], object]) -> Callable[[int], float]:
    """A `run` for median_us that calls `body` n times."""

    def run(n: int) -> float:
        start = time.perf_counter_ns()
        for _ in range(n):
            body()
        return time.perf_counter_ns() - start

    return run


class Ours:
    """(a) RpcSession.receive of the frame: a handler answering an empty response, a no-op send."""

    def __init__(self) -> None:
        """A session on its own event loop, with the TransactionEvent handler."""
        self.loop = asyncio.new_event_loop()
        self.answers = 0
        self.last = b""

        async def send(message: bytes) -> None:
            self.answers += 1
            self.last = message

        async def handler(request: TransactionEventRequest) -> TransactionEventResponse:
            return TransactionEventResponse()

        self.session = RpcSession(send, station_id="bench")
        self.session.on(TransactionEventRequest, handler)

    def run(self, n: int) -> float:
        """Receive the frame n times inside one coroutine (the path never suspends)."""

        async def batch() -> float:
            receive = self.session.receive
            start = time.perf_counter_ns()
            for _ in range(n):
                await receive(FRAME)
            return time.perf_counter_ns() - start

        before = self.answers
        elapsed = self.loop.run_until_complete(batch())
        if self.answers - before != n or not self.last.startswith(b"[3,"):
            raise RuntimeError(f"the session did not answer every message: {self.last!r}")
        return elapsed

    def close(self) -> None:
        """Close the session and its loop."""
        self.loop.run_until_complete(self.session.close())
        self.loop.close()


def bench_ocpp_package() -> Callable[[], object]:
    """(b) ocpp.messages._validate_payload on a Call, validator cached by the package."""
    from ocpp.messages import Call, _validate_payload  # noqa: PLC0415 - only the benchmark needs the package

    call = Call("6a3a7b9e-2c1d-4e8f-9a0b-1c2d3e4f5a6b", "TransactionEvent", orjson.loads(orjson.dumps(PAYLOAD)))
    return lambda: _validate_payload(call, "2.0.1")


def bench_floor() -> Callable[[], object]:
    """(c) orjson.loads + orjson.dumps of the whole frame."""
    loads, dumps = orjson.loads, orjson.dumps
    return lambda: dumps(loads(FRAME))


def breakdown() -> list[tuple[str, Callable[[], object]]]:
    """Each step of our path alone."""
    frame = parse_frame(FRAME)
    if not isinstance(frame, CallFrame):
        raise TypeError(frame)
    payload = frame.payload
    response = TransactionEventResponse()
    return [
        ("frame header read, payload sliced (`parse_frame`)", lambda: parse_frame(FRAME)),
        ("payload validated (`TransactionEventRequest.model_validate_json`)", lambda: validate(payload)),
        ("response serialised (`to_json`) and framed", lambda: dump_call_result(frame.message_id, response.to_json())),
    ]


def validate(payload: RawJson) -> TransactionEventRequest:
    """The validation step of our path."""
    return TransactionEventRequest.model_validate_json(payload)


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the messages per round (default 1)")
    parser.add_argument("--rounds", type=int, default=15, help="rounds; the median is reported (default 15)")
    args = parser.parse_args()

    def n(count: int) -> int:
        return max(int(count * args.scale), 1)

    ours = Ours()
    try:
        # Each round of each path takes some 50 ms.
        us = interleaved_medians(
            {
                "ours": (ours.run, n(2000)),
                "ocpp": (timed(bench_ocpp_package()), n(60)),
                "floor": (timed(bench_floor()), n(10000)),
            },
            args.rounds,
        )
        steps = interleaved_medians({name: (timed(body), n(3000)) for name, body in breakdown()}, args.rounds)
    finally:
        ours.close()

    print(
        f"TransactionEvent(Updated) with 9 sampled values, a {len(FRAME)}-byte frame; median of {args.rounds} rounds."
    )
    print(f"Python {sys.version.split()[0]}, pydantic {pydantic.VERSION}, orjson {orjson.__version__}.")
    print()
    a, b, c = us["ours"], us["ocpp"], us["floor"]
    print("| path | µs/message | ratio |")
    print("|---|---:|---:|")
    print(f"| (a) ours: bytes → frame → model → handler → CALLRESULT bytes | {a:.2f} | |")
    print(f"| (b) `ocpp`: `_validate_payload` alone | {b:.2f} | (b)/(a) = {b / a:.1f}x |")
    print(f"| (c) floor: `orjson.loads` + `orjson.dumps` | {c:.2f} | (a)/(c) = {a / c:.1f}x |")
    print()
    print("Targets: (b)/(a) >= 20x, (a)/(c) <= 5x.")
    print()
    print("| step of (a), alone | µs |")
    print("|---|---:|")
    for name, value in steps.items():
        print(f"| {name} | {value:.2f} |")


if __name__ == "__main__":
    main()
