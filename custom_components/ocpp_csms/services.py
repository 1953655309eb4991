"""The integration's actions, registered once in `async_setup`.

Most target a device: a station's device, or an EVSE's ("CP-1 EVSE 1"). Station-wide where it applies (a limit on
the station's device is the TxDefaultProfile of EVSE 0, the default of every EVSE; with `station_cap` it is the
ChargingStationMaxProfile that bounds the whole station). The ID-token actions concern the central system itself.
Actions that change what a station trusts or is (ID tokens, passwords, variables, resets, vendor data, any request
sent as given) are for administrators. Lengths and formats are checked by the schemas; errors are translated.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import time, timedelta
from typing import Any, Final, cast

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.service import async_get_config_entry, async_register_admin_service
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import probatio

from .charging.profiles import SchedulePeriod
from .charging_control import STATION_CAP
from .const import ATTR_DEVICE_ID, DOMAIN, EVSE_SEPARATOR, SERVICE_ROTATE_PASSWORD
from .helpers import translated_errors, user_error
from .protocol.v201.datatypes import EVSE, Component, ComponentVariable, Variable
from .protocol.v201.enums import (
    ChargingProfilePurpose,
    ChargingRateUnit,
    ComponentCriterion,
    IdTokenEnum,
    MessageTrigger,
    RecurrencyKind,
    ReportBase,
    Reset,
)
from .runtime_data import OcppCsmsConfigEntry, OcppCsmsRuntimeData
from .station.device_model import VariableKey
from .station.id_tokens import IdTokenEntry
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
ATTR_ACTION: Final = "action"
ATTR_PAYLOAD: Final = "payload"
ATTR_REPORT_BASE: Final = "report_base"
ATTR_COMPONENT_CRITERIA: Final = "component_criteria"
ATTR_COMPONENT_VARIABLES: Final = "component_variables"

UNITS: Final = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}
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
ID_TOKEN = _text(36)
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
ADD_ID_TOKEN_SCHEMA = probatio.Schema(
    {
        **CENTRAL,
        probatio.Required(ATTR_ID_TOKEN): ID_TOKEN,
        probatio.Optional(ATTR_TYPE): probatio.In([kind.value for kind in IdTokenEnum]),
        probatio.Optional(ATTR_LABEL, default=""): _text(100, min_length=0),
        probatio.Optional(ATTR_EXPIRES): cv.datetime,
    }
)
REMOVE_ID_TOKEN_SCHEMA = probatio.Schema({**CENTRAL, probatio.Required(ATTR_ID_TOKEN): ID_TOKEN})
LIST_ID_TOKENS_SCHEMA = probatio.Schema(CENTRAL)

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


async def _add_id_token(call: ServiceCall) -> None:
    data = _central(call)
    data.authorization.tokens.add(
        IdTokenEntry(
            id_token=call.data[ATTR_ID_TOKEN],
            type=IdTokenEnum(call.data[ATTR_TYPE]) if ATTR_TYPE in call.data else None,
            label=call.data[ATTR_LABEL],
            expires_at=_aware(call.data.get(ATTR_EXPIRES)),
        )
    )
    data.authorization.save()


async def _remove_id_token(call: ServiceCall) -> None:
    data = _central(call)
    if not data.authorization.tokens.remove(call.data[ATTR_ID_TOKEN]):
        raise user_error("unknown_id_token", id_token=call.data[ATTR_ID_TOKEN])
    data.authorization.save()


async def _list_id_tokens(call: ServiceCall) -> ServiceResponse:
    tokens = _central(call).authorization.tokens
    unknown = tokens.last_unknown
    return {
        "id_tokens": [entry.to_dict() for entry in tokens],
        "unknown_token_policy": tokens.unknown_policy.value,
        "last_unknown_token": (
            {"id_token": unknown.id_token, "type": unknown.type.value, "at": unknown.seen_at.isoformat()}
            if unknown
            else None
        ),
    }


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
}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions; those that change what a station trusts or is only for administrators."""
    for name, (handler, schema, supports_response, admin) in SERVICES.items():
        if admin:
            async_register_admin_service(hass, DOMAIN, name, handler, schema, supports_response)
        else:
            hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=supports_response)
