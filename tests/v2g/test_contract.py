"""The home mobility operator answers an EV's CertificateInstallationReq and CertificateUpdateReq (M01, M02)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from custom_components.ocpp_csms.csms.certificate_authority import V2G_ROOT_NAME
from custom_components.ocpp_csms.v2g.contract import ContractOutcome, HomeMobilityOperator, issue_contract
from custom_components.ocpp_csms.v2g.keytransport import decrypt_private_key
from custom_components.ocpp_csms.v2g.messages import (
    CertificateInstallationReq,
    CertificateInstallationRes,
    CertificateUpdateRes,
    Header,
    ResponseCode,
    V2GMessage,
    decode_message,
    encode_message,
    fragment,
    response_fragments,
)
from custom_components.ocpp_csms.v2g.schema import MSG_DEF
from custom_components.ocpp_csms.v2g.signature import verify

from .ev import PCID, SESSION_ID, Ev, make_certificate, signed_message, update_req

EMAID = "DEHAM1234567890"
CAR_EMAIDS = {PCID: EMAID}


def v2g_root(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / f"{V2G_ROOT_NAME}.crt").read_bytes())


def mo_root(directory: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / "mo-root.crt").read_bytes())


def install(operator: HomeMobilityOperator, ev: Ev, message: V2GMessage | None = None) -> ContractOutcome:
    message = message or signed_message(ev.installation_req(), ev.key)
    return issue_contract(encode_message(message), "Install", MSG_DEF, operator, CAR_EMAIDS.get)


def response(outcome: ContractOutcome) -> CertificateInstallationRes:
    assert outcome.exi_response is not None
    message = decode_message(outcome.exi_response)
    assert message.header.session_id == SESSION_ID
    assert isinstance(message.body, CertificateInstallationRes)
    return message.body


def check_answer(outcome: ContractOutcome, ev_key: ec.EllipticCurvePrivateKey, operator_dir: Path) -> x509.Certificate:
    """Everything the EV checks in an accepted answer; the contract certificate."""
    assert outcome.accepted
    assert outcome.reason is None
    assert outcome.response_code is ResponseCode.OK
    message = decode_message(outcome.exi_response or b"")
    res = message.body
    assert isinstance(res, CertificateInstallationRes)
    assert res.response_code is ResponseCode.OK
    assert res.emaid.value == EMAID

    # The SA provisioning chain (CPS leaf, CPS sub-CA) goes up to the V2G root.
    cps_leaf = x509.load_der_x509_certificate(res.sa_provisioning_certificate_chain.certificate)
    (cps_sub_der,) = res.sa_provisioning_certificate_chain.sub_certificates
    cps_sub = x509.load_der_x509_certificate(cps_sub_der)
    cps_leaf.verify_directly_issued_by(cps_sub)
    cps_sub.verify_directly_issued_by(v2g_root(operator_dir))

    # The signature: the four parts by Id, digested as EXI fragments, signed by the CPS leaf (r||s over SignedInfo).
    signature = message.header.signature
    assert signature is not None
    parts = response_fragments(res)
    assert set(parts) == {"id1", "id2", "id3", "id4"}
    verify(signature, parts, cps_leaf.public_key())  # type: ignore[arg-type]
    digests = {r.uri: r.digest_value for r in signature.signed_info.references}
    assert digests == {f"#{i}": hashlib.sha256(data).digest() for i, data in parts.items()}
    value = signature.signature_value
    der = encode_dss_signature(int.from_bytes(value[:32], "big"), int.from_bytes(value[32:], "big"))
    public = cps_leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(der, fragment(signature.signed_info), ec.ECDSA(hashes.SHA256()))

    # The contract chain goes up to the MO root; its CN is the eMAID.
    contract = x509.load_der_x509_certificate(res.contract_signature_cert_chain.certificate)
    (mo_sub_der,) = res.contract_signature_cert_chain.sub_certificates
    mo_sub = x509.load_der_x509_certificate(mo_sub_der)
    contract.verify_directly_issued_by(mo_sub)
    mo_sub.verify_directly_issued_by(mo_root(operator_dir))
    assert contract.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == EMAID

    # The EV decrypts the contract private key: it belongs to the contract certificate.
    assert len(res.contract_signature_encrypted_private_key.value) == 48
    assert len(res.dh_public_key.value) == 65
    key = decrypt_private_key(res.contract_signature_encrypted_private_key.value, res.dh_public_key.value, ev_key)
    assert key.public_key() == contract.public_key()
    return contract


def test_m01_installation_issues_a_contract(operator: HomeMobilityOperator, operator_dir: Path) -> None:
    ev = Ev.make(trusted=(v2g_root(operator_dir),))
    outcome = install(operator, ev)
    check_answer(outcome, ev.key, operator_dir)
    assert (outcome.pcid, outcome.emaid, outcome.v2g_root_listed) == (PCID, EMAID, True)


def test_m01_an_ev_without_our_v2g_root_still_gets_an_answer(
    operator: HomeMobilityOperator, operator_dir: Path
) -> None:
    ev = Ev.make()
    outcome = install(operator, ev)
    check_answer(outcome, ev.key, operator_dir)
    assert outcome.v2g_root_listed is False


def refused(outcome: ContractOutcome, code: ResponseCode, words: str) -> None:
    assert not outcome.accepted
    assert outcome.reason is not None
    assert words in outcome.reason
    assert outcome.response_code is code
    res = response(outcome)
    assert res.response_code is code
    assert res.contract_signature_cert_chain.certificate == b""
    assert decode_message(outcome.exi_response or b"").header.signature is None


def test_m01_unknown_pcid_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make(pcid="OTHERCAR123456789")
    outcome = install(operator, ev)
    refused(outcome, ResponseCode.FAILED_NO_CERTIFICATE_AVAILABLE, "no eMAID is assigned to the car OTHERCAR123456789")
    assert outcome.pcid == "OTHERCAR123456789"
    assert outcome.emaid is None


def test_m01_a_request_signed_with_another_key_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    outcome = install(operator, ev, signed_message(ev.installation_req(), ec.generate_private_key(ec.SECP256R1())))
    refused(outcome, ResponseCode.FAILED_SIGNATURE_ERROR, "does not verify")


def test_m01_a_body_changed_after_signing_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    message = signed_message(ev.installation_req(), ev.key)
    changed = replace(message, body=replace(ev.installation_req(), root_certificate_ids=()))
    changed = replace(changed, body=CertificateInstallationReq("id1", ev.oem_certificate, ev.roots * 2))
    refused(install(operator, ev, changed), ResponseCode.FAILED_SIGNATURE_ERROR, "digest of #id1 does not match")


def test_m01_an_unsigned_request_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    message = V2GMessage(Header(SESSION_ID), ev.installation_req())
    refused(install(operator, ev, message), ResponseCode.FAILED_SIGNATURE_ERROR, "not signed")


def test_m01_a_signature_over_another_element_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    message = signed_message(ev.installation_req("id7"), ev.key)
    message = replace(message, body=ev.installation_req("id1"))
    refused(install(operator, ev, message), ResponseCode.FAILED_SIGNATURE_ERROR, "references ['id7'], not ['id1']")


def test_m01_an_expired_provisioning_certificate_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make(start=datetime.now(UTC) - timedelta(days=30), days=10)
    refused(install(operator, ev), ResponseCode.FAILED_CERTIFICATE_EXPIRED, "not valid now")


def test_m01_unreadable_or_unfit_provisioning_certificates_are_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    garbage = replace(ev, oem_certificate=b"\x30\x03\x02\x01\x01")
    refused(install(operator, garbage), ResponseCode.FAILED_CERT_CHAIN_ERROR, "cannot be read")

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, PCID)]))
        .issuer_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, PCID)]))
        .public_key(rsa_key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(rsa_key, hashes.SHA256())
    )
    with_rsa = replace(ev, oem_certificate=rsa_cert.public_bytes(serialization.Encoding.DER))
    refused(install(operator, with_rsa), ResponseCode.FAILED_CERT_CHAIN_ERROR, "no EC P-256 key")

    key = ec.generate_private_key(ec.SECP256R1())
    nameless = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "OEM")]))
        .issuer_name(x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "OEM")]))
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    without_cn = Ev(key, nameless.public_bytes(serialization.Encoding.DER), ev.roots)
    refused(install(operator, without_cn), ResponseCode.FAILED_CERT_CHAIN_ERROR, "names no PCID")


def test_m01_an_emaid_of_the_wrong_length_is_refused(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    message = signed_message(ev.installation_req(), ev.key)
    outcome = issue_contract(encode_message(message), "Install", MSG_DEF, operator, lambda _: "DE-TOO-SHORT")
    refused(outcome, ResponseCode.FAILED, "is not 14 or 15 characters")


def test_garbage_a_wrong_schema_or_action_is_refused_without_an_answer(operator: HomeMobilityOperator) -> None:
    ev = Ev.make()
    exi = encode_message(signed_message(ev.installation_req(), ev.key))
    cases = {
        "the EXI request cannot be read": issue_contract(b"garbage", "Install", MSG_DEF, operator, CAR_EMAIDS.get),
        "a length beyond the end": issue_contract(exi[:40], "Install", MSG_DEF, operator, CAR_EMAIDS.get),
        "unsupported ISO 15118 schema version 'urn:iso:15118:2:2010:MsgDef'": issue_contract(
            exi, "Install", "urn:iso:15118:2:2010:MsgDef", operator, CAR_EMAIDS.get
        ),
        "unknown action 'Renew'": issue_contract(exi, "Renew", MSG_DEF, operator, CAR_EMAIDS.get),
        "action Update needs a CertificateUpdateReq, not CertificateInstallationReq": issue_contract(
            exi, "Update", MSG_DEF, operator, CAR_EMAIDS.get
        ),
        "needs a CertificateInstallationReq, not an empty body": issue_contract(
            encode_message(V2GMessage(Header(SESSION_ID), None)), "Install", MSG_DEF, operator, CAR_EMAIDS.get
        ),
    }
    for words, outcome in cases.items():
        assert not outcome.accepted
        assert outcome.exi_response is None
        assert outcome.reason is not None
        assert words in outcome.reason, outcome.reason


def installed_contract(
    operator: HomeMobilityOperator, operator_dir: Path
) -> tuple[Ev, CertificateInstallationRes, ec.EllipticCurvePrivateKey]:
    ev = Ev.make()
    outcome = install(operator, ev)
    res = response(outcome)
    key = decrypt_private_key(res.contract_signature_encrypted_private_key.value, res.dh_public_key.value, ev.key)
    return ev, res, key


def update(
    operator: HomeMobilityOperator,
    message: V2GMessage,
    emaid_active: object = None,
) -> ContractOutcome:
    return issue_contract(
        encode_message(message),
        "Update",
        MSG_DEF,
        operator,
        CAR_EMAIDS.get,
        emaid_active=emaid_active,  # type: ignore[arg-type]
    )


def test_m02_update_renews_the_contract(operator: HomeMobilityOperator, operator_dir: Path) -> None:
    ev, res, contract_key = installed_contract(operator, operator_dir)
    body = update_req(res.contract_signature_cert_chain, EMAID, ev.roots)
    outcome = update(operator, signed_message(body, contract_key))
    new_contract = check_answer(outcome, contract_key, operator_dir)
    assert isinstance(decode_message(outcome.exi_response or b"").body, CertificateUpdateRes)
    assert new_contract.public_bytes(serialization.Encoding.DER) != res.contract_signature_cert_chain.certificate
    assert (outcome.pcid, outcome.emaid) == (None, EMAID)


def test_m02_update_refusals(operator: HomeMobilityOperator, operator_dir: Path) -> None:
    ev, res, contract_key = installed_contract(operator, operator_dir)
    chain = res.contract_signature_cert_chain

    cancelled = update(operator, signed_message(update_req(chain, EMAID, ev.roots), contract_key), lambda _: False)
    refused(cancelled, ResponseCode.FAILED_CONTRACT_CANCELED, f"the eMAID {EMAID} is no longer assigned")

    other = update(operator, signed_message(update_req(chain, "DEHAM0000000000", ev.roots), contract_key))
    refused(other, ResponseCode.FAILED_CERT_CHAIN_ERROR, "not for the eMAID named")

    unsigned = update(operator, signed_message(update_req(chain, EMAID, ev.roots), ev.key))
    refused(unsigned, ResponseCode.FAILED_SIGNATURE_ERROR, "does not verify")

    foreign_key = ec.generate_private_key(ec.SECP256R1())
    foreign = replace(chain, certificate=make_certificate(EMAID, foreign_key).public_bytes(serialization.Encoding.DER))
    not_ours = update(operator, signed_message(update_req(foreign, EMAID, ev.roots), foreign_key))
    refused(not_ours, ResponseCode.FAILED_CERT_CHAIN_ERROR, "not one this home operator issued")


def test_the_operator_keeps_its_files_and_renews_the_cps_leaf(tmp_path: Path) -> None:
    from custom_components.ocpp_csms.csms.certificates import issue_leaf, write_key_pair  # noqa: PLC0415
    from custom_components.ocpp_csms.v2g.issuers import GENERATED_FILES, ensure_mo_issuer  # noqa: PLC0415

    first = HomeMobilityOperator.ensure(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= set(GENERATED_FILES)
    assert (tmp_path / "v2g-cps.key").stat().st_mode & 0o777 == 0o600
    again = HomeMobilityOperator.ensure(tmp_path)
    assert again.cps.certificate == first.cps.certificate
    assert again.mo_issuer.certificate == first.mo_issuer.certificate
    assert ensure_mo_issuer(tmp_path)[1] == (tmp_path / "mo-root.crt").read_bytes()

    # A leaf near its end is renewed.
    key = ec.generate_private_key(ec.SECP256R1())
    short = issue_leaf(first.cps.sub_ca, _sub_key(tmp_path), key.public_key(), first.cps.certificate.subject, 10)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_key_pair(tmp_path, "v2g-cps", short.public_bytes(serialization.Encoding.PEM), key_pem)
    renewed = HomeMobilityOperator.ensure(tmp_path)
    assert renewed.cps.certificate not in {short, first.cps.certificate}

    # A new CPS sub-CA (its files removed) gets a new leaf, which it issued.
    for suffix in ("crt", "key"):
        (tmp_path / f"v2g-cps-sub-ca.{suffix}").unlink()
    fresh = HomeMobilityOperator.ensure(tmp_path)
    fresh.cps.certificate.verify_directly_issued_by(fresh.cps.sub_ca)
    assert fresh.cps.sub_ca != first.cps.sub_ca


def _sub_key(directory: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key((directory / "v2g-cps-sub-ca.key").read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key
