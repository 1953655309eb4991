"""The plan: the cheapest slots that deliver a car's energy by its departure.

The window runs from now until the departure less a buffer. Each price slot in it (cut at both ends) can deliver
between nothing and the EVSE's maximum power for its duration; below the minimum current a slot charges at the
minimum for part of its time instead (a car cannot charge below about 6 A), so any energy up to the maximum is
possible in a slot at the same cost per kWh. With a solar forecast the first part of a slot's power comes from the
sun and costs the feed-in price given up (nothing without one); the rest costs the grid price.

Each slot offers blocks of energy: its minimum-power block at that block's mean price, then its solar part above the
minimum, then its grid part. Taking blocks cheapest first until the energy is reached is the optimum of the linear
program (linear cost, per-slot bounds, one energy equation): `scripts/bench planner` checks it against a solver.
Slots without a known price (tomorrow's prices not published yet) are taken at the price of the same time the day
before (prices repeat their daily shape), or last, as if dearer than any known one, when that is not known either;
their energy is counted apart (`Plan.unpriced_wh`) and a re-plan follows when the prices arrive.

A target the window cannot hold charges all it can: `Plan.complete` is False and `shortfall_wh` says how much is
missing. A car that draws less than offered lowers the maximum power (`max_power`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
from typing import Any, Final

from .prices import PowerSlot, PriceSlot, price_at, slot_length

DEFAULT_BUFFER: Final = timedelta(minutes=30)
#: Energy below this (Wh) counts as delivered: plans are compared and stated to the Wh.
ENERGY_TOLERANCE: Final = 1.0
_DAY: Final = timedelta(days=1)
_WH_PER_KWH: Final = 1000.0


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What to plan: the energy to add by the departure, the EVSE's limits and what the prices and sun say."""

    now: datetime
    departure: datetime
    energy_wh: float
    prices: Sequence[PriceSlot]
    min_current: float = 6.0
    max_current: float = 16.0
    phases: int = 3
    voltage: float = 230.0
    buffer: timedelta = DEFAULT_BUFFER
    feed_in: float | None = None
    """The price (per kWh) solar energy would have earned fed into the grid (None: solar energy is free)."""
    solar: Sequence[PowerSlot] = ()
    max_power: float | None = None
    """The most the car draws (W), when it draws less than offered."""

    @property
    def min_power(self) -> float:
        """The power at the minimum current (W), or the car's own maximum when it is lower."""
        power = self.min_current * self.phases * self.voltage
        return power if self.max_power is None else min(power, self.max_power)

    @property
    def full_power(self) -> float:
        """The power at the maximum current (W), or the car's own maximum when it is lower."""
        power = self.max_current * self.phases * self.voltage
        return power if self.max_power is None else min(power, max(self.max_power, 0.0))


@dataclass(frozen=True, slots=True)
class PlannedSlot:
    """From `start` until `end`: charge at `power` W (`current` A per phase offered; 0 pauses)."""

    start: datetime
    end: datetime
    power: float
    current: float
    price: float | None
    """Grid price per kWh (None: not known yet)."""
    energy_wh: float
    solar_wh: float = 0.0
    cost: float = 0.0

    @property
    def charging(self) -> bool:
        """Whether the car charges in this slot."""
        return self.current > 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the plan sensor's attributes."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "power": round(self.power),
            "current": self.current,
            "price": self.price,
            "energy": round(self.energy_wh / _WH_PER_KWH, 3),
        }


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan: the window's slots (idle ones too), what it delivers and costs, and whether it meets the target."""

    created: datetime
    departure: datetime
    target_wh: float
    phases: int
    slots: tuple[PlannedSlot, ...] = field(default_factory=tuple)

    @property
    def energy_wh(self) -> float:
        """The energy the plan delivers."""
        return sum(slot.energy_wh for slot in self.slots)

    @property
    def cost(self) -> float:
        """What the plan's energy costs where prices are known."""
        return sum(slot.cost for slot in self.slots)

    @property
    def unpriced_wh(self) -> float:
        """Planned energy in slots whose price is not known yet."""
        return sum(slot.energy_wh for slot in self.slots if slot.price is None)

    @property
    def shortfall_wh(self) -> float:
        """How much of the target the plan misses (0 when it meets it)."""
        missing = self.target_wh - self.energy_wh
        return missing if missing > ENERGY_TOLERANCE else 0.0

    @property
    def complete(self) -> bool:
        """Whether the plan meets the target by the departure."""
        return self.shortfall_wh == 0.0

    @property
    def charging_slots(self) -> tuple[PlannedSlot, ...]:
        """The slots in which the car charges."""
        return tuple(slot for slot in self.slots if slot.charging)

    @property
    def finish(self) -> datetime | None:
        """When charging ends (None: the plan does not charge)."""
        charging = self.charging_slots
        return charging[-1].end if charging else None

    def next_start(self, moment: datetime) -> datetime | None:
        """When the car charges next from `moment` on (the start of the slot it charges in now, if it does)."""
        for slot in self.slots:
            if slot.charging and slot.end > moment:
                return slot.start
        return None

    def current_at(self, moment: datetime) -> float:
        """The current (A per phase) the plan offers at `moment` (0 outside it)."""
        for slot in self.slots:
            if slot.start <= moment < slot.end:
                return slot.current
        return 0.0

    def attributes(self) -> dict[str, Any]:
        """The plan sensor's attributes."""
        finish = self.finish
        return {
            "departure": self.departure.isoformat(),
            "target_energy": round(self.target_wh / _WH_PER_KWH, 3),
            "expected_energy": round(self.energy_wh / _WH_PER_KWH, 3),
            "expected_cost": round(self.cost, 4),
            "finish": None if finish is None else finish.isoformat(),
            "complete": self.complete,
            "shortfall": round(self.shortfall_wh / _WH_PER_KWH, 3),
            "slots": [slot.as_dict() for slot in self.charging_slots],
        }


@dataclass(slots=True)
class _Window:
    start: datetime
    end: datetime
    price: float | None
    solar: float = 0.0
    estimate: float | None = None
    """Without a known price: the price of the same time the day before, if known."""
    blocks_taken: float = 0.0
    """Energy (Wh) taken from this slot's blocks so far."""
    minimum_only: float | None = None
    """Energy (Wh) of a partly taken minimum block: the slot charges at the minimum for part of its time."""

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0


def _windows(request: PlanRequest, start: datetime, end: datetime) -> list[_Window]:
    """The price slots cut to [start, end), gaps filled with slots of unknown price."""
    windows: list[_Window] = []
    cursor = start
    ordered = sorted(request.prices, key=lambda item: item.start)
    piece = slot_length(ordered)
    for slot in ordered:
        if slot.end <= cursor or slot.start >= end:
            continue
        while cursor < min(slot.start, end):  # a gap before this slot
            piece_end = min(slot.start, end, cursor + piece)
            windows.append(_Window(cursor, piece_end, None, estimate=price_at(ordered, cursor - _DAY)))
            cursor = piece_end
        piece_end = min(slot.end, end)
        if piece_end > cursor:
            windows.append(_Window(max(cursor, slot.start), piece_end, slot.price))
            cursor = piece_end
    while cursor < end:
        piece_end = min(end, cursor + piece)
        windows.append(_Window(cursor, piece_end, None, estimate=price_at(ordered, cursor - _DAY)))
        cursor = piece_end
    if request.solar:
        _add_solar(windows, request.solar)
    return windows


def _add_solar(windows: list[_Window], solar: Sequence[PowerSlot]) -> None:
    """Each window's mean solar power (W) from the forecast's slots that overlap it."""
    ordered = sorted(solar, key=lambda item: item.start)
    first = 0
    for window in windows:
        while first < len(ordered) and ordered[first].end <= window.start:
            first += 1
        energy = 0.0
        index = first
        while index < len(ordered) and ordered[index].start < window.end:
            overlap = min(ordered[index].end, window.end) - max(ordered[index].start, window.start)
            energy += max(overlap.total_seconds(), 0.0) * ordered[index].power
            index += 1
        seconds = (window.end - window.start).total_seconds()
        window.solar = energy / seconds if seconds > 0 else 0.0


def _slot_cost(power: float, solar: float, price: float, feed_in: float) -> float:
    """Cost per hour of charging at `power` with `solar` W from the sun (per kWh prices)."""
    from_sun = min(power, solar)
    return (feed_in * from_sun + price * max(power - from_sun, 0.0)) / _WH_PER_KWH


def _blocks(windows: list[_Window], request: PlanRequest, unknown_price: float) -> list[tuple[float, int, int, float]]:
    """(price per kWh, kind, window index, energy Wh): the minimum block (0), solar (1) and grid (2) above it."""
    feed_in = request.feed_in or 0.0
    low, high = request.min_power, request.full_power
    blocks = []
    for index, window in enumerate(windows):
        if window.hours <= 0 or high <= 0:
            continue
        price = window.price if window.price is not None else window.estimate
        if price is None:
            price = unknown_price
        solar = min(window.solar, high)
        if solar <= 0:
            minimum_price = price
        elif solar >= low:
            minimum_price = feed_in
        else:
            minimum_price = (feed_in * solar + price * (low - solar)) / low
        blocks.append((minimum_price, 0, index, low * window.hours))
        if solar > low:
            blocks.append((feed_in, 1, index, (solar - low) * window.hours))
        above = high - max(low, solar)
        if above > 0:
            blocks.append((price, 2, index, above * window.hours))
    blocks.sort(key=lambda block: (round(block[0], 9), block[1], block[2]))
    return blocks


def _current_for(power: float, request: PlanRequest) -> float:
    """The current to offer for `power` W: at least the minimum, at most the maximum, rounded up to 0.1 A."""
    if power <= 0:
        return 0.0
    if request.max_power is not None and power >= request.full_power - ENERGY_TOLERANCE:
        return request.max_current  # the car takes what it can: offer the EVSE's maximum
    amps = math.ceil(power / (request.phases * request.voltage) * 10 - 1e-9) / 10
    return min(max(amps, request.min_current), request.max_current)


def energy_to_target(target_soc: float, soc: float, capacity_wh: float) -> float:
    """The energy (Wh) that brings a battery of `capacity_wh` from `soc` to `target_soc` (%)."""
    return max(target_soc - soc, 0.0) / 100.0 * capacity_wh


#: A capacity is estimated from at least this rise of the state of charge (%): the meter's SoC has whole percents.
MIN_SOC_RISE: Final = 2.0


def estimate_capacity(start_soc: float, start_wh: float, soc: float, energy_wh: float) -> float | None:
    """A battery's usable capacity (Wh) from the energy metered while its state of charge rose (None: too little)."""
    rise = soc - start_soc
    if rise < MIN_SOC_RISE or energy_wh <= start_wh:
        return None
    return (energy_wh - start_wh) * 100.0 / rise


def make_plan(request: PlanRequest) -> Plan:
    """The cheapest plan for `request` (see the module's description)."""
    now = request.now.replace(microsecond=0)
    end = request.departure - request.buffer
    if end <= now:
        end = request.departure
    if end <= now:
        return Plan(now, request.departure, max(request.energy_wh, 0.0), request.phases)
    if request.energy_wh <= ENERGY_TOLERANCE:  # nothing (more) to add: a pause until the departure
        idle = PlannedSlot(now, request.departure.replace(microsecond=0), 0.0, 0.0, None, 0.0)
        return Plan(now, request.departure, max(request.energy_wh, 0.0), request.phases, (idle,))
    windows = _windows(request, now, end.replace(microsecond=0))
    known = [window.price for window in windows if window.price is not None]
    unknown_price = (max(known) if known else 0.0) + max(request.feed_in or 0.0, 0.0) + 1.0
    remaining = request.energy_wh
    for _price, kind, index, energy in _blocks(windows, request, unknown_price):
        if remaining <= ENERGY_TOLERANCE:
            break
        window = windows[index]
        if kind > 0 and window.blocks_taken == 0.0:
            continue  # the minimum block comes first (it does unless feed-in pays more than the grid costs)
        taken = min(energy, remaining)
        if kind == 0 and taken < energy:
            window.minimum_only = taken
        window.blocks_taken += taken
        remaining -= taken
    return Plan(now, request.departure, request.energy_wh, request.phases, tuple(_planned(windows, request)))


def _planned(windows: list[_Window], request: PlanRequest) -> list[PlannedSlot]:
    feed_in = request.feed_in or 0.0
    slots: list[PlannedSlot] = []
    for window in windows:
        if window.blocks_taken <= 0:
            slots.append(PlannedSlot(window.start, window.end, 0.0, 0.0, window.price, 0.0))
            continue
        if window.minimum_only is not None:  # the minimum for part of the slot, then a pause
            power = request.min_power
            seconds = math.ceil(window.minimum_only / power * 3600.0)
            split = min(window.start + timedelta(seconds=seconds), window.end)
            parts = [(window.start, split, power, window.minimum_only)]
            if split < window.end:
                parts.append((split, window.end, 0.0, 0.0))
        else:
            parts = [(window.start, window.end, window.blocks_taken / window.hours, window.blocks_taken)]
        for start, stop, power, energy in parts:
            hours = (stop - start).total_seconds() / 3600.0
            solar_wh = min(power, window.solar) * hours
            cost = 0.0 if window.price is None else _slot_cost(power, window.solar, window.price, feed_in) * hours
            current = _current_for(power, request)
            slots.append(PlannedSlot(start, stop, power, current, window.price, energy, solar_wh, cost))
    return slots
