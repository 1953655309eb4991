"""A↔W conversion for AC (K01.FR.49, K01.FR.50, K01.FR.51) and the choice of a supported rate unit (K01.FR.26)."""

from __future__ import annotations

import pytest

from custom_components.ocpp_csms.charging.units import (
    amps_to_watts,
    choose_unit,
    convert,
    parse_unit,
    parse_units,
    round_limit,
    to_supported_unit,
    watts_to_amps,
)
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit

A, W = ChargingRateUnit.A, ChargingRateUnit.W


@pytest.mark.parametrize(
    ("amps", "voltage", "phases", "watts"),
    [
        (16, 230, 1, 3680),
        (16, 230, 3, 11040),
        (32, 230, 3, 22080),
        (6, 230, 1, 1380),
        (6, 230, 3, 4140),
        (10, 240, 1, 2400),
        (10, 120, 1, 1200),
        (13, 220, 3, 8580),
        (0, 230, 3, 0),
    ],
)
def test_k01_fr_50_amps_and_watts(amps: float, voltage: float, phases: int, watts: float) -> None:
    assert amps_to_watts(amps, voltage=voltage, phases=phases) == pytest.approx(watts)
    assert watts_to_amps(watts, voltage=voltage, phases=phases) == pytest.approx(amps)
    assert convert(amps, A, W, voltage=voltage, phases=phases) == pytest.approx(watts)
    assert convert(watts, W, A, voltage=voltage, phases=phases) == pytest.approx(amps)


def test_k01_fr_49_three_phases_and_230_volts_by_default() -> None:
    assert amps_to_watts(16) == pytest.approx(11040)
    assert watts_to_amps(11000) == pytest.approx(15.942, abs=1e-3)
    assert convert(7.5, A, A) == 7.5
    assert convert(4000, W, W) == 4000


@pytest.mark.parametrize(("voltage", "phases"), [(0, 1), (-230, 3), (float("nan"), 3), (230, 0), (230, 4)])
def test_bad_electrics(voltage: float, phases: int) -> None:
    with pytest.raises(ValueError, match=r"voltage|phases"):
        amps_to_watts(16, voltage=voltage, phases=phases)


@pytest.mark.parametrize(
    ("value", "unit", "rounded"),
    [(5.999999999, A, 6.0), (15.94, A, 15.9), (15.99, A, 15.9), (3680.7, W, 3680.0), (1380 / 230, A, 6.0)],
)
def test_rounding_down_never_exceeds_the_intent(value: float, unit: ChargingRateUnit, rounded: float) -> None:
    assert round_limit(value, unit) == rounded


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("A,W", (A, W)),
        ("W, A", (W, A)),
        ("A", (A,)),
        ("w", (W,)),
        ("Current,Power", (A, W)),
        ("A,A,kW", (A,)),
        ("", ()),
        (None, ()),
    ],
)
def test_parse_rate_unit_member_list(text: str | None, units: tuple[ChargingRateUnit, ...]) -> None:
    assert parse_units(text) == units


def test_parse_unit() -> None:
    assert parse_unit(" Power ") == W
    assert parse_unit("VA") is None


@pytest.mark.parametrize(
    ("requested", "supported", "chosen"),
    [
        (A, ["A", "W"], A),
        (W, ["A", "W"], W),
        (W, ["A"], A),
        (A, ["W"], W),
        (A, [], A),
        (W, ["bogus"], W),
        (W, ["Current"], A),
    ],
)
def test_k01_fr_26_choose_a_supported_unit(
    requested: ChargingRateUnit, supported: list[str], chosen: ChargingRateUnit
) -> None:
    assert choose_unit(requested, supported) == chosen


@pytest.mark.parametrize(
    ("limit", "supported", "electrics", "expected"),
    [
        ((11000, W), ["A"], (230, 3), (15.9, A)),
        ((3680, W), ["A"], (230, 1), (16.0, A)),
        ((4000, W), ["A"], (240, 1), (16.6, A)),
        ((16, A), ["W"], (230, 3), (11040.0, W)),
        ((16, A), ["W"], (230, 1), (3680.0, W)),
        ((10, A), ["A", "W"], (230, 1), (10, A)),
        ((7000, W), ["A", "W"], (230, 1), (7000, W)),
    ],
)
def test_convert_only_when_the_station_requires_it(
    limit: tuple[float, ChargingRateUnit],
    supported: list[str],
    electrics: tuple[float, int],
    expected: tuple[float, ChargingRateUnit],
) -> None:
    (value, unit), (voltage, phases) = limit, electrics
    assert to_supported_unit(value, unit, supported, voltage=voltage, phases=phases) == expected
