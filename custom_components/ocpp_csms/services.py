"""Actions of the integration, registered once in async_setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.core import HomeAssistant, ServiceCall, ServiceResponse, SupportsResponse, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import probatio

from .const import ATTR_DEVICE_ID, DOMAIN, SERVICE_ROTATE_PASSWORD
from .control_services import async_setup_control_services, resolve_target
from .protocol.v201.enums import IdTokenEnum
from .station.id_tokens import IdTokenEntry

if TYPE_CHECKING:
    from .hub import OcppCsmsHub

STATION_SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})

SERVICE_ADD_ID_TOKEN = "add_id_token"
SERVICE_REMOVE_ID_TOKEN = "remove_id_token"
SERVICE_LIST_ID_TOKENS = "list_id_tokens"
ATTR_ID_TOKEN = "id_token"
ATTR_TYPE = "type"
ATTR_LABEL = "label"
ATTR_EXPIRES = "expires"

ADD_ID_TOKEN_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_ID_TOKEN): probatio.All(cv.string, probatio.Length(min=1, max=36)),
        probatio.Optional(ATTR_TYPE): probatio.In([kind.value for kind in IdTokenEnum]),
        probatio.Optional(ATTR_LABEL, default=""): cv.string,
        probatio.Optional(ATTR_EXPIRES): cv.datetime,
    }
)
REMOVE_ID_TOKEN_SCHEMA = probatio.Schema({probatio.Required(ATTR_ID_TOKEN): cv.string})


def resolve_station(hass: HomeAssistant, device_id: str) -> tuple[OcppCsmsHub, str]:
    """The hub and station id of a station's device (not an EVSE's); a translated error when it is none."""
    hub, station_id, evse_id = resolve_target(hass, device_id)
    if evse_id:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_a_station", translation_placeholders={"device": device_id}
        )
    return hub, station_id


def loaded_hub(hass: HomeAssistant) -> OcppCsmsHub:
    """The hub of the loaded central system; a translated error when there is none."""
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        hub: OcppCsmsHub = entry.runtime_data
        return hub
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")


async def _add_id_token(call: ServiceCall) -> None:
    hub = loaded_hub(call.hass)
    expires = call.data.get(ATTR_EXPIRES)
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=dt_util.get_default_time_zone())
    hub.id_tokens.add(
        IdTokenEntry(
            id_token=call.data[ATTR_ID_TOKEN],
            type=IdTokenEnum(call.data[ATTR_TYPE]) if ATTR_TYPE in call.data else None,
            label=call.data[ATTR_LABEL],
            expires_at=expires,
        )
    )
    hub.save_id_tokens()


async def _remove_id_token(call: ServiceCall) -> None:
    hub = loaded_hub(call.hass)
    if not hub.id_tokens.remove(call.data[ATTR_ID_TOKEN]):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_id_token",
            translation_placeholders={"id_token": call.data[ATTR_ID_TOKEN]},
        )
    hub.save_id_tokens()


async def _list_id_tokens(call: ServiceCall) -> ServiceResponse:
    hub = loaded_hub(call.hass)
    unknown = hub.id_tokens.last_unknown
    return {
        "id_tokens": [entry.to_dict() for entry in hub.id_tokens],
        "unknown_token_policy": hub.id_tokens.unknown_policy.value,
        "last_unknown_token": (
            {"id_token": unknown.id_token, "type": unknown.type.value, "at": unknown.seen_at.isoformat()}
            if unknown
            else None
        ),
    }


async def _rotate_password(call: ServiceCall) -> None:
    hub, station_id = resolve_station(call.hass, call.data[ATTR_DEVICE_ID])
    await hub.async_rotate_password(station_id)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    async_setup_control_services(hass)
    hass.services.async_register(DOMAIN, SERVICE_ROTATE_PASSWORD, _rotate_password, schema=STATION_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_ADD_ID_TOKEN, _add_id_token, schema=ADD_ID_TOKEN_SCHEMA)
    hass.services.async_register(DOMAIN, SERVICE_REMOVE_ID_TOKEN, _remove_id_token, schema=REMOVE_ID_TOKEN_SCHEMA)
    hass.services.async_register(
        DOMAIN, SERVICE_LIST_ID_TOKENS, _list_id_tokens, supports_response=SupportsResponse.ONLY
    )
