"""Station management without Home Assistant: report parts, monitors and problems, firmware updates, displays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from custom_components.ocpp_csms.protocol.batching import batches
from custom_components.ocpp_csms.protocol.v201 import ReportData
from custom_components.ocpp_csms.protocol.v201.datatypes import MonitoringData, SetMonitoringResult
from custom_components.ocpp_csms.protocol.v201.enums import (
    EventNotification,
    EventTrigger,
    FirmwareStatus,
    MessageFormat,
    MessagePriority,
    Monitor,
)
from custom_components.ocpp_csms.station.device_model import DeviceModel, VariableKey
from custom_components.ocpp_csms.station.display import DisplayCapabilities, as_ascii, free_ids
from custom_components.ocpp_csms.station.events import VariableEvent
from custom_components.ocpp_csms.station.firmware import (
    FirmwareOffer,
    FirmwareUpdate,
    protocol_of,
    transfer_protocols,
)
from custom_components.ocpp_csms.station.monitors import (
    DEFAULT_PROBLEM_SEVERITY,
    MonitorOwner,
    StationMonitors,
    problem_of,
)
from custom_components.ocpp_csms.station.report_parts import ReportIncompleteError, ReportParts

from .inventory import report_data

TEMPERATURE = VariableKey("TemperatureSensor", "Temperature")
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def model_of(*items: dict[str, Any]) -> DeviceModel:
    model = DeviceModel()
    model.merge_report_data(ReportData.from_payload(item) for item in items)
    return model


# ---- report parts (generic FR.05, N02.FR.09, O03.FR.04) ------------------------------------------------------


async def test_parts_are_assembled_in_seq_no_order_once_the_last_and_every_one_before_it_are_in() -> None:
    parts: ReportParts[str] = ReportParts()
    done = parts.expect("CP-1", 7)
    assert parts.expects("CP-1", 7)
    assert not parts.feed("CP-1", 8, ["other"], tbc=False)  # not asked for
    assert not parts.feed("CP-2", 7, ["other station"], tbc=False)
    assert parts.feed("CP-1", 7, ["c"], tbc=False, seq_no=2)
    assert parts.feed("CP-1", 7, ["a", "a2"], tbc=True, seq_no=0)
    assert not done.done()  # part 1 is missing
    assert parts.feed("CP-1", 7, None, tbc=True, seq_no=1)  # a part without items
    assert await done == ["a", "a2", "c"]
    assert not parts.expects("CP-1", 7)


async def test_unnumbered_parts_count_in_arrival_order() -> None:
    parts: ReportParts[int] = ReportParts()
    done = parts.expect("CP-1", 1)
    parts.feed("CP-1", 1, [1], tbc=True)
    parts.feed("CP-1", 1, [2, 3], tbc=False)
    assert await done == [1, 2, 3]


async def test_a_station_that_leaves_ends_its_reports_with_an_error_and_a_discarded_one_is_cancelled() -> None:
    parts: ReportParts[str] = ReportParts()
    left = parts.expect("CP-1", 1)
    other = parts.expect("CP-2", 1)
    discarded = parts.expect("CP-2", 2)
    parts.discard_station("CP-1")
    with pytest.raises(ReportIncompleteError):
        await left
    parts.discard("CP-2", 2)
    assert discarded.cancelled()
    assert parts.expects("CP-2", 1)
    assert not other.done()
    parts.discard("CP-2", 1)
    parts.discard("CP-2", 1)  # twice: nothing happens


# ---- monitors and problems (N02-N07) ----------------------------------------------------------------------


def set_result(monitor_id: int | None, status: str = "Accepted", severity: int = 8) -> SetMonitoringResult:
    payload: dict[str, Any] = {
        "status": status,
        "type": "Delta",
        "severity": severity,
        "component": {"name": "TemperatureSensor"},
        "variable": {"name": "Temperature"},
    }
    if monitor_id is not None:
        payload["id"] = monitor_id
    return SetMonitoringResult.from_payload(payload)


def event(
    value: str, *, variable: str = "Temperature", monitor: int | None = None, cleared: bool = False
) -> VariableEvent:
    return VariableEvent(
        key=VariableKey("ChargingStation" if variable == "Problem" else "TemperatureSensor", variable),
        actual_value=value,
        trigger=EventTrigger.ALERTING,
        timestamp=NOW,
        event_id=1,
        notification_type=EventNotification.CUSTOM_MONITOR,
        cleared=cleared,
        variable_monitoring_id=monitor,
    )


def test_n04_monitors_are_known_by_id_with_their_owner_and_severity() -> None:
    monitors = StationMonitors()
    recorded = monitors.record_results(
        [set_result(1), set_result(None, "Rejected"), set_result(2, severity=2)],
        MonitorOwner.USER,
        {TEMPERATURE: 70.0},
    )
    assert [info.id for info in recorded] == [1, 2]
    assert len(monitors) == 2
    assert monitors.owner(1) is MonitorOwner.USER
    assert monitors.owner(3) is None
    assert monitors.get(None) is None
    assert monitors.get(2) is not None
    assert monitors.get(2).severity == 2
    assert monitors.ids(MonitorOwner.USER) == {1, 2}
    assert recorded[0].to_dict() == {
        "id": 1,
        "component": "TemperatureSensor",
        "variable": "Temperature",
        "type": "Delta",
        "severity": 8,
        "value": 70.0,
        "transaction": False,
        "owner": "user",
    }
    monitors.forget([1, 99])
    assert monitors.ids(MonitorOwner.USER) == {2}


def test_n02_a_report_keeps_known_owners_and_makes_the_others_the_station_s() -> None:
    monitors = StationMonitors()
    monitors.record_results([set_result(5)], MonitorOwner.INTEGRATION, {})
    report = [
        MonitoringData.from_payload(
            {
                "component": {"name": "TemperatureSensor"},
                "variable": {"name": "Temperature"},
                "variableMonitoring": [
                    {"id": 5, "transaction": False, "value": 0, "type": "Delta", "severity": 8},
                    {"id": 6, "transaction": True, "value": 80, "type": "UpperThreshold", "severity": 1},
                ],
            }
        )
    ]
    found = monitors.record_report(report)
    assert [(info.id, info.owner, info.type) for info in found] == [
        (5, MonitorOwner.INTEGRATION, Monitor.DELTA),
        (6, MonitorOwner.STATION, Monitor.UPPER_THRESHOLD),
    ]
    monitors.forget_custom()  # N03.FR.04-05: SetMonitoringBase FactoryDefault / HardWiredOnly
    assert monitors.ids(MonitorOwner.INTEGRATION) == set()
    assert monitors.ids(MonitorOwner.STATION) == {6}


def test_n07_problems_are_severe_monitors_events_and_problem_variables() -> None:
    monitors = StationMonitors()
    monitors.record_results([set_result(1, severity=2), set_result(2, severity=8)], MonitorOwner.USER, {})
    severe = problem_of(event("71", monitor=1), monitors.get(1), DEFAULT_PROBLEM_SEVERITY)
    assert severe is not None
    assert (severe.severity, severe.cleared) == (2, False)
    cleared = problem_of(event("40", monitor=1, cleared=True), monitors.get(1), DEFAULT_PROBLEM_SEVERITY)
    assert cleared is not None
    assert cleared.cleared
    assert problem_of(event("41", monitor=2), monitors.get(2), DEFAULT_PROBLEM_SEVERITY) is None  # informational
    assert problem_of(event("41", monitor=2), monitors.get(2), 9) is not None  # the options say so
    assert problem_of(event("41"), None, DEFAULT_PROBLEM_SEVERITY) is None  # a hard-wired value change
    hard_wired = problem_of(event("true", variable="Problem"), None, DEFAULT_PROBLEM_SEVERITY)
    assert hard_wired is not None
    assert hard_wired.severity is None
    assert not hard_wired.cleared
    over = problem_of(event("False", variable="Problem"), None, DEFAULT_PROBLEM_SEVERITY)
    assert over is not None
    assert over.cleared
    assert problem_of(event("maybe", variable="Problem"), None, DEFAULT_PROBLEM_SEVERITY) is None


# ---- firmware (L01, L02) ----------------------------------------------------------------------------------


def test_l01_an_update_follows_the_statuses_of_its_request_id() -> None:
    update = FirmwareUpdate(request_id=3, version="2.0", started_at=NOW)
    assert update.in_progress
    assert update.progress == 0
    assert not update.failed
    assert not update.installed
    assert not update.apply(FirmwareStatus.DOWNLOADING, 4, NOW)  # another update's (L01.FR.10)
    assert not update.apply(FirmwareStatus.DOWNLOADING, None, NOW)  # only Idle may lack it (L01.FR.20)
    assert not update.apply(FirmwareStatus.IDLE, None, NOW)  # nothing going on: what we know stands
    steps = [
        (FirmwareStatus.DOWNLOADING, 10),
        (FirmwareStatus.DOWNLOADED, 40),
        (FirmwareStatus.SIGNATURE_VERIFIED, 50),
        (FirmwareStatus.INSTALLING, 60),
        (FirmwareStatus.INSTALL_REBOOTING, 80),
    ]
    for status, progress in steps:
        assert update.apply(status, 3, NOW + timedelta(seconds=progress))
        assert (update.in_progress, update.progress) == (True, progress)
    assert update.apply(FirmwareStatus.INSTALLED, 3, NOW)
    assert update.installed
    assert not update.in_progress
    assert update.progress is None
    assert update.to_dict()["status"] == "Installed"


@pytest.mark.parametrize(
    "status",
    [
        FirmwareStatus.DOWNLOAD_FAILED,
        FirmwareStatus.INVALID_SIGNATURE,
        FirmwareStatus.INSTALLATION_FAILED,
        FirmwareStatus.INSTALL_VERIFICATION_FAILED,
    ],
)
def test_l01_every_failure_ends_an_update(status: FirmwareStatus) -> None:
    update = FirmwareUpdate(request_id=1, version=None, started_at=NOW)
    update.apply(status, 1, NOW)
    assert update.failed
    assert not update.in_progress


def test_a_firmware_offer_survives_storage() -> None:
    offer = FirmwareOffer(
        version="2.0",
        file="firmware/fw.bin",
        signing_certificate="PEM",
        signature="c2ln",
        retries=2,
        retry_interval=30,
        install_at=NOW,
        retrieve_at=NOW - timedelta(hours=1),
    )
    assert FirmwareOffer.from_dict(offer.to_dict()) == offer
    assert FirmwareOffer.from_dict(FirmwareOffer(version="1", url="https://x/fw").to_dict()).url == "https://x/fw"


def test_file_transfer_protocols_of_the_station() -> None:
    assert transfer_protocols(DeviceModel()) == ()
    model = model_of(report_data("OCPPCommCtrlr", "FileTransferProtocols", "HTTPS, ftps", data_type="MemberList"))
    assert transfer_protocols(model) == ("HTTPS", "FTPS")
    assert protocol_of("https://ha.local:8123/api") == "HTTPS"


# ---- display (O01-O06) --------------------------------------------------------------------------------


def display_model(formats: str = "ASCII,UTF8", priorities: str = "NormalCycle,InFront", **extra: str) -> DeviceModel:
    items = [
        report_data("DisplayMessageCtrlr", "Available", extra.get("available", "true"), data_type="boolean"),
        report_data("DisplayMessageCtrlr", "DisplayMessages", "0", data_type="integer", max_limit=5),
        report_data("DisplayMessageCtrlr", "SupportedFormats", formats, data_type="MemberList"),
        report_data("DisplayMessageCtrlr", "SupportedPriorities", priorities, data_type="MemberList"),
    ]
    if "enabled" in extra:
        items.append(report_data("DisplayMessageCtrlr", "Enabled", extra["enabled"], data_type="boolean"))
    return model_of(*items)


def test_o01_display_capabilities_from_the_device_model() -> None:
    assert DisplayCapabilities.from_model(DeviceModel(), has_inventory=False).available is None
    assert DisplayCapabilities.from_model(DeviceModel(), has_inventory=True).available is False  # no controller
    assert DisplayCapabilities.from_model(display_model(available="false"), has_inventory=True).available is False
    assert DisplayCapabilities.from_model(display_model(enabled="false"), has_inventory=True).available is False
    display = DisplayCapabilities.from_model(display_model(formats="ASCII,UTF8,Morse"), has_inventory=True)
    assert display.available is True
    assert display.formats == (MessageFormat.ASCII, MessageFormat.UTF8)  # what OCPP does not know is left out
    assert display.priorities == (MessagePriority.NORMAL_CYCLE, MessagePriority.IN_FRONT)
    assert display.max_messages == 5
    assert (display.default_format, display.default_priority) == (MessageFormat.UTF8, MessagePriority.IN_FRONT)
    assert not display.supports_format(MessageFormat.HTML)
    assert not display.supports_priority(MessagePriority.ALWAYS_FRONT)


def test_o01_defaults_of_a_plain_display_and_of_an_unknown_one() -> None:
    plain = DisplayCapabilities.from_model(display_model(formats="ASCII", priorities="NormalCycle"), has_inventory=True)
    assert (plain.default_format, plain.default_priority) == (MessageFormat.ASCII, MessagePriority.NORMAL_CYCLE)
    odd = DisplayCapabilities.from_model(display_model(formats="URI", priorities="AlwaysFront"), has_inventory=True)
    assert (odd.default_format, odd.default_priority) == (MessageFormat.URI, MessagePriority.ALWAYS_FRONT)
    unknown = DisplayCapabilities(available=None)
    assert unknown.supports_format(MessageFormat.HTML)
    assert unknown.default_format is MessageFormat.UTF8


def test_text_for_an_ascii_display_and_free_message_ids() -> None:
    assert as_ascii("Café \u2013 11 kW \u2600") == "Cafe ? 11 kW ?"
    assert free_ids({1, 2, 4}, 3) == [3, 5, 6]
    assert free_ids(set(), start=2) == [2]


# ---- batching (N04.FR.09, N06.FR.04) ------------------------------------------------------------------------


def test_batches_respect_items_and_bytes() -> None:
    items = [SetMonitoringResult.from_payload(set_result(number).to_payload()) for number in range(1, 6)]
    assert [len(group) for group in batches(items, max_items=2, max_bytes=100_000, payload=lambda item: item)] == [
        2,
        2,
        1,
    ]
    one_each = batches(items, max_items=10, max_bytes=150, payload=lambda item: item)
    assert [len(group) for group in one_each] == [1, 1, 1, 1, 1]


async def test_report_parts_futures_belong_to_the_running_loop() -> None:
    parts: ReportParts[int] = ReportParts()
    assert parts.expect("CP-1", 1).get_loop() is asyncio.get_running_loop()
