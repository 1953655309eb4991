"""The invariants of the energy manager, for any site hypothesis makes up.

- In steady state the main fuse is never exceeded: after every decision, the current through the fuse (the house
  net of the sun, plus every car drawing all its limit allows) stays below the fuse minus its margin, on every phase.
- No EVSE is ever given more than 0 and less than its minimum.
- Under noisy input the number of changes per hour stays bounded (at most 60 per EVSE).
- The decision does not depend on the order in which the readings of one instant arrive.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import random

from hypothesis import given, settings, strategies as st

from custom_components.ocpp_csms.energy.manager import EnergyManager
from custom_components.ocpp_csms.energy.model import (
    PHASES,
    ChargingMode,
    EvseInfo,
    EvseReading,
    EvseSettings,
    PhaseSetting,
    SiteConfig,
    SiteReading,
)

from .harness import FUSE, MARGIN, START, VOLTAGE, Car, Evse, Site, changes

PROPERTIES = settings(max_examples=40, deadline=None, derandomize=True, database=None)
MODES = st.sampled_from([ChargingMode.FAST, ChargingMode.SOLAR, ChargingMode.MIN_SOLAR, ChargingMode.OFF])


@st.composite
def evses(draw: st.DrawFn, count: int) -> list[Evse]:
    found = []
    for index in range(count):
        minimum = draw(st.sampled_from([6.0, 6.0, 8.0]))
        maximum = draw(st.sampled_from([10.0, 16.0, 20.0, 32.0]))
        switching = draw(st.booleans())
        found.append(
            Evse(
                key=(f"CP-{index // 2}", index % 2 + 1),
                settings=EvseSettings(
                    mode=draw(MODES),
                    min_current=minimum,
                    max_current=max(minimum, maximum),
                    phases=draw(st.sampled_from(list(PhaseSetting))),
                    priority=draw(st.integers(0, 3)),
                ),
                info=EvseInfo(
                    supply_phases=draw(st.sampled_from([1, 3, 3])),
                    phase_switching=switching,
                    switch_during_transaction=switching and draw(st.booleans()),
                ),
                car=draw(
                    st.one_of(
                        st.none(),
                        st.builds(Car, st.sampled_from([8.0, 16.0, 32.0]), st.sampled_from([1, 3])),
                    )
                ),
            )
        )
    return found


loads = st.tuples(*[st.floats(0.0, 30.0, allow_nan=False)] * PHASES)


def within_fuse(site: Site) -> None:
    """Through the fuse: the house (net of the sun on its phase) plus every car at its limit, under fuse - margin."""
    for phase in range(PHASES):
        allowed = FUSE - MARGIN - max(site.house[phase] - site.solar / (VOLTAGE * PHASES), 0.0)
        given = sum(evse.limit or 0.0 for evse in site.evses if phase in evse.reachable())
        if allowed < 0:
            assert given == 0, (phase, site.house, [evse.limit for evse in site.evses])
        else:
            assert given <= allowed + 1e-6, (phase, site.house, [evse.limit for evse in site.evses])


def minimums_kept(site: Site) -> None:
    for evse in site.evses:
        for _, command in evse.commands:
            assert command.current == 0 or command.current >= evse.settings.min_current - 1e-9, command
            assert command.current <= evse.settings.max_current + 1e-9, command


@PROPERTIES
@given(evses(4), st.lists(st.tuples(loads, st.floats(0, 15_000), st.integers(1, 400)), min_size=1, max_size=6))
def test_the_fuse_is_never_exceeded_and_no_limit_is_below_the_minimum(
    site_evses: list[Evse], periods: list[tuple[tuple[float, float, float], float, int]]
) -> None:
    """Whatever the house and the sun do, after every decision the limits fit under the fuse."""
    site = Site(site_evses)
    for house, solar, seconds in periods:
        site.house, site.solar = house, solar
        for _ in range(seconds):
            site.step()
            within_fuse(site)
    minimums_kept(site)


@PROPERTIES
@given(evses(3), st.floats(0.0, 12.0), st.floats(0.0, 2.0), st.floats(0, 12_000), st.floats(0, 1_500), st.integers())
def test_changes_per_hour_stay_bounded_under_noisy_input(  # noqa: PLR0917 - hypothesis draws each
    site_evses: list[Evse], house: float, house_noise: float, solar: float, solar_noise: float, seed: int
) -> None:
    """An hour of a house and a sun that flicker around a level: at most 60 changes per EVSE."""
    rng = random.Random(seed)
    site = Site(site_evses)
    for _ in range(3600):
        wobble = rng.uniform(-house_noise, house_noise)
        site.house = (max(0.0, house + wobble), max(0.0, house - wobble / 2), house)
        site.solar = max(0.0, solar + rng.uniform(-solar_noise, solar_noise))
        site.step()
    for evse in site.evses:
        assert changes(evse) <= 60, (evse.key, changes(evse), evse.settings)


def _manager(site_evses: list[Evse]) -> EnergyManager:
    manager = EnergyManager(SiteConfig(has_grid_power=True, has_phase_currents=True, fuse_current=FUSE, margin=MARGIN))
    for evse in site_evses:
        manager.set_evse(evse.key, evse.settings, evse.info)
    return manager


readings = st.builds(
    EvseReading,
    online=st.just(True),
    vehicle=st.booleans(),
    transaction=st.booleans(),
    currents=st.tuples(*[st.sampled_from([0.0, 6.0, 10.0, 16.0])] * PHASES),
    measured_at=st.just(START + timedelta(minutes=5)),
)


@PROPERTIES
@given(
    evses(3),
    st.lists(readings, min_size=3, max_size=3),
    st.floats(-8000, 15_000),
    loads,
    st.permutations(range(5)),
    st.integers(0, 300),
)
def test_the_decision_does_not_depend_on_the_order_of_the_readings_of_an_instant(  # noqa: PLR0917
    site_evses: list[Evse],
    evse_readings: list[EvseReading],
    grid_power: float,
    currents: tuple[float, float, float],
    order: list[int],
    history: int,
) -> None:
    """Five readings arrive at one instant in every order, each followed by a decision: the last one is the same."""
    managers = [_manager(site_evses), _manager(site_evses)]
    # A shared past: both managers see the same readings and decide at the same times.
    for manager in managers:
        site = Site([replace(evse, commands=[]) for evse in site_evses])
        site.manager = manager
        site.run(history)
    now = START + timedelta(minutes=10)
    updates = [
        *[(evse.key, reading) for evse, reading in zip(site_evses, evse_readings, strict=True)],
        ("grid_power", grid_power),
        ("grid_currents", currents),
    ]

    def apply(manager: EnergyManager, index: int, state: dict[str, object]) -> None:
        key, value = updates[index]
        if isinstance(key, tuple):
            assert isinstance(value, EvseReading)
            manager.update_evse(key, value)
        else:
            state[key] = value
            manager.update_site(SiteReading(**state))  # type: ignore[arg-type]
        manager.decide(now)

    forward: dict[str, object] = {}
    for index in range(len(updates)):
        apply(managers[0], index, forward)
    shuffled: dict[str, object] = {}
    for index in order:
        apply(managers[1], index, shuffled)
    first, second = managers[0].decide(now), managers[1].decide(now)
    assert first == second
    later = now + timedelta(seconds=61)
    assert managers[0].decide(later) == managers[1].decide(later)
