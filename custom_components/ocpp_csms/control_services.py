"""Actions of the control surface: charging limits and schedules, remote commands, variables, vendor data.

Each action targets a device: a station's device, or an EVSE's ("CP-1 EVSE 1"). Station-wide where it applies
(a limit on the station's device is the TxDefaultProfile of EVSE 0, the default of every EVSE; with
`station_cap` it is the ChargingStationMaxProfile that bounds the whole station).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import TYPE_CHECKING, Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .charging.profiles import SchedulePeriod
from .charging_control import STATION_CAP
from .const import ATTR_DEVICE_ID, DOMAIN, EVSE_SEPARATOR
from .protocol.v201.datatypes import GetVariableData, SetVariableData
from .protocol.v201.enums import ChargingRateUnit, MessageTrigger, RecurrencyKind, Reset
from .protocol.v201.messages import GetVariablesRequest, GetVariablesResponse, SetVariablesRequest, SetVariablesResponse
from .station.device_model import VariableKey

if TYPE_CHECKING:
    from .hub import OcppCsmsHub

ATTR_CURRENT = "current"
ATTR_POWER = "power"
ATTR_PHASES = "phases"
ATTR_DURATION = "duration"
ATTR_UNTIL = "until"
ATTR_STATION_CAP = "station_cap"
ATTR_PERIODS = "periods"
ATTR_UNIT = "unit"
ATTR_RECURRENCE = "recurrence"
ATTR_OPERATIVE = "operative"
ATTR_TYPE = "type"
ATTR_CONNECTOR_ID = "connector_id"
ATTR_MESSAGE = "message"
ATTR_VARIABLES = "variables"
ATTR_VENDOR_ID = "vendor_id"
ATTR_MESSAGE_ID = "message_id"
ATTR_DATA = "data"
ATTR_ID_TOKEN = "id_token"

UNITS = {"current": ChargingRateUnit.A, "power": ChargingRateUnit.W}
RECURRENCES = {"daily": RecurrencyKind.DAILY, "weekly": RecurrencyKind.WEEKLY}
RESETS = {"on_idle": Reset.ON_IDLE, "immediate": Reset.IMMEDIATE}
PHASES = probatio.All(probatio.Coerce(int), probatio.In([1, 3]))

TARGET = {probatio.Required(ATTR_DEVICE_ID): cv.string}

SET_LIMIT_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Exclusive(ATTR_CURRENT, "limit"): probatio.All(
            probatio.Coerce(float), probatio.Range(min=0, max=1000)
        ),
        probatio.Exclusive(ATTR_POWER, "limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0, max=1e6)),
        probatio.Optional(ATTR_PHASES): PHASES,
        probatio.Exclusive(ATTR_DURATION, "end"): cv.positive_time_period,
        probatio.Exclusive(ATTR_UNTIL, "end"): cv.datetime,
        probatio.Optional(ATTR_STATION_CAP, default=False): cv.boolean,
    }
)


def _start(value: Any) -> int | time:
    """A period start: seconds from the schedule's start, or a clock time "HH:MM"."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(cv.positive_int(int(value)))
    return cv.time(value)


PERIOD_SCHEMA = probatio.Schema(
    {
        probatio.Required("start"): _start,
        probatio.Required("limit"): probatio.All(probatio.Coerce(float), probatio.Range(min=0)),
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
CLEAR_SCHEMA = probatio.Schema({**TARGET, probatio.Optional(ATTR_STATION_CAP, default=False): cv.boolean})
COMPOSITE_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_DURATION, default=timedelta(hours=1)): cv.positive_time_period,
        probatio.Optional(ATTR_UNIT): probatio.In(list(UNITS)),
    }
)
START_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Optional(ATTR_ID_TOKEN): probatio.All(cv.string, probatio.Length(max=36))}
)
TARGET_SCHEMA = probatio.Schema(TARGET)
AVAILABILITY_SCHEMA = probatio.Schema({**TARGET, probatio.Required(ATTR_OPERATIVE): cv.boolean})
RESET_SCHEMA = probatio.Schema({**TARGET, probatio.Optional(ATTR_TYPE, default="on_idle"): probatio.In(list(RESETS))})
UNLOCK_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Optional(ATTR_CONNECTOR_ID, default=1): probatio.All(probatio.Coerce(int), probatio.Range(min=1)),
    }
)
TRIGGER_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_MESSAGE): probatio.In([message.value for message in MessageTrigger])}
)
VARIABLE_REF = {
    probatio.Required("component"): cv.string,
    probatio.Required("variable"): cv.string,
    probatio.Optional("component_instance"): cv.string,
    probatio.Optional("variable_instance"): cv.string,
    probatio.Optional("evse_id"): probatio.All(probatio.Coerce(int), probatio.Range(min=0)),
    probatio.Optional("connector_id"): probatio.All(probatio.Coerce(int), probatio.Range(min=0)),
}
GET_VARIABLES_SCHEMA = probatio.Schema(
    {**TARGET, probatio.Required(ATTR_VARIABLES): probatio.All(cv.ensure_list, probatio.Length(min=1), [VARIABLE_REF])}
)
SET_VARIABLES_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_VARIABLES): probatio.All(
            cv.ensure_list, probatio.Length(min=1), [{**VARIABLE_REF, probatio.Required("value"): cv.string}]
        ),
    }
)
DATA_TRANSFER_SCHEMA = probatio.Schema(
    {
        **TARGET,
        probatio.Required(ATTR_VENDOR_ID): probatio.All(cv.string, probatio.Length(min=1, max=255)),
        probatio.Optional(ATTR_MESSAGE_ID): probatio.All(cv.string, probatio.Length(max=50)),
        probatio.Optional(ATTR_DATA): object,
    }
)


def resolve_target(hass: HomeAssistant, device_id: str) -> tuple[OcppCsmsHub, str, int]:
    """The hub, station id and EVSE id (0 for the station's own device) an action targets."""
    device = dr.async_get(hass).async_get(device_id)
    identifier = None
    if device is not None:
        identifier = next((ident for domain, ident in device.identifiers if domain == DOMAIN), None)
    if device is None or identifier is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_a_station", translation_placeholders={"device": device_id}
        )
    station_id, _, evse = identifier.partition(EVSE_SEPARATOR)
    entry = hass.config_entries.async_get_entry(device.config_entry_id)
    if entry is not None and entry.domain == DOMAIN and entry.state is ConfigEntryState.LOADED:
        hub: OcppCsmsHub = entry.runtime_data
        return hub, station_id, int(evse) if evse else 0
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")


def _needs_evse(station_id: str, evse_id: int, action: str) -> None:
    if evse_id <= 0:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="evse_required",
            translation_placeholders={"station": station_id, "action": action},
        )


async def _set_charging_limit(call: ServiceCall) -> None:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    if ATTR_CURRENT in call.data:
        value, unit = call.data[ATTR_CURRENT], ChargingRateUnit.A
    elif ATTR_POWER in call.data:
        value, unit = call.data[ATTR_POWER], ChargingRateUnit.W
    else:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="limit_required")
    if call.data[ATTR_STATION_CAP]:
        if evse_id:
            raise ServiceValidationError(translation_domain=DOMAIN, translation_key="cap_on_station_only")
        evse_id = STATION_CAP
    until = call.data.get(ATTR_UNTIL)
    if until is not None and until.tzinfo is None:
        until = until.replace(tzinfo=dt_util.get_default_time_zone())
    await hub.charging.async_set_limit(
        station_id,
        evse_id,
        value,
        unit,
        phases=call.data.get(ATTR_PHASES),
        duration=call.data.get(ATTR_DURATION),
        until=until,
    )


async def _set_charging_schedule(call: ServiceCall) -> None:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    periods = [
        SchedulePeriod(
            start=period["start"],
            limit=period["limit"],
            number_phases=period.get(ATTR_PHASES),
            weekday=period.get("weekday"),
        )
        for period in call.data[ATTR_PERIODS]
    ]
    await hub.charging.async_set_schedule(
        station_id,
        evse_id,
        periods,
        UNITS[call.data[ATTR_UNIT]],
        tz=dt_util.get_default_time_zone(),
        recurrence=RECURRENCES.get(call.data[ATTR_RECURRENCE]),
    )


async def _clear_charging_limit(call: ServiceCall) -> None:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    await hub.charging.async_clear(station_id, STATION_CAP if call.data[ATTR_STATION_CAP] and not evse_id else evse_id)


async def _get_composite_schedule(call: ServiceCall) -> ServiceResponse:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    unit = UNITS.get(call.data.get(ATTR_UNIT, ""))
    duration = int(call.data[ATTR_DURATION].total_seconds())
    response = await hub.charging.async_composite(station_id, evse_id, duration, unit)
    return response.to_payload()


async def _start_charging(call: ServiceCall) -> ServiceResponse:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    transaction_id = await hub.commands.async_start(station_id, evse_id, call.data.get(ATTR_ID_TOKEN))
    return {"transaction_id": transaction_id}


async def _stop_charging(call: ServiceCall) -> None:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    _needs_evse(station_id, evse_id, "stop_charging")
    await hub.commands.async_stop(station_id, evse_id)


async def _change_availability(call: ServiceCall) -> ServiceResponse:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    status = await hub.commands.async_change_availability(station_id, evse_id, call.data[ATTR_OPERATIVE])
    return {"status": status}


async def _reset(call: ServiceCall) -> ServiceResponse:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    status = await hub.commands.async_reset(station_id, RESETS[call.data[ATTR_TYPE]], evse_id or None)
    return {"status": status}


async def _unlock_connector(call: ServiceCall) -> None:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    _needs_evse(station_id, evse_id, "unlock_connector")
    await hub.commands.async_unlock(station_id, evse_id, call.data[ATTR_CONNECTOR_ID])


async def _trigger_message(call: ServiceCall) -> ServiceResponse:
    hub, station_id, evse_id = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    status = await hub.commands.async_trigger(station_id, MessageTrigger(call.data[ATTR_MESSAGE]), evse_id or None)
    return {"status": status}


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
    hub, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    request = GetVariablesRequest(
        get_variable_data=[
            GetVariableData(component=key.to_component(), variable=key.to_variable())
            for key in map(_key, call.data[ATTR_VARIABLES])
        ]
    )
    response = await hub.async_call(station_id, request, GetVariablesResponse)
    runtime = await hub.async_runtime(station_id)
    if runtime.device_model.apply_get_variable_results(response.get_variable_result):
        runtime.schedule_save_inventory()
    return {"results": [result.to_payload() for result in response.get_variable_result]}


async def _set_variables(call: ServiceCall) -> ServiceResponse:
    hub, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    request = SetVariablesRequest(
        set_variable_data=[
            SetVariableData(
                attribute_value=item["value"], component=_key(item).to_component(), variable=_key(item).to_variable()
            )
            for item in call.data[ATTR_VARIABLES]
        ]
    )
    response = await hub.async_call(station_id, request, SetVariablesResponse)
    runtime = await hub.async_runtime(station_id)
    if runtime.device_model.apply_set_variable_results(request.set_variable_data, response.set_variable_result):
        runtime.schedule_save_inventory()
    return {"results": [result.to_payload() for result in response.set_variable_result]}


async def _data_transfer(call: ServiceCall) -> ServiceResponse:
    hub, station_id, _ = resolve_target(call.hass, call.data[ATTR_DEVICE_ID])
    return await hub.commands.async_data_transfer(
        station_id, call.data[ATTR_VENDOR_ID], call.data.get(ATTR_MESSAGE_ID), call.data.get(ATTR_DATA)
    )


SERVICES: dict[str, tuple[Any, probatio.Schema, SupportsResponse]] = {
    "set_charging_limit": (_set_charging_limit, SET_LIMIT_SCHEMA, SupportsResponse.NONE),
    "set_charging_schedule": (_set_charging_schedule, SET_SCHEDULE_SCHEMA, SupportsResponse.NONE),
    "clear_charging_limit": (_clear_charging_limit, CLEAR_SCHEMA, SupportsResponse.NONE),
    "get_composite_schedule": (_get_composite_schedule, COMPOSITE_SCHEMA, SupportsResponse.ONLY),
    "start_charging": (_start_charging, START_SCHEMA, SupportsResponse.OPTIONAL),
    "stop_charging": (_stop_charging, TARGET_SCHEMA, SupportsResponse.NONE),
    "change_availability": (_change_availability, AVAILABILITY_SCHEMA, SupportsResponse.OPTIONAL),
    "reset": (_reset, RESET_SCHEMA, SupportsResponse.OPTIONAL),
    "unlock_connector": (_unlock_connector, UNLOCK_SCHEMA, SupportsResponse.NONE),
    "trigger_message": (_trigger_message, TRIGGER_SCHEMA, SupportsResponse.OPTIONAL),
    "get_variables": (_get_variables, GET_VARIABLES_SCHEMA, SupportsResponse.ONLY),
    "set_variables": (_set_variables, SET_VARIABLES_SCHEMA, SupportsResponse.OPTIONAL),
    "data_transfer": (_data_transfer, DATA_TRANSFER_SCHEMA, SupportsResponse.OPTIONAL),
}


@callback
def async_setup_control_services(hass: HomeAssistant) -> None:
    """Register the control surface's actions."""
    for name, (handler, schema, supports_response) in SERVICES.items():
        hass.services.async_register(DOMAIN, name, handler, schema=schema, supports_response=supports_response)
