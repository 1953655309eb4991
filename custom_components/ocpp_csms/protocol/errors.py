"""RPC framework error codes (OCPP-J, Part 4 §4.3) and the exception that carries one."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

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
