"""RPC framework error codes (OCPP-J, Part 4 §4.3), the exception that carries one, and payload validation.

`error_code_for` and `error_description` turn a pydantic ValidationError into the CALLERROR to answer.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

#: ErrorDescription is a string[255] (Part 4 §4.2.3).
MAX_DESCRIPTION_LENGTH = 255


class RpcErrorCode(StrEnum):
    """The errorCode of a CALLERROR, exactly as Part 4 §4.3 lists them."""

    FORMAT_VIOLATION = "FormatViolation"
    GENERIC_ERROR = "GenericError"
    INTERNAL_ERROR = "InternalError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    PROTOCOL_ERROR = "ProtocolError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    SECURITY_ERROR = "SecurityError"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"


class OcppError(Exception):
    """An error that becomes (or came from) a CALLERROR frame."""

    def __init__(self, code: RpcErrorCode, description: str = "", details: dict[str, Any] | None = None) -> None:
        """Keep the code, a description cut to the spec's 255 characters, and the details object."""
        super().__init__(f"{code}: {description}" if description else str(code))
        self.code = code
        self.description = description[:MAX_DESCRIPTION_LENGTH]
        self.details: dict[str, Any] = details or {}


# ---- classifying payload validation failures ---------------------------------------------------------------

#: pydantic error types and the CALLERROR code each one calls for (see `error_code_for`).
_CODES: dict[str, RpcErrorCode] = {
    error_type: code
    for code, error_types in (
        (RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, ("missing", "too_short", "too_long")),
        (
            RpcErrorCode.TYPE_CONSTRAINT_VIOLATION,
            (
                "string_too_long",
                "string_too_short",
                "int_from_float",
                "int_parsing",
                "int_parsing_size",
                "float_parsing",
                "bool_parsing",
                "finite_number",
            ),
        ),
        (
            RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            (
                "enum",
                "literal_error",
                "greater_than",
                "greater_than_equal",
                "less_than",
                "less_than_equal",
                "multiple_of",
            ),
        ),
        (RpcErrorCode.PROTOCOL_ERROR, ("extra_forbidden", "unexpected_keyword_argument")),
        (
            RpcErrorCode.FORMAT_VIOLATION,
            (
                "json_invalid",
                "json_type",
                "datetime_parsing",
                "datetime_from_date_parsing",
                "datetime_object_invalid",
                "timezone_aware",
                "timezone_naive",
            ),
        ),
    )
    for error_type in error_types
}
#: Reported at the top (empty location) these say the payload is not a JSON object at all.
_NOT_AN_OBJECT = frozenset({"model_type", "model_attributes_type", "dict_type"})


def _code_for_error(error: ErrorDetails) -> RpcErrorCode:
    kind = error["type"]
    if not error["loc"] and kind in _NOT_AN_OBJECT:
        return RpcErrorCode.FORMAT_VIOLATION
    if kind == "enum" and not isinstance(error.get("input"), str):
        return RpcErrorCode.TYPE_CONSTRAINT_VIOLATION  # a number, object, null... where an enum string is due
    code = _CODES.get(kind)
    if code is None:  # the `*_type` family: wrong JSON type; anything else: the payload does not conform
        code = RpcErrorCode.TYPE_CONSTRAINT_VIOLATION if kind.endswith("_type") else RpcErrorCode.FORMAT_VIOLATION
    return code


def error_code_for(exc: ValidationError) -> RpcErrorCode:
    """The CALLERROR code for a payload that failed validation (Part 4 §4.3).

    The table's codes, read against what can go wrong in a payload:

    - OccurrenceConstraintViolation: a field occurs too few or too many times, i.e. a required field is
      missing, or an array has fewer items than its minimum or more than its maximum (cardinality).
    - TypeConstraintViolation: a field does not have its datatype: a JSON type other than the schema's (a
      string where an integer is due, `null` for an optional field, a number where an enum string is due), or
      a string longer than its `string[N]` datatype allows (the length is part of the datatype).
    - PropertyConstraintViolation: the field has the right type but a value its property does not allow: a
      string outside the enumeration, a number outside its minimum/maximum.
    - ProtocolError: an unknown property: the object does not have the structure the PDU defines.
    - FormatViolation: the payload is not JSON, not a JSON object, or a date-time string is not RFC 3339
      (a format, not a type: it is a valid string). Also what pydantic reports that fits nothing above.

    Several errors in one payload: the code of the first one pydantic reports. For each object it reports the
    unknown properties first, then the fields in the model's order, depth first: the answer does not depend
    on the order of the payload's keys.
    """
    errors = exc.errors(include_url=False, include_context=False)
    return _code_for_error(errors[0]) if errors else RpcErrorCode.FORMAT_VIOLATION


def _path(loc: tuple[int | str, ...]) -> str:
    """A wire path such as `meterValue[0].sampledValue[2].value`."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def error_description(exc: ValidationError) -> str:
    """A short ErrorDescription (at most 255 characters) naming where the first error is and what it is.

    E.g. "chargingStation.model: String should have at most 20 characters (and 1 more error)".
    """
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    if not errors:
        return "Payload is not valid"
    first = errors[0]
    path = _path(first["loc"])
    text = f"{path}: {first['msg']}" if path else first["msg"]
    if len(errors) > 1:
        text += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
    if len(text) > MAX_DESCRIPTION_LENGTH:
        text = text[: MAX_DESCRIPTION_LENGTH - 3] + "..."
    return text
