"""HTTP Basic authentication on the websocket upgrade request (RFC 7617; Part 2 A00.FR.202-207 and .301-304).

Security profiles 1 and 2: the station sends `Authorization: Basic base64(<identity>:<password>)` with every
connection request; the username must be the station identity from the connection URL and the password is
sent as UTF-8 (A00.FR.205). Everything here is cheap and safe to call on the event loop.
"""

from __future__ import annotations

import base64
import hmac
from typing import Final, NamedTuple

#: Far above any legitimate header (identity 48 characters, password 64): longer values are not decoded at all.
MAX_HEADER_LENGTH: Final = 1024


class BasicCredentials(NamedTuple):
    """The username and password of an HTTP Basic Authorization header."""

    username: str
    password: str


def _has_control_characters(text: str) -> bool:
    # RFC 7617 §2: user-id and password contain no control characters.
    return any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text)


def parse_basic_auth(header: str | None) -> BasicCredentials | None:
    """The credentials of an `Authorization` header value, or None unless it is well-formed HTTP Basic.

    Strict: the scheme is `Basic` (any case) followed by one base64 token with correct padding and nothing
    else; the decoded bytes are UTF-8; they are split at the FIRST colon (the identity may not contain one,
    Part 4 §3.1.1, the password may); neither part is empty or contains control characters.
    """
    if not header or len(header) > MAX_HEADER_LENGTH:
        return None
    scheme, _, token = header.strip(" \t").partition(" ")
    token = token.lstrip(" ")
    if scheme.lower() != "basic" or not token or not token.isascii():
        return None
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except ValueError:  # binascii.Error (bad base64) and UnicodeDecodeError are both ValueErrors
        return None
    username, colon, password = decoded.partition(":")
    if not colon or not username or not password:
        return None
    if _has_control_characters(username) or _has_control_characters(password):
        return None
    return BasicCredentials(username, password)


def station_password(header: str | None, station_id: str) -> str | None:
    """The password a station presents, or None unless the header is valid Basic auth for `station_id`.

    The username must equal the station identity of the connection URL (A00.FR.204, A00.FR.303), compared
    exactly (case-sensitive). Checking the password against the stored hash is the caller's next step
    (A00.FR.207, A00.FR.324).
    """
    credentials = parse_basic_auth(header)
    if credentials is None:
        return None
    if not hmac.compare_digest(credentials.username.encode("utf-8"), station_id.encode("utf-8", "surrogatepass")):
        return None
    return credentials.password


def basic_auth_header(username: str, password: str) -> str:
    """The `Authorization` header value a station sends (for simulators and tests)."""
    if ":" in username:
        raise ValueError("an HTTP Basic username cannot contain ':'")
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
