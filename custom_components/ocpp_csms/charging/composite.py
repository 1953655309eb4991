"""Composite schedules as a station reports them (K08).

`parse_composite` turns a GetCompositeScheduleResponse into a `CompositeLimit`: absolute periods (for a
sensor's attributes), the limit at any time and the limit in force now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ..protocol.v201.datatypes import CompositeSchedule
from ..protocol.v201.enums import ChargingRateUnit, GenericStatus
from ..protocol.v201.messages import GetCompositeScheduleResponse


@dataclass(frozen=True, slots=True)
class LimitPeriod:
    """A limit from `start` until `end`; `limit` None means no profile limits charging then."""

    start: datetime
    end: datetime
    limit: float | None
    number_phases: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for entity attributes."""
        item: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat(), "limit": self.limit}
        if self.number_phases is not None:
            item["number_phases"] = self.number_phases
        return item


@dataclass(frozen=True, slots=True)
class CompositeLimit:
    """A composite schedule for one EVSE, in absolute time, from `start` until `end`."""

    evse_id: int
    unit: ChargingRateUnit
    start: datetime
    end: datetime
    periods: tuple[LimitPeriod, ...]

    def period_at(self, moment: datetime) -> LimitPeriod | None:
        """The period in force at `moment` (None outside the schedule)."""
        for period in self.periods:
            if period.start <= moment < period.end:
                return period
        return None

    def limit_at(self, moment: datetime) -> float | None:
        """The limit at `moment`, None if unlimited or outside the schedule."""
        period = self.period_at(moment)
        return None if period is None else period.limit

    def attributes(self) -> dict[str, Any]:
        """The schedule as JSON-ready attributes of a sensor."""
        return {
            "evse_id": self.evse_id,
            "unit": self.unit.value,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "periods": [period.as_dict() for period in self.periods],
        }


def from_composite_schedule(schedule: CompositeSchedule) -> CompositeLimit:
    """The absolute view of a reported composite schedule (periods past its duration are dropped, K01.FR.11)."""
    start = schedule.schedule_start.astimezone(UTC)
    end = start + timedelta(seconds=max(schedule.duration, 0))
    ordered = sorted(schedule.charging_schedule_period, key=lambda period: period.start_period)
    periods = []
    for index, period in enumerate(ordered):
        begin = start + timedelta(seconds=max(period.start_period, 0))
        until = start + timedelta(seconds=ordered[index + 1].start_period) if index + 1 < len(ordered) else end
        until = min(until, end)
        if begin < until:
            periods.append(LimitPeriod(begin, until, period.limit, period.number_phases))
    return CompositeLimit(schedule.evse_id, schedule.charging_rate_unit, start, end, tuple(periods))


def parse_composite(response: GetCompositeScheduleResponse) -> CompositeLimit | None:
    """The composite schedule of an accepted response, else None (K08.FR.05)."""
    if response.status != GenericStatus.ACCEPTED or response.schedule is None:
        return None
    return from_composite_schedule(response.schedule)
