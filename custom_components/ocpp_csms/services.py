"""Actions of the integration, registered once in async_setup."""

from __future__ import annotations

from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
import probatio

from .const import ATTR_DEVICE_ID, DOMAIN, EVSE_SEPARATOR, SERVICE_ROTATE_PASSWORD

if TYPE_CHECKING:
    from .hub import OcppCsmsHub

STATION_SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})


def resolve_station(hass: HomeAssistant, device_id: str) -> tuple[OcppCsmsHub, str]:
    """The hub and station id of a station's device; a translated error when it is none."""
    device = dr.async_get(hass).async_get(device_id)
    station_id = None
    if device is not None:
        station_id = next(
            (ident for domain, ident in device.identifiers if domain == DOMAIN and EVSE_SEPARATOR not in ident), None
        )
    if device is None or station_id is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="not_a_station", translation_placeholders={"device": device_id}
        )
    for entry_id in device.config_entries:
        entry = hass.config_entries.async_get_entry(entry_id)
        if entry is not None and entry.domain == DOMAIN and entry.state is ConfigEntryState.LOADED:
            hub: OcppCsmsHub = entry.runtime_data
            return hub, station_id
    raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")


async def _rotate_password(call: ServiceCall) -> None:
    hub, station_id = resolve_station(call.hass, call.data[ATTR_DEVICE_ID])
    await hub.async_rotate_password(station_id)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""
    hass.services.async_register(DOMAIN, SERVICE_ROTATE_PASSWORD, _rotate_password, schema=STATION_SCHEMA)
