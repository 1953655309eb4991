"""How often an EVSE's limit may change: a token bucket.

Every change of a limit (a charging profile written to the station's flash, a current step the car follows) takes a
token. Tokens come back at `rate` per hour, up to `burst` saved up for a quick reaction after a quiet spell. A
decrease never waits: it goes out and takes a token even when none is left, down to a debt of `burst`. An increase
waits until two tokens are there (`INCREASE_NEEDS`): its own, and one kept for the decrease that may follow it, so
that decreases going out at once do not add up to more changes. In any hour an EVSE sees at most about
`rate + 2 * burst` changes (with the defaults: 50 + 10 = 60), plus the few decreases of a limit falling step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

DEFAULT_RATE: Final = 50.0
"""Tokens per hour."""
DEFAULT_BURST: Final = 5.0
#: Tokens an increase needs: its own and the one of the decrease that may follow it.
INCREASE_NEEDS: Final = 2.0


@dataclass(slots=True)
class ChangeBudget:
    """The tokens of one EVSE (copy it to keep a snapshot: its fields are immutable values)."""

    tokens: float = DEFAULT_BURST
    updated_at: datetime | None = None
    rate: float = DEFAULT_RATE
    burst: float = DEFAULT_BURST

    def refill(self, now: datetime) -> None:
        """Add the tokens earned since the last look."""
        if self.updated_at is not None and now > self.updated_at:
            earned = (now - self.updated_at).total_seconds() * self.rate / 3600.0
            self.tokens = min(self.burst, self.tokens + earned)
        if self.updated_at is None or now > self.updated_at:
            self.updated_at = now

    def available(self, now: datetime, need: float = 1.0) -> bool:
        """Whether a change that needs `need` tokens may go out now."""
        self.refill(now)
        return self.tokens >= need - 1e-9

    def take(self, now: datetime) -> None:
        """A change went out (urgent ones too): one token less, never below a debt of `burst`."""
        self.refill(now)
        self.tokens = max(-self.burst, self.tokens - 1.0)

    def next_token_at(self, now: datetime, need: float = 1.0) -> datetime:
        """When `need` tokens will be available (now, if they are)."""
        self.refill(now)
        missing = need - self.tokens
        if missing <= 1e-9:
            return now
        return now + timedelta(seconds=missing * 3600.0 / self.rate)
