"""The typed OCPP 2.0.1 messages and their registry.

Checked here: the registry, each model's structure against its official schema, exact round trips of realistic
payloads, the rules of the wire the RPC layer relies on (strict JSON, no null, no Python validators), and that
the generated modules are what tools/generate_models.py makes of the schemas.
"""

from __future__ import annotations

from datetime import UTC, datetime
import importlib.util
from pathlib import Path
import re
import sys
from types import ModuleType
from typing import Any
import warnings

import orjson
from pydantic import ValidationError
import pytest

from custom_components.ocpp_csms.protocol.model import OcppModel
from custom_components.ocpp_csms.protocol.v201 import (
    ACTIONS,
    BootNotificationRequest,
    BootNotificationResponse,
    BootReason,
    ChargingStation,
    CustomData,
    DataTransferRequest,
    Initiator,
    NotifyReportRequest,
    RegistrationStatus,
    SetChargingProfileRequest,
    TransactionEventRequest,
)

from .official_schemas import SCHEMA_NAMES, model, schema

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Overrides the suite-wide fixture: these tests need no Home Assistant instance."""


# ---- the registry --------------------------------------------------------------------------------------------


def test_actions_cover_the_128_schemas_exactly() -> None:
    assert len(ACTIONS) == 64
    names = {spec.request.__name__ for spec in ACTIONS.values()} | {spec.response.__name__ for spec in ACTIONS.values()}
    assert names == set(SCHEMA_NAMES)
    for name, spec in ACTIONS.items():
        assert spec.name == name
        assert (spec.request.__name__, spec.response.__name__) == (f"{name}Request", f"{name}Response")
        assert spec.use_cases
        assert all(re.fullmatch(r"[A-P]\d\d", case) for case in spec.use_cases), spec.use_cases


def test_who_initiates_each_action() -> None:
    both = {Initiator.CHARGING_STATION, Initiator.CSMS}
    assert [name for name, spec in ACTIONS.items() if spec.initiated_by == both] == ["DataTransfer"]
    by_station = {name for name, spec in ACTIONS.items() if spec.initiated_by == {Initiator.CHARGING_STATION}}
    by_csms = {name for name, spec in ACTIONS.items() if spec.initiated_by == {Initiator.CSMS}}
    assert {"BootNotification", "Heartbeat", "StatusNotification", "TransactionEvent", "Authorize"} <= by_station
    assert {"Reset", "GetVariables", "SetChargingProfile", "RequestStartTransaction", "TriggerMessage"} <= by_csms
    assert len(by_station) + len(by_csms) == 63


# ---- structure: every model against its official schema -----------------------------------------------------

#: The schema keywords validation depends on (descriptions, titles and defaults aside).
KEYWORDS = (
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "format",
    "maxLength",
    "minimum",
    "maximum",
    "minItems",
    "maxItems",
)


def normalised(root: dict[str, Any], node: dict[str, Any], defs: str) -> dict[str, Any]:
    """A schema node with references inlined and only the validation keywords, in one canonical form."""
    while "$ref" in node:
        node = root[defs][node["$ref"].rpartition("/")[2]]
    out: dict[str, Any] = {}
    for keyword in KEYWORDS:
        if keyword not in node:
            continue
        value = node[keyword]
        if keyword == "properties":
            value = {name: normalised(root, sub, defs) for name, sub in value.items()}
        elif keyword == "items":
            value = normalised(root, value, defs)
        elif keyword == "required":
            value = sorted(value)
        elif keyword == "additionalProperties":
            if node.get("type") != "object":
                continue  # the official enums carry a meaningless `additionalProperties: false`
            value = value is not False
        out[keyword] = value
    if out.get("type") == "object":
        out.setdefault("required", [])
        out.setdefault("additionalProperties", True)
    if out.get("type") == "integer":  # Part 2 §2.1: integers are 32 bit, where the schema says nothing
        out.setdefault("minimum", -(2**31))
        out.setdefault("maximum", 2**31 - 1)
    return out


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_model_has_exactly_the_schema_structure(name: str) -> None:
    """Wire names, required fields, types, enums, lengths, bounds and item counts, at every depth."""
    official = schema(name)
    ours = model(name).model_json_schema(by_alias=True)
    assert normalised(ours, ours, "$defs") == normalised(official, official, "definitions")


def test_custom_data_alone_accepts_vendor_properties() -> None:
    payload = {"vendorId": "com.example", "mode": "eco", "limits": [1, 2], "note": None}
    parsed = CustomData.model_validate_json(orjson.dumps(payload))
    assert parsed.vendor_id == "com.example"
    assert parsed.to_payload() == payload  # the vendor's null is data: kept
    with pytest.raises(ValidationError):
        ChargingStation.model_validate_json(b'{"model": "M", "vendorName": "V", "mode": "eco"}')


def test_no_model_validates_with_python_code() -> None:
    """Everything is checked in pydantic-core: no Python validator on the hot path."""

    def functions(node: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("function"):
                found.add(node["type"])
            for key, value in node.items():
                if key != "serialization":
                    found |= functions(value)
        elif isinstance(node, list):
            for item in node:
                found |= functions(item)
        return found

    for name in SCHEMA_NAMES:
        assert not functions(model(name).__pydantic_core_schema__), name


# ---- exact round trips of realistic payloads -----------------------------------------------------------------


def typed(value: Any) -> Any:
    """A JSON value where numbers keep their kind: 16 and 16.0 compare unequal."""
    if isinstance(value, dict):
        return {key: typed(sub) for key, sub in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    return (type(value).__name__, value)


BOOT_NOTIFICATION = {
    "chargingStation": {
        "model": "Wallbox-22",
        "vendorName": "ExampleVendor",
        "serialNumber": "WB22-000123",
        "firmwareVersion": "2.4.1",
        "modem": {"iccid": "8931440000000000123", "imsi": "262011234567890"},
    },
    "reason": "PowerUp",
}

TRANSACTION_EVENT = {
    "eventType": "Updated",
    "timestamp": "2025-01-15T10:15:00Z",
    "triggerReason": "MeterValuePeriodic",
    "seqNo": 7,
    "transactionInfo": {"transactionId": "7f3c2a10-9b1e-4d2a-8c55-0a1b2c3d4e5f", "chargingState": "Charging"},
    "offline": False,
    "numberOfPhasesUsed": 3,
    "evse": {"id": 1, "connectorId": 1},
    "idToken": {"idToken": "04A2B3C4D5E6F7", "type": "ISO14443"},
    "meterValue": [
        {
            "timestamp": "2025-01-15T10:15:00Z",
            "sampledValue": [
                {
                    "value": 12345.6,
                    "context": "Sample.Periodic",
                    "measurand": "Energy.Active.Import.Register",
                    "location": "Outlet",
                    "unitOfMeasure": {"unit": "Wh", "multiplier": 0},
                    "signedMeterValue": {
                        "signedMeterData": "T0NNRnx7IkZWIjoiMS4wIn0=",
                        "signingMethod": "ECDSA-secp256r1-SHA256",
                        "encodingMethod": "OCMF",
                        "publicKey": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
                    },
                },
                {"value": 11040.0, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
                {"value": 16.1, "measurand": "Current.Import", "phase": "L1", "unitOfMeasure": {"unit": "A"}},
                {"value": 15.9, "measurand": "Current.Import", "phase": "L2", "unitOfMeasure": {"unit": "A"}},
                {"value": 16.0, "measurand": "Current.Import", "phase": "L3", "unitOfMeasure": {"unit": "A"}},
                {"value": 230.2, "measurand": "Voltage", "phase": "L1-N", "unitOfMeasure": {"unit": "V"}},
                {"value": 229.8, "measurand": "Voltage", "phase": "L2-N", "unitOfMeasure": {"unit": "V"}},
                {"value": 231.0, "measurand": "Voltage", "phase": "L3-N", "unitOfMeasure": {"unit": "V"}},
                {"value": 42.0, "measurand": "SoC", "location": "EV", "unitOfMeasure": {"unit": "Percent"}},
            ],
        }
    ],
}

SET_CHARGING_PROFILE = {
    "evseId": 1,
    "chargingProfile": {
        "id": 100,
        "stackLevel": 1,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Recurring",
        "recurrencyKind": "Daily",
        "validFrom": "2025-01-01T00:00:00Z",
        "validTo": "2025-12-31T23:59:59Z",
        "chargingSchedule": [
            {
                "id": 1,
                "startSchedule": "2025-01-01T00:00:00Z",
                "duration": 86400,
                "chargingRateUnit": "A",
                "minChargingRate": 6.0,
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": 32.0, "numberPhases": 3},
                    {"startPeriod": 25200, "limit": 16.0, "numberPhases": 3},
                    {"startPeriod": 64800, "limit": 10.0, "numberPhases": 1, "phaseToUse": 1},
                ],
            }
        ],
    },
}

NOTIFY_REPORT = {
    "requestId": 42,
    "generatedAt": "2025-01-15T10:20:30+01:00",
    "seqNo": 0,
    "tbc": True,
    "reportData": [
        {
            "component": {"name": "EVSE", "evse": {"id": 1}},
            "variable": {"name": "AvailabilityState"},
            "variableAttribute": [{"type": "Actual", "value": "Available", "mutability": "ReadOnly"}],
            "variableCharacteristics": {
                "dataType": "OptionList",
                "supportsMonitoring": True,
                "valuesList": "Available,Occupied,Reserved,Unavailable,Faulted",
            },
        },
        {
            "component": {"name": "SmartChargingCtrlr", "instance": "1"},
            "variable": {"name": "LimitChangeSignificance"},
            "variableAttribute": [
                {"type": "Actual", "value": "0.1", "mutability": "ReadWrite", "persistent": True, "constant": False},
                {"type": "MaxSet", "value": "1.0", "mutability": "ReadOnly"},
            ],
            "variableCharacteristics": {
                "dataType": "decimal",
                "unit": "Percent",
                "minLimit": 0.0,
                "maxLimit": 1.0,
                "supportsMonitoring": False,
            },
        },
    ],
    "customData": {"vendorId": "com.example.csms", "firmwareChannel": "beta"},
}


@pytest.mark.parametrize(
    ("model_class", "payload"),
    [
        (BootNotificationRequest, BOOT_NOTIFICATION),
        (TransactionEventRequest, TRANSACTION_EVENT),
        (SetChargingProfileRequest, SET_CHARGING_PROFILE),
        (NotifyReportRequest, NOTIFY_REPORT),
    ],
    ids=["BootNotification", "TransactionEvent", "SetChargingProfile", "NotifyReport"],
)
def test_realistic_payload_round_trips_to_the_same_json(model_class: type[OcppModel], payload: dict[str, Any]) -> None:
    parsed = model_class.model_validate_json(orjson.dumps(payload))
    assert typed(parsed.to_payload()) == typed(payload)
    assert typed(orjson.loads(parsed.to_json())) == typed(payload)
    assert model_class.from_payload(payload) == parsed


def test_absent_optionals_are_omitted_never_null() -> None:
    request = BootNotificationRequest(
        charging_station=ChargingStation(model="Wallbox-22", vendor_name="ExampleVendor"), reason=BootReason.POWER_UP
    )
    assert request.to_payload() == {
        "chargingStation": {"model": "Wallbox-22", "vendorName": "ExampleVendor"},
        "reason": "PowerUp",
    }
    assert (
        request.to_json()
        == b'{"chargingStation":{"model":"Wallbox-22","vendorName":"ExampleVendor"},"reason":"PowerUp"}'
    )
    response = BootNotificationResponse(
        current_time=datetime(2025, 1, 15, 10, 0, tzinfo=UTC), interval=300, status=RegistrationStatus.ACCEPTED
    )
    assert response.to_payload() == {"currentTime": "2025-01-15T10:00:00Z", "interval": 300, "status": "Accepted"}


# ---- the rules of the wire -----------------------------------------------------------------------------------


def test_json_is_validated_strictly_but_enums_and_date_times_come_from_strings() -> None:
    good = b'{"currentTime": "2025-01-15T10:00:00+01:00", "interval": 300, "status": "Accepted"}'
    response = BootNotificationResponse.model_validate_json(good)
    assert response.status is RegistrationStatus.ACCEPTED
    assert response.current_time == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    for interval in (b'"300"', b"300.0", b"true"):
        with pytest.raises(ValidationError):
            BootNotificationResponse.model_validate_json(good.replace(b"300", interval))


def test_null_is_refused_on_the_wire_but_none_is_absent_in_python() -> None:
    with pytest.raises(ValidationError):
        ChargingStation.model_validate_json(b'{"model": "M", "vendorName": "V", "serialNumber": null}')
    station = ChargingStation(model="M", vendor_name="V", serial_number=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # serialising None must not trip pydantic's serializer warnings
        assert station.model_dump()["serial_number"] is None
        assert station.to_payload() == {"model": "M", "vendorName": "V"}


def test_data_transfer_data_is_any_json() -> None:
    payload = {"vendorId": "com.example", "messageId": "Tariff", "data": {"price": [0.31, None], "currency": "EUR"}}
    assert DataTransferRequest.model_validate_json(orjson.dumps(payload)).to_payload() == payload


def test_python_field_names_on_the_wire_are_read_as_wire_names() -> None:
    """A documented leniency (see protocol/model.py): pydantic-core never reports a field's own name as extra."""
    station = ChargingStation.model_validate_json(b'{"model": "M", "vendor_name": "V"}')
    assert station.vendor_name == "V"
    assert station.to_payload() == {"model": "M", "vendorName": "V"}


def test_python_construction_is_typed_and_strict() -> None:
    with pytest.raises(ValidationError):
        BootNotificationRequest(
            charging_station=ChargingStation(model="M", vendor_name="V"),
            reason="PowerUp",  # type: ignore[arg-type]
        )


# ---- the generator -------------------------------------------------------------------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_models", ROOT / "tools" / "generate_models.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_generated_modules_are_up_to_date() -> None:
    generator = _generator()
    for path, text in generator.render_all(generator.schema_dir()).items():
        assert path.read_text(encoding="utf-8") == text, f"{path.name} is stale: run tools/generate_models.py"


def test_generator_refuses_same_named_definitions_that_disagree(tmp_path: Path) -> None:
    generator = _generator()
    for name in ("BootNotificationRequest", "TransactionEventRequest"):
        changed = schema(name)
        if name == "TransactionEventRequest":
            changed = orjson.loads(orjson.dumps(changed))
            changed["definitions"]["CustomDataType"]["properties"]["vendorId"]["maxLength"] = 100
        (tmp_path / f"{name}.json").write_bytes(orjson.dumps(changed))
    with pytest.raises(SystemExit, match=r"CustomDataType in TransactionEventRequest\.json differs"):
        generator.read_schemas(tmp_path)


@pytest.mark.parametrize("seq_no", [2**31, -(2**31) - 1, 2**70])
def test_integers_are_32_bit(seq_no: int) -> None:
    """Part 2 §2.1; found by the fuzzer (issue 19): a seqNo of 2**70 was taken, and no store could write it."""
    from custom_components.ocpp_csms.protocol.errors import RpcErrorCode, error_code_for  # noqa: PLC0415

    payload = {
        "eventType": "Started",
        "timestamp": "2026-12-01T05:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": seq_no,
        "transactionInfo": {"transactionId": "T"},
    }
    request = model("TransactionEventRequest")
    with pytest.raises(ValidationError) as raised:
        request.model_validate_json(
            f'{{"eventType":"Started","timestamp":"{payload["timestamp"]}","triggerReason":'
            f'"Authorized","seqNo":{seq_no},"transactionInfo":{{"transactionId":"T"}}}}'
        )
    assert error_code_for(raised.value) is RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert request.model_validate_json(orjson.dumps(payload | {"seqNo": 2**31 - 1}))
