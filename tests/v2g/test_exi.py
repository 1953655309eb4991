"""The EXI codec on its own: primitives, round trips, and clear errors for what it cannot or must not read."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec
import pytest

from custom_components.ocpp_csms.v2g.codec import (
    GRAMMARS,
    decode_document,
    decode_fragment,
    encode_document,
    encode_fragment,
)
from custom_components.ocpp_csms.v2g.exi import BitReader, BitWriter, ExiElement, ExiError
from custom_components.ocpp_csms.v2g.keytransport import decrypt_private_key, encrypt_private_key
from custom_components.ocpp_csms.v2g.messages import (
    CertificateChain,
    CertificateInstallationReq,
    CertificateInstallationRes,
    CertificateUpdateReq,
    CertificateUpdateRes,
    Header,
    IdValue,
    Notification,
    Reference,
    ResponseCode,
    Signature,
    SignedInfo,
    V2GMessage,
    X509IssuerSerial,
    decode_message,
    encode_message,
    fragment,
    to_element,
)
from custom_components.ocpp_csms.v2g.schema import BODY_MESSAGES, FRAGMENT_CODES, RESPONSE_CODES
from custom_components.ocpp_csms.v2g.signature import SignatureError, sign, verify

SESSION = b"\x01\x02"
ROOTS = (X509IssuerSerial("CN=Root, O=Example", 2**100 + 7), X509IssuerSerial("CN=Älmhult ☃", 0))


def test_primitives_round_trip() -> None:
    writer = BitWriter()
    writer.bits(5, 3)
    for number in (0, 1, 127, 128, 2**70 + 3):
        writer.unsigned(number)
    for number in (0, -1, -128, 2**64, -(2**64)):
        writer.integer(number)
    writer.binary(bytes(range(256)))
    writer.string("eMAID ☃ 𝄞")
    reader = BitReader(writer.getvalue())
    assert reader.bits(3) == 5
    assert [reader.unsigned() for _ in range(5)] == [0, 1, 127, 128, 2**70 + 3]
    assert [reader.integer() for _ in range(5)] == [0, -1, -128, 2**64, -(2**64)]
    assert reader.binary() == bytes(range(256))
    assert reader.string() == "eMAID ☃ 𝄞"
    assert BitWriter().getvalue() == b""


def sample_messages() -> list[V2GMessage]:
    chain = CertificateChain(b"\x30" * 40, (b"\x31" * 3, b"\x32", b"\x33", b"\x34"), "id1")
    info = SignedInfo(
        (
            Reference("#id1", b"\x11" * 32),
            Reference(None, b"\x22" * 32, transforms=(), id="r2", type="urn:type"),
        ),
        id="si",
    )
    signature = Signature(info, b"\x55" * 64, id="sig", signature_value_id="sv")
    res_fields = (
        ResponseCode.OK_CERTIFICATE_EXPIRES_SOON,
        CertificateChain(b"\x01" * 10, (b"\x02",)),
        chain,
        IdValue("id2", b"\x03" * 48),
        IdValue("id3", b"\x04" * 65),
        IdValue("id4", "DEHAM123456789X"),
    )
    return [
        V2GMessage(Header(SESSION), CertificateInstallationReq("id1", b"\x30\x82", ROOTS)),
        V2GMessage(Header(SESSION, signature=signature), CertificateUpdateReq("id1", chain, "DEHAM12345678", ROOTS)),
        V2GMessage(Header(SESSION, Notification("UnknownError", "fault ☃")), CertificateInstallationRes(*res_fields)),
        V2GMessage(Header(SESSION, Notification("ParsingError")), CertificateUpdateRes(*res_fields, retry_counter=-1)),
        V2GMessage(Header(b""), CertificateUpdateRes(*res_fields)),
        V2GMessage(Header(SESSION), None),
    ]


def test_messages_round_trip() -> None:
    for message in sample_messages():
        assert decode_message(encode_message(message)) == message


def test_fragments_round_trip() -> None:
    message = sample_messages()[2]
    element = to_element(message).children[1].children[0]
    for child in element.children[2:]:
        assert decode_fragment(encode_fragment(child)) == child
    req = sample_messages()[1].body
    assert isinstance(req, CertificateUpdateReq)
    update = to_element(sample_messages()[1]).children[1].children[0]
    assert decode_fragment(fragment(req)) == update
    signed_info = sample_messages()[1].header.signature
    assert signed_info is not None
    info_element = decode_fragment(fragment(signed_info.signed_info), xmldsig=True)
    assert info_element.name == "SignedInfo"
    assert info_element.attributes == {"Id": "si"}


def test_signatures_sign_and_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    parts = {"id1": b"one", "id2": b"two"}
    signature = sign(parts, key)
    verify(signature, parts, key.public_key())
    info = signature.signed_info
    bad = {
        "canonical EXI and ECDSA": replace(signature, signed_info=replace(info, signature_method="rsa")),
        "without a #Id": replace(
            signature, signed_info=replace(info, references=(replace(info.references[0], uri="id1"),))
        ),
        "digested with canonical EXI": replace(
            signature, signed_info=replace(info, references=(replace(info.references[0], transforms=()),))
        ),
        "not 64 bytes": replace(signature, signature_value=b"\x00" * 63),
        "does not verify": replace(signature, signature_value=b"\x01" * 64),
    }
    for words, wrong in bad.items():
        fragments = parts if words not in {"without a #Id", "digested with canonical EXI"} else {"id1": b"one"}
        with pytest.raises(SignatureError, match=words):
            verify(wrong, fragments, key.public_key())


def test_key_transport_round_trip_and_refusal() -> None:
    contract, ev = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    encrypted, dh = encrypt_private_key(contract, ev.public_key())
    assert (len(encrypted), len(dh), dh[0]) == (48, 65, 4)
    assert decrypt_private_key(encrypted, dh, ev).private_numbers() == contract.private_numbers()
    with pytest.raises(ValueError, match="48 bytes"):
        decrypt_private_key(encrypted[:-1], dh, ev)


# ---- what the codec refuses to write -----------------------------------------------------------------------------


def test_encoding_refuses_what_the_schema_does_not_allow() -> None:
    message = sample_messages()[0]
    element = to_element(message)
    body = element.children[1].children[0]

    with pytest.raises(ExiError, match="holds a V2G_Message"):
        encode_document(body)
    without_id = to_element(message)
    without_id.children[1].children[0].attributes.clear()
    with pytest.raises(ExiError, match="the attribute Id is required"):
        encode_document(without_id)
    extra = to_element(message)
    extra.children[1].children[0].attributes["Foo"] = "x"
    with pytest.raises(ExiError, match=r"unknown attributes \['Foo'\]"):
        encode_document(extra)
    no_session = to_element(message)
    no_session.children[0].children.clear()
    with pytest.raises(ExiError, match="Header: content missing"):
        encode_document(no_session)
    key_info = to_element(sample_messages()[1])
    signature = key_info.children[0].child("Signature")
    assert signature is not None
    signature.children.append(ExiElement("KeyInfo"))
    with pytest.raises(ExiError, match="KeyInfo is not expected here"):
        encode_document(key_info)
    wrong_type = to_element(replace(message, header=Header(SESSION)))
    wrong_type.children[0].children[0].value = "0102"
    with pytest.raises(ExiError, match="SessionID: '0102' is not a valid binary value"):
        encode_document(wrong_type)
    with pytest.raises(ExiError, match="not a valid enum value"):
        encode_message(replace(message, header=Header(SESSION, Notification("Oops"))))
    chain = CertificateChain(b"\x01", (b"\x02",) * 5)
    with pytest.raises(ExiError, match="SubCertificates: Certificate is not expected here"):
        encode_message(replace(message, body=CertificateUpdateReq("id1", chain, "DEHAM12345678", ROOTS)))
    with pytest.raises(ExiError, match="more than 20 RootCertificateID"):
        encode_message(replace(message, body=CertificateInstallationReq("id1", b"", ROOTS * 11)))
    with pytest.raises(ExiError, match="Header is not an element ISO 15118-2 signs"):
        encode_fragment(ExiElement("Header"))
    with pytest.raises(ExiError, match="eMAID: an Id attribute and a string value are required"):
        encode_fragment(ExiElement("eMAID", value="DEHAM12345678"))


# ---- what the codec refuses to read ------------------------------------------------------------------------------


def header_bits(writer: BitWriter, *, fault: bool = False) -> None:
    """Header, V2G_Message's SE(Header), SessionID 0x01, then (fault) SE(Notification) or EE of the Header."""
    for value, bits in ((0x80, 8), (76, 7), (0, 1), (0, 1), (0, 1), (1, 8), (1, 8), (0, 1)):
        writer.bits(value, bits)
    writer.bits(0 if fault else 2, 2)


def notification_bits(writer: BitWriter) -> None:
    """SE(FaultCode)."""
    writer.bits(0, 1)


def document(build: object) -> bytes:
    writer = BitWriter()
    build(writer)  # type: ignore[operator]
    return writer.getvalue()


def test_decoding_refuses_malformed_or_foreign_streams() -> None:
    def body_code(code: int) -> object:
        def build(writer: BitWriter) -> None:
            header_bits(writer)
            writer.bits(0, 1)  # SE(Body)
            writer.bits(code, 6)

        return build

    def fault(*tail: tuple[int, int]) -> object:
        def build(writer: BitWriter) -> None:
            header_bits(writer, fault=True)
            notification_bits(writer)
            for value, bits in tail:
                writer.bits(value, bits)

        return build

    cases = {
        "not an EXI stream without options": b"$EXI",
        "the stream ends too early": b"",
        "the document's root is not V2G_Message": bytes([0x80, 0x00]),
        "SessionStopReq is outside the supported subset": document(body_code(BODY_MESSAGES.index("SessionStopReq"))),
        "Body: an event outside the ISO 15118-2 schema": document(body_code(len(BODY_MESSAGES) + 1)),
        "enumeration index 3 out of range": document(fault((0, 1), (3, 2))),
        "FaultCode: an event outside the ISO 15118-2 schema": document(fault((1, 1), (1, 3))),
        "an empty enum value": document(fault((1, 1), (0, 3))),
        "a string table reference": document(fault((0, 1), (0, 2), (0, 1), (0, 2), (0, 1), (0, 8))),
        "a character outside Unicode": document(
            fault((0, 1), (0, 2), (0, 1), (0, 2), (0, 1), (3, 8), (0xFF, 8), (0xFF, 8), (0x7F, 8))
        ),
        "an unsigned integer too long": document(fault((0, 1), (0, 2), (0, 1), (0, 2), (0, 1), *([(0xFF, 8)] * 80))),
        "a length beyond the end of the stream": bytes.fromhex("809802007f"),
    }
    for words, data in cases.items():
        with pytest.raises(ExiError, match=words):
            decode_document(data)
    with pytest.raises(ExiError, match="a length beyond the end"):
        decode_document(encode_message(sample_messages()[2])[:200])


def test_fragment_decoding_refuses_what_is_not_one_signed_element() -> None:
    writer = BitWriter()
    writer.bits(0x80, 8)
    writer.bits(0, 8)
    with pytest.raises(ExiError, match="fragment event code 0 is outside the supported subset"):
        decode_fragment(writer.getvalue())

    key = ExiElement("DHpublickey", {"Id": "id3"}, value=b"\x04")
    writer = BitWriter()
    writer.bits(0x80, 8)
    writer.bits(FRAGMENT_CODES["DHpublickey"], 8)
    GRAMMARS.encode(writer, key, "IdBinary")
    writer.bits(FRAGMENT_CODES["DHpublickey"], 8)  # a second element instead of ED
    with pytest.raises(ExiError, match="more than one element"):
        decode_fragment(writer.getvalue())

    def emaid(*events: tuple[int, int], strings: int = 0) -> bytes:
        writer = BitWriter()
        writer.bits(0x80, 8)
        writer.bits(FRAGMENT_CODES["eMAID"], 8)
        for index, (value, bits) in enumerate(events):
            writer.bits(value, bits)
            if index < strings:
                writer.string("x")
        return writer.getvalue()

    with pytest.raises(ExiError, match="does not start with its Id"):
        decode_fragment(emaid((3, 9)))
    with pytest.raises(ExiError, match="no value after its Id"):
        decode_fragment(emaid((4, 9), (0, 9), strings=1))
    with pytest.raises(ExiError, match="more than a value"):
        decode_fragment(emaid((4, 9), (256, 9), (0, 8), strings=2))

    # SignedInfo in the xmldsig schema: a wildcard or characters in CanonicalizationMethod are outside the subset.
    def canonicalization(code: int) -> bytes:
        writer = BitWriter()
        writer.bits(0x80, 8)
        writer.bits(32, 6)  # SE(SignedInfo)
        writer.bits(1, 2)  # SE(CanonicalizationMethod)
        writer.bits(0, 1)  # AT(Algorithm)
        writer.string("a")
        writer.bits(code, 2)
        return writer.getvalue()

    with pytest.raises(ExiError, match=r"\* is outside the supported subset"):
        decode_fragment(canonicalization(0), xmldsig=True)
    with pytest.raises(ExiError, match="mixed content is outside the supported subset"):
        decode_fragment(canonicalization(2), xmldsig=True)


def test_response_codes_are_the_schemas_in_its_order() -> None:
    assert tuple(ResponseCode) == RESPONSE_CODES
    res = sample_messages()[2].body
    assert isinstance(res, CertificateInstallationRes)
    for code in ResponseCode:
        message = V2GMessage(Header(SESSION), replace(res, response_code=code))
        assert decode_message(encode_message(message)) == message
