"""The authentication failure back-off, on an injected clock."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from custom_components.ocpp_csms.csms.throttle import AdmissionPace, FailureThrottle, address_key

ADDRESS = "192.0.2.10"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        """Start at an arbitrary monotonic time."""
        self.now = 1000.0

    def __call__(self) -> float:
        """The current time."""
        return self.now


def make(clock: Clock, **options: float) -> FailureThrottle:
    settings: dict[str, float] = {"free_failures": 3, "base_delay": 1.0, "max_delay": 16.0, "window": 600.0}
    settings.update(options)
    return FailureThrottle(
        free_failures=int(settings["free_failures"]),
        base_delay=settings["base_delay"],
        max_delay=settings["max_delay"],
        window=settings["window"],
        max_entries=int(settings.get("max_entries", 10_000)),
        clock=clock,
    )


def test_free_failures_cost_nothing_then_delays_double_up_to_the_cap() -> None:
    clock = Clock()
    throttle = make(clock)
    assert throttle.delay_for(ADDRESS) == 0.0
    lockouts = []
    for _ in range(10):
        lockouts.append(throttle.record_failure(ADDRESS))
        assert throttle.delay_for(ADDRESS) == lockouts[-1]
        clock.now += lockouts[-1]  # the guesser waits out each lockout
    assert lockouts == [0, 0, 0, 1, 2, 4, 8, 16, 16, 16]
    assert throttle.failures(ADDRESS) == 10


def test_lockout_runs_down_with_time() -> None:
    clock = Clock()
    throttle = make(clock, free_failures=0, base_delay=4.0)
    assert throttle.record_failure(ADDRESS) == 4.0
    clock.now += 1.5
    assert throttle.delay_for(ADDRESS) == pytest.approx(2.5)
    clock.now += 2.5
    assert throttle.delay_for(ADDRESS) == 0.0
    # The failure is still held against the address: the next one locks it out for longer.
    assert throttle.record_failure(ADDRESS) == 8.0


def test_success_resets_the_address() -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(6):
        throttle.record_failure(ADDRESS)
    assert throttle.delay_for(ADDRESS) > 0
    throttle.record_success(ADDRESS)
    assert throttle.delay_for(ADDRESS) == 0.0
    assert throttle.failures(ADDRESS) == 0
    assert len(throttle) == 0
    throttle.record_success("198.51.100.1")  # unknown address: nothing to do


def test_failures_are_forgotten_after_the_window() -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(6):
        throttle.record_failure(ADDRESS)
    clock.now += 600.0
    assert throttle.failures(ADDRESS) == 0
    assert throttle.delay_for(ADDRESS) == 0.0
    assert len(throttle) == 0
    assert throttle.record_failure(ADDRESS) == 0.0  # counting starts over


def test_addresses_are_throttled_independently() -> None:
    clock = Clock()
    throttle = make(clock, free_failures=0)
    throttle.record_failure(ADDRESS)
    assert throttle.delay_for(ADDRESS) == 1.0
    assert throttle.delay_for("192.0.2.11") == 0.0


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        pytest.param("2001:db8:0:1::1", "2001:db8:0:1:ffff::2", True, id="ipv6-same-64"),
        pytest.param("2001:db8:0:1::1", "2001:db8:0:2::1", False, id="ipv6-other-64"),
        pytest.param("::ffff:192.0.2.10", "192.0.2.10", True, id="ipv4-mapped"),
        pytest.param("fe80::1%eth0", "fe80::2", True, id="ipv6-scoped"),
        pytest.param("192.0.2.10", "192.0.2.11", False, id="ipv4-distinct"),
        pytest.param("unix-socket", "unix-socket", True, id="not-an-ip"),
    ],
)
def test_address_grouping(first: str, second: str, shared: bool) -> None:
    assert (address_key(first) == address_key(second)) is shared
    clock = Clock()
    throttle = make(clock, free_failures=0)
    throttle.record_failure(first)
    assert (throttle.delay_for(second) > 0) is shared


def test_memory_stays_bounded_under_100k_distinct_addresses() -> None:
    clock = Clock()
    throttle = make(clock, max_entries=1000)
    network = ipaddress.IPv4Network("10.0.0.0/8")
    for index in range(100_000):
        throttle.record_failure(str(network[index]))
        clock.now += 0.001
    assert len(throttle) == 1000
    # The most recent failures are the ones kept.
    assert throttle.failures(str(network[99_999])) == 1
    assert throttle.failures(str(network[0])) == 0


def test_expired_addresses_are_pruned_as_new_failures_arrive() -> None:
    clock = Clock()
    throttle = make(clock)
    for index in range(500):
        throttle.record_failure(f"10.1.{index // 256}.{index % 256}")
    assert len(throttle) == 500
    clock.now += 601.0
    throttle.record_failure(ADDRESS)
    assert len(throttle) == 1


def test_endless_failures_do_not_overflow() -> None:
    clock = Clock()
    throttle = make(clock)
    for _ in range(5000):
        throttle.record_failure(ADDRESS)
    assert throttle.delay_for(ADDRESS) == 16.0


@pytest.mark.parametrize(
    "options",
    [
        {"free_failures": -1},
        {"base_delay": 0.0},
        {"max_delay": 0.5},
        {"window": 10.0},
        {"max_entries": 0},
    ],
)
def test_invalid_configuration_is_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="invalid"):
        make(Clock(), **options)


# ---- the pace of new connections (issue 19: reconnection storms) ------------------------------------------


async def admitted_at(pace: AdmissionPace, count: int) -> list[float | None]:
    """Seconds after the start at which each of `count` handshakes arriving at once was admitted (None: refused)."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def one() -> float | None:
        return loop.time() - started if await pace.admit() else None

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_pace_admits_a_burst_at_once_then_queues_at_its_rate() -> None:
    pace = AdmissionPace(rate=20.0, burst=3, max_wait=1.0)
    times = await admitted_at(pace, 6)
    assert all(when is not None and when < 0.03 for when in times[:3])  # the burst: at once
    queued = [when for when in times[3:] if when is not None]
    assert len(queued) == 3
    assert queued == sorted(queued)  # first come, first served
    assert queued[0] >= 0.045  # then one every 1/20 s
    assert queued[2] >= 0.14
    assert pace.paced == 3
    assert pace.queued == 0


async def test_pace_refuses_places_beyond_its_longest_wait_and_recovers() -> None:
    pace = AdmissionPace(rate=10.0, burst=1, max_wait=0.25)
    times = await admitted_at(pace, 4)
    assert times[0] is not None
    assert times[0] < 0.03
    assert [when is not None for when in times[1:]] == [True, True, False]  # the third in line: 0.3 s out
    assert pace.refused == 1
    await asyncio.sleep(0.15)  # quiet: the burst is back
    assert (await admitted_at(pace, 1))[0] == pytest.approx(0.0, abs=0.03)


async def test_a_handshake_that_goes_away_leaves_the_queue() -> None:
    pace = AdmissionPace(rate=1.0, burst=1, max_wait=10.0)
    assert await pace.admit()  # the burst
    waiting = asyncio.ensure_future(pace.admit())
    await asyncio.sleep(0)
    assert pace.queued == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert pace.queued == 0
    assert pace._release is None  # no release timer left behind


def test_pace_slows_down_while_the_event_loop_lags_and_speeds_up_again() -> None:
    """A release that ran late (the event loop's lag) cuts the rate, once per CUT_EVERY; timely ones raise it."""
    clock = Clock()
    pace = AdmissionPace(rate=90.0, burst=1, max_wait=10.0, min_rate=20.0, clock=clock)
    pace.observe(0.2)  # 200 ms late: overloaded
    assert pace.rate == pytest.approx(90.0 * AdmissionPace.CUT)
    pace.observe(0.2)  # the same moment: the cut has not shown yet
    assert pace.rate == pytest.approx(90.0 * AdmissionPace.CUT)
    clock.now += AdmissionPace.CUT_EVERY
    pace.observe(0.08)
    assert pace.rate == pytest.approx(90.0 * AdmissionPace.CUT**2)
    for _ in range(5):
        clock.now += AdmissionPace.CUT_EVERY
        pace.observe(1.0)
    assert pace.rate == pytest.approx(20.0)  # never below min_rate
    assert pace.cuts == 7  # 72, 57.6, 46.1, 36.9, 29.5, 23.6, 20
    pace.observe(0.03)  # between the thresholds: as it is
    assert pace.rate == pytest.approx(20.0)
    pace.observe(0.001)  # on time: RAISE more per second, and a release takes 1/rate s
    assert pace.rate == pytest.approx(20.0 + AdmissionPace.RAISE / 20.0)
    for _ in range(2000):
        pace.observe(0.001)
    assert pace.rate == pytest.approx(90.0)  # never above the rate it started with


async def test_a_cut_slows_down_the_handshakes_already_queued() -> None:
    """The queue is released at the rate in force: handshakes queued before a cut wait at the new rate."""
    pace = AdmissionPace(rate=100.0, burst=1, max_wait=10.0, min_rate=50.0)
    assert await pace.admit()
    waiting = [asyncio.ensure_future(pace.admit()) for _ in range(3)]
    await asyncio.sleep(0)
    pace.rate = 5.0  # as after cuts: 200 ms apart from the next release on
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*waiting)
    assert loop.time() - started >= 0.25  # 20 ms, then about 170 and 140 (timely releases raise it a little)


async def test_a_storm_starts_slow() -> None:
    """A queue that forms starts at min_rate, whatever the rate was: the first second of a storm is no flood."""
    pace = AdmissionPace(rate=100.0, burst=1, max_wait=10.0, min_rate=20.0)
    times = await admitted_at(pace, 3)
    assert times[0] is not None
    assert times[0] < 0.03
    assert times[1] is not None
    assert times[1] >= 0.045  # 1/20 s, not 1/100
    assert pace.rate < 21.0
