"""ID tokens end to end (C01, C09, C11, C16, E05): statuses, expiry, groups, EVSEs and the master pass at a station.

The station is the `ocpp` package's ChargePoint (`AuthStation`), or the project's simulator where the station's
own behaviour is what is tested (stopping a refused transaction, a master pass or a group member stopping one).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.ocpp_csms.const import CONF_LOCAL_AUTH_LIST, DOMAIN, ID_TOKENS_STORAGE_KEY
from custom_components.ocpp_csms.devices import evse_identifier

from .auth_station import AuthStation, auth_inventory, ready, wait_until
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import station_connection
from .test_control_surface import device_id
from .test_simulator import fast_config, sent, simulated
from .test_transactions import START, event, send

CARD = "ISO14443"


def card(token: str) -> dict[str, str]:
    return {"id_token": token, "type": CARD}


async def add(hass: HomeAssistant, token: str, **fields: Any) -> None:
    await hass.services.async_call(DOMAIN, "add_id_token", {"id_token": token, "type": CARD, **fields}, blocking=True)


async def authorize(station: AuthStation, token: str) -> dict[str, Any]:
    response = await station.call(call.Authorize(id_token=card(token)))
    info: dict[str, Any] = response.id_token_info
    return info


async def transaction(station: AuthStation, transaction_id: str, token: str, *, evse_id: int = 1) -> dict[str, Any]:
    started = event(transaction_id, 0, "Started", START, 0, 0)
    started["id_token"] = card(token)
    started["evse"] = {"id": evse_id, "connector_id": 1}
    info: dict[str, Any] = (await send(station, started)).id_token_info
    return info


async def test_every_token_status_through_authorize_and_transaction_event(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    await add(
        hass,
        "ANNA",
        group_id="FAMILY",
        language="de-DE",
        personal_message="Hallo Anna",
        expires=expires.isoformat(),
        label="Anna",
    )
    await add(hass, "LOST", status="Blocked")
    await add(hass, "OLD", status="Expired")
    await add(hass, "BROKEN", status="Invalid")
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        for number, (token, status) in enumerate(
            [("ANNA", "Accepted"), ("LOST", "Blocked"), ("OLD", "Expired"), ("BROKEN", "Invalid"), ("WHO", "Unknown")]
        ):
            assert (await authorize(station, token))["status"] == status, token  # C01.FR.07
            assert (await transaction(station, f"T-{number}", token))["status"] == status, token  # E05.FR.01
        anna = await authorize(station, "ANNA")
        assert anna == {
            "status": "Accepted",
            "cache_expiry_date_time": expires.isoformat().replace("+00:00", "Z"),
            "group_id_token": {"id_token": "FAMILY", "type": "Central"},  # C01.FR.06
            "language1": "de-DE",
            "personal_message": {"format": "UTF8", "content": "Hallo Anna", "language": "de-DE"},
        }
        lost = await transaction(station, "T-9", "LOST")
        assert lost == {"status": "Blocked"}  # no cache expiry for a refused token
    listed = await hass.services.async_call(DOMAIN, "list_id_tokens", blocking=True, return_response=True)
    assert [(item["id_token"], item["status_now"]) for item in listed["id_tokens"]] == [  # type: ignore[index, union-attr]
        ("ANNA", "Accepted"),
        ("LOST", "Blocked"),
        ("OLD", "Expired"),
        ("BROKEN", "Invalid"),
    ]


async def test_a_token_is_expired_after_its_time_without_an_edit(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    await add(hass, "LEASE", expires=(START + timedelta(hours=1)).isoformat())
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        await wait_until(lambda: station.local_list_version == 1)
        assert station.local_list["LEASE"]["status"] == "Accepted"
        assert (await authorize(station, "LEASE"))["status"] == "Accepted"
        freezer.tick(timedelta(hours=1, seconds=1))
        async_fire_time_changed(hass)
        await wait_until(lambda: station.local_list_version == 2)  # the lists learn it at that moment (Differential)
        assert station.local_list["LEASE"] == {"status": "Expired"}
        assert (await authorize(station, "LEASE"))["status"] == "Expired"
        assert (await transaction(station, "T-1", "LEASE"))["status"] == "Expired"


async def test_c16_master_pass_stops_any_transaction_and_starts_none(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options={CONF_LOCAL_AUTH_LIST: False})
    await add(hass, "ANNA")
    await add(hass, "POLICE", group_id="master")
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station, auth_inventory(master_pass_group="MASTER"))
        info = await authorize(station, "POLICE")  # the station learns it is a master pass
        assert (info["status"], info["group_id_token"]["id_token"]) == ("Accepted", "master")
        assert (await transaction(station, "T-1", "POLICE"))["status"] == "Invalid"  # C16.FR.03
        assert (await transaction(station, "T-2", "ANNA", evse_id=2))["status"] == "Accepted"
        ended = event("T-2", 1, "Ended", START + timedelta(minutes=5), 100, 0)
        ended |= {"id_token": card("POLICE"), "trigger_reason": "StopAuthorized", "evse": {"id": 2, "connector_id": 1}}
        ended["transaction_info"]["stopped_reason"] = "MasterPass"
        assert (await send(station, ended)).id_token_info["status"] == "Accepted"
        await hass.async_block_till_done()
        assert hass.states.get("sensor.cp_1_evse_2_last_stop_reason").state == "MasterPass"  # type: ignore[union-attr]


async def test_c09_group_tokens_and_c01_evses_a_token_may_use(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options={CONF_LOCAL_AUTH_LIST: False})
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        evse_1 = device_id(hass, entry, evse_identifier("CP-1", 1))
        await add(hass, "ANNA", group_id="FAMILY")
        await add(hass, "BEN", group_id="family", evses=[evse_1])
        for token in ("ANNA", "BEN"):  # C09.FR.02: one group identifier for both
            assert (await authorize(station, token))["group_id_token"]["id_token"].casefold() == "family"
        assert (await authorize(station, "BEN"))["evse_id"] == [1]  # C01.FR.20
        assert (await transaction(station, "T-1", "BEN", evse_id=2))["status"] == "NotAtThisLocation"
        assert (await transaction(station, "T-2", "BEN", evse_id=1))["status"] == "Accepted"
        with pytest.raises(ServiceValidationError) as refused:
            await add(hass, "CARL", evses=[device_id(hass, entry, "CP-1")])
        assert refused.value.translation_key == "evse_required"

        # Blocking a card changes only its status; clearing a field with None.
        await hass.services.async_call(
            DOMAIN, "update_id_token", {"id_token": "ben", "status": "Blocked", "evses": None or []}, blocking=True
        )
        assert (await authorize(station, "BEN"))["status"] == "Blocked"
        await hass.services.async_call(
            DOMAIN, "update_id_token", {"id_token": "BEN", "status": "Accepted", "group_id": None}, blocking=True
        )
        info = await authorize(station, "BEN")
        assert (info["status"], "group_id_token" in info, "evse_id" in info) == ("Accepted", False, False)
        for action in ("update_id_token", "remove_id_token"):
            with pytest.raises(ServiceValidationError) as unknown:
                await hass.services.async_call(DOMAIN, action, {"id_token": "NOBODY"}, blocking=True)
            assert unknown.value.translation_key == "unknown_id_token"


async def test_c11_clear_cache_button_and_action(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        button = "button.cp_1_clear_authorization_cache"
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: button}, blocking=True)
        await station.next_received("ClearCache")
        station.clear_cache_status = "Rejected"  # C11.FR.04: its cache is off
        with pytest.raises(HomeAssistantError) as refused:
            await hass.services.async_call(
                DOMAIN, "clear_cache", {"device_id": device_id(hass, entry, "CP-1")}, blocking=True
            )
        assert (refused.value.translation_key, refused.value.translation_placeholders) == (
            "command_refused",
            {"station": "CP-1", "command": "ClearCache", "status": "Rejected"},
        )


async def test_stored_tokens_of_version_1_load(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_storage: dict[str, Any]
) -> None:
    hass_storage[ID_TOKENS_STORAGE_KEY] = {
        "version": 1,
        "key": ID_TOKENS_STORAGE_KEY,
        "data": {"unknown_policy": "reject", "entries": [{"id_token": "CARD-1", "label": "Anna", "type": CARD}]},
    }
    entry = await setup_integration()
    entry_data = entry.runtime_data.authorization.tokens.get("CARD-1")
    assert entry_data is not None
    assert (entry_data.label, entry_data.status.value) == ("Anna", "Accepted")
    await hass.config_entries.async_unload(entry.entry_id)
    assert hass_storage[ID_TOKENS_STORAGE_KEY]["version"] == 2
    assert hass_storage[ID_TOKENS_STORAGE_KEY]["data"]["entries"][0]["status"] == "Accepted"


# ---- the station's side, in the simulator (E05, C09, C16) --------------------------------------------------


async def test_e05_a_token_refused_during_a_transaction_is_stopped_by_the_station(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")], options={CONF_LOCAL_AUTH_LIST: False})
    await add(hass, "ANNA")
    config = fast_config(ws_url(entry), variables={"AuthCtrlr.LocalPreAuthorize": "true"})
    async with simulated(config) as station:
        await wait_for_online(station)
        evse = station.evses[1]
        assert (await station.authorize_info(card("ANNA")))["status"] == "Accepted"  # now in its cache (C10)
        # Blocked in Home Assistant: the station starts on its cache (C12), then learns it from TransactionEvent.
        await hass.services.async_call(
            DOMAIN, "update_id_token", {"id_token": "ANNA", "status": "Blocked"}, blocking=True
        )
        assert await station.present_token(evse, card("ANNA")) == "started"
        await wait_until(lambda: any(tx.get("trigger_reason") == "Deauthorized" for tx in sent_events(station)))
        ended = next(tx for tx in sent_events(station) if tx.get("event_type") == "Ended")
        assert ended["transaction_info"]["stopped_reason"] == "DeAuthorized"  # E05.FR.10 (TxStopPoint Authorized)
        await hass.async_block_till_done()
        assert hass.states.get("sensor.sim_001_evse_1_last_stop_reason").state == "DeAuthorized"  # type: ignore[union-attr]


async def test_c09_and_c16_at_the_station_group_members_and_the_master_pass_stop(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")], options={CONF_LOCAL_AUTH_LIST: False})
    await add(hass, "ANNA", group_id="FAMILY")
    await add(hass, "BEN", group_id="FAMILY")
    await add(hass, "CARL")
    await add(hass, "POLICE", group_id="MASTER")
    config = fast_config(ws_url(entry), evses=2, variables={"AuthCtrlr.MasterPassGroupId": "MASTER"})
    async with simulated(config) as station:
        await wait_for_online(station)
        first, second = station.evses[1], station.evses[2]
        assert await station.present_token(first, card("POLICE")) == "master_pass"  # nothing to stop, none started
        assert first.tx is None
        assert await station.present_token(first, card("ANNA")) == "started"
        await wait_until(lambda: first.tx is not None)
        assert await station.present_token(first, card("CARL")) == "refused"  # C01.FR.23: not of her group
        assert await station.present_token(first, card("BEN")) == "stopped"  # C09.FR.03
        await wait_until(lambda: first.session is None)
        assert await station.present_token(first, card("ANNA")) == "started"
        assert await station.present_token(second, card("CARL")) == "started"
        await wait_until(lambda: first.tx is not None and second.tx is not None)
        assert await station.present_token(second, card("POLICE")) == "master_pass"  # C16.FR.02: every one
        await wait_until(lambda: len([tx for tx in sent_events(station) if tx.get("event_type") == "Ended"]) == 3)
        reasons = [
            tx["transaction_info"].get("stopped_reason") for tx in sent_events(station) if tx["event_type"] == "Ended"
        ]
        assert reasons == ["Local", "MasterPass", "MasterPass"]


def sent_events(station: Any) -> list[dict[str, Any]]:
    return [
        vars(payload) if not isinstance(payload, dict) else payload for payload in sent(station, "TransactionEvent")
    ]


async def wait_for_online(station: Any) -> None:
    await wait_until(station.online.is_set)


async def test_f01_a_remote_start_token_is_accepted_for_its_own_transaction_only(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = await setup_integration(stations=[trusted_station("CP-1")], options={CONF_LOCAL_AUTH_LIST: False})
    remote = {"id_token": "HomeAssistant", "type": "Central"}

    async def present(transaction_id: str, event_type: str, seq_no: int, token: dict[str, str]) -> str:
        payload = event(transaction_id, seq_no, event_type, START, 0, 0)
        payload["id_token"] = token
        status: str = (await send(station, payload)).id_token_info["status"]
        return status

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await ready(hass, entry, station)
        evse = device_id(hass, entry, evse_identifier("CP-1", 1))
        await hass.services.async_call(DOMAIN, "start_charging", {"device_id": evse}, blocking=True)
        assert await present("T-1", "Started", 0, remote) == "Accepted"  # its transaction: bound to it
        assert await present("T-1", "Updated", 1, remote) == "Accepted"
        assert (await authorize(station, "HomeAssistant"))["status"] == "Unknown"  # another type: not that token
        assert await present("T-1", "Ended", 2, remote) == "Accepted"
        assert await present("T-2", "Started", 0, remote) == "Unknown"  # its transaction is over
        await hass.services.async_call(DOMAIN, "start_charging", {"device_id": evse}, blocking=True)
        freezer.tick(timedelta(minutes=11))  # no transaction came for it
        assert await present("T-3", "Started", 0, remote) == "Unknown"
