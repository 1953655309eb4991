"""A site in simulated time for the energy manager's tests: cars that follow their limits, a house, the sun.

Each step the cars draw what their limit allows (up to what they take), the grid carries the house and the cars
minus the sun (spread over three phases), the manager reads it all and decides. Meters are exact and instant, so
what the manager believes the site draws is what it draws: the steady state the invariants speak of.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from custom_components.ocpp_csms.energy.manager import EnergyManager
from custom_components.ocpp_csms.energy.model import (
    PHASES,
    Command,
    Decision,
    EvseInfo,
    EvseKey,
    EvseReading,
    EvseSettings,
    SiteConfig,
    SiteReading,
)

START = datetime(2026, 6, 21, 6, 0, tzinfo=UTC)
VOLTAGE = 230.0
FUSE = 25.0
MARGIN = 1.0


@dataclass
class Car:
    """A car on an EVSE: what it takes at most, on how many phases."""

    max_current: float = 16.0
    phases: int = 3


@dataclass
class Evse:
    """One EVSE of the site and what its station holds."""

    key: EvseKey
    settings: EvseSettings
    info: EvseInfo = field(default_factory=EvseInfo)
    car: Car | None = field(default_factory=Car)
    limit: float | None = None
    phases: int | None = None
    phase_to_use: int | None = None
    commands: list[tuple[datetime, Command]] = field(default_factory=list)

    def reachable(self) -> tuple[int, ...]:
        """The phases the car can draw on: its own, as many as the EVSE gives it (L1 first, or the phase to use)."""
        if self.car is None:
            return tuple(range(PHASES))  # the next car may draw on any
        phases = min(self.car.phases, self.phases or self.info.supply_phases)
        if phases == 1 and self.phases == 1 and self.phase_to_use is not None:
            return (self.phase_to_use - 1,)
        return tuple(range(phases))

    def draw(self) -> tuple[float, float, float]:
        """The current per phase the car draws under the limit."""
        if self.car is None or self.limit is None or self.limit < 6.0:
            return (0.0, 0.0, 0.0)
        amps = min(self.limit, self.car.max_current)
        on = self.reachable()
        return (amps if 0 in on else 0.0, amps if 1 in on else 0.0, amps if 2 in on else 0.0)


@dataclass
class Site:
    """The site: its EVSEs, its manager, and the house and sun now."""

    evses: list[Evse]
    config: SiteConfig = field(
        default_factory=lambda: SiteConfig(
            has_grid_power=True, has_phase_currents=True, fuse_current=FUSE, margin=MARGIN
        )
    )
    house: tuple[float, float, float] = (0.0, 0.0, 0.0)
    solar: float = 0.0
    now: datetime = START
    manager: EnergyManager = field(init=False)

    def __post_init__(self) -> None:
        """The manager, told of every EVSE."""
        self.manager = EnergyManager(self.config)
        for evse in self.evses:
            self.manager.set_evse(evse.key, evse.settings, evse.info)

    def grid(self) -> tuple[tuple[float, float, float], float]:
        """The grid's current per phase and its power (+ import)."""
        draws = [evse.draw() for evse in self.evses]
        per_phase = tuple(
            self.house[p] + sum(draw[p] for draw in draws) - self.solar / (VOLTAGE * PHASES) for p in range(PHASES)
        )
        return (per_phase[0], per_phase[1], per_phase[2]), sum(per_phase) * VOLTAGE

    def feed(self) -> None:
        """Give the manager what the site does now."""
        currents, power = self.grid()
        self.manager.update_site(SiteReading(grid_power=power, grid_currents=currents))
        for evse in self.evses:
            self.manager.update_evse(
                evse.key,
                EvseReading(
                    online=True,
                    vehicle=evse.car is not None,
                    transaction=evse.car is not None,
                    currents=evse.draw(),
                    measured_at=self.now,
                ),
            )

    def decide(self) -> Decision:
        """Decide now and apply what the manager sends."""
        decision = self.manager.decide(self.now)
        for evse in self.evses:
            command = decision.evses[evse.key].command if evse.key in decision.evses else None
            if command is not None:
                evse.limit, evse.phases, evse.phase_to_use = command.current, command.phases, command.phase_to_use
                evse.commands.append((self.now, command))
        return decision

    def step(self, seconds: float = 1.0) -> Decision:
        """Feed, decide, and let time pass."""
        self.feed()
        decision = self.decide()
        self.now += timedelta(seconds=seconds)
        return decision

    def run(self, seconds: int, *, house: Iterable[tuple[float, float, float]] | None = None) -> None:
        """Steps of one second (with the house's load of each second, if given)."""
        loads = iter(house) if house is not None else None
        for _ in range(seconds):
            if loads is not None:
                self.house = next(loads)
            self.step()


def changes(evse: Evse, since: datetime | None = None) -> int:
    """How many times its limit (or phases) changed: refreshes of an unchanged limit do not count."""
    return sum(1 for at, command in evse.commands if not command.refresh and (since is None or at >= since))
