"""`scripts/demo` brings up a real Home Assistant with the integration loaded (README's main command)."""

import asyncio
from collections.abc import Callable
import contextlib
import json
import os
from pathlib import Path
import signal
import sys
from typing import Any

import aiohttp
import pytest

from .conftest import free_port

ROOT = Path(__file__).parent.parent


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

        # The station charges: power and energy show, and the current limit visibly takes effect (within one
        # meter interval, 10 s).
        power = "sensor.sim_001_evse_1_power"
        charging = await wait_state(info, lambda s: _number(s.get(power)) > 1000, timeout=60)
        assert _number(charging.get("sensor.sim_001_evse_1_energy")) >= 0
        limit = "number.sim_001_evse_1_charging_current_limit"
        assert limit in charging
        async with aiohttp.ClientSession() as session:
            resp = await session.post(
                f"{info['ha_url']}/api/services/number/set_value",
                headers={"Authorization": f"Bearer {info['token']}"},
                json={"entity_id": limit, "value": 6},
            )
            assert resp.status == 200, await resp.text()
        limited = await wait_state(info, lambda s: 0 < _number(s.get(power)) <= 6 * 240 * 3, timeout=15)
        assert float(limited[limit]) == 6
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGINT)
        async with asyncio.timeout(90):
            rest = await demo.communicate()
    assert demo.returncode == 0, "".join(output) + rest[0].decode()
    assert "Stopping the simulated stations" in rest[0].decode()
    assert "Stopping Home Assistant" in rest[0].decode()


def _number(value: str | None) -> float:
    try:
        return float(value) if value is not None else -1.0
    except ValueError:
        return -1.0


async def wait_state(
    info: dict[str, Any], condition: Callable[[dict[str, str]], bool], timeout: float
) -> dict[str, str]:
    """Every entity's state, from `GET /api/states`, once `condition` holds of them."""
    states: dict[str, str] = {}
    async with aiohttp.ClientSession() as session, asyncio.timeout(timeout):
        while True:
            async with session.get(
                f"{info['ha_url']}/api/states", headers={"Authorization": f"Bearer {info['token']}"}
            ) as resp:
                states = {item["entity_id"]: item["state"] for item in await resp.json()}
            if condition(states):
                return states
            await asyncio.sleep(0.5)


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
