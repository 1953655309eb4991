"""Composite schedules: parsing a GetCompositeScheduleResponse (K08)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from custom_components.ocpp_csms.charging.composite import CompositeLimit, LimitPeriod, parse_composite
from custom_components.ocpp_csms.protocol.v201.datatypes import ChargingSchedulePeriod, CompositeSchedule
from custom_components.ocpp_csms.protocol.v201.enums import ChargingRateUnit, GenericStatus
from custom_components.ocpp_csms.protocol.v201.messages import GetCompositeScheduleResponse

A = ChargingRateUnit.A
START = datetime(2025, 3, 12, 16, 0, tzinfo=UTC)
HOUR = 3600


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def response(
    periods: list[tuple[int, float]], *, duration: int = HOUR, phases: int | None = None
) -> GetCompositeScheduleResponse:
    return GetCompositeScheduleResponse(
        status=GenericStatus.ACCEPTED,
        schedule=CompositeSchedule(
            evse_id=1,
            duration=duration,
            schedule_start=START,
            charging_rate_unit=A,
            charging_schedule_period=[
                ChargingSchedulePeriod(start_period=offset, limit=value, number_phases=phases)
                for offset, value in periods
            ],
        ),
    )


def test_k08_a_reported_composite_in_absolute_time() -> None:
    composite = parse_composite(response([(0, 16), (1800, 10)], phases=3))
    assert composite == CompositeLimit(
        1,
        A,
        START,
        at(HOUR),
        (LimitPeriod(START, at(1800), 16, 3), LimitPeriod(at(1800), at(HOUR), 10, 3)),
    )
    assert composite.limit_at(START) == 16
    assert composite.limit_at(at(1799)) == 16
    assert composite.limit_at(at(1800)) == 10
    assert composite.limit_at(at(HOUR)) is None
    assert composite.limit_at(at(-1)) is None
    assert composite.attributes() == {
        "evse_id": 1,
        "unit": "A",
        "start": "2025-03-12T16:00:00+00:00",
        "end": "2025-03-12T17:00:00+00:00",
        "periods": [
            {"start": "2025-03-12T16:00:00+00:00", "end": "2025-03-12T16:30:00+00:00", "limit": 16, "number_phases": 3},
            {"start": "2025-03-12T16:30:00+00:00", "end": "2025-03-12T17:00:00+00:00", "limit": 10, "number_phases": 3},
        ],
    }


def test_k01_fr_11_reported_periods_past_the_duration_are_dropped_and_order_restored() -> None:
    composite = parse_composite(response([(1200, 10), (0, 16), (HOUR, 6)]))
    assert composite is not None
    assert [(p.start, p.end, p.limit) for p in composite.periods] == [(START, at(1200), 16), (at(1200), at(HOUR), 10)]
    assert composite.periods[0].as_dict() == {
        "start": "2025-03-12T16:00:00+00:00",
        "end": "2025-03-12T16:20:00+00:00",
        "limit": 16,
    }


def test_k08_fr_05_rejected_or_empty_responses() -> None:
    assert parse_composite(GetCompositeScheduleResponse(status=GenericStatus.REJECTED)) is None
    assert parse_composite(GetCompositeScheduleResponse(status=GenericStatus.ACCEPTED)) is None
