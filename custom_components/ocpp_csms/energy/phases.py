"""Switching an EVSE between one and three phases (numberPhases / phaseToUse, K01), without flapping.

While the EVSE does not charge the planned number of phases simply follows what is wanted (nothing is switched,
the next start uses it). While it charges, a switch up waits for the enable delay, a switch down for the disable
delay, and no switch follows another within the dwell time. A switch during a transaction happens only where the
station says it can (Phases3to1); otherwise the EVSE keeps its phases until the car leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

DEFAULT_DWELL: Final = timedelta(minutes=5)


@dataclass(slots=True)
class PhaseSwitch:
    """The planned number of phases of an EVSE that can switch them (a snapshot is a copy)."""

    phases: int = 3
    want: int | None = None
    want_since: datetime | None = None
    switched_at: datetime | None = None

    def update(
        self,
        desired: int,
        now: datetime,
        *,
        charging: bool,
        allowed: bool,
        up_delay: timedelta,
        down_delay: timedelta,
        dwell: timedelta = DEFAULT_DWELL,
    ) -> bool:
        """Move towards `desired` phases; whether a switch is pending (wanted, waiting for its delay or dwell).

        `charging`: current flows (a switch is a real one). `allowed`: the station may switch now.
        """
        if desired == self.phases or not allowed:
            self.want = self.want_since = None
            return False
        if not charging:
            self.phases, self.want, self.want_since = desired, None, None
            return False
        if self.want != desired:
            self.want, self.want_since = desired, now
        if self._ready(now, up_delay=up_delay, down_delay=down_delay, dwell=dwell):
            self.phases, self.switched_at, self.want, self.want_since = desired, now, None, None
            return False
        return True

    def _ready(self, now: datetime, *, up_delay: timedelta, down_delay: timedelta, dwell: timedelta) -> bool:
        due = self.due_at(up_delay=up_delay, down_delay=down_delay, dwell=dwell)
        return due is not None and now >= due

    def due_at(
        self, *, up_delay: timedelta, down_delay: timedelta, dwell: timedelta = DEFAULT_DWELL
    ) -> datetime | None:
        """When a pending switch may happen."""
        if self.want is None or self.want_since is None:
            return None
        due = self.want_since + (up_delay if self.want > self.phases else down_delay)
        if self.switched_at is not None:
            due = max(due, self.switched_at + dwell)
        return due
