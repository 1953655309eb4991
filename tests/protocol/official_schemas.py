"""The official OCPP 2.0.1 JSON schemas (shipped in the `ocpp` package), the oracle of the conformance tests."""

from __future__ import annotations

from functools import cache
import importlib.util
import json
from pathlib import Path
import re
from typing import Any

from jsonschema import Draft6Validator

from custom_components.ocpp_csms.protocol.model import OcppModel
from custom_components.ocpp_csms.protocol.v201.messages import ACTIONS


def _schema_dir() -> Path:
    spec = importlib.util.find_spec("ocpp")
    assert spec is not None, "the ocpp package (test oracle) is not installed"
    assert spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "v201" / "schemas"


SCHEMA_DIR = _schema_dir()
#: "BootNotificationRequest", ... one per schema file, sorted.
SCHEMA_NAMES = sorted(path.stem for path in SCHEMA_DIR.glob("*.json"))


@cache
def schema(name: str) -> dict[str, Any]:
    """The official schema of a request or response, e.g. "BootNotificationRequest"."""
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return loaded


@cache
def validator(name: str) -> Draft6Validator:
    """A draft-06 validator of the schema that also checks date-time formats (RFC 3339)."""
    return Draft6Validator(schema(name), format_checker=Draft6Validator.FORMAT_CHECKER)


def model(name: str) -> type[OcppModel]:
    """Our model of a schema: ACTIONS["BootNotification"].request for "BootNotificationRequest"."""
    match = re.fullmatch(r"(\w+?)(Request|Response)", name)
    assert match, name
    spec = ACTIONS[match[1]]
    return spec.request if match[2] == "Request" else spec.response


def resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its `$ref` (always `#/definitions/...` in these schemas) followed."""
    while "$ref" in node:
        node = root["definitions"][node["$ref"].removeprefix("#/definitions/")]
    return node
