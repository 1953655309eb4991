"""The station's device model as entities: inventory over several NotifyReport parts, writes, values, restart."""

from __future__ import annotations

import asyncio
from collections import Counter
import json
from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.setup import async_setup_component
from ocpp.routing import after, on
from ocpp.v201 import call
from ocpp.v201.enums import Action
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from syrupy.assertion import SnapshotAssertion

from custom_components.ocpp_csms import inventory as inventory_reader
from custom_components.ocpp_csms.const import DOMAIN
from custom_components.ocpp_csms.variable_sync import reboot_issue_id

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .station.inventory import inventory
from .station_peer import StationPeer, station_connection


async def boot_with_inventory(hass: HomeAssistant, entry: MockConfigEntry, station: StationPeer) -> None:
    """Boot; the integration asks for the inventory, which arrives in parts and becomes entities."""
    station.load_inventory(inventory())
    await station.boot()
    _, request = await station.next_received("GetBaseReport")
    assert request["report_base"] == "FullInventory"
    await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
    await hass.async_block_till_done()


def registry_summary(hass: HomeAssistant, entry: MockConfigEntry) -> list[dict[str, Any]]:
    """The entities of the entry, as a snapshot-able table sorted by unique id."""
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    return [
        {
            "unique_id": entity.unique_id,
            "entity_id": entity.entity_id,
            "translation_key": entity.translation_key,
            "original_name": entity.original_name,
            "entity_category": entity.entity_category,
            "disabled_by": entity.disabled_by,
            "device_class": entity.original_device_class,
            "unit": entity.unit_of_measurement,
        }
        for entity in sorted(entities, key=lambda entity: (entity.unique_id, entity.entity_id))
    ]


async def test_inventory_becomes_entities(
    hass: HomeAssistant, setup_integration: SetupIntegration, snapshot: SnapshotAssertion
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.report_part_size = 25  # 181 variables: 8 parts
        await boot_with_inventory(hass, entry, station)
        model = entry.runtime_data.runtimes["CP-1"].device_model
        assert len(model) == len(inventory()) >= 150
        summary = registry_summary(hass, entry)
        platforms = Counter(row["entity_id"].split(".")[0] for row in summary)
        assert platforms.keys() >= {"sensor", "number", "switch", "select", "text", "binary_sensor"}
        assert summary == snapshot
        # Write-only variables (the password) get no entity.
        assert not [row for row in summary if "basicauthpassword" in row["unique_id"]]
        # Curated variables are enabled and named; the rest are disabled by default.
        heartbeat = next(row for row in summary if row["unique_id"] == "CP-1_var_ocppcommctrlr/heartbeatinterval")
        assert (heartbeat["translation_key"], heartbeat["disabled_by"]) == ("heartbeat_interval", None)
        state = hass.states.get(heartbeat["entity_id"])
        assert state is not None
        assert state.state == station.variables["OCPPCommCtrlr", "HeartbeatInterval"]


async def test_writes_go_out_as_set_variables(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    registry = er.async_get(hass)

    def entity_id(slug: str) -> str:
        found = registry.async_get_entity_id(slug.split(":", maxsplit=1)[0], DOMAIN, f"CP-1_var_{slug.split(':')[1]}")
        assert found is not None, slug
        return found

    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
        heartbeat = entity_id("number:ocppcommctrlr/heartbeatinterval")
        await hass.services.async_call("number", "set_value", {ATTR_ENTITY_ID: heartbeat, "value": 120}, blocking=True)
        _, request = await station.next_received("SetVariables")
        [item] = request["set_variable_data"]
        assert (item["component"]["name"], item["variable"]["name"], item["attribute_value"]) == (
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            "120",
        )
        await hass.async_block_till_done()
        assert hass.states.get(heartbeat).state == "120"  # type: ignore[union-attr]

        # Writes made in the same turn share one SetVariables request.
        switch = entity_id("switch:authctrlr/authorizeremotestart")
        text = entity_id("text:txctrlr/txstoppoint")
        await asyncio.gather(
            hass.services.async_call("switch", "turn_off", {ATTR_ENTITY_ID: switch}, blocking=True),
            hass.services.async_call(
                "text", "set_value", {ATTR_ENTITY_ID: text, "value": "EV connected, power path closed"}, blocking=True
            ),
        )
        _, request = await station.next_received("SetVariables")
        assert {item["variable"]["name"]: item["attribute_value"] for item in request["set_variable_data"]} == {
            "AuthorizeRemoteStart": "false",
            "TxStopPoint": "EVConnected,PowerPathClosed",  # members written by name go out as OCPP values
        }
        await hass.async_block_till_done()
        assert hass.states.get(switch).state == "off"  # type: ignore[union-attr]
        assert hass.states.get(text).state == "EV connected, Power path closed"  # type: ignore[union-attr]

        # An empty list is never written back (charger-quirks.md: `valuesList` absent, TxUpdatedMeasurands).
        with pytest.raises(ServiceValidationError) as empty:
            await hass.services.async_call("text", "set_value", {ATTR_ENTITY_ID: text, "value": " , "}, blocking=True)
        assert empty.value.translation_key == "empty_list"
        assert station.received.empty()
        assert hass.states.get(text).state == "EV connected, Power path closed"  # type: ignore[union-attr]

        # A rejected write names the status and leaves the value.
        station.set_variables_status = "Rejected"
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                "number", "set_value", {ATTR_ENTITY_ID: heartbeat, "value": 60}, blocking=True
            )
        assert err.value.translation_key == "variable_rejected"
        assert err.value.translation_placeholders is not None
        assert err.value.translation_placeholders["status"] == "Rejected"
        assert hass.states.get(heartbeat).state == "120"  # type: ignore[union-attr]

        # RebootRequired opens a repair that offers a reset.
        station.set_variables_status = "RebootRequired"
        await hass.services.async_call("number", "set_value", {ATTR_ENTITY_ID: heartbeat, "value": 90}, blocking=True)
        issue = ir.async_get(hass).async_get_issue(DOMAIN, reboot_issue_id("CP-1"))
        assert issue is not None
        assert issue.is_fixable
        assert await async_setup_component(hass, "repairs", {})
        manager = repairs_flow_manager(hass)
        assert manager is not None
        flow = await manager.async_init(DOMAIN, data={"issue_id": reboot_issue_id("CP-1")})
        assert flow["step_id"] == "confirm"
        assert flow["description_placeholders"]["variable"] == "OCPPCommCtrlr.HeartbeatInterval"
        result = await manager.async_configure(flow["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        _, request = await station.next_received("Reset")
        assert request["type"] == "OnIdle"


async def test_select_entities_once_enabled(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    registry = er.async_get(hass)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
    select = registry.async_get_entity_id("select", DOMAIN, "CP-1_var_authcachectrlr/policy")
    assert select is not None
    registry.async_update_entity(select, disabled_by=None)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(inventory())
        await station.boot()
        await wait_for(lambda: hass.states.get(select).state == "LRU")  # type: ignore[union-attr]
        assert hass.states.get(select).attributes["options"] == ["LRU", "LFU", "FIFO", "CUSTOM"]  # type: ignore[union-attr]
        await hass.services.async_call(
            "select", "select_option", {ATTR_ENTITY_ID: select, "option": "FIFO"}, blocking=True
        )
        _, request = await station.next_received("SetVariables")
        assert request["set_variable_data"][0]["attribute_value"] == "FIFO"
        await hass.async_block_till_done()
        assert hass.states.get(select).state == "FIFO"  # type: ignore[union-attr]


async def test_entities_exist_after_restart_before_reconnection(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
        before = {row["unique_id"] for row in registry_summary(hass, entry)}
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    after = registry_summary(hass, entry)
    assert {row["unique_id"] for row in after} == before
    heartbeat = next(row for row in after if row["unique_id"] == "CP-1_var_ocppcommctrlr/heartbeatinterval")
    assert hass.states.get(heartbeat["entity_id"]).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    # On reconnection the inventory is not read again (same firmware); values are refreshed in batches.
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(inventory())
        station.variables["OCPPCommCtrlr", "HeartbeatInterval"] = "600"
        await station.boot()
        _, request = await station.next_received("GetVariables")
        assert len(request["get_variable_data"]) >= 2
        await wait_for(lambda: hass.states.get(heartbeat["entity_id"]).state == "600")  # type: ignore[union-attr]
        assert station.received.empty() or all(
            action != "GetBaseReport" for action, _ in [station.received.get_nowait()]
        )


class ReportingStation(StationPeer):
    """Has its inventory from the start (it answers the GetBaseReport that follows its boot)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Load the test inventory."""
        super().__init__(*args, **kwargs)
        self.load_inventory(inventory())


class SilentStation(ReportingStation):
    """Accepts GetBaseReport and never sends the report."""

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **_kwargs: Any) -> None:
        """Nothing follows."""


@pytest.mark.parametrize("frees_the_turn", ["disconnect", "timeout"])
async def test_stations_take_turns_reporting_their_inventory(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch, frees_the_turn: str
) -> None:
    """A fleet's first connection: one report at a time here (8 by default); a silent or lost station yields."""
    monkeypatch.setattr(inventory_reader, "MAX_CONCURRENT_INVENTORIES", 1)
    monkeypatch.setattr(inventory_reader, "INVENTORY_TURN_TIMEOUT", 1.0 if frees_the_turn == "timeout" else 30.0)
    entry = await setup_integration(stations=[trusted_station("CP-1"), trusted_station("CP-2")])
    runtimes = entry.runtime_data.runtimes
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=SilentStation) as silent:
        await silent.boot()
        await silent.next_received("GetBaseReport")  # after its boot
        async with station_connection(
            ws_url(entry), "CP-2", password=STATION_PASSWORD, peer_class=ReportingStation
        ) as waiting:
            await waiting.boot()
            with pytest.raises(TimeoutError):
                await waiting.next_received("GetBaseReport", timeout=0.3)  # CP-1 has the turn
            if frees_the_turn == "disconnect":
                await silent._connection.close()
            _, request = await waiting.next_received("GetBaseReport", timeout=3)
            assert request["report_base"] == "FullInventory"
            await wait_for(lambda: runtimes["CP-2"].has_inventory)
            assert not runtimes["CP-1"].has_inventory


class ReportsOnSecondRequest(ReportingStation):
    """The first GetBaseReport is accepted and lost; the second is reported."""

    requests = 0

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **kwargs: Any) -> None:
        """Report only from the second request on."""
        self.requests += 1
        if self.requests > 1:
            await super().after_get_base_report(request_id, **kwargs)


async def test_a_stalled_inventory_is_asked_for_again_while_connected(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report that never completes is asked for again after a while, without waiting for the next boot."""
    monkeypatch.setattr(inventory_reader, "INVENTORY_TURN_TIMEOUT", 0.3)
    monkeypatch.setattr(inventory_reader, "INVENTORY_RETRY_DELAY", 0.2)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=ReportsOnSecondRequest
    ) as station:
        await station.boot()
        _, first = await station.next_received("GetBaseReport")
        _, second = await station.next_received("GetBaseReport", timeout=3)
        assert second["request_id"] != first["request_id"]
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)
        with pytest.raises(TimeoutError):
            await station.next_received("GetBaseReport", timeout=0.8)  # complete: not asked a third time


class AnswersLateFirst(ReportingStation):
    """The first GetBaseReport is answered only after our call timed out; the second at once."""

    requests = 0

    @on(Action.get_base_report)
    async def on_get_base_report(self, request_id: int, report_base: str, **kwargs: Any) -> Any:
        """Late the first time."""
        self.requests += 1
        if self.requests == 1:
            await asyncio.sleep(1.0)
        return super().on_get_base_report(request_id, report_base, **kwargs)

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **kwargs: Any) -> None:
        """Report only what was answered in time."""
        if self.requests > 1:
            await super().after_get_base_report(request_id, **kwargs)


async def test_a_get_base_report_that_times_out_is_retried_while_connected(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19: no answer to GetBaseReport in time is no refusal: asked again while the station stays connected."""
    monkeypatch.setattr(inventory_reader, "INVENTORY_RETRY_DELAY", 0.1)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    central = entry.runtime_data.central
    async with station_connection(
        ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=AnswersLateFirst
    ) as station:
        await wait_for(lambda: "CP-1" in central.stations)
        central.stations["CP-1"].session.call_timeout = 0.3
        await station.boot()
        _, first = await station.next_received("GetBaseReport")
        _, second = await station.next_received("GetBaseReport", timeout=5)
        assert second["request_id"] != first["request_id"]
        await wait_for(lambda: entry.runtime_data.runtimes["CP-1"].has_inventory)


class NeverReports(ReportingStation):
    """Accepts every GetBaseReport and never reports."""

    @after(Action.get_base_report)
    async def after_get_base_report(self, request_id: int, **_kwargs: Any) -> None:
        """Nothing follows."""


async def test_a_silent_station_is_asked_a_bounded_number_of_times(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory_reader, "INVENTORY_TURN_TIMEOUT", 0.2)
    monkeypatch.setattr(inventory_reader, "INVENTORY_RETRY_DELAY", 0.1)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=NeverReports) as station:
        await station.boot()
        for _ in range(inventory_reader.INVENTORY_ATTEMPTS):
            await station.next_received("GetBaseReport", timeout=3)
        with pytest.raises(TimeoutError):
            await station.next_received("GetBaseReport", timeout=1.0)
        assert not entry.runtime_data.runtimes["CP-1"].has_inventory


async def test_a_station_without_a_report_is_asked_again_on_its_next_boot(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await station.boot()
        await station.next_received("GetBaseReport")  # answered NotSupported: no inventory loaded yet
        runtime = entry.runtime_data.runtimes["CP-1"]
        await wait_for(lambda: runtime.assembler.request_id is None)  # no report awaited any more
        station.load_inventory(inventory())
        await station.boot()
        await station.next_received("GetBaseReport")
        await wait_for(lambda: runtime.has_inventory)


async def test_an_enabled_variable_gets_a_monitor_and_follows_its_events(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    """N04: a Delta monitor on an enabled variable that supports monitoring; N07: its NotifyEvent shows at once."""
    unique_id = "CP-1_var_evse#1/power"
    er.async_get(hass).async_get_or_create("sensor", DOMAIN, unique_id, suggested_object_id="cp_1_evse_1_rated_power")
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
        _, request = await station.next_received("SetVariableMonitoring")
        (monitor,) = request["set_monitoring_data"]
        assert (monitor["type"], monitor["component"], monitor["variable"]) == (
            "Delta",
            {"name": "EVSE", "evse": {"id": 1}},
            {"name": "Power"},
        )
        entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, unique_id)
        assert entity_id is not None
        await station.call(
            call.NotifyEvent(
                generated_at="2026-11-21T10:00:00Z",
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": "2026-11-21T10:00:00Z",
                        "trigger": "Delta",
                        "actual_value": "7200",
                        "event_notification_type": "CustomMonitor",
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "Power"},
                    }
                ],
            )
        )
        await hass.async_block_till_done()
        assert hass.states.get(entity_id).state == "7200.0"  # type: ignore[union-attr]


async def test_a_reboot_refreshes_the_variables_once(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    """Issue 18: after a reboot every GetVariables refresh went out twice; each variable is asked for once."""
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        await boot_with_inventory(hass, entry, station)
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD) as station:
        station.load_inventory(inventory())
        await station.boot()  # the reboot: a new connection and a BootNotification
        _, request = await station.next_received("GetVariables")
        requests = [request]
        await asyncio.sleep(0.5)
        await hass.async_block_till_done()
        while not station.received.empty():
            action, request = station.received.get_nowait()
            if action == "GetVariables":
                requests.append(request)
        asked = [
            json.dumps([item["component"], item["variable"]], sort_keys=True)
            for request in requests
            for item in request["get_variable_data"]
        ]
    assert len(asked) > 10
    assert len(asked) == len(set(asked))
