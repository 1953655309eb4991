"""Which CALLERROR code (Part 4 §4.3) a payload that fails validation calls for, and how it is described."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
import pytest

from custom_components.ocpp_csms.protocol.errors import (
    MAX_DESCRIPTION_LENGTH,
    RpcErrorCode,
    error_code_for,
    error_description,
)
from custom_components.ocpp_csms.protocol.model import OcppModel
from custom_components.ocpp_csms.protocol.v201 import (
    BootNotificationRequest,
    BootNotificationResponse,
    GetMonitoringReportRequest,
    MeterValuesRequest,
    NotifyEVChargingNeedsRequest,
)

OCCURRENCE = RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION
TYPE = RpcErrorCode.TYPE_CONSTRAINT_VIOLATION
PROPERTY = RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION
PROTOCOL = RpcErrorCode.PROTOCOL_ERROR
FORMAT = RpcErrorCode.FORMAT_VIOLATION

BOOT = {"chargingStation": {"model": "Wallbox-22", "vendorName": "ExampleVendor"}, "reason": "PowerUp"}
BOOT_RESPONSE = {"currentTime": "2025-01-15T10:00:00Z", "interval": 300, "status": "Accepted"}
METER_VALUES = {
    "evseId": 1,
    "meterValue": [{"timestamp": "2025-01-15T10:00:00Z", "sampledValue": [{"value": 1.5}, {"value": 2.5}]}],
}
CHARGING_NEEDS = {
    "evseId": 1,
    "chargingNeeds": {
        "requestedEnergyTransfer": "DC",
        "dcChargingParameters": {"evMaxCurrent": 200, "evMaxVoltage": 800, "stateOfCharge": 40},
    },
}


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Overrides the suite-wide fixture: these tests need no Home Assistant instance."""


def failure(model: type[OcppModel], payload: Any) -> ValidationError:
    """The ValidationError of a payload (a dict is sent as JSON, bytes as they are)."""
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(data)
    return caught.value


def changed(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy with the value at a dotted path (`a.b.0.c`) replaced, or deleted when value is `...`."""
    copy: Any = orjson.loads(orjson.dumps(payload))
    *parents, last = path.split(".")
    target = copy
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return copy


@pytest.mark.parametrize(
    ("model", "payload", "code", "description"),
    [
        # a required field missing, an array with too few or too many items
        (BootNotificationRequest, changed(BOOT, "chargingStation.vendorName", ...), OCCURRENCE,
         "chargingStation.vendorName: Field required"),
        (BootNotificationRequest, changed(BOOT, "reason", ...), OCCURRENCE, "reason: Field required"),
        (MeterValuesRequest, changed(METER_VALUES, "meterValue.0.sampledValue", []), OCCURRENCE,
         "meterValue[0].sampledValue: List should have at least 1 item after validation, not 0"),
        (GetMonitoringReportRequest, {"requestId": 1, "monitoringCriteria": ["ThresholdMonitoring"] * 4}, OCCURRENCE,
         "monitoringCriteria: List should have at most 3 items after validation, not 4"),
        # the wrong JSON type, a string longer than its string[N]
        (BootNotificationResponse, changed(BOOT_RESPONSE, "interval", "300"), TYPE,
         "interval: Input should be a valid integer"),
        (BootNotificationResponse, changed(BOOT_RESPONSE, "interval", 300.0), TYPE,
         "interval: Input should be a valid integer"),
        (MeterValuesRequest, changed(METER_VALUES, "meterValue.0.sampledValue.1.value", "2.5"), TYPE,
         "meterValue[0].sampledValue[1].value: Input should be a valid number"),
        (BootNotificationRequest, changed(BOOT, "chargingStation.model", "M" * 21), TYPE,
         "chargingStation.model: String should have at most 20 characters"),
        (BootNotificationRequest, changed(BOOT, "chargingStation.firmwareVersion", None), TYPE,
         "chargingStation.firmwareVersion: Input should be a valid string"),
        (BootNotificationRequest, changed(BOOT, "chargingStation", "Wallbox-22"), TYPE,
         "chargingStation: Input should be an object"),
        (BootNotificationRequest, changed(BOOT, "reason", 1), TYPE, None),
        (BootNotificationResponse, changed(BOOT_RESPONSE, "currentTime", 1736935200), TYPE,
         "currentTime: Input should be a valid datetime"),
        # a value outside the enumeration, a number outside its bounds
        (BootNotificationRequest, changed(BOOT, "reason", "Reboot"), PROPERTY, None),
        (BootNotificationRequest, changed(BOOT, "reason", "powerup"), PROPERTY, None),
        (NotifyEVChargingNeedsRequest, changed(CHARGING_NEEDS, "chargingNeeds.dcChargingParameters.stateOfCharge", 101),
         PROPERTY, "chargingNeeds.dcChargingParameters.stateOfCharge: Input should be less than or equal to 100"),
        # an unknown property
        (BootNotificationRequest, changed(BOOT, "chargingStation.colour", "blue"), PROTOCOL,
         "chargingStation.colour: Extra inputs are not permitted"),
        (BootNotificationRequest, {**BOOT, "timestamp": "2025-01-15T10:00:00Z"}, PROTOCOL,
         "timestamp: Extra inputs are not permitted"),
        # not JSON, not an object, a date-time that is no RFC 3339 date-time
        (BootNotificationRequest, b'{"reason": "PowerUp",', FORMAT, None),
        (BootNotificationRequest, b"[]", FORMAT, "Input should be an object"),
        (BootNotificationResponse, changed(BOOT_RESPONSE, "currentTime", "15/01/2025 10:00"), FORMAT, None),
        (BootNotificationResponse, changed(BOOT_RESPONSE, "currentTime", "2025-01-15T10:00:00"), FORMAT,
         "currentTime: Input should have timezone info"),
    ],
)  # fmt: skip
def test_error_code_and_description(
    model: type[OcppModel], payload: Any, code: RpcErrorCode, description: str | None
) -> None:
    exc = failure(model, payload)
    assert error_code_for(exc) == code
    if description is not None:
        assert error_description(exc) == description


def test_several_errors_take_the_first_whatever_the_key_order() -> None:
    """Unknown properties of an object come first, then its fields in model order, depth first."""
    broken = {"chargingStation": {"model": "M" * 21}, "reason": "Reboot"}
    for payload in (broken, dict(reversed(broken.items()))):
        exc = failure(BootNotificationRequest, payload)
        assert error_code_for(exc) == TYPE  # chargingStation.model comes first
        assert error_description(exc) == (
            "chargingStation.model: String should have at most 20 characters (and 2 more errors)"
        )
    for payload in ({**broken, "colour": "blue"}, {"colour": "blue", **broken}):
        exc = failure(BootNotificationRequest, payload)
        assert error_code_for(exc) == PROTOCOL
        assert error_description(exc) == "colour: Extra inputs are not permitted (and 3 more errors)"


def test_one_more_error_is_singular() -> None:
    exc = failure(BootNotificationRequest, {"reason": "PowerUp", "chargingStation": {"model": "M"}})
    assert error_description(exc) == "chargingStation.vendorName: Field required"
    exc = failure(BootNotificationRequest, {"reason": "Reboot", "chargingStation": {"model": "M"}})
    assert error_description(exc) == "chargingStation.vendorName: Field required (and 1 more error)"


def test_description_is_cut_to_255_characters() -> None:
    exc = failure(MeterValuesRequest, changed(METER_VALUES, "meterValue.0.sampledValue.0.measurand", "Energy"))
    description = error_description(exc)
    assert len(description) == MAX_DESCRIPTION_LENGTH
    assert description.startswith("meterValue[0].sampledValue[0].measurand: Input should be ")
    assert description.endswith("...")


def test_what_fits_no_rule_is_a_format_violation() -> None:
    odd = ValidationError.from_exception_data(
        "Payload", [{"type": "value_error", "loc": ("a",), "input": 1, "ctx": {"error": ValueError("odd")}}]
    )
    assert error_code_for(odd) == FORMAT
    assert error_description(odd) == "a: Value error, odd"
    empty = ValidationError.from_exception_data("Payload", [])
    assert error_code_for(empty) == FORMAT
    assert error_description(empty) == "Payload is not valid"


@pytest.mark.parametrize("bad", [b'{"startPeriod": 0, "limit": NaN}', b'{"startPeriod": 0, "limit": Infinity}'])
def test_nan_and_infinity_are_not_json_numbers(bad: bytes) -> None:
    """The JSON reader of pydantic accepts NaN and Infinity; the models refuse them as the wrong type."""
    from custom_components.ocpp_csms.protocol.v201.datatypes import ChargingSchedulePeriod  # noqa: PLC0415

    with pytest.raises(ValidationError) as refused:
        ChargingSchedulePeriod.model_validate_json(bad)
    assert error_code_for(refused.value) is RpcErrorCode.TYPE_CONSTRAINT_VIOLATION
