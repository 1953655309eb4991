"""Translated errors: every HomeAssistantError the integration raises is built here.

Placeholders carry station ids, OCPP action names, statuses, reason codes and numbers, never English text from an
exception. `translated_errors(station_id)` turns what the HA-free core raises into them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from pydantic import ValidationError

from .charging.profiles import ProfileError, ProfileProblem
from .const import DOMAIN
from .csms.central_system import PasswordRotationError
from .protocol.errors import RpcErrorCode
from .protocol.session import CallErrorResponse, CallFailed, CallTimeout, InvalidResponse

#: Profiles that cannot be built because of the station's state; the other problems are in what the user asked.
#: The CALLERRORs of a station that does not implement what it was asked for.
NOT_IMPLEMENTED_CODES = frozenset({RpcErrorCode.NOT_IMPLEMENTED, RpcErrorCode.NOT_SUPPORTED})

STATION_PROFILE_PROBLEMS = frozenset(
    {
        ProfileProblem.INVALID_TARGET,
        ProfileProblem.TRANSACTION_REQUIRED,
        ProfileProblem.STACK_LEVEL_CONFLICT,
        ProfileProblem.PROFILE_LIMIT_REACHED,
        ProfileProblem.IDS_EXHAUSTED,
    }
)


def station_error(key: str, station_id: str, **placeholders: str) -> HomeAssistantError:
    """A translated error about a station: it refused, failed or is away."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders={"station": station_id, **placeholders},
    )


def user_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about what the user asked for."""
    return ServiceValidationError(
        translation_domain=DOMAIN, translation_key=key, translation_placeholders=placeholders or None
    )


def not_connected(station_id: str) -> HomeAssistantError:
    """The station is not connected."""
    return station_error("station_not_connected", station_id)


def refused(station_id: str, action: str, status: str) -> HomeAssistantError:
    """The station answered `action` with a refusal (`status`, an OCPP status such as Rejected)."""
    return station_error("command_refused", station_id, command=action, status=status)


def report_incomplete(station_id: str, action: str) -> HomeAssistantError:
    """The station accepted a request whose result comes in parts, but not every part arrived in time."""
    return station_error("report_incomplete", station_id, action=action)


def transfer_protocol_unsupported(station_id: str, protocol: str, supported: tuple[str, ...]) -> ServiceValidationError:
    """The station does not download or upload with the URL's protocol (FileTransferProtocols)."""
    return user_error(
        "transfer_protocol_unsupported", station=station_id, protocol=protocol, supported=", ".join(supported)
    )


def call_failed(station_id: str, err: CallFailed) -> HomeAssistantError:
    """A CALL the station did not answer with a valid response."""
    if isinstance(err, CallTimeout):
        return station_error("station_timeout", station_id, action=err.action, seconds=f"{err.timeout:g}")
    if isinstance(err, CallErrorResponse):
        return station_error("station_error", station_id, action=err.action, code=err.raw_code)
    if isinstance(err, InvalidResponse):
        return station_error("station_invalid_response", station_id, action=err.action, code=err.code.value)
    return not_connected(station_id)  # SessionClosed: the connection went before the answer came


def invalid_request(err: ValidationError) -> ServiceValidationError:
    """What the user gave does not fit the OCPP message (a length or format the schema did not catch)."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "-"
    return user_error("invalid_request", field=field, problem=first["type"])


def invalid_payload(action: str, err: ValidationError) -> ServiceValidationError:
    """A payload given for `action` is no valid request of it: where the first problem is, and its kind."""
    first = err.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "-"
    return user_error("invalid_payload", action=action, field=field, problem=first["type"])


@contextmanager
def translated_errors(station_id: str) -> Iterator[None]:
    """Raise what the HA-free core raises about `station_id` as translated Home Assistant errors."""
    try:
        yield
    except CallFailed as err:
        raise call_failed(station_id, err) from err
    except ProfileError as err:
        if err.reason in STATION_PROFILE_PROBLEMS:
            raise station_error(f"profile_{err.reason}", station_id, **err.placeholders) from err
        raise user_error(f"profile_{err.reason}", station=station_id, **err.placeholders) from err
    except PasswordRotationError as err:
        raise station_error("password_rejected", station_id, status=err.status) from err
    except ValidationError as err:
        raise invalid_request(err) from err
