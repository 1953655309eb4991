"""Reports a station sends in parts after the central system asked with a requestId (Part 2 generic FR.05).

GetMonitoringReport → NotifyMonitoringReport (N02), CustomerInformation → NotifyCustomerInformation (N09, N10),
GetDisplayMessages → NotifyDisplayMessages (O03, O04): each part carries the request's requestId and `tbc` (to be
continued) on all but the last; monitoring reports and customer information also number their parts (`seqNo`
from 0, N02.FR.09). `ReportParts` collects the items of the reports a central system waits for, across stations,
keyed by station and requestId; the caller awaits the future `expect` returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field


class ReportIncompleteError(Exception):
    """The station left before it sent every part of the report."""


@dataclass(slots=True)
class _Pending[T]:
    future: asyncio.Future[list[T]]
    parts: dict[int, Sequence[T]] = field(default_factory=dict)
    last_seq_no: int | None = None
    unnumbered: int = 0


class ReportParts[T]:
    """The reports being received, each complete once its last part (tbc false) and every part before it are in."""

    def __init__(self) -> None:
        """No report expected."""
        self._pending: dict[tuple[str, int], _Pending[T]] = {}

    def expect(self, station_id: str, request_id: int) -> asyncio.Future[list[T]]:
        """Expect a report; the future gets its items, in part order, when it is complete."""
        future: asyncio.Future[list[T]] = asyncio.get_running_loop().create_future()
        self._pending[station_id, request_id] = _Pending(future)
        return future

    def expects(self, station_id: str, request_id: int) -> bool:
        """Whether the report is expected (and not complete yet)."""
        return (station_id, request_id) in self._pending

    def feed(
        self, station_id: str, request_id: int, items: Sequence[T] | None, *, tbc: bool, seq_no: int | None = None
    ) -> bool:
        """Take one part; whether it belonged to an expected report. Parts without `seq_no` count in arrival order."""
        pending = self._pending.get((station_id, request_id))
        if pending is None:
            return False
        if seq_no is None:
            seq_no = pending.unnumbered
            pending.unnumbered += 1
        pending.parts[seq_no] = items or ()
        if not tbc:
            pending.last_seq_no = seq_no
        last = pending.last_seq_no
        if last is not None and all(number in pending.parts for number in range(last + 1)):
            del self._pending[station_id, request_id]
            if not pending.future.done():
                pending.future.set_result([item for number in range(last + 1) for item in pending.parts[number]])
        return True

    def discard(self, station_id: str, request_id: int) -> None:
        """No longer expect the report (it was refused, timed out or its caller left)."""
        pending = self._pending.pop((station_id, request_id), None)
        if pending is not None and not pending.future.done():
            pending.future.cancel()

    def discard_station(self, station_id: str) -> None:
        """No more parts will come from a station (it disconnected): its waiting callers get ReportIncompleteError."""
        for key in [key for key in self._pending if key[0] == station_id]:
            pending = self._pending.pop(key)
            if not pending.future.done():
                pending.future.set_exception(ReportIncompleteError(station_id))
