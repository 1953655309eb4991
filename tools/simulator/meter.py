"""The electrical model of one EVSE: what the car draws under the limit in force, and the meter that integrates it.

The car charges at the highest current it accepts (its onboard charger, e.g. 16 A on 3 phases = 11 kW, tapering
above 80 % state of charge) that the EVSE offers. The EVSE offers the lowest of its own rating and the composite
charging limit in force; below 6 A (IEC 61851-1) a car cannot charge and draws nothing. The energy register
integrates the power drawn over time and never decreases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
import random
from typing import Any, Final

NOMINAL_VOLTAGE: Final = 230.0
#: IEC 61851-1: the lowest current a PWM signal may offer; below it the car must not charge.
MIN_CHARGING_CURRENT: Final = 6.0
PHASES: Final = ("L1", "L2", "L3")


def iso_now() -> str:
    """The current time as OCPP writes it (RFC 3339, UTC, milliseconds)."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """A datetime as OCPP writes it."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(slots=True)
class Car:
    """The electric vehicle plugged into an EVSE."""

    max_current: float = 16.0  # A per phase, the onboard charger's limit
    phases: int = 3
    battery_wh: float = 60_000.0
    soc: float = 30.0  # %
    #: speaks ISO 15118 (high-level communication): the station reports its charging needs (K15).
    iso15118: bool = False
    #: when the driver leaves, seconds after plugging in (ISO 15118 departure time).
    departure_in: float = 8 * 3600.0

    @classmethod
    def random(cls, rng: random.Random) -> Car:
        """A car as they come: mostly 11 kW three-phase, some single-phase 7.4 kW, batteries of 40-80 kWh."""
        if rng.random() < 0.2:
            return cls(max_current=32.0, phases=1, battery_wh=rng.choice((40_000.0, 50_000.0)), soc=rng.uniform(10, 60))
        return cls(max_current=16.0, phases=3, battery_wh=rng.choice((60_000.0, 77_000.0)), soc=rng.uniform(10, 60))

    def accepted_current(self) -> float:
        """What the car's charger accepts now: full current up to 80 %, tapering to a trickle at 100 %."""
        if self.soc >= 100.0:
            return 0.0
        if self.soc <= 80.0:
            return self.max_current
        return max(MIN_CHARGING_CURRENT, self.max_current * (100.0 - self.soc) / 20.0)


@dataclass(frozen=True, slots=True)
class Limit:
    """A charging limit in force: amperes per phase on a number of phases (K01.FR.51)."""

    current: float
    phases: int = 3

    @property
    def power(self) -> float:
        """The same limit in watts (K01.FR.50, nominal voltage)."""
        return self.current * NOMINAL_VOLTAGE * self.phases

    @classmethod
    def from_power(cls, watts: float, phases: int = 3) -> Limit:
        """A limit given in watts, as amperes per phase."""
        return cls(watts / (NOMINAL_VOLTAGE * phases), phases)


@dataclass(slots=True)
class Meter:
    """The EVSE's meter and what flows through it; `advance` moves it to the present."""

    max_current: float = 16.0  # A per phase, the EVSE's rating
    phases: int = 3
    energy_wh: float = 0.0  # Energy.Active.Import.Register, never decreases
    power_w: float = 0.0
    currents: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    voltages: list[float] = field(default_factory=lambda: [NOMINAL_VOLTAGE] * 3)
    offered: float = 0.0  # Current.Offered, A per phase
    last_update: float | None = None
    rng: random.Random = field(default_factory=random.Random)

    def advance(self, now: float, car: Car | None, limit: Limit | None, *, energy_allowed: bool) -> None:
        """Integrate the power drawn since the last update, then set the power drawn from now on.

        `now` is a monotonic time in seconds; `limit` the composite limit in force (None: none); `energy_allowed`
        whether the EVSE delivers energy at all (authorized, plugged in, operative).
        """
        if self.last_update is not None and now > self.last_update:
            energy = self.power_w * (now - self.last_update) / 3600.0
            self.energy_wh += energy
            if car is not None and energy > 0:
                car.soc = min(100.0, car.soc + 100.0 * energy / car.battery_wh)
        self.last_update = now
        self.voltages = [round(NOMINAL_VOLTAGE + self.rng.uniform(-2.5, 2.5), 1) for _ in PHASES]
        offered, phases = self.max_current, self.phases
        if limit is not None:
            offered = min(offered, limit.current)
            phases = min(phases, max(1, limit.phases))
        self.offered = offered if energy_allowed else 0.0
        current = 0.0
        if car is not None and energy_allowed:
            phases = min(phases, car.phases)
            current = min(self.offered, car.accepted_current())
            if current < MIN_CHARGING_CURRENT:
                current = 0.0
        self.currents = [round(current, 2) if index < phases else 0.0 for index in range(3)]
        self.power_w = sum(i * v for i, v in zip(self.currents, self.voltages, strict=True))

    def sample(
        self, measurands: list[str], context: str, car: Car | None, timestamp: str | None = None
    ) -> dict[str, Any]:
        """One MeterValueType with the requested measurands (those this meter knows), in `ocpp`'s snake_case."""
        values: list[dict[str, Any]] = []
        for measurand in measurands:
            values.extend(self._sampled_values(measurand, context, car))
        return {"timestamp": timestamp or iso_now(), "sampled_value": values}

    def _sampled_values(self, measurand: str, context: str, car: Car | None) -> list[dict[str, Any]]:
        def value(amount: float, unit: str, **extra: Any) -> dict[str, Any]:
            return {
                "value": round(amount, 2),
                "measurand": measurand,
                "context": context,
                "unit_of_measure": {"unit": unit},
                **extra,
            }

        match measurand:
            case "Energy.Active.Import.Register":
                return [value(self.energy_wh, "Wh")]
            case "Power.Active.Import":
                return [value(self.power_w, "W")]
            case "Current.Import":
                return [value(i, "A", phase=phase) for i, phase in zip(self.currents, PHASES, strict=True)]
            case "Voltage":
                return [value(v, "V", phase=f"{phase}-N") for v, phase in zip(self.voltages, PHASES, strict=True)]
            case "Current.Offered":
                return [value(self.offered, "A")]
            case "SoC":
                return [value(car.soc, "Percent", location="EV")] if car is not None else []
            case _:
                return []
