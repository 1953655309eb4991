"""TLS for the listener: server contexts for security profiles 2 and 3, and what a station's certificate says.

Building a context reads certificate and key files (blocking I/O, plus key parsing): call `server_context` and
`client_context` in an executor. `peer_certificate_info` is cheap and meant for the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
import hashlib
import logging
import os
import ssl
from typing import Final, Literal

from .certificates import certificate_common_name, certificate_organization, load_certificate

_LOGGER = logging.getLogger(__name__)

type ClientCertMode = Literal["none", "optional", "required"]
type PathLike = str | os.PathLike[str]

#: TLS 1.2 cipher suites, in order of preference (the server's order wins). A00.FR.318 / A00.FR.421 make the
#: CSMS support TLS_ECDHE_ECDSA_WITH_AES_{128,256}_GCM and TLS_RSA_WITH_AES_{128,256}_GCM; the ECDHE_RSA
#: ones give forward secrecy to stations with RSA keys. TLS_RSA (no forward secrecy) comes last, for stations
#: that implement nothing else (A00.FR.319 / A00.FR.422). No CBC, no SHA-1, no static DH (A00.FR.320 /
#: A00.FR.423); SECLEVEL 2 refuses keys below 112-bit security (A00.FR.501-503). TLS 1.3 suites are OpenSSL's
#: defaults (all AEAD).
TLS12_CIPHER_SUITES: Final = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
)
TLS12_CIPHERS: Final = ":".join((*TLS12_CIPHER_SUITES, "@SECLEVEL=2"))


class AlertingSSLObject(ssl.SSLObject):
    """Lets a failed handshake's TLS alert reach the station before the connection closes.

    asyncio aborts the transport as soon as `do_handshake` raises, and the alert OpenSSL wrote (protocol_version
    for TLS 1.1, handshake_failure for no common cipher, A00.FR.315 / A00.FR.418) never leaves the outgoing
    buffer: the station sees a reset and cannot tell why it was refused. The first failure is reported as "wants
    to read" instead, so asyncio sends what is buffered (the alert); the next call raises the failure itself,
    when the station, told, closes or sends more.
    """

    _failure: ssl.SSLError | None = None

    def do_handshake(self) -> None:
        """Handshake; a failure is raised the second time, after asyncio sent the alert."""
        if self._failure is not None:
            raise self._failure
        try:
            super().do_handshake()
        except ssl.SSLWantReadError, ssl.SSLWantWriteError:
            raise
        except ssl.SSLError as err:
            self._failure = err
            _LOGGER.debug("TLS handshake refused: %s", err.reason or err)
            raise ssl.SSLWantReadError("the alert goes out first") from err


def _client_cert_mode(client_certs: ClientCertMode, require_client_cert: bool) -> ClientCertMode:
    if require_client_cert:
        if client_certs not in ("none", "required"):
            raise ValueError(f"require_client_cert=True contradicts client_certs={client_certs!r}")
        return "required"
    if client_certs not in ("none", "optional", "required"):
        raise ValueError(f"unknown client certificate mode {client_certs!r}")
    return client_certs


def server_context(
    cert_file: PathLike,
    key_file: PathLike,
    *,
    ca_file: PathLike | None = None,
    require_client_cert: bool = False,
    client_certs: ClientCertMode = "none",
    extra_certificates: Sequence[tuple[PathLike, PathLike]] = (),
) -> ssl.SSLContext:
    """A TLS server context for the listener (the CSMS is the TLS server, A00.FR.306 / A00.FR.409).

    - TLS 1.2 or above only (A00.FR.313 / A00.FR.416): a TLS 1.0/1.1 or SSL client fails the handshake with a
      protocol_version alert (A00.FR.315 / A00.FR.418). No TLS compression (A00.FR.321 / A00.FR.424); no
      renegotiation. Cipher suites: `TLS12_CIPHERS`.
    - `cert_file`/`key_file`: the CSMS certificate chain and key (A00.FR.307 / A00.FR.410).
      `extra_certificates`: more (cert, key) pairs of another key type. OpenSSL picks per handshake the one
      the negotiated suite needs, so an EC and an RSA certificate together cover all four suites of
      A00.FR.318 (its note: the CSMS needs two certificates).
    - `client_certs` (profile 3, A00.FR.401-403), with `ca_file` the CA(s) station certificates must chain to:
      "none": no client certificate is asked for (profiles 1-2 only).
      "required": a station without a certificate valid under `ca_file` fails the handshake (profile 3 only
      on this port, A00.FR.006, A00.FR.407).
      "optional": a certificate is asked for but not required, so profile-2 and profile-3 stations share the
      port and the listener decides per station with `peer_certificate_info`: a profile-3 station must have
      a verified certificate. Beware: OpenSSL still fails the handshake when a station presents a
      certificate that does not verify under `ca_file` (it cannot be downgraded to "absent").
      `require_client_cert=True` is shorthand for "required".

    Reads files: run it in an executor.
    """
    mode = _client_cert_mode(client_certs, require_client_cert)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.sslobject_class = AlertingSSLObject  # refused stations learn why (a TLS alert, not a reset)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    context.set_ciphers(TLS12_CIPHERS)
    context.load_cert_chain(cert_file, key_file)
    for extra_cert, extra_key in extra_certificates:
        context.load_cert_chain(extra_cert, extra_key)
    if mode == "none":
        return context
    if ca_file is None:
        raise ValueError("client certificates need ca_file, the CA they must chain to")
    context.load_verify_locations(cafile=ca_file)
    # The CA file may hold a sub-CA (e.g. the CSO Sub-CA 2 of A00.FR.602) without its root.
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.verify_mode = ssl.CERT_REQUIRED if mode == "required" else ssl.CERT_OPTIONAL
    return context


def client_context(
    ca_file: PathLike | None = None,
    *,
    cert_file: PathLike | None = None,
    key_file: PathLike | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A TLS client context as a station uses it (simulator, tests): TLS 1.2+, verifying the CSMS against `ca_file`.

    `cert_file`/`key_file` add a client certificate (profile 3). Reads files: run it in an executor.
    """
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = check_hostname
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context


@dataclass(frozen=True, slots=True)
class PeerCertificate:
    """The certificate a station presented during the TLS handshake.

    `verified` is True when it chains to the context's CA (always so when the handshake ran with
    client_certs "optional" or "required": OpenSSL refuses unverifiable certificates in both modes).
    """

    common_name: str | None
    organization: str | None
    serial_number: int
    subject: str
    issuer: str
    fingerprint_sha256: str
    not_valid_before: datetime
    not_valid_after: datetime
    verified: bool
    der: bytes

    def serial_hex(self) -> str:
        """The certificate serial number as OCPP's CertificateHashData writes it (hexadecimal, no leading zeros)."""
        return format(self.serial_number, "x")


def peer_certificate_info(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> PeerCertificate | None:
    """What the peer's certificate says, or None when there is no TLS or the peer sent no certificate.

    On a `websockets` connection: `peer_certificate_info(connection.transport.get_extra_info("ssl_object"))`.
    Compare `common_name` with the BootNotification serial number (A00.FR.405, B01.FR.11-12) and
    `organization` with the CSO's name (A00.FR.404). Cheap: safe on the event loop.
    """
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return None
    certificate = load_certificate(der)
    return PeerCertificate(
        common_name=certificate_common_name(certificate),
        organization=certificate_organization(certificate),
        serial_number=certificate.serial_number,
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        fingerprint_sha256=hashlib.sha256(der).hexdigest(),
        not_valid_before=certificate.not_valid_before_utc,
        not_valid_after=certificate.not_valid_after_utc,
        verified=bool(ssl_object.getpeercert()),
        der=der,
    )
