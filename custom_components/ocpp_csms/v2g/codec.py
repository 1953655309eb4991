"""EXI streams of ISO 15118-2: a V2G_Message document, and the fragments its signatures digest.

A document (EXI 8.5.1): the header, SD, SE(V2G_Message) among the schema set's global elements, its content, ED.
A fragment (EXI 8.5.2): the header, SD, SE(element) among all element names of the schema, its content, ED. ISO
15118-2 digests each signed element of a message body as its fragment in the ISO 15118-2 schema set, and signs
SignedInfo as its fragment in the xmldsig schema alone (ISO 15118-2, and EXIficient, the oracle of the tests).
"""

from __future__ import annotations

from typing import Final

from .exi import HEADER, BitReader, BitWriter, ExiElement, ExiError, Grammars, width
from .schema import (
    DOCUMENT_CODE,
    DOCUMENT_EVENTS,
    FRAGMENT_CODES,
    FRAGMENT_ELEMENTS,
    FRAGMENT_TYPES,
    RELAXED_ATTRIBUTES,
    RELAXED_ID_CODE,
    TYPES,
    XMLDSIG_FRAGMENT_CODES,
    XMLDSIG_FRAGMENT_ELEMENTS,
)

GRAMMARS: Final = Grammars(TYPES)
#: SE(F0..Fn-1), SE(*), ED: the fragment content's events.
_FRAGMENT_EVENTS: Final = FRAGMENT_ELEMENTS + 2
_XMLDSIG_FRAGMENT_EVENTS: Final = XMLDSIG_FRAGMENT_ELEMENTS + 2
#: The relaxed element fragment grammar (EXI 8.5.3): AT(A0..An-1), AT(*), SE(F0..Fm-1), SE(*), EE, CH.
_RELAXED_START_EVENTS: Final = RELAXED_ATTRIBUTES + 1 + FRAGMENT_ELEMENTS + 3
_RELAXED_CH: Final = RELAXED_ATTRIBUTES + FRAGMENT_ELEMENTS + 3
_RELAXED_CONTENT_EVENTS: Final = FRAGMENT_ELEMENTS + 3
_RELAXED_EE: Final = FRAGMENT_ELEMENTS + 1


def encode_document(message: ExiElement) -> bytes:
    """The EXI stream of a V2G_Message."""
    if message.name != "V2G_Message":
        raise ExiError(f"a document holds a V2G_Message, not {message.name}")
    writer = BitWriter()
    writer.bits(HEADER, 8)
    writer.bits(DOCUMENT_CODE, width(DOCUMENT_EVENTS - 1))
    GRAMMARS.encode(writer, message, "V2G_Message")
    return writer.getvalue()  # ED: the only production left, no bits


def _header(reader: BitReader) -> None:
    if reader.bits(8) != HEADER:
        raise ExiError("not an EXI stream without options (the header is not 0x80)")


def decode_document(data: bytes) -> ExiElement:
    """The V2G_Message of an EXI stream; ExiError when it is no ISO 15118-2 message the subset covers."""
    reader = BitReader(data)
    _header(reader)
    code = reader.bits(width(DOCUMENT_EVENTS - 1))
    if code != DOCUMENT_CODE:
        raise ExiError(f"the document's root is not V2G_Message (event code {code})")
    return GRAMMARS.decode(reader, "V2G_Message", "V2G_Message")


def encode_fragment(element: ExiElement) -> bytes:
    """The EXI fragment of one signed element (what its digest, or the signature of SignedInfo, covers)."""
    writer = BitWriter()
    writer.bits(HEADER, 8)
    if element.name in XMLDSIG_FRAGMENT_CODES:
        bits = width(_XMLDSIG_FRAGMENT_EVENTS - 1)
        writer.bits(XMLDSIG_FRAGMENT_CODES[element.name], bits)
        GRAMMARS.encode(writer, element, FRAGMENT_TYPES[element.name])
        writer.bits(XMLDSIG_FRAGMENT_ELEMENTS + 1, bits)  # ED
        return writer.getvalue()
    if element.name not in FRAGMENT_CODES:
        raise ExiError(f"{element.name} is not an element ISO 15118-2 signs")
    bits = width(_FRAGMENT_EVENTS - 1)
    writer.bits(FRAGMENT_CODES[element.name], bits)
    if element.name == "eMAID":
        _encode_relaxed_emaid(writer, element)
    else:
        GRAMMARS.encode(writer, element, FRAGMENT_TYPES[element.name])
    writer.bits(FRAGMENT_ELEMENTS + 1, bits)  # ED
    return writer.getvalue()


def _encode_relaxed_emaid(writer: BitWriter, element: ExiElement) -> None:
    """EMAID in the relaxed element fragment grammar: AT(Id), CH, EE."""
    if set(element.attributes) != {"Id"} or not isinstance(element.value, str):
        raise ExiError("eMAID: an Id attribute and a string value are required")
    writer.bits(RELAXED_ID_CODE, width(_RELAXED_START_EVENTS))
    writer.string(element.attributes["Id"])
    writer.bits(_RELAXED_CH, width(_RELAXED_START_EVENTS))
    writer.string(element.value)
    writer.bits(_RELAXED_EE, width(_RELAXED_CONTENT_EVENTS))


def decode_fragment(data: bytes, xmldsig: bool = False) -> ExiElement:
    """The element of an EXI fragment (the xmldsig schema's when `xmldsig`); ExiError outside the subset."""
    reader = BitReader(data)
    _header(reader)
    codes = XMLDSIG_FRAGMENT_CODES if xmldsig else FRAGMENT_CODES
    events = _XMLDSIG_FRAGMENT_EVENTS if xmldsig else _FRAGMENT_EVENTS
    code = reader.bits(width(events - 1))
    name = next((n for n, c in codes.items() if c == code), None)
    if name is None:
        raise ExiError(f"fragment event code {code} is outside the supported subset")
    if name == "eMAID":
        element = ExiElement(name)
        if reader.bits(width(_RELAXED_START_EVENTS)) != RELAXED_ID_CODE:
            raise ExiError("eMAID: the fragment does not start with its Id")
        element.attributes["Id"] = reader.string()
        if reader.bits(width(_RELAXED_START_EVENTS)) != _RELAXED_CH:
            raise ExiError("eMAID: the fragment has no value after its Id")
        element.value = reader.string()
        if reader.bits(width(_RELAXED_CONTENT_EVENTS)) != _RELAXED_EE:
            raise ExiError("eMAID: the fragment has more than a value")
    else:
        element = GRAMMARS.decode(reader, name, FRAGMENT_TYPES[name])
    if reader.bits(width(events - 1)) != events - 1:
        raise ExiError("the fragment holds more than one element")
    return element
