"""The integration's actions, registered once in `async_setup`.

Most target a device: a station's device, or an EVSE's ("CP-1 EVSE 1"). Station-wide where it applies (a limit on
the station's device is the TxDefaultProfile of EVSE 0, the default of every EVSE; with `station_cap` it is the
ChargingStationMaxProfile that bounds the whole station). The ID-token actions concern the central system itself;
a reservation is of an EVSE, or of any EVSE of a station. Actions that change what a station trusts or is (ID
tokens, local lists, passwords, certificates, variables, resets, vendor data, any request sent as given) are for
administrators. Lengths and formats are checked by the schemas; errors are translated.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
import dataclasses
from datetime import UTC, datetime, time, timedelta
from pathlib import PurePosixPath
from typing import Any, Final, cast
from urllib.parse import urlsplit

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_get_config_entry, async_register_admin_service
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .charging.profiles import SchedulePeriod
from .charging_control import STATION_CAP
from .const import ATTR_DEVICE_ID, DOMAIN, EVSE_SEPARATOR, SERVICE_ROTATE_PASSWORD
from .display_messages import DisplayMessage
from .helpers import translated_errors, user_error
from .monitoring import MonitorRequest
from .protocol.v201.datatypes import EVSE, Component, ComponentVariable, IdToken, Variable
from .protocol.v201.enums import (
    AuthorizationStatus,
    ChargingProfilePurpose,
    ChargingRateUnit,
    ComponentCriterion,
    Connector,
    GetCertificateIdUse,
    IdTokenEnum,
    InstallCertificateUse,
    Log,
    MessageFormat,
    MessagePriority,
    MessageState,
    MessageTrigger,
    Monitor,
    MonitoringBase,
    MonitoringCriterion,
    OCPPInterface,
    RecurrencyKind,
    ReportBase,
    Reset,
)
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.firmware import FirmwareOffer
from .station.id_tokens import (
    MAX_LANGUAGE_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TOKEN_LENGTH,
    TOKEN_STATUSES,
    EvseRef,
    IdTokenEntry,
)
from .station.local_list import DEFAULT_LIST_TYPE
from .station.monitors import DEFAULT_MONITOR_SEVERITY
from .station_requests import CSMS_ACTIONS

ATTR_CONFIG_ENTRY_ID: Final = "config_entry_id"
ATTR_CURRENT: Final = "current"
ATTR_POWER: Final = "power"
ATTR_PHASES: Final = "phases"
ATTR_DURATION: Final = "duration"
ATTR_UNTIL: Final = "until"
ATTR_STATION_CAP: Final = "station_cap"
ATTR_PERIODS: Final = "periods"
ATTR_UNIT: Final = "unit"
ATTR_RECURRENCE: Final = "recurrence"
ATTR_OPERATIVE: Final = "operative"
ATTR_TYPE: Final = "type"
ATTR_CONNECTOR_ID: Final = "connector_id"
ATTR_MESSAGE: Final = "message"
ATTR_VARIABLES: Final = "variables"
ATTR_VENDOR_ID: Final = "vendor_id"
ATTR_MESSAGE_ID: Final = "message_id"
ATTR_DATA: Final = "data"
ATTR_ID_TOKEN: Final = "id_token"
ATTR_TOKEN_TYPE: Final = "token_type"
ATTR_LABEL: Final = "label"
ATTR_PURPOSE: Final = "purpose"
ATTR_STACK_LEVEL: Final = "stack_level"
ATTR_PROFILE_ID: Final = "profile_id"
ATTR_TRANSACTION_ID: Final = "transaction_id"
ATTR_EXPIRES: Final = "expires"
# Authorization (C, D, H)
ATTR_STATUS: Final = "status"
ATTR_GROUP_ID: Final = "group_id"
ATTR_LANGUAGE: Final = "language"
ATTR_PERSONAL_MESSAGE: Final = "personal_message"
ATTR_EVSES: Final = "evses"
ATTR_FULL: Final = "full"
ATTR_CONNECTOR_TYPE: Final = "connector_type"
ATTR_RESERVATION_ID: Final = "reservation_id"
ATTR_ACTION: Final = "action"
ATTR_PAYLOAD: Final = "payload"
ATTR_REPORT_BASE: Final = "report_base"
ATTR_COMPONENT_CRITERIA: Final = "component_criteria"
ATTR_COMPONENT_VARIABLES: Final = "component_variables"

UNITS: Final = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}
#: How long a reservation lasts when the action gives neither an end nor a duration.
DEFAULT_RESERVATION: Final = timedelta(minutes=30)
RECURRENCES: Final = {"daily": RecurrencyKind.DAILY, "weekly": RecurrencyKind.WEEKLY}
RESETS: Final = {"on_idle": Reset.ON_IDLE, "immediate": Reset.IMMEDIATE}

# ---- schemas: OCPP's lengths and ranges, so that no request the station would refuse is ever built ------------


def _text(max_length: int, min_length: int = 1) -> probatio.All[str]:
    return probatio.All(cv.string, probatio.Length(min=min_length, max=max_length))


PHASES = probatio.All(probatio.Coerce(int), probatio.In([1, 3]))
#: Durations and schedule offsets are OCPP integers of seconds: at most 2**31 - 1 (and never past the year 9999).
MAX_SECONDS: Final = 2**31 - 1
NON_NEGATIVE_INT = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=2**31 - 1))
#: IdTokenType.idToken is a string of at most 36 characters.
ID_TOKEN = _text(MAX_TOKEN_LENGTH)
TARGET: Final = {probatio.Required(ATTR_DEVICE_ID): cv.string}
CENTRAL: Final = {probatio.Optional(ATTR_CONFIG_ENTRY_ID): cv.string}

SET_LIMIT_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Exclusive(ATTR_CURRENT, "limit"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=0, max=1000)
        ),
        probatio.Exclusive(ATTR_POWER, "limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=1e6)),
        probatio.Optional(ATTR_PHASES): PHASES,
        probatio.Exclusive(ATTR_DURATION, "end"): probatio.All(
            cv.positive_time_period, probatio.Range(max=timedelta(seconds=MAX_SECONDS))
        ),
        probatio.Exclusive(ATTR_UNTIL, "end"): cv.datetime,
        probatio.Optional(ATTR_STATION_CAP, default=False): cv.boolean,
    }
)


def _start(value: Any) -> int | time:
    """A period start: seconds from the schedule's start, or a clock time "HH:MM"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(probatio.All(cv.positive_int, probatio.Range(max=MAX_SECONDS))(int(value)))
    return cv.time(value)


PERIOD_SCHEMA = probatio.Schema(
    {
        probatio.Required("start"): _start,
        probatio.Required("limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=1e6)),
        probatio.Optional(ATTR_PHASES): PHASES,
        probatio.Optional("weekday"): probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=6)),
    }
)
SET_SCHEDULE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_PERIODS): probatio.All(cv.ensure_list, probatio.Length(min=1), [PERIOD_SCHEMA]),
        probatio.Optional(ATTR_UNIT, default="current"): probatio.In(list(UNITS)),
        probatio.Optional(ATTR_RECURRENCE, default="none"): probatio.In(["none", *RECURRENCES]),
    }
)
PURPOSES: Final = {
    "tx_default": ChargingProfilePurpose.TX_DEFAULT_PROFILE,
    "tx": ChargingProfilePurpose.TX_PROFILE,
    "station_max": ChargingProfilePurpose.CHARGING_STATION_MAX_PROFILE,
    "external_constraints": ChargingProfilePurpose.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
}
CLEAR_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_STATION_CAP, default=False): cv.boolean,
        probatio.Optional(ATTR_PURPOSE): probatio.In([key for key in PURPOSES if key != "external_constraints"]),
        probatio.Optional(ATTR_STACK_LEVEL): NON_NEGATIVE_INT,
        probatio.Optional(ATTR_PROFILE_ID): NON_NEGATIVE_INT,
    }
)
GET_PROFILES_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_PURPOSE): probatio.In(list(PURPOSES)),
        probatio.Optional(ATTR_STACK_LEVEL): NON_NEGATIVE_INT,
    }
)
TRANSACTION_STATUS_SCHEMA = probatio.Schema({**TARGET, probatio.Optional(ATTR_TRANSACTION_ID): _text(36)})
COMPOSITE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_DURATION, default=timedelta(hours=1)): probatio.All(
            cv.positive_time_period, probatio.Range(max=timedelta(days=7))
        ),
        probatio.Optional(ATTR_UNIT): probatio.In(list(UNITS)),
    }
)
START_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_ID_TOKEN): ID_TOKEN,
        probatio.Optional(ATTR_TOKEN_TYPE): probatio.In([kind.value for kind in IdTokenEnum]),
        probatio.Exclusive(ATTR_CURRENT, "limit"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=0, max=1000)
        ),
        probatio.Exclusive(ATTR_POWER, "limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=1e6)),
    }
)
TARGET_SCHEMA = probatio.Schema(TARGET)
AVAILABILITY_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_OPERATIVE): cv.boolean,
        probatio.Optional(ATTR_CONNECTOR_ID): probatio.All(probatio.Coerce(int), probatio.Range(min=1, max=2**31 - 1)),
    }
)
RESET_SCHEMA = probatio.Schema({**TARGET, probatio.Optional(ATTR_TYPE, default="on_idle"): probatio.In(list(RESETS))})
UNLOCK_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_CONNECTOR_ID, default=1): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=2**31 - 1)
        ),
    }
)
TRIGGER_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_MESSAGE): probatio.In([message.value for message in MessageTrigger])}
)
#: ComponentType and VariableType names and instances are strings of at most 50 characters.
VARIABLE_REF: Final = {
    probatio.Required("component"): _text(50),
    probatio.Required("variable"): _text(50),
    probatio.Optional("component_instance"): _text(50),
    probatio.Optional("variable_instance"): _text(50),
    probatio.Optional("evse_id"): NON_NEGATIVE_INT,
    probatio.Optional("connector_id"): NON_NEGATIVE_INT,
}
GET_VARIABLES_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_VARIABLES): probatio.All(cv.ensure_list, probatio.Length(min=1), [VARIABLE_REF])}
)
SET_VARIABLES_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_VARIABLES): probatio.All(
            cv.ensure_list,
            probatio.Length(min=1),
            # attributeValue is a string of at most 1000 characters.
            [{**VARIABLE_REF, probatio.Required("value"): _text(1000, min_length=0)}],
        ),
    }
)
#: A component, and optionally one of its variables, whose report GetReport asks for (ComponentVariableType).
COMPONENT_VARIABLE_REF: Final = {
    probatio.Required("component"): _text(50),
    probatio.Optional("variable"): _text(50),
    probatio.Optional("component_instance"): _text(50),
    probatio.Optional("variable_instance"): _text(50),
    probatio.Optional("evse_id"): NON_NEGATIVE_INT,
    probatio.Optional("connector_id"): NON_NEGATIVE_INT,
}
GET_REPORT_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_REPORT_BASE): probatio.In([base.value for base in ReportBase]),
        probatio.Optional(ATTR_COMPONENT_CRITERIA): probatio.All(
            cv.ensure_list,
            probatio.Length(min=1, max=len(ComponentCriterion)),
            [probatio.In([criterion.value for criterion in ComponentCriterion])],
        ),
        probatio.Optional(ATTR_COMPONENT_VARIABLES): probatio.All(
            cv.ensure_list, probatio.Length(min=1), [COMPONENT_VARIABLE_REF]
        ),
    }
)
SEND_REQUEST_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_ACTION): probatio.In(list(CSMS_ACTIONS)),
        probatio.Optional(ATTR_PAYLOAD, default=dict): dict,
    }
)
DATA_TRANSFER_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_VENDOR_ID): _text(255),
        probatio.Optional(ATTR_MESSAGE_ID): _text(50),
        probatio.Optional(ATTR_DATA): object,
    }
)
STATION_SCHEMA = probatio.Schema(TARGET)
TOKEN_TYPE = probatio.In([kind.value for kind in IdTokenEnum])
#: What an ID token entry holds besides the token; None clears a field (update_id_token).
TOKEN_FIELDS: Final = {
    probatio.Optional(ATTR_TYPE): probatio.Any(None, TOKEN_TYPE),
    probatio.Optional(ATTR_LABEL): _text(100, min_length=0),
    probatio.Optional(ATTR_STATUS): probatio.In([status.value for status in TOKEN_STATUSES]),
    probatio.Optional(ATTR_EXPIRES): probatio.Any(None, cv.datetime),
    probatio.Optional(ATTR_GROUP_ID): probatio.Any(None, _text(MAX_TOKEN_LENGTH)),
    probatio.Optional(ATTR_LANGUAGE): probatio.Any(None, _text(MAX_LANGUAGE_LENGTH)),
    probatio.Optional(ATTR_PERSONAL_MESSAGE): probatio.Any(None, _text(MAX_MESSAGE_LENGTH)),
    probatio.Optional(ATTR_EVSES): probatio.All(cv.ensure_list, [cv.string]),
}
ADD_ID_TOKEN_SCHEMA = probatio.Schema({**CENTRAL, probatio.Required(ATTR_ID_TOKEN): ID_TOKEN, **TOKEN_FIELDS})
UPDATE_ID_TOKEN_SCHEMA = ADD_ID_TOKEN_SCHEMA
REMOVE_ID_TOKEN_SCHEMA = probatio.Schema({**CENTRAL, probatio.Required(ATTR_ID_TOKEN): ID_TOKEN})
LIST_ID_TOKENS_SCHEMA = probatio.Schema(CENTRAL)
SYNC_LOCAL_LIST_SCHEMA = probatio.Schema({**TARGET, probatio.Optional(ATTR_FULL, default=False): cv.boolean})
RESERVE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_CONNECTOR_TYPE): probatio.In([connector.value for connector in Connector]),
        probatio.Required(ATTR_ID_TOKEN): ID_TOKEN,
        probatio.Optional(ATTR_TOKEN_TYPE): TOKEN_TYPE,
        probatio.Optional(ATTR_GROUP_ID): _text(MAX_TOKEN_LENGTH),
        probatio.Exclusive(ATTR_EXPIRES, "end"): cv.datetime,
        probatio.Exclusive(ATTR_DURATION, "end"): cv.positive_time_period,
    }
)
CANCEL_RESERVATION_SCHEMA = probatio.Schema(
    {
        **CENTRAL,
        probatio.Exclusive(ATTR_RESERVATION_ID, "reservation"): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=2**31 - 1)
        ),
        probatio.Exclusive(ATTR_DEVICE_ID, "reservation"): cv.string,
    }
)

# ---- targets ----------------------------------------------------------------------------------------------


def resolve_target(hass: HomeAssistant, device_id: str) -> tuple[OcppCsmsRuntimeData, str, int]:
    """The runtime data, station id and EVSE id (0 for the station's own device) an action targets."""
    device = dr.async_get(hass).async_get(device_id)
    identifier = None
    if device is not None:
        identifier = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    if device is None or identifier is None or device.config_entry_id is None:
        raise user_error("not_a_station", device=device_id)
    entry: OcppCsmsConfigEntry = async_get_config_entry(hass, DOMAIN, device.config_entry_id)
    station_id, _, evse = identifier.partition(EVSE_SEPARATOR)
    return entry.runtime_data, station_id, int(evse) if evse else 0


def _station(call: ServiceCall) -> tuple[OcppCsmsRuntimeData, str]:
    """The station of a station's device (not an EVSE's)."""
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    if evse_id:
        raise user_error("not_a_station", device=call.data[ATTR_DEVICE_ID])
    return data, station_id


def _evse(call: ServiceCall, action: str) -> tuple[OcppCsmsRuntimeData, str, int]:
    """The EVSE of an EVSE's device."""
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    if evse_id <= 0:
        raise user_error("evse_required", station=station_id, action=action)
    return data, station_id, evse_id


def _central(call: ServiceCall) -> OcppCsmsRuntimeData:
    """The runtime data of the entry the call names, or of the only loaded one."""
    entry: OcppCsmsConfigEntry = async_get_config_entry(call.hass, DOMAIN, call.data.get(ATTR_CONFIG_ENTRY_ID))
    return entry.runtime_data


def _aware(moment: Any) -> Any:
    """A date and time without a time zone is in Home Assistant's."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt_util.get_default_time_zone())
    return moment


# ---- charging limits ----------------------------------------------------------------------------------


async def _set_charging_limit(call: ServiceCall) -> None:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    data.energy.check_manual(station_id, evse_id)  # an EVSE in another charging mode: the energy manager's
    if ATTR_CURRENT in call.data:
        value, unit = call.data[ATTR_CURRENT], ChargingRateUnit.A
    elif ATTR_POWER in call.data:
        value, unit = call.data[ATTR_POWER], ChargingRateUnit.W
    else:
        raise user_error("limit_required")
    if call.data[ATTR_STATION_CAP]:
        if evse_id:
            raise user_error("cap_on_station_only")
        evse_id = STATION_CAP
    await data.charging.async_set_limit(
        station_id,
        evse_id,
        value,
        unit,
        phases=call.data.get(ATTR_PHASES),
        duration=call.data.get(ATTR_DURATION),
        until=_aware(call.data.get(ATTR_UNTIL)),
        explicit=call.context.user_id is not None,  # run by hand: at once; by an automation: protected
    )


async def _set_charging_schedule(call: ServiceCall) -> None:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    data.energy.check_manual(station_id, evse_id)
    periods = [
        SchedulePeriod(
            start=period["start"],
            limit=period["limit"],
            number_phases=period.get(ATTR_PHASES),
            weekday=period.get("weekday"),
        )
        for period in call.data[ATTR_PERIODS]
    ]
    await data.charging.async_set_schedule(
        station_id,
        evse_id,
        periods,
        UNITS[call.data[ATTR_UNIT]],
        tz=dt_util.get_default_time_zone(),
        recurrence=RECURRENCES.get(call.data[ATTR_RECURRENCE]),
    )


async def _clear_charging_limit(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    data.energy.check_manual(station_id, evse_id)
    answers = await data.charging.async_clear(
        station_id,
        STATION_CAP if call.data[ATTR_STATION_CAP] and not evse_id else evse_id,
        purpose=PURPOSES[call.data[ATTR_PURPOSE]] if ATTR_PURPOSE in call.data else None,
        stack_level=call.data.get(ATTR_STACK_LEVEL),
        profile_id=call.data.get(ATTR_PROFILE_ID),
    )
    return {"statuses": list(answers)}


async def _get_charging_profiles(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    profiles = await data.charging.async_get_profiles(
        station_id,
        evse_id or None,
        purpose=PURPOSES[call.data[ATTR_PURPOSE]] if ATTR_PURPOSE in call.data else None,
        stack_level=call.data.get(ATTR_STACK_LEVEL),
    )
    return {"profiles": cast(list[JsonValueType], profiles)}


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    unit = UNITS.get(call.data.get(ATTR_UNIT, ""))
    duration = int(call.data[ATTR_DURATION].total_seconds())
    response = await data.charging.async_composite(station_id, evse_id, duration, unit)
    return response.to_payload()


# ---- remote commands ------------------------------------------------------------------------------------


async def _start_charging(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    limit = None
    if ATTR_CURRENT in call.data:
        limit = (call.data[ATTR_CURRENT], ChargingRateUnit.A)
    elif ATTR_POWER in call.data:
        limit = (call.data[ATTR_POWER], ChargingRateUnit.W)
    if limit is not None:
        data.energy.check_manual(station_id, evse_id)
    token_type = IdTokenEnum(call.data[ATTR_TOKEN_TYPE]) if ATTR_TOKEN_TYPE in call.data else None
    transaction_id = await data.commands.async_start(
        station_id, evse_id, call.data.get(ATTR_ID_TOKEN), token_type, limit
    )
    return {"transaction_id": transaction_id}


async def _stop_charging(call: ServiceCall) -> None:
    data, station_id, evse_id = _evse(call, "stop_charging")
    await data.commands.async_stop(station_id, evse_id)


async def _change_availability(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    connector_id = call.data.get(ATTR_CONNECTOR_ID)
    if connector_id is not None and evse_id <= 0:
        raise user_error("evse_required", station=station_id, action="change_availability")
    status = await data.commands.async_change_availability(station_id, evse_id, call.data[ATTR_OPERATIVE], connector_id)
    return {"status": status}


async def _get_transaction_status(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    transaction_id = call.data.get(ATTR_TRANSACTION_ID)
    if transaction_id is None and evse_id > 0 and (runtime := data.runtimes.get(station_id)) is not None:
        transaction_id = runtime.transactions.evse(evse_id).transaction_id
    return await data.commands.async_transaction_status(station_id, transaction_id)


async def _reset(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    return {"status": await data.commands.async_reset(station_id, RESETS[call.data[ATTR_TYPE]], evse_id or None)}


async def _unlock_connector(call: ServiceCall) -> None:
    data, station_id, evse_id = _evse(call, "unlock_connector")
    await data.commands.async_unlock(station_id, evse_id, call.data[ATTR_CONNECTOR_ID])


async def _trigger_message(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    message = MessageTrigger(call.data[ATTR_MESSAGE])
    return {"status": await data.commands.async_trigger(station_id, message, evse_id or None)}


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    data, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    with translated_errors(station_id):
        return await data.commands.async_data_transfer(
            station_id, call.data[ATTR_VENDOR_ID], call.data.get(ATTR_MESSAGE_ID), call.data.get(ATTR_DATA)
        )


async def _rotate_password(call: ServiceCall) -> None:
    data, station_id = _station(call)
    await data.trust.async_rotate_password(station_id)


# ---- variables ----------------------------------------------------------------------------------------


def _key(item: dict[str, Any]) -> VariableKey:
    return VariableKey(
        component=item["component"],
        variable=item["variable"],
        component_instance=item.get("component_instance"),
        evse_id=item.get("evse_id"),
        connector_id=item.get("connector_id"),
        variable_instance=item.get("variable_instance"),
    )


async def _get_variables(call: ServiceCall) -> ServiceResponse:
    data, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    with translated_errors(station_id):
        results = await data.variables.async_get_many(station_id, [_key(item) for item in call.data[ATTR_VARIABLES]])
    return {"results": [result.to_payload() for result in results]}


async def _set_variables(call: ServiceCall) -> ServiceResponse:
    data, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    values = [(_key(item), item["value"]) for item in call.data[ATTR_VARIABLES]]
    results = await data.variables.async_set_many(station_id, values)
    return {"results": [result.to_payload() for result in results]}


def _component_variable(item: dict[str, Any]) -> ComponentVariable:
    evse = EVSE(id=item["evse_id"], connector_id=item.get("connector_id")) if "evse_id" in item else None
    return ComponentVariable(
        component=Component(name=item["component"], instance=item.get("component_instance"), evse=evse),
        variable=Variable(name=item["variable"], instance=item.get("variable_instance"))
        if "variable" in item
        else None,
    )


async def _get_report(call: ServiceCall) -> ServiceResponse:
    data, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    criteria = call.data.get(ATTR_COMPONENT_CRITERIA)
    variables = call.data.get(ATTR_COMPONENT_VARIABLES)
    if not criteria and not variables:
        report_base = ReportBase(call.data.get(ATTR_REPORT_BASE, ReportBase.FULL_INVENTORY))
        return await data.inventory.async_get_base_report(station_id, report_base)
    if ATTR_REPORT_BASE in call.data:
        raise user_error("report_base_or_criteria")
    return await data.inventory.async_get_report(
        station_id,
        criteria=[ComponentCriterion(criterion) for criterion in criteria] if criteria else None,
        component_variables=[_component_variable(item) for item in variables] if variables else None,
    )


# ---- any request --------------------------------------------------------------------------------------


async def _send_request(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    return await data.requests.async_send(station_id, call.data[ATTR_ACTION], call.data[ATTR_PAYLOAD])


# ---- ID tokens ----------------------------------------------------------------------------------------


def _evse_refs(hass: HomeAssistant, device_ids: list[str]) -> tuple[EvseRef, ...]:
    """The EVSEs of EVSE devices (a station's device is refused: a token is allowed on EVSEs)."""
    refs: list[EvseRef] = []
    for device_id in device_ids:
        _, station_id, evse_id = resolve_target(hass, device_id)
        if evse_id <= 0:
            raise user_error("evse_required", station=station_id, action="evses")
        refs.append((station_id, evse_id))
    return tuple(dict.fromkeys(refs))


def _token_fields(call: ServiceCall) -> dict[str, Any]:
    """The entry's fields the call gives (None clears one)."""
    data = call.data
    fields: dict[str, Any] = {}
    if ATTR_TYPE in data:
        fields["type"] = IdTokenEnum(data[ATTR_TYPE]) if data[ATTR_TYPE] else None
    if ATTR_LABEL in data:
        fields["label"] = data[ATTR_LABEL]
    if ATTR_STATUS in data:
        fields["status"] = AuthorizationStatus(data[ATTR_STATUS])
    if ATTR_EXPIRES in data:
        fields["expires_at"] = _aware(data[ATTR_EXPIRES])
    for attr in (ATTR_GROUP_ID, ATTR_LANGUAGE, ATTR_PERSONAL_MESSAGE):
        if attr in data:
            fields[attr] = data[attr] or None
    if ATTR_EVSES in data:
        fields["evses"] = _evse_refs(call.hass, data[ATTR_EVSES])
    return fields


async def _add_id_token(call: ServiceCall) -> None:
    data = _central(call)
    data.authorization.add(IdTokenEntry(id_token=call.data[ATTR_ID_TOKEN], **_token_fields(call)))


async def _update_id_token(call: ServiceCall) -> None:
    data = _central(call)
    entry = data.authorization.tokens.get(call.data[ATTR_ID_TOKEN])
    if entry is None:
        raise user_error("unknown_id_token", id_token=call.data[ATTR_ID_TOKEN])
    data.authorization.add(dataclasses.replace(entry, **_token_fields(call)))


async def _remove_id_token(call: ServiceCall) -> None:
    data = _central(call)
    if not data.authorization.remove([call.data[ATTR_ID_TOKEN]]):
        raise user_error("unknown_id_token", id_token=call.data[ATTR_ID_TOKEN])


async def _list_id_tokens(call: ServiceCall) -> ServiceResponse:
    tokens = _central(call).authorization.tokens
    unknown = tokens.last_unknown
    now = datetime.now(UTC)
    return {
        "id_tokens": [{**entry.to_dict(), "status_now": entry.effective_status(now).value} for entry in tokens],
        "unknown_token_policy": tokens.unknown_policy.value,
        "last_unknown_token": (
            {"id_token": unknown.id_token, "type": unknown.type.value, "at": unknown.seen_at.isoformat()}
            if unknown
            else None
        ),
    }


async def _clear_cache(call: ServiceCall) -> None:
    data, station_id = _station(call)
    await data.authorization.async_clear_cache(station_id)


async def _sync_local_list(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    state = await data.local_lists.async_sync(station_id, full=call.data[ATTR_FULL])
    return {
        "version": state.version,
        "status": state.status.value,
        "entries": len(state.entries),
        "synced_at": state.synced_at.isoformat() if state.synced_at else None,
    }


# ---- reservations -------------------------------------------------------------------------------------


async def _reserve(call: ServiceCall) -> ServiceResponse:
    data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    connector_type = call.data.get(ATTR_CONNECTOR_TYPE)
    if connector_type is not None and evse_id:
        raise user_error("connector_type_on_station_only", station=station_id)
    if ATTR_EXPIRES in call.data:
        expires_at = _aware(call.data[ATTR_EXPIRES])
    else:
        expires_at = datetime.now(UTC) + call.data.get(ATTR_DURATION, DEFAULT_RESERVATION)
    listed = data.authorization.tokens.get(call.data[ATTR_ID_TOKEN])
    token_type = call.data.get(ATTR_TOKEN_TYPE) or (listed.type if listed else None) or DEFAULT_LIST_TYPE
    reservation = await data.reservations.async_reserve(
        station_id,
        evse_id=evse_id or None,
        connector_type=Connector(connector_type) if connector_type else None,
        id_token=IdToken(id_token=call.data[ATTR_ID_TOKEN], type=IdTokenEnum(token_type)),
        group_id=call.data.get(ATTR_GROUP_ID) or (listed.group_id if listed else None),
        expires_at=expires_at,
    )
    return {"reservation_id": reservation.id, "expires": reservation.expires_at.isoformat()}


async def _cancel_reservation(call: ServiceCall) -> ServiceResponse:
    if ATTR_DEVICE_ID in call.data:
        data, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
        reservation = data.reservations.at(station_id, evse_id)
        if reservation is None:
            raise user_error("no_reservation", station=station_id, evse=str(evse_id))
        reservation_id = reservation.id
    elif ATTR_RESERVATION_ID in call.data:
        data, reservation_id = _central(call), call.data[ATTR_RESERVATION_ID]
    else:
        raise user_error("reservation_required")
    cancelled = await data.reservations.async_cancel(reservation_id)
    return {"reservation_id": cancelled.id}


# ---- issue 17: station certificates (M03-M05) --------------------------------------------------------------

ATTR_CERTIFICATE_TYPE: Final = "certificate_type"
ATTR_CERTIFICATE: Final = "certificate"
ATTR_CERTIFICATE_TYPES: Final = "certificate_types"
ATTR_SERIAL_NUMBER: Final = "serial_number"

INSTALL_CERTIFICATE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_CERTIFICATE_TYPE): probatio.In([use.value for use in InstallCertificateUse]),
        # InstallCertificateRequest.certificate is a PEM string of at most 5500 characters.
        probatio.Optional(ATTR_CERTIFICATE): _text(5500),
    }
)
LIST_CERTIFICATES_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_CERTIFICATE_TYPES): probatio.All(
            cv.ensure_list, probatio.Length(min=1), [probatio.In([use.value for use in GetCertificateIdUse])]
        ),
    }
)
DELETE_CERTIFICATE_SCHEMA = probatio.Schema({**TARGET, probatio.Required(ATTR_SERIAL_NUMBER): _text(40)})


async def _install_certificate(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    status = await data.certificates.async_install(
        station_id, InstallCertificateUse(call.data[ATTR_CERTIFICATE_TYPE]), call.data.get(ATTR_CERTIFICATE)
    )
    return {"status": status}


async def _get_installed_certificate_ids(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    types = [GetCertificateIdUse(kind) for kind in call.data.get(ATTR_CERTIFICATE_TYPES, [])]
    certificates = await data.certificates.async_list(station_id, types or None)
    return {"certificates": cast(list[JsonValueType], certificates)}


async def _delete_certificate(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    return {"status": await data.certificates.async_delete(station_id, call.data[ATTR_SERIAL_NUMBER])}


ATTR_PROFILE: Final = "security_profile"
ATTR_INTERFACE: Final = "interface"
ATTR_TIMEOUT: Final = "timeout"
UPGRADE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_PROFILE): probatio.All(probatio.Coerce(int), probatio.In([2, 3])),
        probatio.Optional(ATTR_INTERFACE, default=OCPPInterface.WIRED0.value): probatio.In(
            [kind.value for kind in OCPPInterface]
        ),
        probatio.Optional(ATTR_TIMEOUT, default=300): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=3600)
        ),
    }
)


async def _upgrade_security_profile(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    result = await data.upgrade.async_upgrade(
        station_id,
        call.data[ATTR_PROFILE],
        interface=OCPPInterface(call.data[ATTR_INTERFACE]),
        within=call.data[ATTR_TIMEOUT],
    )
    return cast(dict[str, JsonValueType], result)


type Handler = Callable[[ServiceCall], Coroutine[Any, Any, ServiceResponse]]

#: name: (handler, schema, response, admin only)
SERVICES: Final[dict[str, tuple[Handler, probatio.Schema, SupportsResponse, bool]]] = {
    "set_charging_limit": (_set_charging_limit, SET_LIMIT_SCHEMA, SupportsResponse.NONE, False),
    "set_charging_schedule": (_set_charging_schedule, SET_SCHEDULE_SCHEMA, SupportsResponse.NONE, False),
    "clear_charging_limit": (_clear_charging_limit, CLEAR_SCHEMA, SupportsResponse.OPTIONAL, False),
    "get_charging_profiles": (_get_charging_profiles, GET_PROFILES_SCHEMA, SupportsResponse.ONLY, False),
    "get_transaction_status": (_get_transaction_status, TRANSACTION_STATUS_SCHEMA, SupportsResponse.ONLY, False),
    "get_composite_schedule": (_get_composite_schedule, COMPOSITE_SCHEMA, SupportsResponse.ONLY, False),
    "start_charging": (_start_charging, START_SCHEMA, SupportsResponse.OPTIONAL, False),
    "stop_charging": (_stop_charging, TARGET_SCHEMA, SupportsResponse.NONE, False),
    "change_availability": (_change_availability, AVAILABILITY_SCHEMA, SupportsResponse.OPTIONAL, False),
    "reset": (_reset, RESET_SCHEMA, SupportsResponse.OPTIONAL, True),
    "unlock_connector": (_unlock_connector, UNLOCK_SCHEMA, SupportsResponse.NONE, False),
    "trigger_message": (_trigger_message, TRIGGER_SCHEMA, SupportsResponse.OPTIONAL, False),
    "get_variables": (_get_variables, GET_VARIABLES_SCHEMA, SupportsResponse.ONLY, False),
    "set_variables": (_set_variables, SET_VARIABLES_SCHEMA, SupportsResponse.OPTIONAL, True),
    "get_report": (_get_report, GET_REPORT_SCHEMA, SupportsResponse.ONLY, False),
    "data_transfer": (_data_transfer, DATA_TRANSFER_SCHEMA, SupportsResponse.OPTIONAL, True),
    "send_request": (_send_request, SEND_REQUEST_SCHEMA, SupportsResponse.OPTIONAL, True),
    SERVICE_ROTATE_PASSWORD: (_rotate_password, STATION_SCHEMA, SupportsResponse.NONE, True),
    "add_id_token": (_add_id_token, ADD_ID_TOKEN_SCHEMA, SupportsResponse.NONE, True),
    "remove_id_token": (_remove_id_token, REMOVE_ID_TOKEN_SCHEMA, SupportsResponse.NONE, True),
    "list_id_tokens": (_list_id_tokens, LIST_ID_TOKENS_SCHEMA, SupportsResponse.ONLY, False),
    # Authorization (C, D, H)
    "update_id_token": (_update_id_token, UPDATE_ID_TOKEN_SCHEMA, SupportsResponse.NONE, True),
    "clear_cache": (_clear_cache, STATION_SCHEMA, SupportsResponse.NONE, False),
    "sync_local_list": (_sync_local_list, SYNC_LOCAL_LIST_SCHEMA, SupportsResponse.OPTIONAL, True),
    "reserve": (_reserve, RESERVE_SCHEMA, SupportsResponse.OPTIONAL, False),
    "cancel_reservation": (_cancel_reservation, CANCEL_RESERVATION_SCHEMA, SupportsResponse.OPTIONAL, False),
    # Certificates (A02-A05, M03-M05)
    "install_certificate": (_install_certificate, INSTALL_CERTIFICATE_SCHEMA, SupportsResponse.OPTIONAL, True),
    "get_installed_certificate_ids": (
        _get_installed_certificate_ids,
        LIST_CERTIFICATES_SCHEMA,
        SupportsResponse.ONLY,
        False,
    ),
    "delete_certificate": (_delete_certificate, DELETE_CERTIFICATE_SCHEMA, SupportsResponse.OPTIONAL, True),
    "upgrade_security_profile": (_upgrade_security_profile, UPGRADE_SCHEMA, SupportsResponse.OPTIONAL, True),
}


# ---- station management: firmware (L), logs, monitoring and customer information (N), display messages (O) ---

ATTR_URL: Final = "url"
ATTR_FILE: Final = "file"
ATTR_VERSION: Final = "version"
ATTR_SIGNING_CERTIFICATE: Final = "signing_certificate"
ATTR_SIGNATURE: Final = "signature"
ATTR_INSTALL_AT: Final = "install_at"
ATTR_RETRIEVE_AT: Final = "retrieve_at"
ATTR_RETRIES: Final = "retries"
ATTR_RETRY_INTERVAL: Final = "retry_interval"
ATTR_INSTALL: Final = "install"
ATTR_LOG_TYPE: Final = "log_type"
ATTR_OLDEST: Final = "oldest"
ATTR_LATEST: Final = "latest"
ATTR_BASE: Final = "base"
ATTR_MONITORS: Final = "monitors"
ATTR_IDS: Final = "ids"
ATTR_CRITERIA: Final = "criteria"
ATTR_CUSTOMER_IDENTIFIER: Final = "customer_identifier"
ATTR_ID_TOKEN_TYPE: Final = "id_token_type"
ATTR_REPORT: Final = "report"
ATTR_CLEAR: Final = "clear"
ATTR_MESSAGE_ID_NUMBER: Final = "message_id"
ATTR_PRIORITY: Final = "priority"
ATTR_FORMAT: Final = "format"
ATTR_STATE: Final = "state"
ATTR_START: Final = "start"
ATTR_END: Final = "end"

LOG_TYPES: Final = {"diagnostics": Log.DIAGNOSTICS_LOG, "security": Log.SECURITY_LOG}
MONITORING_BASES: Final = {
    "all": MonitoringBase.ALL,
    "factory_default": MonitoringBase.FACTORY_DEFAULT,
    "hard_wired_only": MonitoringBase.HARD_WIRED_ONLY,
}
CRITERIA: Final = {
    "threshold": MonitoringCriterion.THRESHOLD_MONITORING,
    "delta": MonitoringCriterion.DELTA_MONITORING,
    "periodic": MonitoringCriterion.PERIODIC_MONITORING,
}
PRIORITIES: Final = {
    "always_front": MessagePriority.ALWAYS_FRONT,
    "in_front": MessagePriority.IN_FRONT,
    "normal_cycle": MessagePriority.NORMAL_CYCLE,
}
FORMATS: Final = {
    "ascii": MessageFormat.ASCII,
    "html": MessageFormat.HTML,
    "uri": MessageFormat.URI,
    "utf8": MessageFormat.UTF8,
}
STATES: Final = {
    "charging": MessageState.CHARGING,
    "faulted": MessageState.FAULTED,
    "idle": MessageState.IDLE,
    "unavailable": MessageState.UNAVAILABLE,
}
SEVERITY = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=9))
#: Protocols a station may download firmware with (OCPPCommCtrlr.FileTransferProtocols).
FIRMWARE_PROTOCOLS: Final = ("http", "https", "ftp", "ftps", "sftp")


def _firmware_url(value: Any) -> str:
    """A URL of a protocol stations download with, with a host; Firmware.location: at most 512 characters."""
    text = cv.string(value).strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in FIRMWARE_PROTOCOLS or not parts.hostname or len(text) > 512:
        raise probatio.Invalid("not an http, https, ftp, ftps or sftp URL of at most 512 characters")
    return text


MONITOR_ID = probatio.All(probatio.Coerce(int), probatio.Range(min=0, max=2**31 - 1))

UPDATE_FIRMWARE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        # Firmware.location is a URI of at most 512 characters.
        probatio.Exclusive(ATTR_URL, "firmware"): _firmware_url,
        probatio.Exclusive(ATTR_FILE, "firmware"): _text(512),
        probatio.Optional(ATTR_VERSION): _text(50),
        probatio.Optional(ATTR_SIGNING_CERTIFICATE): _text(5500),
        probatio.Optional(ATTR_SIGNATURE): _text(800),
        probatio.Optional(ATTR_INSTALL_AT): cv.datetime,
        probatio.Optional(ATTR_RETRIEVE_AT): cv.datetime,
        probatio.Optional(ATTR_RETRIES): NON_NEGATIVE_INT,
        probatio.Optional(ATTR_RETRY_INTERVAL): NON_NEGATIVE_INT,
        probatio.Optional(ATTR_INSTALL, default=True): cv.boolean,
    }
)
GET_LOG_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_LOG_TYPE, default="diagnostics"): probatio.In(list(LOG_TYPES)),
        probatio.Optional(ATTR_OLDEST): cv.datetime,
        probatio.Optional(ATTR_LATEST): cv.datetime,
        probatio.Optional(ATTR_RETRIES): NON_NEGATIVE_INT,
        probatio.Optional(ATTR_RETRY_INTERVAL): NON_NEGATIVE_INT,
        probatio.Optional(ATTR_TIMEOUT, default=300): probatio.All(
            probatio.Coerce(float), probatio.Range(min=1, max=3600)
        ),
    }
)
MONITORING_BASE_SCHEMA = probatio.Schema({**TARGET, probatio.Required(ATTR_BASE): probatio.In(list(MONITORING_BASES))})
SET_MONITORING_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_MONITORS): probatio.All(
            cv.ensure_list,
            probatio.Length(min=1),
            [
                {
                    **VARIABLE_REF,
                    probatio.Required("type"): probatio.In([monitor.value for monitor in Monitor]),
                    probatio.Required("value"): probatio.All(
                        probatio.Coerce(float), probatio.Range(min=-1e12, max=1e12)
                    ),
                    probatio.Optional("severity", default=DEFAULT_MONITOR_SEVERITY): SEVERITY,
                    probatio.Optional("transaction", default=False): cv.boolean,
                    probatio.Optional("id"): MONITOR_ID,
                }
            ],
        ),
    }
)
CLEAR_MONITORING_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_IDS): probatio.All(cv.ensure_list, probatio.Length(min=1), [MONITOR_ID])}
)
MONITORING_REPORT_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_CRITERIA, default=[]): probatio.All(cv.ensure_list, [probatio.In(list(CRITERIA))]),
        probatio.Optional(ATTR_VARIABLES, default=[]): probatio.All(
            cv.ensure_list,
            [
                {
                    probatio.Required("component"): _text(50),
                    probatio.Required("variable"): _text(50),
                    probatio.Optional("component_instance"): _text(50),
                    probatio.Optional("variable_instance"): _text(50),
                    probatio.Optional("evse_id"): NON_NEGATIVE_INT,
                    probatio.Optional("connector_id"): NON_NEGATIVE_INT,
                }
            ],
        ),
    }
)
CUSTOMER_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Exclusive(ATTR_ID_TOKEN, "customer"): ID_TOKEN,
        probatio.Exclusive(ATTR_CUSTOMER_IDENTIFIER, "customer"): _text(64),
        probatio.Optional(ATTR_ID_TOKEN_TYPE, default=IdTokenEnum.ISO14443.value): probatio.In(
            [kind.value for kind in IdTokenEnum]
        ),
        probatio.Optional(ATTR_REPORT, default=True): cv.boolean,
        probatio.Optional(ATTR_CLEAR, default=False): cv.boolean,
    }
)
SET_DISPLAY_SCHEMA = probatio.Schema(
    {
        **TARGET,
        # MessageContentType.content: at most 512 characters; language: an RFC 5646 tag of at most 8.
        probatio.Required(ATTR_MESSAGE): _text(512),
        probatio.Optional(ATTR_MESSAGE_ID_NUMBER): probatio.All(
            probatio.Coerce(int), probatio.Range(min=1, max=2**31 - 1)
        ),
        probatio.Optional(ATTR_PRIORITY): probatio.In(list(PRIORITIES)),
        probatio.Optional(ATTR_FORMAT): probatio.In(list(FORMATS)),
        probatio.Optional(ATTR_STATE): probatio.In(list(STATES)),
        probatio.Optional(ATTR_START): cv.datetime,
        probatio.Optional(ATTR_END): cv.datetime,
        probatio.Optional(ATTR_LANGUAGE): _text(8),
        probatio.Optional(ATTR_TRANSACTION_ID): _text(36),
    }
)
GET_DISPLAY_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_IDS): probatio.All(cv.ensure_list, probatio.Length(min=1), [MONITOR_ID]),
        probatio.Optional(ATTR_PRIORITY): probatio.In(list(PRIORITIES)),
        probatio.Optional(ATTR_STATE): probatio.In(list(STATES)),
    }
)
CLEAR_DISPLAY_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_MESSAGE_ID_NUMBER): probatio.All(probatio.Coerce(int), probatio.Range(min=1))}
)


async def _update_firmware(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    url, file = call.data.get(ATTR_URL), call.data.get(ATTR_FILE)
    if url is None and file is None:
        raise user_error("firmware_required")
    offer = FirmwareOffer(
        version=call.data.get(ATTR_VERSION) or PurePosixPath(str(url or file)).name[:50],
        url=url,
        file=file,
        signing_certificate=call.data.get(ATTR_SIGNING_CERTIFICATE),
        signature=call.data.get(ATTR_SIGNATURE),
        retries=call.data.get(ATTR_RETRIES),
        retry_interval=call.data.get(ATTR_RETRY_INTERVAL),
        install_at=_aware(call.data.get(ATTR_INSTALL_AT)),
        retrieve_at=_aware(call.data.get(ATTR_RETRIEVE_AT)),
    )
    return await data.firmware.async_offer(station_id, offer, install=call.data[ATTR_INSTALL])


async def _get_log(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    return await data.logs.async_get_log(
        station_id,
        LOG_TYPES[call.data[ATTR_LOG_TYPE]],
        oldest=_aware(call.data.get(ATTR_OLDEST)),
        latest=_aware(call.data.get(ATTR_LATEST)),
        retries=call.data.get(ATTR_RETRIES),
        retry_interval=call.data.get(ATTR_RETRY_INTERVAL),
        wait=call.data[ATTR_TIMEOUT],
    )


async def _set_monitoring_base(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    return {"status": await data.monitoring.async_set_base(station_id, MONITORING_BASES[call.data[ATTR_BASE]])}


async def _set_variable_monitoring(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    wanted = [
        MonitorRequest(
            key=_key(item),
            type=Monitor(item["type"]),
            value=item["value"],
            severity=item["severity"],
            transaction=item["transaction"],
            id=item.get("id"),
        )
        for item in call.data[ATTR_MONITORS]
    ]
    with translated_errors(station_id):
        results = await data.monitoring.async_set_monitors(station_id, wanted)
    return {"results": [result.to_payload() for result in results]}


async def _clear_variable_monitoring(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    results = await data.monitoring.async_clear_monitors(station_id, call.data[ATTR_IDS])
    return {"results": [result.to_payload() for result in results]}


async def _get_monitoring_report(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    status, monitors = await data.monitoring.async_report(
        station_id,
        [CRITERIA[criterion] for criterion in call.data[ATTR_CRITERIA]],
        [_key(item) for item in call.data[ATTR_VARIABLES]],
    )
    return {"status": status, "monitors": [monitor.to_dict() for monitor in monitors]}


async def _customer_information(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    id_token = call.data.get(ATTR_ID_TOKEN)
    return await data.customer_information.async_request(
        station_id,
        id_token=IdToken(id_token=id_token, type=IdTokenEnum(call.data[ATTR_ID_TOKEN_TYPE])) if id_token else None,
        customer_identifier=call.data.get(ATTR_CUSTOMER_IDENTIFIER),
        report=call.data[ATTR_REPORT],
        clear=call.data[ATTR_CLEAR],
    )


async def _set_display_message(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    message = DisplayMessage(
        content=call.data[ATTR_MESSAGE],
        message_id=call.data.get(ATTR_MESSAGE_ID_NUMBER),
        priority=PRIORITIES.get(call.data.get(ATTR_PRIORITY, "")),
        format=FORMATS.get(call.data.get(ATTR_FORMAT, "")),
        state=STATES.get(call.data.get(ATTR_STATE, "")),
        start=_aware(call.data.get(ATTR_START)),
        end=_aware(call.data.get(ATTR_END)),
        language=call.data.get(ATTR_LANGUAGE),
        transaction_id=call.data.get(ATTR_TRANSACTION_ID),
    )
    with translated_errors(station_id):
        return {"message_id": await data.display.async_set(station_id, message)}


async def _get_display_messages(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    messages = await data.display.async_get(
        station_id,
        ids=call.data.get(ATTR_IDS),
        priority=PRIORITIES.get(call.data.get(ATTR_PRIORITY, "")),
        state=STATES.get(call.data.get(ATTR_STATE, "")),
    )
    return {"messages": [message.to_payload() for message in messages]}


async def _clear_display_message(call: ServiceCall) -> ServiceResponse:
    data, station_id = _station(call)
    return {"status": await data.display.async_clear(station_id, call.data[ATTR_MESSAGE_ID_NUMBER])}


#: Station management actions: name: (handler, schema, response, admin only).
MANAGEMENT_SERVICES: Final[dict[str, tuple[Handler, probatio.Schema, SupportsResponse, bool]]] = {
    "update_firmware": (_update_firmware, UPDATE_FIRMWARE_SCHEMA, SupportsResponse.OPTIONAL, True),
    "get_log": (_get_log, GET_LOG_SCHEMA, SupportsResponse.OPTIONAL, True),
    "set_monitoring_base": (_set_monitoring_base, MONITORING_BASE_SCHEMA, SupportsResponse.OPTIONAL, True),
    "set_variable_monitoring": (
        _set_variable_monitoring,
        SET_MONITORING_SCHEMA,
        SupportsResponse.OPTIONAL,
        False,
    ),
    "clear_variable_monitoring": (
        _clear_variable_monitoring,
        CLEAR_MONITORING_SCHEMA,
        SupportsResponse.OPTIONAL,
        False,
    ),
    "get_monitoring_report": (_get_monitoring_report, MONITORING_REPORT_SCHEMA, SupportsResponse.ONLY, False),
    "customer_information": (_customer_information, CUSTOMER_SCHEMA, SupportsResponse.OPTIONAL, True),
    "set_display_message": (_set_display_message, SET_DISPLAY_SCHEMA, SupportsResponse.OPTIONAL, False),
    "get_display_messages": (_get_display_messages, GET_DISPLAY_SCHEMA, SupportsResponse.ONLY, False),
    "clear_display_message": (_clear_display_message, CLEAR_DISPLAY_SCHEMA, SupportsResponse.OPTIONAL, False),
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions; those that change what a station trusts or is only for administrators."""
    for name, (handler, schema, supports_response, admin) in (SERVICES | MANAGEMENT_SERVICES).items():
        if admin:
            async_register_admin_service(hass, DOMAIN, name, handler, schema, supports_response)
        else:
            hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=supports_response)
