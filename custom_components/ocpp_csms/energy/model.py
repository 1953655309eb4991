"""What the energy manager works with: modes and settings per EVSE, the site, readings, states and commands.

Currents are amperes per phase, powers watts, times aware datetimes. Grid power is positive when importing, battery
power positive when the battery discharges (the glue converts the user's sign conventions and units).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

PHASES: Final = 3
DEFAULT_VOLTAGE: Final = 230.0
#: Below about 6 A an EV cannot charge on AC (IEC 61851-1).
DEFAULT_MIN_CURRENT: Final = 6.0
DEFAULT_MAX_CURRENT: Final = 16.0
MAX_PRIORITY: Final = 10

type EvseKey = tuple[str, int]
"""(station id, EVSE id)."""
type PhaseCurrents = tuple[float, float, float]


class ChargingMode(StrEnum):
    """What the manager does with an EVSE."""

    OFF = "off"
    """No charging: limit 0."""
    FAST = "fast"
    """As fast as the EVSE's maximum current (and the fuse) allow."""
    SOLAR = "solar"
    """Surplus only: starts when the surplus has covered the minimum for the enable delay, stops after the
    disable delay."""
    MIN_SOLAR = "min_solar"
    """The minimum current at least, plus the surplus."""
    MANUAL = "manual"
    """The manager keeps out: automations, blueprints and the limit number decide."""
    SMART = "smart"
    """The departure planner (`planner/`) keeps the cheapest plan on the station; the manager keeps out."""

    @property
    def managed(self) -> bool:
        """Whether the manager sets this EVSE's limits."""
        return self not in (ChargingMode.MANUAL, ChargingMode.SMART)

    @property
    def solar(self) -> bool:
        """Whether the mode follows the surplus."""
        return self in (ChargingMode.SOLAR, ChargingMode.MIN_SOLAR)


class PhaseSetting(StrEnum):
    """How many phases an EVSE that can switch them charges on."""

    AUTO = "auto"
    ONE = "1"
    THREE = "3"


class EvseState(StrEnum):
    """What the manager does with an EVSE now, and why (the state of its sensor)."""

    MANUAL = "manual"
    OFF = "off"
    STATION_OFFLINE = "station_offline"
    NO_VEHICLE = "no_vehicle"
    CHARGING_FAST = "charging_fast"
    CHARGING_SOLAR = "charging_solar"
    CHARGING_MIN = "charging_min"
    """min_solar at its minimum: the surplus does not cover more."""
    WAITING_FOR_SURPLUS = "waiting_for_surplus"
    PAUSED_BATTERY_PRIORITY = "paused_battery_priority"
    """The home battery is below its priority state of charge and takes the surplus first."""
    LIMITED_BY_FUSE = "limited_by_fuse"
    PAUSED_BY_FUSE = "paused_by_fuse"
    """The site limit leaves less than the EVSE's minimum: paused (0), never given less."""
    PHASE_SWITCH_PENDING = "phase_switch_pending"
    NOT_CONFIGURED = "not_configured"
    """A solar mode without a grid power sensor."""
    PLAN_ON_STATION = "plan_on_station"
    """smart: the station holds the plan as a charging schedule."""
    PLAN_LIVE = "plan_live"
    """smart: the station refused the plan or does not hold it: its limits are sent live."""
    SENSOR_UNAVAILABLE = "sensor_unavailable"
    """A sensor the decision needs has no value: the safe limit applies, as if Home Assistant were away."""


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The site: its sensors (which are configured), the main fuse or grid power limit, delays, the safe limit."""

    has_grid_power: bool = False
    has_phase_currents: bool = False
    has_solar_power: bool = False
    has_battery: bool = False
    voltage: float = DEFAULT_VOLTAGE
    fuse_current: float | None = None
    """The main fuse's rating, A per phase (None: no fuse to protect)."""
    max_grid_power: float | None = None
    """The most the site may import, W (None: no limit)."""
    margin: float = 1.0
    """A per phase kept free below the fuse (for a power limit: times voltage and 3 phases)."""
    battery_priority_soc: float | None = None
    """Below this state of charge (%) the home battery charges first and is never drained into a car."""
    fallback_current: float | None = None
    """The safe limit the stations fall back to when Home Assistant stops (None: the EVSE's minimum current, or 0
    with load balancing)."""
    enable_delay: timedelta = timedelta(minutes=1)
    disable_delay: timedelta = timedelta(minutes=3)

    @property
    def load_balancing(self) -> bool:
        """Whether the EVSEs share a site limit (a fuse rating, or a maximum grid power, was given)."""
        return bool(self.fuse_current) or bool(self.max_grid_power)


@dataclass(frozen=True, slots=True)
class SiteReading:
    """The latest value of each site sensor (None: not configured, unknown or unavailable)."""

    grid_power: float | None = None
    grid_currents: tuple[float | None, float | None, float | None] | None = None
    solar_power: float | None = None
    battery_power: float | None = None
    battery_soc: float | None = None


@dataclass(frozen=True, slots=True)
class EvseSettings:
    """The user's settings of one EVSE (restored across restarts)."""

    mode: ChargingMode = ChargingMode.MANUAL
    min_current: float = DEFAULT_MIN_CURRENT
    max_current: float = DEFAULT_MAX_CURRENT
    phases: PhaseSetting = PhaseSetting.AUTO
    priority: int = 0


@dataclass(frozen=True, slots=True)
class EvseInfo:
    """What the station says of an EVSE."""

    supply_phases: int = PHASES
    phase_switching: bool = False
    """ACPhaseSwitchingSupported: the number of phases (and phaseToUse) may be set."""
    switch_during_transaction: bool = False
    """Phases3to1: the number of phases may change while a transaction runs."""
    voltage: float = DEFAULT_VOLTAGE


@dataclass(frozen=True, slots=True)
class EvseReading:
    """What the EVSE does now."""

    online: bool = False
    vehicle: bool = False
    """A car is connected (connector occupied, or a transaction runs)."""
    transaction: bool = False
    currents: PhaseCurrents = (0.0, 0.0, 0.0)
    """The current drawn on each phase (A)."""
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """A limit to send: `current` A per phase (0 pauses) on `phases` (None: the station's default)."""

    current: float
    phases: int | None
    phase_to_use: int | None
    fallback: float
    """The safe limit below it, which applies once `valid_for` has passed without a refresh."""
    valid_for: timedelta
    refresh: bool = False
    """Only a refresh of the limit sent before (its validity), not a change."""


@dataclass(frozen=True, slots=True)
class EvseDecision:
    """The manager's decision for one EVSE: its state, what to send (None: nothing), and the numbers behind it."""

    state: EvseState
    command: Command | None
    attributes: dict[str, float | int | str | list[float] | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """The decisions of one instant, and when to decide again at the latest (None: on the next reading only)."""

    evses: dict[EvseKey, EvseDecision]
    next_at: datetime | None
