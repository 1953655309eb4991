"""Run a real Home Assistant with the integration configured, onboarding done and a demo login.

Started by `scripts/demo`; see `scripts/demo --help`. Writes `CONFIG_DIR/demo.json` with the URL, the login, a
long-lived access token and the OCPP endpoint once Home Assistant is up. Ctrl-C (SIGINT) or SIGTERM stops it.

Unless `--no-simulator` is given, it also runs simulated charging stations (`python -m tools.simulator`, in a
process of their own, log in CONFIG_DIR/simulator.log), pre-approved: their records, each with a random password
that demo.json keeps across runs, are written into the integration's storage before Home Assistant starts.
"""

from __future__ import annotations

import argparse
import asyncio
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
    parser.add_argument("--ha-port", type=int, default=8123, help="port of the Home Assistant web UI")
    parser.add_argument("--ocpp-port", type=int, default=9201, help="port chargers connect to")
    parser.add_argument("--stations", type=int, default=1, help="simulated charging stations to run (default 1)")
    parser.add_argument("--no-simulator", action="store_true", help="run no simulated charging station")
    args = parser.parse_args(argv)
    if args.stations < 0:
        parser.error("--stations must not be negative")
    if args.no_simulator:
        args.stations = 0
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
    from custom_components.ocpp_csms.const import ID_TOKENS_STORAGE_KEY, STORAGE_VERSION  # noqa: PLC0415
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
                entries.append({"id_token": token, "label": f"{station_id} driver {n}", "type": "ISO14443"})
    data["entries"] = entries
    store = {"version": STORAGE_VERSION, "minor_version": 1, "key": ID_TOKENS_STORAGE_KEY, "data": data}
    path.write_text(json.dumps(store, indent=2), encoding="utf-8")


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
        self.stations: list[dict[str, str]] = []

    async def start_home_assistant(self, *extra_args: str) -> None:
        """Start `hass -c CONFIG_DIR [extra_args]` with its log in CONFIG_DIR/home-assistant.log."""
        hass = Path(sys.executable).with_name("hass")
        log = (self.config_dir / "demo-console.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            str(hass),
            "-c",
            str(self.config_dir),
            *extra_args,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    async def start_simulator(self) -> None:
        """Run the simulated stations (charge scenario) in a process of their own, reading demo.json's passwords."""
        log = (self.config_dir / "simulator.log").open("ab")
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
            "--backoff-min",
            "2",
            "--backoff-range",
            "3",
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
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

    async def wait_until_up(self, session: aiohttp.ClientSession) -> None:
        """Poll the HTTP server until it answers, failing early if Home Assistant exits."""
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.returncode is not None:
                raise SystemExit(f"Home Assistant exited with {self.process.returncode}; see {self.log_hint()}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(f"{self.base}/api/onboarding", timeout=aiohttp.ClientTimeout(total=5)) as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(1)
        raise SystemExit(f"Home Assistant did not answer on {self.base} in {STARTUP_TIMEOUT:.0f} s; {self.log_hint()}")

    def log_hint(self) -> str:
        """Where to look when something fails."""
        return f"see {self.config_dir / 'home-assistant.log'} and {self.config_dir / 'demo-console.log'}"

    async def onboard(self, session: aiohttp.ClientSession) -> str:
        """Create the demo user (the one onboarding step left, see prepare_config_dir); return an access token."""
        async with session.get(f"{self.base}/api/onboarding") as resp:
            steps = {step["step"]: step["done"] for step in await resp.json()}
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
        if self.demo_file.exists():
            old: str = json.loads(self.demo_file.read_text(encoding="utf-8")).get("token", "")
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

    async def run(self) -> int:
        """Bring everything up, report, and wait for Ctrl-C or Home Assistant's exit."""
        for port, what in ((self.ha_port, "--ha-port"), (self.ocpp_port, "--ocpp-port")):
            if not port_is_free(port):
                print(f"port {port} ({what}) is in use; stop what uses it or choose another port", file=sys.stderr)
                return 2
        prepare_config_dir(self.config_dir, self.ha_port)
        if self.station_count:
            loop = asyncio.get_running_loop()
            self.stations = await loop.run_in_executor(None, simulated_stations, self.demo_file, self.station_count)
            await loop.run_in_executor(None, write_station_records, self.config_dir, self.stations)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        started = time.monotonic()
        print(f"Starting Home Assistant in {self.config_dir} ...", flush=True)
        await self.start_home_assistant()
        try:
            async with aiohttp.ClientSession() as session:
                up = asyncio.ensure_future(self.wait_until_up(session))
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait({up, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if stop.is_set():
                    up.cancel()
                    return 130
                stopped.cancel()
                up.result()
                token = await self.long_lived_token(session, await self.onboard(session))
                entry = await self.ensure_entry(session, token)
            info = {
                "ha_url": f"http://127.0.0.1:{self.ha_port}",
                "username": USERNAME,
                "password": PASSWORD,
                "token": token,
                "ocpp_url": f"ws://127.0.0.1:{self.ocpp_port}/<station-id>",
                "stations": self.stations,
            }
            self.demo_file.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
            self.demo_file.chmod(0o600)
            simulated = "none (--no-simulator)"
            if self.stations:
                await self.start_simulator()
                names = ", ".join(station["id"] for station in self.stations[:3])
                more = f" and {len(self.stations) - 3} more" if len(self.stations) > 3 else ""
                simulated = f"{names}{more}, charging now and then (log: {self.config_dir / 'simulator.log'})"
            print(
                f"\nHome Assistant is up after {time.monotonic() - started:.0f} s "
                f"(integration {DOMAIN}: {entry['state']}).\n"
                f"  Open      {info['ha_url']}\n"
                f"  Log in    {USERNAME} / {PASSWORD}\n"
                f"  OCPP      {info['ocpp_url']}  (point a charger here)\n"
                f"  Simulated {simulated}\n"
                f"  Details   {self.demo_file}\n"
                "Press Ctrl-C to stop.",
                flush=True,
            )
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


def main() -> int:
    """Entry point."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return asyncio.run(Demo(parse_args(sys.argv[1:])).run())


if __name__ == "__main__":
    sys.exit(main())
