"""Third-party station peers (tools/interop/peer.mjs on Node) and what crosses the wire, for the interop tests.

`NodePeer` runs one peer as a subprocess and collects the JSON lines it prints (its events: the calls it served and
made, the power it draws, its library's schema validation failures). `FrameRecorder` records every OCPP message
the integration sent and received (the `ocpp_csms.frames` logger) and checks each against the official OCPP 2.0.1
JSON schemas that the `ocpp` package ships: a third validator, neither ours nor the peer's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from importlib.resources import files
import json
import logging
from pathlib import Path
import shutil
import signal
import subprocess
from typing import Any

from jsonschema.validators import validator_for  # type: ignore[import-untyped]

from custom_components.ocpp_csms.protocol.frame_log import FRAMES_LOGGER, SENT

ROOT = Path(__file__).parents[2]
INTEROP = ROOT / "tools" / "interop"
PEER = INTEROP / "peer.mjs"
LIBRARIES = ("ocpp-ws-io", "ocpp-rpc")
STOP_TIMEOUT = 5.0

type Event = dict[str, Any]


MIN_NODE = 18


def node_version() -> str | None:
    """The version of the `node` on PATH (None: there is none)."""
    node = shutil.which("node")
    if node is None:
        return None
    result = subprocess.run([node, "--version"], capture_output=True, text=True, check=False, timeout=30)  # noqa: S603
    return result.stdout.strip() or None


def unavailable_reason() -> str | None:
    """Why the third-party peers cannot run here (None: they can)."""
    version = node_version()
    if version is None:
        return (
            "interop peers skipped: Node.js is not installed (scripts/setup --interop installs Debian's nodejs "
            "when run as root; or install Node >= 18 and run scripts/interop)"
        )
    if int(version.lstrip("v").split(".")[0]) < MIN_NODE:
        return f"interop peers skipped: Node.js {version} is older than {MIN_NODE}"
    missing = [name for name in LIBRARIES if not (INTEROP / "node_modules" / name / "package.json").is_file()]
    if missing:
        return (
            f"interop peers skipped: {', '.join(missing)} not installed in tools/interop/node_modules "
            "(run scripts/setup --interop, which runs npm ci there)"
        )
    return None


def installed() -> str:
    """The peers' libraries and versions, and Node's."""
    versions = [
        f"{name} {json.loads((INTEROP / 'node_modules' / name / 'package.json').read_text())['version']}"
        for name in LIBRARIES
    ]
    return f"{', '.join(versions)} on Node.js {node_version()}"


@dataclass
class NodePeer:
    """A running peer: its events so far, and ways to wait for more."""

    library: str
    process: asyncio.subprocess.Process
    events: list[Event] = field(default_factory=list)
    output: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    async def read(self) -> None:
        """Collect stdout (stderr goes there too) until the process ends."""
        assert self.process.stdout is not None
        async for raw in self.process.stdout:
            line = raw.decode(errors="replace").rstrip()
            self.output.append(line)
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "output", "line": line}
            self.events.append(event)
            self.changed.set()

    def before_stop(self) -> list[Event]:
        """The events before the peer was told to stop (its calls cut off by the shutdown are no failure)."""
        stopping = next((i for i, e in enumerate(self.events) if e["event"] == "stopping"), len(self.events))
        return self.events[:stopping]

    def of(self, kind: str, **fields: Any) -> list[Event]:
        """The events of a kind whose fields have these values."""
        return [e for e in self.events if e["event"] == kind and all(e.get(k) == v for k, v in fields.items())]

    async def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        """Wait until `condition()` is truthy (checked whenever an event arrives, and every 50 ms); its value."""
        try:
            async with asyncio.timeout(timeout):
                while not (value := condition()):
                    if self.process.returncode is not None and self.reader is not None and self.reader.done():
                        raise AssertionError(f"{self.library} peer exited ({self.process.returncode}) before: {what}")
                    self.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(0.05):
                            await self.changed.wait()
                return value
        except TimeoutError:
            raise AssertionError(f"{self.library} peer: not within {timeout} s: {what}\n{self.transcript()}") from None

    def transcript(self, last: int = 40) -> str:
        """The peer's last lines of output."""
        return "\n".join(self.output[-last:])

    async def stop(self) -> None:
        """SIGTERM, then wait (kill after STOP_TIMEOUT); the reader ends with the process."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_TIMEOUT):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            await self.reader


@contextlib.asynccontextmanager
async def node_peer(
    library: str, url: str, station_id: str, *, password: str | None, personality: str, meter_interval: float
) -> Any:
    """A running NodePeer (stopped on exit)."""
    node = shutil.which("node")
    assert node is not None
    arguments = ["--library", library, "--url", url, "--id", station_id, "--personality", personality]
    arguments += ["--meter-interval", str(meter_interval)]
    if password is not None:
        arguments += ["--password", password]
    process = await asyncio.create_subprocess_exec(
        node,
        str(PEER),
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=INTEROP,
    )
    peer = NodePeer(library, process)
    peer.reader = asyncio.create_task(peer.read())
    try:
        yield peer
    finally:
        await peer.stop()


# ---- what crossed the wire, checked against the official schemas ---------------------------------------------

#: The official OCPP 2.0.1 JSON schemas, as the `ocpp` package (the tests' oracle) ships them.
SCHEMAS = files("ocpp") / "v201" / "schemas"


@dataclass(frozen=True)
class Frame:
    """One OCPP-J message as the integration logged it: `sent` by us or received from the station."""

    station_id: str
    sent: bool
    message: list[Any]


class FrameRecorder(logging.Handler):
    """Records the `ocpp_csms.frames` lines (turned on for the duration of `recording()`)."""

    def __init__(self) -> None:
        """No frame yet."""
        super().__init__(logging.DEBUG)
        self.frames: list[Frame] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the frame of a `STATION > [...]` / `STATION < [...]` line."""
        if record.name != FRAMES_LOGGER or not isinstance(record.args, tuple) or len(record.args) != 3:
            return  # a child logger's line (the websocket handshake), not a frame
        station_id, direction, text = record.args
        self.frames.append(Frame(str(station_id), direction == SENT, json.loads(str(text))))

    def of(self, station_id: str) -> list[Frame]:
        """The frames of one station."""
        return [frame for frame in self.frames if frame.station_id == station_id]

    def errors(self, station_id: str, *, sent: bool) -> list[list[Any]]:
        """The CALLERRORs we sent (or received)."""
        return [frame.message for frame in self.of(station_id) if frame.sent is sent and frame.message[0] == 4]

    def actions(self, station_id: str, *, sent: bool) -> list[str]:
        """The actions of the CALLs we sent (or received), in order."""
        return [frame.message[2] for frame in self.of(station_id) if frame.sent is sent and frame.message[0] == 2]

    def write(self, path: Path, station_id: str, peer: NodePeer | None = None) -> None:
        """The station's frames, one a line (`>` sent by us, `<` received), then what the peer printed."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [f"{'>' if frame.sent else '<'} {json.dumps(frame.message)}" for frame in self.of(station_id)]
        if peer is not None:
            lines += ["", f"---- what the {peer.library} peer printed", *peer.output]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def calls_before_boot_answers(self, station_id: str) -> list[list[Any]]:
        """Our CALLs sent while a BootNotification of the station was still unanswered."""
        waiting: set[str] = set()
        early = []
        for frame in self.of(station_id):
            kind, message_id = frame.message[0], frame.message[1]
            if not frame.sent and kind == 2 and frame.message[2] == "BootNotification":
                waiting.add(message_id)
            elif frame.sent and kind in {3, 4}:
                waiting.discard(message_id)
            elif frame.sent and kind == 2 and waiting:
                early.append(frame.message)
        return early

    def schema_violations(self, station_id: str) -> list[str]:
        """Every CALL and CALLRESULT of the station's frames checked against the OCPP 2.0.1 JSON schemas."""
        pending: dict[tuple[bool, str], str] = {}  # (sent by us, message id) -> action
        violations = []
        for frame in self.of(station_id):
            kind, message_id = frame.message[0], frame.message[1]
            if kind == 2:
                action, payload, suffix = frame.message[2], frame.message[3], "Request"
                pending[frame.sent, message_id] = action
            elif kind == 3:
                found = pending.pop((not frame.sent, message_id), None)
                if found is None:
                    violations.append(f"{frame.message}: answers no CALL")
                    continue
                action, payload, suffix = found, frame.message[2], "Response"
            else:
                pending.pop((not frame.sent, message_id), None)
                continue
            schema = json.loads((SCHEMAS / f"{action}{suffix}.json").read_text())
            validator = validator_for(schema)(schema, format_checker=validator_for(schema).FORMAT_CHECKER)
            direction = "sent" if frame.sent else "received"
            violations += [f"{direction} {action}{suffix}: {error.message}" for error in validator.iter_errors(payload)]
        return violations


@contextlib.contextmanager
def recording() -> Iterator[FrameRecorder]:
    """Record every frame while the block runs."""
    logger = logging.getLogger(FRAMES_LOGGER)
    recorder = FrameRecorder()
    level = logger.level
    logger.addHandler(recorder)
    logger.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        logger.removeHandler(recorder)
        logger.setLevel(level)
