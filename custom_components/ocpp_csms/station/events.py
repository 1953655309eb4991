"""NotifyEvent (N07, N08) as device model updates.

Each EventData reports a variable's current (actual) value when a monitor triggered, periodically, or on a
hard-wired notification. Parts of one NotifyEvent sequence (seqNo, tbc) are self-contained: every part is applied
as it comes. Events a station queued while offline (N08.FR.03) can arrive after newer values: the device model's
timestamped update ignores them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..protocol.v201.datatypes import EventData
from ..protocol.v201.enums import Attribute, EventNotification, EventTrigger
from ..protocol.v201.messages import NotifyEventRequest
from .device_model import DeviceModel, VariableKey


@dataclass(frozen=True, slots=True)
class VariableEvent:
    """One EventData, the variable addressed by key."""

    key: VariableKey
    actual_value: str
    trigger: EventTrigger
    timestamp: datetime
    event_id: int
    notification_type: EventNotification
    #: The monitored value returned within its thresholds (N07.FR.02).
    cleared: bool = False
    tech_code: str | None = None
    tech_info: str | None = None
    transaction_id: str | None = None
    #: The monitor that triggered the event (none for a hard-wired notification).
    variable_monitoring_id: int | None = None

    @classmethod
    def from_event_data(cls, data: EventData) -> VariableEvent:
        """Parse one EventDataType."""
        return cls(
            key=VariableKey.from_ocpp(data.component, data.variable),
            actual_value=data.actual_value,
            trigger=data.trigger,
            timestamp=data.timestamp,
            event_id=data.event_id,
            notification_type=data.event_notification_type,
            cleared=bool(data.cleared),
            tech_code=data.tech_code,
            tech_info=data.tech_info,
            transaction_id=data.transaction_id,
            variable_monitoring_id=data.variable_monitoring_id,
        )


def parse_notify_event(request: NotifyEventRequest) -> list[VariableEvent]:
    """Every EventData of a NotifyEventRequest, in message order."""
    return [VariableEvent.from_event_data(data) for data in request.event_data]


def apply_events(model: DeviceModel, events: Iterable[VariableEvent]) -> list[VariableKey]:
    """Record events' actual values in the device model; the keys whose value changed.

    Variables the model does not know (the inventory has not been read yet) are skipped, as are values older
    than the model's last timestamped value of the variable.
    """
    return [
        event.key
        for event in events
        if model.update_value(event.key, Attribute.ACTUAL, event.actual_value, at=event.timestamp)
    ]
