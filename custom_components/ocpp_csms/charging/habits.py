"""What works with one station's smart charging, learnt from its refusals.

Real stations refuse some of what the specification lets a central system send: a TxProfile for a running
transaction (while a TxDefaultProfile, K01.FR.08, does the job), or a schedule in amps from a station that does not
report its RateUnit and takes watts only. A refusal (a status other than Accepted, or a CALLERROR from a station
that checks 2.0.1 requests against an older schema) makes the central system try the station's other way once;
what works is remembered per station and used from then on. A ChargingStationMaxProfile is always Absolute with a
startSchedule (K01.FR.38), so it needs no fallback of its kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum

from ..protocol.v201.enums import ChargingProfilePurpose, ChargingRateUnit
from ..protocol.v201.messages import SetChargingProfileRequest
from .capabilities import SmartChargingCapabilities


class Fallback(StrEnum):
    """Another way of setting a limit, used after the station refused the usual one."""

    #: Limits as TxDefaultProfile only: the station refused the TxProfile of a running transaction.
    TX_DEFAULT_ONLY = "tx_default_only"
    #: Schedules in watts: the station refused them in amps.
    WATTS = "watts"
    #: Schedules in amps: the station refused them in watts.
    AMPS = "amps"


@dataclass(slots=True)
class ChargingHabits:
    """The fallbacks that worked for one station (persisted with its sessions)."""

    learnt: set[Fallback] = field(default_factory=set)

    @classmethod
    def from_list(cls, names: Iterable[str]) -> ChargingHabits:
        """The inverse of `to_list()`; names this version does not know are dropped."""
        return cls({Fallback(name) for name in names if name in Fallback.__members__.values()})

    def to_list(self) -> list[str]:
        """JSON-ready form."""
        return sorted(self.learnt)

    @property
    def tx_profiles(self) -> bool:
        """Whether a running transaction gets its own TxProfile besides the TxDefaultProfile."""
        return Fallback.TX_DEFAULT_ONLY not in self.learnt

    def adapt(self, capabilities: SmartChargingCapabilities) -> SmartChargingCapabilities:
        """The capabilities with the rate unit that works (what the station reports may be missing or wrong)."""
        if Fallback.WATTS in self.learnt:
            return replace(capabilities, rate_units=(ChargingRateUnit.W,))
        if Fallback.AMPS in self.learnt:
            return replace(capabilities, rate_units=(ChargingRateUnit.A,))
        return capabilities

    def fallback_for(self, refused: SetChargingProfileRequest) -> Fallback | None:
        """The other way to try after the station refused `refused`, if any is left.

        A refused TxProfile: a TxDefaultProfile does the job. Otherwise the other unit, once: a station that refuses
        both units has no fallback.
        """
        profile = refused.charging_profile
        if profile.charging_profile_purpose is ChargingProfilePurpose.TX_PROFILE and self.tx_profiles:
            return Fallback.TX_DEFAULT_ONLY
        if self.learnt & {Fallback.WATTS, Fallback.AMPS}:
            return None
        unit = profile.charging_schedule[0].charging_rate_unit
        return Fallback.WATTS if unit is ChargingRateUnit.A else Fallback.AMPS
