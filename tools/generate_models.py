"""Generate the typed OCPP 2.0.1 messages from the official JSON schemas.

Reads the 128 schemas (one request and one response per action) that ship in the `ocpp` package and writes
`custom_components/ocpp_csms/protocol/v201/{enums,datatypes,messages}.py`, formatted with ruff.

    .venv/bin/python tools/generate_models.py           # write the modules
    .venv/bin/python tools/generate_models.py --check   # exit 1 when they are not what the schemas give

What the schemas say becomes a pydantic-core constraint, never a Python validator: `maxLength` a string length,
`minimum`/`maximum` integer bounds, `minItems`/`maxItems` list lengths, `format: date-time` an aware datetime,
`required` a field without a default. Optional fields are `Opt[...] = None` (absent, never `null`). Same-named
definitions in several schemas must agree (descriptions aside), or the generator stops.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import importlib.util
import json
from pathlib import Path
import re
import subprocess
import sys
from typing import Any

from pydantic.alias_generators import to_camel

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "custom_components" / "ocpp_csms" / "protocol" / "v201"
RUFF = Path(sys.executable).parent / "ruff"

CHARGING_STATION = "CHARGING_STATION"
CSMS = "CSMS"
BOTH = "BOTH"

#: Who sends each action's request (Part 2, "Messages"), and the use cases it serves (Part 2 use case ids).
ACTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Authorize": (CHARGING_STATION, ("C01", "C07", "C08")),
    "BootNotification": (CHARGING_STATION, ("B01", "B02", "B03")),
    "CancelReservation": (CSMS, ("H02",)),
    "CertificateSigned": (CSMS, ("A02", "A03")),
    "ChangeAvailability": (CSMS, ("G03", "G04")),
    "ClearCache": (CSMS, ("C11",)),
    "ClearChargingProfile": (CSMS, ("K10",)),
    "ClearDisplayMessage": (CSMS, ("O05",)),
    "ClearedChargingLimit": (CHARGING_STATION, ("K13",)),
    "ClearVariableMonitoring": (CSMS, ("N06",)),
    "CostUpdated": (CSMS, ("I02",)),
    "CustomerInformation": (CSMS, ("N09", "N10")),
    "DataTransfer": (BOTH, ("P01", "P02")),
    "DeleteCertificate": (CSMS, ("M04",)),
    "FirmwareStatusNotification": (CHARGING_STATION, ("L01", "L02")),
    "Get15118EVCertificate": (CHARGING_STATION, ("M01", "M02")),
    "GetBaseReport": (CSMS, ("B07",)),
    "GetCertificateStatus": (CHARGING_STATION, ("M06",)),
    "GetChargingProfiles": (CSMS, ("K09",)),
    "GetCompositeSchedule": (CSMS, ("K08",)),
    "GetDisplayMessages": (CSMS, ("O03", "O04")),
    "GetInstalledCertificateIds": (CSMS, ("M03",)),
    "GetLocalListVersion": (CSMS, ("D02",)),
    "GetLog": (CSMS, ("N01",)),
    "GetMonitoringReport": (CSMS, ("N02",)),
    "GetReport": (CSMS, ("B08",)),
    "GetTransactionStatus": (CSMS, ("E14",)),
    "GetVariables": (CSMS, ("B06",)),
    "Heartbeat": (CHARGING_STATION, ("G02",)),
    "InstallCertificate": (CSMS, ("M05",)),
    "LogStatusNotification": (CHARGING_STATION, ("N01",)),
    "MeterValues": (CHARGING_STATION, ("J01",)),
    "NotifyChargingLimit": (CHARGING_STATION, ("K11", "K12")),
    "NotifyCustomerInformation": (CHARGING_STATION, ("N09",)),
    "NotifyDisplayMessages": (CHARGING_STATION, ("O03", "O04")),
    "NotifyEVChargingNeeds": (CHARGING_STATION, ("K15",)),
    "NotifyEVChargingSchedule": (CHARGING_STATION, ("K15", "K17")),
    "NotifyEvent": (CHARGING_STATION, ("N07", "N08")),
    "NotifyMonitoringReport": (CHARGING_STATION, ("N02",)),
    "NotifyReport": (CHARGING_STATION, ("B07", "B08")),
    "PublishFirmware": (CSMS, ("L03",)),
    "PublishFirmwareStatusNotification": (CHARGING_STATION, ("L03",)),
    "ReportChargingProfiles": (CHARGING_STATION, ("K09",)),
    "RequestStartTransaction": (CSMS, ("F01", "F02")),
    "RequestStopTransaction": (CSMS, ("F03",)),
    "ReservationStatusUpdate": (CHARGING_STATION, ("H04",)),
    "ReserveNow": (CSMS, ("H01",)),
    "Reset": (CSMS, ("B11", "B12")),
    "SecurityEventNotification": (CHARGING_STATION, ("A04",)),
    "SendLocalList": (CSMS, ("D01",)),
    "SetChargingProfile": (CSMS, ("K01",)),
    "SetDisplayMessage": (CSMS, ("O01", "O02", "O06")),
    "SetMonitoringBase": (CSMS, ("N03",)),
    "SetMonitoringLevel": (CSMS, ("N05",)),
    "SetNetworkProfile": (CSMS, ("B09",)),
    "SetVariableMonitoring": (CSMS, ("N04",)),
    "SetVariables": (CSMS, ("B05",)),
    "SignCertificate": (CHARGING_STATION, ("A02", "A03")),
    "StatusNotification": (CHARGING_STATION, ("G01",)),
    "TransactionEvent": (CHARGING_STATION, ("E01", "E15", "J02")),
    "TriggerMessage": (CSMS, ("F06",)),
    "UnlockConnector": (CSMS, ("F05",)),
    "UnpublishFirmware": (CSMS, ("L04",)),
    "UpdateFirmware": (CSMS, ("L01", "L02")),
}

SENDER = {CHARGING_STATION: "the Charging Station", CSMS: "the CSMS", BOTH: "either side"}
RECEIVER = {CHARGING_STATION: "the CSMS", CSMS: "the Charging Station", BOTH: "the other side"}

#: Python names where the mechanical snake_case of the wire name reads badly (`full_so_c`).
PYTHON_NAMES = {"fullSoC": "full_soc", "bulkSoC": "bulk_soc"}
#: Likewise for enum members (`SO_C`, `IK_EV2` by the rule below).
MEMBER_NAMES = {"SoC": "SOC", "IKEv2": "IKEV2"}

LINE_LENGTH = 120
GENERATED_NOTE = "Generated by tools/generate_models.py from the official OCPP 2.0.1 JSON schemas: do not edit by hand."


def schema_dir() -> Path:
    """The schemas inside the installed `ocpp` package (found without importing it)."""
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the `ocpp` package is not installed: run scripts/setup")
    return Path(next(iter(spec.submodule_search_locations))) / "v201" / "schemas"


# ---- reading the schemas -------------------------------------------------------------------------------------


def _structure(node: Any) -> Any:
    """A schema node without its prose (description) and Java class name: what validation depends on."""
    if isinstance(node, dict):
        return {
            key: ({name: _structure(sub) for name, sub in value.items()} if key == "properties" else _structure(value))
            for key, value in node.items()
            if key not in {"description", "javaType"}
        }
    if isinstance(node, list):
        return [_structure(item) for item in node]
    return node


@dataclass
class Definition:
    """A named enum or object type, and the schemas it appears in."""

    name: str
    schema: dict[str, Any]
    used_in: list[str] = field(default_factory=list)

    @property
    def is_enum(self) -> bool:
        """Whether this is a string enumeration."""
        return "enum" in self.schema


@dataclass
class Schemas:
    """Every message schema and every definition, reconciled across schemas."""

    messages: dict[str, dict[str, Any]]
    definitions: dict[str, Definition]


def read_schemas(directory: Path) -> Schemas:
    """Load the schemas and merge their definitions; refuse definitions that disagree."""
    messages: dict[str, dict[str, Any]] = {}
    definitions: dict[str, Definition] = {}
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        messages[path.stem] = schema
        for name, definition in schema.get("definitions", {}).items():
            known = definitions.get(name)
            if known is None:
                definitions[name] = known = Definition(name, definition)
            elif _structure(known.schema) != _structure(definition):
                raise SystemExit(
                    f"{name} in {path.name} differs from its definition in {known.used_in[0]}.json: "
                    "give the two distinct class names before generating"
                )
            known.used_in.append(path.stem)
    return Schemas(messages, definitions)


# ---- naming --------------------------------------------------------------------------------------------------


def snake(name: str) -> str:
    """The snake_case Python name of a camelCase wire name."""
    if name in PYTHON_NAMES:
        return PYTHON_NAMES[name]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def member_name(value: str) -> str:
    """The UPPER_SNAKE member name of an enum value (`Energy.Active.Import.Register`, `s309-1P-16A`, `V2GCertificate`).

    Words start at a lower-to-upper case change or where an acronym meets a capitalised word; digits stay with
    the letters around them.
    """
    if value in MEMBER_NAMES:
        return MEMBER_NAMES[value]
    words = re.sub(r"[^0-9A-Za-z]+", "_", value)
    name = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z0-9])(?=[A-Z][a-z])", "_", words).upper().strip("_")
    return name if name[0].isalpha() else f"V_{name}"


def class_names(definitions: dict[str, Definition]) -> dict[str, str]:
    """Python class names: enums lose `EnumType`, objects lose `Type`.

    When an enum would then share its name with an object (IdTokenEnumType and IdTokenType), it keeps `Enum`.
    """
    names: dict[str, str] = {}
    objects = {d.name.removesuffix("Type") for d in definitions.values() if not d.is_enum}
    for definition in definitions.values():
        if definition.is_enum:
            short = definition.name.removesuffix("EnumType")
            names[definition.name] = f"{short}Enum" if short in objects else short
        else:
            names[definition.name] = definition.name.removesuffix("Type")
    if len(set(names.values())) != len(names):
        raise SystemExit("two definitions map to one class name")
    return names


# ---- rendering -----------------------------------------------------------------------------------------------


def model_names(renderer: Renderer) -> str:
    """What a generated module imports from protocol/model.py."""
    return ", ".join(["DateTime", "OcppModel", "Opt"] if renderer.uses_date_time else ["OcppModel", "Opt"])


@dataclass
class Renderer:
    """Turns schema nodes into Python annotations, collecting what the module must import."""

    names: dict[str, str]
    string_lengths: set[int] = field(default_factory=set)
    referenced: set[str] = field(default_factory=set)
    typing_names: set[str] = field(default_factory=set)
    pydantic_names: set[str] = field(default_factory=set)
    uses_date_time: bool = False

    def annotation(self, node: dict[str, Any]) -> str:
        """The Python type of a property schema (constraints included, optionality not)."""
        if "$ref" in node:
            definition = node["$ref"].removeprefix("#/definitions/")
            self.referenced.add(definition)
            return self.names[definition]
        kind = node.get("type")
        if kind is None:  # DataTransfer's `data`: any JSON value
            self.typing_names.add("Any")
            return "Any"
        render = {
            "string": self._string,
            "integer": self._integer,
            "number": self._number,
            "boolean": lambda _: "bool",
            "array": self._array,
        }.get(kind)
        if render is None:
            raise SystemExit(f"unsupported schema node {node}")
        return render(node)

    def _string(self, node: dict[str, Any]) -> str:
        if node.get("format") == "date-time":
            self.uses_date_time = True
            return "DateTime"
        if "format" in node:
            raise SystemExit(f"unknown string format {node['format']}")
        if "maxLength" in node:
            self.string_lengths.add(node["maxLength"])
            return f"String{node['maxLength']}"
        return "str"

    def _integer(self, node: dict[str, Any]) -> str:
        # Part 2 §2.1 (primitive datatypes): an integer is 32 bit. Unbounded, a station could send integers no
        # store can write (orjson stops at 64 bits): what the schema leaves open is bounded to 32 bits.
        low, high = int(node.get("minimum", -(2**31))), int(node.get("maximum", 2**31 - 1))
        return self._constrained("int", [f"ge={low}", f"le={high}"])

    def _number(self, node: dict[str, Any]) -> str:
        if "minimum" in node or "maximum" in node:
            raise SystemExit("bounds on a number: teach the generator (as for integers)")
        return "float"

    def _array(self, node: dict[str, Any]) -> str:
        words = (("minItems", "min_length"), ("maxItems", "max_length"))
        lengths = [f"{key}={node[word]}" for word, key in words if word in node]
        return self._constrained(f"list[{self.annotation(node['items'])}]", lengths)

    def _constrained(self, base: str, constraints: list[str]) -> str:
        if not constraints:
            return base
        self.typing_names.add("Annotated")
        self.pydantic_names.add("Field")
        return f"Annotated[{base}, Field({', '.join(constraints)})]"

    def fields(self, schema: dict[str, Any], definitions: dict[str, Definition]) -> list[str]:
        """The field lines of an object schema: required first, then optional, `custom_data` last."""
        required = set(schema.get("required", []))
        properties = schema.get("properties", {})
        ordered = [p for p in properties if p in required] + [
            p for p in properties if p not in required and p != "customData"
        ]
        ordered += [p for p in properties if p == "customData"]
        lines = []
        for wire in ordered:
            node = properties[wire]
            python = snake(wire)
            annotation = self.annotation(node)
            alias = None if to_camel(python) == wire else wire
            default = node.get("default")
            if default is None and "$ref" in node:
                default = definitions[node["$ref"].removeprefix("#/definitions/")].schema.get("default")
            if wire in required:
                value = f' = Field(alias="{alias}")' if alias else ""
                if alias:
                    self.pydantic_names.add("Field")
                line = f"{python}: {annotation}{value}"
            else:
                value = f'Field(default=None, alias="{alias}")' if alias else "None"
                if alias:
                    self.pydantic_names.add("Field")
                line = f"{python}: Opt[{annotation}] = {value}"
            if default is not None:
                line += f"  # absent means {json.dumps(default)}"
            lines.append(line)
        return lines


def module_header(summary: str, imports: list[str]) -> list[str]:
    """A generated module's docstring and imports."""
    return ['"""' + summary, "", GENERATED_NOTE, '"""', "", "from __future__ import annotations", "", *imports, ""]


def docstring(text: str) -> str:
    """A one-line class docstring, indented for a class body."""
    return f'    """{text}"""'


def describe(definition: Definition) -> str:
    """A type's docstring: its schema name and where it is used, on one line."""
    messages = sorted(set(definition.used_in))
    text = f"{definition.name}, used by {', '.join(messages)}."
    if len(docstring(text)) > LINE_LENGTH or len(messages) > 3:
        text = f"{definition.name}, used by {len(messages)} messages."
    return docstring(text)


def render_enums(schemas: Schemas, names: dict[str, str]) -> str:
    """enums.py: every enumeration as a StrEnum, alphabetically."""
    summary = "OCPP 2.0.1 enumerations, one StrEnum per *EnumType of the schemas."
    lines = module_header(summary, ["from enum import StrEnum"])
    enums = sorted((d for d in schemas.definitions.values() if d.is_enum), key=lambda d: names[d.name].casefold())
    for definition in enums:
        lines += ["", "", f"class {names[definition.name]}(StrEnum):"]
        lines.append(describe(definition))
        lines.append("")
        members = [(member_name(value), value) for value in definition.schema["enum"]]
        if len({member for member, _ in members}) != len(members):
            raise SystemExit(f"two values of {definition.name} map to one member name")
        lines += [f"    {member} = {json.dumps(value)}" for member, value in members]
    return "\n".join(lines) + "\n"


def dependency_order(objects: list[Definition], names: dict[str, str]) -> list[Definition]:
    """Objects with the types they use first (depth first, alphabetical), so no forward reference is needed."""
    by_name = {d.name: d for d in objects}
    ordered: list[Definition] = []
    seen: set[str] = set()

    def references(node: Any) -> list[str]:
        found: list[str] = []
        if isinstance(node, dict):
            if "$ref" in node:
                found.append(node["$ref"].removeprefix("#/definitions/"))
            for value in node.values():
                found += references(value)
        elif isinstance(node, list):
            for item in node:
                found += references(item)
        return found

    def visit(definition: Definition) -> None:
        if definition.name in seen:
            return
        seen.add(definition.name)
        for dependency in sorted(set(references(definition.schema)) & by_name.keys(), key=str.casefold):
            visit(by_name[dependency])
        ordered.append(definition)

    for definition in sorted(objects, key=lambda d: names[d.name].casefold()):
        visit(definition)
    return ordered


CUSTOM_DATA = '''

class CustomData(OcppModel):
    """CustomDataType: a vendor's extension data, the one object that accepts properties of any name."""

    model_config = ConfigDict(extra="allow")

    vendor_id: String255

    @model_serializer(mode="wrap")
    def _keep_null_extras(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Vendor properties are opaque: a `null` among them is data, kept even where absent fields are dropped."""
        payload: dict[str, Any] = handler(self)
        payload.update((key, None) for key, value in (self.__pydantic_extra__ or {}).items() if value is None)
        return payload
'''


def all_string_lengths(schemas: Schemas) -> set[int]:
    """Every maxLength of the schemas: datatypes.py defines a string type for each."""
    lengths: set[int] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and "maxLength" in node:
                lengths.add(node["maxLength"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for item in node:
                collect(item)

    collect(list(schemas.messages.values()))
    return lengths


def render_datatypes(schemas: Schemas, names: dict[str, str]) -> str:
    """datatypes.py: the constrained string types and every object type."""
    renderer = Renderer(names)
    renderer.string_lengths = all_string_lengths(schemas)
    objects = [d for d in schemas.definitions.values() if not d.is_enum]
    body: list[str] = []
    for definition in dependency_order(objects, names):
        if definition.name == "CustomDataType":
            if _structure(definition.schema) != {
                "type": "object",
                "properties": {"vendorId": {"type": "string", "maxLength": 255}},
                "required": ["vendorId"],
            }:
                raise SystemExit("CustomDataType changed: update the hand-written template")
            body += CUSTOM_DATA.splitlines()
            continue
        if definition.schema.get("additionalProperties") is not False:
            raise SystemExit(f"{definition.name} allows additional properties")
        body += ["", "", f"class {names[definition.name]}(OcppModel):"]
        body.append(describe(definition))
        body.append("")
        body += [f"    {line}" for line in renderer.fields(definition.schema, schemas.definitions)]
    enums = sorted(names[name] for name in renderer.referenced if schemas.definitions[name].is_enum)
    pydantic = renderer.pydantic_names | {"ConfigDict", "SerializerFunctionWrapHandler", "StringConstraints"}
    imports = [
        "from typing import Annotated, Any",
        "",
        f"from pydantic import {', '.join(sorted(pydantic | {'model_serializer'}))}",
        "",
        f"from custom_components.ocpp_csms.protocol.model import {model_names(renderer)}",
        f"from .enums import {', '.join(enums)}",
    ]
    lines = module_header(
        "OCPP 2.0.1 datatypes: every object type of the schemas (dependencies first), and the string[N] types.",
        imports,
    )
    lines += ["", "# The spec's string[N]: at most N characters (Unicode code points, as JSON schema counts them)."]
    lines += [f"String{n} = Annotated[str, StringConstraints(max_length={n})]" for n in sorted(renderer.string_lengths)]
    return "\n".join(lines + body) + "\n"


MESSAGES_PREAMBLE = '''

class Initiator(StrEnum):
    """Who sends an action's request."""

    CHARGING_STATION = "ChargingStation"
    CSMS = "CSMS"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One OCPP action: its name on the wire, its two models, who sends the request, its use cases (Part 2)."""

    name: str
    request: type[OcppModel]
    response: type[OcppModel]
    initiated_by: frozenset[Initiator]
    use_cases: tuple[str, ...] = ()


FROM_CHARGING_STATION: Final = frozenset({Initiator.CHARGING_STATION})
FROM_CSMS: Final = frozenset({Initiator.CSMS})
FROM_EITHER: Final = frozenset({Initiator.CHARGING_STATION, Initiator.CSMS})
'''

INITIATORS = {CHARGING_STATION: "FROM_CHARGING_STATION", CSMS: "FROM_CSMS", BOTH: "FROM_EITHER"}


def render_messages(schemas: Schemas, names: dict[str, str]) -> str:
    """messages.py: a request and a response model per action, and the ACTIONS registry."""
    actions = sorted({name.removesuffix("Request").removesuffix("Response") for name in schemas.messages})
    if set(actions) != set(ACTIONS):
        raise SystemExit(f"the schemas' actions and ACTIONS differ: {sorted(set(actions) ^ set(ACTIONS))}")
    renderer = Renderer(names)
    body: list[str] = []
    for action in actions:
        initiator, use_cases = ACTIONS[action]
        for kind, sender in (("Request", SENDER[initiator]), ("Response", RECEIVER[initiator])):
            schema = schemas.messages[f"{action}{kind}"]
            if schema.get("additionalProperties") is not False:
                raise SystemExit(f"{action}{kind} allows additional properties")
            body += ["", "", f"class {action}{kind}(OcppModel):"]
            body.append(f'    """{action} {kind.lower()}, sent by {sender} ({", ".join(use_cases)})."""')
            fields = renderer.fields(schema, schemas.definitions)
            if fields:
                body.append("")
                body += [f"    {line}" for line in fields]
    body += ["", "", "ACTIONS: Final[Mapping[str, ActionSpec]] = MappingProxyType({"]
    for action in actions:
        initiator, use_cases = ACTIONS[action]
        cases = ", ".join(f'"{case}"' for case in use_cases) + ("," if len(use_cases) == 1 else "")
        body += [
            f'    "{action}": ActionSpec(',
            f'        name="{action}",',
            f"        request={action}Request,",
            f"        response={action}Response,",
            f"        initiated_by={INITIATORS[initiator]},",
            f"        use_cases=({cases}),",
            "    ),",
        ]
    body.append("})")
    body.append('"""Every OCPP 2.0.1 action by its wire name."""')
    datatypes = sorted(names[n] for n in renderer.referenced if not schemas.definitions[n].is_enum)
    enums = sorted(names[n] for n in renderer.referenced if schemas.definitions[n].is_enum)
    strings = sorted(f"String{length}" for length in renderer.string_lengths)
    typing = sorted(renderer.typing_names | {"Final"})
    imports = [
        "from collections.abc import Mapping",
        "from dataclasses import dataclass",
        "from enum import StrEnum",
        "from types import MappingProxyType",
        f"from typing import {', '.join(typing)}",
        "",
        f"from pydantic import {', '.join(sorted(renderer.pydantic_names))}",
        "",
        f"from custom_components.ocpp_csms.protocol.model import {model_names(renderer)}",
        f"from .datatypes import {', '.join(sorted(datatypes + strings, key=str.casefold))}",
        f"from .enums import {', '.join(enums)}",
    ]
    summary = "OCPP 2.0.1 messages: the request and response of all 64 actions, and their registry."
    lines = module_header(summary, imports)
    return "\n".join(lines + MESSAGES_PREAMBLE.splitlines() + body) + "\n"


def public_names(text: str) -> list[str]:
    """The public classes and module-level names a generated module defines."""
    return re.findall(r"^(?:class )?([A-Z][A-Za-z0-9_]*)\b(?=[(:]| =| \[)", text, flags=re.MULTILINE)


def render_package(modules: dict[str, str]) -> str:
    """__init__.py: everything the three modules define, importable from the package."""
    lines = [
        '"""OCPP 2.0.1 typed payloads: enums, datatypes, the messages of all 64 actions and the ACTIONS registry.',
        "",
        GENERATED_NOTE,
        '"""',
        "",
        "from __future__ import annotations",
        "",
    ]
    exported: list[str] = []
    for module, text in modules.items():
        names = [name for name in public_names(text) if name not in exported]
        lines.append(f"from .{module} import {', '.join(names)}")
        exported += names
    lines += ["", "__all__ = [", *(f'    "{name}",' for name in sorted(exported, key=str.casefold)), "]"]
    return "\n".join(lines) + "\n"


def render_all(directory: Path) -> dict[Path, str]:
    """Every generated module's text, formatted by ruff."""
    schemas = read_schemas(directory)
    names = class_names(schemas.definitions)
    texts = {
        "enums": render_enums(schemas, names),
        "datatypes": render_datatypes(schemas, names),
        "messages": render_messages(schemas, names),
    }
    modules = {OUTPUT / f"{name}.py": text for name, text in texts.items()}
    modules[OUTPUT / "__init__.py"] = render_package(texts)
    return {path: ruff(path, text) for path, text in modules.items()}


def ruff(path: Path, text: str) -> str:
    """The text after `ruff check --fix` (import sorting) and `ruff format`, with the project's settings."""
    for command in (["check", "--fix-only", "--select", "I,RUF022", "--quiet"], ["format", "--quiet"]):
        text = subprocess.run(
            [str(RUFF), *command, "--stdin-filename", str(path), "-"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        ).stdout
    return text


def main() -> int:
    """Write the modules, or with --check report whether they are up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if a module is out of date")
    parser.add_argument("--schemas", type=Path, default=None, help="the schema folder (default: the ocpp package's)")
    args = parser.parse_args()
    modules = render_all(args.schemas or schema_dir())
    stale = [path for path, text in modules.items() if not path.exists() or path.read_text(encoding="utf-8") != text]
    if args.check:
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}")
        return 1 if stale else 0
    for path in stale:
        path.write_text(modules[path], encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
