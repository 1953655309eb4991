"""The base of every OCPP payload model: snake_case in Python, the spec's camelCase on the wire."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class OcppModel(BaseModel):
    """A typed OCPP payload (request, response or datatype).

    Absent optional fields are omitted when serialised: the spec forbids `null` for them.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
        use_enum_values=False,
    )

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready payload, wire names, unset optionals left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @classmethod
    def from_payload(cls, payload: Any) -> Self:
        """Validate a decoded JSON payload (raises pydantic.ValidationError)."""
        return cls.model_validate(payload, by_alias=True)
