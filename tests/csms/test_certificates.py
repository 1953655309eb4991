"""Certificate generation and reading (A00.FR.501-514), and writing keys to disk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import ipaddress
from pathlib import Path
import stat

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID
import pytest

from custom_components.ocpp_csms.csms.certificates import (
    certificate_common_name,
    certificate_organization,
    generate_ca,
    generate_client_certificate,
    generate_server_certificate,
    load_certificate,
    peer_common_name,
    write_certificate,
    write_key_pair,
    write_private_key,
)

from .conftest import ORGANIZATION, STATION_SERIAL, Pki


def extension[T: x509.ExtensionType](certificate: x509.Certificate, kind: type[T]) -> T:
    return certificate.extensions.get_extension_for_class(kind).value


def test_ca_is_a_self_signed_ec_p256_authority(pki: Pki) -> None:
    ca = load_certificate(pki.ca.cert_pem)
    assert ca.subject == ca.issuer
    ca.verify_directly_issued_by(ca)
    constraints = extension(ca, x509.BasicConstraints)
    assert constraints.ca
    assert constraints.path_length == 0
    usage = extension(ca, x509.KeyUsage)
    assert usage.key_cert_sign
    assert usage.crl_sign
    public_key = ca.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"  # A00.FR.503: at least 224 bits
    assert ca.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256  # A00.FR.505, A00.FR.506
    assert certificate_organization(ca) == ORGANIZATION  # A00.FR.509


def test_a00_fr_510_server_certificate_names_the_hosts(pki: Pki) -> None:
    server = load_certificate(pki.server.cert_pem)
    server.verify_directly_issued_by(load_certificate(pki.ca.cert_pem))
    assert certificate_common_name(server) == "localhost"
    assert certificate_organization(server) == ORGANIZATION
    names = extension(server, x509.SubjectAlternativeName)
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert not extension(server, x509.BasicConstraints).ca
    usage = extension(server, x509.KeyUsage)
    assert usage.digital_signature
    assert not usage.key_cert_sign
    assert not usage.key_encipherment  # EC keys do not encipher


def test_a00_fr_514_no_extended_key_usage_unless_asked(pki: Pki) -> None:
    for pem in (pki.ca.cert_pem, pki.server.cert_pem, pki.station.cert_pem):
        with pytest.raises(x509.ExtensionNotFound):
            load_certificate(pem).extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    server_pem, _ = generate_server_certificate(
        pki.ca.cert_pem, pki.ca.key_pem, ["csms.example.com"], extended_key_usage=True
    )
    assert list(extension(load_certificate(server_pem), x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.SERVER_AUTH]
    client_pem, _ = generate_client_certificate(pki.ca.cert_pem, pki.ca.key_pem, "SN-9", extended_key_usage=True)
    assert list(extension(load_certificate(client_pem), x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_a00_fr_511_station_certificate_has_serial_cn_and_no_alt_names(pki: Pki) -> None:
    station = load_certificate(pki.station.cert_pem)
    station.verify_directly_issued_by(load_certificate(pki.ca.cert_pem))
    assert certificate_common_name(station) == STATION_SERIAL
    assert certificate_organization(station) == ORGANIZATION  # A00.FR.404
    with pytest.raises(x509.ExtensionNotFound):
        station.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert extension(station, x509.KeyUsage).digital_signature


def test_a00_fr_508_serial_numbers_are_unique(pki: Pki) -> None:
    serials = {
        load_certificate(pem).serial_number for pem in (pki.ca.cert_pem, pki.server.cert_pem, pki.station.cert_pem)
    }
    assert len(serials) == 3
    assert all(serial > 0 for serial in serials)


def test_a00_fr_502_505_rsa_chain_uses_2048_bit_keys_and_pss(pki: Pki) -> None:
    rsa_ca = load_certificate(pki.rsa_ca.cert_pem)
    rsa_server = load_certificate(pki.rsa_server.cert_pem)
    rsa_server.verify_directly_issued_by(rsa_ca)
    for certificate in (rsa_ca, rsa_server):
        public_key = certificate.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        assert public_key.key_size == 2048
        assert certificate.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS
    # keyEncipherment: the TLS_RSA_* suites of A00.FR.318 encrypt the premaster secret to this key.
    assert extension(rsa_server, x509.KeyUsage).key_encipherment


def test_validity_is_backdated_for_clock_skew_and_lasts_as_asked(pki: Pki) -> None:
    station = load_certificate(pki.station.cert_pem)
    lifetime = station.not_valid_after_utc - station.not_valid_before_utc
    assert lifetime.days == 825  # 825 days + the 1 hour backdating
    ca_pem, _ = generate_ca("Short", valid_days=30)
    ca = load_certificate(ca_pem)
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days == 30


def test_signing_refuses_a_key_of_another_ca(pki: Pki) -> None:
    with pytest.raises(ValueError, match="does not belong"):
        generate_client_certificate(pki.ca.cert_pem, pki.other_ca.key_pem, "SN-1")
    with pytest.raises(ValueError, match="at least one host"):
        generate_server_certificate(pki.ca.cert_pem, pki.ca.key_pem, [])
    with pytest.raises(ValueError, match="key type"):
        generate_ca("X", key_type="dsa")  # type: ignore[arg-type]


def test_signing_refuses_a_ca_key_of_another_algorithm() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Ed25519 CA")])
    now = datetime.now(UTC)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, None)
    )
    ca_key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(TypeError, match="EC or RSA"):
        generate_client_certificate(ca.public_bytes(serialization.Encoding.PEM), ca_key_pem, "SN-1")


def test_common_name_from_pem_der_and_parsed(pki: Pki) -> None:
    certificate = load_certificate(pki.station.cert_pem)
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert certificate_common_name(pki.station.cert_pem) == STATION_SERIAL
    assert certificate_common_name(der) == STATION_SERIAL
    assert certificate_common_name(certificate) == STATION_SERIAL
    with pytest.raises(ValueError, match="asn1"):
        load_certificate(b"not a certificate")


def test_certificate_without_common_name(pki: Pki) -> None:
    ca = load_certificate(pki.ca.cert_pem)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Only O")]))
        .issuer_name(ca.subject)
        .serial_number(1)
        .not_valid_before(ca.not_valid_before_utc)
        .not_valid_after(ca.not_valid_after_utc)
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = builder.public_key(key.public_key()).sign(key, hashes.SHA256())
    assert certificate_common_name(certificate) is None
    assert certificate_organization(certificate) == "Only O"


@pytest.mark.parametrize(
    ("peercert", "expected"),
    [
        pytest.param(
            {
                "subject": ((("organizationName", "Test CSO"),), (("commonName", STATION_SERIAL),)),
                "issuer": ((("commonName", "Test CSMS Root"),),),
            },
            STATION_SERIAL,
            id="verified-peer",
        ),
        pytest.param({}, None, id="unverified-or-absent"),
        pytest.param(None, None, id="no-tls"),
        pytest.param({"subject": ((("organizationName", "Test CSO"),),)}, None, id="no-cn"),
    ],
)
def test_b01_fr_11_peer_common_name_from_getpeercert(peercert: dict[str, object] | None, expected: str | None) -> None:
    assert peer_common_name(peercert) == expected


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_key_pair_protects_the_key(tmp_path: Path, pki: Pki) -> None:
    cert_file, key_file = write_key_pair(tmp_path / "tls", "csms", pki.server.cert_pem, pki.server.key_pem)
    assert cert_file == tmp_path / "tls" / "csms.crt"
    assert key_file == tmp_path / "tls" / "csms.key"
    assert cert_file.read_bytes() == pki.server.cert_pem
    assert key_file.read_bytes() == pki.server.key_pem
    assert mode(key_file) == 0o600
    assert mode(cert_file) == 0o644
    assert mode(tmp_path / "tls") == 0o700
    assert sorted(p.name for p in (tmp_path / "tls").iterdir()) == ["csms.crt", "csms.key"]  # no temporaries left


def test_rewriting_a_world_readable_key_makes_it_private(tmp_path: Path, pki: Pki) -> None:
    key_file = tmp_path / "old.key"
    key_file.write_bytes(b"old")
    key_file.chmod(0o644)
    write_private_key(key_file, pki.station.key_pem)
    assert mode(key_file) == 0o600
    assert key_file.read_bytes() == pki.station.key_pem
    write_certificate(tmp_path / "nested" / "station.crt", pki.station.cert_pem)
    assert (tmp_path / "nested" / "station.crt").read_bytes() == pki.station.cert_pem


def test_failed_write_leaves_no_temporary_file(tmp_path: Path, pki: Pki) -> None:
    (tmp_path / "taken.key").mkdir()  # a directory where the key should go: the final rename fails
    with pytest.raises(OSError, match=r"taken\.key"):
        write_private_key(tmp_path / "taken.key", pki.station.key_pem)
    assert [p.name for p in tmp_path.iterdir()] == ["taken.key"]
