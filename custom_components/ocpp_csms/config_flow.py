"""Config, reconfigure and options flows (the energy manager's site among them); the approval of a station."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path
import socket
from typing import Any
from urllib.parse import urlparse

from homeassistant.config_entries import (
    SOURCE_RECONFIGURE,
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.selector import (
    BooleanSelector,
    DateTimeSelector,
    EntitySelector,
    EntitySelectorConfig,
    EntityWithDeviceFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    ObjectSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
from homeassistant.helpers.typing import DiscoveryInfoType
from homeassistant.util import dt as dt_util
import probatio

from .const import (
    CERTIFICATES_FILES,
    CERTIFICATES_GENERATE,
    CONF_CA_FILE,
    CONF_CERT_FILE,
    CONF_CERTIFICATES,
    CONF_CONTRACT_PROVIDER_URL,
    CONF_ENTITY_DETAIL,
    CONF_HEARTBEAT_INTERVAL,
    CONF_HOME_CONTRACTS,
    CONF_KEY_FILE,
    CONF_LOCAL_AUTH_LIST,
    CONF_PORT,
    CONF_REMOTE_ID_TOKEN,
    CONF_SECOND_CERT_FILE,
    CONF_SECOND_KEY_FILE,
    CONF_TLS_HOSTS,
    CONF_TLS_PORT,
    CONF_UNKNOWN_STATIONS,
    CONF_UNKNOWN_TOKENS,
    DEFAULT_HEARTBEAT_INTERVAL,
    DEFAULT_LOCAL_AUTH_LIST,
    DEFAULT_PORT,
    DEFAULT_REMOTE_ID_TOKEN,
    DEFAULT_TLS_PORT,
    DISCOVERY_UNIQUE_ID_PREFIX,
    DOMAIN,
    EVSE_SEPARATOR,
)
from .csms.registry import SecurityProfile, UnknownStationPolicy
from .devices import evse_identifier
from .entity_detail import EntityDetail, entity_detail_from
from .home_mobility import ContractLineError, format_contracts, parse_contracts
from .protocol.v201.enums import AuthorizationStatus, IdTokenEnum
from .runtime_data import OcppCsmsConfigEntry
from .station.id_tokens import (
    MAX_LANGUAGE_LENGTH,
    MAX_MESSAGE_LENGTH,
    MAX_TOKEN_LENGTH,
    TOKEN_STATUSES,
    IdTokenEntry,
    UnknownTokenPolicy,
)
from .tls_setup import parse_hosts

# station management (N07: which monitoring events are problems)
from .const import CONF_PROBLEM_SEVERITY, DEFAULT_PROBLEM_SEVERITY  # isort: skip
from .station.monitors import SEVERITY_LEVELS  # isort: skip

# the energy manager's site (applied without a reload)
from .const import CONF_ENERGY  # isort: skip
from .departure_planning import (  # isort: skip
    FEED_IN_PRICE,
    PER_KWH,
    PER_MWH,
    PLAN_BUFFER,
    PRICE_ACTION,
    PRICE_ACTION_DATA,
    PRICE_ENTITY,
    PRICE_UNIT,
    SOLAR_FORECAST,
)
from .planner.plan import DEFAULT_BUFFER  # isort: skip
from .planner.prices import PriceFormatError, parse_price_attributes, parse_solar_forecast  # isort: skip
from .energy.model import DEFAULT_MIN_CURRENT  # isort: skip
from .energy_manager import (  # isort: skip
    BATTERY_POWER,
    BATTERY_PRIORITY_SOC,
    BATTERY_SIGN,
    BATTERY_SOC,
    CHARGE_POSITIVE,
    DEFAULT_DISABLE_DELAY,
    DEFAULT_ENABLE_DELAY,
    DEFAULT_MARGIN,
    DISABLE_DELAY,
    DISCHARGE_POSITIVE,
    ENABLE_DELAY,
    EXPORT_POSITIVE,
    FALLBACK_CURRENT,
    FUSE_CURRENT,
    GRID_CURRENTS,
    GRID_POWER,
    GRID_SIGN,
    IMPORT_POSITIVE,
    MARGIN,
    MAX_GRID_POWER,
    SOLAR_POWER,
    SensorKind,
    sensor_problem,
)


def _problem_severity(options: Mapping[str, Any]) -> int:
    """The problem severity threshold of the options (0-9)."""
    return min(max(int(options.get(CONF_PROBLEM_SEVERITY, DEFAULT_PROBLEM_SEVERITY)), 0), len(SEVERITY_LEVELS) - 1)


PORT_SELECTOR = NumberSelector(NumberSelectorConfig(min=1, max=65535, step=1, mode=NumberSelectorMode.BOX))
TLS_PORT_SELECTOR = NumberSelector(NumberSelectorConfig(min=0, max=65535, step=1, mode=NumberSelectorMode.BOX))
HEARTBEAT_SELECTOR = NumberSelector(
    NumberSelectorConfig(min=10, max=86400, step=1, unit_of_measurement="s", mode=NumberSelectorMode.BOX)
)
POLICY_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[policy.value for policy in UnknownStationPolicy],
        translation_key=CONF_UNKNOWN_STATIONS,
        mode=SelectSelectorMode.LIST,
    )
)
TOKEN_POLICY_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[policy.value for policy in UnknownTokenPolicy],
        translation_key=CONF_UNKNOWN_TOKENS,
        mode=SelectSelectorMode.LIST,
    )
)
ENTITY_DETAIL_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[detail.value for detail in EntityDetail],
        translation_key=CONF_ENTITY_DETAIL,
        mode=SelectSelectorMode.LIST,
    )
)
#: A token valid whatever type the station reports.
ANY_TYPE = "any"
TOKEN_TYPE_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[ANY_TYPE, *(kind.value for kind in IdTokenEnum if kind is not IdTokenEnum.NO_AUTHORIZATION)],
        translation_key="id_token_type",
        mode=SelectSelectorMode.DROPDOWN,
    )
)
#: Station management: NotifyEvents of monitors this severe or more are problems (0 Danger ... 9 Debug).
PROBLEM_SEVERITY_SELECTOR = SelectSelector(
    SelectSelectorConfig(options=list(SEVERITY_LEVELS), translation_key="severity", mode=SelectSelectorMode.DROPDOWN)
)
TOKEN_STATUS_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[status.value for status in TOKEN_STATUSES],
        translation_key="id_token_status",
        mode=SelectSelectorMode.DROPDOWN,
    )
)
#: The token remote starts use: IdTokenType.idToken is a string of at most 36 characters.
REMOTE_ID_TOKEN = probatio.All(TextSelector(), probatio.Length(max=MAX_TOKEN_LENGTH))
# The fields of an ID token in the list editor.
CONF_ID_TOKEN = "id_token"
CONF_TOKEN_TYPE = "type"
CONF_LABEL = "label"
CONF_STATUS = "status"
CONF_EXPIRES = "expires"
CONF_GROUP_ID = "group_id"
CONF_LANGUAGE = "language"
CONF_PERSONAL_MESSAGE = "personal_message"
CONF_EVSES = "evses"
CONF_REMOVE_TOKENS = "remove_id_tokens"
OPTIONS_MENU = ["settings", "id_tokens", "tls", "iso15118", "energy", "security_upgrade"]
CONF_STATION = "station"
CONF_SECURITY_PROFILE = "security_profile"
SECURITY_PROFILE_SELECTOR = SelectSelector(
    SelectSelectorConfig(options=["2", "3"], translation_key=CONF_SECURITY_PROFILE, mode=SelectSelectorMode.LIST)
)
#: How many tokens the list editor's menu names (the rest are counted).
LISTED_IN_MENU = 20
CERTIFICATES_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[CERTIFICATES_GENERATE, CERTIFICATES_FILES],
        translation_key=CONF_CERTIFICATES,
        mode=SelectSelectorMode.LIST,
    )
)


def port_is_free(port: int) -> bool:
    """Tell whether a listener could bind this TCP port on all interfaces."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError:
            return False
    return True


def _files_missing(paths: dict[str, str]) -> dict[str, str]:
    """Which of the given file options name no readable file."""
    return {key: "file_not_found" for key, path in paths.items() if path and not Path(path).is_file()}


class OcppCsmsConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up the central system; approve stations that ask to join."""

    VERSION = 1

    def __init__(self) -> None:
        """Nothing discovered yet."""
        self._station: dict[str, str] = {}

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry[Any]) -> OcppCsmsOptionsFlow:
        """The options flow."""
        return OcppCsmsOptionsFlow()

    async def async_step_user(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Ask for the listener port and check that it can be bound."""
        await self.async_set_unique_id(DOMAIN)
        self._abort_if_unique_id_configured()
        return await self._port_step("user", user_input)

    async def async_step_reconfigure(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Change the listener port."""
        return await self._port_step("reconfigure", user_input)

    async def _port_step(self, step_id: str, user_input: dict[str, Any] | None) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        reconfiguring = self.source == SOURCE_RECONFIGURE
        current = self._get_reconfigure_entry().data[CONF_PORT] if reconfiguring else None
        if user_input is not None:
            port = int(user_input[CONF_PORT])
            # Our own listener holds the current port: keeping it is fine.
            if port == current or await self.hass.async_add_executor_job(port_is_free, port):
                if reconfiguring:
                    # The entry's update listener moves the listener to the new port (live_options).
                    return self.async_update_and_abort(self._get_reconfigure_entry(), data_updates={CONF_PORT: port})
                return self.async_create_entry(title="OCPP central system", data={CONF_PORT: port})
            errors[CONF_PORT] = "port_in_use"
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema({probatio.Required(CONF_PORT): PORT_SELECTOR}),
                user_input or {CONF_PORT: current or DEFAULT_PORT},
            ),
            errors=errors,
        )

    # ---- a station that asks to join (unknown-station policy "approve") ------------------------------

    async def async_step_integration_discovery(self, discovery_info: DiscoveryInfoType) -> ConfigFlowResult:
        """An unknown station booted and was answered Pending: offer it to the user."""
        station_id = str(discovery_info["station_id"])
        await self.async_set_unique_id(f"{DISCOVERY_UNIQUE_ID_PREFIX}{station_id}")
        self._abort_if_unique_id_configured()
        self._station = {
            "station_id": station_id,
            "vendor": str(discovery_info.get("vendor") or "?"),
            "model": str(discovery_info.get("model") or "?"),
            "serial_number": str(discovery_info.get("serial_number") or "-"),
        }
        self.context["title_placeholders"] = {
            "name": f"{station_id} — {self._station['vendor']} {self._station['model']}"
        }
        return await self.async_step_approve()

    async def async_step_approve(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Let the user add the station: it is then trusted with the credentials it connected with."""
        if user_input is None:
            return self.async_show_form(step_id="approve", description_placeholders=self._station)
        entries: list[OcppCsmsConfigEntry] = self.hass.config_entries.async_loaded_entries(DOMAIN)
        station_id = self._station["station_id"]
        if not entries or station_id not in entries[0].runtime_data.central.stations:
            return self.async_abort(reason="station_gone", description_placeholders=self._station)
        await entries[0].runtime_data.trust.async_approve(station_id)
        return self.async_abort(reason="station_approved", description_placeholders=self._station)


class OcppCsmsOptionsFlow(OptionsFlow):
    """How stations are served: policy, heartbeat, TLS listener."""

    def __init__(self) -> None:
        """Nothing being edited yet."""
        self._editing: str | None = None
        self._upgrade: asyncio.Task[dict[str, Any]] | None = None
        self._upgrade_station = ""

    async def async_step_init(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose what to change."""
        return self.async_show_menu(step_id="init", menu_options=OPTIONS_MENU)

    async def async_step_settings(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Unknown-station and unknown-token policies, heartbeat interval, entity detail, remote-start token."""
        options = self.config_entry.options
        if user_input is not None:
            return self.async_create_entry(
                data={
                    **self.config_entry.options,
                    CONF_UNKNOWN_STATIONS: user_input[CONF_UNKNOWN_STATIONS],
                    CONF_UNKNOWN_TOKENS: user_input[CONF_UNKNOWN_TOKENS],
                    CONF_HEARTBEAT_INTERVAL: int(user_input[CONF_HEARTBEAT_INTERVAL]),
                    CONF_ENTITY_DETAIL: user_input.get(
                        CONF_ENTITY_DETAIL, entity_detail_from(self.config_entry.options).value
                    ),
                    CONF_REMOTE_ID_TOKEN: user_input.get(CONF_REMOTE_ID_TOKEN, "").strip() or DEFAULT_REMOTE_ID_TOKEN,
                    CONF_PROBLEM_SEVERITY: SEVERITY_LEVELS.index(
                        user_input.get(CONF_PROBLEM_SEVERITY, SEVERITY_LEVELS[_problem_severity(options)])
                    ),
                    CONF_LOCAL_AUTH_LIST: user_input.get(CONF_LOCAL_AUTH_LIST, DEFAULT_LOCAL_AUTH_LIST),
                }
            )
        return self.async_show_form(
            step_id="settings",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_UNKNOWN_STATIONS): POLICY_SELECTOR,
                        probatio.Required(CONF_UNKNOWN_TOKENS): TOKEN_POLICY_SELECTOR,
                        probatio.Required(CONF_HEARTBEAT_INTERVAL): HEARTBEAT_SELECTOR,
                        probatio.Optional(CONF_ENTITY_DETAIL): ENTITY_DETAIL_SELECTOR,
                        probatio.Optional(CONF_REMOTE_ID_TOKEN): REMOTE_ID_TOKEN,
                        probatio.Optional(CONF_PROBLEM_SEVERITY): PROBLEM_SEVERITY_SELECTOR,
                        probatio.Optional(CONF_LOCAL_AUTH_LIST): BooleanSelector(),
                    }
                ),
                {
                    CONF_UNKNOWN_STATIONS: options.get(CONF_UNKNOWN_STATIONS, UnknownStationPolicy.APPROVE.value),
                    CONF_UNKNOWN_TOKENS: options.get(CONF_UNKNOWN_TOKENS, UnknownTokenPolicy.REJECT.value),
                    CONF_HEARTBEAT_INTERVAL: options.get(CONF_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_INTERVAL),
                    CONF_ENTITY_DETAIL: entity_detail_from(self.config_entry.options).value,
                    CONF_REMOTE_ID_TOKEN: options.get(CONF_REMOTE_ID_TOKEN, DEFAULT_REMOTE_ID_TOKEN),
                    CONF_PROBLEM_SEVERITY: SEVERITY_LEVELS[_problem_severity(options)],
                    CONF_LOCAL_AUTH_LIST: options.get(CONF_LOCAL_AUTH_LIST, DEFAULT_LOCAL_AUTH_LIST),
                },
            ),
        )

    # ---- the ID tokens: a list editor (add, edit, remove) -------------------------------------------

    async def async_step_id_tokens(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The listed tokens, and what to do with them; each change applies at once."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        tokens = self._entry.runtime_data.authorization.tokens
        lines = [
            f"- `{entry.id_token}` {entry.label} ({entry.effective_status(dt_util.utcnow()).value})".replace("  ", " ")
            for entry in list(tokens)[:LISTED_IN_MENU]
        ]
        if len(tokens) > LISTED_IN_MENU:
            lines.append(f"- … +{len(tokens) - LISTED_IN_MENU}")
        menu = ["id_token_add", "id_token_edit", "id_token_remove"] if len(tokens) else ["id_token_add"]
        return self.async_show_menu(
            step_id="id_tokens",
            menu_options=[*menu, "id_tokens_done"],
            description_placeholders={"count": str(len(tokens)), "tokens": "\n".join(lines) or "-"},
        )

    async def async_step_id_token_add(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """A new token."""
        self._editing = None
        return await self._token_form("id_token_add", user_input, None)

    async def async_step_id_token_edit(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Choose the token to edit."""
        tokens = self._entry.runtime_data.authorization.tokens
        if user_input is not None:
            self._editing = user_input[CONF_ID_TOKEN]
            return await self.async_step_id_token_details()
        return self.async_show_form(
            step_id="id_token_edit",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_ID_TOKEN): SelectSelector(SelectSelectorConfig(options=_token_options(tokens)))}
            ),
        )

    async def async_step_id_token_details(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Edit the chosen token (its token string too)."""
        entry = self._entry.runtime_data.authorization.tokens.get(self._editing or "")
        if entry is None:  # removed meanwhile (by an action)
            return await self.async_step_id_tokens()
        return await self._token_form("id_token_details", user_input, entry)

    async def async_step_id_token_remove(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Remove listed tokens."""
        authorization = self._entry.runtime_data.authorization
        if user_input is not None:
            authorization.remove(user_input.get(CONF_REMOVE_TOKENS, []))
            return await self.async_step_id_tokens()
        return self.async_show_form(
            step_id="id_token_remove",
            data_schema=probatio.Schema(
                {
                    probatio.Optional(CONF_REMOVE_TOKENS): SelectSelector(
                        SelectSelectorConfig(
                            options=_token_options(authorization.tokens), multiple=True, mode=SelectSelectorMode.LIST
                        )
                    )
                }
            ),
        )

    async def async_step_id_tokens_done(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Close the editor (the changes are saved already)."""
        return self.async_create_entry(data=dict(self.config_entry.options))

    @property
    def _entry(self) -> OcppCsmsConfigEntry:
        entry: OcppCsmsConfigEntry = self.config_entry
        return entry

    async def _token_form(
        self, step_id: str, user_input: dict[str, Any] | None, editing: IdTokenEntry | None
    ) -> ConfigFlowResult:
        """The form of a token: new (`editing` None) or an existing one; back to the list once it is saved."""
        authorization = self._entry.runtime_data.authorization
        errors: dict[str, str] = {}
        if user_input is not None:
            entry = _token_entry(user_input)
            existing = authorization.tokens.get(entry.id_token)
            if existing is not None and (editing is None or existing != editing):
                errors[CONF_ID_TOKEN] = "already_listed"
            else:
                try:
                    authorization.add(entry, replacing=editing.id_token if editing else None)
                except ServiceValidationError:
                    errors["base"] = "local_list_too_large"
                else:
                    return await self.async_step_id_tokens()
        evses = self._evse_options(editing)
        schema: dict[Any, Any] = {
            probatio.Required(CONF_ID_TOKEN): probatio.All(
                TextSelector(), probatio.Length(min=1, max=MAX_TOKEN_LENGTH)
            ),
            probatio.Required(CONF_TOKEN_TYPE): TOKEN_TYPE_SELECTOR,
            probatio.Optional(CONF_LABEL): TextSelector(),
            probatio.Required(CONF_STATUS): TOKEN_STATUS_SELECTOR,
            probatio.Optional(CONF_EXPIRES): DateTimeSelector(),
            probatio.Optional(CONF_GROUP_ID): probatio.All(TextSelector(), probatio.Length(max=MAX_TOKEN_LENGTH)),
            probatio.Optional(CONF_LANGUAGE): probatio.All(TextSelector(), probatio.Length(max=MAX_LANGUAGE_LENGTH)),
            probatio.Optional(CONF_PERSONAL_MESSAGE): probatio.All(
                TextSelector(TextSelectorConfig(multiline=True)), probatio.Length(max=MAX_MESSAGE_LENGTH)
            ),
        }
        if evses:
            schema[probatio.Optional(CONF_EVSES)] = SelectSelector(
                SelectSelectorConfig(options=evses, multiple=True, mode=SelectSelectorMode.DROPDOWN)
            )
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(schema), user_input or _token_suggestion(editing)
            ),
            errors=errors,
        )

    def _evse_options(self, editing: IdTokenEntry | None) -> list[SelectOptionDict]:
        """The EVSEs of the trusted stations (and those the token names already), as the token's choices."""
        runtimes = self._entry.runtime_data.runtimes
        known = {(station_id, evse_id) for station_id in runtimes for evse_id in runtimes[station_id].known_evses}
        known |= set(editing.evses if editing else ())
        return [
            SelectOptionDict(value=evse_identifier(station_id, evse_id), label=f"{station_id} EVSE {evse_id}")
            for station_id, evse_id in sorted(known)
        ]

    async def async_step_energy(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The energy manager's site: applied at once, without restarting the central system."""
        return await _async_step_energy(self, user_input)

    async def async_step_tls(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The wss:// listener for security profiles 2 and 3, and its certificates."""
        errors: dict[str, str] = {}
        options = self.config_entry.options
        if user_input is not None:
            tls_port = int(user_input.get(CONF_TLS_PORT, 0))
            mode = user_input.get(CONF_CERTIFICATES, CERTIFICATES_GENERATE)
            if tls_port:
                if tls_port == self.config_entry.data[CONF_PORT]:
                    errors[CONF_TLS_PORT] = "same_port"
                elif tls_port != options.get(CONF_TLS_PORT) and not await self.hass.async_add_executor_job(
                    port_is_free, tls_port
                ):
                    errors[CONF_TLS_PORT] = "port_in_use"
                if mode == CERTIFICATES_FILES:
                    for key in (CONF_CERT_FILE, CONF_KEY_FILE):
                        if not user_input.get(key):
                            errors[key] = "file_required"
                    # The second certificate (the other key type, A00.FR.318) comes with its key, or not at all.
                    second = (CONF_SECOND_CERT_FILE, CONF_SECOND_KEY_FILE)
                    if any(user_input.get(key) for key in second):
                        errors |= {key: "file_required" for key in second if not user_input.get(key)}
                    files = {
                        key: user_input.get(key, "") for key in (CONF_CERT_FILE, CONF_KEY_FILE, CONF_CA_FILE, *second)
                    }
                    errors |= {
                        key: value
                        for key, value in (await self.hass.async_add_executor_job(_files_missing, files)).items()
                        if key not in errors
                    }
                elif not parse_hosts(user_input.get(CONF_TLS_HOSTS, "")):
                    errors[CONF_TLS_HOSTS] = "hosts_required"
            if not errors:
                return self.async_create_entry(
                    data={
                        **options,
                        CONF_TLS_PORT: tls_port,
                        CONF_CERTIFICATES: mode,
                        CONF_TLS_HOSTS: user_input.get(CONF_TLS_HOSTS, ""),
                        CONF_CERT_FILE: user_input.get(CONF_CERT_FILE, ""),
                        CONF_KEY_FILE: user_input.get(CONF_KEY_FILE, ""),
                        CONF_CA_FILE: user_input.get(CONF_CA_FILE, ""),
                        CONF_SECOND_CERT_FILE: user_input.get(CONF_SECOND_CERT_FILE, ""),
                        CONF_SECOND_KEY_FILE: user_input.get(CONF_SECOND_KEY_FILE, ""),
                    }
                )
        suggested = user_input or {
            CONF_TLS_PORT: options.get(CONF_TLS_PORT, DEFAULT_TLS_PORT),
            CONF_CERTIFICATES: options.get(CONF_CERTIFICATES, CERTIFICATES_GENERATE),
            CONF_TLS_HOSTS: options.get(CONF_TLS_HOSTS, "homeassistant.local"),
            CONF_CERT_FILE: options.get(CONF_CERT_FILE, ""),
            CONF_KEY_FILE: options.get(CONF_KEY_FILE, ""),
            CONF_CA_FILE: options.get(CONF_CA_FILE, ""),
            CONF_SECOND_CERT_FILE: options.get(CONF_SECOND_CERT_FILE, ""),
            CONF_SECOND_KEY_FILE: options.get(CONF_SECOND_KEY_FILE, ""),
        }
        return self.async_show_form(
            step_id="tls",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Required(CONF_TLS_PORT): TLS_PORT_SELECTOR,
                        probatio.Required(CONF_CERTIFICATES): CERTIFICATES_SELECTOR,
                        probatio.Optional(CONF_TLS_HOSTS): TextSelector(),
                        probatio.Optional(CONF_CERT_FILE): TextSelector(),
                        probatio.Optional(CONF_KEY_FILE): TextSelector(),
                        probatio.Optional(CONF_CA_FILE): TextSelector(),
                        probatio.Optional(CONF_SECOND_CERT_FILE): TextSelector(),
                        probatio.Optional(CONF_SECOND_KEY_FILE): TextSelector(),
                    }
                ),
                suggested,
            ),
            errors=errors,
        )

    async def async_step_iso15118(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Where contract certificate requests (Get15118EVCertificate) go: the household's cars, a provider's URL.

        The household's cars are written one per line as "PCID eMAID": the home mobility operator issues each
        car a contract for its eMAID; other cars' requests go to the provider, when one is given.
        """
        errors: dict[str, str] = {}
        placeholders = {"line": ""}
        options = self.config_entry.options
        if user_input is not None:
            url = user_input.get(CONF_CONTRACT_PROVIDER_URL, "").strip()
            try:
                contracts = parse_contracts(user_input.get(CONF_HOME_CONTRACTS, ""))
            except ContractLineError as err:
                errors[CONF_HOME_CONTRACTS] = "duplicate_car" if err.duplicate else "invalid_home_contract"
                placeholders["line"] = err.line
            if url and urlparse(url).scheme not in ("http", "https"):
                errors[CONF_CONTRACT_PROVIDER_URL] = "invalid_url"
            if not errors:
                return self.async_create_entry(
                    data={**options, CONF_CONTRACT_PROVIDER_URL: url, CONF_HOME_CONTRACTS: contracts}
                )
        return self.async_show_form(
            step_id="iso15118",
            data_schema=self.add_suggested_values_to_schema(
                probatio.Schema(
                    {
                        probatio.Optional(CONF_HOME_CONTRACTS): TextSelector(TextSelectorConfig(multiline=True)),
                        probatio.Optional(CONF_CONTRACT_PROVIDER_URL): TextSelector(
                            TextSelectorConfig(type=TextSelectorType.URL)
                        ),
                    }
                ),
                user_input
                or {
                    CONF_HOME_CONTRACTS: format_contracts(options.get(CONF_HOME_CONTRACTS, {})),
                    CONF_CONTRACT_PROVIDER_URL: options.get(CONF_CONTRACT_PROVIDER_URL, ""),
                },
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    # ---- a station's security profile upgrade (A05), guided --------------------------------------------

    async def async_step_security_upgrade(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Pick a station and the profile to take it to; the upgrade then runs step by step (progress)."""
        if self.config_entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="not_loaded")
        data = self._entry.runtime_data
        if data.upgrade.tls_url is None:
            return self.async_abort(reason="tls_listener_required")
        stations = [
            record
            for record in data.registry
            if record.security_profile < SecurityProfile.TLS_CLIENT_CERTIFICATE
            and data.context.is_connected(record.station_id)
        ]
        if not stations:
            return self.async_abort(reason="nothing_to_upgrade")
        errors: dict[str, str] = {}
        if user_input is not None:
            station_id = user_input[CONF_STATION]
            profile = int(user_input[CONF_SECURITY_PROFILE])
            record = data.registry.get(station_id)
            if record is None or record.security_profile >= profile:
                errors[CONF_SECURITY_PROFILE] = "profile_not_higher"
            else:
                self._upgrade_station = station_id
                self._upgrade = self.hass.async_create_task(
                    data.upgrade.async_upgrade(station_id, profile), f"{DOMAIN} security upgrade"
                )
                return await self.async_step_security_upgrade_run()
        return self.async_show_form(
            step_id="security_upgrade",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_STATION): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(
                                    value=record.station_id,
                                    label=f"{record.station_id} (profile {int(record.security_profile)})",
                                )
                                for record in stations
                            ],
                            mode=SelectSelectorMode.DROPDOWN,
                        )
                    ),
                    probatio.Required(CONF_SECURITY_PROFILE, default="2"): SECURITY_PROFILE_SELECTOR,
                }
            ),
            description_placeholders={"url": data.upgrade.tls_url},
            errors=errors,
        )

    async def async_step_security_upgrade_run(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """The upgrade runs (install the root, certificates, network profile, reset, reconnect)."""
        assert self._upgrade is not None  # noqa: S101 - only reached from the step that starts it
        if not self._upgrade.done():
            return self.async_show_progress(
                step_id="security_upgrade_run",
                progress_action="upgrading",
                progress_task=self._upgrade,
                description_placeholders={"station": self._upgrade_station},
            )
        return self.async_show_progress_done(next_step_id="security_upgrade_result")

    async def async_step_security_upgrade_result(self, user_input: dict[str, Any] | None = None) -> ConfigFlowResult:
        """Say how it went: the new profile, or the step that failed (rolled back)."""
        assert self._upgrade is not None  # noqa: S101 - only reached when the upgrade ended
        try:
            result = self._upgrade.result()
        except HomeAssistantError as err:
            placeholders = err.translation_placeholders or {}
            return self.async_abort(
                reason="upgrade_failed",
                description_placeholders={
                    "station": self._upgrade_station,
                    "step": placeholders.get("step", "-"),
                    "status": placeholders.get("status", err.translation_key or str(err)),
                },
            )
        return self.async_abort(
            reason="upgraded",
            description_placeholders={
                "station": self._upgrade_station,
                "profile": str(result["security_profile"]),
                "steps": ", ".join(result["steps"]),
            },
        )


def _token_options(tokens: Iterable[IdTokenEntry]) -> list[SelectOptionDict]:
    """The listed tokens as choices."""
    return [SelectOptionDict(value=entry.id_token, label=f"{entry.id_token} {entry.label}".strip()) for entry in tokens]


def _token_entry(user_input: dict[str, Any]) -> IdTokenEntry:
    """The token the form describes."""
    expires = user_input.get(CONF_EXPIRES)
    kind = user_input.get(CONF_TOKEN_TYPE, ANY_TYPE)
    evses: list[tuple[str, int]] = []
    for value in user_input.get(CONF_EVSES, []):
        station_id, _, evse_id = value.rpartition(EVSE_SEPARATOR)
        evses.append((station_id, int(evse_id)))
    return IdTokenEntry(
        id_token=user_input[CONF_ID_TOKEN].strip(),
        type=None if kind == ANY_TYPE else IdTokenEnum(kind),
        label=user_input.get(CONF_LABEL, "").strip(),
        status=AuthorizationStatus(user_input.get(CONF_STATUS, AuthorizationStatus.ACCEPTED)),
        expires_at=dt_util.as_utc(dt_util.parse_datetime(expires, raise_on_error=True)) if expires else None,
        group_id=user_input.get(CONF_GROUP_ID, "").strip() or None,
        language=user_input.get(CONF_LANGUAGE, "").strip() or None,
        personal_message=user_input.get(CONF_PERSONAL_MESSAGE, "").strip() or None,
        evses=tuple(evses),
    )


def _token_suggestion(entry: IdTokenEntry | None) -> dict[str, Any]:
    """The form's values for a token being edited, or the defaults of a new one (an RFID card, accepted)."""
    if entry is None:
        return {CONF_TOKEN_TYPE: IdTokenEnum.ISO14443.value, CONF_STATUS: AuthorizationStatus.ACCEPTED.value}
    suggestion: dict[str, Any] = {
        CONF_ID_TOKEN: entry.id_token,
        CONF_TOKEN_TYPE: entry.type.value if entry.type else ANY_TYPE,
        CONF_LABEL: entry.label,
        CONF_STATUS: entry.status.value,
        CONF_GROUP_ID: entry.group_id or "",
        CONF_LANGUAGE: entry.language or "",
        CONF_PERSONAL_MESSAGE: entry.personal_message or "",
        CONF_EVSES: [evse_identifier(station_id, evse_id) for station_id, evse_id in entry.evses],
    }
    if entry.expires_at is not None:
        suggestion[CONF_EXPIRES] = dt_util.as_local(entry.expires_at).strftime("%Y-%m-%d %H:%M:%S")
    return suggestion


# ---- the energy manager's site ------------------------------------------------------------------------------------


def _sensor_selector(kind: SensorKind) -> EntitySelector:
    """Sensors of the kind's device class, and input numbers (checked in the step: unit, device class)."""
    return EntitySelector(
        EntitySelectorConfig(
            filter=[
                EntityWithDeviceFilterSelectorConfig(domain="sensor", device_class=kind.value),
                EntityWithDeviceFilterSelectorConfig(domain="input_number"),
            ]
        )
    )


def _number_selector(maximum: float, step: float, unit: str) -> NumberSelector:
    return NumberSelector(
        NumberSelectorConfig(min=0, max=maximum, step=step, unit_of_measurement=unit, mode=NumberSelectorMode.BOX)
    )


#: Each sensor field and what it must measure.
ENERGY_SENSORS: dict[str, SensorKind] = {
    GRID_POWER: SensorKind.POWER,
    SOLAR_POWER: SensorKind.POWER,
    BATTERY_POWER: SensorKind.POWER,
    BATTERY_SOC: SensorKind.BATTERY,
    **dict.fromkeys(GRID_CURRENTS, SensorKind.CURRENT),
}
ENERGY_NUMBERS: dict[str, NumberSelector] = {
    BATTERY_PRIORITY_SOC: _number_selector(100, 1, "%"),
    FUSE_CURRENT: _number_selector(1000, 1, "A"),
    MAX_GRID_POWER: _number_selector(1_000_000, 100, "W"),
    MARGIN: _number_selector(100, 0.5, "A"),
    FALLBACK_CURRENT: _number_selector(1000, 1, "A"),
    ENABLE_DELAY: _number_selector(3600, 1, "s"),
    DISABLE_DELAY: _number_selector(3600, 1, "s"),
}
GRID_SIGN_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[IMPORT_POSITIVE, EXPORT_POSITIVE], translation_key="grid_sign", mode=SelectSelectorMode.LIST
    )
)
BATTERY_SIGN_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[DISCHARGE_POSITIVE, CHARGE_POSITIVE], translation_key="battery_sign", mode=SelectSelectorMode.LIST
    )
)
PRICE_UNIT_SELECTOR = SelectSelector(
    SelectSelectorConfig(options=[PER_KWH, PER_MWH], translation_key="price_unit", mode=SelectSelectorMode.LIST)
)
ENERGY_DEFAULTS: dict[str, Any] = {
    PRICE_UNIT: PER_KWH,
    PLAN_BUFFER: int(DEFAULT_BUFFER.total_seconds() // 60),
    GRID_SIGN: IMPORT_POSITIVE,
    BATTERY_SIGN: DISCHARGE_POSITIVE,
    MARGIN: DEFAULT_MARGIN,
    ENABLE_DELAY: DEFAULT_ENABLE_DELAY,
    DISABLE_DELAY: DEFAULT_DISABLE_DELAY,
}


def _energy_schema() -> probatio.Schema:
    fields: dict[Any, Any] = {
        probatio.Optional(GRID_POWER): _sensor_selector(SensorKind.POWER),
        probatio.Required(GRID_SIGN): GRID_SIGN_SELECTOR,
        probatio.Optional(SOLAR_POWER): _sensor_selector(SensorKind.POWER),
        probatio.Optional(BATTERY_POWER): _sensor_selector(SensorKind.POWER),
        probatio.Required(BATTERY_SIGN): BATTERY_SIGN_SELECTOR,
        probatio.Optional(BATTERY_SOC): _sensor_selector(SensorKind.BATTERY),
        probatio.Optional(BATTERY_PRIORITY_SOC): ENERGY_NUMBERS[BATTERY_PRIORITY_SOC],
        probatio.Optional(FUSE_CURRENT): ENERGY_NUMBERS[FUSE_CURRENT],
        **{probatio.Optional(key): _sensor_selector(SensorKind.CURRENT) for key in GRID_CURRENTS},
        probatio.Optional(MAX_GRID_POWER): ENERGY_NUMBERS[MAX_GRID_POWER],
        probatio.Optional(MARGIN): ENERGY_NUMBERS[MARGIN],
        probatio.Optional(FALLBACK_CURRENT): ENERGY_NUMBERS[FALLBACK_CURRENT],
        probatio.Optional(ENABLE_DELAY): ENERGY_NUMBERS[ENABLE_DELAY],
        probatio.Optional(DISABLE_DELAY): ENERGY_NUMBERS[DISABLE_DELAY],
        # departure planning: the price source, feed-in price, solar forecast, buffer before departures
        probatio.Optional(PRICE_ENTITY): EntitySelector(EntitySelectorConfig(domain=["sensor", "input_text"])),
        probatio.Optional(PRICE_ACTION): TextSelector(),
        probatio.Optional(PRICE_ACTION_DATA): ObjectSelector(),
        probatio.Optional(PRICE_UNIT): PRICE_UNIT_SELECTOR,
        probatio.Optional(FEED_IN_PRICE): NumberSelector(
            NumberSelectorConfig(min=-10, max=10, step="any", mode=NumberSelectorMode.BOX)
        ),
        probatio.Optional(SOLAR_FORECAST): EntitySelector(EntitySelectorConfig(domain="sensor")),
        probatio.Optional(PLAN_BUFFER): _number_selector(600, 5, "min"),
    }
    return probatio.Schema(fields)


def price_errors(hass: Any, user_input: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """What is wrong with the price source (field: error key), and what we expected and found (placeholders)."""
    errors: dict[str, str] = {}
    placeholders = {"expected": "", "found": ""}
    if entity := user_input.get(PRICE_ENTITY):
        if (state := hass.states.get(entity)) is None:
            errors[PRICE_ENTITY] = "entity_not_found"
        else:
            try:
                parse_price_attributes(state.attributes, now=dt_util.utcnow(), tz=dt_util.get_default_time_zone())
            except PriceFormatError as err:
                errors[PRICE_ENTITY] = "price_format"
                placeholders = dict(err.placeholders)
    if action := user_input.get(PRICE_ACTION):
        domain, _, name = str(action).partition(".")
        if not hass.services.has_service(domain, name):
            errors[PRICE_ACTION] = "price_action_unknown"
    if entity := user_input.get(SOLAR_FORECAST):
        if (state := hass.states.get(entity)) is None:
            errors[SOLAR_FORECAST] = "entity_not_found"
        else:
            try:
                parse_solar_forecast(state.attributes)
            except PriceFormatError as err:
                errors[SOLAR_FORECAST] = "solar_format"
                placeholders = dict(err.placeholders)
    return errors, placeholders


def energy_errors(hass: Any, user_input: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with the site's options (field: error key); empty when they can be used."""
    errors: dict[str, str] = {}
    for key, kind in ENERGY_SENSORS.items():
        if (entity := user_input.get(key)) and (problem := sensor_problem(hass.states.get(entity), kind)):
            errors[key] = problem
    currents = [bool(user_input.get(key)) for key in GRID_CURRENTS]
    if any(currents) and not all(currents):
        errors["base"] = "phase_sensors_incomplete"
    if user_input.get(FUSE_CURRENT) and not all(currents) and not user_input.get(GRID_POWER):
        errors[FUSE_CURRENT] = "fuse_needs_sensors"
    if user_input.get(MAX_GRID_POWER) and not user_input.get(GRID_POWER):
        errors[MAX_GRID_POWER] = "grid_power_required"
    if user_input.get(BATTERY_PRIORITY_SOC) and not user_input.get(BATTERY_SOC):
        errors[BATTERY_SOC] = "battery_soc_required"
    fallback = user_input.get(FALLBACK_CURRENT)
    if fallback is not None and 0 < fallback < DEFAULT_MIN_CURRENT:
        errors[FALLBACK_CURRENT] = "fallback_below_minimum"
    return errors


async def _async_step_energy(flow: OcppCsmsOptionsFlow, user_input: dict[str, Any] | None) -> ConfigFlowResult:
    """The site: its sensors (sign conventions, units read from them), the main fuse or grid power limit."""
    options = flow.config_entry.options
    errors: dict[str, str] = {}
    placeholders = {"expected": "", "found": ""}
    if user_input is not None:
        errors = energy_errors(flow.hass, user_input)
        price_problems, placeholders = price_errors(flow.hass, user_input)
        errors |= price_problems
        if not errors:
            site = {key: value for key, value in user_input.items() if value not in (None, "")}
            return flow.async_create_entry(data={**options, CONF_ENERGY: site})
    suggested = user_input or {**ENERGY_DEFAULTS, **options.get(CONF_ENERGY, {})}
    return flow.async_show_form(
        step_id="energy",
        data_schema=flow.add_suggested_values_to_schema(_energy_schema(), suggested),
        errors=errors,
        description_placeholders=placeholders,
    )
