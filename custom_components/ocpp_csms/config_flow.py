"""Config flow of the OCPP Charging Station Management integration."""

from __future__ import annotations

import socket
from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.helpers.selector import NumberSelector, NumberSelectorConfig, NumberSelectorMode
import probatio

from .const import CONF_PORT, DEFAULT_PORT, DOMAIN

PORT_SELECTOR = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))


def port_is_free(port: int) -> bool:
    """Tell whether the OCPP listener could bind this TCP port on all interfaces."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


class OcppCsmsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the central system: choose the port chargers connect to."""

    VERSION = 1

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the listener port and check that it can be bound."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            if await self.hass.async_add_executor_job(port_is_free, port):
                return self.async_create_entry(title="OCPP central system", data={CONF_PORT: port})
            errors[CONF_PORT] = "port_in_use"
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({probatio.Required(CONF_PORT): PORT_SELECTOR}),
                user_input or {CONF_PORT: DEFAULT_PORT},
            ),
            errors=errors,
        )
