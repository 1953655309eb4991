"""Every dispatcher signal of the integration, and what the signals that carry something carry.

Signals are per config entry. The glue services send them when a station, an EVSE or a variable changed; entities
follow the signals of what they show, and the platforms add entities when a station, an EVSE or an inventory
appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final, Literal

from homeassistant.util.signal_type import SignalType

from .const import DOMAIN
from .protocol.v201.enums import AuthorizationStatus
from .station.monitors import ProblemEvent
from .station.reservations import Reservation, ReservationEnd

#: The entities' signals of this many stations and EVSEs are shared objects, not a copy per entity.
SHARED_SIGNALS: Final = 16384


@dataclass(frozen=True, slots=True)
class TokenPresented:
    """An ID token a station asked about, and what the central system answered."""

    station_id: str
    evse_id: int | None
    id_token: str
    token_type: str
    decision: AuthorizationStatus
    at: datetime


@dataclass(frozen=True, slots=True)
class ExternalLimitChange:
    """The station reported an external charging limit (K12) or its end (K13)."""

    kind: Literal["notified", "cleared"]
    source: str
    evse_id: int


@dataclass(frozen=True, slots=True)
class ReservationEnded:
    """A reservation at the station ended (H02-H04): how, and which it was."""

    reservation: Reservation
    how: ReservationEnd


@lru_cache(maxsize=SHARED_SIGNALS)
def station_signal(entry_id: str, station_id: str) -> SignalType[()]:
    """A station's connection, boot or connector statuses changed."""
    return SignalType(f"{DOMAIN}_{entry_id}_station_{station_id}")


@lru_cache(maxsize=SHARED_SIGNALS)
def evse_signal(entry_id: str, station_id: str, evse_id: int) -> SignalType[()]:
    """An EVSE's session, meter or charging limits changed (EVSE 0 and the station cap: station-wide limits)."""
    return SignalType(f"{DOMAIN}_{entry_id}_evse_{station_id}_{evse_id}")


@lru_cache(maxsize=SHARED_SIGNALS)
def energy_signal(entry_id: str, station_id: str, evse_id: int) -> SignalType[()]:
    """The energy manager's settings or decision for an EVSE changed."""
    return SignalType(f"{DOMAIN}_{entry_id}_energy_{station_id}_{evse_id}")


@lru_cache(maxsize=SHARED_SIGNALS)
def variables_signal(entry_id: str, station_id: str) -> SignalType[()]:
    """Variable values of a station changed."""
    return SignalType(f"{DOMAIN}_{entry_id}_variables_{station_id}")


def token_signal(entry_id: str, station_id: str) -> SignalType[TokenPresented]:
    """An ID token was presented at a station."""
    return SignalType(f"{DOMAIN}_{entry_id}_token_{station_id}")


def external_limit_signal(entry_id: str, station_id: str) -> SignalType[ExternalLimitChange]:
    """A station reported or cleared an external charging limit."""
    return SignalType(f"{DOMAIN}_{entry_id}_external_limit_{station_id}")


def new_station_signal(entry_id: str) -> SignalType[str]:
    """A station was accepted (its id): its entities are added unless they exist."""
    return SignalType(f"{DOMAIN}_{entry_id}_new_station")


def new_evse_signal(entry_id: str) -> SignalType[str, int]:
    """A station reported an EVSE (station id, EVSE id): its entities are added unless they exist."""
    return SignalType(f"{DOMAIN}_{entry_id}_new_evse")


def inventory_signal(entry_id: str) -> SignalType[str]:
    """A station's device model inventory arrived (its id): entities of new variables are added."""
    return SignalType(f"{DOMAIN}_{entry_id}_inventory")


def station_removed_signal(entry_id: str) -> SignalType[str]:
    """A station was forgotten (its id): it may be approved and get its entities again."""
    return SignalType(f"{DOMAIN}_{entry_id}_station_removed")


# ---- station management (firmware, monitoring, display: L, N, O) -----------------------------------------------


def problem_signal(entry_id: str, station_id: str) -> SignalType[ProblemEvent]:
    """A station reported a problem (NotifyEvent), or that one went away."""
    return SignalType(f"{DOMAIN}_{entry_id}_problem_{station_id}")


def reservation_signal(entry_id: str, station_id: str) -> SignalType[ReservationEnded]:
    """A reservation at a station ended."""
    return SignalType(f"{DOMAIN}_{entry_id}_reservation_{station_id}")
