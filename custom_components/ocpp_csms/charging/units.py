"""Amps and watts for AC charging, and the rate unit a station accepts.

Limits in amps are per phase (K01.FR.51). A power limit P on an AC EVSE is the phase current
P / (U * n), with U the phase-to-neutral voltage and n the number of phases (K01.FR.50, as corrected by the
2025-09 errata): 11 kW on 3 phases at 230 V is 15.9 A per phase, no √3 involved. Without a number of phases the
station assumes 3 (K01.FR.49), so the conversions here default to 3 as well.

A station lists the units it accepts in SmartChargingCtrlr.RateUnit; a schedule in any other unit is rejected
(K01.FR.26), so a limit given in the other unit is converted before it is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
import math

from ..protocol.v201.enums import ChargingRateUnit

DEFAULT_VOLTAGE = 230.0
"""The nominal phase-to-neutral voltage used when none is measured or configured (Europe)."""

DEFAULT_PHASES = 3
"""The number of phases a station assumes when a schedule period does not say (K01.FR.49)."""

MAX_PHASES = 3

#: Older firmware (and OCPP 1.6's ChargingScheduleAllowedChargingRateUnit) spells the units out.
_UNIT_ALIASES = {
    "a": ChargingRateUnit.A,
    "current": ChargingRateUnit.A,
    "w": ChargingRateUnit.W,
    "power": ChargingRateUnit.W,
}


def check_electrics(voltage: float, phases: int) -> None:
    """Raise ValueError unless the voltage is positive and the number of phases is 1, 2 or 3."""
    if not math.isfinite(voltage) or voltage <= 0:
        raise ValueError(f"voltage must be a positive number of volts, not {voltage!r}")
    if not 1 <= phases <= MAX_PHASES:
        raise ValueError(f"number of phases must be 1, 2 or 3, not {phases!r}")


def amps_to_watts(amps: float, *, voltage: float = DEFAULT_VOLTAGE, phases: int = DEFAULT_PHASES) -> float:
    """The power of a per-phase current on `phases` phases at `voltage` (phase to neutral)."""
    check_electrics(voltage, phases)
    return amps * voltage * phases


def watts_to_amps(watts: float, *, voltage: float = DEFAULT_VOLTAGE, phases: int = DEFAULT_PHASES) -> float:
    """The per-phase current of a power on `phases` phases at `voltage` (K01.FR.50)."""
    check_electrics(voltage, phases)
    return watts / (voltage * phases)


def convert(
    value: float,
    from_unit: ChargingRateUnit,
    to_unit: ChargingRateUnit,
    *,
    voltage: float = DEFAULT_VOLTAGE,
    phases: int = DEFAULT_PHASES,
) -> float:
    """A limit in another unit (unchanged when the units are the same)."""
    check_electrics(voltage, phases)
    if from_unit == to_unit:
        return value
    if to_unit == ChargingRateUnit.W:
        return amps_to_watts(value, voltage=voltage, phases=phases)
    return watts_to_amps(value, voltage=voltage, phases=phases)


def round_limit(value: float, unit: ChargingRateUnit) -> float:
    """A limit rounded down to what stations take: 0.1 A or 1 W (rounding down never exceeds the intent).

    A hair of tolerance keeps 5.9999999 (a float artefact of 1380 W / 230 V) from becoming 5.9.
    """
    step = 10.0 if unit == ChargingRateUnit.A else 1.0
    return round(math.floor(value * step + 1e-6) / step, 1)


def parse_unit(text: str) -> ChargingRateUnit | None:
    """A rate unit from a device model value ("A", "W", or the spelled-out "Current", "Power"), else None."""
    return _UNIT_ALIASES.get(text.strip().lower())


def parse_units(text: str | None) -> tuple[ChargingRateUnit, ...]:
    """The units of a MemberList value like "A,W", in order, duplicates and unknown members dropped."""
    units: list[ChargingRateUnit] = []
    for member in (text or "").split(","):
        unit = parse_unit(member)
        if unit is not None and unit not in units:
            units.append(unit)
    return tuple(units)


def choose_unit(requested: ChargingRateUnit, supported: Iterable[str]) -> ChargingRateUnit:
    """The unit to send a limit in: the requested one if the station supports it (or says nothing), else the other.

    `supported` is the parsed SmartChargingCtrlr.RateUnit list ("A", "W"; spelled-out aliases are understood).
    """
    units = {unit for unit in map(parse_unit, supported) if unit is not None}
    if not units or requested in units:
        return requested
    return next(iter(units))


def to_supported_unit(
    value: float,
    unit: ChargingRateUnit,
    supported: Iterable[str],
    *,
    voltage: float = DEFAULT_VOLTAGE,
    phases: int = DEFAULT_PHASES,
) -> tuple[float, ChargingRateUnit]:
    """A limit expressed in a unit the station supports, converted (and rounded down) only when it must be."""
    target = choose_unit(unit, supported)
    if target == unit:
        return value, unit
    return round_limit(convert(value, unit, target, voltage=voltage, phases=phases), target), target
