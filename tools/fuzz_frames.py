"""A bounded mutation fuzzer of OCPP-J frames, for the tests (a few hundred frames) and `scripts/bench fuzz`.

Frames are built from the 128 official JSON schemas (shipped with the `ocpp` package): a random valid payload of
an action's request, then mutated (a required field dropped, a wrong type, an over-long string, a value outside
its enumeration, a null, an unknown field, a huge or fractional number, a broken date-time, an empty or long
array), or the frame itself broken (message type, message id, arity, truncated or non-JSON text, deep nesting,
a binary frame, unsolicited CALLRESULTs and CALLERRORs, unknown actions). A seed corpus of frames as real stations
send them (BootNotification, StatusNotification, TransactionEvent with meter values, Heartbeat, MeterValues,
NotifyEvent) is mutated the same way. Every choice comes from one seeded `random.Random`: a run is reproducible.

`fuzz_station` plays the station on a websocket: after each fuzzed frame it sends a Heartbeat CALL (the sentinel)
and reads up to its answer, so the answers in between belong to the fuzzed frame without any timing. The CSMS's
own CALLs to the station are answered with fuzzed responses of the matching response schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
import copy
from dataclasses import dataclass, field
import importlib.util
import json
from pathlib import Path
import random
import string
from typing import Any, Final

import orjson
from websockets.asyncio.client import ClientConnection

#: The error codes Part 4 §4.3 names: every CALLERROR the CSMS sends must carry one.
PART4_CODES: Final = frozenset(
    {
        "FormatViolation",
        "GenericError",
        "InternalError",
        "MessageTypeNotSupported",
        "NotImplemented",
        "NotSupported",
        "OccurrenceConstraintViolation",
        "PropertyConstraintViolation",
        "ProtocolError",
        "RpcFrameworkError",
        "SecurityError",
        "TypeConstraintViolation",
    }
)
#: The actions a station sends (the CSMS serves them); the others are fuzzed too, less often (NotSupported).
STATION_ACTIONS: Final = (
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
)
MAX_ARRAY: Final = 4
MAX_FRAME: Final = 256 * 1024
MAX_DEPTH: Final = 8
NOW: Final = "2026-12-01T05:00:00Z"

#: Frames as real stations send them (identities and values made up).
SEED_CORPUS: Final[tuple[list[Any], ...]] = (
    [
        2,
        "19223201",
        "BootNotification",
        {
            "reason": "PowerUp",
            "chargingStation": {
                "model": "SingleSocketCharger",
                "vendorName": "VendorX",
                "serialNumber": "SN-1",
                "firmwareVersion": "1.2.3",
                "modem": {"iccid": "8931", "imsi": "2040"},
            },
        },
    ],
    [2, "hb-1", "Heartbeat", {}],
    [
        2,
        "sn-1",
        "StatusNotification",
        {"timestamp": NOW, "connectorStatus": "Occupied", "evseId": 1, "connectorId": 1},
    ],
    [
        2,
        "te-1",
        "TransactionEvent",
        {
            "eventType": "Updated",
            "timestamp": NOW,
            "triggerReason": "MeterValuePeriodic",
            "seqNo": 3,
            "transactionInfo": {"transactionId": "TX-1", "chargingState": "Charging"},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [
                {
                    "timestamp": NOW,
                    "sampledValue": [
                        {
                            "value": 12.345,
                            "measurand": "Energy.Active.Import.Register",
                            "unitOfMeasure": {"unit": "kWh"},
                        },
                        {"value": 7360, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                        {"value": 16.0, "measurand": "Current.Import", "phase": "L1"},
                    ],
                }
            ],
        },
    ],
    [
        2,
        "mv-1",
        "MeterValues",
        {"evseId": 0, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": 50000.0, "location": "Inlet"}]}]},
    ],
    [
        2,
        "ne-1",
        "NotifyEvent",
        {
            "generatedAt": NOW,
            "seqNo": 0,
            "eventData": [
                {
                    "eventId": 1,
                    "timestamp": NOW,
                    "trigger": "Delta",
                    "actualValue": "Charging",
                    "eventNotificationType": "HardWiredNotification",
                    "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                    "variable": {"name": "AvailabilityState"},
                }
            ],
        },
    ],
)


def _dumps(value: Any) -> str:
    """Compact JSON; integers beyond 64 bits too (orjson refuses them)."""
    return json.dumps(value, separators=(",", ":"))


def schema_dir() -> Path:
    """The official OCPP 2.0.1 schemas of the `ocpp` package."""
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the ocpp package (which ships the official schemas) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "v201" / "schemas"


def load_schemas() -> dict[str, dict[str, Any]]:
    """The 128 schemas by name ("BootNotificationRequest", ...)."""
    return {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(schema_dir().glob("*.json"))}


class PayloadGenerator:
    """Random valid payloads of a schema (bounded arrays and depth)."""

    def __init__(self, rng: random.Random) -> None:
        """Draw from `rng`."""
        self.rng = rng

    def payload(self, schema: dict[str, Any]) -> Any:
        """A valid instance of `schema`."""
        return self._node(schema, schema, 0)

    def _node(self, root: dict[str, Any], node: dict[str, Any], depth: int) -> Any:
        while "$ref" in node:
            node = root["definitions"][node["$ref"].removeprefix("#/definitions/")]
        rng = self.rng
        if "enum" in node:
            return rng.choice(node["enum"])
        kind = node.get("type", "object")
        if kind == "object":
            properties: dict[str, Any] = node.get("properties", {})
            required = set(node.get("required", ()))
            value = {}
            for name, child in properties.items():
                if name in required or (depth < MAX_DEPTH and rng.random() < 0.4):
                    value[name] = self._node(root, child, depth + 1)
            return value
        if kind == "array":
            low = node.get("minItems", 0)
            high = max(low, min(node.get("maxItems", MAX_ARRAY), MAX_ARRAY if depth < MAX_DEPTH else low))
            return [self._node(root, node["items"], depth + 1) for _ in range(rng.randint(low, high))]
        if kind == "string":
            if node.get("format") == "date-time":
                return NOW
            length = rng.randint(0, min(node.get("maxLength", 20), 20))
            return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))
        if kind == "integer":
            return rng.randint(int(node.get("minimum", 0)), 10)
        if kind == "number":
            return round(rng.uniform(node.get("minimum", 0), 1000), 3)
        if kind == "boolean":
            return rng.random() < 0.5
        return None


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (objects' keys and arrays' indexes), the root excluded."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(child, (*prefix, index)))
    return found


def _set(value: Any, path: tuple[Any, ...], new: Any) -> None:
    for step in path[:-1]:
        value = value[step]
    value[path[-1]] = new


def _delete(value: Any, path: tuple[Any, ...]) -> None:
    for step in path[:-1]:
        value = value[step]
    del value[path[-1]]


_WRONG: Final[tuple[Any, ...]] = (
    None,
    True,
    -1,
    0,
    2**63,
    -(2**70),
    1.5,
    1e308,
    "",
    "x" * 1000,
    "\u0000\ud7ff\ufffd",
    [],
    {},
    [[]],
    {"a": None},
    "2026-13-45T99:99:99Z",
    "NaN",
)


class FrameFuzzer:
    """Fuzzed frames (str or bytes) from the schemas and the seed corpus."""

    def __init__(self, seed: int, schemas: dict[str, dict[str, Any]] | None = None) -> None:
        """Reproducible from `seed`."""
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fuzzing, no secret
        self.schemas = schemas if schemas is not None else load_schemas()
        self.requests = sorted(name.removesuffix("Request") for name in self.schemas if name.endswith("Request"))
        self.generator = PayloadGenerator(self.rng)
        self._counter = 0
        #: How many frames each way of building them made.
        self.kinds: Counter[str] = Counter()

    def _id(self) -> str:
        self._counter += 1
        return f"f{self._counter}"

    def response(self, message_id: Any, action: str) -> str:
        """A CALLRESULT with a (possibly mutated) payload of the action's response schema (at most MAX_FRAME)."""
        schema = self.schemas.get(f"{action}Response")
        while True:
            payload = self.generator.payload(schema) if schema is not None else {}
            if self.rng.random() < 0.5:
                payload = self._mutate_payload(payload)
            if len(frame := _dumps([3, message_id, payload])) <= MAX_FRAME:
                return frame

    def frame(self) -> str | bytes:
        """The next fuzzed frame (at most MAX_FRAME characters: the size limit has its own test)."""
        while len(frame := self._frame()) > MAX_FRAME:
            pass
        return frame

    def _frame(self) -> str | bytes:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            kind, frame = self._broken_frame()
            self.kinds[kind] += 1
            return frame
        if roll < 0.35:
            call = copy.deepcopy(rng.choice(SEED_CORPUS))
            call[1] = self._id()
            kind = "corpus"
        else:
            action = rng.choice(STATION_ACTIONS if rng.random() < 0.75 else self.requests)
            call = [2, self._id(), action, self.generator.payload(self.schemas[f"{action}Request"])]
            kind = "schema"
        if rng.random() < 0.8:
            call[3] = self._mutate_payload(call[3])
            kind += "+mutated"
        self.kinds[kind] += 1
        return _dumps(call)

    def _mutate_payload(self, payload: Any) -> Any:
        rng = self.rng
        for _ in range(rng.randint(1, 3)):
            paths = _paths(payload)
            if not paths or rng.random() < 0.05:
                return self._wrong() if rng.random() < 0.5 else payload
            path = rng.choice(paths)
            choice = rng.random()
            if choice < 0.3:
                _delete(payload, path)
            elif choice < 0.7:
                _set(payload, path, self._wrong())
            elif choice < 0.85 and isinstance(payload, dict):
                payload["unknown" + str(rng.randint(0, 9))] = self._wrong()
            else:
                _set(payload, path, [self._wrong() for _ in range(rng.randint(0, 50))])
        return payload

    def _wrong(self) -> Any:
        """A fresh wrong value (a copy: the table's lists and objects must never be mutated)."""
        return copy.deepcopy(self.rng.choice(_WRONG))

    def _broken_frame(self) -> tuple[str, str | bytes]:
        rng = self.rng
        good = _dumps([2, self._id(), "Heartbeat", {}])
        match rng.randrange(12):
            case 0:
                return "not json", rng.choice(["", "[", "{}", "hello", "[2,", "null", "1e999", "[NaN]", '"\\ud800"'])
            case 1:
                return "truncated", good[: rng.randrange(len(good))]
            case 2:
                return "message type", json.dumps(
                    [rng.choice([0, 1, 5, 9, -1, "2", 2.5, None]), self._id(), "Heartbeat", {}]
                )
            case 3:
                return "message id", json.dumps(
                    [2, rng.choice(["", "x" * 37, 7, None, [], "\u00e9" * 5]), "Heartbeat", {}]
                )
            case 4:
                return "arity", json.dumps(
                    rng.choice(
                        [[2], [2, self._id()], [2, self._id(), "Heartbeat"], [2, self._id(), "Heartbeat", {}, 1]]
                    )
                )
            case 5:
                return "payload type", _dumps([2, self._id(), "Heartbeat", rng.choice([[], "x", 1, None, True])])
            case 6:
                depth = rng.choice([100, 1000, 5000])
                return "deep nesting", f'[2,"{self._id()}","Heartbeat",{{"a":{"[" * depth}{"]" * depth}}}]'
            case 7:
                return "binary", rng.randbytes(rng.randint(0, 64))
            case 8:
                return "unsolicited result", _dumps([3, self._id(), {"status": "Accepted"}])
            case 9:
                return "unsolicited error", _dumps([4, self._id(), "GenericError", "x", {}])
            case 10:
                return "unknown action", json.dumps(
                    [2, self._id(), rng.choice(["Foo", "heartbeat", "A" * 65, "Boot Notification"]), {}]
                )
            case _:
                text = "".join(chr(rng.randint(1, 0x2FF)) for _ in range(rng.randint(1, 40)))
                return "random text", text


@dataclass
class FuzzTotals:
    """What a fuzz run saw."""

    frames: int = 0
    #: Answers by kind: "CALLRESULT", or the CALLERROR code.
    answers: Counter[str] = field(default_factory=Counter)
    #: CALLERRORs whose code Part 4 does not name, and CALLs answered more than once.
    bad_codes: int = 0
    extra_answers: int = 0
    #: The CSMS's own CALLs to the fuzzed station (answered with fuzzed responses).
    csms_calls: Counter[str] = field(default_factory=Counter)


async def fuzz_station(
    client: ClientConnection,
    fuzzer: FrameFuzzer,
    count: int,
    progress: Callable[[int], None] | None = None,
) -> FuzzTotals:
    """Send `count` fuzzed frames over an open station connection, each followed by the sentinel Heartbeat."""
    totals = FuzzTotals()
    for number in range(count):
        frame = fuzzer.frame()
        await client.send(frame)
        sentinel = f"s{number}"
        await client.send(f'[2,"{sentinel}","Heartbeat",{{}}]')
        answers = 0
        while True:
            message = await client.recv()
            try:
                received = orjson.loads(message)
            except orjson.JSONDecodeError:
                totals.answers["unreadable answer"] += 1
                continue
            if received[0] == 2:  # the CSMS's own CALL: a fuzzed answer
                action = str(received[2])
                totals.csms_calls[action] += 1
                await client.send(fuzzer.response(received[1], action))
                continue
            if received[1] == sentinel:
                break
            answers += 1
            if received[0] == 3:
                totals.answers["CALLRESULT"] += 1
            else:
                totals.answers[str(received[2])] += 1
                if received[2] not in PART4_CODES:
                    totals.bad_codes += 1
        totals.extra_answers += max(0, answers - 1)
        totals.frames += 1
        if progress is not None and not (number + 1) % 10_000:
            progress(number + 1)
    return totals
