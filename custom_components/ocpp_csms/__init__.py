"""OCPP 2.0.1 central system (CSMS) for Home Assistant."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from .const import CONF_PORT


@dataclass(slots=True)
class OcppCsmsRuntimeData:
    """What a loaded config entry owns while it runs."""

    port: int


type OcppCsmsConfigEntry = ConfigEntry[OcppCsmsRuntimeData]


async def async_setup_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Set up the central system from a config entry."""
    entry.runtime_data = OcppCsmsRuntimeData(port=entry.data[CONF_PORT])
    return True


async def async_unload_entry(hass: HomeAssistant, entry: OcppCsmsConfigEntry) -> bool:
    """Unload a config entry."""
    return True
