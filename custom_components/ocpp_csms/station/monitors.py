"""Variable monitors of a station (N02-N07): who set them, their severity, and which events are problems.

The station numbers its monitors (N04.FR.11). The central system learns the ids from SetVariableMonitoring results
and monitoring reports, so that it knows the severity of the monitor behind each NotifyEvent (EventData carries the
monitor's id, not its severity) and whose monitor it is: the integration's own Delta monitors, which keep entities
current, are never cleared or replaced by the user's actions, and the user's are never touched by the integration.

Severities (Part 2, SetMonitoringLevelRequest): 0 Danger, 1 Hardware Failure, 2 System Failure, 3 Critical,
4 Error, 5 Alert, 6 Warning, 7 Notice, 8 Informational, 9 Debug; lower is more severe.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ..protocol.v201.datatypes import MonitoringData, SetMonitoringResult
from ..protocol.v201.enums import Monitor, SetMonitoringStatus
from .device_model import VariableKey
from .events import VariableEvent

#: The names of the severity levels 0-9, as the selectors and translations key them.
SEVERITY_LEVELS: Final = (
    "danger",
    "hardware_failure",
    "system_failure",
    "critical",
    "error",
    "alert",
    "warning",
    "notice",
    "informational",
    "debug",
)
#: Events of monitors this severe or more (a lower number) are problems, unless the options say otherwise.
DEFAULT_PROBLEM_SEVERITY: Final = 3
#: The severity of a monitor the user sets without naming one: 5 "Alert", the spec's default for monitoring events.
DEFAULT_MONITOR_SEVERITY: Final = 5
#: The variable a component reports a problem with (Part 2 appendix, standardized variables: Problem).
PROBLEM_VARIABLE: Final = "Problem"


class MonitorOwner(StrEnum):
    """Who set a monitor."""

    INTEGRATION = "integration"  # the Delta monitors that keep variable entities current
    USER = "user"  # the set_variable_monitoring action
    STATION = "station"  # preconfigured or hard-wired, or set before Home Assistant knew of it


@dataclass(frozen=True, slots=True)
class MonitorInfo:
    """One monitor of a station."""

    id: int
    key: VariableKey
    type: Monitor
    severity: int
    owner: MonitorOwner
    value: float | None = None
    transaction: bool = False

    def to_dict(self) -> dict[str, Any]:
        """For an action's response."""
        return {
            "id": self.id,
            **{name: value for name, value in self.key.to_dict().items() if value is not None},
            "type": self.type.value,
            "severity": self.severity,
            "value": self.value,
            "transaction": self.transaction,
            "owner": self.owner.value,
        }


class StationMonitors:
    """The monitors of one station that the central system knows of, by id."""

    def __init__(self) -> None:
        """None known."""
        self._by_id: dict[int, MonitorInfo] = {}

    def __len__(self) -> int:
        """How many monitors are known."""
        return len(self._by_id)

    def get(self, monitor_id: int | None) -> MonitorInfo | None:
        """A monitor by id."""
        return self._by_id.get(monitor_id) if monitor_id is not None else None

    def owner(self, monitor_id: int) -> MonitorOwner | None:
        """Who set the monitor (None: unknown)."""
        info = self._by_id.get(monitor_id)
        return info.owner if info is not None else None

    def all(self) -> list[MonitorInfo]:
        """Every known monitor, by id."""
        return [self._by_id[monitor_id] for monitor_id in sorted(self._by_id)]

    def ids(self, owner: MonitorOwner) -> set[int]:
        """The ids of the monitors of one owner."""
        return {info.id for info in self._by_id.values() if info.owner is owner}

    def record_results(
        self, results: Iterable[SetMonitoringResult], owner: MonitorOwner, values: dict[VariableKey, float]
    ) -> list[MonitorInfo]:
        """Keep the monitors a SetVariableMonitoringResponse accepted; the monitors recorded.

        `values` gives each requested variable's monitor value (results do not repeat it).
        """
        recorded: list[MonitorInfo] = []
        for result in results:
            if result.status is not SetMonitoringStatus.ACCEPTED or result.id is None:
                continue
            key = VariableKey.from_ocpp(result.component, result.variable)
            info = MonitorInfo(
                id=result.id,
                key=key,
                type=result.type,
                severity=result.severity,
                owner=owner,
                value=values.get(key),
            )
            self._by_id[info.id] = info
            recorded.append(info)
        return recorded

    def record_report(self, report: Iterable[MonitoringData]) -> list[MonitorInfo]:
        """The monitors of a monitoring report (N02), with their owners as far as known."""
        found: list[MonitorInfo] = []
        for data in report:
            key = VariableKey.from_ocpp(data.component, data.variable)
            for monitor in data.variable_monitoring:
                known = self._by_id.get(monitor.id)
                owner = known.owner if known is not None and known.key == key else MonitorOwner.STATION
                info = MonitorInfo(
                    id=monitor.id,
                    key=key,
                    type=monitor.type,
                    severity=monitor.severity,
                    owner=owner,
                    value=monitor.value,
                    transaction=monitor.transaction,
                )
                self._by_id[info.id] = info
                found.append(info)
        return found

    def forget(self, monitor_ids: Iterable[int]) -> None:
        """Cleared monitors."""
        for monitor_id in monitor_ids:
            self._by_id.pop(monitor_id, None)

    def forget_custom(self) -> None:
        """SetMonitoringBase FactoryDefault or HardWiredOnly deleted every custom monitor (N03.FR.04-05)."""
        self._by_id = {
            monitor_id: info for monitor_id, info in self._by_id.items() if info.owner is MonitorOwner.STATION
        }


@dataclass(frozen=True, slots=True)
class ProblemEvent:
    """A NotifyEvent entry that reports a problem, or that a problem went away."""

    event: VariableEvent
    severity: int | None
    cleared: bool


def problem_of(event: VariableEvent, monitor: MonitorInfo | None, threshold: int) -> ProblemEvent | None:
    """Whether an event reports a problem (or its end); None for ordinary value changes.

    A problem is a component's `Problem` variable turning true (false ends it), or an event of a monitor at least as
    severe as `threshold` (its `cleared` event, N07.FR.02, ends it).
    """
    severity = monitor.severity if monitor is not None else None
    if event.key.variable.lower() == PROBLEM_VARIABLE.lower():
        value = event.actual_value.strip().lower()
        if value in ("true", "false"):
            return ProblemEvent(event, severity, cleared=value == "false")
    if severity is not None and severity <= threshold:
        return ProblemEvent(event, severity, cleared=event.cleared)
    return None
