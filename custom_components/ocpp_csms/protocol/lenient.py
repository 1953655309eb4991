"""Lenient mode: repair payloads from chargers that bend the schema, and say what was bent.

Used only after a payload failed strict validation, so it costs nothing on the fast path. `repair` walks the
decoded payload along the model's fields and fixes what can be understood unambiguously:

- unknown fields are dropped, a field name in the wrong case is renamed (`connectorid` → `connectorId`);
- `null` for an optional field is dropped (Part 4 §4.1.5 forbids it);
- enum values in the wrong case (`"accepted"` → `"Accepted"`);
- numbers sent as strings (`"16.0"` for a decimal, `"5"` or `"5.0"` for an integer), integral floats for an
  integer (`5.0`), numbers for a string (`12345` for an id), `"true"`/`"false"` for a boolean;
- a single object where the schema wants an array of them;
- a date-time without a time zone (`2026-05-01T10:00:00`, seen from Growatt), read as UTC.

The repaired payload is validated again, strictly; whatever is still wrong is reported as usual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from functools import cache
import math
import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel


class ViolationKind(StrEnum):
    """What a repair fixed."""

    UNKNOWN_FIELD = "unknown_field"
    FIELD_NAME_CASE = "field_name_case"
    NULL_VALUE = "null_value"
    ENUM_CASE = "enum_case"
    NUMBER_AS_STRING = "number_as_string"
    FLOAT_FOR_INTEGER = "float_for_integer"
    NUMBER_FOR_STRING = "number_for_string"
    BOOLEAN_AS_STRING = "boolean_as_string"
    OBJECT_FOR_ARRAY = "object_for_array"
    TIMEZONE_MISSING = "timezone_missing"


@dataclass(frozen=True, slots=True)
class Violation:
    """One schema violation that was repaired: where (wire path, e.g. `evse.connectorId`), what, and how."""

    path: str
    kind: ViolationKind
    detail: str


def repair(model: type[BaseModel], payload: Any) -> tuple[Any, list[Violation]]:
    """Return the payload with what could be understood repaired, and the list of repairs made.

    The input is not modified. A payload that is not a JSON object is returned as it is.
    """
    violations: list[Violation] = []
    return _repair_model(model, payload, "", violations), violations


@dataclass(frozen=True, slots=True)
class _Field:
    alias: str
    annotation: Any
    required: bool


@dataclass(frozen=True, slots=True)
class _ModelPlan:
    fields: dict[str, _Field]  # by wire name
    folded: dict[str, str]  # casefolded wire name (and Python name) -> wire name
    extra_allowed: bool


@cache
def _plan(model: type[BaseModel]) -> _ModelPlan:
    fields: dict[str, _Field] = {}
    folded: dict[str, str] = {}
    for name, info in model.model_fields.items():
        alias = info.validation_alias if isinstance(info.validation_alias, str) else (info.alias or name)
        fields[alias] = _Field(alias, info.annotation, info.is_required())
        folded[alias.casefold()] = alias
        folded.setdefault(name.casefold(), alias)
    return _ModelPlan(fields, folded, model.model_config.get("extra") == "allow")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _repair_model(model: type[BaseModel], payload: Any, path: str, out: list[Violation]) -> Any:
    if not isinstance(payload, dict):
        return payload
    plan = _plan(model)
    repaired: dict[str, Any] = {}
    for key, value in payload.items():
        field = plan.fields.get(key)
        if field is None:
            wire = plan.folded.get(key.casefold()) or plan.folded.get(key.replace("_", "").casefold())
            if wire is None or wire in payload or wire in repaired:
                if plan.extra_allowed:
                    repaired[key] = value
                else:
                    out.append(Violation(_join(path, key), ViolationKind.UNKNOWN_FIELD, "dropped"))
                continue
            out.append(Violation(_join(path, key), ViolationKind.FIELD_NAME_CASE, f"renamed to {wire}"))
            field = plan.fields[wire]
        where = _join(path, field.alias)
        if value is None and not field.required:
            out.append(Violation(where, ViolationKind.NULL_VALUE, "null for an optional field, dropped"))
            continue
        repaired[field.alias] = _repair_value(field.annotation, value, where, out)
    return repaired


def _repair_value(annotation: Any, value: Any, path: str, out: list[Violation]) -> Any:
    origin = get_origin(annotation)
    if origin is Annotated:
        return _repair_value(get_args(annotation)[0], value, path, out)
    if origin is Union or origin is types.UnionType:
        arms = [arm for arm in get_args(annotation) if arm is not type(None)]
        return _repair_value(arms[0], value, path, out) if len(arms) == 1 else value
    if origin is list:
        (item,) = get_args(annotation) or (Any,)
        if isinstance(value, list):
            return [_repair_value(item, element, f"{path}[{i}]", out) for i, element in enumerate(value)]
        if isinstance(value, dict) and _is_model(_unwrap(item)):
            out.append(Violation(path, ViolationKind.OBJECT_FOR_ARRAY, "single object wrapped in an array"))
            return [_repair_value(item, value, f"{path}[0]", out)]
        return value
    if not isinstance(annotation, type):
        return value
    if issubclass(annotation, BaseModel):
        return _repair_model(annotation, value, path, out)
    if issubclass(annotation, Enum):
        return _repair_enum(annotation, value, path, out)
    if annotation is bool:
        if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
            out.append(Violation(path, ViolationKind.BOOLEAN_AS_STRING, f"{value!r}"))
            return value.strip().lower() == "true"
        return value
    if annotation is int:
        return _repair_int(value, path, out)
    if annotation is AwareDatetime:
        return _repair_date_time(value, path, out)
    if annotation is float or annotation is Decimal:
        number = _number(value) if isinstance(value, str) else None
        if number is not None:
            out.append(Violation(path, ViolationKind.NUMBER_AS_STRING, f"{value!r}"))
            return number
        return value
    if annotation is str and isinstance(value, int | float) and not isinstance(value, bool):
        out.append(Violation(path, ViolationKind.NUMBER_FOR_STRING, f"{value!r}"))
        return str(value)
    return value


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _repair_enum(enum: type[Enum], value: Any, path: str, out: list[Violation]) -> Any:
    if not isinstance(value, str):
        return value
    wanted = value.strip().casefold()
    for member in enum:
        if isinstance(member.value, str) and member.value.casefold() == wanted:
            if member.value != value:
                out.append(Violation(path, ViolationKind.ENUM_CASE, f"{value!r} read as {member.value!r}"))
            return member.value
    return value


def _number(text: str) -> int | float | None:
    """The number a string holds (int when it has no fraction or exponent), or None."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _repair_int(value: Any, path: str, out: list[Violation]) -> Any:
    if isinstance(value, str):
        number = _number(value)
        if isinstance(number, int) or (isinstance(number, float) and number.is_integer()):
            out.append(Violation(path, ViolationKind.NUMBER_AS_STRING, f"{value!r}"))
            return int(number)
        return value
    if isinstance(value, float) and value.is_integer():
        out.append(Violation(path, ViolationKind.FLOAT_FOR_INTEGER, f"{value!r}"))
        return int(value)
    return value


def _repair_date_time(value: Any, path: str, out: list[Violation]) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return value
    if moment.tzinfo is not None:
        return value
    out.append(Violation(path, ViolationKind.TIMEZONE_MISSING, f"{value!r} read as UTC"))
    return moment.replace(tzinfo=UTC).isoformat()
