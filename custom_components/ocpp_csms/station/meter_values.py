"""Meter values (J01-J03, and the meterValue of TransactionEvent) as normalized readings.

Each SampledValue becomes a `Reading` in a base unit: energy in Wh (kWh times 1000), power in W, reactive power in
var, apparent power in VA, current in A, voltage in V, frequency in Hz, SoC in %, temperature in °C, the
`unitOfMeasure.multiplier` (a power of ten) applied. Absent fields take the spec's defaults (SampledValueType:
measurand Energy.Active.Import.Register, context Sample.Periodic, location Outlet; UnitOfMeasureType: unit Wh for
energy measurands, multiplier 0) and, for other measurands, the unit the measurand is defined in. The signed
meter value (E04.FR.10, J01.FR.21) is kept as received, never interpreted.

`MeterSnapshot` keeps the latest reading per (measurand, phase, location).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Self

from ..protocol.v201.datatypes import MeterValue, SampledValue, SignedMeterValue
from ..protocol.v201.enums import Location, Measurand, Phase, ReadingContext

WH: Final = "Wh"
W: Final = "W"
VAR: Final = "var"
VA: Final = "VA"
VARH: Final = "varh"
VAH: Final = "VAh"
AMPERE: Final = "A"
VOLT: Final = "V"
HERTZ: Final = "Hz"
PERCENT: Final = "%"
CELSIUS: Final = "°C"

# Appendix "Standardized Units of Measurements": unit → (base unit, power of ten to it).
_SCALED_UNITS: Final[Mapping[str, tuple[str, int]]] = {
    "Wh": (WH, 0),
    "kWh": (WH, 3),
    "W": (W, 0),
    "kW": (W, 3),
    "var": (VAR, 0),
    "kvar": (VAR, 3),
    "varh": (VARH, 0),
    "kvarh": (VARH, 3),
    "VA": (VA, 0),
    "kVA": (VA, 3),
    "VAh": (VAH, 0),
    "kVAh": (VAH, 3),
    "A": (AMPERE, 0),
    "V": (VOLT, 0),
    "Hz": (HERTZ, 0),
    "Percent": (PERCENT, 0),
    "Celsius": (CELSIUS, 0),
}

# The unit of each measurand when the station leaves it out (UnitOfMeasureType: Wh for energy; the others in the
# unit MeasurandEnumType describes them in). Power.Factor has none.
_DEFAULT_UNITS: Final[Mapping[Measurand, str | None]] = {
    Measurand.CURRENT_EXPORT: AMPERE,
    Measurand.CURRENT_IMPORT: AMPERE,
    Measurand.CURRENT_OFFERED: AMPERE,
    Measurand.ENERGY_ACTIVE_EXPORT_REGISTER: WH,
    Measurand.ENERGY_ACTIVE_IMPORT_REGISTER: WH,
    Measurand.ENERGY_REACTIVE_EXPORT_REGISTER: VARH,
    Measurand.ENERGY_REACTIVE_IMPORT_REGISTER: VARH,
    Measurand.ENERGY_ACTIVE_EXPORT_INTERVAL: WH,
    Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL: WH,
    Measurand.ENERGY_ACTIVE_NET: WH,
    Measurand.ENERGY_REACTIVE_EXPORT_INTERVAL: VARH,
    Measurand.ENERGY_REACTIVE_IMPORT_INTERVAL: VARH,
    Measurand.ENERGY_REACTIVE_NET: VARH,
    Measurand.ENERGY_APPARENT_NET: VAH,
    Measurand.ENERGY_APPARENT_IMPORT: VAH,
    Measurand.ENERGY_APPARENT_EXPORT: VAH,
    Measurand.FREQUENCY: HERTZ,
    Measurand.POWER_ACTIVE_EXPORT: W,
    Measurand.POWER_ACTIVE_IMPORT: W,
    Measurand.POWER_FACTOR: None,
    Measurand.POWER_OFFERED: W,
    Measurand.POWER_REACTIVE_EXPORT: VAR,
    Measurand.POWER_REACTIVE_IMPORT: VAR,
    Measurand.SOC: PERCENT,
    Measurand.VOLTAGE: VOLT,
}

#: Where a reading is looked for when the caller names no location: the EVSE's meter first.
LOCATION_PREFERENCE: Final = (Location.OUTLET, Location.INLET, Location.EV, Location.CABLE, Location.BODY)
_PHASES: Final = (Phase.L1, Phase.L2, Phase.L3)
_LINE_TO_NEUTRAL: Final = {Phase.L1: Phase.L1_N, Phase.L2: Phase.L2_N, Phase.L3: Phase.L3_N}


def _scale(value: float, exponent: int) -> float:
    """The value times 10^exponent, exact in decimal (1.234 kWh is 1234 Wh, not 1233.9999999999998)."""
    if exponent == 0:
        return value
    return float(Decimal(repr(value)).scaleb(exponent))


def normalize(
    value: float, unit: str | None, multiplier: int = 0, measurand: Measurand | None = None
) -> tuple[float, str | None]:
    """A value in its base unit: `(1.5, "kWh", 0)` → `(1500.0, "Wh")`, `(2300, "W", -1)` → `(230.0, "W")`.

    An absent unit is the measurand's default (Wh for the default measurand). Fahrenheit and Kelvin become °C.
    A unit outside the appendix list is kept as is, the multiplier applied.
    """
    if unit is None:
        unit = _DEFAULT_UNITS[measurand or Measurand.ENERGY_ACTIVE_IMPORT_REGISTER]
    if unit == "Fahrenheit":
        return (_scale(value, multiplier) - 32.0) * 5.0 / 9.0, CELSIUS
    if unit == "K":
        return _scale(value, multiplier) - 273.15, CELSIUS
    scaled = _SCALED_UNITS.get(unit) if unit is not None else None
    if scaled is None:
        return _scale(value, multiplier), unit
    base, exponent = scaled
    return _scale(value, exponent + multiplier), base


@dataclass(frozen=True, slots=True)
class Reading:
    """One sampled value, normalized."""

    measurand: Measurand
    phase: Phase | None
    location: Location
    context: ReadingContext
    value: float
    unit: str | None
    timestamp: datetime
    signed: SignedMeterValue | None = None

    @property
    def key(self) -> tuple[Measurand, Phase | None, Location]:
        """What the reading measures: the snapshot keeps the latest per key."""
        return self.measurand, self.phase, self.location

    @classmethod
    def from_sampled_value(cls, sampled: SampledValue, timestamp: datetime) -> Reading:
        """Normalize one SampledValue taken at `timestamp` (the MeterValue's, J01.FR.17)."""
        measurand = sampled.measurand or Measurand.ENERGY_ACTIVE_IMPORT_REGISTER
        unit_of_measure = sampled.unit_of_measure
        value, unit = normalize(
            sampled.value,
            unit_of_measure.unit if unit_of_measure is not None else None,
            (unit_of_measure.multiplier or 0) if unit_of_measure is not None else 0,
            measurand,
        )
        return cls(
            measurand=measurand,
            phase=sampled.phase,
            location=sampled.location or Location.OUTLET,
            context=sampled.context or ReadingContext.SAMPLE_PERIODIC,
            value=value,
            unit=unit,
            timestamp=timestamp,
            signed=sampled.signed_meter_value,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "measurand": self.measurand.value,
            "location": self.location.value,
            "context": self.context.value,
            "value": self.value,
            "timestamp": self.timestamp.isoformat(),
        }
        if self.phase is not None:
            data["phase"] = self.phase.value
        if self.unit is not None:
            data["unit"] = self.unit
        if self.signed is not None:
            data["signed"] = self.signed.to_payload()
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reading:
        """The inverse of `to_dict()`."""
        signed = data.get("signed")
        return cls(
            measurand=Measurand(data["measurand"]),
            phase=Phase(data["phase"]) if "phase" in data else None,
            location=Location(data["location"]),
            context=ReadingContext(data["context"]),
            value=data["value"],
            unit=data.get("unit"),
            timestamp=datetime.fromisoformat(data["timestamp"]),
            signed=SignedMeterValue.from_payload(signed) if signed is not None else None,
        )


def readings(meter_values: Iterable[MeterValue]) -> list[Reading]:
    """Every SampledValue of MeterValues, normalized, in message order."""
    return [
        Reading.from_sampled_value(sampled, meter_value.timestamp)
        for meter_value in meter_values
        for sampled in meter_value.sampled_value
    ]


def energy_register(readings: Iterable[Reading], locations: Iterable[Location] = (Location.OUTLET,)) -> list[Reading]:
    """The readings of the active import energy register (all phases together) at the given locations."""
    wanted = set(locations)
    return [
        reading
        for reading in readings
        if reading.measurand is Measurand.ENERGY_ACTIVE_IMPORT_REGISTER
        and reading.phase is None
        and reading.location in wanted
    ]


type _Rank = tuple[datetime, int, float]


class MeterSnapshot:
    """The latest reading per (measurand, phase, location), with accessors for the usual quantities.

    "Latest" is by timestamp, then by the `order` the caller gives (the TransactionEvent seqNo), then by value:
    a total order, so the snapshot after a set of updates does not depend on the order they arrived in, and a
    reading replayed late never replaces a newer one.
    """

    def __init__(self) -> None:
        """An empty snapshot."""
        self._latest: dict[tuple[Measurand, Phase | None, Location], tuple[_Rank, Reading]] = {}

    def __eq__(self, other: object) -> bool:
        """Equal when holding the same readings."""
        return isinstance(other, MeterSnapshot) and self._latest == other._latest

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        """How many (measurand, phase, location) keys have a reading."""
        return len(self._latest)

    def update(self, readings: Iterable[Reading], order: int = 0) -> bool:
        """Take readings that are newer than the held ones; whether any was."""
        changed = False
        for reading in readings:
            rank = (reading.timestamp, order, reading.value)
            held = self._latest.get(reading.key)
            if held is None or rank > held[0]:
                self._latest[reading.key] = (rank, reading)
                changed = True
        return changed

    @property
    def readings(self) -> list[Reading]:
        """Every held reading."""
        return [reading for _, reading in self._latest.values()]

    @property
    def timestamp(self) -> datetime | None:
        """When the newest held reading was taken."""
        return max((rank[0] for rank, _ in self._latest.values()), default=None)

    def latest(
        self, measurand: Measurand, phase: Phase | None = None, location: Location | None = None
    ) -> Reading | None:
        """The latest reading of a measurand and phase (None: all phases together) at a location.

        Without a location, the first of Outlet, Inlet, EV, Cable, Body that has a reading.
        """
        if location is not None:
            held = self._latest.get((measurand, phase, location))
            return held[1] if held is not None else None
        for candidate in LOCATION_PREFERENCE:
            held = self._latest.get((measurand, phase, candidate))
            if held is not None:
                return held[1]
        return None

    def value(self, measurand: Measurand, phase: Phase | None = None, location: Location | None = None) -> float | None:
        """The latest value of a measurand (see `latest`)."""
        reading = self.latest(measurand, phase, location)
        return reading.value if reading is not None else None

    def per_phase(
        self, measurand: Measurand, location: Location | None = None, *, line_to_neutral: bool = False
    ) -> dict[Phase, float]:
        """The measurand on those of L1, L2, L3 that have a reading.

        Stations report per-phase values as L1 or as L1-N: either is taken, the line-to-neutral one first when
        `line_to_neutral` (voltages), else the plain one.
        """
        values: dict[Phase, float] = {}
        for phase in _PHASES:
            choices = (_LINE_TO_NEUTRAL[phase], phase) if line_to_neutral else (phase, _LINE_TO_NEUTRAL[phase])
            for choice in choices:
                reading = self.latest(measurand, choice, location)
                if reading is not None:
                    values[phase] = reading.value
                    break
        return values

    @property
    def active_power_w(self) -> float | None:
        """Active power imported (W): the total if reported, else the sum of the phases."""
        total = self.value(Measurand.POWER_ACTIVE_IMPORT)
        if total is not None:
            return total
        phases = self.per_phase(Measurand.POWER_ACTIVE_IMPORT)
        return sum(phases.values()) if phases else None

    @property
    def current_a(self) -> dict[Phase, float]:
        """Current imported per phase (A), L1-L3."""
        return self.per_phase(Measurand.CURRENT_IMPORT)

    @property
    def voltage_v(self) -> dict[Phase, float]:
        """Voltage per phase (V), line to neutral where reported so."""
        return self.per_phase(Measurand.VOLTAGE, line_to_neutral=True)

    @property
    def energy_import_wh(self) -> float | None:
        """The active import energy register (Wh)."""
        return self.value(Measurand.ENERGY_ACTIVE_IMPORT_REGISTER)

    @property
    def soc_percent(self) -> float | None:
        """The EV's state of charge (%)."""
        return self.value(Measurand.SOC)

    @property
    def current_offered_a(self) -> float | None:
        """The maximum current offered to the EV (A)."""
        return self.value(Measurand.CURRENT_OFFERED)

    @property
    def power_offered_w(self) -> float | None:
        """The maximum power offered to the EV (W)."""
        return self.value(Measurand.POWER_OFFERED)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (readings with their order), sorted for a canonical result."""
        items = [{"order": rank[1], **reading.to_dict()} for rank, reading in self._latest.values()]
        items.sort(key=lambda item: (item["measurand"], item.get("phase", ""), item["location"]))
        return {"readings": items}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        snapshot = cls()
        for item in data.get("readings", ()):
            snapshot.update([Reading.from_dict(item)], item.get("order", 0))
        return snapshot
