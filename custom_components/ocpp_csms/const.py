"""Constants of the OCPP Charging Station Management integration."""

from typing import Final

from homeassistant.const import Platform

DOMAIN: Final = "ocpp_csms"

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.EVENT,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TEXT,
    Platform.TIME,
    Platform.NOTIFY,
    Platform.UPDATE,
]

# Config entry data (reconfigure flow).
CONF_PORT: Final = "port"
DEFAULT_PORT: Final = 9201

# Options (options flow).
CONF_HEARTBEAT_INTERVAL: Final = "heartbeat_interval"
DEFAULT_HEARTBEAT_INTERVAL: Final = 300
CONF_UNKNOWN_STATIONS: Final = "unknown_stations"
CONF_ENTITY_DETAIL: Final = "entity_detail"  # "full" or "essential", see entity_detail.py
CONF_TLS_PORT: Final = "tls_port"  # 0: no TLS listener
DEFAULT_TLS_PORT: Final = 0
CONF_CERTIFICATES: Final = "certificates"  # "generate" or "files"
CERTIFICATES_GENERATE: Final = "generate"
CERTIFICATES_FILES: Final = "files"
CONF_TLS_HOSTS: Final = "tls_hosts"
CONF_CERT_FILE: Final = "cert_file"
CONF_KEY_FILE: Final = "key_file"
CONF_CA_FILE: Final = "ca_file"  # CA that station certificates (security profile 3) must chain to
# A second server certificate of the other key type (EC beside RSA), A00.FR.318: the user's own files.
CONF_SECOND_CERT_FILE: Final = "second_cert_file"
CONF_SECOND_KEY_FILE: Final = "second_key_file"

# Where generated certificates live, below the Home Assistant config dir.
CERTIFICATE_DIR: Final = "ocpp_csms"

STORAGE_VERSION: Final = 1
STORAGE_KEY: Final = f"{DOMAIN}.stations"
ID_TOKENS_STORAGE_KEY: Final = f"{DOMAIN}.id_tokens"
#: Version 2: tokens have a status, language, personal message and EVSEs (version 1: allowed or not listed).
ID_TOKENS_STORAGE_VERSION: Final = 2
CONF_UNKNOWN_TOKENS: Final = "unknown_tokens"
CONF_REMOTE_ID_TOKEN: Final = "remote_id_token"  # the ID token remote starts use
DEFAULT_REMOTE_ID_TOKEN: Final = "HomeAssistant"

# Identifier prefixes of devices and discovery flows.
EVSE_SEPARATOR: Final = "/evse/"
DISCOVERY_UNIQUE_ID_PREFIX: Final = "station:"

ATTR_DEVICE_ID: Final = "device_id"
SERVICE_ROTATE_PASSWORD: Final = "rotate_password"

# Station management (firmware, logs, monitoring, display: L, N, O).
CONF_PROBLEM_SEVERITY: Final = "problem_severity"  # NotifyEvents of monitors this severe or more are problems
DEFAULT_PROBLEM_SEVERITY: Final = 3  # 3 "Critical": 0 Danger ... 9 Debug (SetMonitoringLevelRequest)
# Authorization (C, D, H): the stations' local authorization lists follow the ID tokens (on by default).
CONF_LOCAL_AUTH_LIST: Final = "local_auth_list"
DEFAULT_LOCAL_AUTH_LIST: Final = True
# ISO 15118 (issue 17): where Get15118EVCertificate requests go (a contract certificate provider's proxy).
CONF_CONTRACT_PROVIDER_URL: Final = "contract_provider_url"
#: The household's cars for the home mobility operator: PCID -> the eMAID the user assigned (Plug & Charge).
CONF_HOME_CONTRACTS: Final = "home_contracts"
# The energy manager (site options, applied without a reload): one nested mapping under this option.
CONF_ENERGY: Final = "energy"
ENERGY_STORAGE_KEY: Final = f"{DOMAIN}.energy"
PLANNER_STORAGE_KEY: Final = f"{DOMAIN}.planner"
