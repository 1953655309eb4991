"""OCSP for ISO 15118 (M06 GetCertificateStatus, C07 Authorize with iso15118CertificateHashData), HA-free.

A station names a certificate by its OCSPRequestData (hash algorithm, issuer name and key hashes, serial number,
responder URL); the central system asks the responder (RFC 6960: a DER OCSPRequest POSTed as
application/ocsp-request) and gets a DER OCSPResponse. `ocsp_request` builds the request, `parse_response`
checks the answer (successful, about the certificate asked for, current) and says what it says; `OcspCache`
keeps each answer until its nextUpdate (at most a week, M06.FR.10), so that a station's weekly refresh and the
Authorize of every session do not each cost a request. The HTTP exchange is the owner's (Home Assistant's shared
session). Cheap: fine on the event loop.

The response's signature is not verified here: M06 passes it to the station, which verifies it during the EV's
TLS handshake; C07 trusts the responder the certificate names, over the network the central system is in.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ..protocol.v201.enums import HashAlgorithm

REQUEST_CONTENT_TYPE: Final = "application/ocsp-request"
RESPONSE_CONTENT_TYPE: Final = "application/ocsp-response"
#: An answer without nextUpdate is kept this long; none longer than MAX_CACHE (M06.FR.10: refreshed weekly).
DEFAULT_CACHE: Final = timedelta(hours=1)
MAX_CACHE: Final = timedelta(days=7)
#: Responder clocks differ a little.
CLOCK_SKEW: Final = timedelta(minutes=5)
#: GetCertificateStatusResponse.ocspResult is a string of at most 5500 characters (base64 of the DER).
MAX_RESULT_LENGTH: Final = 5500

_HASHES: Final[dict[HashAlgorithm, hashes.HashAlgorithm]] = {
    HashAlgorithm.SHA256: hashes.SHA256(),
    HashAlgorithm.SHA384: hashes.SHA384(),
    HashAlgorithm.SHA512: hashes.SHA512(),
}


class CertStatus(StrEnum):
    """What the responder says of the certificate (RFC 6960 CertStatus)."""

    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


class OcspError(Exception):
    """No usable answer: the request cannot be built, or the response is unsuccessful, foreign or stale."""


@dataclass(frozen=True, slots=True)
class CertId:
    """A certificate as OCPP's OCSPRequestData names it (hexadecimal hashes and serial number)."""

    hash_algorithm: HashAlgorithm
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str
    responder_url: str

    def key(self) -> tuple[str, str, str, int, str]:
        """The cache key: the same certificate asked of the same responder."""
        return (
            self.hash_algorithm.value,
            self.issuer_name_hash.lower(),
            self.issuer_key_hash.lower(),
            self.serial(),
            self.responder_url,
        )

    def serial(self) -> int:
        """The serial number as an integer (OCPP writes it in hexadecimal); OcspError when it is not hex."""
        try:
            return int(self.serial_number, 16)
        except ValueError as err:
            raise OcspError(f"serial number {self.serial_number!r} is not hexadecimal") from err


@dataclass(frozen=True, slots=True)
class OcspAnswer:
    """A responder's answer about one certificate: its status, the DER response, and until when it holds."""

    status: CertStatus
    der: bytes
    this_update: datetime
    next_update: datetime | None

    def base64(self) -> str:
        """The DER response as GetCertificateStatusResponse.ocspResult carries it (M06.FR.03, M06.FR.09)."""
        return base64.b64encode(self.der).decode()


def ocsp_request(cert_id: CertId) -> bytes:
    """The DER OCSPRequest for one certificate; OcspError when the hashes or serial number are malformed."""
    try:
        name_hash = bytes.fromhex(cert_id.issuer_name_hash)
        key_hash = bytes.fromhex(cert_id.issuer_key_hash)
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate_by_hash(name_hash, key_hash, cert_id.serial(), _HASHES[cert_id.hash_algorithm])
            .build()
        )
    except ValueError as err:
        raise OcspError(f"malformed certificate hash data: {err}") from err
    return request.public_bytes(serialization.Encoding.DER)


def parse_response(der: bytes, cert_id: CertId, now: datetime) -> OcspAnswer:
    """What a DER OCSPResponse says of the certificate asked about; OcspError when it says nothing usable.

    It must be successful, carry a single response for that certificate (same hashes and serial number), and
    be current: thisUpdate not in the future, nextUpdate (when given) not past.
    """
    try:
        response = ocsp.load_der_ocsp_response(der)
    except ValueError as err:
        raise OcspError("not an OCSP response") from err
    if response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspError(f"the responder answered {response.response_status.name}")
    wanted = (bytes.fromhex(cert_id.issuer_name_hash), bytes.fromhex(cert_id.issuer_key_hash), cert_id.serial())
    for single in response.responses:
        if (single.issuer_name_hash, single.issuer_key_hash, single.serial_number) != wanted:
            continue
        this_update, next_update = single.this_update_utc, single.next_update_utc
        if this_update > now + CLOCK_SKEW:
            raise OcspError("the response is from the future")
        if next_update is not None and next_update < now - CLOCK_SKEW:
            raise OcspError("the response is out of date")
        status = {
            ocsp.OCSPCertStatus.GOOD: CertStatus.GOOD,
            ocsp.OCSPCertStatus.REVOKED: CertStatus.REVOKED,
            ocsp.OCSPCertStatus.UNKNOWN: CertStatus.UNKNOWN,
        }[single.certificate_status]
        return OcspAnswer(status, der, this_update, next_update)
    raise OcspError("the response is about another certificate")


@dataclass(slots=True)
class OcspCache:
    """Answers kept until their nextUpdate (or DEFAULT_CACHE without one), never longer than MAX_CACHE."""

    _answers: dict[tuple[str, str, str, int, str], tuple[OcspAnswer, datetime]] = field(default_factory=dict)

    def get(self, cert_id: CertId, now: datetime) -> OcspAnswer | None:
        """The kept answer about this certificate, while it holds."""
        kept = self._answers.get(cert_id.key())
        if kept is None:
            return None
        answer, until = kept
        if now >= until:
            del self._answers[cert_id.key()]
            return None
        return answer

    def put(self, cert_id: CertId, answer: OcspAnswer, now: datetime) -> None:
        """Keep an answer for as long as it holds."""
        until = answer.next_update or now + DEFAULT_CACHE
        self._answers[cert_id.key()] = (answer, min(until, now + MAX_CACHE))

    def __len__(self) -> int:
        """How many answers are kept."""
        return len(self._answers)
