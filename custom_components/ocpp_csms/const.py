"""Constants of the OCPP Charging Station Management integration."""

from typing import Final

DOMAIN: Final = "ocpp_csms"

CONF_PORT: Final = "port"
DEFAULT_PORT: Final = 9201
