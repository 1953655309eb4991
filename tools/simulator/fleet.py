"""Many simulated stations in one process, run concurrently on one event loop."""

from __future__ import annotations

import asyncio
from collections import Counter
import contextlib
import logging
import time

from .station import SimStation, StationConfig

_LOGGER = logging.getLogger("tools.simulator")


def station_ids(count: int, prefix: str = "sim-", first: int = 1) -> list[str]:
    """`sim-001`, `sim-002`, ... (at least three digits, more when the numbers need them)."""
    width = max(3, len(str(first + count - 1)))
    return [f"{prefix}{number:0{width}d}" for number in range(first, first + count)]


class Fleet:
    """Stations that run until `duration` elapses or `stop` is set."""

    def __init__(self, configs: list[StationConfig]) -> None:
        """One station per config."""
        self.stations = [SimStation(config) for config in configs]

    async def run(self, duration: float = 0.0, stop: asyncio.Event | None = None, stats_interval: float = 60.0) -> None:
        """Run every station; `duration` 0 runs until `stop` is set (or forever)."""
        stop = stop or asyncio.Event()
        tasks = [asyncio.create_task(station.run(), name=station.station_id) for station in self.stations]
        reporter = asyncio.create_task(self._report(stats_interval))
        started = time.monotonic()
        try:
            async with asyncio.timeout(duration if duration > 0 else None):
                await stop.wait()
        except TimeoutError:
            pass
        finally:
            _LOGGER.info("stopping %d station(s) after %.0f s", len(self.stations), time.monotonic() - started)
            reporter.cancel()
            await asyncio.gather(*(station.stop() for station in self.stations), return_exceptions=True)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, reporter, return_exceptions=True)
            _LOGGER.info("%s", self.summary())

    async def _report(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            _LOGGER.info("%s", self.summary())

    def summary(self) -> str:
        """One line: how many stations are online, and what was sent and answered."""
        sent: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for station in self.stations:
            sent.update(station.stats.sent)
            errors.update(station.stats.errors)
        online = sum(station.online.is_set() for station in self.stations)
        connected = sum(station.connected.is_set() for station in self.stations)
        top = ", ".join(f"{action} {count}" for action, count in sent.most_common(6))
        failed = ", ".join(f"{action} {count}" for action, count in errors.most_common(4)) or "none"
        return (
            f"{online}/{len(self.stations)} online ({connected} connected); sent: {top or 'nothing'}; "
            f"CALLERRORs: {failed}"
        )
