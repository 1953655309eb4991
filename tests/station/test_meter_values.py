"""Meter values normalized to base units (J01, J02; SampledValueType, UnitOfMeasureType defaults)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.ocpp_csms.protocol.v201 import MeterValue, SampledValue
from custom_components.ocpp_csms.protocol.v201.enums import Location, Measurand, Phase, ReadingContext
from custom_components.ocpp_csms.station.meter_values import (
    MeterSnapshot,
    Reading,
    energy_register,
    normalize,
    readings,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SIGNED = {
    "signedMeterData": "AP///wB0AAAAQ0FQCQQ=",
    "signingMethod": "ECDSA-secp256r1-SHA256",
    "encodingMethod": "OCMF",
    "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
}


def meter_value(timestamp: datetime, *sampled: dict[str, Any]) -> MeterValue:
    return MeterValue.from_payload({"timestamp": timestamp.isoformat(), "sampledValue": list(sampled)})


def sampled(value: float, measurand: str | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"value": value}
    if measurand is not None:
        data["measurand"] = measurand
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("value", "unit", "multiplier", "measurand", "expected"),
    [
        (1500, "Wh", 0, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (1500.0, "Wh")),
        (1.5, "kWh", 0, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (1500.0, "Wh")),
        (1.234, "kWh", 0, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (1234.0, "Wh")),  # exact, not 1233.999…
        (15, "Wh", 3, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (15000.0, "Wh")),  # multiplier 3: times 1000
        (12345, "Wh", -1, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (1234.5, "Wh")),  # multiplier -1: divided by 10
        (1234, "kWh", -3, Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, (1234.0, "Wh")),
        (2.5, None, 3, None, (2500.0, "Wh")),  # absent unit and measurand: Energy.Active.Import.Register in Wh
        (11, "kW", 0, Measurand.POWER_ACTIVE_IMPORT, (11000.0, "W")),
        (2300, "W", -1, Measurand.POWER_ACTIVE_IMPORT, (230.0, "W")),
        (7400, None, 0, Measurand.POWER_ACTIVE_IMPORT, (7400.0, "W")),
        (16, None, 0, Measurand.CURRENT_IMPORT, (16.0, "A")),
        (160, "A", -1, Measurand.CURRENT_OFFERED, (16.0, "A")),
        (230.4, None, 0, Measurand.VOLTAGE, (230.4, "V")),
        (50, None, 0, Measurand.FREQUENCY, (50.0, "Hz")),
        (80, "Percent", 0, Measurand.SOC, (80.0, "%")),
        (80, None, 0, Measurand.SOC, (80.0, "%")),
        (0.98, None, 0, Measurand.POWER_FACTOR, (0.98, None)),
        (3, "kvarh", 0, Measurand.ENERGY_REACTIVE_IMPORT_REGISTER, (3000.0, "varh")),
        (2, None, 0, Measurand.ENERGY_REACTIVE_IMPORT_REGISTER, (2.0, "varh")),
        (1.1, "kvar", 0, Measurand.POWER_REACTIVE_IMPORT, (1100.0, "var")),
        (4, "kVA", 0, None, (4000.0, "VA")),
        (4, "kVAh", 0, Measurand.ENERGY_APPARENT_IMPORT, (4000.0, "VAh")),
        (25, "Celsius", 0, None, (25.0, "°C")),
        (212, "Fahrenheit", 0, None, (100.0, "°C")),
        (29815, "K", -2, None, (25.0, "°C")),
        (300, "lx", 1, None, (3000.0, "lx")),  # a unit we do not convert: kept, multiplier applied
    ],
)
def test_normalize(
    value: float, unit: str | None, multiplier: int, measurand: Measurand | None, expected: tuple[float, str | None]
) -> None:
    result = normalize(value, unit, multiplier, measurand)
    assert result[1] == expected[1]
    assert result[0] == pytest.approx(expected[0], abs=1e-9)
    if unit in ("Wh", "kWh", None):
        assert result[0] == expected[0]  # exact for energy


def test_reading_defaults_per_sampled_value_type() -> None:
    reading = Reading.from_sampled_value(SampledValue(value=1200.0), T0)
    assert reading == Reading(
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
        None,
        Location.OUTLET,
        ReadingContext.SAMPLE_PERIODIC,
        1200.0,
        "Wh",
        T0,
    )
    assert reading.key == (Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, None, Location.OUTLET)


def test_j01_e04_fr_10_readings_keep_phase_context_location_and_signed_data_as_is() -> None:
    values = [
        meter_value(
            T0,
            sampled(
                12.345,
                "Energy.Active.Import.Register",
                context="Transaction.Begin",
                unitOfMeasure={"unit": "kWh"},
                signedMeterValue=SIGNED,
            ),
            sampled(16.1, "Current.Import", phase="L2", location="Outlet", unitOfMeasure={"unit": "A"}),
            sampled(231, "Voltage", phase="L3-N", location="Inlet"),
            sampled(55, "SoC", location="EV", context="Sample.Clock"),
            sampled(0.97, "Power.Factor"),
        ),
        meter_value(T0 + timedelta(seconds=1), sampled(99)),
    ]
    taken = readings(values)
    assert [reading.value for reading in taken] == [12345.0, 16.1, 231.0, 55.0, 0.97, 99.0]
    energy, current, voltage, soc, factor, later = taken
    assert factor.unit is None
    assert energy.context is ReadingContext.TRANSACTION_BEGIN
    assert energy.signed is not None
    assert energy.signed.to_payload() == SIGNED
    assert (current.phase, current.location, current.unit) == (Phase.L2, Location.OUTLET, "A")
    assert (voltage.phase, voltage.location, voltage.unit) == (Phase.L3_N, Location.INLET, "V")
    assert (soc.location, soc.context, soc.unit) == (Location.EV, ReadingContext.SAMPLE_CLOCK, "%")
    assert later.timestamp == T0 + timedelta(seconds=1)
    assert [r.value for r in energy_register(taken)] == [12345.0, 99.0]
    assert energy_register(taken, (Location.INLET,)) == []
    restored = [Reading.from_dict(json.loads(json.dumps(reading.to_dict()))) for reading in taken]
    assert restored == taken


def three_phase(timestamp: datetime, *, total_power: bool) -> list[Reading]:
    values = [
        sampled(16.0, "Current.Import", phase="L1"),
        sampled(15.5, "Current.Import", phase="L2"),
        sampled(16.2, "Current.Import", phase="L3"),
        sampled(230.0, "Voltage", phase="L1-N"),
        sampled(231.0, "Voltage", phase="L2-N"),
        sampled(229.0, "Voltage", phase="L3-N"),
        sampled(400.0, "Voltage", phase="L1-L2"),
        sampled(3.68, "Power.Active.Import", phase="L1", unitOfMeasure={"unit": "kW"}),
        sampled(3.57, "Power.Active.Import", phase="L2", unitOfMeasure={"unit": "kW"}),
        sampled(3.71, "Power.Active.Import", phase="L3", unitOfMeasure={"unit": "kW"}),
        sampled(10.5, "Energy.Active.Import.Register", unitOfMeasure={"unit": "kWh"}),
        sampled(72, "SoC", location="EV"),
        sampled(32, "Current.Offered"),
        sampled(22, "Power.Offered", unitOfMeasure={"unit": "kW"}),
    ]
    if total_power:
        values.append(sampled(11000, "Power.Active.Import"))
    return readings([meter_value(timestamp, *values)])


def test_snapshot_accessors() -> None:
    snapshot = MeterSnapshot()
    assert (snapshot.active_power_w, snapshot.timestamp) == (None, None)
    assert snapshot.update(three_phase(T0, total_power=False))
    assert snapshot.active_power_w == pytest.approx(10960.0)  # the sum of the phases
    assert snapshot.current_a == {Phase.L1: 16.0, Phase.L2: 15.5, Phase.L3: 16.2}
    assert snapshot.voltage_v == {Phase.L1: 230.0, Phase.L2: 231.0, Phase.L3: 229.0}
    assert snapshot.energy_import_wh == 10500.0
    assert snapshot.soc_percent == 72.0
    assert snapshot.current_offered_a == 32.0
    assert snapshot.power_offered_w == 22000.0
    assert snapshot.timestamp == T0
    assert snapshot.value(Measurand.VOLTAGE, Phase.L1_L2) == 400.0
    assert snapshot.value(Measurand.FREQUENCY) is None
    assert snapshot.update(three_phase(T0 + timedelta(seconds=10), total_power=True))
    assert snapshot.active_power_w == 11000.0  # the total, when reported
    assert len(snapshot) == len(snapshot.readings) == 15


def test_snapshot_per_phase_accepts_either_phase_naming() -> None:
    snapshot = MeterSnapshot()
    snapshot.update(
        readings(
            [
                meter_value(
                    T0,
                    sampled(10, "Current.Import", phase="L1-N"),
                    sampled(231, "Voltage", phase="L1"),
                    sampled(232, "Voltage", phase="L2"),
                    sampled(233, "Voltage", phase="L2-N"),
                    sampled(400, "Power.Active.Import", phase="L1", location="Inlet"),
                )
            ]
        )
    )
    assert snapshot.current_a == {Phase.L1: 10.0}
    assert snapshot.voltage_v == {Phase.L1: 231.0, Phase.L2: 233.0}
    assert snapshot.per_phase(Measurand.VOLTAGE) == {Phase.L1: 231.0, Phase.L2: 232.0}
    assert snapshot.active_power_w == 400.0  # only the inlet has it: the location preference falls back
    assert snapshot.latest(Measurand.POWER_ACTIVE_IMPORT, Phase.L1, Location.OUTLET) is None
    inlet = snapshot.latest(Measurand.POWER_ACTIVE_IMPORT, Phase.L1, Location.INLET)
    assert inlet is not None
    assert inlet.value == 400.0


def test_snapshot_keeps_the_latest_whatever_the_arrival_order() -> None:
    old = readings([meter_value(T0, sampled(100))])
    new = readings([meter_value(T0 + timedelta(minutes=1), sampled(200))])
    forward, backward = MeterSnapshot(), MeterSnapshot()
    assert forward.update(old)
    assert forward.update(new)
    assert backward.update(new)
    assert not backward.update(old)  # replayed late: not newer
    assert not backward.update(new)  # the same again
    assert forward == backward
    assert forward.energy_import_wh == 200.0
    # Same timestamp: the higher order (seqNo) wins, then the higher value; independent of arrival.
    tie_a = readings([meter_value(T0 + timedelta(minutes=2), sampled(300))])
    tie_b = readings([meter_value(T0 + timedelta(minutes=2), sampled(250))])
    one, two = MeterSnapshot(), MeterSnapshot()
    one.update(tie_a, order=5)
    one.update(tie_b, order=6)
    two.update(tie_b, order=6)
    two.update(tie_a, order=5)
    assert one == two
    assert one.energy_import_wh == 250.0
    assert one != object()


def test_snapshot_round_trips() -> None:
    snapshot = MeterSnapshot()
    snapshot.update(three_phase(T0, total_power=True), order=3)
    snapshot.update(readings([meter_value(T0, sampled(1, signedMeterValue=SIGNED))]), order=4)
    data = json.loads(json.dumps(snapshot.to_dict()))
    restored = MeterSnapshot.from_dict(data)
    assert restored == snapshot
    assert restored.to_dict() == snapshot.to_dict()
