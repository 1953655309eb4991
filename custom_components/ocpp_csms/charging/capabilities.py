"""What a station can do with charging profiles, from its device model (SmartChargingCtrlr and the EVSEs).

The glue reads the values from the station's inventory (GetBaseReport / NotifyReport / GetVariables) through one
callable, `get(component, variable) -> str | None`: the Actual value, or the value of a variable characteristic
(like the maxLimit of Entries[ChargingProfiles]) when the `VariableRef` names one. A missing or malformed value
falls back to a safe default, so a station that reports little still gets profiles it accepts.

Referenced variables (Part 2, "Referenced Components and Variables", Smart Charging related):
RateUnit (MemberList, required), PeriodsPerSchedule (required), ProfileStackLevel (required),
Entries[ChargingProfiles] with its maxLimit (required), LimitChangeSignificance (required), Available, Enabled,
ACPhaseSwitchingSupported, Phases3to1; per EVSE: EVSE.Power maxLimit (required), EVSE.SupplyPhases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
import math
from types import MappingProxyType

from ..protocol.v201.enums import ChargingRateUnit
from .units import DEFAULT_VOLTAGE, MAX_PHASES, parse_units

SMART_CHARGING_CTRLR = "SmartChargingCtrlr"

#: Not in the spec, only what we fall back on. A station that does not report RateUnit is most likely an AC
#: station, and amps are what every AC station accepts; watts are converted (K01.FR.26 rejects other units).
DEFAULT_RATE_UNITS = (ChargingRateUnit.A,)
#: Enough for a day of hourly tariffs; smaller stations report their own (required) PeriodsPerSchedule.
DEFAULT_PERIODS_PER_SCHEDULE = 24
#: A station that never says its ProfileStackLevel is assumed to take levels 0 and 1: the fewest with which a
#: station-wide and a per-EVSE TxDefaultProfile can stand side by side (K01.FR.52, K01.FR.53). An unknown maximum
#: is not 0.
DEFAULT_MAX_STACK_LEVEL = 1
#: Below about 6 A an EV cannot charge on AC (IEC 61851-1 control pilot); used when an EVSE says nothing.
DEFAULT_MIN_CURRENT = 6.0


@dataclass(frozen=True, slots=True)
class ComponentRef:
    """A component of the device model: name, optional instance, optional EVSE."""

    name: str
    evse_id: int | None = None
    instance: str | None = None


@dataclass(frozen=True, slots=True)
class VariableRef:
    """A variable of a component; `characteristic` names a variableCharacteristic ("maxLimit") instead of Actual."""

    name: str
    instance: str | None = None
    characteristic: str | None = None


type VariableGetter = Callable[[ComponentRef, VariableRef], str | None]


@dataclass(frozen=True, slots=True)
class EvseLimits:
    """What is known of one EVSE's electrical limits (None where unknown)."""

    max_power: float | None = None
    """EVSE.Power maxLimit, in W."""
    supply_phases: int | None = None
    """EVSE.SupplyPhases: 1 or 3 (0 for DC)."""
    min_current: float = DEFAULT_MIN_CURRENT
    """The lowest current (A per phase) an EV can charge at on this EVSE."""
    max_current: float | None = None
    """The highest current (A per phase): EVSE.ACCurrent maxLimit if reported, else derived from max_power."""


@dataclass(frozen=True, slots=True)
class SmartChargingCapabilities:
    """The smart charging capabilities of one station; defaults are the safe assumptions of a silent station."""

    rate_units: tuple[ChargingRateUnit, ...] = DEFAULT_RATE_UNITS
    periods_per_schedule: int = DEFAULT_PERIODS_PER_SCHEDULE
    max_stack_level: int = DEFAULT_MAX_STACK_LEVEL
    max_profiles: int | None = None
    """Entries[ChargingProfiles] maxLimit: how many profiles the station holds at once (None: unknown)."""
    installed_profiles: int | None = None
    """Entries[ChargingProfiles] Actual: how many are installed now."""
    phase_switching_supported: bool = False
    """ACPhaseSwitchingSupported: phaseToUse may be set (K01.FR.20)."""
    phases_3to1: bool = False
    """Phases3to1: the number of phases may change during a transaction."""
    limit_change_significance: float | None = None
    """Percent below which the station may skip reporting a limit change (SC.03)."""
    available: bool | None = None
    enabled: bool | None = None
    evses: Mapping[int, EvseLimits] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    """Per EVSE id, for the EVSEs given to `from_variables`."""

    def supports(self, unit: ChargingRateUnit) -> bool:
        """Whether schedules in this unit are accepted (K01.FR.26)."""
        return unit in self.rate_units

    @property
    def rate_unit_names(self) -> tuple[str, ...]:
        """The supported units as strings, as `units.choose_unit` takes them."""
        return tuple(unit.value for unit in self.rate_units)

    def evse(self, evse_id: int) -> EvseLimits:
        """The limits of an EVSE (the defaults if unknown)."""
        return self.evses.get(evse_id, EvseLimits())

    @classmethod
    def from_variables(
        cls, get: VariableGetter, *, evse_ids: Iterable[int] = (), voltage: float = DEFAULT_VOLTAGE
    ) -> SmartChargingCapabilities:
        """Parse the SmartChargingCtrlr values (and those of the given EVSEs), each with its safe default.

        `voltage` derives an EVSE's maximum current from its maximum power when no current limit is reported.
        """
        ctrlr = ComponentRef(SMART_CHARGING_CTRLR)

        def value(name: str, instance: str | None = None, characteristic: str | None = None) -> str | None:
            return get(ctrlr, VariableRef(name, instance, characteristic))

        rate_units = parse_units(value("RateUnit")) or DEFAULT_RATE_UNITS
        periods = _parse_int(value("PeriodsPerSchedule"))
        stack = _parse_int(value("ProfileStackLevel"))
        return cls(
            rate_units=rate_units,
            periods_per_schedule=periods if periods is not None and periods >= 1 else DEFAULT_PERIODS_PER_SCHEDULE,
            max_stack_level=stack if stack is not None and stack >= 0 else DEFAULT_MAX_STACK_LEVEL,
            max_profiles=_non_negative(_parse_int(value("Entries", "ChargingProfiles", "maxLimit"))),
            installed_profiles=_non_negative(_parse_int(value("Entries", "ChargingProfiles"))),
            phase_switching_supported=_parse_bool(value("ACPhaseSwitchingSupported")) is True,
            phases_3to1=_parse_bool(value("Phases3to1")) is True,
            limit_change_significance=_parse_float(value("LimitChangeSignificance")),
            available=_parse_bool(value("Available")),
            enabled=_parse_bool(value("Enabled")),
            evses=MappingProxyType({evse_id: _evse_limits(get, evse_id, voltage) for evse_id in evse_ids}),
        )


def _evse_limits(get: VariableGetter, evse_id: int, voltage: float) -> EvseLimits:
    evse = ComponentRef("EVSE", evse_id=evse_id)
    max_power = _parse_float(get(evse, VariableRef("Power", characteristic="maxLimit")))
    phases = _parse_int(get(evse, VariableRef("SupplyPhases")))
    if phases is not None and not 0 <= phases <= MAX_PHASES:
        phases = None
    min_current = _parse_float(get(evse, VariableRef("ACCurrent", characteristic="minLimit")))
    max_current = _parse_float(get(evse, VariableRef("ACCurrent", characteristic="maxLimit")))
    if max_current is None and max_power is not None and phases:
        max_current = max_power / (voltage * phases)
    return EvseLimits(
        max_power=max_power,
        supply_phases=phases,
        min_current=min_current if min_current is not None else DEFAULT_MIN_CURRENT,
        max_current=max_current,
    )


def _parse_int(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text.strip())
    except ValueError:
        number = _parse_float(text)
        return int(number) if number is not None and number.is_integer() else None


def _parse_float(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_bool(text: str | None) -> bool | None:
    if text is None:
        return None
    return {"true": True, "false": False, "1": True, "0": False}.get(text.strip().lower())


def _non_negative(number: int | None) -> int | None:
    return number if number is not None and number >= 0 else None
