"""A session's cost: the energy metered between two readings, spread evenly over that time, at each slot's price.

Energy in a stretch without a known price is counted apart (`unpriced_wh`), never guessed. A meter that goes back
(a new register, a replaced meter) starts a new baseline. Keep it with the session (`to_dict` / `from_dict`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .prices import PriceSlot

_WH_PER_KWH: Final = 1000.0


@dataclass(slots=True)
class SessionCost:
    """The running cost of one session."""

    cost: float = 0.0
    energy_wh: float = 0.0
    unpriced_wh: float = 0.0
    last_at: datetime | None = None
    last_wh: float | None = None
    """The last session-energy reading (Wh)."""

    def add_reading(self, moment: datetime, energy_wh: float, prices: Sequence[PriceSlot]) -> float:
        """Count the energy since the last reading (the session's energy register, Wh); returns the cost added.

        `prices` are sorted by start and do not overlap (as `prices.merge_prices` keeps them).
        """
        previous_at, previous_wh = self.last_at, self.last_wh
        if previous_at is not None and moment < previous_at:
            return 0.0  # an older reading (an offline replay out of order): already counted
        self.last_at, self.last_wh = moment, energy_wh
        if previous_at is None or previous_wh is None or energy_wh <= previous_wh:
            return 0.0
        delta = energy_wh - previous_wh
        self.energy_wh += delta
        seconds = (moment - previous_at).total_seconds()
        if seconds <= 0:
            self.unpriced_wh += delta
            return 0.0
        added = 0.0
        priced = 0.0
        first = max(bisect_right(prices, previous_at, key=lambda slot: slot.start) - 1, 0)  # prices are sorted
        for slot in prices[first:]:
            if slot.start >= moment:
                break
            overlap = (min(slot.end, moment) - max(slot.start, previous_at)).total_seconds()
            if overlap <= 0:
                continue
            share = delta * overlap / seconds
            priced += share
            added += share * slot.price / _WH_PER_KWH
        self.unpriced_wh += max(delta - priced, 0.0)
        self.cost += added
        return added

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the session's store."""
        return {
            "cost": self.cost,
            "energy_wh": self.energy_wh,
            "unpriced_wh": self.unpriced_wh,
            "last_at": None if self.last_at is None else self.last_at.isoformat(),
            "last_wh": self.last_wh,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SessionCost:
        """Back from `to_dict` (anything unreadable starts afresh)."""
        try:
            last_at = data.get("last_at")
            last_wh = data.get("last_wh")
            return cls(
                cost=float(data.get("cost", 0.0)),
                energy_wh=float(data.get("energy_wh", 0.0)),
                unpriced_wh=float(data.get("unpriced_wh", 0.0)),
                last_at=None if last_at is None else datetime.fromisoformat(str(last_at)),
                last_wh=None if last_wh is None else float(last_wh),
            )
        except TypeError, ValueError:
            return cls()


def running_price_message(price: float | None, currency: str, *, language: str = "en") -> str | None:
    """The personalMessage text with the running price (None when no price is known): ASCII, short."""
    if price is None:
        return None
    del language  # one language for now: the station shows what it is sent
    return f"{price:.4f} {currency}/kWh"[:50]
