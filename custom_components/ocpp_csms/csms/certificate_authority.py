"""The integration's certificate authority for stations: CSR checks and signing (A02, A03), hash data (M03, M04).

- `check_csr` checks a station's Certificate Signing Request as A02/A03 and A00.FR.5xx ask: a PEM PKCS#10
  request whose signature verifies, with a key the spec allows (RSA >= 2048 bits, A00.FR.502; EC >= 224 bits,
  A00.FR.503; an ISO 15118 certificate only EC P-256, as ISO 15118-2 requires), signed with SHA-256 or
  stronger (A00.FR.506), whose subject names the CSO's organisation in O (A00.FR.509, the station's
  SecurityCtrlr.OrganizationName) and, for the ChargingStationCertificate, the station's serial number in CN
  (A00.FR.511). A CSR that fails raises `CsrRejectedError` with the reason the station is told.
- `Issuer` signs it: the ChargingStationCertificate by the CSMS CA stations' TLS certificates chain to, the
  V2GCertificate (the SECC certificate of ISO 15118) by a V2G sub-CA under a V2G root the integration keeps
  (`ensure_v2g_issuer`). The chain sent back holds the leaf and the sub-CAs, never the root (M05 remark: roots
  are installed with InstallCertificate).
- `hash_data` is a certificate's CertificateHashDataType (RFC 6960 CertID: hashes of the issuer's name and of
  its public key, the serial number in hexadecimal), which GetInstalledCertificateIds reports and
  DeleteCertificate names.

Key generation, signing and file access are CPU work or blocking I/O: run them in an executor. `check_csr` parses
and verifies one signature (well under a millisecond for EC, a few for RSA) and is fine anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import hashlib
import os
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ..protocol.v201.enums import CertificateSigningUse, HashAlgorithm
from .certificates import (
    DEFAULT_ORGANIZATION,
    PrivateKey,
    generate_ca,
    generate_sub_ca,
    issue_leaf,
    load_ca,
    load_certificate,
    write_key_pair,
)

#: Validity of the certificates the integration issues. ISO 15118 wants short-lived SECC certificates (2-3 months).
STATION_CERTIFICATE_DAYS: Final = 365
V2G_CERTIFICATE_DAYS: Final = 90
#: A certificate this close to its end is renewed (A03.FR.02: a station renews one month ahead).
RENEWAL_DAYS: Final = 30

V2G_ROOT_NAME: Final = "v2g-root"
V2G_SUB_CA_NAME: Final = "v2g-cpo-sub-ca"
#: The files `ensure_v2g_issuer` keeps in the certificate folder (deleted with the integration).
GENERATED_FILES: Final = (
    f"{V2G_ROOT_NAME}.crt",
    f"{V2G_ROOT_NAME}.key",
    f"{V2G_SUB_CA_NAME}.crt",
    f"{V2G_SUB_CA_NAME}.key",
)

#: The smallest keys A00.FR.502-503 allow; ISO 15118-2 certificates are EC on secp256r1 only.
MIN_RSA_BITS: Final = 2048
MIN_EC_BITS: Final = 224
#: Signature hashes A00.FR.504/506 allow on a CSR.
STRONG_HASHES: Final = (hashes.SHA256, hashes.SHA384, hashes.SHA512)
#: The longest CSR a SignCertificateRequest carries (csr: string[0..5500]).
MAX_CSR_LENGTH: Final = 5500


class CsrRejectedError(Exception):
    """A CSR that is not signed: `reason` is the StatusInfo additionalInfo the station gets (reason InvalidCSR)."""

    def __init__(self, reason: str) -> None:
        """Say why."""
        super().__init__(reason)
        self.reason = reason


def _subject(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def _check_key(key: object, use: CertificateSigningUse) -> None:
    """The key types and sizes A00.FR.501-503 allow; an ISO 15118 certificate's key is EC P-256 (ISO 15118-2)."""
    if use is CertificateSigningUse.V2G_CERTIFICATE:
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise CsrRejectedError("an ISO 15118 certificate needs an EC key on secp256r1")
        return
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise CsrRejectedError(f"RSA key of {key.key_size} bits, at least {MIN_RSA_BITS} are required")
        return
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.key_size < MIN_EC_BITS:
            raise CsrRejectedError(f"EC key of {key.curve.key_size} bits, at least {MIN_EC_BITS} are required")
        return
    raise CsrRejectedError("only RSA and EC keys are accepted")


def check_csr(
    csr_pem: str,
    *,
    use: CertificateSigningUse,
    organization: str,
    serial_number: str | None,
) -> x509.CertificateSigningRequest:
    """The station's CSR, checked (see the module's documentation); CsrRejectedError when it is not acceptable.

    `organization` is the O the subject must carry (the station's OrganizationName); `serial_number` the CN a
    ChargingStationCertificate must carry (the station's BootNotification serial number; None: none is known).
    """
    if len(csr_pem) > MAX_CSR_LENGTH or "-----BEGIN CERTIFICATE REQUEST-----" not in csr_pem:
        raise CsrRejectedError("not a PEM encoded certificate signing request")
    try:
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        valid = csr.is_signature_valid
        public_key = csr.public_key()
        algorithm = csr.signature_hash_algorithm
    except (ValueError, TypeError, x509.UnsupportedGeneralNameType) as err:
        raise CsrRejectedError("the certificate signing request cannot be read") from err
    if not valid:
        raise CsrRejectedError("the certificate signing request's signature does not verify")
    if not isinstance(algorithm, STRONG_HASHES):
        raise CsrRejectedError("the certificate signing request is not signed with SHA-256 or stronger")
    _check_key(public_key, use)
    subject_organization = _subject(csr.subject, NameOID.ORGANIZATION_NAME)
    if subject_organization != organization:
        raise CsrRejectedError(f"the subject's organization (O) must be {organization!r}")
    common_name = _subject(csr.subject, NameOID.COMMON_NAME)
    if not common_name:
        raise CsrRejectedError("the subject has no common name (CN)")
    if use is CertificateSigningUse.CHARGING_STATION_CERTIFICATE:
        if serial_number is None:
            raise CsrRejectedError("the station reported no serial number in its BootNotification")
        if common_name != serial_number:
            raise CsrRejectedError(
                f"the subject's common name (CN) must be the station's serial number {serial_number!r}"
            )
    return csr


@dataclass(frozen=True, slots=True)
class Issuer:
    """A CA that signs station certificates, with the sub-CAs between it and its root (sent with each leaf)."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    @classmethod
    def load(cls, cert_file: str | os.PathLike[str], key_file: str | os.PathLike[str]) -> Issuer:
        """The CA of a certificate and key file; a sub-CA goes with the chain it is sent with. Blocking I/O."""
        certificate, key = load_ca(Path(cert_file).read_bytes(), Path(key_file).read_bytes())
        self_signed = certificate.issuer == certificate.subject
        return cls(certificate, key, () if self_signed else (certificate,))

    def sign(self, csr: x509.CertificateSigningRequest, use: CertificateSigningUse) -> str:
        """The certificate for a checked CSR, and the sub-CAs above it: a PEM chain for CertificateSigned.

        The subject is the CSR's; the validity one year for a station certificate, 90 days for an ISO 15118 one
        (whose EC key also does key agreement). CPU work: run it in an executor.
        """
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):  # pragma: no cover - checked
            raise CsrRejectedError("only RSA and EC keys are accepted")
        v2g = use is CertificateSigningUse.V2G_CERTIFICATE
        leaf = issue_leaf(
            self.certificate,
            self.key,
            public_key,
            csr.subject,
            V2G_CERTIFICATE_DAYS if v2g else STATION_CERTIFICATE_DAYS,
            key_agreement=v2g,
        )
        return "".join(cert.public_bytes(serialization.Encoding.PEM).decode() for cert in (leaf, *self.chain))


def ensure_v2g_issuer(directory: Path, organization: str = DEFAULT_ORGANIZATION) -> tuple[Issuer, bytes]:
    """The V2G CPO sub-CA (and the V2G root above it) in `directory`, made once and kept: (issuer, root PEM).

    The root is what a station installs as V2GRootCertificate (M05) and an EV must trust; the sub-CA signs the
    stations' V2G (SECC) certificates. Both EC P-256 (ISO 15118-2). CPU and file work: run it in an executor.
    """
    root_cert, root_key = directory / f"{V2G_ROOT_NAME}.crt", directory / f"{V2G_ROOT_NAME}.key"
    if not (root_cert.exists() and root_key.exists()):
        pems = generate_ca("Home V2G Root CA", 3650, organization=organization, path_length=1)
        root_cert, root_key = write_key_pair(directory, V2G_ROOT_NAME, *pems)
    sub_cert, sub_key = directory / f"{V2G_SUB_CA_NAME}.crt", directory / f"{V2G_SUB_CA_NAME}.key"
    if not (sub_cert.exists() and sub_key.exists()):
        pems = generate_sub_ca(
            root_cert.read_bytes(),
            root_key.read_bytes(),
            "Home CPO Sub-CA",
            organization=organization,
            domain_component="CPO",
        )
        sub_cert, sub_key = write_key_pair(directory, V2G_SUB_CA_NAME, *pems)
    return Issuer.load(sub_cert, sub_key), root_cert.read_bytes()


# ---- certificate hash data (M03, M04, RFC 6960 CertID) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HashData:
    """CertificateHashDataType: identifies a certificate by its issuer and serial number (hex, lower case)."""

    hash_algorithm: HashAlgorithm
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str

    def key(self) -> tuple[str, str, str, str]:
        """A comparable form: stations may write hexadecimal in either case and the serial with leading zeros."""
        return (
            self.hash_algorithm.value,
            self.issuer_name_hash.lower(),
            self.issuer_key_hash.lower(),
            self.serial_number.lower().lstrip("0") or "0",
        )


def _public_key_bits(key: object) -> bytes:
    """The subjectPublicKey BIT STRING's content, which RFC 6960 hashes for issuerKeyHash."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    if isinstance(key, rsa.RSAPublicKey):
        return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    raise TypeError("only RSA and EC issuers are supported")


def hash_data(
    certificate: bytes | x509.Certificate,
    issuer: bytes | x509.Certificate | None = None,
    algorithm: HashAlgorithm = HashAlgorithm.SHA256,
) -> HashData:
    """The CertificateHashData of a certificate issued by `issuer` (None: it is self-signed, a root)."""
    cert = load_certificate(certificate)
    issuing = load_certificate(issuer) if issuer is not None else cert
    name = algorithm.value.lower()  # "sha256", "sha384", "sha512"
    name_hash = hashlib.new(name, cert.issuer.public_bytes()).hexdigest()
    key_hash = hashlib.new(name, _public_key_bits(issuing.public_key())).hexdigest()
    return HashData(algorithm, name_hash, key_hash, format(cert.serial_number, "x"))


def issuer_hashes(issuer: x509.Certificate, algorithm: HashAlgorithm) -> tuple[str, str]:
    """(issuerNameHash, issuerKeyHash) of the certificates `issuer` signs: what their CertificateHashData names."""
    name = algorithm.value.lower()
    return (
        hashlib.new(name, issuer.subject.public_bytes()).hexdigest(),
        hashlib.new(name, _public_key_bits(issuer.public_key())).hexdigest(),
    )


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    """What the integration knows of a certificate it gave a station: for diagnostics and the expiry sensor."""

    subject: str
    issuer: str
    not_valid_after: datetime
    hash_data: HashData


def split_chain(pem: str) -> list[x509.Certificate]:
    """The certificates of a PEM chain, leaf first; ValueError when there is none."""
    certificates = x509.load_pem_x509_certificates(pem.encode())
    if not certificates:  # pragma: no cover - cryptography raises on an empty chain itself
        raise ValueError("no certificate")
    return certificates


def summarize(pem: str, issuer: x509.Certificate | None = None) -> CertificateSummary:
    """The first certificate of a PEM chain summed up.

    Its issuer is `issuer`, else the next certificate of the chain, else (a root) itself. ValueError when the
    text holds no certificate.
    """
    chain = split_chain(pem)
    leaf = chain[0]
    if issuer is None and len(chain) > 1:
        issuer = chain[1]
    return CertificateSummary(
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        not_valid_after=leaf.not_valid_after_utc,
        hash_data=hash_data(leaf, issuer),
    )
