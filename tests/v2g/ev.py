"""The EV's side, written for the tests: an OEM provisioning certificate and the signed requests an EV sends.

The EV's key and its OEM provisioning certificate (CN = the PCID) are made with `cryptography` under a test OEM
root. A request is signed as ISO 15118-2 says, with `cryptography` directly: the SHA-256 digest of the body's EXI
fragment in a Reference, and ECDSA P-256 over SignedInfo's EXI fragment, r||s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from custom_components.ocpp_csms.v2g.messages import (
    CertificateChain,
    CertificateInstallationReq,
    CertificateUpdateReq,
    Header,
    Reference,
    Signature,
    SignedInfo,
    V2GMessage,
    X509IssuerSerial,
    fragment,
)

PCID = "WMIV1234567890ABCD"
SESSION_ID = bytes.fromhex("0102030405060708")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    *,
    days: int = 365,
    start: datetime | None = None,
) -> x509.Certificate:
    """A certificate for `key` (self-signed without `issuer`), valid from `start` (default: an hour ago)."""
    begin = start or datetime.now(UTC) - timedelta(hours=1)
    issuer_name, signer = (issuer[0].subject, issuer[1]) if issuer else (_name(subject), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(begin)
        .not_valid_after(begin + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    return builder.sign(signer, hashes.SHA256())


@dataclass
class Ev:
    """An EV: its key and OEM provisioning certificate (DER), and the V2G roots it trusts."""

    key: ec.EllipticCurvePrivateKey
    oem_certificate: bytes
    roots: tuple[X509IssuerSerial, ...]

    @classmethod
    def make(cls, pcid: str = PCID, trusted: tuple[x509.Certificate, ...] = (), **validity: object) -> Ev:
        """An EV with a fresh key, its OEM provisioning certificate signed by a fresh OEM root."""
        oem_root_key = ec.generate_private_key(ec.SECP256R1())
        oem_root = make_certificate("Test OEM Root", oem_root_key)
        key = ec.generate_private_key(ec.SECP256R1())
        certificate = make_certificate(pcid, key, (oem_root, oem_root_key), **validity)  # type: ignore[arg-type]
        roots = tuple(X509IssuerSerial(root.issuer.rfc4514_string(), root.serial_number) for root in trusted)
        return cls(key, certificate.public_bytes(serialization.Encoding.DER), roots or (X509IssuerSerial("CN=x", 1),))

    def installation_req(self, element_id: str = "id1") -> CertificateInstallationReq:
        """The body of a CertificateInstallationReq."""
        return CertificateInstallationReq(element_id, self.oem_certificate, self.roots)


type Request = CertificateInstallationReq | CertificateUpdateReq


def signed_message(body: Request, key: ec.EllipticCurvePrivateKey) -> V2GMessage:
    """The V2G_Message of a request signed with `key`."""
    info = SignedInfo((Reference(uri=f"#{body.id}", digest_value=hashlib.sha256(fragment(body)).digest()),))
    r, s = decode_dss_signature(key.sign(fragment(info), ec.ECDSA(hashes.SHA256())))
    signature = Signature(info, r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    return V2GMessage(Header(SESSION_ID, signature=signature), body)


def update_req(chain: CertificateChain, emaid: str, roots: tuple[X509IssuerSerial, ...]) -> CertificateUpdateReq:
    """The body of a CertificateUpdateReq for the current contract chain."""
    return CertificateUpdateReq("id1", CertificateChain(chain.certificate, chain.sub_certificates, "id2"), emaid, roots)
