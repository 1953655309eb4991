"""Flash and car protection: dead band, increase interval with deferral, immediate decrease, 6 A floor vs pause."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from custom_components.ocpp_csms.charging.limiter import (
    LimitDecision,
    LimitFilterConfig,
    LimitReason as R,
    LimitRequestFilter,
)
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit

from .conftest import NOW

A, W = ChargingRateUnit.A, ChargingRateUnit.W


@dataclass(frozen=True)
class Ask:
    """At `at` seconds, request `value` (or, with value None, call `due`); expect send/due_at/reason/clamped."""

    at: int
    value: float | None
    send: float | None
    due: int | None
    reason: R
    unit: ChargingRateUnit = A
    charging: bool = True
    pause: bool = False
    phases: int = 3
    clamped: bool = False


def due(at: int, send: float | None, due_at: int | None, reason: R, unit: ChargingRateUnit = A) -> Ask:
    return Ask(at, None, send, due_at, reason, unit)


def t(seconds: int) -> datetime:
    return NOW + timedelta(seconds=seconds)


SCENARIOS: dict[str, list[Ask]] = {
    "first request is sent": [Ask(0, 16, 16, None, R.FIRST)],
    "dead band in amps, both directions": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(5, 16.4, None, None, R.DEAD_BAND),
        Ask(6, 15.6, None, None, R.DEAD_BAND),
        Ask(7, 16, None, None, R.DEAD_BAND),
        Ask(8, 15.5, 15.5, None, R.DECREASE),
    ],
    "dead band in watts on 3 phases is 0.5 A * 230 V * 3 = 345 W": [
        Ask(0, 11000, 11000, None, R.FIRST, W),
        Ask(1, 11300, None, None, R.DEAD_BAND, W),
        Ask(2, 10700, None, None, R.DEAD_BAND, W),
        Ask(3, 10600, 10600, None, R.DECREASE, W),
    ],
    "dead band in watts on 1 phase is 115 W": [
        Ask(0, 3680, 3680, None, R.FIRST, W, phases=1),
        Ask(1, 3600, None, None, R.DEAD_BAND, W, phases=1),
        Ask(2, 3560, 3560, None, R.DECREASE, W, phases=1),
    ],
    "an early increase is deferred, the latest pending value wins": [
        Ask(0, 10, 10, None, R.FIRST),
        Ask(10, 16, None, 30, R.DEFERRED),
        Ask(20, 14, None, 30, R.DEFERRED),
        due(25, None, 30, R.NOT_DUE),
        due(30, 14, None, R.DUE),
        due(31, None, None, R.NOTHING_PENDING),
        Ask(45, 20, None, 60, R.DEFERRED),
    ],
    "an increase after the interval is sent at once": [
        Ask(0, 10, 10, None, R.FIRST),
        Ask(30, 16, 16, None, R.INCREASE),
    ],
    "a decrease is immediate and restarts the interval": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 8, 8, None, R.DECREASE),
        Ask(2, 6, 6, None, R.DECREASE),
        Ask(12, 16, None, 32, R.DEFERRED),
    ],
    "a decrease drops the pending increase": [
        Ask(0, 10, 10, None, R.FIRST),
        Ask(5, 16, None, 30, R.DEFERRED),
        Ask(6, 8, 8, None, R.DECREASE),
        due(30, None, None, R.NOTHING_PENDING),
    ],
    "a request back within the dead band drops the pending increase": [
        Ask(0, 10, 10, None, R.FIRST),
        Ask(5, 16, None, 30, R.DEFERRED),
        Ask(6, 10.2, None, None, R.DEAD_BAND),
        due(30, None, None, R.NOTHING_PENDING),
    ],
    "never below 6 A while charging": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 3, 6, None, R.DECREASE, clamped=True),
        Ask(2, 4, None, None, R.DEAD_BAND, clamped=True),
    ],
    "the first request is floored too": [Ask(0, 2, 6, None, R.FIRST, clamped=True)],
    "below 6 A passes when nothing charges": [
        Ask(0, 3, 3, None, R.FIRST, charging=False),
        Ask(1, 1.5, 1.5, None, R.DECREASE, charging=False),
    ],
    "the floor in watts on 1 phase is 1380 W": [
        Ask(0, 3680, 3680, None, R.FIRST, W, phases=1),
        Ask(1, 1000, 1380, None, R.DECREASE, W, phases=1, clamped=True),
    ],
    "the floor in watts on 3 phases is 4140 W": [Ask(0, 2000, 4140, None, R.FIRST, W, clamped=True)],
    "a pause sends 0 at once, even while charging": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 3, 0, None, R.PAUSE, pause=True),
        Ask(2, 0, None, None, R.DEAD_BAND),
        Ask(40, 6, 6, None, R.INCREASE),
    ],
    "a limit of 0 is a pause": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 0, 0, None, R.PAUSE),
    ],
    "resuming right after a pause waits for the interval": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 0, 0, None, R.PAUSE, pause=True),
        Ask(5, 16, None, 31, R.DEFERRED),
        due(31, 16, None, R.DUE),
    ],
    "resuming is never within the dead band": [
        Ask(0, 0, 0, None, R.FIRST, charging=False),
        Ask(30, 0.3, 0.3, None, R.INCREASE, charging=False),
    ],
    "a change of unit compares in the new unit": [
        Ask(0, 16, 16, None, R.FIRST),
        Ask(1, 11040, None, None, R.DEAD_BAND, W),
        Ask(2, 8000, 8000, None, R.DECREASE, W),
        Ask(3, 11.2, None, None, R.DEAD_BAND),
        Ask(4, 14, None, 32, R.DEFERRED),
    ],
    "nothing pending before anything was asked": [due(0, None, None, R.NOTHING_PENDING)],
}


@pytest.mark.parametrize("steps", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_flash_and_car_protection(steps: list[Ask]) -> None:
    limiter = LimitRequestFilter()
    for step in steps:
        if step.value is None:
            decision = limiter.due(t(step.at))
        else:
            decision = limiter.request(
                step.value, step.unit, t(step.at), charging=step.charging, pause=step.pause, phases=step.phases
            )
        expected_due = None if step.due is None else t(step.due)
        assert decision == LimitDecision(step.send, expected_due, step.reason, step.unit, step.clamped), step


def test_state_is_visible_and_can_be_invalidated() -> None:
    limiter = LimitRequestFilter(LimitFilterConfig(dead_band=1.0, increase_interval=timedelta(minutes=1)))
    assert limiter.last_sent is None
    assert limiter.pending is None
    limiter.request(10, A, t(0), charging=True)
    assert limiter.request(10.9, A, t(1), charging=True).reason == R.DEAD_BAND
    assert limiter.request(12, A, t(2), charging=True).due_at == t(60)
    assert limiter.last_sent == (10, A)
    assert limiter.pending == (12, A, t(60))
    limiter.invalidate()  # e.g. the SetChargingProfile failed: the next request goes out
    assert (limiter.last_sent, limiter.pending) == (None, None)
    assert limiter.request(12, A, t(3), charging=True) == LimitDecision(12, None, R.FIRST, A)


def test_a_custom_minimum_current() -> None:
    limiter = LimitRequestFilter(LimitFilterConfig(min_current=8))
    assert limiter.request(7, A, t(0), charging=True) == LimitDecision(8, None, R.FIRST, A, clamped=True)


@pytest.mark.parametrize(
    "config",
    [
        {"dead_band": -1},
        {"min_current": -6},
        {"increase_interval": timedelta(seconds=-1)},
    ],
)
def test_bad_config(config: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="negative"):
        LimitFilterConfig(**config)  # type: ignore[arg-type]


def test_bad_requests() -> None:
    limiter = LimitRequestFilter()
    with pytest.raises(ValueError, match="aware"):
        limiter.request(16, A, NOW.replace(tzinfo=None), charging=True)
    with pytest.raises(ValueError, match="aware"):
        limiter.due(NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="negative"):
        limiter.request(-1, A, NOW, charging=True)
    with pytest.raises(ValueError, match="phases"):
        limiter.request(16, A, NOW, charging=True, phases=4)
