"""What the command line tells the user when the central system refuses a simulated station's cards."""

from __future__ import annotations

import sys
from typing import TextIO

from .station import SimStation

#: Where the integration lists the cards allowed to charge and the policy for unknown ones (its options flow).
CONFIGURE: str = "Settings → Devices & services → OCPP Charging Station Management → Configure"


class CardHints:
    """Tells once per station which cards it presents and how to allow them (the first in full, then briefly)."""

    def __init__(self, out: TextIO | None = None) -> None:
        """Nothing told yet; `out` defaults to stdout."""
        self.out = out
        self.told: set[str] = set()
        self.first: str | None = None

    def __call__(self, station: SimStation, card: str, action: str, status: str) -> None:
        """`SimStation.on_card_refused`: the central system answered `action` for `card` with `status`."""
        if station.station_id in self.told:
            return
        cards = [token["id_token"] for token in station.tokens]
        refused = f"{station.station_id}: the central system refused card {card} ({action}: {status})"
        if self.first is not None:
            text = (
                f"== {refused}; its cards: {', '.join(cards)}. Allow them as shown above for {self.first} "
                f"(Configure → ID tokens, or the action ocpp_csms.add_id_token with id_token: <card>), "
                "or set Unknown ID tokens: Accept."
            )
        else:
            example = cards[0]
            text = "\n".join(
                [
                    f"== {refused}, so {station.station_id} cannot charge.",
                    f"   Its drivers present these RFID cards (ISO14443): {', '.join(cards)}",
                    "   To let them charge with Home Assistant's OCPP Charging Station Management, either",
                    "   - allow each card:",
                    f"       {CONFIGURE} → ID tokens (charging cards) → Add a token,",
                    "     or the action ocpp_csms.add_id_token once per card (Developer tools → Actions):",
                    "       action: ocpp_csms.add_id_token",
                    "       data:",
                    f"         id_token: {example}",
                    "   - or let any card charge:",
                    f"       {CONFIGURE} → General settings → Unknown ID tokens: Accept.",
                    "   With another central system, add the cards to its list of allowed ID tokens.",
                    "   A station's cards follow from its id: the same ids present the same cards in every run.",
                ]
            )
            self.first = station.station_id
        self.told.add(station.station_id)
        print(text, file=self.out or sys.stdout, flush=True)
