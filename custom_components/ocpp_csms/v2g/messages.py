"""The ISO 15118-2 certificate messages as dataclasses, and their EXI streams and fragments.

`decode_message` reads a V2G_Message (ExiError when it is malformed or outside the subset: another message, a
KeyInfo or Object in the signature, xsi:type, string table references); `encode_message` writes one;
`fragment` gives the EXI fragment of an element ISO 15118-2 signs (a message body, a part of a response, or
SignedInfo) that its digest or signature covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from .codec import decode_document, encode_document, encode_fragment
from .exi import ExiElement, ExiError

CANONICAL_EXI: Final = "http://www.w3.org/TR/canonical-exi/"
ECDSA_SHA256: Final = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256: Final = "http://www.w3.org/2001/04/xmlenc#sha256"


class ResponseCode(StrEnum):
    """responseCodeType, in schema order (its EXI enumeration index)."""

    OK = "OK"
    OK_NEW_SESSION_ESTABLISHED = "OK_NewSessionEstablished"
    OK_OLD_SESSION_JOINED = "OK_OldSessionJoined"
    OK_CERTIFICATE_EXPIRES_SOON = "OK_CertificateExpiresSoon"
    FAILED = "FAILED"
    FAILED_SEQUENCE_ERROR = "FAILED_SequenceError"
    FAILED_SERVICE_ID_INVALID = "FAILED_ServiceIDInvalid"
    FAILED_UNKNOWN_SESSION = "FAILED_UnknownSession"
    FAILED_SERVICE_SELECTION_INVALID = "FAILED_ServiceSelectionInvalid"
    FAILED_PAYMENT_SELECTION_INVALID = "FAILED_PaymentSelectionInvalid"
    FAILED_CERTIFICATE_EXPIRED = "FAILED_CertificateExpired"
    FAILED_SIGNATURE_ERROR = "FAILED_SignatureError"
    FAILED_NO_CERTIFICATE_AVAILABLE = "FAILED_NoCertificateAvailable"
    FAILED_CERT_CHAIN_ERROR = "FAILED_CertChainError"
    FAILED_CHALLENGE_INVALID = "FAILED_ChallengeInvalid"
    FAILED_CONTRACT_CANCELED = "FAILED_ContractCanceled"
    FAILED_WRONG_CHARGE_PARAMETER = "FAILED_WrongChargeParameter"
    FAILED_POWER_DELIVERY_NOT_APPLIED = "FAILED_PowerDeliveryNotApplied"
    FAILED_TARIFF_SELECTION_INVALID = "FAILED_TariffSelectionInvalid"
    FAILED_CHARGING_PROFILE_INVALID = "FAILED_ChargingProfileInvalid"
    FAILED_METERING_SIGNATURE_NOT_VALID = "FAILED_MeteringSignatureNotValid"
    FAILED_NO_CHARGE_SERVICE_SELECTED = "FAILED_NoChargeServiceSelected"
    FAILED_WRONG_ENERGY_TRANSFER_MODE = "FAILED_WrongEnergyTransferMode"
    FAILED_CONTACTOR_ERROR = "FAILED_ContactorError"
    FAILED_CERTIFICATE_NOT_ALLOWED_AT_THIS_EVSE = "FAILED_CertificateNotAllowedAtThisEVSE"
    FAILED_CERTIFICATE_REVOKED = "FAILED_CertificateRevoked"


@dataclass(frozen=True, slots=True)
class X509IssuerSerial:
    """A root certificate the EV trusts (RootCertificateID): its issuer name and serial number."""

    issuer_name: str
    serial_number: int


@dataclass(frozen=True, slots=True)
class CertificateChain:
    """A DER leaf certificate and up to four DER sub-CA certificates; Id when a signature references it."""

    certificate: bytes
    sub_certificates: tuple[bytes, ...] = ()
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Reference:
    """A signed element: its URI (#Id), transforms, digest method and digest value."""

    uri: str | None
    digest_value: bytes
    digest_method: str = SHA256
    transforms: tuple[str, ...] = (CANONICAL_EXI,)
    id: str | None = None
    type: str | None = None


@dataclass(frozen=True, slots=True)
class SignedInfo:
    """What a signature signs: the references, with the canonicalisation and signature methods."""

    references: tuple[Reference, ...]
    canonicalization_method: str = CANONICAL_EXI
    signature_method: str = ECDSA_SHA256
    id: str | None = None


@dataclass(frozen=True, slots=True)
class Signature:
    """An xmldsig signature: SignedInfo and the signature value (r||s, 64 bytes for ECDSA P-256)."""

    signed_info: SignedInfo
    signature_value: bytes
    id: str | None = None
    signature_value_id: str | None = None


@dataclass(frozen=True, slots=True)
class Notification:
    """A header notification (FaultCode: ParsingError, NoTLSRootCertificatAvailable, UnknownError)."""

    fault_code: str
    fault_msg: str | None = None


@dataclass(frozen=True, slots=True)
class Header:
    """The message header: the session id (up to 8 bytes), a notification, the signature of the body."""

    session_id: bytes
    notification: Notification | None = None
    signature: Signature | None = None


@dataclass(frozen=True, slots=True)
class CertificateInstallationReq:
    """The EV asks for a contract certificate, signed with its OEM provisioning certificate's key."""

    id: str
    oem_provisioning_cert: bytes
    root_certificate_ids: tuple[X509IssuerSerial, ...]


@dataclass(frozen=True, slots=True)
class CertificateUpdateReq:
    """The EV asks for a new contract certificate, signed with its current contract certificate's key."""

    id: str
    contract_signature_cert_chain: CertificateChain
    emaid: str
    root_certificate_ids: tuple[X509IssuerSerial, ...]


@dataclass(frozen=True, slots=True)
class IdValue[T: (bytes, str)]:
    """A value with the Id a signature references it by.

    ContractSignatureEncryptedPrivateKey, DHpublickey (bytes) and eMAID (str) of a response.
    """

    id: str
    value: T


@dataclass(frozen=True, slots=True)
class CertificateInstallationRes:
    """The contract certificate for the EV: the chains, the encrypted private key, the ECDH public key, eMAID."""

    response_code: ResponseCode
    sa_provisioning_certificate_chain: CertificateChain
    contract_signature_cert_chain: CertificateChain
    contract_signature_encrypted_private_key: IdValue[bytes]
    dh_public_key: IdValue[bytes]
    emaid: IdValue[str]


@dataclass(frozen=True, slots=True)
class CertificateUpdateRes(CertificateInstallationRes):
    """As CertificateInstallationRes, with the optional RetryCounter."""

    retry_counter: int | None = None


type Body = CertificateInstallationReq | CertificateUpdateReq | CertificateInstallationRes | CertificateUpdateRes


@dataclass(frozen=True, slots=True)
class V2GMessage:
    """A V2G_Message: header and body (None: an empty body)."""

    header: Header
    body: Body | None


# ---- to the element tree ---------------------------------------------------------------------------------------


def _leaf(name: str, value: str | bytes | int, **attributes: str | None) -> ExiElement:
    return ExiElement(name, {k: v for k, v in attributes.items() if v is not None}, value=value)


def _chain(name: str, chain: CertificateChain) -> ExiElement:
    element = ExiElement(name, {"Id": chain.id} if chain.id is not None else {})
    element.children.append(_leaf("Certificate", chain.certificate))
    if chain.sub_certificates:
        element.children.append(
            ExiElement("SubCertificates", children=[_leaf("Certificate", c) for c in chain.sub_certificates])
        )
    return element


def _roots(roots: tuple[X509IssuerSerial, ...]) -> ExiElement:
    return ExiElement(
        "ListOfRootCertificateIDs",
        children=[
            ExiElement(
                "RootCertificateID",
                children=[_leaf("X509IssuerName", r.issuer_name), _leaf("X509SerialNumber", r.serial_number)],
            )
            for r in roots
        ],
    )


def _signed_info(info: SignedInfo) -> ExiElement:
    element = ExiElement("SignedInfo", {"Id": info.id} if info.id is not None else {})
    element.children.append(ExiElement("CanonicalizationMethod", {"Algorithm": info.canonicalization_method}))
    element.children.append(ExiElement("SignatureMethod", {"Algorithm": info.signature_method}))
    for ref in info.references:
        attributes = {k: v for k, v in (("Id", ref.id), ("Type", ref.type), ("URI", ref.uri)) if v is not None}
        reference = ExiElement("Reference", attributes)
        if ref.transforms:
            reference.children.append(
                ExiElement("Transforms", children=[ExiElement("Transform", {"Algorithm": t}) for t in ref.transforms])
            )
        reference.children.append(ExiElement("DigestMethod", {"Algorithm": ref.digest_method}))
        reference.children.append(_leaf("DigestValue", ref.digest_value))
        element.children.append(reference)
    return element


def _res_children(res: CertificateInstallationRes) -> list[ExiElement]:
    key, dh, emaid = res.contract_signature_encrypted_private_key, res.dh_public_key, res.emaid
    return [
        _leaf("ResponseCode", str(res.response_code)),
        _chain("SAProvisioningCertificateChain", res.sa_provisioning_certificate_chain),
        _chain("ContractSignatureCertChain", res.contract_signature_cert_chain),
        _leaf("ContractSignatureEncryptedPrivateKey", key.value, Id=key.id),
        _leaf("DHpublickey", dh.value, Id=dh.id),
        _leaf("eMAID", emaid.value, Id=emaid.id),
    ]


def _body(body: Body) -> ExiElement:
    match body:
        case CertificateInstallationReq():
            return ExiElement(
                "CertificateInstallationReq",
                {"Id": body.id},
                [_leaf("OEMProvisioningCert", body.oem_provisioning_cert), _roots(body.root_certificate_ids)],
            )
        case CertificateUpdateReq():
            return ExiElement(
                "CertificateUpdateReq",
                {"Id": body.id},
                [
                    _chain("ContractSignatureCertChain", body.contract_signature_cert_chain),
                    _leaf("eMAID", body.emaid),
                    _roots(body.root_certificate_ids),
                ],
            )
        case CertificateUpdateRes():
            children = _res_children(body)
            if body.retry_counter is not None:
                children.append(_leaf("RetryCounter", body.retry_counter))
            return ExiElement("CertificateUpdateRes", children=children)
        case CertificateInstallationRes():  # pragma: no branch - the union is exhausted
            return ExiElement("CertificateInstallationRes", children=_res_children(body))


def to_element(message: V2GMessage) -> ExiElement:
    """The element tree of a message."""
    header = ExiElement("Header", children=[_leaf("SessionID", message.header.session_id)])
    if (notification := message.header.notification) is not None:
        children = [_leaf("FaultCode", notification.fault_code)]
        if notification.fault_msg is not None:
            children.append(_leaf("FaultMsg", notification.fault_msg))
        header.children.append(ExiElement("Notification", children=children))
    if (signature := message.header.signature) is not None:
        header.children.append(
            ExiElement(
                "Signature",
                {"Id": signature.id} if signature.id is not None else {},
                [
                    _signed_info(signature.signed_info),
                    _leaf("SignatureValue", signature.signature_value, Id=signature.signature_value_id),
                ],
            )
        )
    body = ExiElement("Body", children=[_body(message.body)] if message.body is not None else [])
    return ExiElement("V2G_Message", children=[header, body])


# ---- from the element tree -------------------------------------------------------------------------------------
# The grammars have checked the structure: each required child is there, in order.


def _get(element: ExiElement, name: str) -> ExiElement:
    child = element.child(name)
    assert child is not None  # noqa: S101 - the grammar requires it
    return child


def _bytes(element: ExiElement) -> bytes:
    assert isinstance(element.value, bytes)  # noqa: S101 - the grammar's type
    return element.value


def _str(element: ExiElement) -> str:
    assert isinstance(element.value, str)  # noqa: S101 - the grammar's type
    return element.value


def _int(element: ExiElement) -> int:
    assert isinstance(element.value, int)  # noqa: S101 - the grammar's type
    return element.value


def _chain_of(element: ExiElement) -> CertificateChain:
    sub = element.child("SubCertificates")
    return CertificateChain(
        _bytes(_get(element, "Certificate")),
        tuple(_bytes(c) for c in sub.children) if sub is not None else (),
        element.attributes.get("Id"),
    )


def _roots_of(element: ExiElement) -> tuple[X509IssuerSerial, ...]:
    return tuple(
        X509IssuerSerial(_str(_get(r, "X509IssuerName")), _int(_get(r, "X509SerialNumber"))) for r in element.children
    )


def _signed_info_of(element: ExiElement) -> SignedInfo:
    references = []
    for ref in element.all("Reference"):
        transforms = ref.child("Transforms")
        algorithms = tuple(t.attributes["Algorithm"] for t in transforms.children) if transforms else ()
        references.append(
            Reference(
                uri=ref.attributes.get("URI"),
                digest_value=_bytes(_get(ref, "DigestValue")),
                digest_method=_get(ref, "DigestMethod").attributes["Algorithm"],
                transforms=algorithms,
                id=ref.attributes.get("Id"),
                type=ref.attributes.get("Type"),
            )
        )
    return SignedInfo(
        tuple(references),
        _get(element, "CanonicalizationMethod").attributes["Algorithm"],
        _get(element, "SignatureMethod").attributes["Algorithm"],
        element.attributes.get("Id"),
    )


def _res_fields(element: ExiElement) -> dict[str, object]:
    key, dh, emaid = (_get(element, n) for n in ("ContractSignatureEncryptedPrivateKey", "DHpublickey", "eMAID"))
    return {
        "response_code": ResponseCode(_str(_get(element, "ResponseCode"))),
        "sa_provisioning_certificate_chain": _chain_of(_get(element, "SAProvisioningCertificateChain")),
        "contract_signature_cert_chain": _chain_of(_get(element, "ContractSignatureCertChain")),
        "contract_signature_encrypted_private_key": IdValue(key.attributes["Id"], _bytes(key)),
        "dh_public_key": IdValue(dh.attributes["Id"], _bytes(dh)),
        "emaid": IdValue(emaid.attributes["Id"], _str(emaid)),
    }


def _body_of(element: ExiElement) -> Body:
    match element.name:
        case "CertificateInstallationReq":
            return CertificateInstallationReq(
                element.attributes["Id"],
                _bytes(_get(element, "OEMProvisioningCert")),
                _roots_of(_get(element, "ListOfRootCertificateIDs")),
            )
        case "CertificateUpdateReq":
            return CertificateUpdateReq(
                element.attributes["Id"],
                _chain_of(_get(element, "ContractSignatureCertChain")),
                _str(_get(element, "eMAID")),
                _roots_of(_get(element, "ListOfRootCertificateIDs")),
            )
        case "CertificateInstallationRes":
            return CertificateInstallationRes(**_res_fields(element))  # type: ignore[arg-type]
        case _:
            retry = element.child("RetryCounter")
            return CertificateUpdateRes(
                **_res_fields(element),  # type: ignore[arg-type]
                retry_counter=_int(retry) if retry is not None else None,
            )


def from_element(element: ExiElement) -> V2GMessage:
    """The message of an element tree the grammars read."""
    header = _get(element, "Header")
    notification = header.child("Notification")
    signature = header.child("Signature")
    body = _get(element, "Body")
    return V2GMessage(
        Header(
            _bytes(_get(header, "SessionID")),
            Notification(
                _str(_get(notification, "FaultCode")),
                _str(fault) if (fault := notification.child("FaultMsg")) is not None else None,
            )
            if notification is not None
            else None,
            Signature(
                _signed_info_of(_get(signature, "SignedInfo")),
                _bytes(_get(signature, "SignatureValue")),
                signature.attributes.get("Id"),
                _get(signature, "SignatureValue").attributes.get("Id"),
            )
            if signature is not None
            else None,
        ),
        _body_of(body.children[0]) if body.children else None,
    )


# ---- streams ---------------------------------------------------------------------------------------------------


def encode_message(message: V2GMessage) -> bytes:
    """The EXI stream of a message; ExiError when a value does not fit the schema."""
    return encode_document(to_element(message))


def decode_message(data: bytes) -> V2GMessage:
    """The message of an EXI stream; ExiError when it is malformed or outside the subset."""
    return from_element(decode_document(data))


type ResponsePart = CertificateChain | IdValue[bytes] | IdValue[str]
type Signed = CertificateInstallationReq | CertificateUpdateReq | SignedInfo | tuple[str, ResponsePart]


def fragment(element: Signed) -> bytes:
    """The EXI fragment of a signed element: a Req body, SignedInfo, or a part of a Res as (its name, its value).

    The parts: ("ContractSignatureCertChain", chain), ("ContractSignatureEncryptedPrivateKey", key),
    ("DHpublickey", key), ("eMAID", eMAID).
    """
    match element:
        case SignedInfo():
            return encode_fragment(_signed_info(element))
        case CertificateInstallationReq() | CertificateUpdateReq():
            return encode_fragment(_body(element))
        case (name, CertificateChain() as chain):
            return encode_fragment(_chain(name, chain))
        case (name, IdValue() as value):
            return encode_fragment(_leaf(name, value.value, Id=value.id))
    raise ExiError(f"not an element ISO 15118-2 signs: {element!r}")  # pragma: no cover - typed


def response_fragments(res: CertificateInstallationRes) -> dict[str, bytes]:
    """The fragments of a response's signed parts, by their Id: what its signature's references digest."""
    parts: list[tuple[str, ResponsePart]] = [
        ("ContractSignatureCertChain", res.contract_signature_cert_chain),
        ("ContractSignatureEncryptedPrivateKey", res.contract_signature_encrypted_private_key),
        ("DHpublickey", res.dh_public_key),
        ("eMAID", res.emaid),
    ]
    return {value.id or "": fragment((name, value)) for name, value in parts}
