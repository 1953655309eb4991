"""A small OCSP responder for tests (RFC 6960 over HTTP POST), on 127.0.0.1, signing with the issuing CA's key.

`OcspResponder.statuses` maps certificate serial numbers to "good", "revoked" or "unknown"; an unlisted serial is
unknown. `answer(der_request)` is the whole logic, usable without HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from custom_components.ocpp_csms.csms.certificates import PrivateKey


@dataclass
class OcspResponder:
    """Answers OCSP requests about certificates `issuer` issued."""

    issuer: x509.Certificate
    key: PrivateKey
    statuses: dict[int, str] = field(default_factory=dict)
    requests: int = 0
    validity: timedelta = timedelta(hours=1)
    url: str = ""

    def answer(self, der: bytes) -> bytes:
        """The DER OCSPResponse to a DER OCSPRequest."""
        self.requests += 1
        request = ocsp.load_der_ocsp_request(der)
        status = self.statuses.get(request.serial_number, "unknown")
        now = datetime.now(UTC)
        builder = ocsp.OCSPResponseBuilder().add_response_by_hash(
            issuer_name_hash=request.issuer_name_hash,
            issuer_key_hash=request.issuer_key_hash,
            serial_number=request.serial_number,
            algorithm=request.hash_algorithm,
            cert_status={
                "good": ocsp.OCSPCertStatus.GOOD,
                "revoked": ocsp.OCSPCertStatus.REVOKED,
                "unknown": ocsp.OCSPCertStatus.UNKNOWN,
            }[status],
            this_update=now - timedelta(minutes=1),
            next_update=now + self.validity,
            revocation_time=now - timedelta(days=1) if status == "revoked" else None,
            revocation_reason=None,
        )
        response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, self.issuer).sign(self.key, hashes.SHA256())
        return response.public_bytes(serialization.Encoding.DER)

    async def handle(self, request: web.Request) -> web.Response:
        """POST /: the answer, as application/ocsp-response."""
        body = await request.read()
        return web.Response(body=self.answer(body), content_type="application/ocsp-response")


@contextlib.asynccontextmanager
async def ocsp_responder(issuer: x509.Certificate, key: PrivateKey) -> AsyncIterator[OcspResponder]:
    """A running responder on 127.0.0.1 (a free port); `responder.url` is where to ask."""
    responder = OcspResponder(issuer, key)
    app = web.Application()
    app.router.add_post("/", responder.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    responder.url = f"http://127.0.0.1:{port}/"
    try:
        yield responder
    finally:
        await runner.cleanup()
