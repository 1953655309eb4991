"""The solar surplus: how much the site could give the cars, how it is shared, and when a car starts and stops.

The surplus is what the site exports plus what the EVSEs in a solar mode draw now (they would give it back),
minus what the home battery discharges (never counted as surplus). Above its priority state of charge the battery's
charging power counts as surplus too (the car may take it); below it, the battery charges first.

`share_surplus` splits the surplus among the EVSEs in a solar mode: the minimums of those in `min_solar` first
(they draw them anyway), then EVSEs in `solar` are admitted by priority, the ones charging already first, when
their minimum fits; what is left goes by priority in equal steps up to each one's maximum.

`SolarSwitch` is the start/stop state machine of one EVSE in `solar`: it starts once its share has covered its
minimum for the enable delay and stops once it has not for the disable delay (it keeps its minimum meanwhile).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .balancer import Capacity, Demand, allocate
from .model import EvseKey

_EPSILON = 1e-6


def site_surplus(
    grid_power: float,
    solar_draw: float,
    *,
    battery_power: float | None = None,
    battery_soc: float | None = None,
    battery_priority_soc: float | None = None,
) -> float:
    """The surplus (W) from the grid power (+ import), what the solar-mode EVSEs draw, and the home battery.

    `battery_power` is positive while the battery discharges: that is never surplus. While it charges (negative)
    its charging power is surplus only at or above its priority state of charge.
    """
    surplus = solar_draw - grid_power
    if battery_power is None:
        return surplus
    if battery_power > 0:
        return surplus - battery_power
    battery_first = battery_priority_soc is not None and (battery_soc is None or battery_soc < battery_priority_soc)
    return surplus if battery_first else surplus - battery_power


@dataclass(frozen=True, slots=True)
class SolarDemand:
    """An EVSE in a solar mode, in watts."""

    key: EvseKey
    priority: int
    minimum: float
    maximum: float
    guaranteed: bool
    """`min_solar`: its minimum is drawn whatever the surplus."""
    incumbent: bool
    """Charging on solar now."""


def share_surplus(surplus: float, demands: Iterable[SolarDemand]) -> dict[EvseKey, float]:
    """Each EVSE's share of the surplus (W); see the module docstring. A share below the minimum is 0."""
    demands = list(demands)
    guaranteed = sum(demand.minimum for demand in demands if demand.guaranteed)
    as_demands = [
        Demand(
            key=demand.key,
            # min_solar EVSEs' minimums are taken first: they are admitted ahead of any solar one.
            priority=demand.priority,
            minimum=0.0 if demand.guaranteed else demand.minimum,
            maximum=max(0.0, demand.maximum - (demand.minimum if demand.guaranteed else 0.0)),
            phases=frozenset(),
            watts_per_amp=1.0,
            incumbent=demand.incumbent,
        )
        for demand in demands
    ]
    given = allocate(as_demands, Capacity(power=max(0.0, surplus - guaranteed)))
    shares: dict[EvseKey, float] = {}
    for demand in demands:
        extra = given[demand.key]
        shares[demand.key] = extra + (demand.minimum if demand.guaranteed else 0.0)
        if not demand.guaranteed and extra < demand.minimum - _EPSILON:
            shares[demand.key] = 0.0
    return shares


@dataclass(slots=True)
class SolarSwitch:
    """Whether an EVSE in `solar` charges, with its enable and disable delays (a snapshot is a copy)."""

    on: bool = False
    enough_since: datetime | None = None
    short_since: datetime | None = None

    def update(self, enough: bool, now: datetime, *, enable_delay: timedelta, disable_delay: timedelta) -> bool:
        """Whether to charge, given whether the share covers the minimum now."""
        if not self.on:
            self.short_since = None
            if not enough:
                self.enough_since = None
            else:
                self.enough_since = self.enough_since or now
                if now - self.enough_since >= enable_delay:
                    self.on, self.enough_since = True, None
        else:
            self.enough_since = None
            if enough:
                self.short_since = None
            else:
                self.short_since = self.short_since or now
                if now - self.short_since >= disable_delay:
                    self.on, self.short_since = False, None
        return self.on

    def reset(self) -> None:
        """Not charging on solar (no car, another mode)."""
        self.on, self.enough_since, self.short_since = False, None, None

    def due_at(self, *, enable_delay: timedelta, disable_delay: timedelta) -> datetime | None:
        """When a running delay ends."""
        if self.enough_since is not None:
            return self.enough_since + enable_delay
        if self.short_since is not None:
            return self.short_since + disable_delay
        return None
