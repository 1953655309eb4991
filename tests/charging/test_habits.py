"""What works with a station, learnt from its refusals: which fallback comes after which refusal."""

from __future__ import annotations

from custom_components.ocpp_csms.charging.capabilities import SmartChargingCapabilities
from custom_components.ocpp_csms.charging.habits import ChargingHabits, Fallback
from custom_components.ocpp_csms.charging.profiles import ProfileAllocator, limit_requests
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit
from custom_components.ocpp_csms.protocol.v201.messages import SetChargingProfileRequest

from .conftest import NOW

A, W = ChargingRateUnit.A, ChargingRateUnit.W
CAPS = SmartChargingCapabilities(rate_units=(A, W), max_stack_level=8)


def requests(unit: ChargingRateUnit = A) -> list[SetChargingProfileRequest]:
    """A TxDefaultProfile and the TxProfile of the transaction running on EVSE 1."""
    return limit_requests(
        ProfileAllocator(max_stack_level=8),
        CAPS,
        evse_id=1,
        limit=16 if unit is A else 11000,
        unit=unit,
        now=NOW,
        transactions={1: "T1"},
        also_tx_profile=True,
    )


def test_a_refused_tx_profile_means_the_default_alone() -> None:
    _, tx = requests()
    habits = ChargingHabits()
    assert habits.fallback_for(tx) is Fallback.TX_DEFAULT_ONLY
    habits.learnt.add(Fallback.TX_DEFAULT_ONLY)
    assert not habits.tx_profiles
    assert habits.fallback_for(tx) is Fallback.WATTS  # only the unit is left to try


def test_a_refused_unit_means_the_other_unit_once() -> None:
    default, _ = requests()
    habits = ChargingHabits()
    assert habits.fallback_for(default) is Fallback.WATTS
    habits.learnt.add(Fallback.WATTS)
    assert habits.adapt(CAPS).rate_units == (W,)
    assert habits.fallback_for(default) is None  # both units tried
    watts, _ = requests(W)
    amps_habits = ChargingHabits()
    assert amps_habits.fallback_for(watts) is Fallback.AMPS
    amps_habits.learnt.add(Fallback.AMPS)
    assert amps_habits.adapt(CAPS).rate_units == (A,)


def test_nothing_learnt_changes_nothing_and_the_list_round_trips() -> None:
    habits = ChargingHabits()
    assert habits.adapt(CAPS) is CAPS
    assert habits.tx_profiles
    habits.learnt |= {Fallback.WATTS, Fallback.TX_DEFAULT_ONLY}
    assert habits.to_list() == ["tx_default_only", "watts"]
    assert ChargingHabits.from_list([*habits.to_list(), "from_a_newer_version"]) == habits
