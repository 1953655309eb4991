"""The station certificate authority: CSR checks (A02/A03, A00.FR.5xx), signing, hash data; OCSP (M06, C07)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp as crypto_ocsp
from cryptography.x509.oid import NameOID
import pytest

from custom_components.ocpp_csms.csms.certificate_authority import (
    CsrRejectedError,
    Issuer,
    check_csr,
    ensure_v2g_issuer,
    hash_data,
    summarize,
)
from custom_components.ocpp_csms.csms.certificates import load_certificate
from custom_components.ocpp_csms.csms.ocsp import (
    CertId,
    CertStatus,
    OcspCache,
    OcspError,
    ocsp_request,
    parse_response,
)
from custom_components.ocpp_csms.protocol.v201.enums import CertificateSigningUse, HashAlgorithm

from ..ocsp_responder import OcspResponder
from .conftest import ORGANIZATION, Pki

CS = CertificateSigningUse.CHARGING_STATION_CERTIFICATE
V2G = CertificateSigningUse.V2G_CERTIFICATE


def make_csr(
    common_name: str | None = "SN-0001",
    organization: str | None = ORGANIZATION,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None,
    algorithm: hashes.HashAlgorithm | None = None,
) -> str:
    """A real PKCS#10 request, as a station generates it (A02.FR.02-03)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    names = []
    if common_name is not None:
        names.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if organization is not None:
        names.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    request = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(names))
    return request.sign(key, algorithm or hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def check(csr: str, use: CertificateSigningUse = CS, serial: str | None = "SN-0001") -> x509.CertificateSigningRequest:
    return check_csr(csr, use=use, organization=ORGANIZATION, serial_number=serial)


# ---- CSR checks -----------------------------------------------------------------------------------------------


def test_a02_a_good_ec_and_rsa_csr_are_accepted() -> None:
    assert check(make_csr()).subject.rfc4514_string() == f"O={ORGANIZATION},CN=SN-0001"
    check(make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)))


@pytest.mark.parametrize(
    ("csr", "use", "serial", "reason"),
    [
        pytest.param("hello", CS, "SN-0001", "not a PEM", id="not-pem"),
        pytest.param(
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----",
            CS,
            "SN-0001",
            "cannot be read",
            id="garbage",
        ),
        pytest.param(make_csr(common_name="SN-9999"), CS, "SN-0001", "serial number 'SN-0001'", id="wrong-cn"),
        pytest.param(make_csr(common_name=None), CS, "SN-0001", "no common name", id="no-cn"),
        pytest.param(make_csr(organization="Someone"), CS, "SN-0001", "organization", id="wrong-o"),
        pytest.param(make_csr(), CS, None, "no serial number", id="no-serial-known"),
        pytest.param(
            make_csr(key=rsa.generate_private_key(public_exponent=65537, key_size=1024)),  # noqa: S505 - the point
            CS,
            "SN-0001",
            "at least 2048",
            id="rsa-1024",
        ),
        pytest.param(
            make_csr(key=ec.generate_private_key(ec.SECP192R1())),
            CS,
            "SN-0001",
            "at least 224",
            id="ec-192",
        ),
        pytest.param(
            make_csr(key=ec.generate_private_key(ec.SECP384R1())),
            V2G,
            "SN-0001",
            "secp256r1",
            id="v2g-p384",
        ),
        pytest.param(make_csr(algorithm=hashes.SHA224()), CS, "SN-0001", "SHA-256", id="sha224"),
    ],
)
def test_a02_unacceptable_csrs_are_refused_with_a_reason(
    csr: str, use: CertificateSigningUse, serial: str | None, reason: str
) -> None:
    with pytest.raises(CsrRejectedError, match=reason):
        check(csr, use, serial)


def test_a_csr_whose_signature_does_not_verify_is_refused() -> None:
    good = x509.load_pem_x509_csr(make_csr().encode())
    der = bytearray(good.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(CsrRejectedError, match="signature does not verify"):
        check(tampered)


def test_a_v2g_csr_needs_no_serial_number_as_common_name() -> None:
    assert check(make_csr(common_name="SECC-1"), V2G, None).subject.get_attributes_for_oid(NameOID.COMMON_NAME)


# ---- signing --------------------------------------------------------------------------------------------------


def test_a02_signed_station_certificate_verifies_to_the_ca(pki: Pki) -> None:
    issuer = Issuer.load(pki.ca.cert_file, pki.ca.key_file)
    for key in (
        ec.generate_private_key(ec.SECP256R1()),
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
    ):
        chain = x509.load_pem_x509_certificates(issuer.sign(check(make_csr(key=key)), CS).encode())
        assert len(chain) == 1  # the CA is a root: never sent along
        leaf = chain[0]
        leaf.verify_directly_issued_by(load_certificate(pki.ca.cert_pem))
        assert leaf.public_key() == key.public_key()
        assert leaf.subject.rfc4514_string() == f"O={ORGANIZATION},CN=SN-0001"
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        assert usage.digital_signature
        assert usage.key_encipherment == isinstance(key, rsa.RSAPrivateKey)
        with pytest.raises(x509.ExtensionNotFound):  # A00.FR.514
            leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)


def test_v2g_certificates_are_signed_by_the_cpo_sub_ca_under_the_v2g_root(tmp_path: Path) -> None:
    issuer, root_pem = ensure_v2g_issuer(tmp_path)
    again, root_again = ensure_v2g_issuer(tmp_path)  # kept
    assert root_again == root_pem
    assert again.certificate == issuer.certificate
    assert (tmp_path / "v2g-root.key").stat().st_mode & 0o777 == 0o600
    chain = x509.load_pem_x509_certificates(issuer.sign(check(make_csr("SECC-1"), V2G), V2G).encode())
    leaf, sub_ca = chain  # the root is installed with InstallCertificate, not sent (M05)
    root = load_certificate(root_pem)
    leaf.verify_directly_issued_by(sub_ca)
    sub_ca.verify_directly_issued_by(root)
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc < timedelta(days=92)
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.key_agreement
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1


def test_hash_data_is_rfc6960_cert_id(pki: Pki) -> None:
    station = load_certificate(pki.station.cert_pem)
    ca = load_certificate(pki.ca.cert_pem)
    ours = hash_data(station, ca)
    reference = (
        crypto_ocsp.OCSPRequestBuilder().add_certificate(station, ca, hashes.SHA256()).build()
    )  # cryptography's own CertID
    assert bytes.fromhex(ours.issuer_name_hash) == reference.issuer_name_hash
    assert bytes.fromhex(ours.issuer_key_hash) == reference.issuer_key_hash
    assert int(ours.serial_number, 16) == station.serial_number
    assert hash_data(pki.rsa_ca.cert_pem, algorithm=HashAlgorithm.SHA384).issuer_name_hash
    summary = summarize(pki.station.cert_pem.decode(), ca)
    assert summary.hash_data == ours
    assert summary.subject == station.subject.rfc4514_string()
    root = summarize(pki.ca.cert_pem.decode())
    assert root.hash_data.key()[1:3] == (hash_data(ca).issuer_name_hash, hash_data(ca).issuer_key_hash)
    with pytest.raises(ValueError, match="PEM"):
        summarize("no certificate")


# ---- OCSP -----------------------------------------------------------------------------------------------------


@pytest.fixture
def responder(pki: Pki) -> OcspResponder:
    ca, key = load_certificate(pki.ca.cert_pem), serialization.load_pem_private_key(pki.ca.key_pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return OcspResponder(ca, key)


def cert_id(pki: Pki) -> CertId:
    data = hash_data(pki.station.cert_pem, pki.ca.cert_pem)
    return CertId(data.hash_algorithm, data.issuer_name_hash, data.issuer_key_hash, data.serial_number, "http://x/")


@pytest.mark.parametrize("status", ["good", "revoked", "unknown"])
def test_m06_ocsp_answers_are_read(pki: Pki, responder: OcspResponder, status: str) -> None:
    wanted = cert_id(pki)
    responder.statuses[int(wanted.serial_number, 16)] = status
    answer = parse_response(responder.answer(ocsp_request(wanted)), wanted, datetime.now(UTC))
    assert answer.status is CertStatus(status)
    assert crypto_ocsp.load_der_ocsp_response(__import__("base64").b64decode(answer.base64())).serial_number == int(
        wanted.serial_number, 16
    )


def test_ocsp_answers_that_say_nothing_usable_are_errors(pki: Pki, responder: OcspResponder) -> None:
    wanted = cert_id(pki)
    now = datetime.now(UTC)
    der = responder.answer(ocsp_request(wanted))
    with pytest.raises(OcspError, match="not an OCSP response"):
        parse_response(b"nonsense", wanted, now)
    unauthorized = crypto_ocsp.OCSPResponseBuilder.build_unsuccessful(crypto_ocsp.OCSPResponseStatus.UNAUTHORIZED)
    with pytest.raises(OcspError, match="UNAUTHORIZED"):
        parse_response(unauthorized.public_bytes(serialization.Encoding.DER), wanted, now)
    other = CertId(wanted.hash_algorithm, wanted.issuer_name_hash, wanted.issuer_key_hash, "abc", "http://x/")
    with pytest.raises(OcspError, match="another certificate"):
        parse_response(der, other, now)
    with pytest.raises(OcspError, match="out of date"):
        parse_response(der, wanted, now + timedelta(hours=2))
    with pytest.raises(OcspError, match="future"):
        parse_response(der, wanted, now - timedelta(hours=2))
    with pytest.raises(OcspError, match="malformed"):
        ocsp_request(CertId(HashAlgorithm.SHA256, "zz", "00", "1", "http://x/"))
    with pytest.raises(OcspError, match="hexadecimal"):
        ocsp_request(CertId(HashAlgorithm.SHA256, "00", "00", "xyz", "http://x/"))


def test_ocsp_cache_keeps_an_answer_until_its_next_update(pki: Pki, responder: OcspResponder) -> None:
    wanted = cert_id(pki)
    now = datetime.now(UTC)
    answer = parse_response(responder.answer(ocsp_request(wanted)), wanted, now)
    cache = OcspCache()
    assert cache.get(wanted, now) is None
    cache.put(wanted, answer, now)
    assert cache.get(wanted, now + timedelta(minutes=30)) is answer
    assert cache.get(wanted, now + timedelta(hours=2)) is None
    assert len(cache) == 0
    responder.validity = timedelta(days=30)  # never longer than a week (M06.FR.10)
    long_lived = parse_response(responder.answer(ocsp_request(wanted)), wanted, now)
    cache.put(wanted, long_lived, now)
    assert cache.get(wanted, now + timedelta(days=8)) is None
