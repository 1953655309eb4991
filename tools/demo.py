"""Run a real Home Assistant with the integration configured, onboarding done and a demo login.

Started by `scripts/demo`; see `scripts/demo --help`. Writes `CONFIG_DIR/demo.json` with the URL, the login, a
long-lived access token and the OCPP endpoint once Home Assistant is up. Ctrl-C (SIGINT) or SIGTERM stops it.

Unless `--no-simulator` is given, it also runs simulated charging stations (`python -m tools.simulator`, in a
process of their own, log in CONFIG_DIR/simulator.log), pre-approved: their records, each with a random password
that demo.json keeps across runs, are written into the integration's storage before Home Assistant starts.

The demo has a simulated house (template sensors in CONFIG_DIR/demo_house.yaml): solar production over a day
compressed into 30 minutes, the house's own consumption with a kettle now and then, and the grid power and
per-phase grid currents they make with the simulated cars' charging. The project's blueprints are copied into
CONFIG_DIR/blueprints/automation/ocpp_csms/, and an automation from the solar surplus blueprint, wired to the grid
power and the first simulated EVSE, is created switched off: enable it to watch charging follow the sun.

"Home Assistant is up" is printed once Home Assistant has finished starting (core state RUNNING), the
integration is configured and the house is wired.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import sys
import time
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make the integration and the simulator importable
    sys.path.insert(0, str(ROOT))
USERNAME = "demo"
PASSWORD = "ocpp-csms-demo"  # the documented demo login of a throw-away local instance
DOMAIN = "ocpp_csms"
STARTUP_TIMEOUT = 300.0
BLUEPRINTS = ROOT / "blueprints" / "automation" / DOMAIN
HOUSE_FILE = "demo_house.yaml"
#: How long the demo waits for the entities it wires: the simulated EVSEs' (the house then counts no car), the
#: house's and the automation's.
WIRING_TIMEOUT = 60.0
#: The solar surplus automation the demo creates (its id in automations.yaml and its entity's unique id).
AUTOMATION_ID = "ocpp_csms_demo_solar_surplus"
HOUSE_TEMPLATE = ROOT / "tools" / "demo_assets" / HOUSE_FILE
#: Unique ids of the house's template sensors (tools/demo_assets/demo_house.yaml).
HOUSE_SENSORS = {
    "solar": "ocpp_csms_demo_solar_power",
    "house": "ocpp_csms_demo_house_power",
    "grid": "ocpp_csms_demo_grid_power",
    "grid_current_l1": "ocpp_csms_demo_grid_current_l1",
    "grid_current_l2": "ocpp_csms_demo_grid_current_l2",
    "grid_current_l3": "ocpp_csms_demo_grid_current_l3",
}
PHASES = ("l1", "l2", "l3")
NOMINAL_VOLTAGE = 230

# Only what the demo needs: `default_config` would pull in voice and Bluetooth packages that need compilers.
CONFIGURATION_YAML = """\
homeassistant:
  name: OCPP demo
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: NL
  latitude: 52.37
  longitude: 4.89
  elevation: 0

frontend:
config:
api:
energy:
history:
logbook:
system_health:
automation: !include automations.yaml
template: !include demo_house.yaml
script:
input_number:
input_boolean:

logger:
  default: warning
  logs:
    # Connections, refusals and what the stations report; no OCPP message and no secret.
    custom_components.ocpp_csms: debug
    # Every OCPP message in and out, passwords redacted: uncomment to see them (one line per message).
    # ocpp_csms.frames: debug
    homeassistant.bootstrap: info
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="scripts/demo", description=__doc__)
    parser.add_argument("--config-dir", type=Path, default=ROOT / "demo", help="Home Assistant config dir")
    parser.add_argument("--ha-port", type=int, default=8123, help="port of the Home Assistant web UI (0: a free one)")
    parser.add_argument("--ocpp-port", type=int, default=9201, help="port chargers connect to (0: a free one)")
    parser.add_argument("--stations", type=int, default=1, help="simulated charging stations to run (default 1)")
    parser.add_argument("--no-simulator", action="store_true", help="run no simulated charging station")
    parser.add_argument(
        "--meter-interval", type=float, default=10.0, help="seconds between the simulated stations' meter values"
    )
    args = parser.parse_args(argv)
    if args.stations < 0:
        parser.error("--stations must not be negative")
    if args.meter_interval <= 0:
        parser.error("--meter-interval must be positive")
    if args.no_simulator:
        args.stations = 0
    args.ha_port = args.ha_port or free_port()
    args.ocpp_port = args.ocpp_port or free_port()
    return args


def simulated_stations(demo_file: Path, count: int) -> list[dict[str, str]]:
    """The simulated stations with their passwords: those demo.json lists are kept, missing ones get a new one."""
    from custom_components.ocpp_csms.csms.passwords import generate_password  # noqa: PLC0415 - slow import
    from tools.simulator.fleet import station_ids  # noqa: PLC0415

    known: dict[str, str] = {}
    if demo_file.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            previous = json.loads(demo_file.read_text(encoding="utf-8"))
            known = {str(item["id"]): str(item["password"]) for item in previous.get("stations", [])}
    return [
        {"id": station_id, "password": known.get(station_id) or generate_password()}
        for station_id in station_ids(count)
    ]


def write_station_records(config_dir: Path, stations: list[dict[str, str]]) -> None:
    """Pre-approve the simulated stations: their records (security profile 1, password hash) in the storage file.

    Records of other stations (real chargers approved in the demo) are kept; a simulated station's record is
    rewritten with the hash of the password demo.json holds for it.
    """
    from custom_components.ocpp_csms.const import STORAGE_KEY, STORAGE_VERSION  # noqa: PLC0415 - slow import
    from custom_components.ocpp_csms.csms.passwords import hash_password  # noqa: PLC0415

    path = config_dir / ".storage" / STORAGE_KEY
    records: list[dict[str, Any]] = []
    if path.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            records = list(json.loads(path.read_text(encoding="utf-8"))["data"]["stations"])
    simulated = {station["id"] for station in stations}
    records = [record for record in records if record.get("station_id") not in simulated]
    records += [
        {
            "station_id": station["id"],
            "security_profile": 1,
            "password_hash": hash_password(station["password"]),
            "lenient": False,
        }
        for station in stations
    ]
    store = {"version": STORAGE_VERSION, "minor_version": 1, "key": STORAGE_KEY, "data": {"stations": records}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")
    path.chmod(0o600)
    write_id_tokens(config_dir, [station["id"] for station in stations])


def write_id_tokens(config_dir: Path, station_ids: list[str]) -> None:
    """Allow the simulated drivers' RFID cards (labelled with their station), keeping tokens the user added."""
    from custom_components.ocpp_csms.const import ID_TOKENS_STORAGE_KEY, ID_TOKENS_STORAGE_VERSION  # noqa: PLC0415
    from tools.simulator.station import station_tokens  # noqa: PLC0415

    path = config_dir / ".storage" / ID_TOKENS_STORAGE_KEY
    data: dict[str, Any] = {"entries": []}
    if path.exists():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            data = dict(json.loads(path.read_text(encoding="utf-8"))["data"])
    entries = list(data.get("entries", []))
    listed = {entry.get("id_token") for entry in entries}
    for station_id in station_ids:
        for n, token in enumerate(station_tokens(station_id), start=1):
            if token not in listed:
                entries.append(
                    {"id_token": token, "label": f"{station_id} driver {n}", "type": "ISO14443", "status": "Accepted"}
                )
    data["entries"] = entries
    store = {"version": ID_TOKENS_STORAGE_VERSION, "minor_version": 1, "key": ID_TOKENS_STORAGE_KEY, "data": data}
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("", 0))
        port: int = probe.getsockname()[1]
        return port


def port_is_free(port: int) -> bool:
    """Whether nothing listens on this TCP port yet."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def prepare_config_dir(config_dir: Path, ha_port: int, configuration: str = CONFIGURATION_YAML) -> None:
    """Write configuration.yaml, link the integration, and pin the HTTP server to the chosen port.

    Home Assistant 2026.x keeps its HTTP settings in `.storage/http`; a YAML `http:` section would only become a
    pending configuration that reverts after five minutes unless confirmed. Writing the stored, stable settings
    ourselves avoids that.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "configuration.yaml").write_text(configuration, encoding="utf-8")
    automations = config_dir / "automations.yaml"
    if not automations.exists():
        automations.write_text("[]\n", encoding="utf-8")
    custom = config_dir / "custom_components"
    custom.mkdir(exist_ok=True)
    link = custom / DOMAIN
    target = ROOT / "custom_components" / DOMAIN
    if link.is_symlink() or link.exists():
        if link.resolve() != target.resolve():
            if link.is_symlink() or link.is_file():
                link.unlink()
            else:
                shutil.rmtree(link)
            link.symlink_to(target, target_is_directory=True)
    else:
        link.symlink_to(target, target_is_directory=True)

    storage = config_dir / ".storage"
    storage.mkdir(exist_ok=True)
    stable = {
        "server_host": ["0.0.0.0", "::"],  # noqa: S104 - reachable from the browser and from chargers on the LAN
        "server_port": ha_port,
        "cors_allowed_origins": [],
        "login_attempts_threshold": -1,
        "ip_ban_enabled": True,
        "ssl_profile": "modern",
        "use_x_frame_options": True,
        "created_at": datetime.now(UTC).isoformat(),
        "error": None,
        "error_message": None,
    }
    http_store = {
        "version": 2,
        "minor_version": 2,
        "key": "http",
        "data": {"stable": stable, "pending": None, "yaml_migration_done": True},
    }
    (storage / "http").write_text(json.dumps(http_store, indent=2), encoding="utf-8")

    # Mark every onboarding step but the user's done: the core_config step would also set up weather, radio,
    # shopping list and text-to-speech integrations (the last pulls voice packages that need a compiler).
    onboarding = storage / "onboarding"
    if not onboarding.exists():
        steps = {
            "version": 4,
            "minor_version": 1,
            "key": "onboarding",
            "data": {"done": ["core_config", "analytics", "integration"]},
        }
        onboarding.write_text(json.dumps(steps, indent=2), encoding="utf-8")


def prepare_house(config_dir: Path) -> None:
    """Install the project's blueprints, and the house's sensors (without a car until the stations are wired).

    A demo_house.yaml from an earlier run is kept until the wiring is checked: Home Assistant starts with it.
    """
    blueprints = config_dir / "blueprints" / "automation" / DOMAIN
    blueprints.mkdir(parents=True, exist_ok=True)
    for blueprint in sorted(BLUEPRINTS.glob("*.yaml")):
        shutil.copyfile(blueprint, blueprints / blueprint.name)
    house = config_dir / HOUSE_FILE
    if not house.exists():
        house.write_text(house_yaml([]), encoding="utf-8")


def write_if_changed(path: Path, text: str) -> bool:
    """Write `text` unless the file already holds it; whether it was written."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


def house_yaml(cars: list[dict[str, str]]) -> str:
    """The simulated house (tools/demo_assets/demo_house.yaml) with the cars' charging in the grid's figures.

    `cars` lists the simulated EVSEs' sensors: the entity ids of their power (`power`) and, where they have them,
    of their per-phase currents (`l1`, `l2`, `l3`); a car without currents counts evenly on the three phases.
    """

    def total(terms: list[str]) -> str:
        return " + ".join(terms) or "0"

    text = HOUSE_TEMPLATE.read_text(encoding="utf-8")
    for phase in PHASES:
        current = total(
            [
                f"states('{car[phase]}') | float(0)"
                if phase in car
                else f"states('{car['power']}') | float(0) / {3 * NOMINAL_VOLTAGE}"
                for car in cars
            ]
        )
        text = text.replace(f"CAR_CURRENT_{phase.upper()}", current)
    text = text.replace("CAR_POWER", total([f"states('{car['power']}') | float(0)" for car in cars]))
    return text.replace("CARS", ", ".join(car["power"] for car in cars) or "none (no simulated station)")


class Demo:
    """One Home Assistant process and the REST/websocket calls that make it ready to use."""

    def __init__(self, args: argparse.Namespace) -> None:
        """Remember where things go."""
        self.config_dir: Path = args.config_dir.resolve()
        self.ha_port: int = args.ha_port
        self.ocpp_port: int = args.ocpp_port
        self.base = f"http://127.0.0.1:{self.ha_port}"
        self.client_id = f"{self.base}/"
        self.process: asyncio.subprocess.Process | None = None
        self.simulator: asyncio.subprocess.Process | None = None
        self.demo_file = self.config_dir / "demo.json"
        self.station_count: int = args.stations
        self.meter_interval: float = getattr(args, "meter_interval", 10.0)
        self.stations: list[dict[str, str]] = []

    async def start_home_assistant(self, *extra_args: str) -> None:
        """Start `hass -c CONFIG_DIR [extra_args]` with its log in CONFIG_DIR/home-assistant.log."""
        hass = Path(sys.executable).with_name("hass")
        log = await asyncio.to_thread((self.config_dir / "demo-console.log").open, "ab")
        try:
            self.process = await asyncio.create_subprocess_exec(
                str(hass),
                "-c",
                str(self.config_dir),
                *extra_args,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()

    async def start_simulator(self) -> None:
        """Run the simulated stations (charge scenario) in a process of their own, reading demo.json's passwords."""
        log = await asyncio.to_thread((self.config_dir / "simulator.log").open, "ab")
        try:
            self.simulator = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tools.simulator",
                "--url",
                f"ws://127.0.0.1:{self.ocpp_port}",
                "--credentials",
                str(self.demo_file),
                "--scenario",
                "charge",
                "--idle-time",
                "10",
                "--charge-time",
                "900",
                "--meter-interval",
                str(self.meter_interval),
                "--backoff-min",
                "2",
                "--backoff-range",
                "3",
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        finally:
            log.close()

    async def stop_simulator(self) -> None:
        """Stop the simulated stations (SIGTERM), then for good if they hang."""
        if self.simulator is None or self.simulator.returncode is not None:
            return
        self.simulator.terminate()
        try:
            await asyncio.wait_for(self.simulator.wait(), 15)
        except TimeoutError:
            self.simulator.kill()
            await self.simulator.wait()

    def check_running(self) -> None:
        """Fail at once when Home Assistant has exited."""
        if self.process is not None and self.process.returncode is not None:
            raise SystemExit(f"Home Assistant exited with {self.process.returncode}; {self.log_hint()}")

    async def wait_until_up(self, session: aiohttp.ClientSession) -> None:
        """Poll the HTTP server until it answers (Home Assistant may still be starting), failing early on exit.

        The server starts listening once the frontend, and so onboarding, is set up: `/api/onboarding` then
        answers 200 with the onboarding steps, or 404 once onboarding is over (an earlier run's config dir).
        """
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            self.check_running()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{self.base}/api/onboarding", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status in (200, 404):
                        return
            await asyncio.sleep(1)
        raise SystemExit(f"Home Assistant did not answer on {self.base} in {STARTUP_TIMEOUT:.0f} s; {self.log_hint()}")

    async def wait_until_running(self, session: aiohttp.ClientSession, token: str) -> None:
        """Wait until Home Assistant has finished starting: the API answers and the core state is RUNNING.

        The HTTP server answers early, while integrations are still being set up (the frontend then shows
        "Home Assistant is starting"); only RUNNING means that every integration's setup is over.
        """
        headers = {"Authorization": f"Bearer {token}"}
        timeout = aiohttp.ClientTimeout(total=5)
        deadline = time.monotonic() + STARTUP_TIMEOUT
        state = "unknown"
        while time.monotonic() < deadline:
            self.check_running()
            with contextlib.suppress(aiohttp.ClientError, TimeoutError, ValueError):
                async with session.get(f"{self.base}/api/", headers=headers, timeout=timeout) as resp:
                    api_ok = resp.status == 200
                if api_ok:
                    async with session.get(f"{self.base}/api/config", headers=headers, timeout=timeout) as resp:
                        state = str((await resp.json()).get("state")) if resp.status == 200 else state
                    if state == "RUNNING":
                        return
            await asyncio.sleep(0.5)
        raise SystemExit(
            f"Home Assistant did not finish starting in {STARTUP_TIMEOUT:.0f} s (state {state}); {self.log_hint()}"
        )

    def log_hint(self) -> str:
        """Where to look when something fails."""
        return f"see {self.config_dir / 'home-assistant.log'} and {self.config_dir / 'demo-console.log'}"

    async def onboard(self, session: aiohttp.ClientSession) -> str:
        """Create the demo user (the one onboarding step left, see prepare_config_dir); return an access token."""
        async with session.get(f"{self.base}/api/onboarding") as resp:
            # 404: onboarding is over, its views are gone.
            steps = {step["step"]: step["done"] for step in await resp.json()} if resp.status == 200 else {"user": True}
        if steps.get("user"):
            return await self.login(session)
        async with session.post(
            f"{self.base}/api/onboarding/users",
            json={
                "client_id": self.client_id,
                "name": "Demo",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        ) as resp:
            resp.raise_for_status()
            auth_code = (await resp.json())["auth_code"]
        return await self.exchange_code(session, auth_code)

    async def exchange_code(self, session: aiohttp.ClientSession, code: str) -> str:
        """Trade an authorization code for an access token."""
        async with session.post(
            f"{self.base}/auth/token",
            data={"grant_type": "authorization_code", "code": code, "client_id": self.client_id},
        ) as resp:
            resp.raise_for_status()
            token: str = (await resp.json())["access_token"]
            return token

    async def login(self, session: aiohttp.ClientSession) -> str:
        """Log in as the demo user through the login flow (a re-run on an onboarded config dir)."""
        async with session.post(
            f"{self.base}/auth/login_flow",
            json={"client_id": self.client_id, "handler": ["homeassistant", None], "redirect_uri": self.client_id},
        ) as resp:
            flow_id = (await resp.json())["flow_id"]
        async with session.post(
            f"{self.base}/auth/login_flow/{flow_id}",
            json={"client_id": self.client_id, "username": USERNAME, "password": PASSWORD},
        ) as resp:
            result = await resp.json()
        if result.get("type") != "create_entry":
            raise SystemExit(f"cannot log in as {USERNAME!r} on the existing config dir: {result}")
        return await self.exchange_code(session, result["result"])

    async def long_lived_token(self, session: aiohttp.ClientSession, token: str) -> str:
        """Reuse the demo.json token when it still works, or create a long-lived access token."""
        old = str((await asyncio.to_thread(read_json, self.demo_file)).get("token", ""))
        if old:
            async with session.get(f"{self.base}/api/", headers={"Authorization": f"Bearer {old}"}) as resp:
                if resp.status == 200:
                    return old
        async with session.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise SystemExit("websocket authentication failed")
            await ws.send_json(
                {"id": 1, "type": "auth/long_lived_access_token", "client_name": "ocpp_csms demo", "lifespan": 3650}
            )
            reply = await ws.receive_json()
            if not reply.get("success"):
                raise SystemExit(f"cannot create a long-lived token: {reply}")
            long_lived: str = reply["result"]
            return long_lived

    async def ensure_entry(self, session: aiohttp.ClientSession, token: str) -> dict[str, Any]:
        """Configure the integration through its real config flow unless it already is."""
        headers = {"Authorization": f"Bearer {token}"}
        entries_url = f"{self.base}/api/config/config_entries/entry"
        async with session.get(entries_url, headers=headers, params={"domain": DOMAIN}) as resp:
            entries = [e for e in await resp.json() if e["domain"] == DOMAIN]
        if not entries:
            async with session.post(
                f"{self.base}/api/config/config_entries/flow", json={"handler": DOMAIN}, headers=headers
            ) as resp:
                flow = await resp.json()
            async with session.post(
                f"{self.base}/api/config/config_entries/flow/{flow['flow_id']}",
                json={"port": self.ocpp_port},
                headers=headers,
            ) as resp:
                result = await resp.json()
            if result.get("type") != "create_entry":
                raise SystemExit(f"configuring {DOMAIN} failed: {result}")
        entry: dict[str, Any] = {}
        for _ in range(60):
            async with session.get(entries_url, headers=headers) as resp:
                entries = [e for e in await resp.json() if e["domain"] == DOMAIN]
            entry = entries[0] if entries else {"state": "missing"}
            if entry["state"] in ("loaded", "setup_error", "setup_retry"):
                break
            await asyncio.sleep(0.5)
        return entry

    @contextlib.asynccontextmanager
    async def websocket(
        self, session: aiohttp.ClientSession, token: str
    ) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[Any]]]:
        """An authenticated websocket; yields `command(message) -> result`, failing on an error reply."""
        async with session.ws_connect(f"{self.base}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": token})
            if (await ws.receive_json())["type"] != "auth_ok":
                raise SystemExit("websocket authentication failed")
            ids = iter(range(1, 1_000_000))

            async def command(message: dict[str, Any]) -> Any:
                message_id = next(ids)
                await ws.send_json({"id": message_id, **message})
                while True:
                    reply = await ws.receive_json()
                    if reply.get("id") == message_id:
                        break
                if not reply.get("success"):
                    raise SystemExit(f"{message['type']} failed: {reply.get('error')}")
                return reply.get("result")

            yield command

    async def simulated_evses(self, command: Callable[[dict[str, Any]], Awaitable[Any]]) -> list[dict[str, str]] | None:
        """The simulated stations' EVSEs (one each) by their entities' unique ids, once all have their power sensor.

        Each EVSE: `power`, the phase currents it has (`l1`-`l3`), `limit` (its charging current limit number)
        and `device_id`, in the order of the stations. None when they are not all there within WIRING_TIMEOUT.
        """
        prefixes = [f"{station['id']}_evse_1_" for station in self.stations]
        deadline = time.monotonic() + WIRING_TIMEOUT
        while True:
            registry = {
                entry["unique_id"]: entry
                for entry in await command({"type": "config/entity_registry/list"})
                if entry["platform"] == DOMAIN and entry.get("disabled_by") is None
            }
            if all(f"{prefix}power" in registry for prefix in prefixes):
                break
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(0.5)
        evses: list[dict[str, str]] = []
        for prefix in prefixes:
            power = registry[f"{prefix}power"]
            evse = {"power": power["entity_id"], "device_id": power["device_id"]}
            for key, suffix in (
                *((phase, f"current_{phase}") for phase in PHASES),
                ("limit", "charging_current_limit"),
            ):
                if (entry := registry.get(f"{prefix}{suffix}")) is not None:
                    evse[key] = entry["entity_id"]
            evses.append(evse)
        return evses

    async def wire_house(self, session: aiohttp.ClientSession, token: str) -> dict[str, Any]:
        """Put the simulated cars into the house's figures and create the solar surplus automation (switched off).

        What the house is made of, for demo.json and the summary: its sensors' entity ids, the cars wired in and
        the automation's entity id (None without a simulated station).
        """
        async with self.websocket(session, token) as command:
            evses = await self.simulated_evses(command) if self.stations else []
            if evses is None:
                print(
                    f"warning: the simulated EVSEs did not appear within {WIRING_TIMEOUT:.0f} s: the house counts no "
                    f"car and no automation was created (see {self.config_dir / 'simulator.log'})",
                    file=sys.stderr,
                    flush=True,
                )
                evses = []
            text = house_yaml(evses)
            if await asyncio.to_thread(write_if_changed, self.config_dir / HOUSE_FILE, text):
                await command(
                    {"type": "call_service", "domain": "template", "service": "reload", "return_response": False}
                )
            automation = None
            if evses and "limit" in evses[0]:
                grid = await self.entity_id(command, "template", HOUSE_SENSORS["grid"])
                automation = await self.ensure_automation(session, token, command, evses[0], grid)
            house = {key: await self.entity_id(command, "template", unique) for key, unique in HOUSE_SENSORS.items()}
        automation_state = None
        if automation is not None:
            async with session.get(
                f"{self.base}/api/states/{automation}", headers={"Authorization": f"Bearer {token}"}
            ) as resp:
                automation_state = (await resp.json())["state"] if resp.status == 200 else None
        return {
            "sensors": house,
            "cars": [evse["power"] for evse in evses],
            "automation": automation,
            "automation_state": automation_state,
        }

    async def entity_id(
        self, command: Callable[[dict[str, Any]], Awaitable[Any]], platform: str, unique_id: str
    ) -> str:
        """The entity id the registry gives an entity of `platform` with this unique id (waits for it to appear)."""
        deadline = time.monotonic() + WIRING_TIMEOUT
        while time.monotonic() < deadline:
            for entry in await command({"type": "config/entity_registry/list"}):
                if entry["platform"] == platform and entry["unique_id"] == unique_id:
                    return str(entry["entity_id"])
            await asyncio.sleep(0.5)
        raise SystemExit(f"no {platform} entity with unique id {unique_id!r}; {self.log_hint()}")

    async def ensure_automation(
        self,
        session: aiohttp.ClientSession,
        token: str,
        command: Callable[[dict[str, Any]], Awaitable[Any]],
        evse: dict[str, str],
        grid: str,
    ) -> str:
        """Create the solar surplus automation for this EVSE, switched off; rewire one left by an earlier run.

        It is created with `initial_state: false`, so it is never on (and never acts) before it is switched off,
        then saved again without it: from then on Home Assistant restores whatever state the user gives it.
        """
        url = f"{self.base}/api/config/automation/config/{AUTOMATION_ID}"
        headers = {"Authorization": f"Bearer {token}"}
        inputs = {
            "charger": evse["device_id"],
            "evse_power": evse["power"],
            "grid_power": grid,
            "grid_sign": "import_positive",
            "min_current": 6,
            "max_current": 16,
            "phases": "3",
            "voltage": NOMINAL_VOLTAGE,
            "start_threshold": 0,
            "stop_threshold": 500,
            "start_delay": {"hours": 0, "minutes": 0, "seconds": 30},
            "stop_delay": {"hours": 0, "minutes": 1, "seconds": 0},
        }
        config: dict[str, Any] = {
            "id": AUTOMATION_ID,
            "alias": "Demo: charge from solar surplus",
            "description": (
                "The solar surplus blueprint on the demo house's grid power, driving the first simulated EVSE. "
                "Enable it and watch the charging current follow the sun: a demo day lasts 30 minutes."
            ),
            "use_blueprint": {"path": f"{DOMAIN}/solar_surplus_charging.yaml", "input": inputs},
        }
        async with session.get(url, headers=headers) as resp:
            existing: dict[str, Any] | None = await resp.json() if resp.status == 200 else None
        if existing is None:
            await self.save_automation(session, url, headers, {**config, "initial_state": False})
        elif all(existing.get("use_blueprint", {}).get("input", {}).get(key) == inputs[key] for key in inputs):
            return await self.entity_id(command, "automation", AUTOMATION_ID)
        else:  # an earlier run's automation, wired to entities that are gone: keep the user's other changes
            config = {**existing, "use_blueprint": {**existing["use_blueprint"], "input": inputs}}
        entity_id = await self.entity_id(command, "automation", AUTOMATION_ID)
        if existing is None:
            await self.wait_for_state(session, headers, entity_id, "off")
        await self.save_automation(session, url, headers, config)
        return entity_id

    async def save_automation(
        self, session: aiohttp.ClientSession, url: str, headers: dict[str, str], config: dict[str, Any]
    ) -> None:
        """Save an automation through the automation editor's API (automations.yaml; that automation reloads)."""
        async with session.post(url, headers=headers, json=config) as resp:
            if resp.status != 200:
                raise SystemExit(f"cannot save the demo automation: {resp.status} {await resp.text()}")

    async def wait_for_state(
        self, session: aiohttp.ClientSession, headers: dict[str, str], entity_id: str, state: str
    ) -> None:
        """Wait until the entity has this state."""
        deadline = time.monotonic() + WIRING_TIMEOUT
        while time.monotonic() < deadline:
            async with session.get(f"{self.base}/api/states/{entity_id}", headers=headers) as resp:
                if resp.status == 200 and (await resp.json())["state"] == state:
                    return
            await asyncio.sleep(0.2)
        raise SystemExit(f"{entity_id} did not become {state!r}; {self.log_hint()}")

    async def stop(self) -> None:
        """Stop Home Assistant gracefully (SIGTERM), then for good if it hangs."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def prepare(self) -> None:
        """The config dir, the house and blueprints, and the simulated stations' records (in the executor)."""
        await asyncio.to_thread(prepare_config_dir, self.config_dir, self.ha_port)
        await asyncio.to_thread(prepare_house, self.config_dir)
        if self.station_count:
            self.stations = await asyncio.to_thread(simulated_stations, self.demo_file, self.station_count)
            await asyncio.to_thread(write_station_records, self.config_dir, self.stations)

    async def bring_up(self, session: aiohttp.ClientSession) -> tuple[dict[str, Any], dict[str, Any]]:
        """Start everything; demo.json's content and the integration's config entry once all is ready."""
        await self.start_home_assistant()
        await self.wait_until_up(session)
        token = await self.long_lived_token(session, await self.onboard(session))
        await self.wait_until_running(session, token)
        entry = await self.ensure_entry(session, token)
        info: dict[str, Any] = {
            "ha_url": f"http://127.0.0.1:{self.ha_port}",
            "username": USERNAME,
            "password": PASSWORD,
            "token": token,
            "ocpp_url": f"ws://127.0.0.1:{self.ocpp_port}/<station-id>",
            "stations": self.stations,
        }
        await asyncio.to_thread(write_demo_file, self.demo_file, info)
        if self.stations:
            await self.start_simulator()
        info["house"] = await self.wire_house(session, token)
        await asyncio.to_thread(write_demo_file, self.demo_file, info)
        return info, entry

    def summary(self, info: dict[str, Any], entry: dict[str, Any], started: float) -> str:
        """What `scripts/demo` prints once everything is up."""
        simulated = "none (--no-simulator)"
        if self.stations:
            names = ", ".join(station["id"] for station in self.stations[:3])
            more = f" and {len(self.stations) - 3} more" if len(self.stations) > 3 else ""
            simulated = f"{names}{more}, charging now and then (log: {self.config_dir / 'simulator.log'})"
        house = info["house"]
        sensors = house["sensors"]
        automation = "none (no simulated station)"
        if house["automation"]:
            automation = f"{house['automation']} (solar surplus blueprint), {house['automation_state']}" + (
                ": enable it under Settings → Automations" if house["automation_state"] == "off" else ""
            )
        return (
            f"\nHome Assistant is up after {time.monotonic() - started:.0f} s "
            f"(started, integration {DOMAIN}: {entry['state']}).\n"
            f"  Open       {info['ha_url']}\n"
            f"  Log in     {USERNAME} / {PASSWORD}\n"
            f"  OCPP       {info['ocpp_url']}  (point a charger here)\n"
            f"  Simulated  {simulated}\n"
            f"  House      {sensors['solar']}, {sensors['house']}, {sensors['grid']} and the grid currents "
            f"(a day every 30 minutes; {self.config_dir / HOUSE_FILE})\n"
            f"  Automation {automation}\n"
            f"  Blueprints {self.config_dir / 'blueprints' / 'automation' / DOMAIN}\n"
            f"  Details    {self.demo_file}\n"
            "Press Ctrl-C to stop."
        )

    async def run(self) -> int:
        """Bring everything up, report, and wait for Ctrl-C or Home Assistant's exit."""
        for port, what in ((self.ha_port, "--ha-port"), (self.ocpp_port, "--ocpp-port")):
            if not port_is_free(port):
                print(f"port {port} ({what}) is in use; stop what uses it or choose another port", file=sys.stderr)
                return 2
        await self.prepare()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = time.monotonic()
        print(f"Starting Home Assistant in {self.config_dir} ...", flush=True)
        try:
            async with aiohttp.ClientSession() as session:
                up = asyncio.ensure_future(self.bring_up(session))
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait({up, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    up.cancel()
                    with contextlib.suppress(asyncio.CancelledError, SystemExit):
                        await up
                    return 130
                stopped.cancel()
                info, entry = up.result()
            print(self.summary(info, entry, started), flush=True)
            process = self.process
            if process is None:  # pragma: no cover - started above
                return 1
            exited = asyncio.ensure_future(process.wait())
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({exited, stopped}, return_when=asyncio.FIRST_COMPLETED)
            for task in (exited, stopped):
                task.cancel()
            if not stop.is_set():
                print(f"Home Assistant exited ({process.returncode}); {self.log_hint()}", file=sys.stderr)
                return 1
            return 0
        finally:
            if self.simulator is not None:
                print("Stopping the simulated stations ...", flush=True)
                await self.stop_simulator()
            print("Stopping Home Assistant ...", flush=True)
            await self.stop()


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; empty when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError, ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def write_demo_file(path: Path, info: dict[str, Any]) -> None:
    """demo.json, readable by its owner only (it holds a token and the stations' passwords)."""
    path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)


def main() -> int:
    """Entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return asyncio.run(Demo(parse_args(sys.argv[1:])).run())


if __name__ == "__main__":
    sys.exit(main())
