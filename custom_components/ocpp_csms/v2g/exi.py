"""A schema-informed EXI 1.0 codec, bit-packed, with the options ISO 15118-2 uses (W3C EXI 1.0, sections 6-8).

The options: no options in the header (a one-byte header, `0x80`), bit-packed alignment, strict false, no
fidelity options preserved, and no string table for values (valuePartitionCapacity 0: every string value is a
literal, as the ISO 15118-2 codecs write it). So each event is an n-bit event code where n counts the state's
first-level productions plus one for the escape to the second level that strict=false adds (xsi:type, xsi:nil,
undeclared attributes, elements and characters); the codec writes only schema-valid events and reads any other
one as `ExiError`.

The grammars are built from `TypeDef`s, a small description of the XML Schema types the caller needs: attributes
(sorted by name, as EXI orders them), a sequence of particles (element alternatives, with occurrence bounds), simple
content, mixed content and wildcards (which count in the event codes but are never read or written). A value is
an `ExiElement` tree; `schema.py` describes the ISO 15118-2 subset and `messages.py` maps the tree to dataclasses.

Values (EXI 7.1): binary (base64Binary, hexBinary) as a length and the bytes, integers as a sign bit and an
unsigned integer in 7-bit groups, strings as their length + 2 and the code points, enumerations as the n-bit index
of the value in the schema's enumeration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Final

#: The EXI header of a stream without options (distinguishing bits 10, no options, final version 1).
HEADER: Final = 0x80
WILDCARD: Final = "*"


class ExiError(ValueError):
    """A stream that cannot be read (malformed, or outside the subset the grammars describe), or a bad value."""


class Kind(Enum):
    """How a simple value is represented."""

    STRING = "string"
    BINARY = "binary"
    INTEGER = "integer"
    ENUM = "enum"


@dataclass(frozen=True, slots=True)
class SimpleType:
    """A simple type: its representation, and for an enumeration its values in schema order."""

    kind: Kind
    values: tuple[str, ...] = ()


STRING: Final = SimpleType(Kind.STRING)
BINARY: Final = SimpleType(Kind.BINARY)
INTEGER: Final = SimpleType(Kind.INTEGER)


@dataclass(frozen=True, slots=True)
class Attribute:
    """An attribute use: its local name, whether it is required, its type."""

    name: str
    required: bool = False
    type: SimpleType = STRING


@dataclass(frozen=True, slots=True)
class Particle:
    """A particle of a sequence: one of `alternatives`, `min_occurs` to `max_occurs` (None: unbounded) times.

    An alternative is (element name, type key); type key None: outside the subset; name WILDCARD: a wildcard.
    `looped`: the grammar loops once `min_occurs` are there instead of counting up to `max_occurs` (which is still
    enforced), as EXIficient builds it for some bounded particles (ListOfRootCertificateIDs' 20 RootCertificateID).
    """

    alternatives: tuple[tuple[str, str | None], ...]
    min_occurs: int = 1
    max_occurs: int | None = 1
    looped: bool = False


@dataclass(frozen=True, slots=True)
class TypeDef:
    """A type: attributes sorted by name, then simple content or a sequence of particles (mixed or not)."""

    attributes: tuple[Attribute, ...] = ()
    particles: tuple[Particle, ...] = ()
    simple: SimpleType | None = None
    mixed: bool = False


@dataclass(slots=True)
class ExiElement:
    """An element: its name, attributes by name, child elements in order, or its simple value."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    children: list[ExiElement] = field(default_factory=list)
    value: str | bytes | int | None = None

    def child(self, name: str) -> ExiElement | None:
        """The first child of that name, if any."""
        return next((c for c in self.children if c.name == name), None)

    def all(self, name: str) -> list[ExiElement]:
        """The children of that name."""
        return [c for c in self.children if c.name == name]


# ---- bits ------------------------------------------------------------------------------------------------------


class BitWriter:
    """Writes bits most significant first (bit-packed alignment)."""

    def __init__(self) -> None:
        """Empty."""
        self._out = bytearray()
        self._value = 0  # the bits not yet in whole bytes
        self._bits = 0

    def bits(self, value: int, width: int) -> None:
        """An n-bit unsigned integer."""
        self._value = (self._value << width) | value
        self._bits += width
        while self._bits >= 8:
            self._bits -= 8
            self._out.append((self._value >> self._bits) & 0xFF)
        self._value &= (1 << self._bits) - 1

    def unsigned(self, value: int) -> None:
        """An unsigned integer in 7-bit groups, least significant first, the high bit saying more follow."""
        while True:
            group = value & 0x7F
            value >>= 7
            self.bits(group | (0x80 if value else 0), 8)
            if not value:
                return

    def integer(self, value: int) -> None:
        """A signed integer: a sign bit, then the magnitude (minus one when negative)."""
        self.bits(value < 0, 1)
        self.unsigned(-value - 1 if value < 0 else value)

    def binary(self, value: bytes) -> None:
        """Binary data: its length, then the bytes."""
        self.unsigned(len(value))
        for byte in value:
            self.bits(byte, 8)

    def string(self, value: str) -> None:
        """A string literal (no string table: the length + 2, then each code point)."""
        self.unsigned(len(value) + 2)
        for char in value:
            self.unsigned(ord(char))

    def getvalue(self) -> bytes:
        """The bytes written, the last one padded with zero bits."""
        if not self._bits:
            return bytes(self._out)
        return bytes(self._out) + bytes([(self._value << (8 - self._bits)) & 0xFF])


class BitReader:
    """Reads bits most significant first; ExiError past the end."""

    def __init__(self, data: bytes) -> None:
        """Over `data`."""
        self._data = data
        self._position = 0  # in bits
        self._left = len(data) * 8

    def bits(self, width: int) -> int:
        """An n-bit unsigned integer."""
        if width > self._left:
            raise ExiError("the stream ends too early")
        start = self._position
        end = start + width
        first, last = start >> 3, (end + 7) >> 3
        chunk = int.from_bytes(self._data[first:last], "big")
        self._position = end
        self._left -= width
        return (chunk >> ((last << 3) - end)) & ((1 << width) - 1)

    def unsigned(self) -> int:
        """An unsigned integer in 7-bit groups."""
        value = shift = 0
        while True:
            group = self.bits(8)
            value |= (group & 0x7F) << shift
            shift += 7
            if not group & 0x80:
                return value
            if shift > 7 * 64:
                raise ExiError("an unsigned integer too long")

    def integer(self) -> int:
        """A signed integer."""
        negative = self.bits(1)
        magnitude = self.unsigned()
        return -magnitude - 1 if negative else magnitude

    def length(self, limit: int) -> int:
        """A length, no greater than what the stream can still hold."""
        length = self.unsigned()
        if length * limit > self._left:
            raise ExiError("a length beyond the end of the stream")
        return length

    def binary(self) -> bytes:
        """Binary data."""
        return bytes(self.bits(8) for _ in range(self.length(8)))

    def string(self) -> str:
        """A string literal; string table hits are not part of the ISO 15118-2 profile."""
        length = self.unsigned()
        if length < 2:
            raise ExiError("a string table reference (ISO 15118-2 streams carry literal strings only)")
        if (length - 2) * 8 > self._left:
            raise ExiError("a length beyond the end of the stream")
        try:
            return "".join(chr(self.unsigned()) for _ in range(length - 2))
        except (ValueError, OverflowError) as err:
            raise ExiError("a character outside Unicode") from err


# ---- grammars --------------------------------------------------------------------------------------------------

type Event = tuple[str, int, int]
"""("AT", attribute index, 0), ("SE", particle index, alternative index), ("EE", 0, 0), ("CH", 0, 0) for a simple
value, ("CHM", 0, 0) for mixed content characters."""

_EE: Final[Event] = ("EE", 0, 0)
_CH: Final[Event] = ("CH", 0, 0)


def width(count: int) -> int:
    """The bits of an event code among `count` first-level productions and the escape to the second level."""
    return count.bit_length()


@dataclass(slots=True)
class _State:
    """Where an element is in its type's grammar."""

    attribute: int = 0
    particle: int = 0
    count: int = 0
    in_content: bool = False
    value_done: bool = False


def _content_events(type_def: TypeDef, state: _State) -> list[Event]:
    if type_def.simple is not None:
        return [_EE] if state.value_done else [_CH]
    named: list[Event] = []
    wildcards: list[Event] = []
    index, count = state.particle, state.count
    while True:
        if index == len(type_def.particles):
            named.extend(wildcards)
            named.append(_EE)
            break
        particle = type_def.particles[index]
        if particle.max_occurs is None or particle.looped or count < particle.max_occurs:
            for alternative, (name, _) in enumerate(particle.alternatives):
                (wildcards if name == WILDCARD else named).append(("SE", index, alternative))
        if count < particle.min_occurs:
            named.extend(wildcards)
            break
        index, count = index + 1, 0
    if type_def.mixed:
        named.append(("CHM", 0, 0))
    return named


def events(type_def: TypeDef, state: _State) -> list[Event]:
    """The first-level productions of a state, in event code order.

    EXI 8.5.4: AT sorted by name, SE in schema order, the wildcards, EE, CH.
    """
    found: list[Event] = []
    if not state.in_content:
        for index in range(state.attribute, len(type_def.attributes)):
            found.append(("AT", index, 0))
            if type_def.attributes[index].required:
                return found
    return found + _content_events(type_def, state)


def _advance(type_def: TypeDef, state: _State, event: Event) -> None:
    kind, index, _ = event
    if kind == "AT":
        state.attribute = index + 1
        return
    state.in_content = True
    if kind == "CH":
        state.value_done = True
    elif kind == "SE":
        state.count = state.count + 1 if index == state.particle else 1
        state.particle = index
        particle = type_def.particles[index]
        if particle.max_occurs is not None and state.count > particle.max_occurs:
            raise ExiError(f"more than {particle.max_occurs} {particle.alternatives[0][0]}")


#: The bits of the second-level event code of an EE that ends a simple element without characters (an empty value).
#: Strict=false adds to a simple type's states, at the second level, EE first (code 0), then xsi:type and xsi:nil,
#: AT(*) and untyped attributes, SE(*) and untyped CH (EXI 8.5.4): 5 to 8 productions, 3 bits, for every simple
#: type of the subset (at most one attribute), as EXIficient writes them whether or not the attribute came first.
EMPTY_END_BITS: Final = 3


def _empty(simple: SimpleType) -> str | bytes:
    if simple.kind is Kind.BINARY:
        return b""
    if simple.kind is Kind.STRING:
        return ""
    raise ExiError(f"an empty {simple.kind.value} value")


def _write_value(writer: BitWriter, simple: SimpleType, value: object, where: str) -> None:
    match simple.kind:
        case Kind.STRING if isinstance(value, str):
            writer.string(value)
        case Kind.BINARY if isinstance(value, bytes):
            writer.binary(value)
        case Kind.INTEGER if isinstance(value, int) and not isinstance(value, bool):
            writer.integer(value)
        case Kind.ENUM if value in simple.values:
            writer.bits(simple.values.index(str(value)), width(len(simple.values) - 1))
        case _:
            raise ExiError(f"{where}: {value!r} is not a valid {simple.kind.value} value")


def _read_value(reader: BitReader, simple: SimpleType) -> str | bytes | int:
    match simple.kind:
        case Kind.STRING:
            return reader.string()
        case Kind.BINARY:
            return reader.binary()
        case Kind.INTEGER:
            return reader.integer()
        case _:
            index = reader.bits(width(len(simple.values) - 1))
            if index >= len(simple.values):
                raise ExiError(f"enumeration index {index} out of range")
            return simple.values[index]


class Grammars:
    """The element grammars of a set of types (`types`: type key → TypeDef)."""

    def __init__(self, types: dict[str, TypeDef]) -> None:
        """Over `types`."""
        self.types = types

    def _code(self, writer: BitWriter, choices: list[Event], event: Event) -> None:
        writer.bits(choices.index(event), width(len(choices)))

    def encode(self, writer: BitWriter, element: ExiElement, type_key: str) -> None:
        """The events of an element's content and its EE (its SE is the caller's)."""
        type_def = self.types[type_key]
        state = _State()
        for index, attribute in enumerate(type_def.attributes):
            if attribute.name in element.attributes:
                event: Event = ("AT", index, 0)
                choices = events(type_def, state)
                if event not in choices:  # pragma: no cover - attributes are sorted
                    raise ExiError(f"{element.name}: attribute {attribute.name} out of order")
                self._code(writer, choices, event)
                _write_value(writer, attribute.type, element.attributes[attribute.name], attribute.name)
                _advance(type_def, state, event)
            elif attribute.required:
                raise ExiError(f"{element.name}: the attribute {attribute.name} is required")
        unknown = set(element.attributes) - {a.name for a in type_def.attributes}
        if unknown:
            raise ExiError(f"{element.name}: unknown attributes {sorted(unknown)}")
        if type_def.simple is not None and element.value in {b"", ""}:
            # No characters: EXIficient (as any XML-based encoder) ends the element with a second-level EE.
            choices = events(type_def, state)
            writer.bits(len(choices), width(len(choices)))
            writer.bits(0, EMPTY_END_BITS)
            return
        if type_def.simple is not None:
            self._code(writer, events(type_def, state), _CH)
            _write_value(writer, type_def.simple, element.value, element.name)
            _advance(type_def, state, _CH)
        else:
            for child in element.children:
                choices = events(type_def, state)
                event = next(
                    (
                        e
                        for e in choices
                        if e[0] == "SE" and type_def.particles[e[1]].alternatives[e[2]][0] == child.name
                    ),
                    _EE,
                )
                child_type = type_def.particles[event[1]].alternatives[event[2]][1] if event != _EE else None
                if child_type is None:
                    raise ExiError(f"{element.name}: {child.name} is not expected here")
                self._code(writer, choices, event)
                _advance(type_def, state, event)
                self.encode(writer, child, child_type)
        choices = events(type_def, state)
        if _EE not in choices:
            raise ExiError(f"{element.name}: content missing")
        self._code(writer, choices, _EE)

    def decode(self, reader: BitReader, name: str, type_key: str) -> ExiElement:
        """An element whose SE was read: its content up to and including its EE."""
        type_def = self.types[type_key]
        element = ExiElement(name)
        state = _State()
        while True:
            choices = events(type_def, state)
            code = reader.bits(width(len(choices)))
            if code == len(choices) and _CH in choices and type_def.simple is not None:
                if reader.bits(EMPTY_END_BITS) == 0:  # EE: an empty value
                    element.value = _empty(type_def.simple)
                    return element
                raise ExiError(f"{name}: an event outside the ISO 15118-2 schema (xsi:type, undeclared content)")
            if code >= len(choices):
                raise ExiError(f"{name}: an event outside the ISO 15118-2 schema (xsi:type, undeclared content)")
            event = choices[code]
            kind, index, alternative = event
            if kind == "EE":
                return element
            if kind == "AT":
                attribute = type_def.attributes[index]
                value = _read_value(reader, attribute.type)
                element.attributes[attribute.name] = str(value)
            elif kind == "CH" and type_def.simple is not None:
                element.value = _read_value(reader, type_def.simple)
            elif kind == "SE":
                child_name, child_type = type_def.particles[index].alternatives[alternative]
                if child_type is None:
                    raise ExiError(f"{name}: {child_name} is outside the supported subset")
                _advance(type_def, state, event)
                element.children.append(self.decode(reader, child_name, child_type))
                continue
            else:
                raise ExiError(f"{name}: mixed content is outside the supported subset")
            _advance(type_def, state, event)
