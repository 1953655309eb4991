"""A test station that manages certificates as a real one does.

It generates its key and CSR (`cryptography`), keeps the key, takes the signed chain (A02, A03), and installs,
lists and deletes root certificates (M03-M05).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
from websockets.exceptions import ConnectionClosed

from custom_components.ocpp_csms.csms.certificate_authority import hash_data
from custom_components.ocpp_csms.csms.certificates import DEFAULT_ORGANIZATION

from .station_peer import StationPeer


class CertificateStation(StationPeer):
    """A StationPeer with a certificate store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """No key, no certificate yet."""
        super().__init__(*args, **kwargs)
        self.organization = DEFAULT_ORGANIZATION
        self.common_name: str | None = None  # None: the serial number
        self.key_type = "ec"
        #: The key of the CSR last sent, per certificate type: it never leaves the station (A02.FR.05).
        self.pending_keys: dict[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey] = {}
        #: The installed chains, with their keys, per certificate type.
        self.signed: dict[str, tuple[str, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey]] = {}
        self.signed_event = asyncio.Event()
        self.roots: dict[str, tuple[str, str]] = {}  # serial (hex) -> (type, PEM)
        self.trigger_status = "Accepted"
        self.certificate_signed_status = "Accepted"
        self.install_status = "Accepted"
        self.delete_status: str | None = None  # None: as found

    def csr(self, use: str = "ChargingStationCertificate") -> str:
        """A new key pair and its CSR (A02.FR.02-03)."""
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
        if self.key_type == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        self.pending_keys[use] = key
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, self.common_name or self.serial_number),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, self.organization),
            ]
        )
        request = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
        return request.public_bytes(serialization.Encoding.PEM).decode()

    async def sign_certificate(self, use: str = "ChargingStationCertificate") -> Any:
        """SignCertificate (A03); the response."""
        return await self.call(call.SignCertificate(csr=self.csr(use), certificate_type=use))

    def write_identity(self, directory: Path, use: str = "ChargingStationCertificate") -> tuple[Path, Path]:
        """The signed chain and its key as files, for a TLS client context (profile 3)."""
        chain, key = self.signed[use]
        cert_file, key_file = directory / f"{self.id}.crt", directory / f"{self.id}.key"
        cert_file.write_text(chain)
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file

    @on(Action.trigger_message)
    def on_trigger_message(self, requested_message: str, **kwargs: Any) -> call_result.TriggerMessage:
        """Accept (or answer `trigger_status` to) a certificate trigger; every other one as StationPeer does."""
        self.received.put_nowait(("TriggerMessage", {"requested_message": requested_message, **kwargs}))
        if requested_message.startswith("Sign"):
            return call_result.TriggerMessage(status=self.trigger_status)
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger_message(self, requested_message: str, **kwargs: Any) -> None:
        """Send a CSR for the Sign* triggers (A02), else as StationPeer does."""
        if requested_message == "SignChargingStationCertificate" and self.trigger_status == "Accepted":
            if (task := asyncio.current_task()) is not None:
                self.background.add(task)
                task.add_done_callback(self.background.discard)
            with contextlib.suppress(ConnectionClosed):
                await self.sign_certificate()
            return
        if requested_message == "SignV2GCertificate" and self.trigger_status == "Accepted":
            with contextlib.suppress(ConnectionClosed):
                await self.sign_certificate("V2GCertificate")
            return
        await super().after_trigger_message(requested_message, **kwargs)

    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, certificate_type: str | None = None, **_: Any) -> Any:
        """Keep the chain with the key of its CSR (A02.FR.06: it must hold that key's certificate)."""
        use = certificate_type or "ChargingStationCertificate"
        self.received.put_nowait(("CertificateSigned", {"certificate_chain": certificate_chain, "type": use}))
        if self.certificate_signed_status != "Accepted":
            return call_result.CertificateSigned(status=self.certificate_signed_status)
        leaf = x509.load_pem_x509_certificates(certificate_chain.encode())[0]
        key = self.pending_keys.pop(use)
        assert leaf.public_key() == key.public_key()
        self.signed[use] = (certificate_chain, key)
        self.signed_event.set()
        return call_result.CertificateSigned(status="Accepted")

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        """Keep the root (M05)."""
        self.received.put_nowait(("InstallCertificate", {"certificate_type": certificate_type}))
        if self.install_status == "Accepted":
            serial = format(x509.load_pem_x509_certificate(certificate.encode()).serial_number, "x")
            self.roots[serial] = (certificate_type, certificate)
        return call_result.InstallCertificate(status=self.install_status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed_certificate_ids(self, certificate_type: list[str] | None = None, **_: Any) -> Any:
        """The roots' hash data, and the V2G chain (M03)."""
        chains = [
            {"certificate_type": kind, "certificate_hash_data": _wire(hash_data(pem.encode()))}
            for kind, pem in self.roots.values()
            if not certificate_type or kind in certificate_type
        ]
        if "V2GCertificate" in self.signed and (not certificate_type or "V2GCertificateChain" in certificate_type):
            leaf, sub_ca = x509.load_pem_x509_certificates(self.signed["V2GCertificate"][0].encode())
            chains.append(
                {
                    "certificate_type": "V2GCertificateChain",
                    "certificate_hash_data": _wire(hash_data(leaf, sub_ca)),
                    "child_certificate_hash_data": [_wire(hash_data(sub_ca, None))],
                }
            )
        if not chains:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(status="Accepted", certificate_hash_data_chain=chains)

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> Any:
        """Delete a root by its serial number (M04)."""
        self.received.put_nowait(("DeleteCertificate", certificate_hash_data))
        if self.delete_status is not None:
            return call_result.DeleteCertificate(status=self.delete_status)
        if self.roots.pop(certificate_hash_data["serial_number"], None) is None:
            return call_result.DeleteCertificate(status="NotFound")
        return call_result.DeleteCertificate(status="Accepted")


def _wire(data: Any) -> dict[str, str]:
    return {
        "hash_algorithm": data.hash_algorithm.value,
        "issuer_name_hash": data.issuer_name_hash,
        "issuer_key_hash": data.issuer_key_hash,
        "serial_number": data.serial_number,
    }
