"""X.509 certificates for security profiles 2 and 3 (Part 2 A00 "Keys used in OCPP", A00.FR.501-514).

A small certificate authority for a local installation: a CA, the CSMS server certificate, and station client
certificates (for the simulator and tests; real stations bring theirs or get one through A02/A03).

Keys are EC P-256 by default: 128-bit security (A00.FR.501, A00.FR.503), fast to generate, and what the
ECDHE-ECDSA cipher suites need (A00.FR.318). `key_type="rsa"` makes RSA 2048 keys (A00.FR.502) for stations
that implement only the TLS_RSA suites (A00.FR.319 allows that); serve both with two server certificates
(see `tls.server_context`). Certificates are signed with SHA-256 (A00.FR.506), by ECDSA or RSA-PSS
(A00.FR.505), carry a random serial number (A00.FR.508), the organisation in O (A00.FR.509) and the Key
Usage extension (A00.FR.512). Extended Key Usage is left out unless asked for (A00.FR.514 recommends
against it; OpenSSL then accepts the certificate for any purpose).

Key generation and signing are CPU work (RSA: ~100 ms) and the `write_*` functions do file I/O: run them in
an executor. Reading a certificate (`certificate_common_name`, `load_certificate`) is cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import ipaddress
import os
from pathlib import Path
import tempfile
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

type KeyType = Literal["ec", "rsa"]
type PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
type PublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

DEFAULT_ORGANIZATION: Final = "Home Assistant OCPP CSMS"
#: Backdating of notBefore, for stations whose clock runs a little behind (errata 2025-09 on A02.FR.06).
CLOCK_SKEW: Final = timedelta(hours=1)


def _new_key(key_type: KeyType) -> PrivateKey:
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key type {key_type!r}")


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_ca(ca_cert_pem: bytes, ca_key_pem: bytes) -> tuple[x509.Certificate, PrivateKey]:
    """A CA's certificate and key from PEM; TypeError/ValueError when they are no EC/RSA pair."""
    return _load_ca(ca_cert_pem, ca_key_pem)


def _load_ca(ca_cert_pem: bytes, ca_key_pem: bytes) -> tuple[x509.Certificate, PrivateKey]:
    certificate = x509.load_pem_x509_certificate(ca_cert_pem)
    key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise TypeError("the CA key must be an EC or RSA key")
    if key.public_key() != certificate.public_key():
        raise ValueError("the CA key does not belong to the CA certificate")
    return certificate, key


def _sign(builder: x509.CertificateBuilder, signer: PrivateKey) -> x509.Certificate:
    """Sign with SHA-256: ECDSA for an EC signer, RSA-PSS for an RSA one (A00.FR.505, A00.FR.506)."""
    if isinstance(signer, rsa.RSAPrivateKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
        return builder.sign(signer, hashes.SHA256(), rsa_padding=pss)
    return builder.sign(signer, hashes.SHA256())


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _leaf_builder(
    issuer: x509.Certificate,
    key: PrivateKey | PublicKey,
    subject: x509.Name,
    valid_days: int,
    *,
    ca: bool = False,
) -> x509.CertificateBuilder:
    """A certificate issued by `issuer` for `key` (a private key, or the public key of a CSR).

    `ca`: a sub-CA that signs leaf certificates only (path length 0), else a leaf.
    """
    public_key = key if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey) else key.public_key()
    now = datetime.now(UTC)
    issuer_ski = issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False)
    )


def _key_usage(*, digital_signature: bool = False, key_encipherment: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def generate_ca(
    common_name: str,
    valid_days: int = 3650,
    *,
    organization: str = DEFAULT_ORGANIZATION,
    key_type: KeyType = "ec",
    path_length: int = 0,
) -> tuple[bytes, bytes]:
    """A self-signed CA: (certificate PEM, private key PEM).

    By default it signs certificates directly (path length 0); a root above sub-CAs (the V2G root of ISO 15118)
    takes `path_length=1`. CPU work: run it in an executor.
    """
    key = _new_key(key_type)
    now = datetime.now(UTC)
    subject = _name(common_name, organization)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(digital_signature=True, ca=True), critical=True)
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
    )
    certificate = _sign(builder, key)
    return certificate.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def generate_sub_ca(
    issuer_cert_pem: bytes,
    issuer_key_pem: bytes,
    common_name: str,
    valid_days: int = 1825,
    *,
    organization: str = DEFAULT_ORGANIZATION,
    domain_component: str | None = None,
) -> tuple[bytes, bytes]:
    """A sub-CA signed by a CA (path length 0: it signs leaf certificates only): (certificate PEM, key PEM).

    ISO 15118-2 marks its sub-CAs with a domainComponent ("CPO" for the charge point operator's, "MO" for a
    mobility operator's). EC P-256, as ISO 15118-2 requires. CPU work: run it in an executor.
    """
    issuer, issuer_key = _load_ca(issuer_cert_pem, issuer_key_pem)
    key = _new_key("ec")
    attributes = [
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ]
    if domain_component is not None:
        attributes.append(x509.NameAttribute(NameOID.DOMAIN_COMPONENT, domain_component))
    builder = _leaf_builder(issuer, key, x509.Name(attributes), valid_days, ca=True).add_extension(
        _key_usage(digital_signature=True, ca=True), critical=True
    )
    return _sign(builder, issuer_key).public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _san_entries(hosts: list[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return entries


def generate_server_certificate(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    hosts: list[str],
    valid_days: int = 825,
    *,
    organization: str = DEFAULT_ORGANIZATION,
    key_type: KeyType = "ec",
    extended_key_usage: bool = False,
) -> tuple[bytes, bytes]:
    """The CSMS server certificate signed by the CA: (certificate PEM, private key PEM).

    CN is the first host, the FQDN stations connect to (A00.FR.510); subjectAltName lists every host, as a
    DNS name or, when it parses as one, an IP address (A00.FR.511 allows several network paths; TLS clients
    such as Python's match hostnames against subjectAltName only). 825 days is the longest validity that
    Apple-style TLS clients accept; A00.FR.701 recommends short-lived CSMS certificates anyway.
    CPU work: run it in an executor.
    """
    if not hosts:
        raise ValueError("a server certificate needs at least one host")
    ca_certificate, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    key = _new_key(key_type)
    rsa_key = isinstance(key, rsa.RSAPrivateKey)
    builder = (
        _leaf_builder(ca_certificate, key, _name(hosts[0], organization), valid_days)
        # keyEncipherment: the TLS_RSA_* suites (A00.FR.318) encrypt the premaster secret to the RSA key.
        .add_extension(_key_usage(digital_signature=True, key_encipherment=rsa_key), critical=True)
        .add_extension(x509.SubjectAlternativeName(_san_entries(hosts)), critical=False)
    )
    if extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return _sign(builder, ca_key).public_bytes(serialization.Encoding.PEM), _key_pem(key)


def generate_client_certificate(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    common_name: str,
    valid_days: int = 825,
    *,
    organization: str = DEFAULT_ORGANIZATION,
    key_type: KeyType = "ec",
    extended_key_usage: bool = False,
) -> tuple[bytes, bytes]:
    """A Charging Station certificate signed by the CA: (certificate PEM, private key PEM).

    CN is the station's serial number (A00.FR.511; the CSMS matches it with the BootNotification serial
    number, B01.FR.11) and O the CSO's organisation name (A00.FR.404, A00.FR.509; the station's
    SecurityCtrlr.OrganizationName). No subjectAltName (A00.FR.511). CPU work: run it in an executor.
    """
    ca_certificate, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    key = _new_key(key_type)
    builder = _leaf_builder(ca_certificate, key, _name(common_name, organization), valid_days).add_extension(
        _key_usage(digital_signature=True), critical=True
    )
    if extended_key_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    return _sign(builder, ca_key).public_bytes(serialization.Encoding.PEM), _key_pem(key)


def issue_leaf(
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    public_key: PublicKey,
    subject: x509.Name,
    valid_days: int,
    *,
    key_agreement: bool = False,
) -> x509.Certificate:
    """A leaf certificate for another party's public key (a station's CSR), signed by `issuer`.

    Key Usage digitalSignature (TLS client authentication signs), keyEncipherment for RSA keys, keyAgreement
    where asked (an ISO 15118 SECC certificate's EC key agrees on keys with the EV). No Extended Key Usage
    (A00.FR.514). CPU work: run it in an executor.
    """
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    builder = _leaf_builder(issuer, public_key, subject, valid_days).add_extension(usage, critical=True)
    return _sign(builder, issuer_key)


def load_certificate(cert: bytes | x509.Certificate) -> x509.Certificate:
    """A certificate from PEM or DER bytes (or passed through); ValueError when it is neither."""
    if isinstance(cert, x509.Certificate):
        return cert
    if cert.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(cert)
    return x509.load_der_x509_certificate(cert)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    attributes = name.get_attributes_for_oid(oid)
    if not attributes:
        return None
    value = attributes[0].value
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def certificate_common_name(cert: bytes | x509.Certificate) -> str | None:
    """The subject CN of a certificate (PEM, DER or parsed), or None when it has none."""
    return _attribute(load_certificate(cert).subject, NameOID.COMMON_NAME)


def certificate_organization(cert: bytes | x509.Certificate) -> str | None:
    """The subject O of a certificate (PEM, DER or parsed), or None when it has none (A00.FR.404)."""
    return _attribute(load_certificate(cert).subject, NameOID.ORGANIZATION_NAME)


def peer_common_name(peercert: dict[str, Any] | None) -> str | None:
    """The subject CN of a peer certificate in the form `ssl.SSLObject.getpeercert()` returns.

    That dict is empty when the peer sent no certificate or it was not verified; None then. The subject is a
    tuple of RDNs, each a tuple of (name, value) pairs: `((("organizationName", "O"),), (("commonName", "CN"),))`.
    """
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return str(value)
    return None


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to `path` through a temporary file in the same directory, created with `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, mode)  # mkstemp creates 0600; certificates are public
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_private_key(path: str | os.PathLike[str], key_pem: bytes) -> Path:
    """Write a private key readable by the owner only (0600), atomically. File I/O: run it in an executor."""
    target = Path(path)
    _write_atomic(target, key_pem, 0o600)
    return target


def write_certificate(path: str | os.PathLike[str], cert_pem: bytes) -> Path:
    """Write a certificate (0644), atomically. File I/O: run it in an executor."""
    target = Path(path)
    _write_atomic(target, cert_pem, 0o644)
    return target


def write_key_pair(directory: str | os.PathLike[str], name: str, cert_pem: bytes, key_pem: bytes) -> tuple[Path, Path]:
    """Write `<name>.crt` (0644) and `<name>.key` (0600) into `directory`; returns their paths.

    The directory is created (0700) when missing. File I/O: run it in an executor.
    """
    folder = Path(directory)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return write_certificate(folder / f"{name}.crt", cert_pem), write_private_key(folder / f"{name}.key", key_pem)
