"""The stations' local authorization lists end to end (D01, D02, C13): full, differential, oversize, mismatch, restart.

The station is the `ocpp` package's ChargePoint with a local list (`AuthStation`), and the project's simulator for
what a list is for: cards that keep working while the station is offline, and blocked cards that stay blocked.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms import async_remove_config_entry_device
from custom_components.ocpp_csms.const import CONF_LOCAL_AUTH_LIST, CONF_PORT, DOMAIN, ID_TOKENS_STORAGE_KEY
from custom_components.ocpp_csms.local_auth_list import LOCAL_LISTS_STORAGE_KEY, too_large_issue_id

from .auth_station import AuthStation, auth_inventory, ready, wait_until
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import station_connection
from .test_authorization import add, card, wait_for_online
from .test_control_surface import device_id
from .test_simulator import fast_config, simulated

SENSOR = "sensor.cp_1_local_list_version"


def connect(entry: MockConfigEntry) -> Any:
    return station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation)


def stored_tokens(*tokens: str) -> dict[str, Any]:
    entries = [{"id_token": token, "label": "", "status": "Accepted", "type": "ISO14443"} for token in tokens]
    return {"version": 2, "key": ID_TOKENS_STORAGE_KEY, "data": {"entries": entries}}


async def in_step(hass: HomeAssistant, entry: MockConfigEntry, version: int, station_id: str = "CP-1") -> None:
    """Home Assistant has seen the station accept the list of this version."""

    def done() -> bool:
        state = entry.runtime_data.local_lists.state(station_id)
        return state is not None and state.version == version and state.status.value == "in_sync"

    await wait_until(done)
    await hass.async_block_till_done()


def summary(requests: list[dict[str, Any]]) -> list[tuple[int, str, list[tuple[str, str | None]]]]:
    """(version, type, [(token, status or None for a removal)]) of each SendLocalList."""
    return [
        (
            request["version_number"],
            request["update_type"],
            [
                (entry["id_token"]["id_token"], (entry.get("id_token_info") or {}).get("status"))
                for entry in request["entries"]
            ],
        )
        for request in requests
    ]


async def test_d01_full_list_at_first_then_differentials_split_to_items_per_message(
    hass: HomeAssistant,
    setup_integration: SetupIntegration,
    hass_storage: dict[str, Any],
    hass_client: ClientSessionGenerator,
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA", "BEN", "CARL", "DORA", "EVE")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station, auth_inventory(items_per_message=2))
        await in_step(hass, entry, 3)
        assert summary(await station.all_received("SendLocalList")) == [
            (1, "Full", [("ANNA", "Accepted"), ("BEN", "Accepted")]),  # D01.FR.11: 2 per message
            (2, "Differential", [("CARL", "Accepted"), ("DORA", "Accepted")]),
            (3, "Differential", [("EVE", "Accepted")]),
        ]
        state = hass.states.get(SENSOR)
        assert state is not None
        assert (state.state, state.attributes["status"], state.attributes["entries"]) == ("3", "in_sync", 5)
        assert state.attributes["last_sync"]

        # A card blocked in Home Assistant is blocked at the station with the next update; a removed one leaves.
        await hass.services.async_call(
            DOMAIN, "update_id_token", {"id_token": "BEN", "status": "Blocked"}, blocking=True
        )
        await wait_until(lambda: station.local_list_version == 4)
        await hass.services.async_call(DOMAIN, "remove_id_token", {"id_token": "EVE"}, blocking=True)
        await in_step(hass, entry, 5)
        assert summary(await station.all_received("SendLocalList")) == [
            (4, "Differential", [("BEN", "Blocked")]),
            (5, "Differential", [("EVE", None)]),  # D01.FR.17
        ]
        assert sorted(station.local_list) == ["ANNA", "BEN", "CARL", "DORA"]

        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    local_list = diagnostics["stations"]["CP-1"]["local_auth_list"]
    assert (local_list["version"], local_list["status"], local_list["entries"]) == (5, "in_sync", 4)
    assert local_list["last_sync"]
    assert diagnostics["id_tokens"] == {"Accepted": 3, "Blocked": 1}
    assert "ANNA" not in str(diagnostics)

    # A forgotten station's list is forgotten with it (and a station never synchronised has none to forget).
    devices = dr.async_get(hass)
    for station_id in ("CP-1", "CP-9"):
        device = devices.async_get_or_create(config_entry_id=entry.entry_id, identifiers={(DOMAIN, station_id)})
        assert await async_remove_config_entry_device(hass, entry, device)
    await hass.async_block_till_done()
    assert entry.runtime_data.local_lists.state("CP-1") is None
    await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[LOCAL_LISTS_STORAGE_KEY]["data"]["stations"] == {}


async def test_d01_fr_03_refused_updates_are_followed_by_the_full_list(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA", "BEN")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        await wait_until(lambda: station.local_list_version == 1)
        await station.all_received("SendLocalList")

        station.send_local_list_answers.append("VersionMismatch")
        await add(hass, "CARL")
        await wait_until(lambda: station.local_list_version == 3)
        assert summary(await station.all_received("SendLocalList")) == [
            (2, "Differential", [("CARL", "Accepted")]),  # refused: VersionMismatch
            (3, "Full", [("ANNA", "Accepted"), ("BEN", "Accepted"), ("CARL", "Accepted")]),
        ]

        station.send_local_list_answers.extend(["Failed", "Failed"])
        await add(hass, "DORA")
        await wait_until(lambda: len(station.send_local_list_answers) == 0)
        await hass.async_block_till_done()
        await wait_until(lambda: entry.runtime_data.local_lists.state("CP-1").status.value == "failed")  # type: ignore[union-attr]
        assert [r["update_type"] for r in await station.all_received("SendLocalList")] == ["Differential", "Full"]
        assert hass.states.get(SENSOR).attributes["status"] == "failed"  # type: ignore[union-attr]

        # On demand: the version (D02), then the Full list again, since the last one failed.
        answer = await hass.services.async_call(
            DOMAIN,
            "sync_local_list",
            {"device_id": device_id(hass, entry, "CP-1")},
            blocking=True,
            return_response=True,
        )
        assert answer is not None
        assert (answer["version"], answer["status"], answer["entries"]) == (4, "in_sync", 4)
        assert [r["update_type"] for r in await station.all_received("SendLocalList")] == ["Full"]
        assert len(await station.all_received("GetLocalListVersion")) >= 1

        station.send_local_list_answers.extend(["Failed"])
        with pytest.raises(HomeAssistantError) as failed:
            await hass.services.async_call(
                DOMAIN, "sync_local_list", {"device_id": device_id(hass, entry, "CP-1"), "full": True}, blocking=True
            )
        assert failed.value.translation_placeholders == {
            "station": "CP-1",
            "command": "SendLocalList",
            "status": "Failed",
        }


async def test_d01_a_list_longer_than_the_station_holds_is_refused_not_truncated(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA", "BEN", "CARL")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    issues = ir.async_get(hass)
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station, auth_inventory(max_entries=2))
        await wait_until(lambda: issues.async_get_issue(DOMAIN, too_large_issue_id("CP-1")) is not None)
        issue = issues.async_get_issue(DOMAIN, too_large_issue_id("CP-1"))
        assert issue is not None
        assert issue.translation_placeholders == {"station": "CP-1", "entries": "3", "limit": "2"}
        assert await station.all_received("SendLocalList") == []  # nothing partial
        await hass.async_block_till_done()
        assert hass.states.get(SENSOR).attributes["status"] == "too_large"  # type: ignore[union-attr]
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "sync_local_list", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
            )
        assert refused.value.translation_key == "local_list_too_large"

        # A token more is refused at once, and nothing changes; one fewer and the list goes out.
        with pytest.raises(ServiceValidationError) as too_many:
            await add(hass, "DORA")
        assert too_many.value.translation_placeholders == {"station": "CP-1", "entries": "4", "limit": "2"}
        assert "DORA" not in entry.runtime_data.authorization.tokens
        await hass.services.async_call(DOMAIN, "remove_id_token", {"id_token": "CARL"}, blocking=True)
        await wait_until(lambda: station.local_list_version == 1)
        assert sorted(station.local_list) == ["ANNA", "BEN"]
        await hass.async_block_till_done()
        assert issues.async_get_issue(DOMAIN, too_large_issue_id("CP-1")) is None


async def test_d02_version_after_reconnects_and_lists_survive_a_restart(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA", "BEN")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        await in_step(hass, entry, 1)
        held = dict(station.local_list)

    # Home Assistant restarts (the entry reloads): what the station holds is kept.
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert hass_storage[LOCAL_LISTS_STORAGE_KEY]["data"]["stations"]["CP-1"]["version"] == 1
    async with connect(entry) as peer:
        station = peer  # type: ignore[assignment]
        station.local_list_version, station.local_list = 1, held  # the station kept its list (D01.FR.10)
        await ready(hass, entry, station)
        await station.next_received("GetLocalListVersion")  # D02 after the reconnection
        await hass.async_block_till_done()
        assert await station.all_received("SendLocalList") == []  # in step: nothing to send
        await add(hass, "CARL")
        await in_step(hass, entry, 2)
        assert summary(await station.all_received("SendLocalList")) == [(2, "Differential", [("CARL", "Accepted")])]

    # A station that lost its list (a factory reset) reports version 0: it gets the Full list again.
    async with connect(entry) as peer:
        station = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        await wait_until(lambda: station.local_list_version == 3)
        assert summary(await station.all_received("SendLocalList"))[0][:2] == (3, "Full")


async def test_the_option_off_empties_a_list_sent_before(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        await in_step(hass, entry, 1)
        held = dict(station.local_list)
    hass.config_entries.async_update_entry(entry, options={**entry.options, CONF_LOCAL_AUTH_LIST: False})
    await hass.async_block_till_done()
    async with connect(entry) as peer:
        station = peer  # type: ignore[assignment]
        station.local_list_version, station.local_list = 1, held
        station.send_local_list_answers.append("Failed")  # the first time: tried again (at the boot, or now)
        await ready(hass, entry, station)
        await hass.services.async_call(
            DOMAIN, "sync_local_list", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
        )
        assert entry.runtime_data.local_lists.state("CP-1").entries == {}  # type: ignore[union-attr]
        assert summary(await station.all_received("SendLocalList")) == [(2, "Full", [])] * 2  # D01.FR.04
        await add(hass, "BEN")  # no list, so no capacity to check and nothing sent
        await hass.async_block_till_done()
        assert await station.all_received("SendLocalList") == []
        assert hass.states.get(SENSOR).attributes["status"] == "disabled"  # type: ignore[union-attr]


async def test_a_station_without_a_local_list_gets_none(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = stored_tokens("ANNA")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with connect(entry) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station, auth_inventory(local_list=False, max_entries=0))
        await hass.async_block_till_done()
        await add(hass, "BEN")  # its list holds none, but it has no list: no capacity to check
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "sync_local_list", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
            )
        assert refused.value.translation_key == "local_list_not_supported"
        assert await station.all_received("SendLocalList") == []
        assert hass.states.get(SENSOR).attributes["status"] == "not_supported"  # type: ignore[union-attr]
    await wait_until(lambda: not entry.runtime_data.context.is_connected("CP-1"))
    with pytest.raises(HomeAssistantError) as away:
        await hass.services.async_call(
            DOMAIN, "sync_local_list", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
        )
    assert away.value.translation_key == "station_not_connected"


async def test_c13_cards_keep_working_offline_and_blocked_cards_stay_blocked(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    await add(hass, "ANNA")
    await add(hass, "LOST", status="Blocked")
    config = fast_config(
        ws_url(entry), evses=2, backoff_min=0.2, variables={"AuthCtrlr.OfflineTxForUnknownIdEnabled": "false"}
    )
    async with simulated(config) as station:
        await wait_for_online(station)
        await wait_until(lambda: station.local_list_version >= 1)
        listener = entry.runtime_data.listeners[0]
        await listener.stop()  # the network is down
        await wait_until(lambda: not station.online.is_set())
        assert await station.present_token(station.evses[2], card("LOST")) == "refused"  # blocked at the station too
        assert await station.present_token(station.evses[2], card("STRANGER")) == "refused"  # C13.FR.02
        assert await station.present_token(station.evses[1], card("ANNA")) == "started"  # C13: from its list
        await wait_until(lambda: station.evses[1].tx is not None)
        await listener.start(entry.data[CONF_PORT])
        await wait_for_online(station)
        await wait_until(lambda: not station._tx_queue)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.sim_001_evse_1_charging_state").state != "idle"  # type: ignore[union-attr]
