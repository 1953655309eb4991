"""A probe the scale benchmark drops into its Home Assistant config dir (`bench_probe:` in configuration.yaml).

It measures the event loop's lag from inside the process running the integration: a callback scheduled every
100 ms records how late it ran. `GET /api/bench_probe` (authenticated like the REST API) returns the lags
recorded since the last `?reset=1`, how many station connectivity sensors are on, how many states and
entity registry entries there are, and how many stations' device models (GetBaseReport) have arrived;
`?trim=1` first collects garbage and returns free heap pages to the system; `?blip=1` drops every station's
connection at once (a network blip: the stations reconnect together, a storm).
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
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
        if request.query.get("reset"):
            self.probe.lags = []
        if request.query.get("trim"):
            body["trimmed"] = release_free_memory()
        if request.query.get("blip"):
            body["dropped"] = drop_connections(hass)
        return self.json(body)


def drop_connections(hass: HomeAssistant) -> int:
    """A network blip: every station's connection is dropped at once (the listener keeps listening)."""
    dropped = 0
    for entry in hass.config_entries.async_loaded_entries("ocpp_csms"):
        for station in entry.runtime_data.central.stations.values():
            if station.connection is not None:
                entry.async_create_background_task(hass, station.connection.close(1012, "blip"), "bench blip")
                dropped += 1
    return dropped


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
    hass.http.register_view(ProbeView(probe))

    @callback
    def stop(_event: Event) -> None:
        probe.stop()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, stop)
    return True
