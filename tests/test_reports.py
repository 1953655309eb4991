"""Device model reports asked for by a person: the `get_report` action (B07, B08), the *Refresh inventory* button.

`get_report` waits for every NotifyReport part and returns the report's variables; a full inventory replaces the
station's inventory (new variables become entities, removed ones unavailable), other reports update the variables
they hold. The button asks for the full inventory again, in the station's turn.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er
from ocpp.v201 import call
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from websockets.exceptions import ConnectionClosed

from custom_components.ocpp_csms import inventory as inventory_reader
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.devices import evse_identifier
from custom_components.ocpp_csms.protocol.v201.messages import NotifyReportRequest

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory, report_data
from .station_peer import StationPeer, station_connection
from .test_actions import sent_actions
from .test_control_surface import device_id, ready_station

REFRESH = "button.cp_1_refresh_inventory"
HEARTBEAT = "CP-1_var_ocppcommctrlr/heartbeatinterval"


async def get_report(hass: HomeAssistant, entry: MockConfigEntry, **fields: Any) -> dict[str, Any]:
    """Run `get_report` on CP-1's device; the response."""
    response = await hass.services.async_call(
        DOMAIN,
        "get_report",
        {"device_id": device_id(hass, entry, "CP-1"), **fields},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    return dict(response)


def entity_of(hass: HomeAssistant, domain: str, unique_id: str) -> str | None:
    return er.async_get(hass).async_get_entity_id(domain, DOMAIN, unique_id)


def where(entry: dict[str, Any]) -> tuple[Any, ...]:
    """Component, EVSE and variable of a report entry."""
    return entry["component"], entry.get("evse_id"), entry["variable"]


async def test_a_full_inventory_is_returned_and_becomes_the_inventory(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """Every part assembled, in the readable shape; a variable the station dropped leaves, a new one arrives."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.report_part_size = 25
        await ready_station(hass, entry, station)
        heartbeat = entity_of(hass, "number", HEARTBEAT)
        assert heartbeat is not None
        station.load_inventory(
            [
                *(item for item in inventory() if item["variable"]["name"] != "HeartbeatInterval"),
                report_data("VendorCtrlr", "FanSpeed", "1200", data_type="integer", unit="rpm"),
            ]
        )
        sent_actions(station)
        response = await get_report(hass, entry)
        assert sent_actions(station)[0] == "GetBaseReport"
        assert (response["status"], response["complete"]) == ("Accepted", True)
        report = response["report"]
        assert len(report) == len(inventory())
        assert report[-1] == {
            "component": "VendorCtrlr",
            "variable": "FanSpeed",
            "attributes": [{"type": "Actual", "mutability": "ReadOnly", "value": "1200"}],
            "characteristics": {"data_type": "integer", "unit": "rpm"},
        }
        evse_power = next(item for item in report if where(item) == ("EVSE", 1, "Power"))
        assert {"type": "MaxSet", "value": "22000", "mutability": "ReadWrite"} in evse_power["attributes"]
        assert not any(item["variable"] == "BasicAuthPassword" and "value" in item["attributes"][0] for item in report)

        await hass.async_block_till_done()
        assert hass.states.get(heartbeat).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
        fan = entity_of(hass, "sensor", "CP-1_var_vendorctrlr/fanspeed")
        assert fan is not None  # a new variable: a new entity (disabled by default, as uncurated ones are)


async def test_configuration_and_summary_reports_update_the_variables_they_hold(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        heartbeat = entity_of(hass, "number", HEARTBEAT)
        assert heartbeat is not None
        changed = []
        for item in inventory():
            if item["variable"]["name"] == "HeartbeatInterval":
                item["variableAttribute"][0]["value"] = "120"
            changed.append(item)
        station.load_inventory(changed)

        response = await get_report(hass, entry, report_base="ConfigurationInventory")
        _, request = await station.next_received("GetBaseReport")
        assert request["report_base"] == "ConfigurationInventory"
        assert response["complete"]
        writable = station.base_report("ConfigurationInventory")
        assert len(response["report"]) == len(writable) < len(inventory())
        assert all(item["attributes"][0]["mutability"] != "ReadOnly" for item in response["report"])
        await hass.async_block_till_done()
        assert hass.states.get(heartbeat).state == "120"  # type: ignore[union-attr]
        model = entry.runtime_data.runtimes["CP-1"].device_model
        assert len(model) == len(inventory())  # merged: the other variables stay

        response = await get_report(hass, entry, report_base="SummaryInventory")
        assert {item["variable"] for item in response["report"]} == {"AvailabilityState", "Problem"}


async def test_a_report_by_component_variables_and_criteria(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """B08: GetReport with component variables (16 per request, the station's ItemsPerMessage) and criteria."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        sent_actions(station)
        response = await get_report(
            hass,
            entry,
            component_variables=[{"component": "EVSE", "evse_id": 1}, {"component": "Connector", "evse_id": 2}],
        )
        _, request = await station.next_received("GetReport")
        assert request["component_variable"] == [
            {"component": {"name": "EVSE", "evse": {"id": 1}}},
            {"component": {"name": "Connector", "evse": {"id": 2}}},
        ]
        assert "component_criteria" not in request
        assert response["status"] == "Accepted"
        assert {(item["component"], item["evse_id"]) for item in response["report"]} == {("EVSE", 1), ("Connector", 2)}

        # A variable of a component, by instance and connector.
        response = await get_report(
            hass,
            entry,
            component_variables=[
                {"component": "Connector", "evse_id": 1, "connector_id": 1, "variable": "ConnectorType"}
            ],
        )
        assert [where(item) for item in response["report"]] == [("Connector", 1, "ConnectorType")]

        # The enabled components.
        sent_actions(station)
        response = await get_report(hass, entry, component_criteria=["Enabled"])
        _, request = await station.next_received("GetReport")
        assert request["component_criteria"] == ["Enabled"]
        components = {item["component"] for item in response["report"]}
        assert {"SmartChargingCtrlr", "AuthCtrlr"} <= components
        assert "TariffCostCtrlr" not in components  # its Enabled is false

        # 17 component variables: two requests, one report.
        wanted = [item for item in inventory() if item["component"]["name"] == "OCPPCommCtrlr"][:17]
        assert len(wanted) == 17
        sent_actions(station)
        response = await get_report(
            hass,
            entry,
            component_variables=[
                {"component": "OCPPCommCtrlr", "variable": item["variable"]["name"]}
                | ({"variable_instance": item["variable"]["instance"]} if "instance" in item["variable"] else {})
                for item in wanted
            ],
        )
        sizes = []
        while not station.received.empty():
            action, request = station.received.get_nowait()
            if action == "GetReport":
                sizes.append(len(request["component_variable"]))
        assert sizes == [16, 1]
        assert response["complete"]
        assert len(response["report"]) == 17

        # Nothing matches: EmptyResultSet, no report.
        response = await get_report(hass, entry, component_variables=[{"component": "NoSuchCtrlr"}])
        assert response == {"status": "EmptyResultSet", "complete": True, "report": []}


async def test_get_report_refusals(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """A base with criteria is the user's mistake; a station without the report refuses (NotSupported)."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.next_received("GetBaseReport")  # NotSupported: the peer has no inventory
        with pytest.raises(ServiceValidationError) as err:
            await get_report(hass, entry, report_base="FullInventory", component_criteria=["Active"])
        assert err.value.translation_key == "report_base_or_criteria"
        with pytest.raises(HomeAssistantError) as failed:
            await get_report(hass, entry, report_base="SummaryInventory")
        assert failed.value.translation_key == "command_refused"
        assert failed.value.translation_placeholders == {
            "station": "CP-1",
            "command": "GetBaseReport",
            "status": "NotSupported",
        }
        assert not entry.runtime_data.central.station("CP-1").awaited.take(NotifyReportRequest)  # none awaited


class HalfReporter(StationPeer):
    """Sends the first part of every report only, announcing more."""

    async def send_report(self, request_id: int, data: list[dict[str, Any]]) -> None:
        """The first `report_part_size` items, tbc."""
        if (task := asyncio.current_task()) is not None:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        with contextlib.suppress(ConnectionClosed):
            await self.call(
                call.NotifyReport(
                    request_id=request_id,
                    generated_at="2026-11-21T10:00:00Z",
                    seq_no=0,
                    report_data=data[: self.report_part_size],
                    tbc=True,
                )
            )


async def test_a_report_that_stays_incomplete_returns_what_came(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After REPORT_TIMEOUT the parts that came are returned, marked incomplete; the inventory stays as it was."""
    monkeypatch.setattr(inventory_reader, "REPORT_TIMEOUT", 0.3)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=HalfReporter) as station:
        await station.boot()
        await station.next_received("GetBaseReport")
        station.load_inventory(inventory())
        response = await get_report(hass, entry)
        assert (response["status"], response["complete"]) == ("Accepted", False)
        assert len(response["report"]) == station.report_part_size
        assert not entry.runtime_data.runtimes["CP-1"].has_inventory
        station.report_part_size = 3
        response = await get_report(hass, entry, component_criteria=["Available"])
        assert (response["status"], response["complete"]) == ("Accepted", False)
        assert [item["component"] for item in response["report"]] == ["ChargingStation"] * 3


async def test_a_station_that_leaves_during_a_report_says_so(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=HalfReporter) as station:
        await station.boot()
        await station.next_received("GetBaseReport")
        station.load_inventory(inventory())
        task = asyncio.ensure_future(get_report(hass, entry, component_criteria=["Enabled"]))
        await station.next_received("GetReport")
        await station._connection.close()
        with pytest.raises(HomeAssistantError) as err:
            await task
    assert err.value.translation_key == "station_not_connected"


async def test_the_refresh_button_asks_for_the_inventory_again(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """New variables become entities, removed ones unavailable; a station that is away cannot be asked."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    runtime = entry.runtime_data.runtimes["CP-1"]
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await ready_station(hass, entry, station)
        registry_entry = er.async_get(hass).async_get(REFRESH)
        assert registry_entry is not None
        assert (registry_entry.translation_key, registry_entry.entity_category) == ("refresh_inventory", "config")
        heartbeat = entity_of(hass, "number", HEARTBEAT)
        assert heartbeat is not None
        station.load_inventory(
            [
                *(item for item in inventory() if item["variable"]["name"] != "HeartbeatInterval"),
                report_data("EVSE", "Power", "11000", data_type="decimal", unit="W", evse=3),
            ]
        )
        sent_actions(station)
        await hass.services.async_call("button", "press", {ATTR_ENTITY_ID: REFRESH}, blocking=True)
        _, request = await station.next_received("GetBaseReport")
        assert request["report_base"] == "FullInventory"
        await wait_for(lambda: runtime.device_model.find("EVSE", "Power", evse_id=3) is not None)
        await hass.async_block_till_done()
        assert runtime.device_model.find("OCPPCommCtrlr", "HeartbeatInterval") is None
        assert hass.states.get(heartbeat).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
        assert device_id(hass, entry, evse_identifier("CP-1", 3))  # the new EVSE has its device
        assert entity_of(hass, "sensor", "CP-1_var_evse#3/power") is not None
    await hass.async_block_till_done()
    assert hass.states.get(REFRESH).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    with pytest.raises(HomeAssistantError) as err:
        await entry.runtime_data.inventory.async_refresh("CP-1")
    assert err.value.translation_key == "station_not_connected"
