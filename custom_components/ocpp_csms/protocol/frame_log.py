"""The OCPP-J messages of every station, in and out, on an opt-in logger, with every secret redacted.

`FRAMES` is the logger `ocpp_csms.frames`. It lies outside the integration's `custom_components.ocpp_csms`
hierarchy, and its level is INFO unless someone set one before this module was imported: neither the
integration's debug logging nor a DEBUG root logger turns it on, only setting `ocpp_csms.frames` itself to debug
does. It then logs one line per message: `<station id> < <message>` for a message received, `>` for one sent.

Callers check `FRAMES.isEnabledFor(logging.DEBUG)` before calling `redact_frame`, so that a message costs
nothing when the logger is off.

What is redacted (replaced by `REDACTED`), wherever it is in a message, whatever the case of the field names:

- the value of a variable whose name ends in "Password" (SecurityCtrlr.BasicAuthPassword, A01): `attributeValue`
  (SetVariables, GetVariables), `actualValue` (NotifyEvent) and `variableAttribute[].value` (NotifyReport);
- every field whose name ends in "password" (`apnPassword`, the VPN's `password`), and the VPN's `key`
  (SetNetworkProfile);
- any string that contains a secret the caller knows (e.g. a password this central system sent and the station
  echoes in a CALLERROR description).

A message that mentions a secret but is not readable JSON is withheld whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
import logging
import re
from typing import Any, Final

import orjson

from .frames import RawJson

FRAMES_LOGGER: Final = "ocpp_csms.frames"
FRAMES: Final = logging.getLogger(FRAMES_LOGGER)
if FRAMES.level == logging.NOTSET:
    # Silent unless asked for by name: a DEBUG root (Home Assistant's `logger: default: debug`) does not enable it.
    FRAMES.setLevel(logging.INFO)

#: What replaces a secret (the marker Home Assistant's diagnostics use too).
REDACTED: Final = "**REDACTED**"
RECEIVED: Final = "<"
SENT: Final = ">"

#: Every message holding a secret matches: a field or variable name with "password" or "vpn" in it, or a JSON
#: \u escape (which could spell such a name). Messages that do not match are logged as they are.
_HINT: Final = re.compile(r"password|vpn|\\u", re.IGNORECASE)
_HINT_BYTES: Final = re.compile(rb"password|vpn|\\u", re.IGNORECASE)
_SECRET_SUFFIX: Final = "password"
#: The value fields of an object that names its variable (SetVariableData, GetVariableResult, EventData).
_VALUE_FIELDS: Final = frozenset({"attributevalue", "actualvalue"})
_VPN_SECRETS: Final = frozenset({"password", "key"})


def redact_frame(message: RawJson, echoed: Collection[str] = ()) -> str:
    """The message as text for a log line, every secret replaced by REDACTED; `echoed` are secrets we sent."""
    text = message.decode("utf-8", "backslashreplace") if isinstance(message, bytes) else message
    if not echoed and _HINT.search(text) is None:
        return text
    try:
        redacted = _redact(orjson.loads(text), "", [], in_vpn=False)
        secrets = tuple(secret for secret in echoed if secret)
        return orjson.dumps(_scrub(redacted, secrets) if secrets else redacted).decode()
    except orjson.JSONDecodeError, orjson.JSONEncodeError, RecursionError:  # not JSON, or nested too deep
        return f"<{len(text)} characters withheld: not readable as JSON, and may hold a secret>"


def holds_secret(message: RawJson) -> bool:
    """Whether a JSON message holds a secret; True also when it may and is not readable."""
    if (_HINT.search(message) if isinstance(message, str) else _HINT_BYTES.search(message)) is None:
        return False
    found: list[tuple[str, Any]] = []
    try:
        _redact(orjson.loads(message), "", found, in_vpn=False)
    except orjson.JSONDecodeError, RecursionError:
        return True
    return bool(found)


def secret_paths(payload: Any) -> list[str]:
    """Where a decoded JSON payload holds secrets, named as lenient mode does (`setVariableData[0].attributeValue`)."""
    found: list[tuple[str, Any]] = []
    _redact(payload, "", found, in_vpn=False)
    return [path for path, _ in found]


def secret_values(payload: bytes) -> frozenset[str]:
    """The secrets (strings, or numbers as text) a JSON payload holds: what a station might echo back."""
    if _HINT_BYTES.search(payload) is None:
        return frozenset()
    found: list[tuple[str, Any]] = []
    try:
        _redact(orjson.loads(payload), "", found, in_vpn=False)
    except orjson.JSONDecodeError, RecursionError:
        return frozenset()
    values = (str(value) for _, value in found if isinstance(value, str | int | float) and not isinstance(value, bool))
    return frozenset(value for value in values if value)


def scrub_text(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of each secret replaced by REDACTED."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def scrub_value(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of a decoded JSON value whose strings have every occurrence of each secret replaced by REDACTED.

    A value nested too deep to look through is replaced whole.
    """
    secrets = tuple(secret for secret in secrets if secret)
    if not secrets:
        return value
    try:
        return _scrub(value, secrets)
    except RecursionError:
        return REDACTED


def scrub_json(payload: RawJson, secrets: Iterable[str]) -> RawJson:
    """JSON text with every occurrence of each secret in its strings replaced.

    Text that is not JSON, or nested too deep to decode and encode again, has the secrets replaced in the text
    itself.
    """
    secrets = tuple(secret for secret in secrets if secret)
    if not secrets:
        return payload
    try:
        return orjson.dumps(_scrub(orjson.loads(payload), secrets))
    except orjson.JSONDecodeError, orjson.JSONEncodeError, RecursionError:
        text = payload.decode("utf-8", "backslashreplace") if isinstance(payload, bytes) else payload
        return scrub_text(text, secrets)


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, secrets)
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    return value


def _redact(value: Any, path: str, found: list[tuple[str, Any]], *, in_vpn: bool) -> Any:
    """A copy of `value` with its secrets redacted; appends (path, original value) of each to `found`."""
    if isinstance(value, list):
        return [_redact(item, f"{path}[{index}]", found, in_vpn=False) for index, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    names_secret = _names_secret_variable(value)
    redacted: dict[str, Any] = {}
    for key, item in value.items():
        folded = key.casefold()
        where = f"{path}.{key}" if path else key
        if (
            folded.endswith(_SECRET_SUFFIX)
            or (names_secret and folded in _VALUE_FIELDS)
            or (in_vpn and folded in _VPN_SECRETS)
        ):
            found.append((where, item))
            redacted[key] = REDACTED
        elif names_secret and folded == "variableattribute":
            redacted[key] = _redact_attributes(item, where, found)
        else:
            redacted[key] = _redact(item, where, found, in_vpn=folded == "vpn")
    return redacted


def _redact_attributes(attributes: Any, path: str, found: list[tuple[str, Any]]) -> Any:
    """`variableAttribute` of a secret variable: an array of attributes (or, bent, a single one, or a bare value)."""
    if isinstance(attributes, list):
        return [_redact_attributes(item, f"{path}[{index}]", found) for index, item in enumerate(attributes)]
    if not isinstance(attributes, dict):  # no attribute object: it may be the value itself
        found.append((path, attributes))
        return REDACTED
    redacted: dict[str, Any] = {}
    for key, item in attributes.items():
        where = f"{path}.{key}"
        if key.casefold() == "value":
            found.append((where, item))
            redacted[key] = REDACTED
        else:
            redacted[key] = _redact(item, where, found, in_vpn=False)
    return redacted


def _names_secret_variable(value: dict[str, Any]) -> bool:
    """Whether the object is about a variable whose name ends in "Password" (`"variable": {"name": ...}`)."""
    for key, item in value.items():
        if key.casefold() == "variable" and isinstance(item, dict):
            for name_key, name in item.items():
                if name_key.casefold() == "name" and isinstance(name, str):
                    return name.casefold().endswith(_SECRET_SUFFIX)
    return False
