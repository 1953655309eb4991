"""Energy totals from energy register readings: a lifetime total that never decreases, and a session's energy.

Registers are not well behaved: a meter is reset or replaced, a station reports each session's energy from 0 instead
of a register, queued readings are replayed late and out of order. Both totals count only increases between readings
in time order, so a drop starts a new baseline instead of subtracting, and neither total can go down. The energy
between the last reading before a drop and the drop itself is not counted: we cannot know whether the meter
restarted at zero.

`LifetimeEnergy` (a Home Assistant `total_increasing` kWh sensor) keeps O(1) state per register and takes only
readings newer than the last it took: replayed older readings are ignored, which loses nothing while the register
only grows (the later reading already covers them). "Newer" is by seqNo within one transaction (a station replaying
its offline queue may stamp each event when it sends it, so seqNo 14, 12, 13, 11 can come with rising timestamps: a
lower register from an earlier seqNo is older, never a reset) and by timestamp otherwise. A reading further above
the previous one than `max_power_w` could have delivered in between is an implausible jump (a unit mix-up, a
replaced meter with a higher register): it starts a new baseline instead of being counted.

`SessionEnergy` keeps every reading of one session in order (seqNo, then time: see `SessionEnergy.add`) and sums the
increases between neighbours: the result depends only on the set of readings, not the order they came in, and
inserting a plausible reading never lowers it except for the dip rule below (for a between b and c,
max(0, c-b) <= max(0, b-a') + max(0, c-b') by the triangle inequality). An increase between neighbours that no
charger could deliver in the time between them (the same `max_power_w` rule as the lifetime's: 250 kWh in 15 s) is
not counted.

A register that drops for a moment and comes back (Growatt, Pulsar: a reading of 0 between two true ones) is a
glitch, not a reset: when the reading after a drop is back at or above the level before it, the increase counts
from that level, so the energy around the dip is counted once. Both totals apply this rule: the lifetime to any run
of low readings within one transaction (a drop between transactions is a per-session register starting again),
the session to a single low reading between two others. A session's readings arriving out of order can then
lower its energy once: a late reading that shows an earlier one to be a dip takes back what the dip let count
twice (the session sensor is a `total`, which may go down; the lifetime takes readings in order only).

Arithmetic is decimal, so totals are exact and independent of the order of additions.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Self

#: No charger delivers more (MCS tops out at 3.75 MW): a faster register rise is a glitch, not energy.
DEFAULT_MAX_POWER_W: Final = 4_000_000.0
#: Allowed on top of max_power_w * elapsed: register rounding (a register in whole kWh steps by 1000 Wh).
JUMP_SLACK_WH: Final = Decimal(1000)


def _decimal(value: float) -> Decimal:
    return Decimal(repr(value))


#: Settled readings are folded once this many are held besides the two kept as neighbours.
SETTLED_FOLD_BATCH: Final = 16

_DEFAULT_MAX_WH_PER_S: Final = Decimal(repr(DEFAULT_MAX_POWER_W)) / 3600


def _increase(earlier: tuple[datetime, Decimal], later: tuple[datetime, Decimal]) -> Decimal:
    """The energy counted between two neighbouring readings: the rise, unless no charger could deliver it."""
    delta = later[1] - earlier[1]
    if delta <= 0:
        return Decimal(0)
    elapsed = abs(Decimal((later[0] - earlier[0]).total_seconds()))
    return delta if delta <= _DEFAULT_MAX_WH_PER_S * elapsed + JUMP_SLACK_WH else Decimal(0)


type EventOrder = tuple[str, int]
"""Where a reading of a TransactionEvent stands: (transactionId, seqNo)."""


@dataclass(slots=True)
class _Register:
    total: Decimal
    last_value: Decimal
    #: The latest timestamp taken.
    last_timestamp: datetime
    #: The (transactionId, seqNo) of the last transaction reading taken.
    last_order: EventOrder | None = None
    #: The level before a drop within a transaction, until a reading rises again.
    before_drop: Decimal | None = None

    def older(self, timestamp: datetime, order: EventOrder | None) -> bool:
        """Whether a reading is not newer than what was taken: by seqNo within a transaction, else by time."""
        last = self.last_order
        if order is not None and last is not None and order[0] == last[0] and order[1] != last[1]:
            return order[1] < last[1]
        return timestamp <= self.last_timestamp


class LifetimeEnergy:
    """Per-EVSE lifetime energy (Wh) that never decreases, for a `total_increasing` sensor.

    The first reading of a register is its starting total, so for a true register the lifetime equals the
    meter reading until the first reset; from then on it keeps adding the increases.
    """

    def __init__(self, max_power_w: float = DEFAULT_MAX_POWER_W) -> None:
        """No register known yet."""
        self._max_power_wh_per_s = Decimal(repr(max_power_w)) / 3600
        self._registers: dict[int, _Register] = {}
        #: Registers restored from a store that may be older than what was shown (not saved on a clean stop).
        self._unconfirmed: set[int] = set()

    def __eq__(self, other: object) -> bool:
        """Equal when the registers are."""
        return isinstance(other, LifetimeEnergy) and self._registers == other._registers

    __hash__ = None  # type: ignore[assignment]

    @property
    def registers(self) -> list[int]:
        """The EVSEs whose register was fed so far."""
        return sorted(self._registers)

    def mark_unconfirmed(self) -> None:
        """What was restored may lag what was shown before (Home Assistant was killed before it saved).

        Until a register is read again, `confirmed` says False: a total shown then could dip below the one
        shown before the restart. The next reading newer than the restored one makes the total exact again.
        """
        self._unconfirmed = set(self._registers)

    def confirmed(self, evse_id: int) -> bool:
        """Whether the EVSE's total is known to be current (False after a restore until its register is read)."""
        return evse_id not in self._unconfirmed

    def total_wh(self, evse_id: int) -> float | None:
        """An EVSE's lifetime total (Wh), None before its first reading."""
        state = self._registers.get(evse_id)
        return float(state.total) if state is not None else None

    def feed(self, evse_id: int, value_wh: float, timestamp: datetime, order: EventOrder | None = None) -> bool:
        """Take one reading of an EVSE's register; whether the total changed. Not newer than the last: ignored.

        `order` is the (transactionId, seqNo) of the TransactionEvent that carried the reading: within one
        transaction a higher seqNo is newer whatever the timestamps say.
        """
        value = _decimal(value_wh)
        state = self._registers.get(evse_id)
        if state is None:
            self._registers[evse_id] = _Register(max(value, Decimal(0)), value, timestamp, order)
            return value > 0
        if state.older(timestamp, order):
            return False  # a replay, or older than what we counted already
        changed = False
        if evse_id in self._unconfirmed:
            self._unconfirmed.discard(evse_id)
            changed = True
        last = state.last_order
        same_transaction = order is not None and last is not None and order[0] == last[0]
        if not same_transaction:
            state.before_drop = None
        baseline = state.last_value
        if state.before_drop is not None and value > baseline:
            if value >= state.before_drop:
                baseline = state.before_drop  # back from a dip: a glitch, not a reset
            state.before_drop = None
        elif value < baseline and same_transaction and state.before_drop is None:
            state.before_drop = baseline
        delta = value - baseline
        elapsed = abs(Decimal((timestamp - state.last_timestamp).total_seconds()))
        plausible = delta <= self._max_power_wh_per_s * elapsed + JUMP_SLACK_WH
        state.last_value = value
        state.last_timestamp = max(timestamp, state.last_timestamp)
        if order is not None:
            state.last_order = order
        if delta > 0 and plausible:
            state.total += delta
            return True
        return changed  # a drop (reset, new meter, per-session register) or a jump: a new baseline

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {}
        for evse_id, state in sorted(self._registers.items()):
            item: dict[str, Any] = {
                "total_wh": str(state.total),
                "last_value_wh": str(state.last_value),
                "last_timestamp": state.last_timestamp.isoformat(),
            }
            if state.last_order is not None:
                item["last_order"] = list(state.last_order)
            if state.before_drop is not None:
                item["before_drop_wh"] = str(state.before_drop)
            data[str(evse_id)] = item
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], max_power_w: float = DEFAULT_MAX_POWER_W) -> Self:
        """The inverse of `to_dict()`."""
        energy = cls(max_power_w)
        for evse_id, state in data.items():
            energy._registers[int(evse_id)] = _Register(
                Decimal(state["total_wh"]),
                Decimal(state["last_value_wh"]),
                datetime.fromisoformat(state["last_timestamp"]),
                (str(state["last_order"][0]), int(state["last_order"][1])) if "last_order" in state else None,
                Decimal(state["before_drop_wh"]) if "before_drop_wh" in state else None,
            )
        return energy


type _Point = tuple[int, datetime, Decimal]  # (seqNo, timestamp, Wh): ordered by seqNo, then time


def _rise(earlier: _Point, later: _Point) -> Decimal:
    return _increase((earlier[1], earlier[2]), (later[1], later[2]))


def _gain(points: list[_Point], index: int) -> Decimal:
    """What the reading at `index` adds to a session: the rise from its neighbour, or over a one-reading dip."""
    if index <= 0:
        return Decimal(0)
    before, point = points[index - 1], points[index]
    if index >= 2:
        level = points[index - 2]
        if before[2] < level[2] <= point[2]:
            return _rise(level, point)  # the neighbour was a dip: counted from the level before it
    return _rise(before, point)


def _gains(points: list[_Point]) -> Decimal:
    return sum((_gain(points, index) for index in range(1, len(points))), Decimal(0))


class SessionEnergy:
    """The energy of one session (Wh): the sum of the register increases between readings in order.

    Readings are ordered by the seqNo of the event that carried them, then by time: a station replaying its queue
    may stamp each event when it sends it, and its seqNo is what tells the true order. Readings can come in any
    order. Readings no late event can change any more (`settle`: every seqNo up to one is in) are folded into a
    fixed sum, but the last two; a station that reuses seqNos cannot tell that, and for it, once more than
    `max_points` are held, the older half is folded. Readings before what was folded are ignored from then on.
    """

    def __init__(self, max_points: int = 4096) -> None:
        """No reading yet."""
        self._max_points = max(max_points, 4)
        self._points: list[_Point] = []
        self._between = Decimal(0)  # increases between neighbouring held points
        self._folded = Decimal(0)  # increases before the first held point, once folded
        self._floor: tuple[int, datetime] | None = None  # once folded: readings up to here are counted already

    def __eq__(self, other: object) -> bool:
        """Equal when holding the same readings and folded sum."""
        return (
            isinstance(other, SessionEnergy)
            and self._points == other._points
            and self._between == other._between
            and self._folded == other._folded
            and self._floor == other._floor
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def energy_wh(self) -> float:
        """The energy of the session so far."""
        return float(self._folded + self._between)

    @property
    def first(self) -> tuple[datetime, float] | None:
        """The earliest reading held: (timestamp, Wh)."""
        return (self._points[0][1], float(self._points[0][2])) if self._points else None

    @property
    def last(self) -> tuple[datetime, float] | None:
        """The latest reading: (timestamp, Wh)."""
        return (self._points[-1][1], float(self._points[-1][2])) if self._points else None

    @property
    def last_order(self) -> int | None:
        """The seqNo of the latest reading."""
        return self._points[-1][0] if self._points else None

    def add(self, value_wh: float, timestamp: datetime, order: int = 0) -> bool:
        """Insert a reading at its place (`order`: its event's seqNo, then time); whether the energy changed."""
        if self._floor is not None and (order, timestamp) <= self._floor:
            return False  # within the folded part
        point = (order, timestamp, _decimal(value_wh))
        points = self._points
        index = bisect_left(points, point)
        if index < len(points) and points[index] == point:
            return False  # the same reading again
        previous = self._folded + self._between
        # A reading's gain depends on the two before it: the gains of the next two change with the new one.
        self._between -= sum((_gain(points, i) for i in range(index, min(index + 2, len(points)))), Decimal(0))
        points.insert(index, point)
        self._between += sum((_gain(points, i) for i in range(index, min(index + 3, len(points)))), Decimal(0))
        if len(points) > self._max_points:
            self._fold()
        return self._folded + self._between != previous

    def settle(self, through: int) -> None:
        """Readings of events up to seqNo `through` are all in: fold them into the sum but the last two.

        Those two stay as the neighbours a later reading's gain (and the dip rule) is taken from; a reading at or
        before the first of them is ignored from then on, as after any fold. Folded SETTLED_FOLD_BATCH at a time
        (each fold computes the gains it removes): a session whose events come in order holds at most that many
        readings more, however long it runs.
        """
        settled = bisect_left(self._points, (through + 1,))  # the readings of seqNos up to `through`
        if settled - 2 >= SETTLED_FOLD_BATCH:
            self._fold(settled - 2)

    def _fold(self, count: int | None = None) -> None:
        """Fold the first `count` readings held (by default the older half) into the fixed sum.

        A gain depends on the two readings before it: only those of the readings up to two after the folded ones
        change (the first kept has none; the second, no dip to look back on). O(count), not O(readings held).
        """
        points = self._points
        count = len(points) // 2 if count is None else count
        total = self._folded + self._between
        self._between -= sum((_gain(points, index) for index in range(1, count + 2)), Decimal(0))
        del points[:count]
        self._between += _gain(points, 1)
        self._folded = total - self._between
        self._floor = (points[0][0], points[0][1])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (a point's seqNo left out when 0)."""
        data: dict[str, Any] = {
            "points": [
                [timestamp.isoformat(), str(value), order] if order else [timestamp.isoformat(), str(value)]
                for order, timestamp, value in self._points
            ]
        }
        if self._floor is not None:
            data["folded_wh"] = str(self._folded)
            data["floor"] = self._floor[1].isoformat()
            if self._floor[0]:
                data["floor_order"] = self._floor[0]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], max_points: int = 4096) -> Self:
        """The inverse of `to_dict()` (points stored before seqNo ordering have seqNo 0)."""
        energy = cls(max_points)
        energy._folded = Decimal(data.get("folded_wh", "0"))
        if "floor" in data:
            energy._floor = (int(data.get("floor_order", 0)), datetime.fromisoformat(data["floor"]))
        points = [
            (int(item[2]) if len(item) > 2 else 0, datetime.fromisoformat(item[0]), Decimal(item[1]))
            for item in data["points"]
        ]
        points.sort()
        energy._points = points
        energy._between = _gains(points)
        return energy
