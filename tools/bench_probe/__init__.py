"""A probe the scale benchmark drops into its Home Assistant config dir (`bench_probe:` in configuration.yaml).

It measures the event loop's lag from inside the process running the integration: a callback scheduled every
100 ms records how late it ran. `GET /api/bench_probe` (authenticated like the REST API) returns the lags
recorded since the last `?reset=1`, how many station connectivity sensors are on, how many states and
entity registry entries there are, and how many stations' device models (GetBaseReport) have arrived;
`?trim=1` first collects garbage and returns free heap pages to the system; `?blip=abort` resets every station's
TCP connection at once (a network blip: the stations reconnect together, a storm; `?blip=close`: closed by us
with close frames, all in one turn).

For finding what costs (`scripts/bench scale --profile`): `?profile=start` starts cProfile on the event loop's
thread and `?profile=NAME` stops it and writes `NAME.prof` and a `NAME.txt` summary into the config dir, with the
event loop's callbacks over 20 ms meanwhile. `?tracemalloc=start` starts tracing allocations and
`?tracemalloc=NAME` writes `NAME.txt`: the top allocations by file and line, and by file; `?objects=NAME` writes
`NAME.txt`: the objects the garbage collector tracks, by type (a full collection walks each of them). Every report
carries the full garbage collections' pauses since the last reset (`full_gcs_ms`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import contextlib
import cProfile
import ctypes
import gc
import io
import os
from pathlib import Path
import pstats
import re
import sys
import tempfile
import time
import tracemalloc
from typing import Any, Final

from aiohttp import web
from homeassistant.const import EVENT_HOMEASSISTANT_STOP, STATE_ON
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.http import KEY_HASS, HomeAssistantView
from homeassistant.helpers.typing import ConfigType

DOMAIN: Final = "bench_probe"
PERIOD: Final = 0.1
MAX_SAMPLES: Final = 200_000


class LagProbe:
    """A callback every PERIOD seconds; each run records how late it is, in milliseconds."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Not started yet."""
        self.loop = loop
        self.lags: list[float] = []
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        #: While set (a timeline), what it counts is recorded on each run: (loop time, count).
        self.count_fn: Callable[[], int] | None = None
        self.counts: list[tuple[float, int]] = []

    def start(self) -> None:
        """Schedule the first run."""
        self._due = self.loop.time() + PERIOD
        self._handle = self.loop.call_at(self._due, self._tick)

    def stop(self) -> None:
        """Stop scheduling."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        now = self.loop.time()
        if len(self.lags) < MAX_SAMPLES:
            self.lags.append((now - self._due) * 1000.0)
            if self.count_fn is not None:
                self.counts.append((now, self.count_fn()))
        self._due += PERIOD
        if self._due <= now:  # a long stall: do not replay the missed ticks as a burst
            self._due = now + PERIOD
        self._handle = self.loop.call_at(self._due, self._tick)


class ProbeView(HomeAssistantView):
    """GET /api/bench_probe[?reset=1]: the lags since the last reset and the connected stations."""

    url = "/api/bench_probe"
    name = "api:bench_probe"

    def __init__(self, probe: LagProbe) -> None:
        """Serve this probe."""
        self.probe = probe

    @callback
    def get(self, request: web.Request) -> web.Response:
        """Report, and start a new measurement window when asked to."""
        hass = request.app[KEY_HASS]
        sensors = [
            state for state in hass.states.async_all("binary_sensor") if state.entity_id.endswith("_connectivity")
        ]
        body: dict[str, Any] = {
            "lags_ms": self.probe.lags,
            "stations": len(sensors),
            "connected": sum(state.state == STATE_ON for state in sensors),
            "states": len(hass.states.async_entity_ids()),
            "entities": len(er.async_get(hass).entities),
            "inventories": sum(
                runtime.has_inventory
                for entry in hass.config_entries.async_loaded_entries("ocpp_csms")
                for runtime in entry.runtime_data.runtimes.values()
            ),
        }
        body["pace"] = [
            {"rate": round(pace.rate, 1), "paced": pace.paced, "refused": pace.refused, "cuts": pace.cuts}
            for entry in hass.config_entries.async_loaded_entries("ocpp_csms")
            for pace in {id(listener.pace): listener.pace for listener in entry.runtime_data.listeners}.values()
        ]
        body["full_gcs_ms"] = [round(ms, 1) for generation, ms in GC_PAUSES if generation == 2]
        if request.query.get("reset"):
            self.probe.lags = []
            GC_PAUSES.clear()
        if request.query.get("trim"):
            body["trimmed"] = release_free_memory()
            # Python's small-object allocator: blocks in use and objects the collector tracks (RSS beyond what
            # these explain is free space inside its arenas, held by a few live blocks: fragmentation).
            body["allocated_blocks"] = sys.getallocatedblocks()
            body["gc_objects"] = len(gc.get_objects())
            body["pymalloc"] = pymalloc_stats()
        if how := request.query.get("blip"):
            body["dropped"] = drop_connections(hass, how)
        if what := request.query.get("slow"):
            body["slow"] = slow_callbacks(what)
            body["connected_over_time"] = self.count_connected(hass, what)
        if name := request.query.get("profile"):
            body["profile"] = self.profiling(hass, name)
        if name := request.query.get("tracemalloc"):
            body["tracemalloc"] = trace_memory(hass, name)
        if name := request.query.get("objects"):
            body["objects"] = count_objects(hass, name)
        return self.json(body)

    def count_connected(self, hass: HomeAssistant, what: str) -> list[tuple[float, int]]:
        """Count the connected stations on each probe run from now (`start`), or stop and report the counts."""
        if what == "start":
            centrals = [entry.runtime_data.central for entry in hass.config_entries.async_loaded_entries("ocpp_csms")]
            self.probe.counts = []
            self.probe.count_fn = lambda: sum(
                station.connection is not None for central in centrals for station in central.stations.values()
            )
            self._counting_since = self.probe.loop.time()
            return []
        self.probe.count_fn = None
        return [(round(at - self._counting_since, 2), count) for at, count in self.probe.counts]

    _counting_since = 0.0
    profiler: cProfile.Profile | None = None

    def profiling(self, hass: HomeAssistant, name: str) -> str:
        """Start cProfile (`start`) or stop it and write NAME.prof and NAME.txt (with the slow callbacks meanwhile)."""
        if name == "start":
            self.profiler = cProfile.Profile()
            SLOW.clear()
            _TURN.clear()
            GC_PAUSES.clear()
            _slow_since[0] = time.perf_counter()
            asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]  # noqa: SLF001
            self.profiler.enable()
            return "started"
        if self.profiler is None:
            return "not started"
        self.profiler.disable()
        asyncio.events.Handle._run = _HANDLE_RUN  # type: ignore[method-assign]  # noqa: SLF001
        path = Path(hass.config.config_dir) / f"{name}.prof"
        self.profiler.dump_stats(path)
        text = io.StringIO()
        text.write(f"{len(SLOW)} callbacks over {SLOW_CALLBACK * 1000:.0f} ms (ms, what ran):\n")
        text.writelines(f"{ms:8.1f} {what}\n" for ms, _at, what in sorted(SLOW, reverse=True)[:60])
        for generation in range(3):
            pauses = [ms for gen, ms in GC_PAUSES if gen == generation]
            text.write(
                f"garbage collections of generation {generation}: {len(pauses)}, "
                f"{sum(pauses):.0f} ms in all, longest {max(pauses, default=0):.1f} ms\n"
            )
        stats = pstats.Stats(self.profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(80)
        stats.sort_stats("tottime").print_stats(60)
        path.with_suffix(".txt").write_text(text.getvalue(), encoding="utf-8")
        self.profiler = None
        return str(path)


#: Callbacks of the event loop that ran longer than SLOW_CALLBACK seconds while timed: (ms, s since start, what).
SLOW: list[tuple[float, float, str]] = []
_slow_since = [0.0]
SLOW_CALLBACK: Final = 0.02
_HANDLE_RUN = asyncio.events.Handle._run  # noqa: SLF001


#: The cyclic garbage collector's pauses since the last reset (or profile start): (generation, ms).
GC_PAUSES: list[tuple[int, float]] = []
_gc_started = 0.0


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    """Time each garbage collection (a full one walks every object of a large heap)."""
    global _gc_started  # noqa: PLW0603
    if phase == "start":
        _gc_started = time.perf_counter()
    else:
        GC_PAUSES.append((info["generation"], (time.perf_counter() - _gc_started) * 1000))


def slow_callbacks(what: str) -> list[tuple[float, float, str]]:
    """Time every event-loop callback and turn from now (`start`), or stop and report the slow ones (`stop`).

    Reported in order: when (s from the start), how long (ms), and what ran: a callback over SLOW_CALLBACK, or a
    turn over SLOW_TURN with its callback count and the three kinds of callback that took longest in it.
    """
    loop = asyncio.get_running_loop()
    if what == "start":
        SLOW.clear()
        _slow_since[0] = time.perf_counter()
        asyncio.events.Handle._run = _timed_run  # type: ignore[method-assign]  # noqa: SLF001
        run_once = type(loop)._run_once  # type: ignore[attr-defined]  # noqa: SLF001

        def timed_turn() -> None:
            _TURN.clear()
            started = time.perf_counter()
            run_once(loop)
            if (took := time.perf_counter() - started) > SLOW_TURN:
                top = sorted(_TURN.items(), key=lambda item: item[1][1], reverse=True)[:3]
                kinds = "; ".join(f"{count} x {kind} {ms:.0f} ms" for kind, (count, ms) in top)
                count = sum(count for count, _ms in _TURN.values())
                SLOW.append((took * 1000, started - _slow_since[0], f"turn of {count} callbacks: {kinds}"))

        loop._run_once = timed_turn  # type: ignore[attr-defined]  # noqa: SLF001
        return []
    asyncio.events.Handle._run = _HANDLE_RUN  # type: ignore[method-assign]  # noqa: SLF001
    with contextlib.suppress(AttributeError):
        del loop._run_once  # type: ignore[attr-defined]  # noqa: SLF001
    return sorted((round(at, 2), round(ms, 1), what_ran) for ms, at, what_ran in SLOW)


SLOW_TURN: Final = 0.05
#: The current turn's callbacks by kind: (count, ms) (a timeline clears it each turn).
_TURN: dict[str, tuple[int, float]] = {}


def _timed_run(handle: asyncio.Handle) -> None:
    """Run an event-loop callback; add its time to its kind's in this turn; record it when slow.

    A clock read per callback: asyncio's debug mode costs far more.
    """
    started = time.perf_counter()
    _HANDLE_RUN(handle)
    took = time.perf_counter() - started
    callback_ = handle._callback  # noqa: SLF001
    task = getattr(callback_, "__self__", None)
    if isinstance(task, asyncio.Task):
        kind = getattr(task.get_coro(), "__qualname__", "task")
    else:
        kind = getattr(callback_, "__qualname__", type(callback_).__name__)
    count, ms = _TURN.get(kind, (0, 0.0))
    _TURN[kind] = (count + 1, ms + took * 1000)
    if took > SLOW_CALLBACK:
        SLOW.append((took * 1000, started - _slow_since[0], _describe(handle)))


def _describe(handle: asyncio.Handle) -> str:
    """The coroutine a task step ran (and where it stopped), else the callback."""
    callback_ = handle._callback  # noqa: SLF001
    task = getattr(callback_, "__self__", None)
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f" at {frame.f_code.co_filename}:{frame.f_lineno}" if frame is not None else ""
        return f"task {task.get_name()} {getattr(coro, '__qualname__', coro)}{where}"
    return repr(handle)[:300]


def trace_memory(hass: HomeAssistant, name: str) -> str:
    """Start tracing allocations (`start`), or stop and write NAME.txt: the top allocations by line and by file."""
    if name == "start":
        tracemalloc.start(1)
        return "started"
    if not tracemalloc.is_tracing():
        return "not started"
    gc.collect()
    snapshot = tracemalloc.take_snapshot()
    tracemalloc.stop()  # what follows (the storm, the reload) runs at full speed
    lines = []
    for key in ("filename", "lineno"):
        stats = snapshot.statistics(key)
        total = sum(stat.size for stat in stats)
        lines.append(f"## by {key}: total {total / 1024:.0f} KiB in {sum(s.count for s in stats)} blocks")
        lines.extend(f"{stat.size / 1024:10.1f} KiB {stat.count:8d} {stat.traceback}" for stat in stats[:120])
    path = Path(hass.config.config_dir) / f"{name}.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return str(path)


def count_objects(hass: HomeAssistant, name: str) -> str:
    """Write NAME.txt: the objects the garbage collector tracks (what a full collection walks), by type."""
    gc.collect()
    tracked = gc.get_objects()
    counts: dict[str, int] = {}
    for item in tracked:
        kind = type(item)
        label = f"{kind.__module__}.{kind.__qualname__}"
        counts[label] = counts.get(label, 0) + 1
    total = sum(counts.values())
    lines = [f"## objects tracked by the garbage collector: {total}", ""]
    lines.extend(f"{count:10d} {label}" for label, count in sorted(counts.items(), key=lambda item: -item[1])[:150])
    lines.extend(["", "## functions, bound methods, partials and Home Assistant jobs, by what they call", ""])
    lines.extend(f"{count:10d} {label}" for label, count in callables_by_target(tracked)[:150])
    path = Path(hass.config.config_dir) / f"{name}.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{total} objects tracked; {path}"


def callables_by_target(tracked: list[Any]) -> list[tuple[str, int]]:
    """Count the functions, bound methods, partials and HassJobs in `tracked` by the function they end up calling."""
    counts: dict[str, int] = {}
    for item in tracked:
        kind = type(item).__name__
        target: Any
        if kind in ("function", "method"):
            target = getattr(item, "__func__", item)
        elif kind == "partial":
            target = item.func
        elif kind == "HassJob":
            target = item.target
        else:
            continue
        target = getattr(target, "__func__", target)
        where = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__name__)}"
        label = f"{kind}: {where}"
        counts[label] = counts.get(label, 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])


def drop_connections(hass: HomeAssistant, how: str) -> int:
    """A network blip: every station's TCP connection is reset at once (the listener keeps listening).

    `how`: "abort" (a broken network: the connections are gone, no close frame either way; the stations see a
    reset and reconnect), or "close" (each closed by us with a close frame, all in the same event-loop turn).
    """
    dropped = 0
    for entry in hass.config_entries.async_loaded_entries("ocpp_csms"):
        for station in entry.runtime_data.central.stations.values():
            if station.connection is None:
                continue
            if how == "close":
                closing = station.connection.close(1012, "blip")
                hass.async_create_background_task(closing, "bench blip", eager_start=False)
            else:
                station.connection._websocket.transport.abort()  # noqa: SLF001
            dropped += 1
    return dropped


def pymalloc_stats() -> dict[str, int]:
    """Python's small-object allocator: bytes in its arenas, in live blocks, free in partly used pools, in unused pools.

    `sys._debugmallocstats` prints them on the C stderr: read back through a temporary file (a bench probe, once per
    measurement: the blocking write is fine here).
    """
    with tempfile.TemporaryFile() as sink:
        saved = os.dup(2)
        try:
            os.dup2(sink.fileno(), 2)
            sys._debugmallocstats()  # noqa: SLF001
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        text = sink.read().decode(errors="replace")
    figures = {
        "arenas": r"^\d+ arenas \* \d+ bytes/arena\s+=\s+([\d,]+)",
        "allocated": r"^# bytes in allocated blocks\s+=\s+([\d,]+)",
        "available": r"^# bytes in available blocks\s+=\s+([\d,]+)",
        "unused_pools": r"^\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)",
    }
    found: dict[str, int] = {}
    for name, pattern in figures.items():
        if match := re.search(pattern, text, re.MULTILINE):
            found[name] = int(match.group(1).replace(",", ""))
    return found


def release_free_memory() -> bool:
    """Collect garbage and hand the C heap's free pages back to the system (glibc `malloc_trim`).

    What stays resident afterwards is what the process holds, not the high-water mark of a burst (the first
    connection of a fleet: a thousand device-model reports parsed at once).
    """
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.malloc_trim(0))


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start the probe and its view."""
    probe = LagProbe(hass.loop)
    probe.start()
    gc.callbacks.append(_gc_timer)  # a few clock reads per collection: always on
    hass.http.register_view(ProbeView(probe))

    @callback
    def stop(_event: Event) -> None:
        probe.stop()
        gc.callbacks.remove(_gc_timer)

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)
    return True
