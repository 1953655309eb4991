"""HTTP Basic auth on the upgrade request (A00.FR.202-207, A00.FR.301-304, A00.FR.324; RFC 7617)."""

from __future__ import annotations

import asyncio
import base64
from http import HTTPStatus

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Request, Response

from custom_components.ocpp_csms.csms.basic_auth import (
    MAX_HEADER_LENGTH,
    BasicCredentials,
    basic_auth_header,
    parse_basic_auth,
    station_password,
)
from custom_components.ocpp_csms.csms.passwords import PasswordVerifier, hash_password

PASSWORD = "s3cret-Pass:word-0123"


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("Basic " + b64(b"CS001:" + PASSWORD.encode()), ("CS001", PASSWORD), id="good"),
        pytest.param("basic " + b64(b"CS001:abcdefghijklmnop"), ("CS001", "abcdefghijklmnop"), id="scheme-lowercase"),
        pytest.param("BASIC " + b64(b"CS001:abcdefghijklmnop"), ("CS001", "abcdefghijklmnop"), id="scheme-uppercase"),
        pytest.param("Basic   " + b64(b"CS001:abcdefghijklmnop"), ("CS001", "abcdefghijklmnop"), id="extra-spaces"),
        pytest.param("Basic " + b64(b"CS001:a:b:c"), ("CS001", "a:b:c"), id="colon-in-password-first-colon-splits"),
        pytest.param("Basic " + b64("RDAM 123:pässwörd".encode()), ("RDAM 123", "pässwörd"), id="utf8-a00-fr-205"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("Basic", None, id="scheme-only"),
        pytest.param("Basic ", None, id="empty-token"),
        pytest.param("Bearer " + b64(b"CS001:pw"), None, id="wrong-scheme-bearer"),
        pytest.param("Digest username=CS001", None, id="wrong-scheme-digest"),
        pytest.param(b64(b"CS001:pw"), None, id="no-scheme"),
        pytest.param("Basic !!!notbase64!!!", None, id="bad-base64"),
        pytest.param("Basic " + b64(b"CS001:password1")[:-1], None, id="bad-padding"),
        pytest.param("Basic Q1MwMDE6 cGFzc3dvcmQ=", None, id="space-inside-token"),
        pytest.param("Basic " + b64(b"CS001password"), None, id="no-colon"),
        pytest.param("Basic " + b64(b":password"), None, id="empty-username"),
        pytest.param("Basic " + b64(b"CS001:"), None, id="empty-password"),
        pytest.param("Basic " + b64(b"CS001:\xff\xfepassword"), None, id="non-utf8"),
        pytest.param("Basic " + b64(b"CS001:pass\nword"), None, id="control-character"),
        pytest.param("Basic " + b64(b"CS\x00001:password"), None, id="nul-in-username"),
        pytest.param("Basic " + "QUFB" * (MAX_HEADER_LENGTH // 4), None, id="oversized"),
        pytest.param("Basic Q1MwMDE6cGFzc3dvcmQ\u00e9", None, id="non-ascii-token"),
    ],
)
def test_parse_basic_auth(header: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_basic_auth(header) == expected


def test_parse_returns_named_credentials() -> None:
    credentials = parse_basic_auth(basic_auth_header("CS001", PASSWORD))
    assert isinstance(credentials, BasicCredentials)
    assert credentials.username == "CS001"
    assert credentials.password == PASSWORD


@pytest.mark.parametrize(
    ("header", "station_id", "expected"),
    [
        pytest.param(basic_auth_header("CS001", PASSWORD), "CS001", PASSWORD, id="username-is-identity"),
        pytest.param(basic_auth_header("CS002", PASSWORD), "CS001", None, id="username-is-another-station"),
        pytest.param(basic_auth_header("cs001", PASSWORD), "CS001", None, id="username-differs-in-case"),
        pytest.param(basic_auth_header("CS001 ", PASSWORD), "CS001", None, id="username-trailing-space"),
        pytest.param(basic_auth_header("RDAM 123", PASSWORD), "RDAM 123", PASSWORD, id="identity-with-space"),
        pytest.param("Basic garbage", "CS001", None, id="garbage"),
        pytest.param(None, "CS001", None, id="absent-a00-fr-203"),
    ],
)
def test_a00_fr_204_username_must_be_the_station_identity(
    header: str | None, station_id: str, expected: str | None
) -> None:
    assert station_password(header, station_id) == expected


def test_basic_auth_header_round_trips_and_refuses_colon_in_username() -> None:
    assert basic_auth_header("CS001", "a:b") == "Basic " + b64(b"CS001:a:b")
    with pytest.raises(ValueError, match="':'"):
        basic_auth_header("CS:001", PASSWORD)


async def test_a00_fr_207_credentials_checked_on_the_websocket_upgrade(socket_enabled: None) -> None:
    """The way the listener uses these pieces: check the header in process_request, before upgrading."""
    stored = {"CS001": await asyncio.to_thread(hash_password, PASSWORD)}
    verifier = PasswordVerifier()
    accepted: list[str] = []

    async def process_request(connection: ServerConnection, request: Request) -> Response | None:
        station_id = request.path.rsplit("/", 1)[-1]
        password = station_password(request.headers.get("Authorization"), station_id)
        if password is not None and station_id in stored:
            # The fast path on the loop; on a miss, the scrypt run in an executor.
            hashes = stored[station_id]
            if verifier.check_cached(station_id, password, hashes):
                return None
            if await asyncio.to_thread(verifier.verify, station_id, password, hashes):
                return None
        response = connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        response.headers["WWW-Authenticate"] = 'Basic realm="ocpp", charset="UTF-8"'
        return response

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        accepted.append(connection.request.path)
        await connection.send("welcome")

    async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
        port = server.sockets[0].getsockname()[1]

        async def attempt(path: str, headers: Headers | None) -> int:
            try:
                async with connect(f"ws://127.0.0.1:{port}{path}", additional_headers=headers) as client:
                    assert await client.recv() == "welcome"
                    return 101
            except InvalidStatus as err:
                return err.response.status_code

        good = Headers(Authorization=basic_auth_header("CS001", PASSWORD))
        assert await attempt("/ocpp/CS001", good) == 101
        assert await attempt("/ocpp/CS001", good) == 101  # the reconnection is served from the verifier's memory
        assert (
            await attempt("/ocpp/CS001", Headers(Authorization=basic_auth_header("CS001", "wrong-password-12"))) == 401
        )
        assert await attempt("/ocpp/CS002", good) == 401  # username is not the URL's identity
        assert await attempt("/ocpp/CS001", None) == 401  # A00.FR.203: credentials with every connection
    assert accepted == ["/ocpp/CS001", "/ocpp/CS001"]
