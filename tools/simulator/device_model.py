"""The station's device model (Part 1 §4, Part 2 B05-B08, N02-N07): components, variables and monitors.

The inventory uses the standardized names of the OCPP 2.0.1 appendices (dm_components_vars.csv): the
controllers with their configuration variables, the ChargingStation, and per EVSE the EVSE, its Connector and
the parts a real AC station has (meters, token reader, contactor, ...). Every variable has one attribute,
Actual. Values are strings, as on the wire; SetVariables checks them against the variable's data type,
limits, values list and mutability (B05.FR.04-10).

Monitors (N04) may be set on variables that support monitoring. When such a variable changes, `update` checks
its monitors and hands the events to `on_event` (the station sends them with NotifyEvent, N07).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
import json
import math
import string
from typing import Any, Final

from .meter import iso_now

ATTRIBUTE: Final = "Actual"
PASSWORD_CHARACTERS: Final = frozenset(string.ascii_letters + string.digits + "*-_=:+|@.")
IDENTIFIER_CHARACTERS: Final = PASSWORD_CHARACTERS
MEASURANDS: Final = (
    "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered,SoC,"
    "Energy.Active.Export.Register,Power.Offered,Frequency,Temperature"
)
TX_MEASURANDS: Final = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC,Current.Offered"
TX_POINTS: Final = "ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer"
_AVAILABILITY: Final = "Available,Occupied,Reserved,Unavailable,Faulted"
MONITOR_TYPES: Final = ("UpperThreshold", "LowerThreshold", "Delta")

type Key = tuple[str, str | None, int | None, int | None, str, str | None]


@dataclass(slots=True)
class Monitor:
    """A variable monitor (SetMonitoringDataType): thresholds and deltas trigger NotifyEvent."""

    id: int
    type: str
    value: float
    severity: int
    transaction: bool = False
    reference: str | None = None  # Delta: the value the change is measured from
    tripped: bool = False  # thresholds: currently exceeded


@dataclass(slots=True)
class Variable:
    """One component variable with its Actual attribute and characteristics."""

    component: str
    name: str
    value: str = ""
    data_type: str = "string"
    mutability: str = "ReadOnly"
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    instance: str | None = None
    unit: str | None = None
    min_limit: float | None = None
    max_limit: float | None = None
    values_list: str | None = None
    persistent: bool = True
    constant: bool = False
    reboot_required: bool = False
    supports_monitoring: bool = False
    #: a stricter check than the data type's: "password" (passwordString), "identifier" (identifierString).
    format: str | None = None
    monitors: dict[int, Monitor] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        """Where the variable sits: component (name, instance, EVSE, connector) and variable (name, instance)."""
        return (self.component, self.component_instance, self.evse_id, self.connector_id, self.name, self.instance)

    @property
    def component_key(self) -> tuple[str, str | None, int | None, int | None]:
        """The component alone."""
        return (self.component, self.component_instance, self.evse_id, self.connector_id)

    def component_dict(self) -> dict[str, Any]:
        """ComponentType, snake_case."""
        component: dict[str, Any] = {"name": self.component}
        if self.component_instance is not None:
            component["instance"] = self.component_instance
        if self.evse_id is not None:
            component["evse"] = {"id": self.evse_id}
            if self.connector_id is not None:
                component["evse"]["connector_id"] = self.connector_id
        return component

    def variable_dict(self) -> dict[str, Any]:
        """VariableType, snake_case."""
        variable: dict[str, Any] = {"name": self.name}
        if self.instance is not None:
            variable["instance"] = self.instance
        return variable

    def report_item(self) -> dict[str, Any]:
        """ReportDataType: the attribute (no value for WriteOnly) and the characteristics (B07.FR.11, B08.FR.12)."""
        attribute: dict[str, Any] = {
            "type": ATTRIBUTE,
            "mutability": self.mutability,
            "persistent": self.persistent,
            "constant": self.constant,
        }
        if self.mutability != "WriteOnly":
            attribute["value"] = self.value[:2500]
        characteristics: dict[str, Any] = {
            "data_type": self.data_type,
            "supports_monitoring": self.supports_monitoring,
        }
        if self.unit is not None:
            characteristics["unit"] = self.unit
        if self.min_limit is not None:
            characteristics["min_limit"] = self.min_limit
        if self.max_limit is not None:
            characteristics["max_limit"] = self.max_limit
        if self.values_list is not None:
            characteristics["values_list"] = self.values_list
        return {
            "component": self.component_dict(),
            "variable": self.variable_dict(),
            "variable_attribute": [attribute],
            "variable_characteristics": characteristics,
        }

    def check(self, value: str) -> str | None:
        """Why `value` cannot be set (B05.FR.07-08), or None when it can."""
        try:
            match self.data_type:
                case "integer":
                    number: float = int(value)
                case "decimal":
                    number = float(value)
                    if not math.isfinite(number):
                        return "not a finite number"
                case "boolean":
                    return None if value in ("true", "false") else "not true or false"
                case "dateTime":
                    datetime.fromisoformat(value)
                    return None
                case "OptionList":
                    return None if value in self._options() else "not in the values list"
                case "MemberList" | "SequenceList":
                    members = [item.strip() for item in value.split(",") if item.strip()]
                    if any(member not in self._options() for member in members):
                        return "a member is not in the values list"
                    if self.data_type == "SequenceList" and len(set(members)) != len(members):
                        return "a member is repeated"
                    return None
                case _ if self.format == "password":
                    low, high = int(self.min_limit or 16), int(self.max_limit or 40)
                    if not low <= len(value) <= high or any(c not in PASSWORD_CHARACTERS for c in value):
                        return f"a password is {low}..{high} letters, digits and *-_=:+|@."
                    return None
                case _ if self.format == "identifier":
                    if not 1 <= len(value) <= (self.max_limit or 48) or any(
                        c not in IDENTIFIER_CHARACTERS for c in value
                    ):
                        return "an identifier is letters, digits and *-_=:+|@."
                    return None
                case _:
                    if self.max_limit is not None and len(value) > self.max_limit:
                        return f"longer than {self.max_limit:g} characters"
                    return None
        except ValueError:
            return f"not a valid {self.data_type}"
        if self.min_limit is not None and number < self.min_limit:
            return f"below the minimum {self.min_limit:g}"
        if self.max_limit is not None and number > self.max_limit:
            return f"above the maximum {self.max_limit:g}"
        return None

    def _options(self) -> list[str]:
        return [item.strip() for item in (self.values_list or "").split(",")]


def _number(value: str) -> float | None:
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True, slots=True)
class InventorySettings:
    """What the inventory is built from."""

    station_id: str
    evses: int = 1
    vendor: str = "OCPP CSMS Simulator"
    model: str = "SimCharger AC 11"
    serial_number: str = "SIM-0001"
    firmware_version: str = "1.0.0"
    password: str | None = None
    security_profile: int = 1
    heartbeat_interval: int = 300
    meter_interval: int = 10
    max_current: float = 16.0
    phases: int = 3
    retry_wait_minimum: int = 5
    retry_random_range: int = 10
    retry_repeat_times: int = 5


class DeviceModel:
    """Every variable of the station, by key, with GetVariables/SetVariables/report semantics."""

    def __init__(self, variables: Iterable[Variable]) -> None:
        """Index the variables."""
        self.variables: dict[Key, Variable] = {}
        self.components: set[tuple[str, str | None, int | None, int | None]] = set()
        for variable in variables:
            self.variables[variable.key] = variable
            self.components.add(variable.component_key)
        #: Called with (variable, old value) after SetVariables changed a value (the station's side effects).
        self.on_set: Callable[[Variable, str], None] | None = None
        #: Called with the EventDataType dicts that monitors produced.
        self.on_event: Callable[[list[dict[str, Any]]], None] | None = None
        self.monitoring_level = 9  # severities 0..9: report all (N05)
        self.monitoring_base = "All"
        self._next_monitor_id = 1
        self._next_event_id = 1

    def __len__(self) -> int:
        """How many variables there are."""
        return len(self.variables)

    def __iter__(self) -> Iterator[Variable]:
        """Every variable, in inventory order."""
        return iter(self.variables.values())

    # ---- lookups ---------------------------------------------------------------------------------------------

    def lookup(self, component: dict[str, Any], variable: dict[str, Any]) -> Variable | str:
        """The variable a ComponentType/VariableType pair names, or UnknownComponent/UnknownVariable (B06.FR.14-15)."""
        evse = component.get("evse") or {}
        component_key = (component.get("name", ""), component.get("instance"), evse.get("id"), evse.get("connector_id"))
        if component_key not in self.components:
            return "UnknownComponent"
        found = self.variables.get((*component_key, variable.get("name", ""), variable.get("instance")))
        return found if found is not None else "UnknownVariable"

    def find(
        self,
        component: str,
        name: str,
        *,
        evse_id: int | None = None,
        connector_id: int | None = None,
        instance: str | None = None,
        component_instance: str | None = None,
    ) -> Variable | None:
        """A variable by its parts."""
        return self.variables.get((component, component_instance, evse_id, connector_id, name, instance))

    def value(self, component: str, name: str, default: str = "", **where: Any) -> str:
        """A variable's Actual value (default when the variable does not exist)."""
        found = self.find(component, name, **where)
        return found.value if found is not None else default

    def number(self, component: str, name: str, default: float, **where: Any) -> float:
        """A numeric variable's value."""
        found = _number(self.value(component, name, "", **where))
        return default if found is None else found

    def flag(self, component: str, name: str, default: bool = False, **where: Any) -> bool:
        """A boolean variable's value."""
        value = self.value(component, name, "", **where)
        return default if value == "" else value == "true"

    def members(self, component: str, name: str, **where: Any) -> list[str]:
        """A MemberList/SequenceList variable's members."""
        return [item.strip() for item in self.value(component, name, "", **where).split(",") if item.strip()]

    def remove_component(self, name: str) -> None:
        """Drop a component with all its variables (a station built without it)."""
        self.variables = {key: variable for key, variable in self.variables.items() if variable.component != name}
        self.components = {component for component in self.components if component[0] != name}

    # ---- B06 GetVariables, B05 SetVariables ------------------------------------------------------------------

    def get_variable(self, item: dict[str, Any]) -> dict[str, Any]:
        """One GetVariableResultType for one GetVariableDataType."""
        attribute_type = item.get("attribute_type") or ATTRIBUTE
        result: dict[str, Any] = {
            "attribute_type": attribute_type,
            "component": item["component"],
            "variable": item["variable"],
        }
        found = self.lookup(item["component"], item["variable"])
        if isinstance(found, str):
            result["attribute_status"] = found
        elif attribute_type != ATTRIBUTE:
            result["attribute_status"] = "NotSupportedAttributeType"
        elif found.mutability == "WriteOnly":
            result["attribute_status"] = "Rejected"  # B06.FR.09
            result["attribute_status_info"] = {"reason_code": "WriteOnly"}
        else:
            result["attribute_status"] = "Accepted"
            result["attribute_value"] = found.value[:2500]
        return result

    def set_variable(self, item: dict[str, Any]) -> dict[str, Any]:
        """One SetVariableResultType for one SetVariableDataType; applies the value when accepted."""
        attribute_type = item.get("attribute_type") or ATTRIBUTE
        result: dict[str, Any] = {
            "attribute_type": attribute_type,
            "component": item["component"],
            "variable": item["variable"],
        }
        found = self.lookup(item["component"], item["variable"])
        if isinstance(found, str):
            result["attribute_status"] = found
            return result
        if attribute_type != ATTRIBUTE:
            result["attribute_status"] = "NotSupportedAttributeType"
            return result
        value = str(item["attribute_value"])
        problem = "read-only" if found.mutability == "ReadOnly" else found.check(value)
        if problem is not None:
            result["attribute_status"] = "Rejected"
            result["attribute_status_info"] = {"reason_code": "InvalidValue", "additional_info": problem[:512]}
            return result
        old, found.value = found.value, value
        result["attribute_status"] = "RebootRequired" if found.reboot_required else "Accepted"
        if self.on_set is not None:
            self.on_set(found, old)
        self._check_monitors(found, old)
        return result

    def update(self, variable: Variable | None, value: str) -> None:
        """The station changed a value itself (a measurement, a state): monitors are checked."""
        if variable is None or variable.value == value:
            return
        old, variable.value = variable.value, value
        self._check_monitors(variable, old)

    # ---- B07/B08 reports -------------------------------------------------------------------------------------

    def base_report(self, report_base: str) -> list[Variable] | None:
        """The variables of a base report (None: not supported, B07.FR.02)."""
        match report_base:
            case "FullInventory":
                return list(self.variables.values())
            case "ConfigurationInventory":  # B07.FR.07: what the operator can set
                return [v for v in self.variables.values() if v.mutability != "ReadOnly"]
            case "SummaryInventory":  # B07.FR.09: availability and condition
                return [v for v in self.variables.values() if v.name in ("AvailabilityState", "Available", "Problem")]
            case _:
                return None

    def report(self, criteria: list[str] | None, component_variables: list[dict[str, Any]] | None) -> list[Variable]:
        """The variables GetReport asks for (B08.FR.05-25)."""
        selected = list(self.variables.values())
        if criteria:
            by_component: dict[tuple[str, str | None, int | None, int | None], dict[str, str]] = {}
            for variable in selected:
                if variable.instance is None:
                    by_component.setdefault(variable.component_key, {})[variable.name] = variable.value
            chosen = {
                component
                for component, values in by_component.items()
                if any(_meets(criterion, values) for criterion in criteria)  # B08.FR.13: OR
            }
            selected = [v for v in selected if v.component_key in chosen]
        if component_variables:
            selected = [v for v in selected if any(_matches(v, wanted) for wanted in component_variables)]
        return selected

    @staticmethod
    def report_parts(variables: list[Variable], items: int, max_bytes: int) -> list[list[dict[str, Any]]]:
        """ReportData split in parts of at most `items` entries and about `max_bytes` of JSON each."""
        parts: list[list[dict[str, Any]]] = []
        part: list[dict[str, Any]] = []
        size = 200  # the envelope: requestId, generatedAt, seqNo, tbc
        for variable in variables:
            entry = variable.report_item()
            entry_size = len(json.dumps(entry)) + 1
            if part and (len(part) >= items or size + entry_size > max_bytes):
                parts.append(part)
                part, size = [], 200
            part.append(entry)
            size += entry_size
        if part:
            parts.append(part)
        return parts

    # ---- N04 monitors ----------------------------------------------------------------------------------------

    def set_monitor(self, item: dict[str, Any]) -> dict[str, Any]:
        """One SetMonitoringResultType for one SetMonitoringDataType."""
        result: dict[str, Any] = {
            "type": item["type"],
            "severity": item["severity"],
            "component": item["component"],
            "variable": item["variable"],
        }
        found = self.lookup(item["component"], item["variable"])
        if isinstance(found, str):
            result["status"] = found
            return result
        if item["type"] not in MONITOR_TYPES:
            result["status"] = "UnsupportedMonitorType"
            return result
        numeric = found.data_type in ("integer", "decimal")
        if not found.supports_monitoring or (item["type"] != "Delta" and not numeric):
            result["status"] = "Rejected"
            return result
        monitor_id = item.get("id")
        if monitor_id is not None and not any(monitor_id in v.monitors for v in self.variables.values()):
            result["status"] = "Rejected"  # N04.FR.?: an id that does not exist cannot be replaced
            return result
        duplicate = next(  # N04.FR.10: the same type and severity on the variable
            (
                m
                for m in found.monitors.values()
                if m.type == item["type"] and m.severity == int(item["severity"]) and m.id != monitor_id
            ),
            None,
        )
        if duplicate is not None:
            result["status"] = "Duplicate"
            return result
        if monitor_id is None:
            monitor_id = self._next_monitor_id
            self._next_monitor_id += 1
        for variable in self.variables.values():
            variable.monitors.pop(monitor_id, None)
        found.monitors[monitor_id] = Monitor(
            id=monitor_id,
            type=item["type"],
            value=float(item["value"]),
            severity=int(item["severity"]),
            transaction=bool(item.get("transaction", False)),
            reference=found.value,
        )
        result["status"] = "Accepted"
        result["id"] = monitor_id
        return result

    def clear_monitor(self, monitor_id: int) -> str:
        """ClearMonitoringStatusEnumType for one id."""
        for variable in self.variables.values():
            if variable.monitors.pop(monitor_id, None) is not None:
                return "Accepted"
        return "NotFound"

    def monitoring_report(
        self, criteria: list[str] | None, component_variables: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        """MonitoringDataType entries for NotifyMonitoringReport (N02)."""
        wanted_types = {
            "ThresholdMonitoring": ("UpperThreshold", "LowerThreshold"),
            "DeltaMonitoring": ("Delta",),
            "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
        }
        types = {t for criterion in criteria or wanted_types for t in wanted_types.get(criterion, ())}
        entries = []
        for variable in self.variables.values():
            if component_variables and not any(_matches(variable, wanted) for wanted in component_variables):
                continue
            monitors = [m for m in variable.monitors.values() if m.type in types]
            if monitors:
                entries.append(
                    {
                        "component": variable.component_dict(),
                        "variable": variable.variable_dict(),
                        "variable_monitoring": [
                            {
                                "id": m.id,
                                "transaction": m.transaction,
                                "value": m.value,
                                "type": m.type,
                                "severity": m.severity,
                            }
                            for m in monitors
                        ],
                    }
                )
        return entries

    def _check_monitors(self, variable: Variable, old: str) -> None:
        if not variable.monitors or self.on_event is None:
            return
        events: list[dict[str, Any]] = []
        value = _number(variable.value)
        for monitor in variable.monitors.values():
            if monitor.severity > self.monitoring_level:
                continue
            if monitor.type == "Delta":
                reference = monitor.reference if monitor.reference is not None else old
                ref_number = _number(reference)
                changed = (
                    abs(value - ref_number) >= monitor.value
                    if value is not None and ref_number is not None
                    else variable.value != reference
                )
                if changed:
                    monitor.reference = variable.value
                    events.append(self._event(variable, monitor, "Delta"))
            elif value is not None:
                exceeded = value > monitor.value if monitor.type == "UpperThreshold" else value < monitor.value
                if exceeded != monitor.tripped:
                    monitor.tripped = exceeded
                    events.append(self._event(variable, monitor, "Alerting", cleared=not exceeded))
        if events:
            self.on_event(events)

    def _event(self, variable: Variable, monitor: Monitor, trigger: str, *, cleared: bool = False) -> dict[str, Any]:
        event: dict[str, Any] = {
            "event_id": self._next_event_id,
            "timestamp": iso_now(),
            "trigger": trigger,
            "actual_value": variable.value[:2500],
            "component": variable.component_dict(),
            "variable": variable.variable_dict(),
            "event_notification_type": "CustomMonitor",
            "variable_monitoring_id": monitor.id,
        }
        if cleared:
            event["cleared"] = True
        self._next_event_id += 1
        return event


def _meets(criterion: str, values: dict[str, str]) -> bool:
    """Whether a component meets a ComponentCriterionEnumType (B08.FR.07-10)."""
    if criterion == "Problem":
        return values.get("Problem") == "true"
    if criterion in ("Active", "Available", "Enabled"):
        return values.get(criterion, "true") == "true"
    return False


def _matches(variable: Variable, wanted: dict[str, Any]) -> bool:
    """Whether a variable falls under a ComponentVariableType of GetReport (B08.FR.20-25)."""
    component = wanted["component"]
    if component.get("name") != variable.component:
        return False
    if component.get("instance") is not None and component["instance"] != variable.component_instance:
        return False
    evse = component.get("evse")
    if evse is not None:
        if evse.get("id") != variable.evse_id:
            return False
        if evse.get("connector_id") is not None and evse["connector_id"] != variable.connector_id:
            return False
    wanted_variable = wanted.get("variable")
    if wanted_variable is None:
        return True
    if wanted_variable.get("name") != variable.name:
        return False
    return wanted_variable.get("instance") is None or wanted_variable["instance"] == variable.instance


def build_inventory(settings: InventorySettings) -> DeviceModel:  # noqa: PLR0915 - one long, flat list
    """The station's inventory: ~155 variables for one EVSE, ~25 more per further EVSE."""
    s = settings
    out: list[Variable] = []

    def add(component: str, name: str, value: object, data_type: str = "string", **kwargs: Any) -> None:
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append(Variable(component=component, name=name, value=str(value), data_type=data_type, **kwargs))

    rw = {"mutability": "ReadWrite"}
    monitored = {"supports_monitoring": True}
    max_power = s.max_current * 230.0 * s.phases

    # ChargingStation (the whole station)
    cs = "ChargingStation"
    add(cs, "AvailabilityState", "Available", "OptionList", values_list=_AVAILABILITY, persistent=False, **monitored)
    add(cs, "Available", True, "boolean")
    add(cs, "Model", s.model, constant=True)
    add(cs, "VendorName", s.vendor, constant=True)
    add(cs, "SupplyPhases", s.phases, "integer", constant=True)
    add(cs, "AllowNewSessionsPendingFirmwareUpdate", False, "boolean", **rw)
    add(cs, "Problem", False, "boolean", persistent=False, **monitored)
    add(cs, "Power", 0, "decimal", unit="W", max_limit=max_power * s.evses, persistent=False, **monitored)

    # Controller (the station's main board)
    add("Controller", "FirmwareVersion", s.firmware_version)
    add("Controller", "SerialNumber", s.serial_number, constant=True)
    add("Controller", "Manufacturer", s.vendor, constant=True)
    add("Controller", "Model", "SIM-CTRL-2", constant=True)
    add("Controller", "MaxMsgElements", 1024, "integer", constant=True)

    # OCPPCommCtrlr
    cc = "OCPPCommCtrlr"
    add(cc, "ActiveNetworkProfile", "0")
    add(cc, "FileTransferProtocols", "HTTP,HTTPS,FTPS", "MemberList", values_list="FTP,FTPS,HTTP,HTTPS,SFTP")
    add(cc, "HeartbeatInterval", s.heartbeat_interval, "integer", unit="s", min_limit=1, max_limit=86400, **rw)
    add(cc, "MessageTimeout", 30, "integer", instance="Default", unit="s", min_limit=1, max_limit=600, **rw)
    add(cc, "MessageAttemptInterval", 10, "integer", instance="TransactionEvent", unit="s", min_limit=1, **rw)
    add(cc, "MessageAttempts", 3, "integer", instance="TransactionEvent", min_limit=1, max_limit=10, **rw)
    add(cc, "NetworkConfigurationPriority", "0", "SequenceList", values_list="0,1,2", reboot_required=True, **rw)
    add(cc, "NetworkProfileConnectionAttempts", 3, "integer", min_limit=1, **rw)
    add(cc, "OfflineThreshold", 60, "integer", unit="s", **rw)
    add(cc, "QueueAllMessages", False, "boolean", **rw)
    add(cc, "ResetRetries", 2, "integer", **rw)
    add(cc, "RetryBackOffRandomRange", s.retry_random_range, "integer", unit="s", min_limit=0, **rw)
    add(cc, "RetryBackOffRepeatTimes", s.retry_repeat_times, "integer", min_limit=0, **rw)
    add(cc, "RetryBackOffWaitMinimum", s.retry_wait_minimum, "integer", unit="s", min_limit=0, **rw)
    add(cc, "UnlockOnEVSideDisconnect", True, "boolean", **rw)
    add(cc, "WebSocketPingInterval", 0, "integer", unit="s", min_limit=0, **rw)
    add(
        cc,
        "PublicKeyWithSignedMeterValue",
        "Never",
        "OptionList",
        values_list="Never,OncePerTransaction,EveryMeterValue",
    )

    # DeviceDataCtrlr
    dd = "DeviceDataCtrlr"
    for action in ("GetReport", "GetVariables", "SetVariables"):
        add(dd, "BytesPerMessage", 65000, "integer", instance=action, constant=True)
        add(dd, "ItemsPerMessage", 50 if action == "GetReport" else 25, "integer", instance=action, constant=True)
    add(dd, "ConfigurationValueSize", 1000, "integer", constant=True)
    add(dd, "ReportingValueSize", 2500, "integer", constant=True)
    add(dd, "ValueSize", 2500, "integer", constant=True)

    # SampledDataCtrlr
    sd = "SampledDataCtrlr"
    add(sd, "Available", True, "boolean")
    add(sd, "Enabled", True, "boolean", **rw)
    add(sd, "SignReadings", False, "boolean", **rw)
    add(sd, "TxEndedInterval", 0, "integer", unit="s", min_limit=0, **rw)
    add(sd, "TxEndedMeasurands", "Energy.Active.Import.Register", "MemberList", values_list=MEASURANDS, **rw)
    add(sd, "TxStartedMeasurands", "Energy.Active.Import.Register,SoC", "MemberList", values_list=MEASURANDS, **rw)
    add(sd, "TxUpdatedInterval", s.meter_interval, "integer", unit="s", min_limit=0, **rw)
    add(sd, "TxUpdatedMeasurands", TX_MEASURANDS, "MemberList", values_list=MEASURANDS, **rw)
    add(sd, "RegisterValuesWithoutPhases", True, "boolean", **rw)

    # AlignedDataCtrlr
    ad = "AlignedDataCtrlr"
    add(ad, "Available", True, "boolean")
    add(ad, "Enabled", True, "boolean", **rw)
    add(ad, "Interval", 0, "integer", unit="s", min_limit=0, max_limit=86400, **rw)
    add(
        ad,
        "Measurands",
        "Energy.Active.Import.Register,Power.Active.Import",
        "MemberList",
        values_list=MEASURANDS,
        **rw,
    )
    add(ad, "SendDuringIdle", False, "boolean", **rw)
    add(ad, "SignReadings", False, "boolean", **rw)
    add(ad, "TxEndedInterval", 0, "integer", unit="s", min_limit=0, **rw)
    add(ad, "TxEndedMeasurands", "Energy.Active.Import.Register", "MemberList", values_list=MEASURANDS, **rw)

    # TxCtrlr
    tx = "TxCtrlr"
    add(tx, "EVConnectionTimeOut", 120, "integer", unit="s", min_limit=1, **rw)
    add(tx, "MaxEnergyOnInvalidId", 0, "integer", unit="Wh", min_limit=0, max_limit=1_000_000_000, **rw)
    add(tx, "StopTxOnEVSideDisconnect", True, "boolean")
    add(tx, "StopTxOnInvalidId", True, "boolean", **rw)
    add(tx, "TxBeforeAcceptedEnabled", False, "boolean", **rw)
    add(tx, "TxStartPoint", "PowerPathClosed", "MemberList", values_list=TX_POINTS, **rw)
    add(tx, "TxStopPoint", "EVConnected,Authorized", "MemberList", values_list=TX_POINTS, **rw)

    # AuthCtrlr, AuthCacheCtrlr, LocalAuthListCtrlr
    au = "AuthCtrlr"
    add(au, "AuthorizeRemoteStart", False, "boolean", **rw)
    add(au, "Enabled", True, "boolean", **rw)
    add(au, "LocalAuthorizeOffline", True, "boolean", **rw)
    add(au, "LocalPreAuthorize", False, "boolean", **rw)
    add(au, "OfflineTxForUnknownIdEnabled", True, "boolean", **rw)
    add(au, "DisableRemoteAuthorization", False, "boolean", **rw)
    add(au, "MasterPassGroupId", "", max_limit=36, **rw)
    add(au, "AdditionalInfoItemsPerMessage", 10, "integer", constant=True)
    ac = "AuthCacheCtrlr"
    add(ac, "Available", True, "boolean")
    add(ac, "Enabled", True, "boolean", **rw)
    add(ac, "LifeTime", 86400, "integer", unit="s", min_limit=0, **rw)
    add(ac, "Policy", "LRU", "OptionList", values_list="LRU,LFU,FIFO,CUSTOM", **rw)
    add(ac, "Storage", 65536, "integer", unit="B", constant=True)
    add(ac, "DisablePostAuthorize", False, "boolean", **rw)
    la = "LocalAuthListCtrlr"
    add(la, "Available", True, "boolean")
    add(la, "BytesPerMessage", 65000, "integer", constant=True)
    add(la, "Enabled", True, "boolean", **rw)
    add(la, "Entries", 0, "integer", max_limit=1000, persistent=False)
    add(la, "ItemsPerMessage", 100, "integer", constant=True)
    add(la, "Storage", 0, "integer", unit="B", max_limit=1_000_000, persistent=False)
    add(la, "DisablePostAuthorize", False, "boolean", **rw)

    # SecurityCtrlr
    sc = "SecurityCtrlr"
    add(sc, "AdditionalRootCertificateCheck", False, "boolean")
    add(
        sc, "BasicAuthPassword", s.password or "", mutability="WriteOnly", min_limit=16, max_limit=40, format="password"
    )
    add(sc, "CertificateEntries", 0, "integer", max_limit=20, persistent=False)
    add(sc, "CertSigningRepeatTimes", 3, "integer", min_limit=0, **rw)
    add(sc, "CertSigningWaitMinimum", 30, "integer", unit="s", min_limit=1, **rw)
    add(sc, "Identity", s.station_id, max_limit=48, reboot_required=True, format="identifier", **rw)
    add(sc, "MaxCertificateChainSize", 10000, "integer", constant=True)
    add(sc, "OrganizationName", "OCPP CSMS Simulator", max_limit=50, **rw)
    add(sc, "SecurityProfile", s.security_profile, "integer", min_limit=1, max_limit=3, reboot_required=True, **rw)

    # SmartChargingCtrlr
    sm = "SmartChargingCtrlr"
    add(sm, "ACPhaseSwitchingSupported", False, "boolean", constant=True)
    add(sm, "Available", True, "boolean")
    add(sm, "Enabled", True, "boolean", **rw)
    add(sm, "Entries", 0, "integer", instance="ChargingProfiles", max_limit=20, persistent=False)
    add(sm, "ExternalControlSignalsEnabled", False, "boolean", **rw)
    add(sm, "LimitChangeSignificance", 5.0, "decimal", unit="Percent", min_limit=0, max_limit=100, **rw)
    add(sm, "NotifyChargingLimitWithSchedules", False, "boolean", **rw)
    add(sm, "PeriodsPerSchedule", 24, "integer", constant=True)
    add(sm, "Phases3to1", False, "boolean", constant=True)
    add(sm, "ProfileStackLevel", 10, "integer", constant=True)
    add(sm, "RateUnit", "A,W", "MemberList", values_list="A,W", constant=True)

    # ReservationCtrlr, ClockCtrlr, MonitoringCtrlr, DisplayMessageCtrlr, TariffCostCtrlr, CustomizationCtrlr
    add("ReservationCtrlr", "Available", True, "boolean")
    add("ReservationCtrlr", "Enabled", True, "boolean", mutability="ReadWrite")
    add("ReservationCtrlr", "NonEvseSpecific", True, "boolean", constant=True)
    cl = "ClockCtrlr"
    add(cl, "DateTime", iso_now(), "dateTime", persistent=False)
    add(cl, "NtpServerUri", "pool.ntp.org", max_limit=512, **rw)
    add(cl, "NtpSource", "DHCP", "OptionList", values_list="DHCP,manual", **rw)
    add(cl, "TimeAdjustmentReportingThreshold", 20, "integer", unit="s", **rw)
    add(cl, "TimeOffset", "+00:00", **rw)
    add(
        cl,
        "TimeSource",
        "Heartbeat,NTP",
        "SequenceList",
        values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork",
        **rw,
    )
    add(cl, "TimeZone", "Etc/UTC", **rw)
    mo = "MonitoringCtrlr"
    add(mo, "Available", True, "boolean")
    add(mo, "Enabled", True, "boolean", **rw)
    for action in ("SetVariableMonitoring", "ClearVariableMonitoring"):
        add(mo, "BytesPerMessage", 65000, "integer", instance=action, constant=True)
        add(mo, "ItemsPerMessage", 25, "integer", instance=action, constant=True)
    add(mo, "OfflineQueuingSeverity", 2, "integer", min_limit=0, max_limit=9, **rw)
    add(mo, "MonitoringBase", "All", "OptionList", values_list="All,FactoryDefault,HardWiredOnly", persistent=False)
    add(mo, "MonitoringLevel", 9, "integer", min_limit=0, max_limit=9, persistent=False)
    add(mo, "ActiveMonitoringBase", "All", "OptionList", values_list="All,FactoryDefault,HardWiredOnly")
    add(mo, "ActiveMonitoringLevel", 9, "integer", min_limit=0, max_limit=9)
    dm = "DisplayMessageCtrlr"
    add(dm, "Available", True, "boolean")
    add(dm, "DisplayMessages", 0, "integer", max_limit=10)
    add(dm, "Enabled", True, "boolean", **rw)
    add(dm, "PersonalMessageSize", 128, "integer", constant=True)
    add(dm, "SupportedFormats", "ASCII,UTF8", "MemberList", values_list="ASCII,HTML,URI,UTF8", constant=True)
    add(dm, "SupportedPriorities", "NormalCycle,InFront", "MemberList", values_list="AlwaysFront,InFront,NormalCycle")
    tc = "TariffCostCtrlr"
    for which in ("Tariff", "Cost"):
        add(tc, "Available", True, "boolean", instance=which)
        add(tc, "Enabled", False, "boolean", instance=which, mutability="ReadWrite")
    add(tc, "Currency", "EUR", max_limit=3, **rw)
    add(tc, "TariffFallbackMessage", "Tariff as agreed with your provider", max_limit=255, **rw)
    add(tc, "TotalCostFallbackMessage", "See your provider for the cost", max_limit=255, **rw)
    add("CustomizationCtrlr", "CustomImplementationEnabled", True, "boolean", instance="sim", **rw)

    # Station-wide hardware
    add("ElectricalFeed", "SupplyPhases", s.phases, "integer", constant=True)
    add("ElectricalFeed", "ACVoltage", 230, "decimal", unit="V", persistent=False, **monitored)
    add("TokenReader", "Enabled", True, "boolean", **rw)
    add("TokenReader", "Token", "", persistent=False)
    add("TokenReader", "TokenType", "ISO14443", "OptionList", values_list="ISO14443,ISO15693,Central", persistent=False)
    add("TemperatureSensor", "Temperature", 21.5, "decimal", unit="Celsius", persistent=False, **monitored)
    add("EmergencyStopSensor", "Active", False, "boolean", persistent=False, **monitored)
    add("CaseAccessSensor", "Active", False, "boolean", persistent=False, **monitored)
    add("RealTimeClock", "Active", True, "boolean")
    add("DataLink", "SignalStrength", -61, "decimal", unit="dBm", persistent=False, **monitored)
    add("DataLink", "Enabled", True, "boolean")

    for evse_id in range(1, s.evses + 1):
        e: dict[str, Any] = {"evse_id": evse_id}
        c: dict[str, Any] = {"evse_id": evse_id, "connector_id": 1}
        add("EVSE", "AllowReset", True, "boolean", **e)
        add("EVSE", "AvailabilityState", "Available", "OptionList", values_list=_AVAILABILITY, **e, **monitored)
        add("EVSE", "Available", True, "boolean", **e)
        add("EVSE", "EvseId", f"NL*SIM*E{evse_id:04d}", **e)
        add("EVSE", "Power", 0, "decimal", unit="W", max_limit=max_power, persistent=False, **e, **monitored)
        add("EVSE", "SupplyPhases", s.phases, "integer", **e)
        add("EVSE", "Problem", False, "boolean", persistent=False, **e)
        for phase in ("L1", "L2", "L3"):
            add("EVSE", "ACCurrent", 0, "decimal", instance=phase, unit="A", max_limit=s.max_current, **e, **monitored)
            add("EVSE", "ACVoltage", 230, "decimal", instance=phase, unit="V", **e, **monitored)
        add("Connector", "AvailabilityState", "Available", "OptionList", values_list=_AVAILABILITY, **c, **monitored)
        add("Connector", "Available", True, "boolean", **c)
        add("Connector", "ConnectorType", "cType2", **c)
        add("Connector", "SupplyPhases", s.phases, "integer", **c)
        add("Connector", "ChargeProtocol", "IEC61851", **c)
        add("ConnectedEV", "Available", False, "boolean", persistent=False, **e)
        add("ConnectedEV", "VehicleId", "", persistent=False, **e)
        add("ConnectedEV", "StateOfCharge", 0, "decimal", unit="Percent", persistent=False, **e, **monitored)
        add("CPPWMController", "State", "A", persistent=False, **e)
        add("ConnectorPlugRetentionLock", "Active", False, "boolean", persistent=False, **c)
        add("PowerContactor", "Active", False, "boolean", persistent=False, **e)
        add("ChargingStatusIndicator", "Color", "00FF00", persistent=False, **e)
        add("FiscalMetering", "EnergyImportRegister", 0, "decimal", unit="Wh", persistent=False, **e, **monitored)
        add("ControlMetering", "Power", 0, "decimal", unit="W", persistent=False, **e)
        add("OverCurrentProtection", "Tripped", False, "boolean", persistent=False, **e, **monitored)
        add("RCD", "Tripped", False, "boolean", persistent=False, **e, **monitored)
    return DeviceModel(out)
