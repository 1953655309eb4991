"""Slowing down password guessing (a back-off per address after failures) and reconnection storms (a pace).

AdmissionPace spreads a storm of new connections over seconds (see the class).

The listener asks `delay_for(address)` before it checks credentials. While the answer is positive the address
is locked out: refuse the attempt at once (HTTP 429 with `Retry-After`, or 401) WITHOUT checking the password
and without recording another failure, so a locked-out guesser costs neither a scrypt run nor an executor slot.
Each real failure (`record_failure`) doubles the lockout, up to `max_delay`; a success (`record_success`) or
`window` seconds without failures forget the address. Memory is bounded: expired entries are pruned as new
failures arrive and at most `max_entries` addresses are kept (the least recently failing ones are dropped).

IPv6 addresses are grouped by /64 prefix (one subscriber usually owns a whole /64), IPv4-mapped IPv6 addresses
count as their IPv4 address. Not thread-safe: use it from the event loop only.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
import contextlib
from dataclasses import dataclass
import ipaddress
import math
import time


def address_key(address: str) -> str:
    """The throttling key of a remote address: IPv4 as is, IPv6 as its /64 network, anything else verbatim."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class FailureThrottle:
    """Per-address authentication failure back-off with an injectable clock and bounded memory."""

    def __init__(
        self,
        *,
        free_failures: int = 5,
        base_delay: float = 1.0,
        max_delay: float = 60.0,
        window: float = 900.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Configure the back-off.

        `free_failures` failures in a row cost nothing (a station with a stale password retries a few times);
        the next one locks the address out for `base_delay` seconds, each further one doubles it up to
        `max_delay`. An address with no failure for `window` seconds is forgotten (`window >= max_delay`).
        """
        if free_failures < 0 or base_delay <= 0 or max_delay < base_delay or window < max_delay or max_entries < 1:
            raise ValueError("invalid throttle configuration")
        self._free = free_failures
        self._base = base_delay
        self._max = max_delay
        self._window = window
        self._max_entries = max_entries
        self._clock = clock
        # Ordered by the time of the last failure, oldest first: pruning pops from the front.
        self._entries: OrderedDict[str, _Failures] = OrderedDict()

    def __len__(self) -> int:
        """How many addresses are tracked."""
        return len(self._entries)

    def _lockout(self, count: int) -> float:
        """How long the address is locked out after its `count`-th failure in a row."""
        excess = count - self._free
        if excess <= 0:
            return 0.0
        # Cap the exponent before computing: 2**excess of a huge count would overflow a float.
        return min(self._max, self._base * 2.0 ** min(excess - 1, 64))

    def failures(self, address: str) -> int:
        """How many failures in a row are held against the address (0 once forgotten)."""
        entry = self._entries.get(address_key(address))
        if entry is None or self._clock() - entry.last >= self._window:
            return 0
        return entry.count

    def delay_for(self, address: str) -> float:
        """Seconds the address must still wait before its next attempt is examined; 0.0 when it may try now."""
        entry = self._entries.get(address_key(address))
        if entry is None:
            return 0.0
        now = self._clock()
        if now - entry.last >= self._window:
            del self._entries[address_key(address)]
            return 0.0
        return max(0.0, entry.last + self._lockout(entry.count) - now)

    def record_failure(self, address: str) -> float:
        """Count a failed authentication from the address; returns the lockout it now has, in seconds."""
        now = self._clock()
        self._prune(now)
        key = address_key(address)
        entry = self._entries.pop(key, None)
        if entry is None or now - entry.last >= self._window:
            entry = _Failures(0, now)
        entry.count += 1
        entry.last = now
        self._entries[key] = entry  # re-inserted at the end: the most recent failure
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return self._lockout(entry.count)

    def record_success(self, address: str) -> None:
        """A successful authentication from the address wipes its failures."""
        self._entries.pop(address_key(address), None)

    def _prune(self, now: float) -> None:
        """Drop the addresses whose last failure is older than the window (they sit at the front)."""
        entries = self._entries
        while entries:
            key, entry = next(iter(entries.items()))
            if now - entry.last < self._window:
                break
            del entries[key]


class AdmissionPace:
    """New connections admitted at a steady rate after a burst: a reconnection storm spread over seconds.

    A thousand stations reconnecting at once (a network blip, a listener restart) would each bring their
    handshake, boot and the central system's follow-up requests into the same second, and the event loop, busy
    with all of them, would answer everyone late. A handshake is admitted at once while the burst lasts; then it
    queues (first come, first served) and the queue is released `rate` handshakes per second. A handshake that
    would wait longer than `max_wait` at that rate is refused (HTTP 503 with Retry-After: the station retries with
    its back-off). Not thread-safe: use it from the event loop only.

    The rate follows what the machine can take: a queue starts at `min_rate`, and each release tells how late it
    ran, which is the event loop's lag. On time (under LAG_LOW), the rate grows by RAISE per second, up to
    `max_rate`; later than LAG_HIGH, it is cut to CUT of itself (once per CUT_EVERY seconds: a cut needs that long
    to show), down to `min_rate`, and the handshakes already queued wait at the new rate. A Raspberry Pi takes a storm
    slower than a desktop, each at its own pace; not too slow: a refused station retries after its back-off, which
    doubles with each attempt.
    """

    #: How late a release may run (s): beyond LAG_HIGH the event loop is overloaded, under LAG_LOW it keeps up.
    LAG_HIGH = 0.05
    LAG_LOW = 0.01
    CUT = 0.8
    CUT_EVERY = 0.2
    #: Admissions per second the rate regains per second.
    RAISE = 5.0

    def __init__(
        self,
        *,
        rate: float = 100.0,
        burst: int = 10,
        max_wait: float = 8.0,
        min_rate: float = 25.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`rate` admissions per second at most after `burst` at once; `max_wait` seconds at most in the queue."""
        self.rate = self.max_rate = rate
        self.min_rate = min(min_rate, rate)
        self.burst = burst
        self.max_wait = max_wait
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()
        self._cut_at = -math.inf
        self._queue: deque[asyncio.Future[None]] = deque()
        self._release: asyncio.TimerHandle | None = None
        self._due = 0.0
        #: Handshakes that queued for their turn, those refused, and the rate's cuts (diagnostics, benchmarks).
        self.paced = 0
        self.refused = 0
        self.cuts = 0

    @property
    def queued(self) -> int:
        """Handshakes waiting for their turn."""
        return len(self._queue)

    async def admit(self) -> bool:
        """Wait for this handshake's turn; False at once: refused, the queue is longer than `max_wait` at the rate."""
        now = self._clock()
        elapsed, self._last = now - self._last, now
        if not self._queue:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self.rate)
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
        if (len(self._queue) + 1) / self.rate > self.max_wait:
            self.refused += 1
            return False
        loop = asyncio.get_running_loop()
        turn: asyncio.Future[None] = loop.create_future()
        self._queue.append(turn)
        self.paced += 1
        if self._release is None:
            # A storm begins: it starts at `min_rate` (as TCP starts slow) and goes faster only while on time.
            self.rate = min(self.rate, self.min_rate)
            self._schedule(loop)
        try:
            await turn
        except asyncio.CancelledError:  # the connection went away while it waited
            with contextlib.suppress(ValueError):
                self._queue.remove(turn)
            if not self._queue and self._release is not None:
                self._release.cancel()
                self._release = None
            raise
        return True

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = loop.time() + 1.0 / self.rate
        self._release = loop.call_at(self._due, self._release_next, loop)

    def _release_next(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let the next queued handshake in, and learn from how late this ran."""
        self._release = None
        self.observe(loop.time() - self._due)
        while self._queue:
            turn = self._queue.popleft()
            if not turn.done():
                turn.set_result(None)
                break
        self._tokens = 0.0  # the burst comes back only once the queue is gone
        self._last = self._clock()
        if self._queue:
            self._schedule(loop)

    def observe(self, late: float) -> None:
        """A release ran `late` seconds after it was due: the rate follows (see the class)."""
        if late > self.LAG_HIGH:
            now = self._clock()
            if now - self._cut_at >= self.CUT_EVERY and self.rate > self.min_rate:
                self._cut_at = now
                self.rate = max(self.min_rate, self.rate * self.CUT)
                self.cuts += 1
        elif late < self.LAG_LOW:
            self.rate = min(self.max_rate, self.rate + self.RAISE / self.rate)
