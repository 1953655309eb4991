"""Planner benchmark: a week of day-ahead prices, two cars, `smart` against charging at once and the LP optimum.

The prices (15-minute slots, local time Europe/Berlin) have realistic shapes: cheap nights, a morning and an evening
peak, a sunny midday dip, a negative-price afternoon on Sunday, noise; tomorrow's prices arrive at 13:00, on
Wednesday only at 21:00 (late). Two cars come and go during the week: an 11 kW car (16 A, 3 phases) and a 3.7 kW car
(16 A, 1 phase), each with the energy to add by its departure (30 minutes of buffer).

Per session, at the true prices:

- `smart`: our planner (`planner/plan.py`), re-planned at arrival and whenever new prices arrive, knowing only the
  prices published by then; the car draws what the plan offers;
- `at once`: full power from arrival until the energy is in;
- `LP, same knowledge`: the linear program min sum(price_i * e_i), 0 <= e_i <= P_max * h_i, sum(e_i) = E solved by
  scipy's HiGHS (`scipy.optimize.linprog`, a benchmark-only dependency from requirements_bench.txt) at the same
  moments with the same prices known, prices not out yet taken as the same quarter the day before (the planner's
  rule, written again here): the planner's optimality, apart from the minimum current;
- `LP, hindsight`: the same linear program once, every price of the stay known: the best any planner could do; the
  gap to it is the cost of not knowing tomorrow's prices at arrival.

Then the time to compute a plan over a week of 15-minute slots (672 slots). Targets: `smart` at most 1 % above the
optimum in total (the LP with the same knowledge; hindsight shown too); a plan in under 20 ms.
Run with `scripts/bench planner`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import math
from pathlib import Path
import random
import statistics
import sys
import time
from zoneinfo import ZoneInfo

import numpy as np
import scipy
from scipy.optimize import linprog

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from custom_components.ocpp_csms.planner.plan import Plan, PlanRequest, make_plan
from custom_components.ocpp_csms.planner.prices import PriceSlot

TZ = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 9, tzinfo=TZ)
Q = timedelta(minutes=15)
BUFFER = timedelta(minutes=30)
VOLTAGE = 230.0
PUBLISHED_AT = 13  # local hour tomorrow's prices arrive
LATE_DAY = 2  # Wednesday: tomorrow's prices arrive only at 21:00
LATE_HOUR = 21


def _shape(hour: float, weekday: int) -> float:
    """A day-ahead price (per kWh) at a local hour: night trough, morning and evening peaks, midday solar dip."""
    night = 0.18 + 0.04 * math.cos((hour - 3) / 24 * 2 * math.pi)
    morning = 0.12 * math.exp(-(((hour - 8) / 1.3) ** 2))
    evening = 0.18 * math.exp(-(((hour - 19) / 1.6) ** 2))
    solar = -0.10 * math.exp(-(((hour - 13) / 2.2) ** 2)) * (1.6 if weekday >= 5 else 1.0)
    price = 0.08 + night * 0.5 + morning + evening + solar
    if weekday == 6 and 12 <= hour < 16:  # a sunny, windy Sunday afternoon
        price = -0.04 - 0.02 * math.sin((hour - 12) / 4 * math.pi)
    return price


def week_prices(seed: int) -> list[tuple[PriceSlot, datetime]]:
    """Nine days of 15-minute prices (the week and the next two mornings), each with when it was published."""
    rng = random.Random(seed)  # noqa: S311 - reproducible noise, not secrets
    slots: list[tuple[PriceSlot, datetime]] = []
    for day in range(9):
        midnight = MONDAY + timedelta(days=day)
        published_day = midnight - timedelta(days=1)
        hour = LATE_HOUR if day - 1 == LATE_DAY else PUBLISHED_AT
        published = published_day.replace(hour=hour).astimezone(UTC)
        for quarter in range(96):
            start = (midnight + Q * quarter).astimezone(UTC)
            price = _shape(quarter / 4, midnight.weekday()) + rng.gauss(0, 0.01)
            slots.append((PriceSlot(start, start + Q, round(price, 4)), published))
    return slots


@dataclass(frozen=True)
class Session:
    """A car's stay: arrival, departure (local), energy to add, its charging power."""

    car: str
    arrival: datetime
    departure: datetime
    energy_wh: float
    phases: int
    max_current: float = 16.0


def sessions() -> list[Session]:
    """Two cars over the week: commutes, a late return, a long weekend stay over the negative afternoon."""

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return (MONDAY + timedelta(days=day, hours=hour, minutes=minute)).astimezone(UTC)

    big = [  # the 11 kW car: evening arrivals, morning departures
        (0, 18, 1, 7, 24_000),
        (1, 19, 2, 7, 30_000),
        (2, 17, 3, 6, 40_000),  # arrives before Thursday's prices are out (late day)
        (3, 20, 4, 7, 18_000),
        (4, 18, 5, 10, 35_000),
        (5, 11, 6, 18, 50_000),  # the weekend: across Sunday's negative afternoon
    ]
    small = [  # the 3.7 kW car: a shorter commute, one midday stay
        (0, 17, 1, 8, 12_000),
        (1, 18, 2, 8, 10_000),
        (2, 16, 3, 8, 14_000),
        (3, 12, 3, 16, 6_000),
        (4, 19, 5, 9, 15_000),
        (6, 9, 7, 7, 20_000),
    ]
    result = [Session("11 kW", at(a, ah), at(d, dh), e, 3) for a, ah, d, dh, e in big]
    result += [Session("3.7 kW", at(a, ah), at(d, dh), e, 1) for a, ah, d, dh, e in small]
    return result


def _energy_in(plan: Plan, start: datetime, end: datetime) -> list[tuple[datetime, datetime, float]]:
    """The plan's energy in [start, end), as (from, to, Wh) pieces."""
    pieces = []
    for slot in plan.slots:
        begin, until = max(slot.start, start), min(slot.end, end)
        if until > begin and slot.power > 0:
            pieces.append((begin, until, slot.power * (until - begin).total_seconds() / 3600))
    return pieces


def _cost(pieces: list[tuple[datetime, datetime, float]], prices: dict[datetime, float]) -> float:
    total = 0.0
    for begin, until, energy in pieces:
        cursor = begin
        while cursor < until:  # pieces never cross a quarter: plans are cut at the price slots
            slot_start = cursor - timedelta(minutes=cursor.minute % 15, seconds=cursor.second)
            stop = min(until, slot_start + Q)
            share = energy * (stop - cursor).total_seconds() / (until - begin).total_seconds()
            total += share * prices[slot_start] / 1000
            cursor = stop
    return total


def smart(session: Session, published: list[tuple[PriceSlot, datetime]]) -> tuple[float, float, int, list[float]]:
    """Cost, energy, plans made and the time of each plan (ms) when the planner runs the session."""
    truth = {slot.start: slot.price for slot, _ in published}
    events = sorted({session.arrival} | {at for _, at in published if session.arrival < at < session.departure})
    delivered = 0.0
    cost = 0.0
    timings = []
    for index, now in enumerate(events):
        until = events[index + 1] if index + 1 < len(events) else session.departure
        known = [slot for slot, at in published if at <= now]
        request = PlanRequest(
            now=now,
            departure=session.departure,
            energy_wh=session.energy_wh - delivered,
            prices=known,
            max_current=session.max_current,
            phases=session.phases,
            voltage=VOLTAGE,
            buffer=BUFFER,
        )
        started = time.perf_counter()
        plan = make_plan(request)
        timings.append((time.perf_counter() - started) * 1000)
        pieces = _energy_in(plan, now, until)
        delivered += sum(energy for _, _, energy in pieces)
        cost += _cost(pieces, truth)
    return cost, delivered, len(events), timings


def _lp(prices: list[float], capacity: list[float], energy: float) -> list[float]:
    """HiGHS: the energy per slot (Wh) of min sum(price * e), 0 <= e <= capacity, sum(e) = energy."""
    result = linprog(
        c=np.array(prices),
        A_eq=np.ones((1, len(prices))),
        b_eq=np.array([energy]),
        bounds=[(0.0, cap) for cap in capacity],
        method="highs",
    )
    if not result.success:
        raise RuntimeError(result.message)
    return [float(value) for value in result.x]


def rolling_lp(session: Session, published: list[tuple[PriceSlot, datetime]]) -> tuple[float, float]:
    """Cost and energy when the LP is solved at the same moments as the planner, with the same prices known."""
    truth = {slot.start: slot.price for slot, _ in published}
    events = sorted({session.arrival} | {at for _, at in published if session.arrival < at < session.departure})
    end = session.departure - BUFFER
    power = session.max_current * session.phases * VOLTAGE
    delivered = 0.0
    cost = 0.0
    for index, now in enumerate(events):
        until = events[index + 1] if index + 1 < len(events) else session.departure
        known = {slot.start: slot.price for slot, at in published if at <= now}
        dearest = max(known.values()) + 1.0
        starts = []
        cursor = now
        while cursor < end:
            starts.append(cursor)
            cursor += Q
        prices = [known.get(start, known.get(start - timedelta(days=1), dearest)) for start in starts]
        capacity = [power * (min(start + Q, end) - start).total_seconds() / 3600 for start in starts]
        energy = min(session.energy_wh - delivered, sum(capacity))
        if energy <= 1e-6:
            break
        for start, amount in zip(starts, _lp(prices, capacity, energy), strict=True):
            if start < until and amount > 1e-9:
                delivered += amount
                cost += amount * truth[start] / 1000
    return cost, delivered


def at_once(session: Session, published: list[tuple[PriceSlot, datetime]]) -> tuple[float, float]:
    """Cost and energy when the car charges at full power from arrival until the energy is in."""
    truth = {slot.start: slot.price for slot, _ in published}
    power = session.max_current * session.phases * VOLTAGE
    needed = session.energy_wh
    cursor = session.arrival
    pieces = []
    while needed > 1e-6 and cursor < session.departure:
        step = min(Q, session.departure - cursor)
        energy = min(needed, power * step.total_seconds() / 3600)
        pieces.append((cursor, cursor + step * (energy / (power * step.total_seconds() / 3600)), energy))
        needed -= energy
        cursor += step
    return _cost(pieces, truth), session.energy_wh - needed


def optimum(session: Session, published: list[tuple[PriceSlot, datetime]]) -> tuple[float, float]:
    """The LP's optimal cost with every price known (HiGHS), and the energy it delivers."""
    end = session.departure - BUFFER
    slots = [slot for slot, _ in published if slot.end > session.arrival and slot.start < end]
    power = session.max_current * session.phases * VOLTAGE
    hours = [(min(slot.end, end) - max(slot.start, session.arrival)).total_seconds() / 3600 for slot in slots]
    capacity = [power * h for h in hours]
    energy = min(session.energy_wh, sum(capacity))
    amounts = _lp([slot.price / 1000 for slot in slots], capacity, energy)
    return sum(amount * slot.price / 1000 for amount, slot in zip(amounts, slots, strict=True)), energy


def plan_timing(published: list[tuple[PriceSlot, datetime]], rounds: int) -> list[float]:
    """Ms per plan over a week of 15-minute slots (672), 40 kWh at 11 kW, solar-free."""
    slots = [slot for slot, _ in published]
    now = slots[0].start
    request = PlanRequest(now=now, departure=now + timedelta(days=7), energy_wh=40_000.0, prices=slots)
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        make_plan(request)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=14, help="noise of the prices (default 14)")
    parser.add_argument("--rounds", type=int, default=200, help="plans timed over a week of slots (default 200)")
    args = parser.parse_args()
    published = week_prices(args.seed)
    print(f"Python {sys.version.split()[0]}, scipy {scipy.__version__} (HiGHS), seed {args.seed}.")
    print()
    print("| car | arrival (local) | departure | kWh | plans | smart | at once | LP, same knowledge | LP, hindsight |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    totals = [0.0, 0.0, 0.0, 0.0]
    session_timings: list[float] = []
    for session in sessions():
        smart_cost, smart_energy, plans, timings = smart(session, published)
        once_cost, once_energy = at_once(session, published)
        same_cost, same_energy = rolling_lp(session, published)
        best_cost, best_energy = optimum(session, published)
        session_timings += timings
        energies = (smart_energy, once_energy, same_energy, best_energy)
        if max(energies) - min(energies) > 2:
            print(f"energy differs (Wh): smart, at once, LP same, LP hindsight: {energies}")
        costs = (smart_cost, once_cost, same_cost, best_cost)
        totals = [total + cost for total, cost in zip(totals, costs, strict=True)]
        print(
            f"| {session.car} | {session.arrival.astimezone(TZ):%a %H:%M} | {session.departure.astimezone(TZ):%a %H:%M}"
            f" | {session.energy_wh / 1000:.0f} | {plans} | " + " | ".join(f"{cost:.3f}" for cost in costs) + " |"
        )
    print("| **total** | | | | | " + " | ".join(f"**{total:.3f}**" for total in totals) + " |")
    print()
    same, hindsight = totals[2], totals[3]
    print("| smart against | total cost | smart above it |")
    print("|---|---:|---:|")
    print(f"| LP, same knowledge (the optimum) | {same:.3f} | {(totals[0] - same) / abs(same) * 100:+.2f} % |")
    print(f"| LP, hindsight | {hindsight:.3f} | {(totals[0] - hindsight) / abs(hindsight) * 100:+.2f} % |")
    print(f"| charging at once | {totals[1]:.3f} | {(totals[0] - totals[1]) / abs(totals[1]) * 100:+.2f} % |")
    print()
    week = plan_timing(published, args.rounds)
    print("| plan computed over | plans | ms p50 | ms p99 | ms max |")
    print("|---|---:|---:|---:|---:|")
    for name, timings in (
        ("a week of 15-minute slots (672)", week),
        ("the sessions above (to departure)", session_timings),
    ):
        ordered = sorted(timings)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"| {name} | {len(timings)} | {statistics.median(timings):.2f} | {p99:.2f} | {max(timings):.2f} |")
    print()
    print("Targets: smart at most 1 % above the optimum (LP, same knowledge) in total; a plan in under 20 ms.")


if __name__ == "__main__":
    main()
