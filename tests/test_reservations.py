"""Reservations end to end (H01-H04): accepted, refused, expired, removed, cancelled, used by the right token only.

The station side is the project's simulator, which keeps its reservations as the specification says; the `ocpp`
package's ChargePoint (`AuthStation`) stands in where the central system's answers are what is tested.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from ocpp.exceptions import GenericError
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import get_diagnostics_for_config_entry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.ocpp_csms.const import CONF_LOCAL_AUTH_LIST, DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier

from .auth_station import AuthStation, auth_inventory, ready, wait_until
from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, ws_url
from .station_peer import StationPeer, station_connection
from .test_authorization import add, card, wait_for_online
from .test_control_surface import device_id
from .test_simulator import fast_config, sent, simulated
from .test_transactions import START, event, send

NO_LIST = {CONF_LOCAL_AUTH_LIST: False}


async def reserve(hass: HomeAssistant, device: str, token: str, **fields: Any) -> dict[str, Any]:
    answer = await hass.services.async_call(
        DOMAIN, "reserve", {"device_id": device, "id_token": token, **fields}, blocking=True, return_response=True
    )
    assert answer is not None
    return dict(answer)


def state(hass: HomeAssistant, entity_id: str) -> tuple[str, dict[str, Any]]:
    found = hass.states.get(entity_id)
    assert found is not None, entity_id
    return found.state, dict(found.attributes)


def ended(hass: HomeAssistant, station: str = "sim_001") -> tuple[str, int]:
    """The last *Reservation ended* event: how, and which reservation."""
    _, attributes = state(hass, f"event.{station}_reservation_ended")
    return attributes["event_type"], attributes["reservation_id"]


async def test_h01_to_h04_at_the_simulated_station(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")], options=NO_LIST)
    await add(hass, "ANNA", group_id="FAMILY")
    await add(hass, "BEN")
    async with simulated(fast_config(ws_url(entry), evses=2)) as station:
        await wait_for_online(station)
        await wait_until(lambda: entry.runtime_data.runtimes["sim-001"].has_inventory)
        await hass.async_block_till_done()
        evse_1 = device_id(hass, entry, evse_identifier("sim-001", 1))
        evse_2 = device_id(hass, entry, evse_identifier("sim-001", 2))

        # Accepted (H01 S2): the EVSE's sensor shows who it is for and until when; the connector is Reserved.
        first = await reserve(hass, evse_1, "ANNA", duration={"minutes": 30})
        assert first["reservation_id"] == 1
        assert station.stats.received["ReserveNow"] == 1
        await wait_until(lambda: station.evses[1].reservation is not None)
        reservation = station.evses[1].reservation
        assert reservation is not None
        assert (reservation.id, reservation.id_token, reservation.group_id_token) == (
            1,
            card("ANNA"),
            {"id_token": "FAMILY", "type": "Central"},  # the listed token's group (H03.FR.04)
        )
        await wait_until(lambda: hass.states.get("sensor.sim_001_evse_1_connector_status").state == "reserved")  # type: ignore[union-attr]
        value, attributes = state(hass, "sensor.sim_001_evse_1_reservation")
        assert (value, attributes["reservation_id"], attributes["id_token"], attributes["group_id"]) == (
            "reserved",
            1,
            "ANNA",
            "FAMILY",
        )

        # Refused to another token (H03), used by its own (H01.FR.15, H03.FR.09).
        assert await station.present_token(station.evses[1], card("BEN")) == "refused"
        assert state(hass, "sensor.sim_001_evse_1_reservation")[0] == "reserved"
        assert await station.present_token(station.evses[1], card("ANNA")) == "started"
        await wait_until(lambda: state(hass, "sensor.sim_001_evse_1_reservation")[0] == "none")
        assert ended(hass) == ("used", 1)
        await wait_until(lambda: any(tx["event_type"] == "Started" for tx in transaction_events(station)))
        started = next(tx for tx in transaction_events(station) if tx["event_type"] == "Started")
        assert started["reservation_id"] == 1

        # Refused by the station: its EVSE is occupied now (H01.FR.11).
        with pytest.raises(HomeAssistantError) as occupied:
            await reserve(hass, evse_1, "BEN")
        assert occupied.value.translation_placeholders == {
            "station": "sim-001",
            "command": "ReserveNow",
            "status": "Occupied",
        }

        # Cancelled (H02), by the device it reserves.
        second = await reserve(hass, evse_2, "BEN")
        answer = await hass.services.async_call(
            DOMAIN, "cancel_reservation", {"device_id": evse_2}, blocking=True, return_response=True
        )
        assert answer == {"reservation_id": second["reservation_id"]}
        assert station.evses[2].reservation is None
        await hass.async_block_till_done()
        assert ended(hass) == ("cancelled", second["reservation_id"])

        # Removed by the station when the EVSE becomes unavailable (H01.FR.17).
        third = await reserve(hass, evse_2, "BEN")
        await hass.services.async_call(
            DOMAIN, "change_availability", {"device_id": evse_2, "operative": False}, blocking=True
        )
        await wait_until(lambda: ended(hass) == ("removed", third["reservation_id"]))
        await hass.services.async_call(
            DOMAIN, "change_availability", {"device_id": evse_2, "operative": True}, blocking=True
        )

        # Expired (H04): the station reports it, Home Assistant's sensor follows.
        soon = datetime.now(UTC) + timedelta(seconds=1)
        fourth = await reserve(hass, evse_2, "BEN", expires=soon.isoformat())
        await wait_until(lambda: ended(hass) == ("expired", fourth["reservation_id"]))
        assert state(hass, "sensor.sim_001_evse_2_reservation")[0] == "none"

        # Any EVSE of a connector type (H01 S3): shown on the station; a type it does not have is refused.
        station_device = device_id(hass, entry, "sim-001")
        fifth = await reserve(hass, station_device, "BEN", connector_type="cType2")
        value, attributes = state(hass, "sensor.sim_001_reservation")
        assert (value, attributes["reservation_id"], attributes["connector_type"]) == (
            "reserved",
            fifth["reservation_id"],
            "cType2",
        )
        with pytest.raises(HomeAssistantError) as refused:
            await reserve(hass, station_device, "BEN", connector_type="cCCS2")
        assert refused.value.translation_placeholders["status"] == "Rejected"  # type: ignore[index]


def transaction_events(station: Any) -> list[dict[str, Any]]:
    return [vars(payload) for payload in sent(station, "TransactionEvent")]


async def connected(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    peer_class: type[StationPeer] = AuthStation,
    station_id: str = "CP-1",
    **inventory: Any,
) -> Any:
    context = station_connection(ws_url(entry), station_id, password=STATION_PASSWORD, peer_class=peer_class)
    station = await context.__aenter__()
    await ready(hass, entry, station, auth_inventory(**inventory))
    return context, station


async def test_h04_the_station_reports_expired_and_removed(
    hass: HomeAssistant, setup_integration: SetupIntegration, hass_client: ClientSessionGenerator
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options=NO_LIST)
    context, station = await connected(hass, entry)
    try:
        evse_1 = device_id(hass, entry, evse_identifier("CP-1", 1))
        made = await reserve(hass, evse_1, "WHO", token_type="KeyCode", group_id="G", duration={"hours": 1})
        _, request = await station.next_received("ReserveNow")
        assert (request["id"], request["evse_id"], request["id_token"], request["group_id_token"]) == (
            made["reservation_id"],
            1,
            {"id_token": "WHO", "type": "KeyCode"},
            {"id_token": "G", "type": "Central"},
        )
        diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
        (kept,) = diagnostics["stations"]["CP-1"]["reservations"]
        assert (kept["reservation_id"], kept["id_token"], kept["group_id"]) == (1, "**REDACTED**", "**REDACTED**")

        await station.call(call.ReservationStatusUpdate(reservation_id=1, reservation_update_status="Expired"))
        await hass.async_block_till_done()
        assert ended(hass, "cp_1") == ("expired", 1)
        assert state(hass, "sensor.cp_1_evse_1_reservation")[0] == "none"
        await station.call(call.ReservationStatusUpdate(reservation_id=1, reservation_update_status="Removed"))
        await hass.async_block_till_done()
        assert ended(hass, "cp_1") == ("expired", 1)  # an update of a reservation that is over changes nothing

        await reserve(hass, evse_1, "WHO")
        await station.call(call.ReservationStatusUpdate(reservation_id=2, reservation_update_status="Removed"))
        await hass.async_block_till_done()
        assert ended(hass, "cp_1") == ("removed", 2)

        # A transaction that uses it ends it too (H01.FR.15).
        await reserve(hass, evse_1, "WHO")
        started = event("T-1", 0, "Started", START, 0, 0)
        started["reservation_id"] = 3
        await send(station, started)
        await hass.async_block_till_done()
        assert ended(hass, "cp_1") == ("used", 3)

        # The station reports it removed while Home Assistant cancels it: it ends once.
        await reserve(hass, evse_1, "WHO")
        station.removed_before_cancel = True
        await hass.services.async_call(DOMAIN, "cancel_reservation", {"device_id": evse_1}, blocking=True)
        assert ended(hass, "cp_1") == ("removed", 4)
        station.removed_before_cancel = False

        # A CALLERROR other than NotImplemented is the station's error; the reservation is not made.
        station.reserve_now_error = GenericError
        with pytest.raises(HomeAssistantError) as generic:
            await reserve(hass, evse_1, "WHO")
        assert (generic.value.translation_key, generic.value.translation_placeholders["code"]) == (  # type: ignore[index]
            "station_error",
            "GenericError",
        )
        station.reserve_now_error = None
        assert entry.runtime_data.reservations.at("CP-1", 1) is None

        # A transaction naming a reservation Home Assistant does not know changes nothing.
        other = event("T-2", 0, "Started", START, 0, 0)
        other |= {"reservation_id": 999, "evse": {"id": 2, "connector_id": 1}}
        await send(station, other)

        # H02.FR.01: a reservation the station does not know (any more) is over too.
        await reserve(hass, evse_1, "WHO")
        station.cancel_reservation_status = "Rejected"
        with pytest.raises(HomeAssistantError):
            await hass.services.async_call(DOMAIN, "cancel_reservation", {"reservation_id": 6}, blocking=True)
        assert ended(hass, "cp_1") == ("removed", 6)
        with pytest.raises(ServiceValidationError) as unknown:
            await hass.services.async_call(DOMAIN, "cancel_reservation", {"reservation_id": 6}, blocking=True)
        assert unknown.value.translation_key == "unknown_reservation"
        with pytest.raises(ServiceValidationError) as none:
            await hass.services.async_call(DOMAIN, "cancel_reservation", {"device_id": evse_1}, blocking=True)
        assert none.value.translation_key == "no_reservation"
        with pytest.raises(ServiceValidationError) as nothing:
            await hass.services.async_call(DOMAIN, "cancel_reservation", {}, blocking=True)
        assert nothing.value.translation_key == "reservation_required"
    finally:
        await context.__aexit__(None, None, None)


async def test_what_the_user_gets_wrong_and_stations_without_reservations(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1"), trusted_station("CP-2")], options=NO_LIST)
    context, station = await connected(hass, entry, reservations=False)
    try:
        evse_1 = device_id(hass, entry, evse_identifier("CP-1", 1))
        with pytest.raises(HomeAssistantError) as unsupported:
            await reserve(hass, evse_1, "ANNA")
        assert unsupported.value.translation_key == "reservations_not_supported"  # no ReservationCtrlr: not asked
        assert await station.all_received("ReserveNow") == []
        with pytest.raises(ServiceValidationError) as past:
            await reserve(hass, evse_1, "ANNA", expires="2020-01-01 10:00:00")  # in Home Assistant's time zone
        assert past.value.translation_key == "reservation_in_the_past"
        with pytest.raises(ServiceValidationError) as on_evse:
            await reserve(hass, evse_1, "ANNA", connector_type="cType2")
        assert on_evse.value.translation_key == "connector_type_on_station_only"
    finally:
        await context.__aexit__(None, None, None)
    await wait_until(lambda: not entry.runtime_data.context.is_connected("CP-1"))

    # Reservations turned off at the station: the user is told to turn them on first.
    context, station = await connected(hass, entry, station_id="CP-2", reservations_enabled=False)
    try:
        with pytest.raises(HomeAssistantError) as disabled:
            await reserve(hass, device_id(hass, entry, "CP-2"), "ANNA")
        assert disabled.value.translation_key == "reservations_disabled"
        assert await station.all_received("ReserveNow") == []
    finally:
        await context.__aexit__(None, None, None)


async def test_a_station_that_does_not_implement_reserve_now_gets_a_translated_error(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options=NO_LIST)
    context, _ = await connected(hass, entry, peer_class=StationPeer)  # no ReserveNow handler: NotImplemented
    try:
        with pytest.raises(HomeAssistantError) as unsupported:
            await reserve(hass, device_id(hass, entry, evse_identifier("CP-1", 1)), "ANNA")
        assert unsupported.value.translation_key == "reservations_not_supported"  # at once, not a timeout
    finally:
        await context.__aexit__(None, None, None)


async def test_reservations_survive_a_restart_and_expire_while_the_station_is_away(
    hass: HomeAssistant, setup_integration: SetupIntegration, freezer: FrozenDateTimeFactory
) -> None:
    freezer.move_to(START)
    entry = await setup_integration(stations=[trusted_station("CP-1")], options=NO_LIST)
    context, _ = await connected(hass, entry)
    try:
        await reserve(hass, device_id(hass, entry, evse_identifier("CP-1", 2)), "ANNA", duration={"minutes": 10})
        await reserve(hass, device_id(hass, entry, "CP-1"), "BEN", duration={"minutes": 20})
    finally:
        await context.__aexit__(None, None, None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "sensor.cp_1_evse_2_reservation")[0] == "reserved"  # known while the station is away
    assert state(hass, "sensor.cp_1_reservation")[0] == "reserved"
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, "sensor.cp_1_evse_2_reservation")[0] == "none"
    assert ended(hass, "cp_1") == ("expired", 1)
    freezer.tick(timedelta(minutes=10))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, "sensor.cp_1_reservation")[0] == "none"
    assert ended(hass, "cp_1") == ("expired", 2)
    assert len(entry.runtime_data.reservations.book) == 0


async def test_a_station_whose_device_model_is_unknown_is_asked(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options=NO_LIST)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AuthStation) as peer:
        station: AuthStation = peer  # type: ignore[assignment]
        await station.boot()  # no inventory: GetBaseReport is answered NotSupported
        await station.call(
            call.StatusNotification(
                timestamp="2026-11-21T10:00:00Z", connector_status="Available", evse_id=1, connector_id=1
            )
        )
        await hass.async_block_till_done()
        made = await reserve(hass, device_id(hass, entry, evse_identifier("CP-1", 1)), "ANNA")
        _, request = await station.next_received("ReserveNow")
        assert request["id"] == made["reservation_id"]
