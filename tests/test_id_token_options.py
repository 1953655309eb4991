"""The ID tokens in the options flow: a list editor (add, edit, remove), and the local list option."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.ocpp_csms.const import CONF_LOCAL_AUTH_LIST, DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.protocol.v201.enums import AuthorizationStatus, IdTokenEnum
from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry

from .auth_station import AuthStation, auth_inventory, ready
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import station_connection

EVSE_1 = evse_identifier("CP-1", 1)
EVSE_2 = evse_identifier("CP-1", 2)


class Editor:
    """The options flow, driven like a user would."""

    def __init__(self, hass: HomeAssistant, entry: MockConfigEntry) -> None:
        """No flow yet."""
        self.hass, self.entry = hass, entry
        self.flow_id = ""

    async def open(self) -> dict[str, Any]:
        """Configure → ID tokens."""
        result = await self.hass.config_entries.options.async_init(self.entry.entry_id)
        self.flow_id = result["flow_id"]
        return await self.menu("id_tokens")

    async def menu(self, choice: str) -> dict[str, Any]:
        """Choose in a menu."""
        return dict(await self.hass.config_entries.options.async_configure(self.flow_id, {"next_step_id": choice}))

    async def submit(self, user_input: dict[str, Any]) -> dict[str, Any]:
        """Submit a form."""
        return dict(await self.hass.config_entries.options.async_configure(self.flow_id, user_input))


def suggested(result: dict[str, Any]) -> dict[str, Any]:
    """The values a form shows filled in."""
    return {
        str(key): (key.description or {}).get("suggested_value")
        for key in result["data_schema"].schema
        if (key.description or {}).get("suggested_value") is not None
    }


def tokens(entry: MockConfigEntry) -> list[IdTokenEntry]:
    return list(entry.runtime_data.authorization.tokens)


async def test_add_edit_and_remove_tokens(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        await ready(hass, entry, peer, auth_inventory(max_entries=2))
        editor = Editor(hass, entry)
        result = await editor.open()
        assert (result["type"], result["menu_options"]) == (FlowResultType.MENU, ["id_token_add", "id_tokens_done"])
        assert result["description_placeholders"] == {"count": "0", "tokens": "-"}

        # A new token: an RFID card, accepted, unless the user says otherwise.
        form = await editor.menu("id_token_add")
        assert suggested(form) == {"type": "ISO14443", "status": "Accepted"}
        assert [option["value"] for option in form["data_schema"].schema["evses"].config["options"]] == [EVSE_1, EVSE_2]
        result = await editor.submit(
            {
                "id_token": " 04A1B2C3 ",
                "type": "ISO14443",
                "label": "Anna",
                "status": "Accepted",
                "expires": "2030-01-01 12:00:00",
                "group_id": "FAMILY",
                "language": "de-DE",
                "personal_message": "Hallo Anna",
                "evses": [EVSE_1],
            }
        )
        assert result["menu_options"] == ["id_token_add", "id_token_edit", "id_token_remove", "id_tokens_done"]
        assert result["description_placeholders"]["tokens"] == "- `04A1B2C3` Anna (Accepted)"
        expires = dt_util.as_utc(datetime(2030, 1, 1, 12, 0, tzinfo=dt_util.get_default_time_zone()))
        assert tokens(entry) == [
            IdTokenEntry(
                "04A1B2C3",
                IdTokenEnum.ISO14443,
                "Anna",
                expires_at=expires,
                group_id="FAMILY",
                language="de-DE",
                personal_message="Hallo Anna",
                evses=(("CP-1", 1),),
            )
        ]

        # The same token again is refused; one of any type is fine; a third does not fit the station's list.
        await editor.menu("id_token_add")
        result = await editor.submit({"id_token": "04a1b2c3", "type": "ISO14443", "status": "Accepted"})
        assert result["errors"] == {"id_token": "already_listed"}
        result = await editor.submit({"id_token": "1234", "type": "any", "status": "Blocked"})
        assert result["type"] is FlowResultType.MENU
        assert tokens(entry)[1] == IdTokenEntry("1234", None, "", status=AuthorizationStatus.BLOCKED)
        await editor.menu("id_token_add")
        result = await editor.submit({"id_token": "THIRD", "type": "KeyCode", "status": "Accepted"})
        assert result["errors"] == {"base": "local_list_too_large"}
        assert len(tokens(entry)) == 2
        await editor.open()  # the user closes that form and opens the editor again

        # Edit: the form shows the token as it is; it may be renamed, its fields changed or cleared.
        form = await editor.menu("id_token_edit")
        form = await editor.submit({"id_token": "04A1B2C3"})
        assert form["step_id"] == "id_token_details"
        shown = suggested(form)
        assert (shown["id_token"], shown["type"], shown["group_id"], shown["evses"]) == (
            "04A1B2C3",
            "ISO14443",
            "FAMILY",
            [EVSE_1],
        )
        assert shown["expires"] == dt_util.as_local(expires).strftime("%Y-%m-%d %H:%M:%S")
        result = await editor.submit({"id_token": "1234", "type": "ISO14443", "status": "Accepted"})
        assert result["errors"] == {"id_token": "already_listed"}  # renamed onto another listed token
        result = await editor.submit({"id_token": "ANNA-NEW", "type": "eMAID", "label": "Anna", "status": "Blocked"})
        assert result["type"] is FlowResultType.MENU
        assert tokens(entry)[0] == IdTokenEntry(
            "ANNA-NEW", IdTokenEnum.E_MAID, "Anna", status=AuthorizationStatus.BLOCKED
        )
        await editor.menu("id_token_edit")
        await editor.submit({"id_token": "1234"})
        result = await editor.submit({"id_token": "1234", "type": "any", "label": "PIN", "status": "Blocked"})
        assert (result["type"], tokens(entry)[1].label) == (FlowResultType.MENU, "PIN")  # its own token: kept

        # A token removed meanwhile (by an action) cannot be edited: back to the list.
        form = await editor.menu("id_token_edit")
        form = await editor.submit({"id_token": "1234"})
        await hass.services.async_call(DOMAIN, "remove_id_token", {"id_token": "1234"}, blocking=True)
        result = await editor.submit({"id_token": "1234", "type": "any", "status": "Accepted"})
        assert (result["type"], result["step_id"]) == (FlowResultType.MENU, "id_tokens")
        assert [entry.id_token for entry in tokens(entry)] == ["ANNA-NEW"]

        # Remove, then close the editor: the options stay as they were (no reload).
        await editor.menu("id_token_remove")
        result = await editor.submit({"remove_id_tokens": ["ANNA-NEW"]})
        assert result["description_placeholders"]["count"] == "0"
        result = await editor.menu("id_tokens_done")
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert tokens(entry) == []


async def test_many_tokens_are_counted_and_an_unloaded_entry_aborts(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration()
    for number in range(23):
        await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": f"CARD-{number:02}"}, blocking=True)
    editor = Editor(hass, entry)
    result = await editor.open()
    lines = result["description_placeholders"]["tokens"].splitlines()
    assert (len(lines), lines[0], lines[-1]) == (21, "- `CARD-00` (Accepted)", "- … +3")
    form = await editor.menu("id_token_add")
    assert "evses" not in form["data_schema"].schema  # no EVSE known yet: no choice to make
    await hass.config_entries.async_unload(entry.entry_id)
    editor = Editor(hass, entry)
    result = await editor.open()
    assert (result["type"], result["reason"]) == (FlowResultType.ABORT, "not_loaded")


async def test_the_local_list_option(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration()
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"next_step_id": "settings"})
    assert suggested(dict(result))[CONF_LOCAL_AUTH_LIST] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "unknown_stations": "approve",
            "unknown_tokens": "reject",
            "heartbeat_interval": 300,
            CONF_LOCAL_AUTH_LIST: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options[CONF_LOCAL_AUTH_LIST] is False
    assert entry.runtime_data.local_lists.enabled is False
