"""The ISO 15118-2 (2013) schema subset as EXI grammars, with the numbers of its document and fragment grammars.

The subset: V2G_Message, its header with the xmldsig Signature, and the certificate installation and update
messages.

From the schemas V2G_CI_MsgDef, V2G_CI_MsgHeader, V2G_CI_MsgBody, V2G_CI_MsgDataTypes (namespaces
urn:iso:15118:2:2013:*) and xmldsig-core-schema (http://www.w3.org/2000/09/xmldsig#). The numbers the schema set
decides beyond the subset are counted from the XSDs:

- the document grammar lists the 80 global elements of the five schemas sorted by local name then namespace
  (EXI 8.5.1); V2G_Message is the 77th (code 76; 80 elements and SE(*): 7 bits);
- BodyElement's substitution group has 34 messages; sorted with the (abstract) head itself, as EXIficient
  lists them, they are the Body's SE codes, then EE (6 bits);
- the fragment grammar (EXI 8.5.2) of the ISO 15118-2 schema set lists its 243 element names sorted (8 bits with
  SE(*) and ED); the xmldsig schema alone, which SignedInfo is encoded with when it is signed, has 45 (6 bits);
- EXIficient's grammar for ListOfRootCertificateIDs loops after the first RootCertificateID instead of counting
  to 20 (after the 20th it still offers SE(RootCertificateID) and EE: 2 bits), while it unrolls SubCertificates'
  4 Certificate as EXI 8.5.4 says; the codec does the same (and still refuses a 21st);
- an element name declared with two types (eMAID: EMAIDType in CertificateInstallationRes, eMAIDType in
  CertificateUpdateReq) takes the relaxed element fragment grammar (EXI 8.5.3), whose attributes are the 10
  attribute names of the schema set, sorted.
"""

from __future__ import annotations

from typing import Final

from .exi import (
    BINARY,
    INTEGER,
    STRING,
    WILDCARD,
    Attribute,
    Kind,
    Particle,
    SimpleType,
    TypeDef,
)

#: The schema version (the MsgDef namespace) this codec speaks.
MSG_DEF: Final = "urn:iso:15118:2:2013:MsgDef"

#: V2G_Message among the document grammar's global elements, and how many there are (with SE(*)).
DOCUMENT_CODE: Final = 76
DOCUMENT_EVENTS: Final = 81

#: BodyElement and its substitution group, sorted: the Body's SE event codes (outside SUPPORTED_BODIES: outside
#: the subset).
BODY_MESSAGES: Final = (
    "AuthorizationReq",
    "AuthorizationRes",
    "BodyElement",
    "CableCheckReq",
    "CableCheckRes",
    "CertificateInstallationReq",
    "CertificateInstallationRes",
    "CertificateUpdateReq",
    "CertificateUpdateRes",
    "ChargeParameterDiscoveryReq",
    "ChargeParameterDiscoveryRes",
    "ChargingStatusReq",
    "ChargingStatusRes",
    "CurrentDemandReq",
    "CurrentDemandRes",
    "MeteringReceiptReq",
    "MeteringReceiptRes",
    "PaymentDetailsReq",
    "PaymentDetailsRes",
    "PaymentServiceSelectionReq",
    "PaymentServiceSelectionRes",
    "PowerDeliveryReq",
    "PowerDeliveryRes",
    "PreChargeReq",
    "PreChargeRes",
    "ServiceDetailReq",
    "ServiceDetailRes",
    "ServiceDiscoveryReq",
    "ServiceDiscoveryRes",
    "SessionSetupReq",
    "SessionSetupRes",
    "SessionStopReq",
    "SessionStopRes",
    "WeldingDetectionReq",
    "WeldingDetectionRes",
)
SUPPORTED_BODIES: Final = frozenset(
    {"CertificateInstallationReq", "CertificateInstallationRes", "CertificateUpdateReq", "CertificateUpdateRes"}
)

#: The fragment grammar of the ISO 15118-2 schema set: its element count, and the codes of the elements signed.
FRAGMENT_ELEMENTS: Final = 243
FRAGMENT_CODES: Final = {
    "CertificateInstallationReq": 15,
    "CertificateUpdateReq": 17,
    "ContractSignatureCertChain": 33,
    "ContractSignatureEncryptedPrivateKey": 34,
    "DHpublickey": 45,
    "eMAID": 236,
}
#: The fragment grammar of xmldsig-core-schema alone (SignedInfo is signed as its fragment in that schema).
XMLDSIG_FRAGMENT_ELEMENTS: Final = 45
XMLDSIG_FRAGMENT_CODES: Final = {"SignedInfo": 32}
#: The relaxed element fragment grammar of eMAID: the schema set's attribute names, Id of MsgDataTypes among them.
RELAXED_ATTRIBUTES: Final = 10
RELAXED_ID_CODE: Final = 4

RESPONSE_CODES: Final = (
    "OK",
    "OK_NewSessionEstablished",
    "OK_OldSessionJoined",
    "OK_CertificateExpiresSoon",
    "FAILED",
    "FAILED_SequenceError",
    "FAILED_ServiceIDInvalid",
    "FAILED_UnknownSession",
    "FAILED_ServiceSelectionInvalid",
    "FAILED_PaymentSelectionInvalid",
    "FAILED_CertificateExpired",
    "FAILED_SignatureError",
    "FAILED_NoCertificateAvailable",
    "FAILED_CertChainError",
    "FAILED_ChallengeInvalid",
    "FAILED_ContractCanceled",
    "FAILED_WrongChargeParameter",
    "FAILED_PowerDeliveryNotApplied",
    "FAILED_TariffSelectionInvalid",
    "FAILED_ChargingProfileInvalid",
    "FAILED_MeteringSignatureNotValid",
    "FAILED_NoChargeServiceSelected",
    "FAILED_WrongEnergyTransferMode",
    "FAILED_ContactorError",
    "FAILED_CertificateNotAllowedAtThisEVSE",
    "FAILED_CertificateRevoked",
)
FAULT_CODES: Final = ("ParsingError", "NoTLSRootCertificatAvailable", "UnknownError")


def _one(name: str, type_key: str | None, min_occurs: int = 1, max_occurs: int | None = 1) -> Particle:
    return Particle(((name, type_key),), min_occurs, max_occurs)


def _simple(simple: SimpleType, *attributes: Attribute) -> TypeDef:
    return TypeDef(attributes=attributes, simple=simple)


_ID: Final = Attribute("Id", required=True)
_OPTIONAL_ID: Final = Attribute("Id")
_ALGORITHM: Final = Attribute("Algorithm", required=True)
_ANY: Final = Particle(((WILDCARD, None),), 0, None)

TYPES: Final[dict[str, TypeDef]] = {
    "string": _simple(STRING),
    "binary": _simple(BINARY),
    "integer": _simple(INTEGER),
    "V2G_Message": TypeDef(particles=(_one("Header", "MessageHeader"), _one("Body", "Body"))),
    "MessageHeader": TypeDef(
        particles=(
            _one("SessionID", "binary"),
            _one("Notification", "Notification", 0),
            _one("Signature", "Signature", 0),
        )
    ),
    "Notification": TypeDef(
        particles=(_one("FaultCode", "FaultCode"), _one("FaultMsg", "string", 0)),
    ),
    "FaultCode": _simple(SimpleType(Kind.ENUM, FAULT_CODES)),
    "Body": TypeDef(
        particles=(
            Particle(
                tuple((name, name if name in SUPPORTED_BODIES else None) for name in BODY_MESSAGES),
                0,
                1,
            ),
        )
    ),
    # xmldsig
    "Signature": TypeDef(
        attributes=(_OPTIONAL_ID,),
        particles=(
            _one("SignedInfo", "SignedInfo"),
            _one("SignatureValue", "SignatureValue"),
            _one("KeyInfo", None, 0),
            _one("Object", None, 0, None),
        ),
    ),
    "SignedInfo": TypeDef(
        attributes=(_OPTIONAL_ID,),
        particles=(
            _one("CanonicalizationMethod", "CanonicalizationMethod"),
            _one("SignatureMethod", "SignatureMethod"),
            _one("Reference", "Reference", 1, None),
        ),
    ),
    "CanonicalizationMethod": TypeDef(attributes=(_ALGORITHM,), particles=(_ANY,), mixed=True),
    "SignatureMethod": TypeDef(
        attributes=(_ALGORITHM,),
        particles=(_one("HMACOutputLength", "integer", 0), _ANY),
        mixed=True,
    ),
    "Reference": TypeDef(
        attributes=(_OPTIONAL_ID, Attribute("Type"), Attribute("URI")),
        particles=(
            _one("Transforms", "Transforms", 0),
            _one("DigestMethod", "DigestMethod"),
            _one("DigestValue", "binary"),
        ),
    ),
    "Transforms": TypeDef(particles=(_one("Transform", "Transform", 1, None),)),
    "Transform": TypeDef(
        attributes=(_ALGORITHM,),
        particles=(Particle(((WILDCARD, None), ("XPath", "string")), 0, None),),
        mixed=True,
    ),
    "DigestMethod": TypeDef(attributes=(_ALGORITHM,), particles=(_ANY,), mixed=True),
    "SignatureValue": _simple(BINARY, _OPTIONAL_ID),
    "X509IssuerSerial": TypeDef(particles=(_one("X509IssuerName", "string"), _one("X509SerialNumber", "integer"))),
    # the messages
    "CertificateInstallationReq": TypeDef(
        attributes=(_ID,),
        particles=(
            _one("OEMProvisioningCert", "binary"),
            _one("ListOfRootCertificateIDs", "ListOfRootCertificateIDs"),
        ),
    ),
    "CertificateUpdateReq": TypeDef(
        attributes=(_ID,),
        particles=(
            _one("ContractSignatureCertChain", "CertificateChain"),
            _one("eMAID", "string"),
            _one("ListOfRootCertificateIDs", "ListOfRootCertificateIDs"),
        ),
    ),
    "CertificateInstallationRes": TypeDef(
        particles=(
            _one("ResponseCode", "ResponseCode"),
            _one("SAProvisioningCertificateChain", "CertificateChain"),
            _one("ContractSignatureCertChain", "CertificateChain"),
            _one("ContractSignatureEncryptedPrivateKey", "IdBinary"),
            _one("DHpublickey", "IdBinary"),
            _one("eMAID", "EMAID"),
        )
    ),
    "CertificateUpdateRes": TypeDef(
        particles=(
            _one("ResponseCode", "ResponseCode"),
            _one("SAProvisioningCertificateChain", "CertificateChain"),
            _one("ContractSignatureCertChain", "CertificateChain"),
            _one("ContractSignatureEncryptedPrivateKey", "IdBinary"),
            _one("DHpublickey", "IdBinary"),
            _one("eMAID", "EMAID"),
            _one("RetryCounter", "integer", 0),
        )
    ),
    "ResponseCode": _simple(SimpleType(Kind.ENUM, RESPONSE_CODES)),
    "ListOfRootCertificateIDs": TypeDef(
        particles=(Particle((("RootCertificateID", "X509IssuerSerial"),), 1, 20, looped=True),)
    ),
    "CertificateChain": TypeDef(
        attributes=(_OPTIONAL_ID,),
        particles=(_one("Certificate", "binary"), _one("SubCertificates", "SubCertificates", 0)),
    ),
    "SubCertificates": TypeDef(particles=(_one("Certificate", "binary", 1, 4),)),
    "IdBinary": _simple(BINARY, _ID),
    "EMAID": _simple(STRING, _ID),
}

#: The type of each element that is signed as a fragment.
FRAGMENT_TYPES: Final = {
    "CertificateInstallationReq": "CertificateInstallationReq",
    "CertificateUpdateReq": "CertificateUpdateReq",
    "ContractSignatureCertChain": "CertificateChain",
    "ContractSignatureEncryptedPrivateKey": "IdBinary",
    "DHpublickey": "IdBinary",
    "SignedInfo": "SignedInfo",
}
