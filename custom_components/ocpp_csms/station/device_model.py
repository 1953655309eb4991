"""The station's device model: its components, variables, their attributes and characteristics (Part 1 §4).

A station reports its inventory in NotifyReport parts (B07/B08); `ReportAssembler` puts the parts of one report
back together, `DeviceModel` holds the result and keeps values current as GetVariables results, accepted
SetVariables and NotifyEvent updates come in.

Identity: a variable is addressed by component (name, instance, EVSE, connector) and variable (name, instance).
`VariableKey.slug` is the stable, lowercase string form used in entity unique ids. The device model indexes
variables by slug, so names compare case-insensitively: a station that reports two names differing only in
letter case is taken to report one variable (the later report wins).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, Self, cast

from ..protocol.v201.datatypes import (
    EVSE,
    Component,
    GetVariableResult,
    ReportData,
    SetVariableData,
    SetVariableResult,
    Variable,
    VariableCharacteristics,
)
from ..protocol.v201.enums import Attribute, Data, GetVariableStatus, Mutability, SetVariableStatus
from ..protocol.v201.messages import NotifyReportRequest

#: Used when the station has not reported DeviceDataCtrlr.ItemsPerMessage<action>: one item is always legal.
DEFAULT_ITEMS_PER_MESSAGE: Final = 1
#: Used when the station has not reported BytesPerMessage<action>: a frame every websocket stack accepts.
DEFAULT_BYTES_PER_MESSAGE: Final = 4096

# The component (and its variable instance) that holds each message's ItemsPerMessage / BytesPerMessage limits
# (appendix "DeviceDataCtrlr", "MonitoringCtrlr", "LocalAuthListCtrlr"; B05.FR.11, B06.FR.05, B08.FR.06).
_MESSAGE_LIMIT_COMPONENTS: Final[Mapping[str, tuple[str, str | None]]] = {
    "GetReport": ("DeviceDataCtrlr", "GetReport"),
    "GetVariables": ("DeviceDataCtrlr", "GetVariables"),
    "SetVariables": ("DeviceDataCtrlr", "SetVariables"),
    "SetVariableMonitoring": ("MonitoringCtrlr", "SetVariableMonitoring"),
    "ClearVariableMonitoring": ("MonitoringCtrlr", "ClearVariableMonitoring"),
    "SendLocalList": ("LocalAuthListCtrlr", None),
}

_SLUG_SAFE: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")


def _slug_part(name: str) -> str:
    """A name in lowercase, the characters the slug uses as separators (and any other) percent-encoded."""
    out: list[str] = []
    for char in name.lower():
        if char in _SLUG_SAFE:
            out.append(char)
        else:
            out.extend(f"%{byte:02x}" for byte in char.encode())
    return "".join(out)


@dataclass(frozen=True, slots=True)
class VariableKey:
    """Where a variable lives: component (name, instance, EVSE, connector) and variable (name, instance)."""

    component: str
    variable: str
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None

    @classmethod
    def from_ocpp(cls, component: Component, variable: Variable) -> VariableKey:
        """The key of an OCPP ComponentType / VariableType pair."""
        evse = component.evse
        return cls(
            component=component.name,
            variable=variable.name,
            component_instance=component.instance,
            evse_id=evse.id if evse is not None else None,
            connector_id=evse.connector_id if evse is not None else None,
            variable_instance=variable.instance,
        )

    def to_component(self) -> Component:
        """The OCPP ComponentType, for GetVariables / SetVariables / GetReport requests."""
        evse = EVSE(id=self.evse_id, connector_id=self.connector_id) if self.evse_id is not None else None
        return Component(name=self.component, instance=self.component_instance, evse=evse)

    def to_variable(self) -> Variable:
        """The OCPP VariableType."""
        return Variable(name=self.variable, instance=self.variable_instance)

    @property
    def slug(self) -> str:
        """A stable, lowercase, unambiguous string form, for entity unique ids.

        `component[@instance][#evse[.connector]]/variable[@instance]`: `smartchargingctrlr/limitchangesignificance`,
        `devicedatactrlr/itemspermessage@getreport` (variable instance GetReport), `evse#1/power` (EVSE 1),
        `connector#1.2/connectortype` (EVSE 1, connector 2). Characters outside `[a-z0-9_.-]` are
        percent-encoded, so a separator inside a name cannot make two keys collide; letter case is folded, as the
        model compares names case-insensitively. It depends on the key alone: re-reports and restarts give the
        same slug.
        """
        text = _slug_part(self.component)
        if self.component_instance is not None:
            text += "@" + _slug_part(self.component_instance)
        if self.evse_id is not None:
            text += f"#{self.evse_id}"
            if self.connector_id is not None:
                text += f".{self.connector_id}"
        text += "/" + _slug_part(self.variable)
        if self.variable_instance is not None:
            text += "@" + _slug_part(self.variable_instance)
        return text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, unset parts left out."""
        data: dict[str, Any] = {"component": self.component, "variable": self.variable}
        if self.component_instance is not None:
            data["component_instance"] = self.component_instance
        if self.evse_id is not None:
            data["evse_id"] = self.evse_id
        if self.connector_id is not None:
            data["connector_id"] = self.connector_id
        if self.variable_instance is not None:
            data["variable_instance"] = self.variable_instance
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariableKey:
        """The inverse of `to_dict()`."""
        return cls(
            component=data["component"],
            variable=data["variable"],
            component_instance=data.get("component_instance"),
            evse_id=data.get("evse_id"),
            connector_id=data.get("connector_id"),
            variable_instance=data.get("variable_instance"),
        )


@dataclass(frozen=True, slots=True)
class AttributeInfo:
    """One attribute of a variable (VariableAttributeType): its value and how it may be changed."""

    value: str | None = None
    mutability: Mutability = Mutability.READ_WRITE  # the schema's default when absent
    persistent: bool = False
    constant: bool = False

    @property
    def readable(self) -> bool:
        """Whether the CSMS can read the value (WriteOnly ones, e.g. passwords, are never reported)."""
        return self.mutability is not Mutability.WRITE_ONLY

    @property
    def writable(self) -> bool:
        """Whether the CSMS can set the value with SetVariables."""
        return self.mutability is not Mutability.READ_ONLY


@dataclass(frozen=True, slots=True)
class Characteristics:
    """A variable's fixed meta-data (VariableCharacteristicsType)."""

    data_type: Data
    supports_monitoring: bool = False
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    #: The allowed values of an OptionList / MemberList / SequenceList, from the comma-separated `valuesList`.
    values_list: tuple[str, ...] = ()

    @classmethod
    def from_ocpp(cls, characteristics: VariableCharacteristics) -> Characteristics:
        """Parse VariableCharacteristicsType, splitting `valuesList` on commas."""
        return cls(
            data_type=characteristics.data_type,
            supports_monitoring=characteristics.supports_monitoring,
            unit=characteristics.unit,
            min_limit=characteristics.min_limit,
            max_limit=characteristics.max_limit,
            values_list=parse_values_list(characteristics.values_list),
        )


def parse_values_list(text: str | None) -> tuple[str, ...]:
    """`"A,W"` or `"A, W"` → `("A", "W")`; empty items and surrounding blanks dropped."""
    if not text:
        return ()
    return tuple(item for item in (part.strip() for part in text.split(",")) if item)


@dataclass(frozen=True, slots=True)
class VariableInfo:
    """What the station reported of one variable: attributes per type, and characteristics."""

    attributes: Mapping[Attribute, AttributeInfo] = field(default_factory=dict)
    characteristics: Characteristics | None = None

    @classmethod
    def from_report_data(cls, data: ReportData) -> VariableInfo:
        """Parse one ReportDataType. A value reported for a WriteOnly attribute is dropped, never stored."""
        attributes: dict[Attribute, AttributeInfo] = {}
        for attribute in data.variable_attribute:
            mutability = attribute.mutability or Mutability.READ_WRITE
            attributes[attribute.type or Attribute.ACTUAL] = AttributeInfo(
                value=None if mutability is Mutability.WRITE_ONLY else attribute.value,
                mutability=mutability,
                persistent=bool(attribute.persistent),
                constant=bool(attribute.constant),
            )
        characteristics = data.variable_characteristics
        return cls(
            attributes=attributes,
            characteristics=Characteristics.from_ocpp(characteristics) if characteristics is not None else None,
        )

    @property
    def actual(self) -> AttributeInfo | None:
        """The Actual attribute, if the station has one for this variable."""
        return self.attributes.get(Attribute.ACTUAL)

    @property
    def primary(self) -> AttributeInfo | None:
        """The Actual attribute, or else the first reported one: what decides how the variable is shown."""
        actual = self.attributes.get(Attribute.ACTUAL)
        if actual is not None:
            return actual
        return next(iter(self.attributes.values()), None)

    @property
    def value(self) -> str | None:
        """The Actual value."""
        actual = self.actual
        return actual.value if actual is not None else None

    @property
    def data_type(self) -> Data | None:
        """The data type, when the station reported characteristics."""
        return self.characteristics.data_type if self.characteristics is not None else None

    @property
    def mutability(self) -> Mutability | None:
        """The mutability of the primary attribute."""
        primary = self.primary
        return primary.mutability if primary is not None else None

    def with_value(self, attribute_type: Attribute, value: str) -> VariableInfo:
        """A copy with one attribute's value replaced (the attribute is added, ReadWrite, if it was unknown)."""
        current = self.attributes.get(attribute_type, AttributeInfo())
        return replace(self, attributes={**self.attributes, attribute_type: replace(current, value=value)})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        attributes = []
        for attribute_type, attribute in self.attributes.items():
            item: dict[str, Any] = {"type": attribute_type.value, "mutability": attribute.mutability.value}
            if attribute.value is not None:
                item["value"] = attribute.value
            if attribute.persistent:
                item["persistent"] = True
            if attribute.constant:
                item["constant"] = True
            attributes.append(item)
        data: dict[str, Any] = {"attributes": attributes}
        if (characteristics := self.characteristics) is not None:
            chars: dict[str, Any] = {"data_type": characteristics.data_type.value}
            if characteristics.supports_monitoring:
                chars["supports_monitoring"] = True
            if characteristics.unit is not None:
                chars["unit"] = characteristics.unit
            if characteristics.min_limit is not None:
                chars["min_limit"] = characteristics.min_limit
            if characteristics.max_limit is not None:
                chars["max_limit"] = characteristics.max_limit
            if characteristics.values_list:
                chars["values_list"] = list(characteristics.values_list)
            data["characteristics"] = chars
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VariableInfo:
        """The inverse of `to_dict()`."""
        attributes = {
            Attribute(item["type"]): AttributeInfo(
                value=item.get("value"),
                mutability=Mutability(item["mutability"]),
                persistent=item.get("persistent", False),
                constant=item.get("constant", False),
            )
            for item in data["attributes"]
        }
        chars = data.get("characteristics")
        characteristics = None
        if chars is not None:
            characteristics = Characteristics(
                data_type=Data(chars["data_type"]),
                supports_monitoring=chars.get("supports_monitoring", False),
                unit=chars.get("unit"),
                min_limit=chars.get("min_limit"),
                max_limit=chars.get("max_limit"),
                values_list=tuple(chars.get("values_list", ())),
            )
        return cls(attributes=attributes, characteristics=characteristics)


#: Identical keys and infos of different stations (same model, same settings) are one object: a fleet of a
#: thousand stations of one model then holds its inventory's names, lists and settings once. Both are immutable
#: (frozen; `with_value` copies). Bounded: cleared when full, which only costs sharing, never correctness.
_SHARED: dict[Hashable, Any] = {}
_SHARED_LIMIT: Final = 200_000


def _shared[T](identity: Hashable, value: T) -> T:
    found = _SHARED.get(identity)
    if found is not None:
        return cast(T, found)
    if len(_SHARED) >= _SHARED_LIMIT:
        _SHARED.clear()
    _SHARED[identity] = value
    return value


class _InfoTable:
    """slug → VariableInfo: a list of the infos, and the slugs' positions in it, shared by identical models.

    A dict per station of a thousand-station fleet would hold 179 slugs and hashes of its own (6.4 kB); the
    positions depend on the set of variables alone, so the stations share them and each keeps a list (1.5 kB).
    Variables are never removed: positions follow insertion order. A shared positions dict is copied before a new
    slug is added.
    """

    __slots__ = ("_positions", "_positions_shared", "_values")

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        self._positions_shared = False
        self._values: list[VariableInfo] = []

    def get(self, slug: str) -> VariableInfo | None:
        position = self._positions.get(slug)
        return self._values[position] if position is not None else None

    def __getitem__(self, slug: str) -> VariableInfo:
        return self._values[self._positions[slug]]

    def __setitem__(self, slug: str, info: VariableInfo) -> None:
        position = self._positions.get(slug)
        if position is not None:
            self._values[position] = info
            return
        if self._positions_shared:
            self._positions = dict(self._positions)
            self._positions_shared = False
        self._positions[slug] = len(self._values)
        self._values.append(info)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, slug: str) -> bool:
        return slug in self._positions

    def items(self) -> Iterator[tuple[str, VariableInfo]]:
        return zip(self._positions, self._values, strict=True)

    def compact(self) -> None:
        """Share the positions with every model holding the same slugs; the list without spare room."""
        if not self._positions_shared:
            self._positions = _shared(("positions", *self._positions), self._positions)
            self._positions_shared = True
            self._values = list(self._values)


def _name_key(component: str, variable: str) -> tuple[str, str]:
    return component.lower(), variable.lower()


class DeviceModel(Mapping[VariableKey, VariableInfo]):
    """The station's inventory: VariableKey → VariableInfo, indexed by slug (names compare case-insensitively).

    Every operation is O(1) in the size of the model, or O(size of its argument), except the first `find_all`
    after new variables arrived, which indexes the names once.

    Memory: a station holds its own list of infos (the infos themselves shared with identical ones of other
    stations); the keys, the infos' positions and the name index depend on the set of variables alone and are
    shared by every model with the same set once `compact()` ran (a fleet of one model holds them once). A shared
    dict is copied before it is changed.
    """

    def __init__(self, variables: Mapping[VariableKey, VariableInfo] | None = None) -> None:
        """An empty model, or one holding the given variables."""
        self._infos = _InfoTable()
        self._keys: dict[str, VariableKey] = {}
        self._keys_shared = False
        # (component, variable) in lowercase → slugs of every instance/EVSE/connector of it, in insertion order;
        # built when first needed, dropped when a variable is added.
        self._by_name: dict[tuple[str, str], tuple[str, ...]] | None = None
        # When each attribute value was last set from a timestamped source (NotifyEvent): not persisted.
        self._value_times: dict[tuple[str, Attribute], datetime] = {}
        #: Counts changes: what is derived from the model can be cached until it moves.
        self.revision = 0
        for key, info in (variables or {}).items():
            self.put(key, info)
        self.compact()

    # Mapping protocol

    def __getitem__(self, key: VariableKey) -> VariableInfo:
        """The variable's info (KeyError when unknown)."""
        return self._infos[key.slug]

    def __iter__(self) -> Iterator[VariableKey]:
        """The keys, in the order they were first reported."""
        return iter(self._keys.values())

    def __len__(self) -> int:
        """How many variables the model holds."""
        return len(self._infos)

    def __contains__(self, key: object) -> bool:
        """Whether the model holds the variable."""
        return isinstance(key, VariableKey) and key.slug in self._infos

    def __repr__(self) -> str:
        """A short description."""
        return f"DeviceModel({len(self)} variables)"

    def by_slug(self, slug: str) -> tuple[VariableKey, VariableInfo] | None:
        """The variable an entity's unique id refers to."""
        info = self._infos.get(slug)
        return (self._keys[slug], info) if info is not None else None

    # Changes

    def put(self, key: VariableKey, info: VariableInfo) -> bool:
        """Add or replace one variable; whether anything changed."""
        key = _shared(key, key)
        info = _shared((tuple(info.attributes.items()), info.characteristics), info)
        slug = _shared(("slug", key), key.slug)
        stored = self._keys.get(slug)
        if stored == key and self._infos[slug] == info:
            return False
        if stored is not key:  # a new variable, or a new spelling of its names
            if self._keys_shared:
                self._keys = dict(self._keys)
                self._keys_shared = False
            self._keys[slug] = key
            if stored is None:
                self._by_name = None
        self._infos[slug] = info
        self.revision += 1
        return True

    def compact(self) -> None:
        """Share the keys, name index and positions with every other compacted model holding the same variables."""
        self._infos.compact()
        if not self._keys_shared:
            self._keys = _shared(("keys", *self._keys.values()), self._keys)
            self._keys_shared = True
            self._by_name = None

    def merge_report_data(self, report_data: Iterable[ReportData]) -> list[VariableKey]:
        """Apply the ReportData of a NotifyReport part (B07/B08); the keys that changed.

        A re-reported variable is replaced, except that characteristics it no longer carries are kept.
        """
        changed: list[VariableKey] = []
        for data in report_data:
            key = VariableKey.from_ocpp(data.component, data.variable)
            info = VariableInfo.from_report_data(data)
            if info.characteristics is None and (known := self._infos.get(key.slug)) is not None:
                info = replace(info, characteristics=known.characteristics)
            if self.put(key, info):
                changed.append(key)
        return changed

    def merge(self, other: DeviceModel) -> list[VariableKey]:
        """Put every variable of another model (a report, B08) into this one; the keys that changed.

        As with `merge_report_data`, characteristics a variable of `other` does not carry are kept.
        """
        changed: list[VariableKey] = []
        for key, reported in other.items():
            info = reported
            if info.characteristics is None and (known := self._infos.get(key.slug)) is not None:
                info = replace(info, characteristics=known.characteristics)
            if self.put(key, info):
                changed.append(key)
        return changed

    def update_value(
        self, key: VariableKey, attribute_type: Attribute, value: str, *, at: datetime | None = None
    ) -> bool:
        """Record a variable's new value; whether it changed.

        Unknown variables are ignored (the inventory comes from NotifyReport), and so are WriteOnly attributes:
        their values (passwords) are never stored. With `at`, a value older than the last timestamped one for
        the same attribute is ignored, so a queued NotifyEvent replayed late cannot undo a newer value.
        """
        slug = key.slug
        info = self._infos.get(slug)
        if info is None:
            return False
        attribute = info.attributes.get(attribute_type)
        if attribute is not None and attribute.mutability is Mutability.WRITE_ONLY:
            return False
        if at is not None:
            last = self._value_times.get((slug, attribute_type))
            if last is not None and at < last:
                return False
            self._value_times[slug, attribute_type] = at
        if attribute is not None and attribute.value == value:
            return False
        self._infos[slug] = info.with_value(attribute_type, value)
        self.revision += 1
        return True

    def apply_get_variable_results(self, results: Iterable[GetVariableResult]) -> list[VariableKey]:
        """Record the Accepted values of a GetVariablesResponse (B06); the keys that changed."""
        changed: list[VariableKey] = []
        for result in results:
            if result.attribute_status is not GetVariableStatus.ACCEPTED or result.attribute_value is None:
                continue
            key = VariableKey.from_ocpp(result.component, result.variable)
            if self.update_value(key, result.attribute_type or Attribute.ACTUAL, result.attribute_value):
                changed.append(key)
        return changed

    def apply_set_variable_results(
        self, requested: Iterable[SetVariableData], results: Iterable[SetVariableResult]
    ) -> list[VariableKey]:
        """Record the values a SetVariablesResponse (B05) Accepted; the keys that changed.

        Results are matched to the request by key and attribute type, not by position. RebootRequired values
        are not recorded: they take effect after the reboot, when the station reports them.
        """
        wanted = {
            (VariableKey.from_ocpp(data.component, data.variable).slug, data.attribute_type or Attribute.ACTUAL): (
                data.attribute_value
            )
            for data in requested
        }
        changed: list[VariableKey] = []
        for result in results:
            if result.attribute_status is not SetVariableStatus.ACCEPTED:
                continue
            key = VariableKey.from_ocpp(result.component, result.variable)
            attribute_type = result.attribute_type or Attribute.ACTUAL
            value = wanted.get((key.slug, attribute_type))
            if value is not None and self.update_value(key, attribute_type, value):
                changed.append(key)
        return changed

    # Lookups

    def value(self, key: VariableKey, attribute_type: Attribute = Attribute.ACTUAL) -> str | None:
        """A variable's value (Actual by default), None when unknown or unset."""
        info = self._infos.get(key.slug)
        if info is None:
            return None
        attribute = info.attributes.get(attribute_type)
        return attribute.value if attribute is not None else None

    def find(
        self,
        component: str,
        variable: str,
        *,
        evse_id: int | None = None,
        connector_id: int | None = None,
        component_instance: str | None = None,
        variable_instance: str | None = None,
    ) -> VariableInfo | None:
        """One variable by name, e.g. `find("SmartChargingCtrlr", "RateUnit")` or `find("EVSE", "Power", evse_id=1)`."""
        key = VariableKey(component, variable, component_instance, evse_id, connector_id, variable_instance)
        return self._infos.get(key.slug)

    def find_all(self, component: str, variable: str) -> list[tuple[VariableKey, VariableInfo]]:
        """Every instance of a variable: all EVSEs, connectors and instances (e.g. every `EVSE.Power`)."""
        slugs = self._name_index().get(_name_key(component, variable), ())
        return [(self._keys[slug], self._infos[slug]) for slug in slugs]

    def _name_index(self) -> dict[tuple[str, str], tuple[str, ...]]:
        index = self._by_name
        if index is None:
            grouped: dict[tuple[str, str], list[str]] = {}
            for slug, key in self._keys.items():
                grouped.setdefault(_name_key(key.component, key.variable), []).append(slug)
            index = {name: tuple(slugs) for name, slugs in grouped.items()}
            if self._keys_shared:  # the same variables: the same index, held once
                index = _shared(("by_name", *self._keys.values()), index)
            self._by_name = index
        return index

    def items_per_message(self, action: str, default: int = DEFAULT_ITEMS_PER_MESSAGE) -> int:
        """How many items one request of `action` may carry (ItemsPerMessage<action>, e.g. "GetVariables")."""
        return self._message_limit("ItemsPerMessage", action, default)

    def bytes_per_message(self, action: str, default: int = DEFAULT_BYTES_PER_MESSAGE) -> int:
        """How many bytes one request of `action` may have (BytesPerMessage<action>, e.g. "SetVariables")."""
        return self._message_limit("BytesPerMessage", action, default)

    def _message_limit(self, variable: str, action: str, default: int) -> int:
        location = _MESSAGE_LIMIT_COMPONENTS.get(action)
        if location is None:
            return default
        component, instance = location
        info = self.find(component, variable, variable_instance=instance)
        raw = info.value if info is not None else None
        try:
            limit = int(raw) if raw is not None else 0
        except ValueError:
            return default
        return limit if limit > 0 else default

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, variables sorted by slug; `from_dict(to_dict())` equals the model."""
        return {
            "variables": [
                {"key": self._keys[slug].to_dict(), **info.to_dict()}
                for slug, info in sorted(self._infos.items(), key=lambda item: item[0])
            ]
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """The inverse of `to_dict()`."""
        model = cls()
        for item in data.get("variables", ()):
            model.put(VariableKey.from_dict(item["key"]), VariableInfo.from_dict(item))
        model.compact()
        return model


class ReportAssembler:
    """Puts the NotifyReport parts of one report back together (B07.FR.04/.10, B08.FR.04/.14).

    Parts share a requestId and carry seqNo 0..n, the last with `tbc` false. They may arrive out of order or
    twice. One report is assembled at a time: a part of another requestId supersedes the pending report, whose
    parts are dropped; late parts of a superseded or finished report are ignored. A part that never comes leaves
    the report incomplete: `missing_seq_nos` says which, `take_partial()` gives up and returns what arrived.
    """

    #: A report split over more parts than this is refused (a bound on memory, far above real reports).
    MAX_PARTS: Final = 10_000
    #: How many finished or superseded requestIds are remembered to ignore their late parts.
    REMEMBERED_REQUESTS: Final = 16

    def __init__(self) -> None:
        """No report pending."""
        self._request_id: int | None = None
        self._parts: dict[int, NotifyReportRequest] = {}
        self._last_seq_no: int | None = None
        self._closed: deque[int] = deque(maxlen=self.REMEMBERED_REQUESTS)

    @property
    def request_id(self) -> int | None:
        """The requestId of the report being assembled."""
        return self._request_id

    @property
    def received_seq_nos(self) -> list[int]:
        """The seqNos received for the pending report."""
        return sorted(self._parts)

    @property
    def is_complete(self) -> bool:
        """Whether the pending report has its last part and every part before it."""
        last = self._last_seq_no
        return last is not None and len(self._parts) == last + 1

    @property
    def missing_seq_nos(self) -> list[int]:
        """The seqNos of the pending report not received yet, below the highest one known to exist."""
        if self._request_id is None:
            return []
        end = self._last_seq_no if self._last_seq_no is not None else max(self._parts, default=-1)
        return [seq_no for seq_no in range(end + 1) if seq_no not in self._parts]

    def expect(self, request_id: int) -> None:
        """Start a report before its first part arrives (superseding any pending one).

        A requestId used before is taken again: its parts are assembled, not ignored as late ones.
        """
        if request_id != self._request_id:
            self._close()
            self._request_id = request_id
            if request_id in self._closed:
                self._closed.remove(request_id)

    def ignore(self, request_id: int) -> None:
        """Drop the parts of report `request_id` from now on (it was assembled elsewhere, or given up).

        The pending report is not affected: its parts are still assembled.
        """
        if request_id != self._request_id and request_id not in self._closed:
            self._closed.append(request_id)

    def feed(self, part: NotifyReportRequest, *, base: DeviceModel | None = None) -> DeviceModel | None:
        """Take one part; when it completes the report, the assembled model, else None.

        Without `base` the result is a new DeviceModel holding exactly the report (right for a FullInventory
        base report). With `base`, the report is merged into it and `base` is returned (right for GetReport).
        """
        if part.request_id in self._closed:
            return None
        if part.request_id != self._request_id:
            self.expect(part.request_id)
        seq_no = part.seq_no
        if not 0 <= seq_no < self.MAX_PARTS or seq_no in self._parts:
            return None
        if self._last_seq_no is not None and seq_no > self._last_seq_no:
            return None  # beyond the part that said it was the last
        self._parts[seq_no] = part
        if not part.tbc:
            self._last_seq_no = seq_no
            for extra in [number for number in self._parts if number > seq_no]:
                del self._parts[extra]
        if not self.is_complete:
            return None
        return self._finish(base)

    def take_partial(self, *, base: DeviceModel | None = None) -> DeviceModel | None:
        """Give up waiting for missing parts: the model of the parts received (None if none was)."""
        if not self._parts:
            self._close()
            return None
        return self._finish(base)

    def _finish(self, base: DeviceModel | None) -> DeviceModel:
        model = base if base is not None else DeviceModel()
        for seq_no in sorted(self._parts):
            model.merge_report_data(self._parts[seq_no].report_data or ())
        model.compact()
        self._close()
        return model

    def _close(self) -> None:
        if self._request_id is not None:
            self._closed.append(self._request_id)
        self._request_id = None
        self._parts = {}
        self._last_seq_no = None
