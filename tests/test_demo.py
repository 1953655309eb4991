"""`scripts/demo` brings up a real Home Assistant with the integration loaded (README's main command)."""

import asyncio
import contextlib
import json
import os
from pathlib import Path
import signal
import socket
import sys
from typing import Any

import aiohttp
import pytest

ROOT = Path(__file__).parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.mark.timeout(240)
async def test_demo_starts_home_assistant_with_the_integration_loaded(tmp_path: Path, socket_enabled: None) -> None:
    config_dir = tmp_path / "demo"
    ha_port, ocpp_port = free_port(), free_port()
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tools" / "demo.py"),
        "--config-dir",
        str(config_dir),
        "--ha-port",
        str(ha_port),
        "--ocpp-port",
        str(ocpp_port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert demo.stdout is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(200):
            while "Press Ctrl-C to stop." not in "".join(output):
                line = await demo.stdout.readline()
                assert line, f"demo exited early:\n{''.join(output)}"
                output.append(line.decode())

        info = json.loads((config_dir / "demo.json").read_text(encoding="utf-8"))
        assert info["ha_url"] == f"http://127.0.0.1:{ha_port}"
        assert info["ocpp_url"] == f"ws://127.0.0.1:{ocpp_port}/<station-id>"
        assert info["username"] == "demo"
        assert info["ha_url"] in "".join(output)
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                f"{info['ha_url']}/api/config/config_entries/entry",
                headers={"Authorization": f"Bearer {info['token']}"},
            ) as resp,
        ):
            assert resp.status == 200
            entries = {entry["domain"]: entry["state"] for entry in await resp.json()}
        assert entries["ocpp_csms"] == "loaded"
        # Only the integrations the demo asks for: onboarding's defaults (weather, radio, ...) stay out.
        assert set(entries) <= {"ocpp_csms", "analytics", "backup"}

        # One simulated station, pre-approved with its own password, connects on its own.
        [station] = info["stations"]
        assert station["id"] == "sim-001"
        assert len(station["password"]) >= 16
        assert await connectivity(info, "binary_sensor.sim_001_connectivity", timeout=30) == "on"
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGINT)
        async with asyncio.timeout(90):
            rest = await demo.communicate()
    assert demo.returncode == 0, "".join(output) + rest[0].decode()
    assert "Stopping the simulated stations" in rest[0].decode()
    assert "Stopping Home Assistant" in rest[0].decode()


async def connectivity(info: dict[str, Any], entity_id: str, timeout: float) -> str | None:
    """The state `GET /api/states` reports for `entity_id` once it is "on" (or the last one seen at the timeout)."""
    state: str | None = None
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {info['token']}"}) as session:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while state != "on":
                    async with session.get(f"{info['ha_url']}/api/states") as resp:
                        assert resp.status == 200
                        states = {item["entity_id"]: item["state"] for item in await resp.json()}
                    state = states.get(entity_id)
                    if state != "on":
                        await asyncio.sleep(0.5)
    return state
