"""Monitoring (N02-N08) and customer information (N09, N10) against the simulator and an independent station.

The simulator keeps real monitors: it answers SetVariableMonitoring with ids, reports them in NotifyMonitoringReport
parts, drops custom ones on SetMonitoringBase, and sends NotifyEvent when a monitored value crosses a threshold.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from ocpp.routing import after, on
from ocpp.v201 import call, call_result
from ocpp.v201.enums import Action
import probatio
import pytest

from custom_components.ocpp_csms import context as context_module
from custom_components.ocpp_csms.const import CONF_PROBLEM_SEVERITY, DOMAIN
from custom_components.ocpp_csms.monitoring import problem_issue_id
from custom_components.ocpp_csms.station.device_model import VariableKey
from custom_components.ocpp_csms.station.monitors import MonitorOwner

from .conftest import STATION_PASSWORD, SetupIntegration, trusted_station, wait_for, ws_url
from .management import device_id
from .station_peer import StationPeer, station_connection
from .test_simulator import fast_config, sent, simulated

LEVEL = "select.sim_001_monitoring_level"
PROBLEM = "event.sim_001_problem"
TEMPERATURE = {"component": "TemperatureSensor", "variable": "Temperature"}
#: Small messages, so that every request and report goes in parts.
SMALL_MESSAGES = {
    "MonitoringCtrlr.ItemsPerMessage:SetVariableMonitoring": "2",
    "MonitoringCtrlr.ItemsPerMessage:ClearVariableMonitoring": "1",
}


async def ready(hass: HomeAssistant, entry: Any, station: Any) -> str:
    await wait_for(station.online.is_set)
    await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].has_inventory)
    await hass.async_block_till_done()
    # The integration's own Delta monitor on a variable whose entity is enabled (as an entity enabled in the UI).
    entry.runtime_data.variables.entity_enabled("sim-001", VariableKey("ChargingStation", "Power"))
    await wait_for(lambda: entry.runtime_data.runtimes["sim-001"].monitors.ids(MonitorOwner.INTEGRATION))
    return device_id(hass, entry, "sim-001")


async def call_action(hass: HomeAssistant, action: str, data: dict[str, Any]) -> Any:
    return await hass.services.async_call(DOMAIN, action, data, blocking=True, return_response=True)


async def test_n05_the_monitoring_level_select(hass: HomeAssistant, setup_integration: SetupIntegration) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        await ready(hass, entry, station)
        state = hass.states.get(LEVEL)
        assert state is not None
        assert state.state == "debug"  # ActiveMonitoringLevel 9 from the inventory
        runtime = entry.runtime_data.runtimes["sim-001"]
        variables = entry.runtime_data.variables
        assert variables._monitors_report(runtime)
        await hass.services.async_call(
            "select", "select_option", {"entity_id": LEVEL, "option": "critical"}, blocking=True
        )
        assert station.device_model.monitoring_level == 3
        assert hass.states.get(LEVEL).state == "critical"  # type: ignore[union-attr]
        # Our Informational (8) monitors are silenced now: their variables are read like the others.
        assert not variables._monitors_report(runtime)
        before = station.stats.received["GetVariables"]
        await variables.async_refresh("sim-001")
        assert station.stats.received["GetVariables"] > before


async def test_n04_n06_n02_the_user_s_monitors_stay_apart_from_the_integration_s(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry), variables=SMALL_MESSAGES, report_part_size=2)) as station:
        device = await ready(hass, entry, station)
        runtime = entry.runtime_data.runtimes["sim-001"]
        ours = sorted(runtime.monitors.ids(MonitorOwner.INTEGRATION))
        before = station.stats.received["SetVariableMonitoring"]
        response = await call_action(
            hass,
            "set_variable_monitoring",
            {
                "device_id": device,
                "monitors": [
                    {**TEMPERATURE, "type": "UpperThreshold", "value": 60, "severity": 2},
                    {"component": "ChargingStation", "variable": "Problem", "type": "Delta", "value": 1},
                    {"component": "Nothing", "variable": "Here", "type": "Delta", "value": 1},
                ],
            },
        )
        assert station.stats.received["SetVariableMonitoring"] - before == 2  # ItemsPerMessage 2 (N04.FR.09)
        statuses = [result["status"] for result in response["results"]]
        assert statuses == ["Accepted", "Accepted", "UnknownComponent"]
        threshold, problem = (result["id"] for result in response["results"][:2])
        assert response["results"][1]["severity"] == 5  # the default: Alert
        assert runtime.monitors.ids(MonitorOwner.USER) == {threshold, problem}

        # The integration's monitors are neither replaced nor cleared by the user's actions.
        for action, data in (
            ("clear_variable_monitoring", {"ids": [ours[0]]}),
            ("set_variable_monitoring", {"monitors": [{**TEMPERATURE, "type": "Delta", "value": 2, "id": ours[0]}]}),
        ):
            with pytest.raises(ServiceValidationError) as raised:
                await call_action(hass, action, {"device_id": device, **data})
            assert raised.value.translation_key == "monitor_of_integration"
        # Replacing one of the user's own is fine (N04.FR.12).
        replaced = await call_action(
            hass,
            "set_variable_monitoring",
            {
                "device_id": device,
                "monitors": [{**TEMPERATURE, "type": "UpperThreshold", "value": 65, "id": threshold}],
            },
        )
        assert replaced["results"][0]["status"] == "Accepted"

        # The monitoring report comes in parts and says whose each monitor is (N02).
        report = await call_action(hass, "get_monitoring_report", {"device_id": device})
        assert report["status"] == "Accepted"
        owners = {monitor["id"]: monitor["owner"] for monitor in report["monitors"]}
        assert owners[threshold] == owners[problem] == "user"
        assert {owners[monitor_id] for monitor_id in ours} == {"integration"}
        await wait_for(lambda: len(sent(station, "NotifyMonitoringReport")) > 1)
        thresholds = await call_action(
            hass, "get_monitoring_report", {"device_id": device, "criteria": ["threshold"], "variables": [TEMPERATURE]}
        )
        assert [(m["id"], m["value"], m["type"]) for m in thresholds["monitors"]] == [
            (threshold, 65.0, "UpperThreshold")
        ]
        empty = await call_action(hass, "get_monitoring_report", {"device_id": device, "criteria": ["periodic"]})
        assert empty == {"status": "EmptyResultSet", "monitors": []}

        # Clearing, one id per request (ItemsPerMessage 1, N06.FR.04).
        before = station.stats.received["ClearVariableMonitoring"]
        cleared = await call_action(hass, "clear_variable_monitoring", {"device_id": device, "ids": [threshold, 99999]})
        assert [(r["id"], r["status"]) for r in cleared["results"]] == [(threshold, "Accepted"), (99999, "NotFound")]
        assert station.stats.received["ClearVariableMonitoring"] - before == 2
        assert runtime.monitors.owner(threshold) is None

        # N03: the factory default deletes every custom monitor; the integration sets its own again.
        before = station.stats.received["SetVariableMonitoring"]
        base = await call_action(hass, "set_monitoring_base", {"device_id": device, "base": "factory_default"})
        assert base == {"status": "Accepted"}
        assert station.stats.received["SetVariableMonitoring"] > before
        assert runtime.monitors.ids(MonitorOwner.USER) == set()
        assert runtime.monitors.ids(MonitorOwner.INTEGRATION)
        assert all(monitor.severity == 8 for variable in station.device_model for monitor in variable.monitors.values())
        before = station.stats.received["SetVariableMonitoring"]
        await call_action(hass, "set_monitoring_base", {"device_id": device, "base": "all"})
        assert station.stats.received["SetVariableMonitoring"] == before  # All keeps the custom monitors


async def test_n07_a_severe_monitor_s_event_is_a_problem_until_it_clears(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        response = await call_action(
            hass,
            "set_variable_monitoring",
            {
                "device_id": device,
                "monitors": [
                    {**TEMPERATURE, "type": "UpperThreshold", "value": 60, "severity": 2},
                    {**TEMPERATURE, "type": "LowerThreshold", "value": -20, "severity": 6},
                    {"component": "ChargingStation", "variable": "Problem", "type": "Delta", "value": 1, "severity": 7},
                ],
            },
        )
        assert [result["status"] for result in response["results"]] == ["Accepted"] * 3
        issue_id = problem_issue_id("sim-001", VariableKey("TemperatureSensor", "Temperature"))
        issues = ir.async_get(hass)
        temperature = station.device_model.find("TemperatureSensor", "Temperature")

        station.device_model.update(temperature, "75")  # N07.FR.16: above the threshold
        await wait_for(lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
        issue = issues.async_get_issue(DOMAIN, issue_id)
        assert issue is not None
        assert issue.translation_key == "station_problem"
        assert issue.translation_placeholders == {
            "station": "sim-001",
            "variable": "TemperatureSensor.Temperature",
            "value": "75",
            "severity": "2",
        }
        state = hass.states.get(PROBLEM)
        assert state is not None
        assert state.attributes["event_type"] == "problem"
        assert (state.attributes["component"], state.attributes["value"], state.attributes["severity"]) == (
            "TemperatureSensor",
            "75",
            2,
        )

        station.device_model.update(temperature, "25")  # back within: cleared (N07.FR.02)
        await wait_for(lambda: issues.async_get_issue(DOMAIN, issue_id) is None)
        assert hass.states.get(PROBLEM).attributes["event_type"] == "cleared"  # type: ignore[union-attr]
        station.device_model.update(temperature, "-30")  # severity 6: no problem with the default threshold 3
        await wait_for(lambda: [e for e in sent(station, "NotifyEvent") if e.event_data[0]["actual_value"] == "-30"])
        await hass.async_block_till_done()
        assert issues.async_get_issue(DOMAIN, issue_id) is None

        # A component's Problem variable turning true is a problem whatever the monitor's severity.
        problem_id = problem_issue_id("sim-001", VariableKey("ChargingStation", "Problem"))
        station.device_model.update(station.device_model.find("ChargingStation", "Problem"), "true")
        await wait_for(lambda: issues.async_get_issue(DOMAIN, problem_id) is not None)
        station.device_model.update(station.device_model.find("ChargingStation", "Problem"), "false")
        await wait_for(lambda: issues.async_get_issue(DOMAIN, problem_id) is None)

        # A forgotten station's problems go with it.
        station.device_model.update(temperature, "80")
        await wait_for(lambda: issues.async_get_issue(DOMAIN, issue_id) is not None)
        entry.runtime_data.monitoring.forget_station("sim-001")
        assert issues.async_get_issue(DOMAIN, issue_id) is None


class MonitoringPeer(StationPeer):
    """A station that refuses monitoring settings and reports, and answers CustomerInformation as told."""

    customer_status = "Rejected"

    @on(Action.set_monitoring_base)
    def on_set_monitoring_base(self, monitoring_base: str, **_kwargs: Any) -> Any:
        """Not supported."""
        return call_result.SetMonitoringBase(status="NotSupported")

    @on(Action.set_monitoring_level)
    def on_set_monitoring_level(self, severity: int, **_kwargs: Any) -> Any:
        """Rejected."""
        return call_result.SetMonitoringLevel(status="Rejected")

    @on(Action.get_monitoring_report)
    def on_get_monitoring_report(self, request_id: int, **_kwargs: Any) -> Any:
        """Not supported."""
        return call_result.GetMonitoringReport(status="NotSupported")

    @on(Action.customer_information)
    def on_customer_information(self, request_id: int, **_kwargs: Any) -> Any:
        """As told."""
        return call_result.CustomerInformation(status=self.customer_status)


async def test_refusals_hard_wired_problems_and_the_problem_threshold_option(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("CP-1")], options={CONF_PROBLEM_SEVERITY: 6})
    peer = MonitoringPeer
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=peer) as station:
        await station.boot()
        await hass.async_block_till_done()
        device = device_id(hass, entry, "CP-1")
        for action, data, command, status in (
            ("set_monitoring_base", {"base": "hard_wired_only"}, "SetMonitoringBase", "NotSupported"),
            ("get_monitoring_report", {}, "GetMonitoringReport", "NotSupported"),
            ("customer_information", {"customer_identifier": "C-1"}, "CustomerInformation", "Rejected"),
        ):
            with pytest.raises(HomeAssistantError) as raised:
                await call_action(hass, action, {"device_id": device, **data})
            assert raised.value.translation_placeholders == {"station": "CP-1", "command": command, "status": status}
        with pytest.raises(HomeAssistantError) as raised:
            await hass.services.async_call(
                "select",
                "select_option",
                {"entity_id": "select.cp_1_monitoring_level", "option": "error"},
                blocking=True,
            )
        assert raised.value.translation_placeholders["status"] == "Rejected"  # type: ignore[index]
        assert hass.states.get("select.cp_1_monitoring_level").state == "unknown"  # type: ignore[union-attr]

        # A hard-wired notification: no monitor, no severity, but a Problem all the same.
        await station.call(
            call.NotifyEvent(
                generated_at="2026-11-21T10:00:00Z",
                seq_no=0,
                event_data=[
                    {
                        "event_id": 1,
                        "timestamp": "2026-11-21T10:00:00Z",
                        "trigger": "Alerting",
                        "actual_value": "true",
                        "component": {"name": "RCD", "evse": {"id": 1}},
                        "variable": {"name": "Problem"},
                        "event_notification_type": "HardWiredNotification",
                        "tech_code": "E42",
                    }
                ],
            ),
            suppress=False,
        )
        issue = ir.async_get(hass).async_get_issue(
            DOMAIN, problem_issue_id("CP-1", VariableKey("RCD", "Problem", evse_id=1))
        )
        assert issue is not None
        assert issue.translation_placeholders["variable"] == "RCD.Problem (EVSE 1)"  # type: ignore[index]
        assert issue.translation_placeholders["severity"] == "-"  # type: ignore[index]
        assert hass.states.get("event.cp_1_problem").attributes["tech_code"] == "E42"  # type: ignore[union-attr]
        assert entry.runtime_data.monitoring.problem_severity == 6
        # A report nobody asked for is acknowledged.
        await station.call(
            call.NotifyMonitoringReport(request_id=77, seq_no=0, generated_at="2026-11-21T10:00:00Z"), suppress=False
        )


async def test_n09_n10_customer_information_reported_and_cleared(
    hass: HomeAssistant, setup_integration: SetupIntegration
) -> None:
    entry = await setup_integration(stations=[trusted_station("sim-001")])
    async with simulated(fast_config(ws_url(entry))) as station:
        device = await ready(hass, entry, station)
        station.customer_data["CAFE01"] = [f"transaction {number:03} " + "x" * 40 for number in range(20)]
        report = await call_action(hass, "customer_information", {"device_id": device, "id_token": "CAFE01"})
        assert report["status"] == "Accepted"
        assert report["data"] == "\n".join(station.customer_data["CAFE01"])  # assembled from 2 parts of 512
        await wait_for(lambda: len(sent(station, "NotifyCustomerInformation")) == 2)
        cleared = await call_action(
            hass, "customer_information", {"device_id": device, "id_token": "CAFE01", "report": False, "clear": True}
        )
        assert cleared["data"] == "Customer data cleared"  # N10.FR.06
        assert "CAFE01" not in station.customer_data
        nothing = await call_action(hass, "customer_information", {"device_id": device, "customer_identifier": "C-9"})
        assert nothing["data"] == "No customer data stored"  # N09.FR.06

        for data, key in (
            ({}, "customer_reference_required"),
            ({"id_token": "CAFE01", "report": False}, "customer_report_or_clear"),
        ):
            with pytest.raises(ServiceValidationError) as raised:
                await call_action(hass, "customer_information", {"device_id": device, **data})
            assert raised.value.translation_key == key
        with pytest.raises(probatio.Invalid):  # N09.FR.04: one reference only
            await call_action(
                hass, "customer_information", {"device_id": device, "id_token": "CAFE01", "customer_identifier": "C"}
            )


class ReportPeer(StationPeer):
    """A station that accepts reports and then sends only their first part."""

    @on(Action.get_monitoring_report)
    def on_get_monitoring_report(self, request_id: int, **_kwargs: Any) -> Any:
        """Accepted."""
        self.received.put_nowait(("GetMonitoringReport", {"request_id": request_id}))
        return call_result.GetMonitoringReport(status="Accepted")

    @after(Action.get_monitoring_report)
    async def after_get_monitoring_report(self, request_id: int, **_kwargs: Any) -> None:
        """The first part of more (tbc), and no more."""
        await self.call(
            call.NotifyMonitoringReport(request_id=request_id, seq_no=0, generated_at="2026-11-21T10:00:00Z", tbc=True)
        )

    @on(Action.customer_information)
    def on_customer_information(self, request_id: int, **_kwargs: Any) -> Any:
        """Accepted, and nothing follows."""
        self.received.put_nowait(("CustomerInformation", {"request_id": request_id}))
        return call_result.CustomerInformation(status="Accepted")


async def test_reports_that_stop_coming_are_translated_errors(
    hass: HomeAssistant, setup_integration: SetupIntegration, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context_module, "REPORT_TIMEOUT", 0.2)
    entry = await setup_integration(stations=[trusted_station("CP-1")])
    async with station_connection(ws_url(entry), "CP-1", password=STATION_PASSWORD, peer_class=ReportPeer) as station:
        await station.boot()
        await hass.async_block_till_done()
        device = device_id(hass, entry, "CP-1")
        with pytest.raises(HomeAssistantError) as raised:
            await call_action(hass, "get_monitoring_report", {"device_id": device})
        assert raised.value.translation_key == "report_incomplete"
        assert raised.value.translation_placeholders == {"station": "CP-1", "action": "GetMonitoringReport"}

        # The station leaves while the report is awaited: the same error, at once.
        monkeypatch.setattr(context_module, "REPORT_TIMEOUT", 30)
        waiting = hass.async_create_task(
            call_action(hass, "customer_information", {"device_id": device, "customer_identifier": "C-1"})
        )
        await station.next_received("CustomerInformation")
        await station._connection.close()
        with pytest.raises(HomeAssistantError) as raised:
            await waiting
        # Whether the answer got out before the close decides which of the two errors it is; never a wait.
        if raised.value.translation_key == "station_not_connected":
            assert raised.value.translation_placeholders == {"station": "CP-1"}
        else:
            assert raised.value.translation_key == "report_incomplete"
            assert raised.value.translation_placeholders == {"station": "CP-1", "action": "CustomerInformation"}
