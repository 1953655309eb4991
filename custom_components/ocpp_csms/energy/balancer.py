"""Sharing a site limit among EVSEs: priority first, then fair shares; the minimum or nothing.

The limit is a set of linear constraints: amperes left per phase (the main fuse, minus its margin and the house's
own load), and/or watts left (a maximum grid power). Each EVSE asks for a current between its minimum and its
demand, on some phases. `allocate`:

1. admits EVSEs in order of priority (highest first), those charging already before the others of the same
   priority (so that equals do not take turns), then by key: an EVSE is admitted when its minimum still fits next
   to the minimums admitted before it; the others get 0 (paused), never less than their minimum;
2. shares what is left among the admitted, priority group by priority group, in equal steps (water filling) until
   each has its demand or a constraint it uses is full.

The result depends only on the demands and capacities, never on the order they are given in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from .model import PHASES, EvseKey

_EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class Demand:
    """What one EVSE asks of the site limit."""

    key: EvseKey
    priority: int
    minimum: float
    """A per phase: below it the EVSE gets 0."""
    maximum: float
    """A per phase it would take (at least `minimum`)."""
    phases: frozenset[int]
    """The phases (0, 1, 2 for L1-L3) it draws on."""
    watts_per_amp: float
    """Voltage times the number of phases: its power per ampere, for a power limit."""
    incumbent: bool = False
    """Charging now: keeps its place before equals that are not."""


@dataclass(frozen=True, slots=True)
class Capacity:
    """What is left for the EVSEs: A per phase (None: no per-phase limit), W in all (None: no power limit)."""

    phases: tuple[float, float, float] | None = None
    power: float | None = None


class _Remaining:
    def __init__(self, capacity: Capacity) -> None:
        self.phases = list(capacity.phases) if capacity.phases is not None else None
        self.power = capacity.power

    def fits(self, demand: Demand, amps: float) -> bool:
        if self.phases is not None and any(self.phases[p] < amps - _EPSILON for p in demand.phases):
            return False
        return self.power is None or self.power >= amps * demand.watts_per_amp - _EPSILON

    def take(self, demand: Demand, amps: float) -> None:
        if self.phases is not None:
            for p in demand.phases:
                self.phases[p] -= amps
        if self.power is not None:
            self.power -= amps * demand.watts_per_amp

    def step(self, active: list[Demand], room: dict[EvseKey, float]) -> float:
        """The largest equal step every active demand can take together."""
        step = min(room[demand.key] for demand in active)
        if self.phases is not None:
            for phase in range(PHASES):
                users = sum(1 for demand in active if phase in demand.phases)
                if users:
                    step = min(step, self.phases[phase] / users)
        if self.power is not None:
            step = min(step, self.power / sum(demand.watts_per_amp for demand in active))
        return max(step, 0.0)

    def full(self, demand: Demand) -> bool:
        """Whether a constraint the demand uses has nothing left."""
        if self.phases is not None and any(self.phases[p] <= _EPSILON for p in demand.phases):
            return True
        return self.power is not None and self.power <= _EPSILON


def _order(demand: Demand) -> tuple[int, bool, EvseKey]:
    return (-demand.priority, not demand.incumbent, demand.key)


def allocate(demands: Iterable[Demand], capacity: Capacity) -> dict[EvseKey, float]:
    """The current per EVSE: 0, or between its minimum and its demand, within the capacity (see the module)."""
    ordered = sorted(demands, key=_order)
    remaining = _Remaining(capacity)
    given: dict[EvseKey, float] = {}
    admitted: list[Demand] = []
    for demand in ordered:
        wants = demand.maximum > 0 and demand.minimum <= demand.maximum + _EPSILON
        if not wants or not remaining.fits(demand, demand.minimum):
            given[demand.key] = 0.0
            continue
        remaining.take(demand, demand.minimum)
        given[demand.key] = demand.minimum
        admitted.append(demand)
    for _, members in groupby(admitted, key=lambda demand: demand.priority):
        active = list(members)
        room = {demand.key: demand.maximum - given[demand.key] for demand in active}
        active = [demand for demand in active if room[demand.key] > _EPSILON]
        while active:
            step = remaining.step(active, room)
            if step > _EPSILON:
                for demand in active:
                    given[demand.key] += step
                    room[demand.key] -= step
                    remaining.take(demand, step)
            still = [demand for demand in active if room[demand.key] > _EPSILON and not remaining.full(demand)]
            if len(still) == len(active) and step <= _EPSILON:
                break
            active = still
    return given
