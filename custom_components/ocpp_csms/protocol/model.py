"""The base of every OCPP payload model: snake_case in Python, the spec's camelCase on the wire.

Payloads are validated from JSON text in strict mode (`Model.model_validate_json(data)`): a JSON type other than
the schema's is an error (`"5"` is no integer, `1` no string), while enums and date-times are read from their
JSON strings as usual. Python code constructs models by field name, the wire uses the camelCase names.

One leniency remains that pydantic-core does not let us refuse cheaply: a payload using a field's Python name
(`vendor_name` for `vendorName`) is read as if it used the wire name, where the schemas would see an unknown
property. Everything we send uses the wire names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, GetCoreSchemaHandler, PlainSerializer
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, core_schema, to_json

_T = TypeVar("_T")


class _NeverNullInJson:
    """Marks an optional field: absent or a value on the wire, never `null` (Part 4 §4.1.5 forbids it).

    In Python the field is `None` when absent. Validating JSON, `null` fails like any other wrong type, so the
    models agree with the official schemas, which have no null type. The check lives in pydantic-core: the
    field's JSON validator is simply the non-nullable one.
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        not_null = schema["schema"] if schema["type"] == "nullable" else schema
        return core_schema.json_or_python_schema(json_schema=not_null, python_schema=schema)


Opt = Annotated[_T | None, _NeverNullInJson()]
"""An optional field: `field: Opt[int] = None` is an `int | None` that JSON cannot set to `null`."""


def format_date_time(moment: datetime) -> str:
    """An OCPP dateTime: RFC 3339 with at most three decimal places (Part 2, primitive datatypes).

    `2026-11-30T23:39:25.708Z` (milliseconds when there are any, UTC as `Z`), `2026-11-30T23:39:25+01:00`.
    """
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


DateTime = Annotated[AwareDatetime, PlainSerializer(format_date_time, return_type=str, when_used="json")]
"""A date and time with its zone; sent as `format_date_time` writes it, read as any RFC 3339 date-time."""


class OcppModel(BaseModel):
    """A typed OCPP payload (request, response or datatype).

    Absent optional fields are omitted when serialised: the spec forbids `null` for them.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        strict=True,
        allow_inf_nan=False,  # pydantic's JSON reader takes NaN and Infinity, which are not JSON
        use_enum_values=False,
    )

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready payload, wire names, unset optionals left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def to_json(self) -> bytes:
        """The payload as compact JSON bytes, as `to_payload()` would serialise."""
        return self.__pydantic_serializer__.to_json(self, by_alias=True, exclude_none=True)

    @classmethod
    def from_payload(cls, payload: Any) -> Self:
        """Validate a decoded JSON payload (raises pydantic.ValidationError).

        Goes through JSON so that the rules are those of the wire (strict types, enums and date-times read
        from strings).
        """
        return cls.model_validate_json(to_json(payload))
