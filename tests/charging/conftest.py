"""Fixtures of the smart charging tests: no Home Assistant, the official SetChargingProfileRequest schema."""

from __future__ import annotations

from datetime import UTC, datetime
import importlib.util
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator
import pytest

from custom_components.ocpp_csms.protocol.model import OcppModel

NOW = datetime(2025, 3, 12, 14, 30, 15, tzinfo=UTC)
"""A Wednesday afternoon."""


def _schema_dir() -> Path:
    spec = importlib.util.find_spec("ocpp")
    assert spec is not None, "the ocpp package (test oracle) is not installed"
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "v201" / "schemas"


def _validator(name: str) -> Draft6Validator:
    schema = json.loads((_schema_dir() / f"{name}.json").read_text(encoding="utf-8"))
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


_VALIDATORS = {name: _validator(name) for name in ("SetChargingProfileRequest", "ClearChargingProfileRequest")}


def assert_schema_valid(request: OcppModel) -> dict[str, Any]:
    """The request's payload, after checking it against the official JSON schema of its message."""
    payload = request.to_payload()
    errors = [error.message for error in _VALIDATORS[type(request).__name__].iter_errors(payload)]
    assert errors == [], errors
    return payload


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the suite-wide fixture: these HA-free tests need no Home Assistant instance."""
