"""How variables appear as entities: kinds by data type and mutability, the curated table, value conversion."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
import re

import pytest

from custom_components.ocpp_csms.protocol.v201 import ReportData
from custom_components.ocpp_csms.protocol.v201.enums import Attribute, Data, Mutability
from custom_components.ocpp_csms.station.device_model import (
    AttributeInfo,
    Characteristics,
    DeviceModel,
    VariableInfo,
    VariableKey,
)
from custom_components.ocpp_csms.station.variable_kinds import (
    CURATED,
    DECIMAL_LIMIT,
    INT32_MAX,
    INT32_MIN,
    EntityKind,
    curated,
    describe,
    entity_kind,
    format_value,
    ha_unit,
    parse_value,
)

from .inventory import inventory

APPENDIX = Path("/work/shared/ocpp-2.0.1/dm_components_vars.csv")

K = EntityKind
# Data type → kind when ReadOnly, ReadWrite, WriteOnly (the module's table).
KINDS: dict[Data, tuple[EntityKind, EntityKind, EntityKind]] = {
    Data.BOOLEAN: (K.BINARY_SENSOR, K.SWITCH, K.NONE),
    Data.INTEGER: (K.SENSOR_NUMERIC, K.NUMBER, K.NONE),
    Data.DECIMAL: (K.SENSOR_NUMERIC, K.NUMBER, K.NONE),
    Data.OPTION_LIST: (K.SENSOR_ENUM, K.SELECT, K.NONE),
    Data.DATE_TIME: (K.SENSOR_TIMESTAMP, K.TEXT, K.NONE),
    Data.STRING: (K.SENSOR_TEXT, K.TEXT, K.NONE),
    Data.SEQUENCE_LIST: (K.SENSOR_TEXT, K.TEXT, K.NONE),
    Data.MEMBER_LIST: (K.SENSOR_TEXT, K.TEXT, K.NONE),
}
MUTABILITIES = (Mutability.READ_ONLY, Mutability.READ_WRITE, Mutability.WRITE_ONLY)


def info(
    data_type: Data | None,
    mutability: Mutability = Mutability.READ_WRITE,
    *,
    values: tuple[str, ...] = ("a", "b"),
    unit: str | None = None,
    min_limit: float | None = None,
    max_limit: float | None = None,
) -> VariableInfo:
    characteristics = None
    if data_type is not None:
        characteristics = Characteristics(data_type, False, unit, min_limit, max_limit, values)
    return VariableInfo({Attribute.ACTUAL: AttributeInfo("1", mutability)}, characteristics)


def test_kind_table_covers_every_data_type() -> None:
    assert set(KINDS) == set(Data)


@pytest.mark.parametrize(
    ("data_type", "mutability", "kind"),
    [
        (data_type, mutability, kinds[index])
        for data_type, kinds in KINDS.items()
        for index, mutability in enumerate(MUTABILITIES)
    ],
    ids=str,
)
def test_kind_by_data_type_and_mutability(data_type: Data, mutability: Mutability, kind: EntityKind) -> None:
    assert entity_kind(info(data_type, mutability)) is kind


@pytest.mark.parametrize(
    ("variable", "kind"),
    [
        (info(Data.OPTION_LIST, Mutability.READ_WRITE, values=()), K.TEXT),
        (info(Data.OPTION_LIST, Mutability.READ_ONLY, values=()), K.SENSOR_TEXT),
        (info(None, Mutability.READ_WRITE), K.TEXT),
        (info(None, Mutability.READ_ONLY), K.SENSOR_TEXT),
        (VariableInfo(), K.NONE),
        (
            VariableInfo(
                {Attribute.TARGET: AttributeInfo("3", Mutability.READ_WRITE)}, info(Data.INTEGER).characteristics
            ),
            K.NUMBER,
        ),
    ],
    ids=[
        "optionlist-no-values-rw",
        "optionlist-no-values-ro",
        "no-chars-rw",
        "no-chars-ro",
        "no-attributes",
        "target-only",
    ],
)
def test_kind_fallbacks(variable: VariableInfo, kind: EntityKind) -> None:
    assert entity_kind(variable) is kind


def test_read_only_kinds() -> None:
    assert {kind for kind in EntityKind if kind.read_only} == {
        K.SENSOR_NUMERIC,
        K.SENSOR_ENUM,
        K.SENSOR_TEXT,
        K.SENSOR_TIMESTAMP,
        K.BINARY_SENSOR,
    }


def appendix_names() -> tuple[set[tuple[str, str]], set[str]]:
    specific: set[tuple[str, str]] = set()
    generic: set[str] = set()
    with APPENDIX.open(encoding="utf-8") as file:
        for row in csv.DictReader(file, delimiter=";"):
            component, variable = row["Specific Component"].strip(), row["Variable"].strip()
            if component == "<generic>":
                generic.add(variable)
            else:
                specific.add((component, variable))
    return specific, generic


def test_every_curated_variable_is_a_standardized_one() -> None:
    specific, generic = appendix_names()
    assert len(specific) > 150
    unknown = [name for name in CURATED if name not in specific and name[1] not in generic]
    assert unknown == []


def test_curated_table_is_about_forty_entries_with_unique_snake_case_keys() -> None:
    assert 35 <= len(CURATED) <= 60
    keys = [entry.translation_key for entry in CURATED.values()]
    assert len(set(keys)) == len(keys)
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", key) for key in keys)
    # Those that mirror a built-in entity (connector status, the Available switches, Power) are disabled by default.
    mirrors = {"station_availability_state", "evse_availability_state", "connector_availability_state"}
    assert {entry.translation_key for entry in CURATED.values() if not entry.enabled_by_default} == {
        *mirrors,
        "evse_rated_power",
    }
    assert all(entry.category in (None, "config", "diagnostic") for entry in CURATED.values())


def model() -> DeviceModel:
    result = DeviceModel()
    result.merge_report_data(ReportData.from_payload(item) for item in inventory())
    return result


def spec_of(component: str, variable: str, **where: int | str) -> tuple[VariableKey, VariableInfo]:
    matches = [
        (key, value)
        for key, value in model().find_all(component, variable)
        if all(getattr(key, name) == wanted for name, wanted in where.items())
    ]
    assert len(matches) == 1
    return matches[0]


def test_curated_variables_of_the_inventory() -> None:
    spec = describe(*spec_of("OCPPCommCtrlr", "HeartbeatInterval"))
    assert spec.kind is K.NUMBER
    assert spec.translation_key == "heartbeat_interval"
    assert spec.category == "config"
    assert spec.enabled_by_default
    assert (spec.min_value, spec.max_value, spec.step) == (1.0, 86400.0, 1.0)
    assert (spec.device_class, spec.unit) == ("duration", "s")

    spec = describe(*spec_of("SmartChargingCtrlr", "LimitChangeSignificance"))
    assert spec.kind is K.NUMBER
    assert (spec.min_value, spec.max_value, spec.step, spec.unit) == (0.0, 100.0, None, "%")

    spec = describe(*spec_of("SmartChargingCtrlr", "Enabled"))
    assert (spec.kind, spec.translation_key, spec.category) == (K.SWITCH, "smart_charging_enabled", "config")

    spec = describe(*spec_of("SmartChargingCtrlr", "RateUnit"))
    assert (spec.kind, spec.category, spec.options) == (K.SENSOR_TEXT, "diagnostic", ())

    spec = describe(*spec_of("EVSE", "AvailabilityState", evse_id=1))
    assert (spec.kind, spec.category, spec.options) == (
        K.SENSOR_ENUM,
        None,
        ("Available", "Occupied", "Reserved", "Unavailable", "Faulted"),
    )
    spec = describe(*spec_of("EVSE", "Power", evse_id=2))
    assert (spec.kind, spec.device_class, spec.unit, spec.category) == (K.SENSOR_NUMERIC, "power", "W", "diagnostic")

    spec = describe(*spec_of("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetVariables"))
    assert (spec.kind, spec.translation_key) == (K.SENSOR_NUMERIC, "items_per_message")

    spec = describe(*spec_of("TxCtrlr", "TxStartPoint"))
    assert (spec.kind, spec.category, spec.unit) == (K.TEXT, "config", None)

    spec = describe(*spec_of("SmartChargingCtrlr", "ACPhaseSwitchingSupported"))
    assert (spec.kind, spec.translation_key) == (K.BINARY_SENSOR, "ac_phase_switching_supported")


def test_uncurated_variables_are_disabled_config_or_diagnostic() -> None:
    spec = describe(*spec_of("AuthCacheCtrlr", "Policy"))
    assert (spec.kind, spec.translation_key, spec.category, spec.enabled_by_default) == (
        K.SELECT,
        None,
        "config",
        False,
    )
    assert spec.options == ("LRU", "LFU", "FIFO", "CUSTOM")
    spec = describe(*spec_of("Fan", "FanSpeed", component_instance="Fan1"))
    assert (spec.kind, spec.category, spec.enabled_by_default, spec.unit, spec.device_class) == (
        K.SENSOR_NUMERIC,
        "diagnostic",
        False,
        "RPM",
        None,
    )
    spec = describe(*spec_of("TemperatureSensor", "Temperature", evse_id=1))
    assert (spec.unit, spec.device_class) == ("°C", "temperature")
    spec = describe(*spec_of("ClockCtrlr", "DateTime"))
    assert (spec.kind, spec.device_class, spec.unit, spec.category) == (
        K.SENSOR_TIMESTAMP,
        "timestamp",
        None,
        "diagnostic",
    )
    spec = describe(*spec_of("SecurityCtrlr", "BasicAuthPassword"))
    assert spec.kind is K.NONE
    spec = describe(*spec_of("ChargingStation", "Problem"))
    assert (spec.kind, spec.category, spec.unit) == (K.BINARY_SENSOR, "diagnostic", None)


def test_curated_config_variable_reported_read_only_becomes_diagnostic() -> None:
    key = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    spec = describe(key, info(Data.INTEGER, Mutability.READ_ONLY, unit="s"))
    assert (spec.kind, spec.category, spec.translation_key, spec.unit) == (
        K.SENSOR_NUMERIC,
        "diagnostic",
        "heartbeat_interval",
        "s",
    )


def test_number_ranges_default_to_the_data_type() -> None:
    key = VariableKey("Vendor", "Setting")
    spec = describe(key, info(Data.INTEGER))
    assert (spec.min_value, spec.max_value, spec.step) == (INT32_MIN, INT32_MAX, 1.0)
    spec = describe(key, info(Data.DECIMAL, max_limit=32.0))
    assert (spec.min_value, spec.max_value, spec.step) == (-DECIMAL_LIMIT, 32.0, None)
    spec = describe(key, VariableInfo({Attribute.ACTUAL: AttributeInfo("1")}))
    assert spec.kind is K.TEXT


def test_every_inventory_variable_gets_a_spec() -> None:
    kinds = {describe(key, variable).kind for key, variable in model().items()}
    assert kinds == {
        K.SENSOR_NUMERIC,
        K.SENSOR_ENUM,
        K.SENSOR_TEXT,
        K.SENSOR_TIMESTAMP,
        K.BINARY_SENSOR,
        K.SWITCH,
        K.NUMBER,
        K.SELECT,
        K.TEXT,
        K.NONE,
    }
    specs = [describe(key, variable) for key, variable in model().items()]
    assert all(not (spec.kind.read_only and spec.category == "config") for spec in specs)
    assert sum(spec.enabled_by_default for spec in specs) >= 40


def test_curated_lookup_ignores_case() -> None:
    assert curated(VariableKey("ocppcommctrlr", "HEARTBEATINTERVAL")) is CURATED["OCPPCommCtrlr", "HeartbeatInterval"]
    assert curated(VariableKey("Vendor", "Thing")) is None


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        (None, None),
        ("Percent", "%"),
        ("Celsius", "°C"),
        ("Fahrenheit", "°F"),
        ("ms2", "m/s²"),
        ("W", "W"),
        ("RPM", "RPM"),
    ],
)
def test_units_in_home_assistant_spelling(unit: str | None, expected: str | None) -> None:
    assert ha_unit(unit) == expected


@pytest.mark.parametrize(
    ("raw", "data_type", "value"),
    [
        ("true", Data.BOOLEAN, True),
        ("False", Data.BOOLEAN, False),
        ("yes", Data.BOOLEAN, None),
        ("42", Data.INTEGER, 42),
        ("4.2", Data.INTEGER, None),
        ("4.25", Data.DECIMAL, 4.25),
        ("2025-06-01T12:00:00+00:00", Data.DATE_TIME, datetime(2025, 6, 1, 12, tzinfo=UTC)),
        ("not a date", Data.DATE_TIME, None),
        ("A, W", Data.MEMBER_LIST, ("A", "W")),
        ("NTP,Heartbeat", Data.SEQUENCE_LIST, ("NTP", "Heartbeat")),
        ("", Data.MEMBER_LIST, ()),
        ("Available", Data.OPTION_LIST, "Available"),
        ("text", Data.STRING, "text"),
        ("text", None, "text"),
        (None, Data.INTEGER, None),
    ],
)
def test_parse_value(raw: str | None, data_type: Data | None, value: object) -> None:
    assert parse_value(raw, data_type) == value


@pytest.mark.parametrize(
    ("value", "data_type", "text"),
    [
        (True, Data.BOOLEAN, "true"),
        (False, Data.BOOLEAN, "false"),
        (300, Data.INTEGER, "300"),
        (300.0, Data.INTEGER, "300"),
        (300.5, Data.INTEGER, "300.5"),
        (7, Data.DECIMAL, "7"),
        (0.1, Data.DECIMAL, "0.1"),
        (1e-7, Data.DECIMAL, "0.0000001"),
        (2.5e10, Data.DECIMAL, "25000000000"),
        (datetime(2025, 6, 1, 12, tzinfo=UTC), Data.DATE_TIME, "2025-06-01T12:00:00+00:00"),
        (("A", "W"), Data.MEMBER_LIST, "A,W"),
        ("Available", Data.OPTION_LIST, "Available"),
    ],
)
def test_format_value(value: object, data_type: Data, text: str) -> None:
    assert format_value(value, data_type) == text  # type: ignore[arg-type]


def test_security_settings_are_never_editable() -> None:
    """A station may report SecurityCtrlr variables ReadWrite: they are shown, not editable boxes."""
    writable = [
        (key, info)
        for key, info in model().items()
        if key.component == "SecurityCtrlr" and info.mutability is not None and info.mutability.value == "ReadWrite"
    ]
    assert writable, "the test inventory has writable security settings"
    for key, info in writable:
        assert describe(key, info).kind.read_only, key
