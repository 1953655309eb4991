"""Whether the limit in force on a station is the one we asked for.

A number entity shows the limit in force (from the composite schedule the station reports, K08), not merely the
last value asked for: a ChargingStationMaxProfile, an external limit (K11, K12), the EV (SC.04) or a profile that
was rejected or not yet applied all make them differ. `readback` compares the two in the unit asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..protocol.v201.enums import ChargingRateUnit
from .composite import CompositeLimit
from .units import DEFAULT_PHASES, DEFAULT_VOLTAGE, amps_to_watts, check_electrics, convert

DEFAULT_TOLERANCE = 0.5
"""Amps per phase (as the limiter's dead band): stations round, and convert watts to amps and back."""


class ReadbackStatus(StrEnum):
    """How the limit in force compares with the one asked for."""

    MATCH = "match"
    """Within the tolerance."""
    LOWER = "lower"
    """Something else limits more tightly (station maximum, external limit, EV)."""
    HIGHER = "higher"
    """Ours is not (yet) in force: rejected, not applied, or overruled by a higher stack level."""
    UNKNOWN = "unknown"
    """No composite schedule, or it sets no limit now."""


@dataclass(frozen=True, slots=True)
class Readback:
    """The limit in force (in the unit asked for, None if unknown) and how it compares with the request."""

    status: ReadbackStatus
    in_force: float | None
    requested: float
    unit: ChargingRateUnit

    @property
    def matches(self) -> bool:
        """The limit in force is the one asked for."""
        return self.status == ReadbackStatus.MATCH


def readback(
    requested: float,
    unit: ChargingRateUnit,
    composite: CompositeLimit | None,
    now: datetime,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    voltage: float = DEFAULT_VOLTAGE,
    phases: int = DEFAULT_PHASES,
) -> Readback:
    """Compare the limit asked for with the composite schedule's limit at `now`.

    `tolerance` is in amps per phase (for watts: * voltage * phases). The composite's limit is converted to the
    requested unit with its period's number of phases (else `phases`) and `voltage`.
    """
    check_electrics(voltage, phases)
    period = None if composite is None else composite.period_at(now)
    if composite is None or period is None or period.limit is None:
        return Readback(ReadbackStatus.UNKNOWN, None, requested, unit)
    in_force = convert(period.limit, composite.unit, unit, voltage=voltage, phases=period.number_phases or phases)
    band = tolerance if unit == ChargingRateUnit.A else amps_to_watts(tolerance, voltage=voltage, phases=phases)
    if abs(in_force - requested) <= band:
        status = ReadbackStatus.MATCH
    elif in_force < requested:
        status = ReadbackStatus.LOWER
    else:
        status = ReadbackStatus.HIGHER
    return Readback(status, in_force, requested, unit)
