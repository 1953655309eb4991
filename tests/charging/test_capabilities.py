"""SmartChargingCtrlr values parsed with safe defaults ("Referenced Components and Variables", Smart Charging)."""

from __future__ import annotations

import pytest

from custom_components.ocpp_csms.charging.capabilities import (
    DEFAULT_MAX_STACK_LEVEL,
    DEFAULT_MIN_CURRENT,
    DEFAULT_PERIODS_PER_SCHEDULE,
    ComponentRef,
    EvseLimits,
    SmartChargingCapabilities,
    VariableGetter,
    VariableRef,
)
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit

A, W = ChargingRateUnit.A, ChargingRateUnit.W
CTRLR = ComponentRef("SmartChargingCtrlr")


def getter(values: dict[tuple[ComponentRef, VariableRef], str]) -> VariableGetter:
    return lambda component, variable: values.get((component, variable))


FULL = {
    (CTRLR, VariableRef("RateUnit")): "A,W",
    (CTRLR, VariableRef("PeriodsPerSchedule")): "48",
    (CTRLR, VariableRef("ProfileStackLevel")): "8",
    (CTRLR, VariableRef("Entries", "ChargingProfiles", "maxLimit")): "20",
    (CTRLR, VariableRef("Entries", "ChargingProfiles")): "3",
    (CTRLR, VariableRef("ACPhaseSwitchingSupported")): "true",
    (CTRLR, VariableRef("Phases3to1")): "True",
    (CTRLR, VariableRef("LimitChangeSignificance")): "5.0",
    (CTRLR, VariableRef("Available")): "true",
    (CTRLR, VariableRef("Enabled")): "false",
    (ComponentRef("EVSE", evse_id=1), VariableRef("Power", characteristic="maxLimit")): "22080",
    (ComponentRef("EVSE", evse_id=1), VariableRef("SupplyPhases")): "3",
    (ComponentRef("EVSE", evse_id=2), VariableRef("Power", characteristic="maxLimit")): "7400.0",
    (ComponentRef("EVSE", evse_id=2), VariableRef("SupplyPhases")): "1",
    (ComponentRef("EVSE", evse_id=2), VariableRef("ACCurrent", characteristic="minLimit")): "8",
    (ComponentRef("EVSE", evse_id=2), VariableRef("ACCurrent", characteristic="maxLimit")): "32",
}


def test_everything_reported() -> None:
    caps = SmartChargingCapabilities.from_variables(getter(FULL), evse_ids=[1, 2, 3])
    assert caps.rate_units == (A, W)
    assert caps.rate_unit_names == ("A", "W")
    assert caps.supports(W)
    assert caps.periods_per_schedule == 48
    assert caps.max_stack_level == 8
    assert caps.max_profiles == 20
    assert caps.installed_profiles == 3
    assert caps.phase_switching_supported
    assert caps.phases_3to1
    assert caps.limit_change_significance == 5.0
    assert caps.available is True
    assert caps.enabled is False
    assert caps.evse(1) == EvseLimits(max_power=22080, supply_phases=3, max_current=pytest.approx(32.0))
    assert caps.evse(2) == EvseLimits(max_power=7400, supply_phases=1, min_current=8, max_current=32)
    assert caps.evse(3) == EvseLimits()
    assert caps.evse(9) == EvseLimits()
    assert hash(caps) == hash(SmartChargingCapabilities.from_variables(getter(FULL)))


def test_safe_defaults_of_a_silent_station() -> None:
    caps = SmartChargingCapabilities.from_variables(lambda component, variable: None)
    assert caps == SmartChargingCapabilities()
    assert caps.rate_units == (A,)
    assert not caps.supports(W)
    assert caps.periods_per_schedule == DEFAULT_PERIODS_PER_SCHEDULE
    assert caps.max_stack_level == DEFAULT_MAX_STACK_LEVEL
    assert caps.max_profiles is None
    assert not caps.phase_switching_supported
    assert caps.available is None
    assert caps.evse(1).min_current == DEFAULT_MIN_CURRENT


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("RateUnit", "kW", "rate_units", (A,)),
        ("RateUnit", "W", "rate_units", (W,)),
        ("PeriodsPerSchedule", "many", "periods_per_schedule", DEFAULT_PERIODS_PER_SCHEDULE),
        ("PeriodsPerSchedule", "0", "periods_per_schedule", DEFAULT_PERIODS_PER_SCHEDULE),
        ("PeriodsPerSchedule", "10.0", "periods_per_schedule", 10),
        ("PeriodsPerSchedule", "10.5", "periods_per_schedule", DEFAULT_PERIODS_PER_SCHEDULE),
        ("ProfileStackLevel", "-1", "max_stack_level", DEFAULT_MAX_STACK_LEVEL),
        ("ProfileStackLevel", " 3 ", "max_stack_level", 3),
        ("ACPhaseSwitchingSupported", "yes", "phase_switching_supported", False),
        ("ACPhaseSwitchingSupported", "1", "phase_switching_supported", True),
        ("LimitChangeSignificance", "inf", "limit_change_significance", None),
        ("LimitChangeSignificance", "x", "limit_change_significance", None),
        ("Enabled", "maybe", "enabled", None),
    ],
)
def test_malformed_values_fall_back(name: str, value: str, attribute: str, expected: object) -> None:
    caps = SmartChargingCapabilities.from_variables(getter({(CTRLR, VariableRef(name)): value}))
    assert getattr(caps, attribute) == expected


def test_negative_entries_are_unknown() -> None:
    values = {(CTRLR, VariableRef("Entries", "ChargingProfiles", "maxLimit")): "-5"}
    assert SmartChargingCapabilities.from_variables(getter(values)).max_profiles is None


def test_evse_supply_phases_out_of_range_and_dc() -> None:
    evse = ComponentRef("EVSE", evse_id=1)
    values = {
        (evse, VariableRef("SupplyPhases")): "7",
        (evse, VariableRef("Power", characteristic="maxLimit")): "50000",
    }
    assert SmartChargingCapabilities.from_variables(getter(values), evse_ids=[1]).evse(1) == EvseLimits(max_power=50000)
    values[evse, VariableRef("SupplyPhases")] = "0"  # DC: no current per phase to derive
    limits = SmartChargingCapabilities.from_variables(getter(values), evse_ids=[1]).evse(1)
    assert limits == EvseLimits(max_power=50000, supply_phases=0)
