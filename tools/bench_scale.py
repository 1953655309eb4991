"""Scale benchmark: one real Home Assistant running the integration, N simulated stations in other processes.

Started by `scripts/bench scale`. For each N (`--stations 100,500,1000`), a fresh Home Assistant (`hass -c` on a
temporary config dir, set up as `scripts/demo` does, with a minimal configuration) starts with the N stations
pre-approved in the integration's storage, and `--processes`-many simulator processes (`python -m tools.simulator`,
charge scenario: every station charges, sending a TransactionEvent with meter values every 10 s, and heartbeats)
connect to it over loopback. Measured in the Home Assistant process:

- event-loop lag: `tools/bench_probe`, a custom component copied into the config dir, runs a callback every
  100 ms and records how late it runs (p50/p99/max over the `--duration` window);
- CPU: utime+stime of the process over the window (/proc/<pid>/stat), in % of one core;
- memory: resident set size with N connected stations, minus that of a Home Assistant with no station at all,
  per station (constant costs paid on the first connection, e.g. code loaded then, weigh on small N); the
  marginal cost between consecutive N; and "retained": the same after `gc.collect()` and glibc's `malloc_trim(0)`
  in both processes, i.e. without the free heap left by the first-connection burst (1000 device-model reports),
  printed by kind of mapping (C heap, other threads' malloc arenas, anonymous, files) with Python's allocator's
  arenas, live blocks and free space;
- storm: every station's TCP connection is reset at once (the probe's network blip, `--blip abort`: no close
  frames, as when a network breaks; `--blip close`: we close each with a close frame, all in one event-loop
  turn, a harsher storm than a blip; the simulators reconnect
  with their OCPP back-off, 1-5 s, doubled per refused attempt); the time until all are back, the event-loop lag
  meanwhile, and the admission pace's figures (its rate, handshakes queued and refused, cuts); `--timeline` adds
  the slow event-loop turns with what ran in them and the stations connected each second;
- reconnection: the config entry is reloaded through the REST API (the listener stops, every connection drops,
  the listener starts again); the time until every station's connectivity sensor is on again;
- restart (`--no-restart` to skip): Home Assistant itself is stopped and started again on the same config dir
  while the stations keep running; the time from its API being up until every station is connected, the lag
  meanwhile, and the retained memory per station once settled: the steady state of a fleet, whose device models
  then come from storage rather than from a first-connection burst of reports.

The figures are printed next to the previous run's, kept in `.bench/scale-last.json` (not versioned).

Prints markdown tables. Targets (reported, not asserted): lag p99 < 50 ms and < 150 kB per station at 1000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass
import itertools
import json
import math
import os
from pathlib import Path
import platform
import resource
import shutil
import socket
import sys
import tempfile
import time
from typing import Any, Final

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.demo import DOMAIN, Demo, prepare_config_dir
from tools.simulator.fleet import station_ids

PASSWORD = "bench-password-0123456789"  # a throw-away loopback benchmark
TARGET_LAG_P99_MS = 50.0
TARGET_KB_PER_STATION = 150.0
TARGET_STORM_LAG_P99_MS = 100.0
#: The previous run's figures, printed next to this run's (not versioned).
LAST_RUN = ROOT / ".bench" / "scale-last.json"

# The integration and the probe; nothing else (no recorder, no frontend): the measurement is the integration's.
BENCH_YAML = """\
homeassistant:
  name: OCPP scale bench
  unit_system: metric
  time_zone: UTC
  currency: EUR
  country: NL
  latitude: 52.37
  longitude: 4.89
  elevation: 0

onboarding:
config:
api:
bench_probe:

logger:
  default: warning
"""


@dataclass
class Result:
    """What one run measured."""

    stations: int
    connect_s: float | None = None
    lag_p50: float = math.nan
    lag_p99: float = math.nan
    lag_max: float = math.nan
    cpu_pct: float = math.nan
    rss_mib: float = math.nan
    kb_per_station: float | None = None
    rss_retained_mib: float = math.nan
    kb_retained_per_station: float | None = None
    marginal_kb: float | None = None
    reconnect_s: float | None = None
    reconnect_lag_p99: float = math.nan
    #: Full (generation 2) garbage collections while reconnecting after the reload: their pauses, ms.
    reconnect_full_gcs: list[float] | None = None
    #: After Home Assistant itself restarted (a clean stop; the stations' inventories then come from storage):
    #: seconds from its API being up until every station is connected, the lag meanwhile, and the memory once
    #: settled (the steady state of a fleet: no first-connection report burst).
    restart_s: float | None = None
    restart_lag_p99: float = math.nan
    restart_kb_retained_per_station: float | None = None
    storm_s: float | None = None
    storm_lag_p50: float = math.nan
    storm_lag_p99: float = math.nan
    storm_lag_max: float = math.nan
    storm_full_gcs: list[float] | None = None
    messages_per_s: float = 0.0
    settle_s: float | None = None
    entities: int | None = None
    #: --tracemalloc: memory traced from the first connection until settled, per station, by owner (KiB).
    traced_by_owner: dict[str, float] | None = None
    #: The same after the restart, traced from the new process's start (its own start-up included).
    restart_traced_by_owner: dict[str, float] | None = None


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="scripts/bench scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", default="100,500,1000", help="comma-separated station counts (100,500,1000)")
    parser.add_argument("--duration", type=float, default=60.0, help="measurement window per count, s (60)")
    parser.add_argument("--processes", type=int, default=4, help="simulator processes (4)")
    parser.add_argument("--meter-interval", type=float, default=10.0, help="seconds between meter values (10)")
    parser.add_argument("--heartbeat", type=int, default=60, help="heartbeat interval the CSMS gives, s (60)")
    parser.add_argument(
        "--settle",
        type=float,
        default=15.0,
        help="after all connected, wait at least this long and until no entity was added for 10 s (15)",
    )
    parser.add_argument(
        "--entities",
        choices=("essential", "full"),
        default="essential",
        help="the integration's entity detail option (essential): with full, Home Assistant's limit of 10,000 "
        "enabled entities per config entry is reached near 100 stations, and further stations get no entities",
    )
    parser.add_argument(
        "--blip",
        choices=("abort", "close"),
        default="abort",
        help="how the storm drops the connections: reset (abort, as a broken network) or closed by us (close)",
    )
    parser.add_argument(
        "--restart",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the reload, restart Home Assistant itself: stations back, lag, memory settled (on)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary config dirs (logs) for inspection")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the storm and the reload in Home Assistant (storm.txt, reload.txt; slow callbacks in its log); "
        "implies --keep; the figures are then not comparable",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="time the event loop's turns during the storm and print the slow ones with what ran in them (a clock "
        "read per callback: the storm's lag figures are then a little worse)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="trace allocations from the first connection until settled (memory.txt, by line and by file); "
        "implies --keep; the figures are then not comparable",
    )
    args = parser.parse_args(argv)
    args.keep = args.keep or args.profile or args.tracemalloc
    try:
        args.counts = sorted({int(part) for part in args.stations.split(",") if part.strip()})
    except ValueError:
        parser.error("--stations takes comma-separated integers")
    if not args.counts or min(args.counts) < 1:
        parser.error("--stations needs positive counts")
    return args


def free_port() -> int:
    """A loopback TCP port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def raise_fd_limit() -> int:
    """Raise the soft open-files limit to the hard one (inherited by Home Assistant and the simulators)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pymalloc_figures(stats: dict[str, int]) -> str:
    """Python's small-object allocator in MiB: its arenas, their live blocks, and their free space (fragmentation)."""
    if "arenas" not in stats:
        return "-"
    mib = 1024 * 1024
    arenas, live = stats["arenas"] / mib, stats.get("allocated", 0) / mib
    in_used, in_unused = stats.get("available", 0) / mib, stats.get("unused_pools", 0) / mib
    return (
        f"{arenas:.0f} MiB in arenas, {live:.0f} live, {arenas - live:.0f} free "
        f"({in_used:.0f} in used pools, {in_unused:.0f} in unused pools)"
    )


def resident_by_kind(pid: int) -> dict[str, float]:
    """Resident MiB of the process by kind of mapping (/proc/<pid>/smaps).

    The main thread's C heap (`heap`), the malloc arenas of other threads (anonymous maps starting on a 64 MiB
    boundary), other anonymous maps (Python's object arenas, see the pymalloc figures, and thread stacks) and files.
    """
    kinds: dict[str, float] = {}
    kind = "files"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):
            start = int(fields[0].split("-")[0], 16)
            name = fields[5] if len(fields) > 5 else ""
            if name == "[heap]":
                kind = "heap"
            elif name:
                kind = "files"
            elif start % (1 << 26) == 0:
                kind = "thread arenas"
            else:
                kind = "anonymous"
        elif fields[0] == "Rss:":
            kinds[kind] = kinds.get(kind, 0.0) + int(fields[1]) / 1024
    return kinds


def rss_mib(pid: int) -> float:
    """Resident set size of a process, MiB."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` quantile (nearest rank)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def process_plan(count: int, processes: int) -> list[tuple[int, int]]:
    """(first station number, how many) per simulator process."""
    size = math.ceil(count / processes)
    plan = []
    first = 1
    while first <= count:
        plan.append((first, min(size, count - first + 1)))
        first += size
    return plan


def write_records(config_dir: Path, plan: list[tuple[int, int]]) -> None:
    """Pre-approve the stations (profile 1, one shared password hash: hashing 1000 passwords would take 20 s)."""
    from custom_components.ocpp_csms.const import STORAGE_KEY, STORAGE_VERSION  # noqa: PLC0415 - slow import
    from custom_components.ocpp_csms.csms.passwords import hash_password  # noqa: PLC0415

    password_hash = hash_password(PASSWORD)
    records = [
        {"station_id": station_id, "security_profile": 1, "password_hash": password_hash, "lenient": False}
        for first, count in plan
        for station_id in station_ids(count, "sim-", first)
    ]
    store = {"version": STORAGE_VERSION, "minor_version": 1, "key": STORAGE_KEY, "data": {"stations": records}}
    (config_dir / ".storage" / STORAGE_KEY).write_text(json.dumps(store), encoding="utf-8")


class BenchHome:
    """One Home Assistant for one measurement, with the probe and the integration."""

    def __init__(self, base: Path, name: str) -> None:
        """A config dir below `base`."""
        self.config_dir = base / name
        self.ha_port = free_port()
        self.ocpp_port = free_port()
        self.demo = Demo(
            argparse.Namespace(config_dir=self.config_dir, ha_port=self.ha_port, ocpp_port=self.ocpp_port, stations=0)
        )
        self.token = ""
        self.entry_id = ""
        self.session: aiohttp.ClientSession | None = None

    @property
    def pid(self) -> int:
        """Home Assistant's process id."""
        assert self.demo.process is not None
        return self.demo.process.pid

    def prepare(self, plan: list[tuple[int, int]]) -> None:
        """Config dir like the demo's, loopback only, with the probe and the pre-approved stations."""
        prepare_config_dir(self.config_dir, self.ha_port, BENCH_YAML)
        http = self.config_dir / ".storage" / "http"
        store = json.loads(http.read_text(encoding="utf-8"))
        store["data"]["stable"]["server_host"] = ["127.0.0.1"]
        http.write_text(json.dumps(store), encoding="utf-8")
        shutil.copytree(ROOT / "tools" / "bench_probe", self.config_dir / "custom_components" / "bench_probe")
        if plan:
            write_records(self.config_dir, plan)

    async def start(self, heartbeat: int, entities: str) -> None:
        """Start Home Assistant, log in, configure the integration (heartbeat interval, entity detail)."""
        # --skip-pip: everything is installed already; a benchmark never waits for pip.
        await self.demo.start_home_assistant("--skip-pip")
        self.session = aiohttp.ClientSession()
        await self.demo.wait_until_up(self.session)
        self.token = await self.demo.long_lived_token(self.session, await self.demo.onboard(self.session))
        entry = await self.demo.ensure_entry(self.session, self.token)
        if entry.get("state") != "loaded":
            raise SystemExit(f"{DOMAIN} did not load: {entry}; see {self.config_dir}")
        self.entry_id = entry["entry_id"]
        await self._configure(heartbeat, entities)

    async def _configure(self, heartbeat: int, entities: str) -> None:
        """Options flow: settings -> heartbeat interval and entity detail (the entry reloads)."""
        base = f"{self.demo.base}/api/config/config_entries/options/flow"
        flow = await self.post(base, {"handler": self.entry_id})
        flow = await self.post(f"{base}/{flow['flow_id']}", {"next_step_id": "settings"})
        result = await self.post(
            f"{base}/{flow['flow_id']}",
            {
                "unknown_stations": "approve",
                "unknown_tokens": "reject",
                "heartbeat_interval": heartbeat,
                "entity_detail": entities,
            },
        )
        if result.get("type") != "create_entry":
            raise SystemExit(f"could not configure {DOMAIN}: {result}")
        await asyncio.sleep(2)  # the entry reloads with the new options

    async def post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST JSON with the token."""
        assert self.session is not None
        async with self.session.post(url, json=body, headers={"Authorization": f"Bearer {self.token}"}) as resp:
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def probe(
        self,
        *,
        reset: bool = False,
        trim: bool = False,
        blip: str | None = None,
        profile: str | None = None,
        trace: str | None = None,
        objects: str | None = None,
        slow: str | None = None,
    ) -> dict[str, Any]:
        """The probe's report (lags since the last reset, connected stations).

        `trim` frees heap pages first; `blip` ("abort" or "close") drops every station's connection; `profile` and
        `trace` start
        (`start`) or write (a name) a cProfile or tracemalloc report.
        """
        assert self.session is not None
        params = {name: "1" for name, wanted in (("reset", reset), ("trim", trim)) if wanted}
        params |= {
            name: value
            for name, value in (
                ("blip", blip),
                ("profile", profile),
                ("tracemalloc", trace),
                ("objects", objects),
                ("slow", slow),
            )
            if value
        }
        async with self.session.get(
            f"{self.demo.base}/api/bench_probe",
            params=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=aiohttp.ClientTimeout(total=60),
        ) as resp:
            resp.raise_for_status()
            report: dict[str, Any] = await resp.json()
            return report

    async def retained_rss(self) -> float:
        """Resident MiB after garbage collection and `malloc_trim` in the Home Assistant process."""
        answer = await self.probe(trim=True)
        rss = rss_mib(self.pid)
        kinds = ", ".join(f"{kind} {mib:.0f}" for kind, mib in sorted(resident_by_kind(self.pid).items()))
        print(f"    resident MiB by mapping: {kinds}", flush=True)
        print(
            f"    retained {rss:.0f} MiB; {answer['allocated_blocks']} allocated blocks; "
            f"{answer['gc_objects']} objects tracked; pymalloc: {pymalloc_figures(answer.get('pymalloc', {}))}",
            flush=True,
        )
        return rss

    async def wait_connected(self, count: int, within: float) -> float | None:
        """Seconds until `count` connectivity sensors are on (None: not within `within` seconds)."""
        started = time.monotonic()
        while time.monotonic() - started < within:
            if (await self.probe())["connected"] >= count:
                return time.monotonic() - started
            await asyncio.sleep(0.25)
        return None

    async def settle(self, minimum: float, stations: int = 0, maximum: float = 300.0) -> tuple[float, int]:
        """Wait until every station's device model arrived and the states and entity registry stop growing.

        The first-connection work (GetBaseReport, entities) is then done; (seconds, entities).
        """
        started = time.monotonic()
        history: list[tuple[int, int]] = []
        while True:
            report = await self.probe(reset=True)
            history.append((report["states"], report["entities"]))
            elapsed = time.monotonic() - started
            stable = len(history) >= 3 and len(set(history[-3:])) == 1 and report["inventories"] >= stations
            if (elapsed >= minimum and stable) or elapsed >= maximum:
                return elapsed, int(report["entities"])
            await asyncio.sleep(5)

    async def restart(self, *, trace: bool = False) -> None:
        """Stop Home Assistant gracefully and start it again on the same config dir (the token stays valid).

        `trace`: the new process traces its allocations from its start (PYTHONTRACEMALLOC).
        """
        if self.session is not None:
            await self.session.close()
        await self.demo.stop()
        if trace:
            os.environ["PYTHONTRACEMALLOC"] = "1"
        try:
            await self.demo.start_home_assistant("--skip-pip")
        finally:
            os.environ.pop("PYTHONTRACEMALLOC", None)
        self.session = aiohttp.ClientSession()
        await self.demo.wait_until_up(self.session)
        for _ in range(600):  # the API answers before every integration, the probe among them, is set up
            with contextlib.suppress(aiohttp.ClientResponseError):
                await self.probe(reset=True)
                return
            await asyncio.sleep(0.1)
        raise SystemExit(f"the bench probe did not come up after the restart; see {self.config_dir}")

    async def reload(self) -> None:
        """Reload the config entry through the REST API (the listener restarts, connections drop)."""
        await self.post(f"{self.demo.base}/api/config/config_entries/entry/{self.entry_id}/reload", {})

    async def stop(self) -> None:
        """Stop Home Assistant."""
        if self.session is not None:
            await self.session.close()
        await self.demo.stop()


class Simulators:
    """The simulator processes of one measurement."""

    def __init__(self, home: BenchHome, plan: list[tuple[int, int]], meter_interval: float) -> None:
        """Not started yet."""
        self.home = home
        self.plan = plan
        self.meter_interval = meter_interval
        self.processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        """One process per plan entry, every station charging from the start (charge scenario, long sessions)."""
        for index, (first, count) in enumerate(self.plan):
            log = (self.home.config_dir / f"simulator-{index}.log").open("ab")
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tools.simulator",
                "--url",
                f"ws://127.0.0.1:{self.home.ocpp_port}",
                "--stations",
                str(count),
                "--first",
                str(first),
                "--password",
                PASSWORD,
                "--scenario",
                "charge",
                "--meter-interval",
                str(self.meter_interval),
                "--idle-time",
                "5",
                "--charge-time",
                "86400",
                "--plug-delay",
                "1",
                "--backoff-min",
                "1",
                "--backoff-range",
                "4",
                "--stats-interval",
                "30",
                # Keep charging whatever the CSMS says of the ID tokens (E05.FR.03): a steady meter-value load.
                "--set",
                "TxCtrlr.StopTxOnInvalidId=false",
                "--set",
                "TxCtrlr.MaxEnergyOnInvalidId=1000000000",
                "--log-level",
                "WARNING",
                cwd=ROOT,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
            log.close()
            self.processes.append(process)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL."""
        for process in self.processes:
            if process.returncode is None:
                process.terminate()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def measure_window(home: BenchHome, duration: float) -> tuple[list[float], float]:
    """Event-loop lags and CPU % of the Home Assistant process over `duration` seconds."""
    await home.probe(reset=True)
    cpu0, t0 = cpu_seconds(home.pid), time.monotonic()
    await asyncio.sleep(duration)
    cpu1, t1 = cpu_seconds(home.pid), time.monotonic()
    lags = (await home.probe(reset=True))["lags_ms"]
    return lags, 100.0 * (cpu1 - cpu0) / (t1 - t0)


async def run_baseline(base: Path, args: argparse.Namespace) -> Result:
    """Home Assistant with the integration and no station at all."""
    home = BenchHome(base, "stations-0")
    home.prepare([])
    try:
        await home.start(args.heartbeat, args.entities)
        settle_s, entities = await home.settle(args.settle)
        lags, cpu = await measure_window(home, min(args.duration, 20.0))
        return Result(
            stations=0,
            settle_s=settle_s,
            entities=entities,
            lag_p50=percentile(lags, 0.5),
            lag_p99=percentile(lags, 0.99),
            lag_max=max(lags, default=math.nan),
            cpu_pct=cpu,
            rss_mib=rss_mib(home.pid),
            rss_retained_mib=await home.retained_rss(),
        )
    finally:
        await home.stop()


async def run_count(base: Path, count: int, args: argparse.Namespace, baseline: Result) -> Result:
    """One measurement with `count` stations."""
    plan = process_plan(count, args.processes)
    home = BenchHome(base, f"stations-{count}")
    home.prepare(plan)
    result = Result(stations=count)
    simulators = Simulators(home, plan, args.meter_interval)
    try:
        await home.start(args.heartbeat, args.entities)
        print(f"  {count}: Home Assistant up (pid {home.pid}); starting {len(plan)} simulator processes", flush=True)
        if args.tracemalloc:
            await home.probe(trace="start")
        await simulators.start()
        result.connect_s = await home.wait_connected(count, within=300)
        if result.connect_s is None:
            print(f"  {count}: not all stations connected within 300 s; see {home.config_dir}", file=sys.stderr)
            return result
        print(f"  {count}: all connected after {result.connect_s:.1f} s; settling", flush=True)
        result.settle_s, result.entities = await home.settle(args.settle, count)
        print(f"  {count}: settled after {result.settle_s:.0f} s; measuring {args.duration:.0f} s", flush=True)
        if args.tracemalloc:
            memory_report = (await home.probe(trace="memory"))["tracemalloc"]
            print(f"  {count}: {memory_report}", flush=True)
            result.traced_by_owner = traced_by_owner(Path(memory_report), count)
            print(f"  {count}: {(await home.probe(objects='objects'))['objects']}", flush=True)
        lags, cpu = await measure_window(home, args.duration)
        result.lag_p50, result.lag_p99 = percentile(lags, 0.5), percentile(lags, 0.99)
        result.lag_max = max(lags, default=math.nan)
        result.cpu_pct = cpu
        result.rss_mib = rss_mib(home.pid)
        result.kb_per_station = (result.rss_mib - baseline.rss_mib) * 1024 / count
        result.rss_retained_mib = await home.retained_rss()
        result.kb_retained_per_station = (result.rss_retained_mib - baseline.rss_retained_mib) * 1024 / count
        result.messages_per_s = count / args.meter_interval + count / args.heartbeat
        print(f"  {count}: network blip: every connection dropped at once (a reconnection storm)", flush=True)
        await storm(home, count, result, blip=args.blip, profile=args.profile, timeline=args.timeline)
        await reload(home, count, result, profile=args.profile)
        if args.restart:
            await restart(home, count, result, args, baseline)
        return result
    finally:
        await simulators.stop()
        await home.stop()


async def reload(home: BenchHome, count: int, result: Result, *, profile: bool = False) -> None:
    """Reload the config entry: the time until every station is back, the lag and full collections meanwhile."""
    print(f"  {count}: reloading the config entry (listener restart)", flush=True)
    await home.probe(reset=True, profile="start" if profile else None)
    started = time.monotonic()
    await home.reload()
    back = await home.wait_connected(count, within=300)
    if profile:
        print(f"  {count}: {(await home.probe(profile='reload'))['profile']}", flush=True)
    result.reconnect_s = None if back is None else time.monotonic() - started
    window = await home.probe(reset=True)
    result.reconnect_lag_p99 = percentile(window["lags_ms"], 0.99)
    result.reconnect_full_gcs = window["full_gcs_ms"]


async def restart(home: BenchHome, count: int, result: Result, args: argparse.Namespace, baseline: Result) -> None:
    """Restart Home Assistant with the stations running: time until all are back, lag meanwhile, memory settled."""
    print(f"  {count}: restarting Home Assistant (the stations reconnect to the new process)", flush=True)
    await home.restart(trace=args.tracemalloc)
    back = await home.wait_connected(count, within=300)
    result.restart_s = back
    result.restart_lag_p99 = percentile((await home.probe(reset=True))["lags_ms"], 0.99)
    if back is None:
        print(f"  {count}: not all stations back within 300 s of the restart; see {home.config_dir}", file=sys.stderr)
        return
    await home.settle(args.settle, count)
    if args.tracemalloc:
        memory_report = (await home.probe(trace="memory-restart"))["tracemalloc"]
        print(f"  {count}: {memory_report}", flush=True)
        result.restart_traced_by_owner = traced_by_owner(Path(memory_report), count)
        print(f"  {count}: {(await home.probe(objects='objects-restart'))['objects']}", flush=True)
    retained = await home.retained_rss()
    result.restart_kb_retained_per_station = (retained - baseline.rss_retained_mib) * 1024 / count


async def storm(
    home: BenchHome, count: int, result: Result, *, blip: str = "abort", profile: bool = False, timeline: bool = False
) -> None:
    """Drop every connection at once; the time until all are back, and the event-loop lag meanwhile."""
    await home.probe(reset=True, profile="start" if profile else None, slow="start" if timeline else None)
    started = time.monotonic()
    await home.probe(blip=blip)
    while time.monotonic() - started < 60 and (await home.probe())["connected"] >= count:
        await asyncio.sleep(0.1)  # the connectivity sensors go off
    back = await home.wait_connected(count, within=300)
    result.storm_s = None if back is None else time.monotonic() - started
    if profile:
        print(f"  {count}: {(await home.probe(profile='storm'))['profile']}", flush=True)
    elif timeline:
        answer = await home.probe(slow="stop")
        slow = answer["slow"]
        counts = answer.get("connected_over_time", [])
        each_second = [f"{at:.0f} s: {count}" for index, (at, count) in enumerate(counts) if index % 10 == 0]
        print(f"    storm: stations connected over time: {', '.join(each_second)}", flush=True)
        print(f"    storm: {len(slow)} event-loop callbacks over 20 ms (s after the blip, ms, what ran):", flush=True)
        for at, ms, what in slow[:40]:
            print(f"      {at:5.2f} {ms:6.1f} {what[:160]}", flush=True)
    window = await home.probe(reset=True)
    lags = window["lags_ms"]
    for pace in window.get("pace", []):
        print(
            f"    storm: admission rate {pace['rate']}/s now; {pace['paced']} handshakes waited for their place, "
            f"{pace['refused']} refused (503), {pace['cuts']} cuts of the rate for the event loop's lag",
            flush=True,
        )
    # Each sample is taken 100 ms after the previous one ran, late by its lag: when it was, from their sum.
    at = list(itertools.accumulate((0.1 + lag / 1000 for lag in lags), initial=0.0))
    late = [f"{at[index]:.1f} s: {lag:.0f} ms" for index, lag in enumerate(lags) if lag > 50]
    print(f"    storm: samples over 50 ms (about when after the blip, lag): {', '.join(late) or 'none'}", flush=True)
    result.storm_full_gcs = window["full_gcs_ms"]
    result.storm_lag_p50, result.storm_lag_p99 = percentile(lags, 0.5), percentile(lags, 0.99)
    result.storm_lag_max = max(lags, default=math.nan)


def fmt(value: float | None, digits: int = 1) -> str:
    """A number for the table ('-' when unknown)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def gc_pauses(pauses: list[float] | None) -> str:
    """How many full garbage collections, and the longest pause ('-' when unknown)."""
    if pauses is None:
        return "-"
    return f"{len(pauses)}, {max(pauses, default=0.0):.0f}"


def report(results: list[Result], args: argparse.Namespace, fd_limit: int, elapsed: float) -> str:
    """The markdown tables."""
    from homeassistant.const import __version__ as ha_version  # noqa: PLC0415

    setup = (
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Home Assistant {ha_version}; "
        f"{args.processes} simulator processes; every station charging (TransactionEvent with meter values every "
        f"{args.meter_interval:g} s) and sending heartbeats every {args.heartbeat} s; entity detail "
        f"`{args.entities}`; window {args.duration:g} s; storm blip `{args.blip}`; "
        f"open-files limit {fd_limit}; total run {elapsed / 60:.1f} min."
    )
    for previous, current in itertools.pairwise(results):
        if not (math.isnan(previous.rss_mib) or math.isnan(current.rss_mib)):
            current.marginal_kb = (current.rss_mib - previous.rss_mib) * 1024 / (current.stations - previous.stations)
    header = (
        "| stations | entities | msgs/s in | all connected (s) | settled (s) | loop lag p50 (ms) | p99 (ms) | max (ms) "
        "| HA CPU (% of a core) | HA RSS (MiB) | RSS per station (kB) | marginal (kB) | retained per station (kB) "
        "| reconnect all after reload (s) "
        "| lag p99 while reconnecting (ms) |"
    )
    lines = [
        "### Scale: one Home Assistant process, N simulated stations (separate processes, loopback)",
        "",
        setup,
        "",
        header,
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines.extend(
        f"| {r.stations} | {r.entities if r.entities is not None else '-'} | {fmt(r.messages_per_s, 0)} "
        f"| {fmt(r.connect_s)} | {fmt(r.settle_s, 0)} | {fmt(r.lag_p50)} | {fmt(r.lag_p99)} | {fmt(r.lag_max)} "
        f"| {fmt(r.cpu_pct, 0)} | {fmt(r.rss_mib, 0)} | {fmt(r.kb_per_station, 0)} | {fmt(r.marginal_kb, 0)} "
        f"| {fmt(r.kb_retained_per_station, 0)} | {fmt(r.reconnect_s)} | {fmt(r.reconnect_lag_p99)} |"
        for r in results
    )
    largest = max(results, key=lambda r: r.stations)
    lag_met = "yes" if largest.lag_p99 < TARGET_LAG_P99_MS else "no"
    memory_met = "yes" if (largest.kb_per_station or math.inf) < TARGET_KB_PER_STATION else "no"
    memory = f"memory < {TARGET_KB_PER_STATION:g} kB per station"
    retained_kb = fmt(largest.kb_retained_per_station, 0)
    retained_met = "yes" if (largest.kb_retained_per_station or math.inf) < TARGET_KB_PER_STATION else "no"
    lines += [
        "",
        (
            "| stations | storm: all back after a blip (s) | lag p50 during the storm (ms) | p99 (ms) | max (ms) "
            "| full GCs during the storm (n, longest ms) | full GCs reconnecting after the reload (n, longest ms) |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {r.stations} | {fmt(r.storm_s)} | {fmt(r.storm_lag_p50)} | {fmt(r.storm_lag_p99)} "
            f"| {fmt(r.storm_lag_max)} | {gc_pauses(r.storm_full_gcs)} | {gc_pauses(r.reconnect_full_gcs)} |"
            for r in results
            if r.stations
        ),
    ]
    if any(r.restart_s is not None for r in results):
        lines += [
            "",
            (
                "| stations | all back after a Home Assistant restart (s) | lag p99 meanwhile (ms) "
                "| retained per station after the restart (kB) |"
            ),
            "|---:|---:|---:|---:|",
            *(
                f"| {r.stations} | {fmt(r.restart_s)} | {fmt(r.restart_lag_p99)} "
                f"| {fmt(r.restart_kb_retained_per_station, 0)} |"
                for r in results
                if r.stations
            ),
        ]
    largest = max(results, key=lambda r: r.stations)
    storm_met = "yes" if largest.storm_lag_p99 < TARGET_STORM_LAG_P99_MS else "no"
    lines += [
        "",
        "| target (at the largest N) | measured | met |",
        "|---|---:|:---:|",
        f"| event-loop lag p99 < {TARGET_LAG_P99_MS:g} ms | {fmt(largest.lag_p99)} ms | {lag_met} |",
        f"| {memory} (RSS) | {fmt(largest.kb_per_station, 0)} kB | {memory_met} |",
        f"| {memory} (retained: after gc + malloc_trim) | {retained_kb} kB | {retained_met} |",
        *(
            [
                (
                    f"| {memory} (retained, after a Home Assistant restart) "
                    f"| {fmt(largest.restart_kb_retained_per_station, 0)} kB "
                    f"| {'yes' if largest.restart_kb_retained_per_station < TARGET_KB_PER_STATION else 'no'} |"
                )
            ]
            if largest.restart_kb_retained_per_station is not None
            else []
        ),
        (
            f"| lag p99 during the reconnection storm < {TARGET_STORM_LAG_P99_MS:g} ms "
            f"| {fmt(largest.storm_lag_p99)} ms | {storm_met} |"
        ),
    ]
    lines += owners_table(results)
    lines += compare_with_previous(results, store=not (args.profile or args.tracemalloc))
    return "\n".join(lines)


#: Who allocated what tracemalloc traced, by the path of the allocating file (the first match wins).
OWNERS: Final = (
    ("the integration", ("/custom_components/ocpp_csms/",)),
    ("websockets (connections, permessage-deflate)", ("/websockets/",)),
    ("asyncio, sockets, ssl", ("/asyncio/", "/socket.py", "/ssl.py", "/selectors.py")),
    (
        "Home Assistant (entities, devices, registries, states, events)",
        ("/homeassistant/", "/attr/", "<attrs generated", "/propcache/", "/ulid_transform/", "/uuid.py"),
    ),
)


def traced_by_owner(path: Path, stations: int) -> dict[str, float]:
    """KiB per station by owner, from the probe's tracemalloc report (its by-filename section; the rest: other)."""
    sizes = dict.fromkeys([name for name, _ in OWNERS] + ["other"], 0.0)
    total = 0.0
    in_section = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## by filename: total "):
            total, in_section = float(line.split()[4]), True
            continue
        if line.startswith("## "):
            in_section = False
        if not in_section or not line.strip():
            continue
        size, _unit, _blocks, where = line.split(maxsplit=3)
        owner = next((name for name, marks in OWNERS if any(mark in where for mark in marks)), "other")
        sizes[owner] += float(size)
    sizes["other"] += total - sum(sizes.values())
    return {owner: size / stations for owner, size in sizes.items()}


def owners_table(results: list[Result]) -> list[str]:
    """The traced memory per station by owner (--tracemalloc runs)."""
    traced = [r for r in results if r.traced_by_owner]
    if not traced:
        return []
    lines = [
        "",
        (
            "Memory allocated from the first connection until settled and still held, per station (tracemalloc; "
            "Python's allocator and fragmentation come on top in the RSS):"
        ),
        "",
        "| stations | owner | KiB per station | per entity |",
        "|---:|---|---:|---:|",
    ]
    for r in traced:
        per_station_entities = (r.entities or 0) / r.stations
        for when, owners in (("", r.traced_by_owner), (" (restart*)", r.restart_traced_by_owner)):
            for owner, kib in (owners or {}).items():
                per_entity = (
                    fmt(kib / per_station_entities) if owner.startswith("Home") and per_station_entities else "-"
                )
                lines.append(f"| {r.stations}{when} | {owner} | {fmt(kib)} | {per_entity} |")
            if owners:
                lines.append(f"| {r.stations}{when} | all | {fmt(sum(owners.values()))} | - |")
    if any(r.restart_traced_by_owner for r in traced):
        lines += ["", "*: traced from the restarted process's start: its own start-up (no station) is included."]
    return lines


#: The figures compared with the previous run: (Result field, label).
COMPARED: Final = (
    ("lag_p99", "loop lag p99 (ms)"),
    ("cpu_pct", "HA CPU (% of a core)"),
    ("kb_per_station", "RSS per station (kB)"),
    ("kb_retained_per_station", "retained per station (kB)"),
    ("reconnect_s", "reconnect all after reload (s)"),
    ("reconnect_lag_p99", "lag p99 while reconnecting after reload (ms)"),
    ("storm_s", "storm: all back after a blip (s)"),
    ("storm_lag_p99", "lag p99 during the storm (ms)"),
    ("restart_s", "all back after a Home Assistant restart (s)"),
    ("restart_lag_p99", "lag p99 while reconnecting after the restart (ms)"),
    ("restart_kb_retained_per_station", "retained per station after the restart (kB)"),
)


def compare_with_previous(results: list[Result], *, store: bool = True) -> list[str]:
    """A table of this run's figures next to the previous run's (LAST_RUN); this run becomes the previous one.

    Not `store`: a profiled run, whose figures are not comparable, leaves the previous one.
    """
    previous: dict[str, Any] = {}
    if LAST_RUN.exists():
        with contextlib.suppress(ValueError, OSError):
            previous = json.loads(LAST_RUN.read_text(encoding="utf-8"))
    lines = ["", f"Compared with the previous run ({previous.get('when', 'none stored')}, {LAST_RUN.name}):", ""]
    lines += ["| stations | figure | previous | now |", "|---:|---|---:|---:|"]
    runs = previous.get("results", {})
    for result in results:
        if not result.stations:
            continue
        before = runs.get(str(result.stations), {})
        for name, label in COMPARED:
            now = getattr(result, name)
            lines.append(f"| {result.stations} | {label} | {fmt(before.get(name))} | {fmt(now)} |")
    stored = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "results": {str(r.stations): {name: getattr(r, name) for name, _ in COMPARED} for r in results if r.stations},
    }
    if not store:
        return lines
    LAST_RUN.parent.mkdir(exist_ok=True)
    merged = {**runs, **stored["results"]}  # counts not run this time keep their last figures
    LAST_RUN.write_text(json.dumps({"when": stored["when"], "results": merged}, indent=1), encoding="utf-8")
    return lines


async def main_async(args: argparse.Namespace) -> int:
    """Baseline, then each count."""
    fd_limit = raise_fd_limit()
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="ocpp-bench-scale-"))
    print(f"Scale benchmark in {base} (counts {args.counts}, window {args.duration:g} s)", flush=True)
    results: list[Result] = []
    try:
        print("  0: Home Assistant without stations (memory baseline)", flush=True)
        baseline = await run_baseline(base, args)
        results.append(baseline)
        results.extend([await run_count(base, count, args, baseline) for count in args.counts])
    finally:
        if args.keep:
            print(f"Config dirs and logs kept in {base}", flush=True)
        else:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(report(results, args, fd_limit, time.monotonic() - started))
    return 0 if all(r.connect_s is not None and r.reconnect_s is not None for r in results[1:]) else 1


def main() -> int:
    """Entry point."""
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
