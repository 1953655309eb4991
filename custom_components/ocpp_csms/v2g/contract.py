"""The home mobility operator: contract certificates for a household's own cars (Get15118EVCertificate, M01, M02).

The station forwards the EV's ISO 15118-2 CertificateInstallationReq (action Install) or CertificateUpdateReq
(action Update) as EXI; `issue_contract` answers with the EXI of CertificateInstallationRes / CertificateUpdateRes:

- Install: the Req's signature is checked (its body, digested as an EXI fragment, signed with the OEM provisioning
  certificate's key: `signature`), the PCID read from that certificate's subject CN and `emaid_for(pcid)` asked for
  the eMAID the user assigned to that car (None: refused, FAILED_NoCertificateAvailable). The OEM provisioning
  certificate's own chain is not checked: the Req carries the leaf only and the integration keeps no OEM roots;
  the signature proves the EV holds the key, and the contract key is encrypted to that key, so only that EV can
  use the contract; which cars get one is the user's PCID assignment.
- Update: the Req is signed with the current contract certificate's key; that certificate must be one this
  operator issued (chained to its MO sub-CA, FAILED_CertChainError otherwise), in its validity
  (FAILED_CertificateExpired), for the eMAID the Req names, which `emaid_active` still accepts
  (FAILED_ContractCanceled otherwise). The new key is encrypted to the current contract certificate's key.

The answer holds a new contract certificate (CN = eMAID, EC P-256, signed by the MO sub-CA: `ensure_mo_issuer`) with
the MO sub-CA, the contract private key encrypted for the EV (`keytransport`), and is signed by the CPS leaf over
the four Id-referenced parts (ContractSignatureCertChain, ContractSignatureEncryptedPrivateKey, DHpublickey,
eMAID); SAProvisioningCertificateChain (the CPS leaf and sub-CA) lets the EV verify that signature up to the V2G
root. ISO 15118-2 has the EV list the V2G roots it trusts (ListOfRootCertificateIDs) so that the provisioning
service answers with a chain under one of them; this operator has one chain, under the integration's V2G root,
and answers with it whatever the EV lists (`ContractOutcome.v2g_root_listed` says whether the EV listed it): an EV
that does not trust that root rejects the answer itself, until the root is installed in it.

Refusals carry a reason; once the Req is read, the refusal also has an EXI answer with the FAILED_* ResponseCode
that applies (its other fields empty, unsigned) for the station to hand to the EV. An unsupported schema version or
a stream that cannot be read gets no EXI answer. Key generation and signing are CPU work: run `issue_contract` in an
executor (a few milliseconds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..csms.certificate_authority import Issuer, issuer_hashes, split_chain
from ..csms.certificates import DEFAULT_ORGANIZATION, issue_leaf
from ..protocol.v201.datatypes import OCSPRequestData
from ..protocol.v201.enums import AuthorizeCertificateStatus, CertificateAction
from .exi import ExiError
from .issuers import CpsSigner, ensure_cps_signer, ensure_mo_issuer
from .keytransport import encrypt_private_key
from .messages import (
    CertificateChain,
    CertificateInstallationReq,
    CertificateInstallationRes,
    CertificateUpdateReq,
    CertificateUpdateRes,
    Header,
    IdValue,
    ResponseCode,
    V2GMessage,
    X509IssuerSerial,
    decode_message,
    encode_message,
    fragment,
    response_fragments,
)
from .schema import MSG_DEF
from .signature import SignatureError, sign, verify

#: The ISO 15118 schema versions (iso15118SchemaVersion) the operator answers.
SUPPORTED_SCHEMA_VERSIONS: Final = (MSG_DEF,)
#: Validity of a contract certificate.
CONTRACT_CERTIFICATE_DAYS: Final = 730
#: eMAIDType: 14 or 15 characters.
EMAID_LENGTHS: Final = (14, 15)
#: Get15118EVCertificateResponse.exiResponse is at most 5600 base64 characters.
MAX_EXI_RESPONSE: Final = 5600 // 4 * 3
_IDS: Final = ("id1", "id2", "id3", "id4")


@dataclass(frozen=True, slots=True)
class ContractOutcome:
    """The answer: accepted with the EXI response, or refused with the reason (and a FAILED_* response if any)."""

    accepted: bool
    exi_response: bytes | None
    reason: str | None
    pcid: str | None = None
    emaid: str | None = None
    response_code: ResponseCode | None = None
    v2g_root_listed: bool | None = None


@dataclass(frozen=True, slots=True)
class HomeMobilityOperator:
    """What the operator signs with: the MO sub-CA (contract certificates) and the CPS (the answers)."""

    mo_issuer: Issuer
    cps: CpsSigner
    #: The MO root above the MO sub-CA (PEM): what a station installs as MORootCertificate.
    mo_root: bytes = b""

    @classmethod
    def ensure(cls, directory: Path, organization: str = DEFAULT_ORGANIZATION) -> HomeMobilityOperator:
        """The operator whose CAs are kept in `directory` (made when missing). Key generation and file I/O."""
        mo_issuer, mo_root = ensure_mo_issuer(directory, organization)
        return cls(mo_issuer, ensure_cps_signer(directory, organization), mo_root)


class _RefusedError(Exception):
    def __init__(self, code: ResponseCode, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def _common_name(certificate: x509.Certificate) -> str | None:
    attributes = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attributes[0].value if attributes else None
    return value if isinstance(value, str) and value else None


def _ev_certificate(der: bytes, what: str, now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePublicKey]:
    try:
        certificate = x509.load_der_x509_certificate(der)
        key = certificate.public_key()
    except (ValueError, UnsupportedAlgorithm) as err:
        raise _RefusedError(ResponseCode.FAILED_CERT_CHAIN_ERROR, f"the {what} cannot be read") from err
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _RefusedError(ResponseCode.FAILED_CERT_CHAIN_ERROR, f"the {what} has no EC P-256 key")
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise _RefusedError(ResponseCode.FAILED_CERTIFICATE_EXPIRED, f"the {what} is not valid now")
    return certificate, key


def _check_signature(message: V2GMessage, element_id: str, data: bytes, key: ec.EllipticCurvePublicKey) -> None:
    if message.header.signature is None:
        raise _RefusedError(ResponseCode.FAILED_SIGNATURE_ERROR, "the request is not signed")
    try:
        verify(message.header.signature, {element_id: data}, key)
    except SignatureError as err:
        raise _RefusedError(ResponseCode.FAILED_SIGNATURE_ERROR, f"the request's signature: {err}") from err


def _pcid(req: CertificateInstallationReq, now: datetime) -> tuple[str, ec.EllipticCurvePublicKey]:
    """The PCID and key of the OEM provisioning certificate."""
    certificate, key = _ev_certificate(req.oem_provisioning_cert, "OEM provisioning certificate", now)
    pcid = _common_name(certificate)
    if pcid is None:
        raise _RefusedError(ResponseCode.FAILED_CERT_CHAIN_ERROR, "the OEM provisioning certificate names no PCID (CN)")
    return pcid, key


def _assigned_emaid(pcid: str, emaid_for: Callable[[str], str | None]) -> str:
    emaid = emaid_for(pcid)
    if emaid is None:
        raise _RefusedError(ResponseCode.FAILED_NO_CERTIFICATE_AVAILABLE, f"no eMAID is assigned to the car {pcid}")
    if len(emaid) not in EMAID_LENGTHS:
        raise _RefusedError(ResponseCode.FAILED, f"the eMAID {emaid!r} assigned to {pcid} is not 14 or 15 characters")
    return emaid


def _update(
    req: CertificateUpdateReq,
    message: V2GMessage,
    operator: HomeMobilityOperator,
    emaid_active: Callable[[str], bool],
    now: datetime,
) -> tuple[str, ec.EllipticCurvePublicKey]:
    """(eMAID, the EV key to encrypt to) of a checked CertificateUpdateReq."""
    certificate, key = _ev_certificate(req.contract_signature_cert_chain.certificate, "contract certificate", now)
    try:
        certificate.verify_directly_issued_by(operator.mo_issuer.certificate)
    except (ValueError, TypeError, InvalidSignature) as err:
        raise _RefusedError(
            ResponseCode.FAILED_CERT_CHAIN_ERROR, "the contract certificate is not one this home operator issued"
        ) from err
    if _common_name(certificate) != req.emaid:
        raise _RefusedError(ResponseCode.FAILED_CERT_CHAIN_ERROR, "the contract certificate is not for the eMAID named")
    _check_signature(message, req.id, fragment(req), key)
    if not emaid_active(req.emaid):
        raise _RefusedError(ResponseCode.FAILED_CONTRACT_CANCELED, f"the eMAID {req.emaid} is no longer assigned")
    return req.emaid, key


def _contract_certificate(operator: HomeMobilityOperator, emaid: str, key: ec.EllipticCurvePrivateKey) -> bytes:
    issuer = operator.mo_issuer.certificate
    organization = issuer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, emaid)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(organization[0].value)))
    subject = x509.Name(attributes)
    certificate = issue_leaf(
        issuer, operator.mo_issuer.key, key.public_key(), subject, CONTRACT_CERTIFICATE_DAYS, key_agreement=True
    )
    return certificate.public_bytes(serialization.Encoding.DER)


def _root_listed(roots: tuple[X509IssuerSerial, ...], root: x509.Certificate) -> bool:
    return any(r.serial_number == root.serial_number for r in roots)


def _response(
    action: CertificateAction,
    code: ResponseCode,
    *,
    sa_chain: CertificateChain,
    contract: CertificateChain,
    key: bytes,
    dh: bytes,
    emaid: str,
) -> CertificateInstallationRes:
    kind = CertificateInstallationRes if action is CertificateAction.INSTALL else CertificateUpdateRes
    return kind(
        code,
        sa_chain,
        contract,
        IdValue(_IDS[1], key),
        IdValue(_IDS[2], dh),
        IdValue(_IDS[3], emaid),
    )


def issue_contract(
    exi_request: bytes,
    action: CertificateAction | str,
    schema_version: str,
    operator: HomeMobilityOperator,
    emaid_for: Callable[[str], str | None],
    *,
    emaid_active: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> ContractOutcome:
    """Answer a forwarded CertificateInstallationReq (Install) or CertificateUpdateReq (Update); see the module.

    `emaid_for(pcid)`: the eMAID the user assigned to the car of that PCID, or None. `emaid_active(emaid)`: whether
    an eMAID may still be renewed (default: any this operator issued). CPU work: run it in an executor.
    """
    now = now or datetime.now(UTC)
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        return ContractOutcome(False, None, f"unsupported ISO 15118 schema version {schema_version!r}")
    try:
        action = CertificateAction(action)
    except ValueError:
        return ContractOutcome(False, None, f"unknown action {action!r}")
    try:
        message = decode_message(exi_request)
    except ExiError as err:
        return ContractOutcome(False, None, f"the EXI request cannot be read: {err}")
    req = message.body
    expected = CertificateInstallationReq if action is CertificateAction.INSTALL else CertificateUpdateReq
    if not isinstance(req, expected):
        found = type(req).__name__ if req is not None else "an empty body"
        return ContractOutcome(False, None, f"action {action} needs a {expected.__name__}, not {found}")
    cps_leaf, cps_sub = operator.cps.chain()
    sa_chain = CertificateChain(cps_leaf, (cps_sub,))
    listed = _root_listed(req.root_certificate_ids, operator.cps.v2g_root)
    pcid: str | None = None
    emaid: str | None = None
    try:
        if isinstance(req, CertificateInstallationReq):
            pcid, ev_key = _pcid(req, now)
            _check_signature(message, req.id, fragment(req), ev_key)
            emaid = _assigned_emaid(pcid, emaid_for)
        else:
            emaid, ev_key = _update(req, message, operator, emaid_active or (lambda _: True), now)
    except _RefusedError as refused:
        failed = _response(
            action,
            refused.code,
            sa_chain=sa_chain,
            contract=CertificateChain(b"", (), _IDS[0]),
            key=b"",
            dh=b"",
            emaid="",
        )
        return ContractOutcome(
            False,
            encode_message(V2GMessage(Header(message.header.session_id), failed)),
            refused.reason,
            pcid,
            emaid,
            refused.code,
            listed,
        )
    contract_key = ec.generate_private_key(ec.SECP256R1())
    mo_sub = operator.mo_issuer.certificate.public_bytes(serialization.Encoding.DER)
    contract = CertificateChain(_contract_certificate(operator, emaid, contract_key), (mo_sub,), _IDS[0])
    encrypted, dh_public = encrypt_private_key(contract_key, ev_key)
    res = _response(
        action, ResponseCode.OK, sa_chain=sa_chain, contract=contract, key=encrypted, dh=dh_public, emaid=emaid
    )
    signature = sign(response_fragments(res), operator.cps.key)
    exi = encode_message(V2GMessage(Header(message.header.session_id, signature=signature), res))
    if len(exi) > MAX_EXI_RESPONSE:  # pragma: no cover - the certificates the operator makes are far smaller
        return ContractOutcome(False, None, "the answer is longer than exiResponse allows", pcid, emaid)
    return ContractOutcome(True, exi, None, pcid, emaid, ResponseCode.OK, listed)


def contract_status(
    mo_sub_ca: x509.Certificate,
    emaid: str,
    *,
    hash_data: list[OCSPRequestData] | None,
    chain_pem: str | None,
    assigned: bool,
    now: datetime | None = None,
) -> AuthorizeCertificateStatus | None:
    """The status of a contract this operator issued (C07), None when it is not one of its contracts.

    The operator is its own OCSP responder: its contracts carry no responder URL, and their status is the user's
    assignment. A contract whose eMAID is still assigned to a car is good (Accepted); one whose eMAID is no longer
    assigned is revoked (CertificateRevoked). Given as `hash_data` (C07.FR.02), a contract is the operator's when an
    entry names the MO sub-CA as issuer; given as a PEM chain (C07.FR.06), when its leaf is signed by the MO sub-CA,
    and it must then be in its validity (CertificateExpired, C07.FR.15) and name the eMAID (CertChainError).
    """
    if hash_data:
        ours = any(
            (entry.issuer_name_hash.lower(), entry.issuer_key_hash.lower())
            == issuer_hashes(mo_sub_ca, entry.hash_algorithm)
            for entry in hash_data
        )
        if not ours:
            return None
    elif chain_pem:
        try:
            leaf = split_chain(chain_pem)[0]
            leaf.verify_directly_issued_by(mo_sub_ca)
        except ValueError, TypeError, InvalidSignature:
            return None
        now = now or datetime.now(UTC)
        if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
            return AuthorizeCertificateStatus.CERTIFICATE_EXPIRED
        if (_common_name(leaf) or "").casefold() != emaid.casefold():
            return AuthorizeCertificateStatus.CERT_CHAIN_ERROR
    else:
        return None
    return AuthorizeCertificateStatus.ACCEPTED if assigned else AuthorizeCertificateStatus.CERTIFICATE_REVOKED
