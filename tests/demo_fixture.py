"""The running demo (`tools/demo.py`, what `scripts/demo` runs), shared by the demo's tests.

A pytest plugin (`pytest_plugins = ("tests.demo_fixture",)` in those test modules): its session-scoped fixture
starts the demo once per test process, on free ports, with a short meter interval, and stops it at the end,
checking that it stops cleanly. The tests that use it carry `pytest.mark.xdist_group("demo")`, and `scripts/test`
runs pytest-xdist with `--dist loadgroup`, so they all run in one worker and share one demo.

The fixture itself is synchronous and opens no socket (the test plugin blocks sockets outside `socket_enabled`):
it reads what the demo prints from a file and its details from demo.json. The tests talk to Home Assistant
with `running_demo.client()` (REST and websocket, on 127.0.0.1). Test modules import nothing from here at run
time (only types): pytest imports this module as a plugin, with its asserts rewritten.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import time
from typing import Any

import aiohttp
import pytest

ROOT = Path(__file__).parent.parent
#: Seconds between the simulated station's meter values in the tests (the demo's default is 10).
METER_INTERVAL = 2
#: How long the demo may take to say it is up (Home Assistant started, station and house wired).
UP_TIMEOUT = 240.0


@dataclass
class RunningDemo:
    """A demo that said it is up: where it lives and what it printed and wrote."""

    process: subprocess.Popen[bytes]
    config_dir: Path
    output_file: Path
    info: dict[str, Any]
    up_at: float
    meter_interval: float = METER_INTERVAL

    @property
    def url(self) -> str:
        """Home Assistant's address."""
        return str(self.info["ha_url"])

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[DemoClient]:
        """A DemoClient for the duration of the block."""
        headers = {"Authorization": f"Bearer {self.info['token']}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            yield DemoClient(self, session)

    def output(self) -> str:
        """Everything the demo printed so far."""
        return self.output_file.read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        """Home Assistant's log so far."""
        return (self.config_dir / "home-assistant.log").read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def running_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """`tools/demo.py` on free ports with one simulated station, up; stopped (Ctrl-C) after the session."""
    base = tmp_path_factory.mktemp("demo")
    config_dir = base / "config"
    output_file = base / "demo-output.txt"
    with output_file.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [
                sys.executable,
                str(ROOT / "tools" / "demo.py"),
                "--config-dir",
                str(config_dir),
                "--ha-port",
                "0",
                "--ocpp-port",
                "0",
                "--meter-interval",
                str(METER_INTERVAL),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    demo = RunningDemo(process, config_dir, output_file, {}, 0.0)
    try:
        deadline = time.monotonic() + UP_TIMEOUT
        while "Press Ctrl-C to stop." not in demo.output():
            assert process.poll() is None, f"the demo exited early ({process.returncode}):\n{demo.output()}"
            assert time.monotonic() < deadline, f"the demo did not come up in {UP_TIMEOUT:.0f} s:\n{demo.output()}"
            time.sleep(0.2)
        demo.up_at = time.monotonic()
        demo.info = json.loads((config_dir / "demo.json").read_text(encoding="utf-8"))
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(90)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    output = demo.output()
    assert process.returncode == 0, output
    assert "Stopping the simulated stations" in output
    assert "Stopping Home Assistant" in output


class DemoClient:
    """Home Assistant's REST and websocket APIs with the demo's long-lived token."""

    def __init__(self, demo: RunningDemo, session: aiohttp.ClientSession) -> None:
        """Use this session (its headers carry the token)."""
        self.demo = demo
        self.session = session

    async def get(self, path: str) -> tuple[int, Any]:
        """GET an API path: the status and the JSON body (None when it is not JSON)."""
        async with self.session.get(f"{self.demo.url}{path}") as resp:
            try:
                body = await resp.json()
            except aiohttp.ContentTypeError, ValueError:
                body = None
            return resp.status, body

    async def states(self) -> dict[str, dict[str, Any]]:
        """Every entity's state object, by entity id."""
        status, states = await self.get("/api/states")
        assert status == 200, states
        return {state["entity_id"]: state for state in states}

    async def command(self, message: dict[str, Any]) -> Any:
        """One websocket command's result (a connection of its own)."""
        async with self.websocket() as command:
            return await command(message)

    @contextlib.asynccontextmanager
    async def websocket(self) -> AsyncIterator[Callable[[dict[str, Any]], Any]]:
        """An authenticated websocket; yields `command(message) -> result`, asserting success."""
        async with self.session.ws_connect(f"{self.demo.url}/api/websocket") as ws:
            assert (await ws.receive_json())["type"] == "auth_required"
            await ws.send_json({"type": "auth", "access_token": self.demo.info["token"]})
            assert (await ws.receive_json())["type"] == "auth_ok"
            ids = iter(range(1, 1_000_000))

            async def command(message: dict[str, Any]) -> Any:
                message_id = next(ids)
                await ws.send_json({"id": message_id, **message})
                while (reply := await ws.receive_json()).get("id") != message_id:
                    pass
                assert reply["success"], reply
                return reply["result"]

            yield command

    async def registry(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The entity registry's entries by (platform, unique id)."""
        entries = await self.command({"type": "config/entity_registry/list"})
        return {(entry["platform"], entry["unique_id"]): entry for entry in entries}
