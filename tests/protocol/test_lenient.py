"""Lenient repairs, on small local models (the session tests cover them on real messages)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import ConfigDict, Field

from custom_components.ocpp_csms.protocol.lenient import Violation, ViolationKind, repair
from custom_components.ocpp_csms.protocol.model import DateTime, OcppModel, Opt


class Status(StrEnum):
    """An enum."""

    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class Custom(OcppModel):
    """Extra properties allowed, like CustomDataType."""

    model_config = ConfigDict(extra="allow")
    vendor_id: str


class Sample(OcppModel):
    """A nested model."""

    value: float
    multiplier: int | None = None


class Thing(OcppModel):
    """A model with one field of each kind."""

    status: Status
    connector_id: int
    limit: Decimal | None = None
    id_token: str | None = None
    enabled: bool | None = None
    samples: list[Sample] | None = None
    tags: list[Annotated[str, Field(max_length=5)]] | None = None
    custom_data: Custom | None = None
    either: int | str | None = None
    literal: Literal["x"] | None = None
    wrapped: list[Annotated[Sample, Field(description="wrapped")]] | None = None


def kinds(violations: list[Violation]) -> list[tuple[str, ViolationKind]]:
    return [(v.path, v.kind) for v in violations]


def test_nothing_to_repair() -> None:
    payload = {"status": "Accepted", "connectorId": 1}
    assert repair(Thing, payload) == (payload, [])


def test_repairs() -> None:
    payload: dict[str, Any] = {
        "status": "accepted",
        "ConnectorID": "5",
        "limit": "16.0",
        "idToken": 12345,
        "enabled": "TRUE",
        "samples": {"value": "230.1", "multiplier": 1.0, "extra": 1},
        "tags": ["a"],
        "customData": {"vendorId": "v", "anything": 1},
        "either": "x",
        "literal": "x",
        "wrapped": {"value": 1},
        "unknown": None,
    }
    repaired, violations = repair(Thing, payload)
    assert repaired == {
        "status": "Accepted",
        "connectorId": 5,
        "limit": 16.0,
        "idToken": "12345",
        "enabled": True,
        "samples": [{"value": 230.1, "multiplier": 1}],
        "tags": ["a"],
        "customData": {"vendorId": "v", "anything": 1},
        "either": "x",
        "literal": "x",
        "wrapped": [{"value": 1}],
    }
    assert kinds(violations) == [
        ("status", ViolationKind.ENUM_CASE),
        ("ConnectorID", ViolationKind.FIELD_NAME_CASE),
        ("connectorId", ViolationKind.NUMBER_AS_STRING),
        ("limit", ViolationKind.NUMBER_AS_STRING),
        ("idToken", ViolationKind.NUMBER_FOR_STRING),
        ("enabled", ViolationKind.BOOLEAN_AS_STRING),
        ("samples", ViolationKind.OBJECT_FOR_ARRAY),
        ("samples[0].value", ViolationKind.NUMBER_AS_STRING),
        ("samples[0].multiplier", ViolationKind.FLOAT_FOR_INTEGER),
        ("samples[0].extra", ViolationKind.UNKNOWN_FIELD),
        ("wrapped", ViolationKind.OBJECT_FOR_ARRAY),
        ("unknown", ViolationKind.UNKNOWN_FIELD),
    ]
    assert Thing.model_validate_json(orjson.dumps(repaired)).connector_id == 5


def test_nulls_for_optional_fields_are_dropped_required_ones_kept() -> None:
    repaired, violations = repair(Thing, {"status": None, "connectorId": 1, "limit": None})
    assert repaired == {"status": None, "connectorId": 1}
    assert kinds(violations) == [("limit", ViolationKind.NULL_VALUE)]


def test_python_names_and_duplicates() -> None:
    repaired, violations = repair(Thing, {"status": "Accepted", "connector_id": 1, "connectorid": 2})
    assert repaired == {"status": "Accepted", "connectorId": 1}
    assert kinds(violations) == [
        ("connector_id", ViolationKind.FIELD_NAME_CASE),
        ("connectorid", ViolationKind.UNKNOWN_FIELD),
    ]


def test_what_cannot_be_understood_is_left_alone() -> None:
    payload = {
        "status": "Maybe",
        "connectorId": "1.5",
        "limit": "lots",
        "enabled": "yes",
        "samples": [{"value": "nan"}],
        "tags": "a",
    }
    repaired, violations = repair(Thing, payload)
    assert repaired == payload
    assert violations == []
    assert repair(Thing, [1, 2]) == ([1, 2], [])
    assert repair(Thing, {"status": 1, "connectorId": 1.5, "samples": 3}) == (
        {"status": 1, "connectorId": 1.5, "samples": 3},
        [],
    )


class Stamped(OcppModel):
    """A model with a date-time, as the generated models have them."""

    timestamp: DateTime
    until: Opt[DateTime] = None


def test_a_date_time_without_a_time_zone_is_read_as_utc() -> None:
    """Growatt sends timestamps without a time zone (charger-quirks.md); lenient mode reads them as UTC."""
    payload = {"timestamp": "2026-05-01T10:00:00", "until": "2026-05-01T11:00:00.5+02:00"}
    repaired, violations = repair(Stamped, payload)
    assert repaired == {"timestamp": "2026-05-01T10:00:00+00:00", "until": "2026-05-01T11:00:00.5+02:00"}
    assert kinds(violations) == [("timestamp", ViolationKind.TIMEZONE_MISSING)]
    assert Stamped.model_validate_json(orjson.dumps(repaired)).timestamp == datetime(2026, 5, 1, 10, tzinfo=UTC)
    assert repair(Stamped, {"timestamp": "yesterday"}) == ({"timestamp": "yesterday"}, [])
    assert repair(Stamped, {"timestamp": 5}) == ({"timestamp": 5}, [])
