"""The certificate authorities of the home mobility operator: its MO CA and its provisioning service (CPS).

The MO root and sub-CA sign contract certificates; the CPS signs the answers, under the V2G root.

- `ensure_mo_issuer`: an MO root (what a station installs as MORootCertificate and what C07 checks contract
  chains against) and an MO sub-CA (domainComponent MO, ISO 15118-2) that signs the contract certificates.
- `ensure_cps_signer`: a CPS sub-CA (domainComponent CPS) under the V2G root the integration already keeps
  (`certificate_authority.ensure_v2g_issuer`) and a CPS leaf whose key signs CertificateInstallationRes and
  CertificateUpdateRes; the EV checks that signature with the SAProvisioningCertificateChain (leaf and sub-CA)
  up to the V2G root it trusts. The leaf is renewed when it nears its end.

All EC P-256 (ISO 15118-2). The files are named in GENERATED_FILES and kept in the folder given (the integration's
certificate folder), so that removing the integration deletes them. Key generation and file access: run these in
an executor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..csms.certificate_authority import RENEWAL_DAYS, V2G_ROOT_NAME, Issuer, ensure_v2g_issuer
from ..csms.certificates import (
    DEFAULT_ORGANIZATION,
    generate_ca,
    generate_sub_ca,
    issue_leaf,
    load_ca,
    write_key_pair,
)

MO_ROOT_NAME: Final = "mo-root"
MO_SUB_CA_NAME: Final = "mo-sub-ca"
CPS_SUB_CA_NAME: Final = "v2g-cps-sub-ca"
CPS_LEAF_NAME: Final = "v2g-cps"
#: The files `ensure_mo_issuer` and `ensure_cps_signer` keep in the certificate folder (deleted with the integration).
GENERATED_FILES: Final = tuple(
    f"{name}.{suffix}"
    for name in (MO_ROOT_NAME, MO_SUB_CA_NAME, CPS_SUB_CA_NAME, CPS_LEAF_NAME)
    for suffix in ("crt", "key")
)
#: Validity of the CPS leaf (ISO 15118-2 keeps provisioning certificates short-lived).
CPS_LEAF_DAYS: Final = 365


def _pair(directory: Path, name: str) -> tuple[Path, Path] | None:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    return (cert, key) if cert.exists() and key.exists() else None


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except ValueError, TypeError, InvalidSignature:
        return False
    return True


def ensure_mo_issuer(directory: Path, organization: str = DEFAULT_ORGANIZATION) -> tuple[Issuer, bytes]:
    """The MO sub-CA (and the MO root above it) in `directory`, made once and kept: (issuer, MO root PEM)."""
    root = _pair(directory, MO_ROOT_NAME)
    if root is None:
        pems = generate_ca("Home MO Root CA", 3650, organization=organization, path_length=1)
        root = write_key_pair(directory, MO_ROOT_NAME, *pems)
    sub = _pair(directory, MO_SUB_CA_NAME)
    if sub is None:
        root_cert, root_key = (path.read_bytes() for path in root)
        pems = generate_sub_ca(root_cert, root_key, "Home MO Sub-CA", organization=organization, domain_component="MO")
        sub = write_key_pair(directory, MO_SUB_CA_NAME, *pems)
    return Issuer.load(*sub), root[0].read_bytes()


@dataclass(frozen=True, slots=True)
class CpsSigner:
    """The CPS leaf's key, and the SAProvisioningCertificateChain: the leaf, then the CPS sub-CA (DER)."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    sub_ca: x509.Certificate
    v2g_root: x509.Certificate

    def chain(self) -> tuple[bytes, bytes]:
        """The leaf and the sub-CA, DER."""
        return (
            self.certificate.public_bytes(serialization.Encoding.DER),
            self.sub_ca.public_bytes(serialization.Encoding.DER),
        )


def ensure_cps_signer(directory: Path, organization: str = DEFAULT_ORGANIZATION) -> CpsSigner:
    """The CPS leaf and sub-CA in `directory` under the V2G root (made too when missing), kept and renewed."""
    root_pem = ensure_v2g_issuer(directory, organization)[1]
    sub = _pair(directory, CPS_SUB_CA_NAME)
    if sub is None:
        root_key = (directory / f"{V2G_ROOT_NAME}.key").read_bytes()
        pems = generate_sub_ca(root_pem, root_key, "Home CPS Sub-CA", organization=organization, domain_component="CPS")
        sub = write_key_pair(directory, CPS_SUB_CA_NAME, *pems)
    sub_issuer = Issuer.load(*sub)
    leaf = _pair(directory, CPS_LEAF_NAME)
    if leaf is not None:
        certificate, key = load_ca(leaf[0].read_bytes(), leaf[1].read_bytes())
        fresh = certificate.not_valid_after_utc - datetime.now(UTC) > timedelta(days=RENEWAL_DAYS)
        if fresh and _issued_by(certificate, sub_issuer.certificate) and isinstance(key, ec.EllipticCurvePrivateKey):
            return CpsSigner(key, certificate, sub_issuer.certificate, x509.load_pem_x509_certificate(root_pem))
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, "Home CPS"),
            x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "CPS"),
        ]
    )
    certificate = issue_leaf(sub_issuer.certificate, sub_issuer.key, key.public_key(), subject, CPS_LEAF_DAYS)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_key_pair(directory, CPS_LEAF_NAME, certificate.public_bytes(serialization.Encoding.PEM), key_pem)
    return CpsSigner(key, certificate, sub_issuer.certificate, x509.load_pem_x509_certificate(root_pem))
