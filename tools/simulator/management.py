"""The simulated station's side of firmware updates (L01, L02), log uploads (N01) and customer data (N09, N10).

Real transfers over HTTP(S): the firmware is downloaded from the location UpdateFirmware names and its signature
checked against the signing certificate (SHA-256; ECDSA for an EC key, RSA-PSS for an RSA key, L01.FR.04); the log
is uploaded to GetLog's remote location with PUT, or POST as multipart form data with a file name (N01.FR.18-19).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

#: A firmware image the simulator understands starts with this line: `SIMFW <version>`.
FIRMWARE_MAGIC: Final = b"SIMFW "
TRANSFER_TIMEOUT: Final = aiohttp.ClientTimeout(total=60)


class TransferError(Exception):
    """A download or upload that did not work; `status` is the OCPP status to report."""

    def __init__(self, status: str, detail: str) -> None:
        """The status to report, and why."""
        super().__init__(f"{status}: {detail}")
        self.status = status


def load_certificate(pem: str | None) -> x509.Certificate | None:
    """The signing certificate of an UpdateFirmware (None: absent or not a certificate)."""
    if not pem:
        return None
    try:
        return x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        return None


def signature_valid(content: bytes, certificate: x509.Certificate | None, signature: str | None) -> bool:
    """Whether `signature` (base64) signs `content` with the certificate's key (L01.FR.04, L01.FR.12)."""
    if certificate is None or not signature:
        return False  # L01: a missing signature is an invalid one
    try:
        raw = base64.b64decode(signature, validate=True)
    except binascii.Error, ValueError:
        return False
    key = certificate.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(raw, content, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(
                raw,
                content,
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO),
                hashes.SHA256(),
            )
        else:
            return False
    except InvalidSignature:
        return False
    return True


def firmware_version(content: bytes, current: str) -> str:
    """The version a firmware image brings: its `SIMFW <version>` line, else the current one's patch plus one."""
    if content.startswith(FIRMWARE_MAGIC):
        version = content[len(FIRMWARE_MAGIC) :].split(b"\n", 1)[0].decode(errors="replace").strip()
        if version:
            return version[:50]
    major, minor, patch = [*current.split("."), "0", "0"][:3]
    return f"{major}.{minor}.{int(patch) + 1 if patch.isdigit() else 1}"


async def download(location: str) -> bytes:
    """GET the firmware; TransferError(DownloadFailed) when that does not work."""
    if not location.startswith(("http://", "https://")):
        raise TransferError("DownloadFailed", f"unsupported protocol in {location.split(':', 1)[0]}")
    try:
        async with (
            aiohttp.ClientSession(timeout=TRANSFER_TIMEOUT) as session,
            session.get(location) as response,
        ):
            if response.status != 200:
                raise TransferError("DownloadFailed", f"HTTP {response.status}")
            return await response.read()
    except (aiohttp.ClientError, TimeoutError) as err:
        raise TransferError("DownloadFailed", str(err) or type(err).__name__) from err


async def upload(location: str, content: bytes, filename: str, method: str) -> None:
    """Upload a log (PUT, or POST multipart); TransferError with the LogStatus to report when it fails."""
    if not location.startswith(("http://", "https://")):
        raise TransferError("NotSupportedOperation", f"unsupported protocol in {location.split(':', 1)[0]}")
    try:
        async with aiohttp.ClientSession(timeout=TRANSFER_TIMEOUT) as session:
            if method == "POST":
                form = aiohttp.FormData()
                form.add_field("uploadfile", content, filename=filename, content_type="application/octet-stream")
                request = session.post(location, data=form)
            else:
                request = session.put(location, data=content, headers={"Content-Type": "application/octet-stream"})
            async with request as response:
                if response.status in (401, 403):
                    raise TransferError("PermissionDenied", f"HTTP {response.status}")
                if response.status >= 300:
                    raise TransferError("UploadFailure", f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as err:
        raise TransferError("UploadFailure", str(err) or type(err).__name__) from err


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line of the simulated station's log."""

    at: datetime
    text: str
    security: bool = False


def log_content(
    lines: list[LogLine], *, security: bool, oldest: datetime | None, latest: datetime | None, min_bytes: int
) -> bytes:
    """The diagnostics or security log between two times, padded to at least `min_bytes`."""
    text = "".join(
        f"{line.at.isoformat()} {line.text}\n"
        for line in lines
        if (line.security or not security)
        and (oldest is None or line.at >= oldest)
        and (latest is None or line.at <= latest)
    )
    content = (text or "(no entries)\n").encode()
    if len(content) < min_bytes:
        content += b"#" * (min_bytes - len(content))
    return content
