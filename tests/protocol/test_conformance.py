"""Conformance oracle: our models against the 128 official OCPP 2.0.1 JSON schemas, property-based.

For every schema, hypothesis-jsonschema generates valid instances. Our model must accept each (validated from
JSON bytes, strictly, as on the wire), and what it serialises must be valid again. Mutating a valid instance in
one place (wrong JSON type, missing required field, over-long string, value outside the enum, integer out of
bounds, too many or too few array items, unknown property, malformed date-time) must make our model refuse it
with the CALLERROR code Part 4 §4.3 names, while the official schema refuses it too.

Runs are derandomised (same examples every time) and bounded: a handful of examples per schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, reduce
import operator
import re
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis_jsonschema import _from_schema, from_schema
import orjson
from pydantic import ValidationError
import pytest

from custom_components.ocpp_csms.protocol.errors import RpcErrorCode, error_code_for, error_description

from .official_schemas import SCHEMA_NAMES, model, resolve, schema, validator

type Path = tuple[str | int, ...]

EXAMPLES = 6
#: Arrays are generated with at most this many items (the schemas allow up to 1024 nested schedule periods):
#: a bound on generation cost only; the schema's own maxItems is tested exactly by the boundary and mutation checks.
GENERATED_ITEMS = 3
#: orjson, our JSON codec, handles 64-bit integers, not JSON's unbounded ones; OCPP integers are 32-bit anyway
#: (Part 2, primitive datatypes). Numbers beyond this are out of scope, so they are not generated.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_SCALAR = {"type": ["null", "boolean", "integer", "number", "string"], "minimum": INT64_MIN, "maximum": INT64_MAX}
VENDOR_VALUE = {
    **_SCALAR,
    "type": [*_SCALAR["type"], "array", "object"],
    "items": _SCALAR,
    "additionalProperties": _SCALAR,
}

#: Hypothesis warns about its own thread-local PRNG on Python 3.14 (a false alarm of its garbage check).
pytestmark = pytest.mark.filterwarnings("ignore:It looks like `register_random`")

CONFORMANCE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Overrides the suite-wide fixture: these tests need no Home Assistant instance."""


# ---- generating valid instances ------------------------------------------------------------------------------


def _memoise_strategy_construction() -> None:
    """Speed only: hypothesis-jsonschema builds the strategy of an object's property anew on every draw.

    It passes the same (canonicalised) schema dict each time, and strategies are immutable: building each one
    once per dict gives the same examples, several times faster. The cache holds on to the dicts and the
    alphabet and format objects, so their ids are not reused while it lives.
    """
    build = getattr(_from_schema, "__from_schema", None)
    if build is None or getattr(build, "memoised", False):
        return
    built: dict[tuple[int, int, int], tuple[Any, Any, Any, Any]] = {}

    def memoised(node: Any, *, alphabet: Any, custom_formats: Any) -> Any:
        key = (id(node), id(alphabet), id(custom_formats))
        if key not in built:
            strategy = build(node, alphabet=alphabet, custom_formats=custom_formats)
            built[key] = (node, alphabet, custom_formats, strategy)
        return built[key][3]

    memoised.memoised = True  # type: ignore[attr-defined]
    setattr(_from_schema, "__from_schema", memoised)


_memoise_strategy_construction()


def generation_schema(node: Any) -> Any:
    """The schema the instances are generated from: the official one with generation bounds added.

    Integers get the 32 bits of Part 2 §2.1, numbers the 64-bit bounds orjson can serialise, where the schema has
    none; arrays get at most
    GENERATED_ITEMS items. Everything generated is still valid for the official schema.
    """
    if isinstance(node, list):
        return [generation_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    bounded = {
        key: (
            {name: generation_schema(sub) for name, sub in value.items()}
            if key in {"properties", "definitions"}
            else generation_schema(value)
        )
        for key, value in node.items()
    }
    if bounded.get("type") == "integer":  # Part 2 §2.1: 32 bit (the models refuse more, issue 19)
        bounded.setdefault("minimum", -(2**31))
        bounded.setdefault("maximum", 2**31 - 1)
    if bounded.get("type") == "number":
        bounded.setdefault("minimum", INT64_MIN)
        bounded.setdefault("maximum", INT64_MAX)
    if bounded.get("type") == "array":
        bounded["maxItems"] = min(bounded.get("maxItems", GENERATED_ITEMS), GENERATED_ITEMS)
    if "definitions" in bounded:  # vendor properties of customData: any JSON value, numbers bounded likewise
        custom_data = bounded["definitions"]["CustomDataType"]
        custom_data["additionalProperties"] = VENDOR_VALUE
        # Not "vendor_id": read as vendorId under its Python name, the leniency protocol/model.py documents.
        custom_data["propertyNames"] = {"not": {"const": "vendor_id"}}
    return bounded


@cache
def instances(name: str) -> st.SearchStrategy[Any]:
    """Valid instances of a schema."""
    return from_schema(generation_schema(schema(name)))


# ---- walking an instance along its schema --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Site:
    """A value of the instance, where it is, and the (resolved) schema node it must satisfy."""

    path: Path
    node: dict[str, Any]
    value: Any


def sites(root: dict[str, Any], instance: Any) -> list[Site]:
    """Every value of the instance that its schema describes (vendor extras of customData are not)."""
    found: list[Site] = []

    def visit(node: dict[str, Any], value: Any, path: Path) -> None:
        node = resolve(root, node)
        found.append(Site(path, node, value))
        if node.get("type") == "object" and isinstance(value, dict):
            for key, sub in value.items():
                if key in node.get("properties", {}):
                    visit(node["properties"][key], sub, (*path, key))
        elif node.get("type") == "array" and isinstance(value, list):
            for index, item in enumerate(value):
                visit(node["items"], item, (*path, index))

    visit(root, instance, ())
    return found


def replaced(instance: Any, path: Path, value: Any) -> Any:
    """A copy of the instance with the value at `path` replaced."""
    if not path:
        return value
    copy = orjson.loads(orjson.dumps(instance))
    reduce(operator.getitem, path[:-1], copy)[path[-1]] = value
    return copy


def wire_path(path: Path) -> str:
    """`meterValue[0].sampledValue[1].value`, as error descriptions name a place."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# ---- valid instances -----------------------------------------------------------------------------------------


def expected_shape(root: dict[str, Any], node: dict[str, Any], value: Any) -> Any:
    """The structure (keys, list lengths) our serialisation must keep, scalars blanked.

    `null` for an untyped property (DataTransfer's `data`) is the one thing not kept: absent and null mean the
    same there, and we never send null for a field.
    """
    node = resolve(root, node)
    if isinstance(value, dict):
        properties = node.get("properties", {})
        return {
            key: expected_shape(root, properties.get(key, {}), sub)
            for key, sub in value.items()
            if not (sub is None and key in properties and "type" not in resolve(root, properties[key]))
        }
    if isinstance(value, list):
        return [expected_shape(root, node.get("items", {}), item) for item in value]
    return None


def shape(value: Any) -> Any:
    """The structure of a JSON value, scalars blanked."""
    if isinstance(value, dict):
        return {key: shape(sub) for key, sub in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return None


#: A date-time with more than three decimal places (allowed by the schemas' format, not by Part 2's dateTime).
SUB_MILLISECOND = re.compile(r"T\d{2}:\d{2}:\d{2}\.\d{4,}")


def assert_round_trips(name: str, instance: Any) -> None:
    """Our model accepts the instance; what it serialises is valid, keeps every field, and reads back equal."""
    parsed = model(name).model_validate_json(orjson.dumps(instance))
    payload = parsed.to_payload()
    validator(name).validate(payload)
    assert shape(payload) == expected_shape(schema(name), schema(name), instance)
    assert orjson.loads(parsed.to_json()) == payload
    reparsed = model(name).model_validate_json(orjson.dumps(payload))
    assert reparsed.to_payload() == payload
    if not SUB_MILLISECOND.search(orjson.dumps(instance).decode()):
        assert reparsed == parsed  # date-times go out with at most milliseconds (Part 2): finer ones are cut


def at_the_limits(site: Site) -> Iterator[Any]:
    """Values at the schema's bounds for a site (they must be accepted): longest string, fullest array, ..."""
    node = site.node
    if node.get("type") == "string" and "maxLength" in node:
        yield "y" * node["maxLength"]
    if node.get("type") == "array" and "maxItems" in node and site.value:
        yield (site.value * node["maxItems"])[: node["maxItems"]]
    if node.get("type") == "integer":
        yield from (int(node[bound]) for bound in ("minimum", "maximum") if bound in node)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@CONFORMANCE
@given(data=st.data())
def test_valid_instances_are_accepted_and_serialised_valid(name: str, data: st.DataObject) -> None:
    instance = data.draw(instances(name), label="instance")
    assert_round_trips(name, instance)

    limits = [(site.path, value) for site in sites(schema(name), instance) for value in at_the_limits(site)]
    if limits:
        path, value = data.draw(st.sampled_from(limits), label="value at a limit")
        at_limit = replaced(instance, path, value)
        assert validator(name).is_valid(at_limit), "the limit value is not valid: the test is wrong"
        assert_round_trips(name, at_limit)


# ---- invalid instances ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mutation:
    """One way to break an instance: where the error is, the code it calls for, and the broken instance."""

    error_path: Path
    code: RpcErrorCode
    apply: Callable[[Any], Any]


def _edit(site: Site, value: Any) -> Callable[[Any], Any]:
    return lambda instance: replaced(instance, site.path, value)


#: A value of each JSON type; a "wrong type" mutation uses one the node's type does not admit.
ANY_TYPE_VALUES: tuple[Any, ...] = ("text", 7, 2.5, True, None, {"a": 1}, [1])
_ADMITS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}
UNKNOWN_PROPERTY = "unexpectedProperty"
BAD_DATE_TIMES = ("yesterday", "2025-01-15T10:00:00", "2025-13-01T00:00:00Z")


def wrong_type(site: Site) -> Iterator[Mutation]:
    kind = site.node.get("type")
    if site.path and kind in _ADMITS:
        for value in ANY_TYPE_VALUES:
            if not _ADMITS[kind](value):
                yield Mutation(site.path, RpcErrorCode.TYPE_CONSTRAINT_VIOLATION, _edit(site, value))


def missing_required(site: Site) -> Iterator[Mutation]:
    if site.node.get("type") == "object" and isinstance(site.value, dict):
        for key in site.node.get("required", []):
            rest = {k: v for k, v in site.value.items() if k != key}
            yield Mutation((*site.path, key), RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, _edit(site, rest))


def over_long_string(site: Site) -> Iterator[Mutation]:
    if site.node.get("type") == "string" and "maxLength" in site.node:
        value = "x" * (site.node["maxLength"] + 1)
        yield Mutation(site.path, RpcErrorCode.TYPE_CONSTRAINT_VIOLATION, _edit(site, value))


def outside_the_enum(site: Site) -> Iterator[Mutation]:
    if "enum" in site.node:
        yield Mutation(site.path, RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION, _edit(site, "NoSuchValue"))


def out_of_bounds(site: Site) -> Iterator[Mutation]:
    if site.node.get("type") == "integer":
        for bound, step in (("minimum", -1), ("maximum", 1)):
            if bound in site.node:
                value = int(site.node[bound]) + step
                yield Mutation(site.path, RpcErrorCode.PROPERTY_CONSTRAINT_VIOLATION, _edit(site, value))


def too_many_items(site: Site) -> Iterator[Mutation]:
    if site.node.get("type") == "array" and "maxItems" in site.node and site.value:
        limit = site.node["maxItems"]
        value = (site.value * (limit + 1))[: limit + 1]
        yield Mutation(site.path, RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, _edit(site, value))


def too_few_items(site: Site) -> Iterator[Mutation]:
    if site.node.get("type") == "array" and site.node.get("minItems", 0) >= 1:
        yield Mutation(site.path, RpcErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION, _edit(site, []))


def unknown_property(site: Site) -> Iterator[Mutation]:
    node = site.node
    if node.get("type") == "object" and node.get("additionalProperties") is False and isinstance(site.value, dict):
        value = {**site.value, UNKNOWN_PROPERTY: 1}
        yield Mutation((*site.path, UNKNOWN_PROPERTY), RpcErrorCode.PROTOCOL_ERROR, _edit(site, value))


def malformed_date_time(site: Site) -> Iterator[Mutation]:
    if site.node.get("format") == "date-time":
        for value in BAD_DATE_TIMES:
            yield Mutation(site.path, RpcErrorCode.FORMAT_VIOLATION, _edit(site, value))


MUTATIONS: dict[str, Callable[[Site], Iterator[Mutation]]] = {
    "wrong JSON type": wrong_type,
    "missing required field": missing_required,
    "over-long string": over_long_string,
    "value outside the enum": outside_the_enum,
    "integer out of bounds": out_of_bounds,
    "too many array items": too_many_items,
    "too few array items": too_few_items,
    "unknown property": unknown_property,
    "malformed date-time": malformed_date_time,
}


@pytest.mark.parametrize("name", SCHEMA_NAMES)
@CONFORMANCE
@given(data=st.data())
def test_mutated_instances_are_refused_with_the_spec_error_code(name: str, data: st.DataObject) -> None:
    instance = data.draw(instances(name), label="instance")
    found = sites(schema(name), instance)
    for kind, mutations in MUTATIONS.items():
        candidates = [mutation for site in found for mutation in mutations(site)]
        if not candidates:
            continue  # e.g. no enum in this instance
        mutation = data.draw(st.sampled_from(candidates), label=kind)
        broken = mutation.apply(instance)
        where = wire_path(mutation.error_path)
        assert not validator(name).is_valid(broken), f"{kind} at {where}: the official schema accepts it"
        with pytest.raises(ValidationError) as caught:
            model(name).model_validate_json(orjson.dumps(broken))
        assert len(caught.value.errors()) == 1, f"{kind} at {where}: {caught.value}"
        assert error_code_for(caught.value) == mutation.code, f"{kind} at {where}: {caught.value}"
        assert error_description(caught.value).startswith(f"{where}: "), error_description(caught.value)


@pytest.mark.parametrize("payload", [b"[]", b"42", b'"text"', b"null", b"true", b"{", b"", b'{"a": 1,}'])
def test_a_payload_that_is_no_json_object_is_a_format_violation(payload: bytes) -> None:
    try:
        decoded = orjson.loads(payload)
    except orjson.JSONDecodeError:
        decoded = NotImplemented  # not JSON at all
    for name in SCHEMA_NAMES:
        assert decoded is NotImplemented or not validator(name).is_valid(decoded)
        with pytest.raises(ValidationError) as caught:
            model(name).model_validate_json(payload)
        assert error_code_for(caught.value) == RpcErrorCode.FORMAT_VIOLATION, name
