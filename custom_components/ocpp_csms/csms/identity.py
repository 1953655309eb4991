"""A station's identity: the last segment of the websocket URL path (Part 4 §3.2)."""

from __future__ import annotations

from typing import Final
from urllib.parse import unquote, urlsplit

#: identifierString[48] (Part 2 §2.2 "Primitive datatypes"; Part 4 §3.2).
MAX_IDENTITY_LENGTH: Final = 48


def station_id_from_path(path: str) -> str | None:
    """The station identity a connection names, or None when the path names none that is valid.

    Any path prefix is accepted (`/ocpp/CP-1` and `/CP-1` both name `CP-1`); the segment is percent-decoded.
    The identity may be at most 48 characters and may not contain `:` (it is the HTTP Basic username, A00.FR.202).
    """
    segment = urlsplit(path).path.rstrip("/").rpartition("/")[2]
    try:
        identity = unquote(segment, errors="strict") if "%" in segment else segment
    except UnicodeDecodeError:
        return None
    if not identity or len(identity) > MAX_IDENTITY_LENGTH or ":" in identity:
        return None
    if not identity.isprintable() or identity != identity.strip():
        return None
    return identity
