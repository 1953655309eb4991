"""NotifyEvent (N07) updates of the device model."""

from __future__ import annotations

from typing import Any

from custom_components.ocpp_csms.protocol.v201 import NotifyEventRequest, ReportData
from custom_components.ocpp_csms.protocol.v201.enums import EventNotification, EventTrigger
from custom_components.ocpp_csms.station.device_model import DeviceModel, VariableKey
from custom_components.ocpp_csms.station.events import VariableEvent, apply_events, parse_notify_event

from .inventory import inventory


def event_data(
    event_id: int, timestamp: str, component: dict[str, Any], variable: str, value: str, **extra: Any
) -> dict[str, Any]:
    return {
        "eventId": event_id,
        "timestamp": timestamp,
        "trigger": "Delta",
        "actualValue": value,
        "component": component,
        "variable": {"name": variable},
        "eventNotificationType": "HardWiredNotification",
        **extra,
    }


def notify(seq_no: int, *events: dict[str, Any]) -> NotifyEventRequest:
    return NotifyEventRequest.from_payload(
        {"generatedAt": "2025-06-01T12:10:00+00:00", "seqNo": seq_no, "eventData": list(events)}
    )


def test_n07_n08_notify_event_updates_actual_values() -> None:
    model = DeviceModel()
    model.merge_report_data(ReportData.from_payload(item) for item in inventory())
    connector = {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}
    request = notify(
        0,
        event_data(1, "2025-06-01T12:05:00+00:00", connector, "AvailabilityState", "Occupied"),
        event_data(
            2,
            "2025-06-01T12:06:00+00:00",
            {"name": "EVSE", "evse": {"id": 1}},
            "Problem",
            "true",
            trigger="Alerting",
            eventNotificationType="PreconfiguredMonitor",
            techCode="E42",
            techInfo="Overtemperature",
            cleared=False,
            transactionId="TX1",
        ),
        event_data(3, "2025-06-01T12:06:00+00:00", {"name": "Vendor"}, "Unknown", "1"),
        event_data(4, "2025-06-01T12:06:00+00:00", {"name": "SecurityCtrlr"}, "BasicAuthPassword", "leaked"),
    )
    events = parse_notify_event(request)
    assert [event.event_id for event in events] == [1, 2, 3, 4]
    problem = events[1]
    assert problem == VariableEvent(
        key=VariableKey("EVSE", "Problem", evse_id=1),
        actual_value="true",
        trigger=EventTrigger.ALERTING,
        timestamp=problem.timestamp,
        event_id=2,
        notification_type=EventNotification.PRECONFIGURED_MONITOR,
        cleared=False,
        tech_code="E42",
        tech_info="Overtemperature",
        transaction_id="TX1",
    )
    changed = apply_events(model, events)
    assert changed == [VariableKey("Connector", "AvailabilityState", evse_id=1, connector_id=1), problem.key]
    assert model.value(problem.key) == "true"
    assert model.value(VariableKey("SecurityCtrlr", "BasicAuthPassword")) is None

    # A queued older event, delivered late, does not undo the newer value (N08.FR.03).
    late = notify(1, event_data(5, "2025-06-01T12:01:00+00:00", connector, "AvailabilityState", "Available"))
    assert apply_events(model, parse_notify_event(late)) == []
    assert model.value(VariableKey("Connector", "AvailabilityState", evse_id=1, connector_id=1)) == "Occupied"
