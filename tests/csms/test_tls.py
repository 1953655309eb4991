"""TLS for security profiles 2 and 3 over real sockets: a `websockets` server with our context on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
import hashlib
import logging
import ssl
from typing import Any
import warnings

from cryptography.hazmat.primitives import serialization
import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import InvalidHandshake

from custom_components.ocpp_csms.csms.certificates import load_certificate
from custom_components.ocpp_csms.csms.tls import (
    TLS12_CIPHER_SUITES,
    ClientCertMode,
    PeerCertificate,
    client_context,
    peer_certificate_info,
    server_context,
)

from .conftest import ORGANIZATION, STATION_SERIAL, Pki

pytestmark = pytest.mark.usefixtures("socket_enabled")

#: Every way a refused TLS handshake surfaces on the client: an SSL alert, a reset, or (TLS 1.3, where the server
#: checks the client certificate after the client's handshake is done) a connection closed before the HTTP response.
#: The tests also check the server's side: the OpenSSL reason it refused the handshake with.
REFUSED = (OSError, InvalidHandshake)


@dataclass
class Csms:
    """A TLS websocket server; records what each accepted connection saw and each handshake it refused."""

    port: int
    seen: list[tuple[str, str, PeerCertificate | None]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    refused: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, host: str = "127.0.0.1") -> str:
        """The station's connection URL."""
        return f"wss://{host}:{self.port}/ocpp/CS001"

    async def refusal(self) -> str:
        """The OpenSSL reason of the first handshake the server refused (waits for it)."""
        await asyncio.wait_for(self.refused.wait(), 5)
        return self.refusals[0]


@contextlib.asynccontextmanager
async def csms(context: ssl.SSLContext) -> AsyncIterator[Csms]:
    """Serve websockets over TLS with `context` on 127.0.0.1.

    asyncio reports a failed server-side handshake to the loop's exception handler, in debug mode only
    ("Error on transport creation for incoming connection"): the helper turns debug on and collects them.
    """
    loop = asyncio.get_running_loop()
    debug, previous_handler = loop.get_debug(), loop.get_exception_handler()

    def on_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if context.get("message", "").startswith("Error on transport creation") and error is not None:
            if isinstance(error, ssl.SSLError):  # (a reset after the alert was sent is already told)
                state.refusals.append(str(error.reason))
                state.refused.set()
        elif previous_handler is not None:
            previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)

    async def handler(connection: ServerConnection) -> None:
        ssl_object = connection.transport.get_extra_info("ssl_object")
        assert ssl_object.compression() is None  # A00.FR.321
        version, cipher = ssl_object.version(), ssl_object.cipher()[0]
        state.seen.append((version, cipher, peer_certificate_info(ssl_object)))
        await connection.send("hello")

    class Refusals(logging.Handler):
        """What the server's TLS logs of a refused handshake (our contexts send the alert first, A00.FR.315)."""

        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("TLS handshake refused: "):
                state.refusals.append(record.getMessage().removeprefix("TLS handshake refused: "))
                state.refused.set()

    tls_logger = logging.getLogger("custom_components.ocpp_csms.csms.tls")
    refusals, level = Refusals(), tls_logger.level
    tls_logger.addHandler(refusals)
    tls_logger.setLevel(logging.DEBUG)
    loop.set_debug(True)
    loop.set_exception_handler(on_error)
    try:
        async with serve(handler, "127.0.0.1", 0, ssl=context) as server:
            state = Csms(server.sockets[0].getsockname()[1])
            yield state
    finally:
        loop.set_exception_handler(previous_handler)
        loop.set_debug(debug)
        tls_logger.removeHandler(refusals)
        tls_logger.setLevel(level)


async def talk(server: Csms, context: ssl.SSLContext, *, server_hostname: str | None = "localhost") -> None:
    async with connect(server.url(), ssl=context, server_hostname=server_hostname, open_timeout=5) as client:
        assert await asyncio.wait_for(client.recv(), 5) == "hello"


def tls12_client(pki: Pki, ciphers: str | None = None) -> ssl.SSLContext:
    context = client_context(pki.trust_bundle)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers is not None:
        context.set_ciphers(ciphers)
    return context


def station_client(pki: Pki, *, cert: str | None = "station", tls12: bool = False) -> ssl.SSLContext:
    pair = {"station": pki.station, "other": pki.other_station}.get(cert or "")
    context = client_context(
        pki.ca.cert_file,
        cert_file=pair.cert_file if pair else None,
        key_file=pair.key_file if pair else None,
    )
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


def profile2(pki: Pki) -> ssl.SSLContext:
    """An EC and an RSA server certificate on one context, as A00.FR.318 needs."""
    return server_context(
        pki.server.cert_file,
        pki.server.key_file,
        extra_certificates=[(pki.rsa_server.cert_file, pki.rsa_server.key_file)],
    )


def profile3(pki: Pki, client_certs: ClientCertMode) -> ssl.SSLContext:
    return server_context(
        pki.server.cert_file, pki.server.key_file, ca_file=pki.ca.cert_file, client_certs=client_certs
    )


def legacy_client(max_version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that can speak only old TLS (OpenSSL needs security level 0 to offer it at all)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = max_version
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


# --- TLS versions (A00.FR.313-315) ---


async def test_a00_fr_313_tls12_client_connects(pki: Pki) -> None:
    async with csms(profile2(pki)) as server:
        await talk(server, tls12_client(pki))
    assert [(version, peer) for version, _, peer in server.seen] == [("TLSv1.2", None)]


async def test_tls13_client_connects_and_ip_address_is_verified_by_alt_name(pki: Pki) -> None:
    async with csms(profile2(pki)) as server:
        await talk(server, client_context(pki.trust_bundle), server_hostname=None)  # checks the IP SAN
    assert [version for version, _, _ in server.seen] == ["TLSv1.3"]


async def test_server_certificate_does_not_match_another_name(pki: Pki) -> None:
    async with csms(profile2(pki)) as server:
        with pytest.raises(ssl.SSLCertVerificationError):
            await talk(server, client_context(pki.trust_bundle), server_hostname="csms.example.com")
    assert server.seen == []


@pytest.mark.parametrize("max_version", ["TLSv1", "TLSv1_1"])
async def test_a00_fr_315_old_tls_client_is_refused(pki: Pki, max_version: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1/TLSv1_1 are deprecated
        version = getattr(ssl.TLSVersion, max_version)
        old_client = legacy_client(version)
        # Control: this client really speaks the old version to a server that allows it ...
        permissive = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        permissive.minimum_version = ssl.TLSVersion.TLSv1
    permissive.set_ciphers("DEFAULT:@SECLEVEL=0")
    permissive.load_cert_chain(pki.server.cert_file, pki.server.key_file)
    async with csms(permissive) as server:
        await talk(server, old_client)
    assert server.seen[0][0] == max_version.replace("_", ".")
    # ... and our server refuses it, telling the station why: a protocol_version alert, not a reset.
    async with csms(profile2(pki)) as server:
        with pytest.raises(ssl.SSLError) as refused:
            await talk(server, old_client)
        assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
        assert await server.refusal() == "UNSUPPORTED_PROTOCOL"
    assert server.seen == []


# --- cipher suites (A00.FR.318, A00.FR.320) ---


@pytest.mark.parametrize(
    ("suite", "server_key"),
    [
        pytest.param("ECDHE-ECDSA-AES128-GCM-SHA256", "EllipticCurve", id="TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        pytest.param("ECDHE-ECDSA-AES256-GCM-SHA384", "EllipticCurve", id="TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        pytest.param("AES128-GCM-SHA256", "RSA", id="TLS_RSA_WITH_AES_128_GCM_SHA256"),
        pytest.param("AES256-GCM-SHA384", "RSA", id="TLS_RSA_WITH_AES_256_GCM_SHA384"),
        pytest.param("ECDHE-RSA-AES128-GCM-SHA256", "RSA", id="TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        pytest.param("ECDHE-RSA-AES256-GCM-SHA384", "RSA", id="TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    ],
)
async def test_a00_fr_318_mandatory_suites_with_the_matching_certificate(pki: Pki, suite: str, server_key: str) -> None:
    assert suite in TLS12_CIPHER_SUITES
    # The station trusts only the CA of the certificate the suite needs: the server must pick the right one.
    ca_file = pki.ca.cert_file if server_key == "EllipticCurve" else pki.rsa_ca.cert_file
    context = client_context(ca_file)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(suite)
    async with csms(profile2(pki)) as server:
        await talk(server, context)
    assert [(version, cipher) for version, cipher, _ in server.seen] == [("TLSv1.2", suite)]


@pytest.mark.parametrize(
    "suite", ["AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA256", "DHE-RSA-AES128-GCM-SHA256"]
)
async def test_a00_fr_320_weaker_suites_are_refused(pki: Pki, suite: str) -> None:
    async with csms(profile2(pki)) as server:
        with pytest.raises(ssl.SSLError) as refused:
            await talk(server, tls12_client(pki, suite))
        assert refused.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE"  # told, not reset
        assert await server.refusal() == "NO_SHARED_CIPHER"
    assert server.seen == []


async def test_server_prefers_forward_secrecy(pki: Pki) -> None:
    async with csms(profile2(pki)) as server:
        await talk(server, tls12_client(pki, "AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert server.seen[0][1] == "ECDHE-ECDSA-AES128-GCM-SHA256"


# --- client certificates (profile 3, A00.FR.401-407) ---


@pytest.mark.parametrize("client_certs", ["required", "optional"])
@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
async def test_a00_fr_403_station_certificate_from_our_ca_is_accepted_and_readable(
    pki: Pki, client_certs: ClientCertMode, tls12: bool
) -> None:
    async with csms(profile3(pki, client_certs)) as server:
        await talk(server, station_client(pki, tls12=tls12))
    ((_, _, peer),) = server.seen
    assert peer is not None
    assert peer.verified
    assert peer.common_name == STATION_SERIAL  # B01.FR.11: compared with the BootNotification serial number
    assert peer.organization == ORGANIZATION  # A00.FR.404
    station = load_certificate(pki.station.cert_pem)
    assert peer.serial_number == station.serial_number
    assert peer.serial_hex() == format(station.serial_number, "x")
    assert peer.issuer == load_certificate(pki.ca.cert_pem).subject.rfc4514_string()
    assert peer.subject == f"CN={STATION_SERIAL},O={ORGANIZATION}"
    assert peer.fingerprint_sha256 == hashlib.sha256(station.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert peer.not_valid_before < peer.not_valid_after


@pytest.mark.parametrize("client_certs", ["required", "optional"])
@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
async def test_a00_fr_407_station_certificate_from_another_ca_is_refused(
    pki: Pki, client_certs: ClientCertMode, tls12: bool
) -> None:
    # Even "optional" refuses it: OpenSSL fails the handshake on a certificate that does not verify.
    async with csms(profile3(pki, client_certs)) as server:
        with pytest.raises(REFUSED):
            await talk(server, station_client(pki, cert="other", tls12=tls12))
        assert await server.refusal() == "CERTIFICATE_VERIFY_FAILED"
    assert server.seen == []


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
async def test_a00_fr_407_no_station_certificate_is_refused_when_required(pki: Pki, tls12: bool) -> None:
    async with csms(profile3(pki, "required")) as server:
        with pytest.raises(REFUSED):
            await talk(server, station_client(pki, cert=None, tls12=tls12))
        assert await server.refusal() == "PEER_DID_NOT_RETURN_A_CERTIFICATE"
    assert server.seen == []


@pytest.mark.parametrize("tls12", [False, True], ids=["tls13", "tls12"])
async def test_optional_mode_lets_profile2_stations_in_without_a_certificate(pki: Pki, tls12: bool) -> None:
    async with csms(profile3(pki, "optional")) as server:
        await talk(server, station_client(pki, cert=None, tls12=tls12))
    assert [peer for _, _, peer in server.seen] == [None]


async def test_no_client_certificate_is_asked_for_without_a_ca(pki: Pki) -> None:
    async with csms(profile2(pki)) as server:
        await talk(server, station_client(pki))
    assert [peer for _, _, peer in server.seen] == [None]


def test_context_settings(pki: Pki) -> None:
    context = profile2(pki)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE
    assert context.options & ssl.OP_NO_COMPRESSION
    tls12_suites = {cipher["name"] for cipher in context.get_ciphers() if cipher["protocol"] == "TLSv1.2"}
    assert tls12_suites == set(TLS12_CIPHER_SUITES)
    assert profile3(pki, "optional").verify_mode == ssl.CERT_OPTIONAL
    required = server_context(
        pki.server.cert_file, pki.server.key_file, ca_file=pki.ca.cert_file, require_client_cert=True
    )
    assert required.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"client_certs": "required"}, "ca_file", id="required-without-ca"),
        pytest.param({"client_certs": "optional"}, "ca_file", id="optional-without-ca"),
        pytest.param({"client_certs": "optional", "require_client_cert": True}, "contradicts", id="contradiction"),
        pytest.param({"client_certs": "sometimes"}, "unknown", id="unknown-mode"),
    ],
)
def test_context_configuration_errors(pki: Pki, options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        server_context(pki.server.cert_file, pki.server.key_file, **options)  # type: ignore[arg-type]


def test_peer_certificate_info_without_tls() -> None:
    assert peer_certificate_info(None) is None
