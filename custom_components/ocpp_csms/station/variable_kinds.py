"""How a device model variable appears in Home Assistant, decided without Home Assistant.

The kind follows the data type and the mutability of the variable's Actual attribute (Part 2 "DataEnumType",
"MutabilityEnumType"):

| mutability        | boolean        | integer, decimal | OptionList  | dateTime         | string, Sequence/MemberList |
|-------------------|----------------|------------------|-------------|------------------|-----------------------------|
| ReadOnly          | BINARY_SENSOR  | SENSOR_NUMERIC   | SENSOR_ENUM | SENSOR_TIMESTAMP | SENSOR_TEXT                 |
| ReadWrite         | SWITCH         | NUMBER           | SELECT      | TEXT             | TEXT                        |
| WriteOnly         | NONE           | NONE             | NONE        | NONE             | NONE                        |

A read-only boolean is a binary sensor: on/off is what it is, and Home Assistant gives it state colours and
history bars. WriteOnly variables (BasicAuthPassword) have no entity: their value cannot be read and must not be
shown. An OptionList without a valuesList falls back to text; a variable without characteristics is text.

`CURATED` lists well-known standardized variables (appendix dm_components_vars.csv) with a translation key and
presentation hints (their names and icons are in the integration's translations and icons.json, written by
`tools/generate_translations.py`); they are enabled by default. Every other variable is disabled by default, in
the config category when writable, diagnostic when read-only. Sensors never get the config category (Home
Assistant refuses it for sensors), so a curated config variable that the station reports read-only becomes
diagnostic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from ..protocol.v201.enums import Data, Mutability
from .device_model import VariableInfo, VariableKey

type Category = Literal["config", "diagnostic"]

#: OCPP integers are 32 bit (Part 2 "Primitive datatypes").
INT32_MIN: Final = -(2**31)
INT32_MAX: Final = 2**31 - 1
#: Range given to a decimal number without minLimit / maxLimit.
DECIMAL_LIMIT: Final = 1e9


class EntityKind(StrEnum):
    """The Home Assistant platform a variable is shown on."""

    SENSOR_NUMERIC = "sensor_numeric"
    SENSOR_ENUM = "sensor_enum"
    SENSOR_TEXT = "sensor_text"
    SENSOR_TIMESTAMP = "sensor_timestamp"
    BINARY_SENSOR = "binary_sensor"
    SWITCH = "switch"
    NUMBER = "number"
    SELECT = "select"
    TEXT = "text"
    NONE = "none"

    @property
    def read_only(self) -> bool:
        """Whether the kind only shows a value (a sensor)."""
        return self in _READ_ONLY_KINDS


_READ_ONLY_KINDS: Final = frozenset(
    {
        EntityKind.SENSOR_NUMERIC,
        EntityKind.SENSOR_ENUM,
        EntityKind.SENSOR_TEXT,
        EntityKind.SENSOR_TIMESTAMP,
        EntityKind.BINARY_SENSOR,
    }
)
_NUMERIC: Final = frozenset({Data.INTEGER, Data.DECIMAL})

# The appendix's units (units_of_measure.csv) in Home Assistant's spelling, where it differs.
_HA_UNITS: Final[Mapping[str, str]] = {"Percent": "%", "Celsius": "°C", "Fahrenheit": "°F", "ms2": "m/s²"}
# The device class a numeric sensor's unit implies (energy left out: it needs a total state class).
_UNIT_DEVICE_CLASSES: Final[Mapping[str, str]] = {
    "W": "power",
    "kW": "power",
    "A": "current",
    "V": "voltage",
    "Hz": "frequency",
    "s": "duration",
    "Celsius": "temperature",
    "Fahrenheit": "temperature",
    "K": "temperature",
}


#: Components whose variables are shown read-only whatever the station says: security settings change through
#: their own procedures (A01 password rotation, A05 profile upgrade, certificates), never from an entity's box.
READ_ONLY_COMPONENTS: Final = frozenset({"securityctrlr"})


def entity_kind(info: VariableInfo, *, read_only: bool = False) -> EntityKind:
    """The kind of entity a variable is shown as (see the module's table); `read_only` shows a writable one so."""
    mutability = info.mutability
    if mutability is None or mutability is Mutability.WRITE_ONLY:
        return EntityKind.NONE
    writable = mutability is Mutability.READ_WRITE and not read_only
    characteristics = info.characteristics
    data_type = characteristics.data_type if characteristics is not None else Data.STRING
    if data_type is Data.BOOLEAN:
        return EntityKind.SWITCH if writable else EntityKind.BINARY_SENSOR
    if data_type in _NUMERIC:
        return EntityKind.NUMBER if writable else EntityKind.SENSOR_NUMERIC
    if data_type is Data.OPTION_LIST and characteristics is not None and characteristics.values_list:
        return EntityKind.SELECT if writable else EntityKind.SENSOR_ENUM
    if data_type is Data.DATE_TIME and not writable:
        return EntityKind.SENSOR_TIMESTAMP
    return EntityKind.TEXT if writable else EntityKind.SENSOR_TEXT


@dataclass(frozen=True, slots=True)
class CuratedVariable:
    """Presentation of a well-known standardized variable."""

    translation_key: str
    category: Category | None = None
    #: Home Assistant device class, as its plain string value ("power", "duration", ...).
    device_class: str | None = None
    #: The unit to show, when the station's (or its absence) is not right for Home Assistant.
    unit: str | None = None
    enabled_by_default: bool = True


def _config(key: str, device_class: str | None = None, unit: str | None = None) -> CuratedVariable:
    return CuratedVariable(key, "config", device_class, unit)


def _diagnostic(key: str, device_class: str | None = None, unit: str | None = None) -> CuratedVariable:
    return CuratedVariable(key, "diagnostic", device_class, unit)


#: (component, variable) → presentation. Names as in the appendix dm_components_vars.csv; variable instances
#: (ItemsPerMessage GetReport/GetVariables/SetVariables) share the entry and the glue adds the instance.
CURATED: Final[Mapping[tuple[str, str], CuratedVariable]] = {
    # Availability and hardware (Charging infrastructure components). The availability states and EVSE power
    # mirror built-in entities (connector status, the Available switches, Power): disabled by default.
    ("ChargingStation", "AvailabilityState"): CuratedVariable("station_availability_state", enabled_by_default=False),
    ("ChargingStation", "SupplyPhases"): _diagnostic("station_supply_phases"),
    ("EVSE", "AvailabilityState"): CuratedVariable("evse_availability_state", enabled_by_default=False),
    ("EVSE", "Power"): CuratedVariable("evse_rated_power", "diagnostic", "power", enabled_by_default=False),
    ("EVSE", "SupplyPhases"): _diagnostic("evse_supply_phases"),
    ("Connector", "AvailabilityState"): CuratedVariable("connector_availability_state", enabled_by_default=False),
    ("Connector", "ConnectorType"): _diagnostic("connector_type"),
    ("Connector", "SupplyPhases"): _diagnostic("connector_supply_phases"),
    # OCPPCommCtrlr
    ("OCPPCommCtrlr", "HeartbeatInterval"): _config("heartbeat_interval", "duration", "s"),
    ("OCPPCommCtrlr", "OfflineThreshold"): _config("offline_threshold", "duration", "s"),
    ("OCPPCommCtrlr", "WebSocketPingInterval"): _config("websocket_ping_interval", "duration", "s"),
    ("OCPPCommCtrlr", "MessageTimeout"): _config("message_timeout", "duration", "s"),
    # SampledDataCtrlr (J02)
    ("SampledDataCtrlr", "TxUpdatedInterval"): _config("tx_updated_interval", "duration", "s"),
    ("SampledDataCtrlr", "TxUpdatedMeasurands"): _config("tx_updated_measurands"),
    ("SampledDataCtrlr", "TxStartedMeasurands"): _config("tx_started_measurands"),
    ("SampledDataCtrlr", "TxEndedMeasurands"): _config("tx_ended_measurands"),
    ("SampledDataCtrlr", "TxEndedInterval"): _config("tx_ended_interval", "duration", "s"),
    # AlignedDataCtrlr (J01)
    ("AlignedDataCtrlr", "Interval"): _config("aligned_data_interval", "duration", "s"),
    ("AlignedDataCtrlr", "Measurands"): _config("aligned_data_measurands"),
    ("AlignedDataCtrlr", "TxEndedMeasurands"): _config("aligned_data_tx_ended_measurands"),
    # SmartChargingCtrlr (K)
    ("SmartChargingCtrlr", "Enabled"): _config("smart_charging_enabled"),
    ("SmartChargingCtrlr", "RateUnit"): _diagnostic("charging_rate_unit"),
    ("SmartChargingCtrlr", "PeriodsPerSchedule"): _diagnostic("periods_per_schedule"),
    ("SmartChargingCtrlr", "ProfileStackLevel"): _diagnostic("profile_stack_level"),
    ("SmartChargingCtrlr", "Entries"): _diagnostic("charging_profile_entries"),
    ("SmartChargingCtrlr", "LimitChangeSignificance"): _config("limit_change_significance", None, "%"),
    ("SmartChargingCtrlr", "ACPhaseSwitchingSupported"): _diagnostic("ac_phase_switching_supported"),
    ("SmartChargingCtrlr", "Phases3to1"): _diagnostic("phases_3_to_1"),
    # TxCtrlr (E)
    ("TxCtrlr", "TxStartPoint"): _config("tx_start_point"),
    ("TxCtrlr", "TxStopPoint"): _config("tx_stop_point"),
    ("TxCtrlr", "EVConnectionTimeOut"): _config("ev_connection_timeout", "duration", "s"),
    ("TxCtrlr", "StopTxOnEVSideDisconnect"): _config("stop_tx_on_ev_side_disconnect"),
    ("TxCtrlr", "StopTxOnInvalidId"): _config("stop_tx_on_invalid_id"),
    # Authorization (C)
    ("AuthCtrlr", "Enabled"): _config("authorization_enabled"),
    ("AuthCtrlr", "AuthorizeRemoteStart"): _config("authorize_remote_start"),
    ("AuthCtrlr", "LocalAuthorizeOffline"): _config("local_authorize_offline"),
    ("AuthCtrlr", "LocalPreAuthorize"): _config("local_pre_authorize"),
    ("AuthCtrlr", "MasterPassGroupId"): _config("master_pass_group"),  # C16: the group of master passes
    ("AuthCacheCtrlr", "Enabled"): _config("auth_cache_enabled"),
    ("LocalAuthListCtrlr", "Enabled"): _config("local_auth_list_enabled"),
    ("LocalAuthListCtrlr", "Entries"): _diagnostic("local_auth_list_entries"),
    ("ReservationCtrlr", "Enabled"): _config("reservation_enabled"),
    # Device model limits (B05, B06, B08)
    ("DeviceDataCtrlr", "ItemsPerMessage"): _diagnostic("items_per_message"),
    ("DeviceDataCtrlr", "BytesPerMessage"): _diagnostic("bytes_per_message"),
    ("SecurityCtrlr", "SecurityProfile"): _diagnostic("security_profile"),
}

# Lookups ignore case, as the device model does.
_CURATED_BY_NAME: Final = {
    (component.lower(), variable.lower()): entry for (component, variable), entry in CURATED.items()
}


def curated(key: VariableKey) -> CuratedVariable | None:
    """The curated presentation of a variable, if it is a well-known one."""
    return _CURATED_BY_NAME.get((key.component.lower(), key.variable.lower()))


@dataclass(frozen=True, slots=True)
class EntitySpec:
    """Everything the glue needs to create the entity of a variable."""

    kind: EntityKind
    #: Stable translation key for curated variables; None for the others (named after component and variable).
    translation_key: str | None
    category: Category | None
    enabled_by_default: bool
    device_class: str | None = None
    unit: str | None = None
    #: The choices of a SELECT or SENSOR_ENUM.
    options: tuple[str, ...] = ()
    #: The range and step of a NUMBER.
    min_value: float | None = None
    max_value: float | None = None
    step: float | None = None


def ha_unit(unit: str | None) -> str | None:
    """An appendix unit in Home Assistant's spelling ("Percent" → "%")."""
    if unit is None:
        return None
    return _HA_UNITS.get(unit, unit)


def describe(key: VariableKey, info: VariableInfo) -> EntitySpec:
    """How a variable is shown: kind, naming, category, defaults, and the kind's details."""
    kind = entity_kind(info, read_only=key.component.casefold() in READ_ONLY_COMPONENTS)
    characteristics = info.characteristics
    station_unit = characteristics.unit if characteristics is not None else None
    entry = curated(key)
    if entry is not None:
        category = entry.category
        translation_key: str | None = entry.translation_key
        enabled = entry.enabled_by_default
        device_class = entry.device_class
        unit = entry.unit or ha_unit(station_unit)
    else:
        category = "diagnostic" if kind.read_only else "config"
        translation_key = None
        enabled = False
        device_class = _UNIT_DEVICE_CLASSES.get(station_unit or "") if kind is EntityKind.SENSOR_NUMERIC else None
        unit = ha_unit(station_unit)
    if kind.read_only and category == "config":
        category = "diagnostic"
    if kind is EntityKind.SENSOR_TIMESTAMP:
        unit, device_class = None, "timestamp"
    elif kind not in (EntityKind.SENSOR_NUMERIC, EntityKind.NUMBER):
        unit = device_class = None
    options: tuple[str, ...] = ()
    if kind in (EntityKind.SELECT, EntityKind.SENSOR_ENUM) and characteristics is not None:
        options = characteristics.values_list
    min_value = max_value = step = None
    if kind is EntityKind.NUMBER:
        integer = characteristics is not None and characteristics.data_type is Data.INTEGER
        low, high = (characteristics.min_limit, characteristics.max_limit) if characteristics else (None, None)
        min_value = low if low is not None else (INT32_MIN if integer else -DECIMAL_LIMIT)
        max_value = high if high is not None else (INT32_MAX if integer else DECIMAL_LIMIT)
        step = 1.0 if integer else None
    return EntitySpec(
        kind=kind,
        translation_key=translation_key,
        category=category,
        enabled_by_default=enabled,
        device_class=device_class,
        unit=unit,
        options=options,
        min_value=min_value,
        max_value=max_value,
        step=step,
    )


type Value = bool | int | float | datetime | tuple[str, ...] | str


def parse_value(raw: str | None, data_type: Data | None) -> Value | None:
    """A reported attribute value as the entity's state; None when unset or not of the data type.

    boolean → bool ("true"/"false", any case), integer → int, decimal → float, dateTime → datetime,
    MemberList / SequenceList → tuple of items, string / OptionList → str.
    """
    if raw is None:
        return None
    try:
        match data_type:
            case Data.BOOLEAN:
                lowered = raw.strip().lower()
                return {"true": True, "false": False}.get(lowered)
            case Data.INTEGER:
                return int(raw)
            case Data.DECIMAL:
                return float(raw)
            case Data.DATE_TIME:
                return datetime.fromisoformat(raw)
            case Data.MEMBER_LIST | Data.SEQUENCE_LIST:
                return tuple(item.strip() for item in raw.split(",") if item.strip())
            case _:
                return raw
    except ValueError:
        return None


def format_value(value: Value, data_type: Data | None) -> str:
    """An entity's new value as the attributeValue string of a SetVariablesRequest."""
    match value:
        case bool():
            return "true" if value else "false"
        case float() if data_type is Data.INTEGER and value.is_integer():
            return str(int(value))
        case float():
            return format(Decimal(repr(value)).normalize(), "f")
        case datetime():
            return value.isoformat()
        case tuple():
            return ",".join(value)
        case _:
            return str(value)
