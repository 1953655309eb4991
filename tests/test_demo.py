"""`scripts/demo` brings up a real Home Assistant with the integration, a simulated station and a simulated house.

The demo runs once for these tests and the browser test (tests/demo_fixture.py); entities are found in the entity
registry by their unique ids, never by entity ids derived from names.
"""

import asyncio
from collections.abc import Callable
import json
from pathlib import Path
import re
import time
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .demo_fixture import DemoClient, RunningDemo

pytest_plugins = ("tests.demo_fixture",)
pytestmark = pytest.mark.xdist_group("demo")

ROOT = Path(__file__).parent.parent
DOMAIN = "ocpp_csms"
BLUEPRINTS = ("cheapest_hours_charging.yaml", "main_fuse_protection.yaml", "solar_surplus_charging.yaml")
HOUSE = {
    "solar": "ocpp_csms_demo_solar_power",
    "house": "ocpp_csms_demo_house_power",
    "grid": "ocpp_csms_demo_grid_power",
    **{f"grid_{phase}": f"ocpp_csms_demo_grid_current_{phase}" for phase in ("l1", "l2", "l3")},
}
AUTOMATION_ID = "ocpp_csms_demo_solar_surplus"


def number(state: dict[str, Any] | None) -> float | None:
    """A state as a number (None when it is not one)."""
    try:
        return float(state["state"]) if state is not None else None
    except ValueError:
        return None


async def wait_for_states(
    client: DemoClient, condition: Callable[[dict[str, dict[str, Any]]], bool], timeout: float
) -> dict[str, dict[str, Any]]:
    """Every entity's state once `condition` holds of them (polled every half second)."""
    states: dict[str, dict[str, Any]] = {}
    try:
        async with asyncio.timeout(timeout):
            while not condition(states := await client.states()):
                await asyncio.sleep(0.5)
    except TimeoutError:
        pytest.fail(f"not within {timeout} s; last states: {json.dumps(states)[:4000]}")
    return states


@pytest.mark.timeout(300)
async def test_demo_is_up_once_home_assistant_has_started(running_demo: RunningDemo, socket_enabled: None) -> None:
    """When the demo says "up", Home Assistant is RUNNING, its services answer and its configuration is valid."""
    async with running_demo.client() as client:
        status, config = await client.get("/api/config")
        seconds_after_up = time.monotonic() - running_demo.up_at
        assert status == 200
        assert config["state"] == "RUNNING", f"{seconds_after_up:.1f} s after the demo said up"
        status, _ = await client.get("/api/")
        assert status == 200
        # The frontend's first call: it answered 500 while the voice assistant's packages were missing.
        status, services = await client.get("/api/services")
        assert status == 200
        assert {"ocpp_csms", "automation", "template"} <= {service["domain"] for service in services}
        notifications = await client.command({"type": "persistent_notification/get"})
        assert [n for n in notifications if n["notification_id"] == "invalid_config"] == []
        assert [n for n in notifications if "invalid config" in str(n.get("title", "")).lower()] == []
        status, entries = await client.get("/api/config/config_entries/entry")
        assert status == 200
        states = {entry["domain"]: entry["state"] for entry in entries}
        assert states["ocpp_csms"] == "loaded"
        # Only the integrations the demo asks for: onboarding's defaults (weather, radio, ...) stay out.
        assert set(states) <= {"ocpp_csms", "analytics", "backup"}

    log = running_demo.log()
    assert "Unable to install package" not in log
    assert "Setup failed" not in log
    assert "Invalid config" not in log

    info, output = running_demo.info, running_demo.output()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", info["ha_url"])
    assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/<station-id>", info["ocpp_url"])
    assert info["username"] == "demo"
    assert info["ha_url"] in output
    assert "Home Assistant is up after" in output
    # One simulated station, pre-approved with its own password.
    [station] = info["stations"]
    assert station["id"] == "sim-001"
    assert len(station["password"]) >= 16


@pytest.mark.timeout(300)
async def test_simulated_station_charges_and_follows_the_current_limit(
    running_demo: RunningDemo, socket_enabled: None
) -> None:
    """The station connects by itself and charges; a lower current limit shows in its power at the next meter value."""
    station = running_demo.info["stations"][0]["id"]
    async with running_demo.client() as client:
        registry = await client.registry()
        connectivity = registry[DOMAIN, f"{station}_connectivity"]["entity_id"]
        power = registry[DOMAIN, f"{station}_evse_1_power"]["entity_id"]
        current = registry[DOMAIN, f"{station}_evse_1_current_l1"]["entity_id"]
        energy = registry[DOMAIN, f"{station}_evse_1_energy"]["entity_id"]
        limit = registry[DOMAIN, f"{station}_evse_1_charging_current_limit"]["entity_id"]

        charging = await wait_for_states(
            client,
            lambda s: s.get(connectivity, {}).get("state") == "on" and (number(s.get(power)) or 0) > 1000,
            timeout=90,
        )
        assert (number(charging.get(energy)) or 0) >= 0
        assert charging[limit]["attributes"]["unit_of_measurement"] == "A"

        async with client.session.post(
            f"{running_demo.url}/api/services/number/set_value", json={"entity_id": limit, "value": 10}
        ) as resp:
            assert resp.status == 200, await resp.text()
        # Decreases go out at once; the station meters every few seconds (running_demo.meter_interval).
        limited = await wait_for_states(
            client,
            lambda s: 0 < (number(s.get(power)) or 0) <= 10 * 240 * 3 and 0 < (number(s.get(current)) or 0) <= 10.5,
            timeout=3 * running_demo.meter_interval + 10,
        )
        assert number(limited[limit]) == 10


@pytest.mark.timeout(300)
async def test_demo_house_blueprints_and_solar_automation(running_demo: RunningDemo, socket_enabled: None) -> None:
    """The house's sensors move, the blueprints are installed, and the solar automation is wired, valid and off."""
    station = running_demo.info["stations"][0]["id"]
    async with running_demo.client() as client:
        registry = await client.registry()
        house = {key: registry["template", unique_id]["entity_id"] for key, unique_id in HOUSE.items()}
        evse_power = registry[DOMAIN, f"{station}_evse_1_power"]
        limit = registry[DOMAIN, f"{station}_evse_1_charging_current_limit"]

        # The sensors move: the sun and the house's load change every 5 s, the grid follows them and the car.
        await wait_for_states(client, lambda s: all(number(s.get(e)) is not None for e in house.values()), 20)
        seen: dict[str, set[float]] = {key: set() for key in house}
        daylight: list[float] = []  # solar power seen while the demo's sun is up
        consistent = 0
        started = time.monotonic()
        while time.monotonic() - started < 40:
            states = await client.states()
            values = {key: number(states.get(entity_id)) for key, entity_id in house.items()}
            car = number(states.get(evse_power["entity_id"])) or 0.0
            solar, load, grid = values["solar"], values["house"], values["grid"]
            assert solar is not None, values
            assert load is not None, values
            assert grid is not None, values
            for key, value in values.items():
                assert value is not None, values
                assert value >= 0 or key == "grid", values  # power and current magnitudes; grid power is signed
                seen[key].add(value)
            # A demo day lasts 30 minutes (Home Assistant's clock is this one): sunrise at 20 %, sunset at 80 %.
            day = time.time() % 1800 / 1800
            if 0.22 < day < 0.78:
                assert 0 < solar <= 7000, (day, solar)
                daylight.append(solar)
            elif day < 0.18 or day > 0.82:
                assert solar == 0, (day, solar)
            assert 300 <= load <= 2450, load
            consistent += abs(grid - (load + car - solar)) <= 1  # grid = house + car - solar, import positive
            moved = len(seen["house"]) >= 3 and len(seen["grid"]) >= 3 and consistent >= 3
            if moved and (len(set(daylight)) >= 3 or time.monotonic() - started > 20):
                break
            await asyncio.sleep(1)
        assert len(seen["house"]) >= 3, seen
        assert len(seen["grid"]) >= 3, seen
        assert consistent >= 3, (consistent, seen)
        # In daylight the sun moves (and clouds pass) between two updates, 5 s apart.
        assert len(set(daylight)) >= 3 or len(daylight) < 15, daylight
        attributes = states[house["grid"]]["attributes"]
        assert (attributes["device_class"], attributes["unit_of_measurement"]) == ("power", "W")
        assert states[house["grid_l1"]]["attributes"]["device_class"] == "current"

        # The project's blueprints, installed in the config dir, as Home Assistant lists them.
        blueprints = await client.command({"type": "blueprint/list", "domain": "automation"})
        for name in BLUEPRINTS:
            installed = running_demo.config_dir / "blueprints" / "automation" / DOMAIN / name
            assert installed.read_bytes() == (ROOT / "blueprints" / "automation" / DOMAIN / name).read_bytes()
            listed = blueprints[f"{DOMAIN}/{name}"]
            assert "error" not in listed, listed
            assert listed["metadata"]["domain"] == "automation"

        # The solar surplus automation: valid (an invalid one is `unavailable`), never triggered, and off.
        automation = registry["automation", AUTOMATION_ID]["entity_id"]
        state = (await client.states())[automation]
        assert state["state"] == "off", state
        assert state["attributes"]["id"] == AUTOMATION_ID
        assert state["attributes"]["last_triggered"] is None
        status, config = await client.get(f"/api/config/automation/config/{AUTOMATION_ID}")
        assert status == 200
        assert "initial_state" not in config  # a user's "on" survives restarts
        assert config["use_blueprint"]["path"] == f"{DOMAIN}/solar_surplus_charging.yaml"
        inputs = config["use_blueprint"]["input"]
        assert inputs["grid_power"] == house["grid"]
        assert inputs["grid_sign"] == "import_positive"
        assert inputs["evse_power"] == evse_power["entity_id"]
        assert inputs["charger"] == evse_power["device_id"] == limit["device_id"]

    log = running_demo.log()
    assert not [line for line in log.splitlines() if "ERROR" in line and ("automation" in line or "template" in line)]


def test_demo_requirements_match_home_assistant() -> None:
    """requirements_demo.txt pins what Home Assistant's own integrations ask for, at the same versions."""
    import homeassistant.components  # noqa: PLC0415 - only this test needs Home Assistant's package

    wanted: dict[str, str] = {}
    for manifest in Path(homeassistant.components.__path__[0]).glob("*/manifest.json"):
        for requirement in json.loads(manifest.read_text(encoding="utf-8")).get("requirements", []):
            name, _, version = requirement.partition("==")
            wanted[canonical(name)] = version
    pins = [
        line.split("==")
        for line in (ROOT / "requirements_demo.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert pins
    assert {canonical(name): version for name, version in pins} == {
        canonical(name): wanted.get(canonical(name)) for name, _ in pins
    }
    assert {"pymicro-vad", "pyspeex-noise"} <= {canonical(name) for name, _ in pins}


def canonical(name: str) -> str:
    """A distribution name as PyPI compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()
