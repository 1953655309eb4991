"""Composite schedules: parsing a GetCompositeScheduleResponse, and the expected composite of profile stacks (K08)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.ocpp_csms.charging.composite import (
    CompositeLimit,
    LimitPeriod,
    expected_composite,
    parse_composite,
)
from custom_components.ocpp_csms.protocol.v201.datatypes import (
    ChargingProfile,
    ChargingSchedule,
    ChargingSchedulePeriod,
    CompositeSchedule,
)
from custom_components.ocpp_csms.protocol.v201.enums import (
    ChargingProfileKind as K,
    ChargingProfilePurpose as P,
    ChargingRateUnit,
    GenericStatus,
    RecurrencyKind,
)
from custom_components.ocpp_csms.protocol.v201.messages import GetCompositeScheduleResponse

A, W = ChargingRateUnit.A, ChargingRateUnit.W
START = datetime(2025, 3, 12, 16, 0, tzinfo=UTC)
HOUR = 3600


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


# ---- as reported -------------------------------------------------------------------------------------------------


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


# ---- as expected -------------------------------------------------------------------------------------------------


def make(
    purpose: P,
    level: int,
    periods: Sequence[tuple[float, ...]],
    *,
    kind: K = K.ABSOLUTE,
    start: datetime | None = START,
    unit: ChargingRateUnit = A,
    duration: int | None = None,
    recurrency: RecurrencyKind | None = None,
    valid: tuple[float, float] | None = None,
    tx: str | None = None,
    pid: int = 1,
) -> ChargingProfile:
    return ChargingProfile(
        id=pid,
        stack_level=level,
        charging_profile_purpose=purpose,
        charging_profile_kind=kind,
        recurrency_kind=recurrency,
        valid_from=None if valid is None else at(valid[0]),
        valid_to=None if valid is None else at(valid[1]),
        transaction_id=tx,
        charging_schedule=[
            ChargingSchedule(
                id=1,
                charging_rate_unit=unit,
                start_schedule=None if kind == K.RELATIVE else start,
                duration=duration,
                charging_schedule_period=[
                    ChargingSchedulePeriod(
                        start_period=int(p[0]), limit=p[1], number_phases=int(p[2]) if len(p) > 2 else None
                    )
                    for p in periods
                ],
            )
        ],
    )


TXD, TXP, MAX, EXT = (
    P.TX_DEFAULT_PROFILE,
    P.TX_PROFILE,
    P.CHARGING_STATION_MAX_PROFILE,
    P.CHARGING_STATION_EXTERNAL_CONSTRAINTS,
)

CASES: dict[str, tuple[list[tuple[int, ChargingProfile]], dict[str, object], list[tuple[int, int, float | None]]]] = {
    "nothing installed: no limit": ([], {}, [(0, HOUR, None)]),
    "one TxDefaultProfile": ([(1, make(TXD, 0, [(0, 16)]))], {}, [(0, HOUR, 16)]),
    "K01.FR.17 a higher stack level overrules for its duration, then the lower one is back": (
        [(1, make(TXD, 0, [(0, 16)])), (1, make(TXD, 1, [(0, 6)], start=at(600), duration=600))],
        {},
        [(0, 600, 16), (600, 1200, 6), (1200, HOUR, 16)],
    ),
    "a higher level without a period yet lets the lower one lead": (
        [(1, make(TXD, 0, [(0, 16)])), (1, make(TXD, 5, [(0, 6)], start=at(1800)))],
        {},
        [(0, 1800, 16), (1800, HOUR, 6)],
    ),
    "K01.FR.36/37 validFrom and validTo": (
        [(1, make(TXD, 0, [(0, 16)])), (1, make(TXD, 1, [(0, 6)], valid=(600, 1200)))],
        {},
        [(0, 600, 16), (600, 1200, 6), (1200, HOUR, 16)],
    ),
    "K08.FR.04 the lowest of ChargingStationMax and TxDefault": (
        [(0, make(MAX, 0, [(0, 10)])), (1, make(TXD, 0, [(0, 16), (1800, 6)]))],
        {},
        [(0, 1800, 10), (1800, HOUR, 6)],
    ),
    "SC.01 external constraints count too": (
        [(0, make(MAX, 0, [(0, 32)])), (0, make(EXT, 1, [(0, 8)], start=at(900))), (1, make(TXD, 2, [(0, 16)]))],
        {},
        [(0, 900, 16), (900, HOUR, 8)],
    ),
    "a TxProfile overrules the TxDefaultProfile, even a higher one": (
        [(1, make(TXD, 5, [(0, 6)])), (1, make(TXP, 0, [(0, 16)], tx="tx-1"))],
        {"transaction_id": "tx-1"},
        [(0, HOUR, 16)],
    ),
    "K08.FR.06 without a transaction, TxProfiles don't count": (
        [(1, make(TXD, 5, [(0, 6)])), (1, make(TXP, 0, [(0, 16)], tx="tx-1"))],
        {},
        [(0, HOUR, 6)],
    ),
    "another transaction's TxProfile doesn't count": (
        [(1, make(TXD, 5, [(0, 6)])), (1, make(TXP, 0, [(0, 16)], tx="tx-0"))],
        {"transaction_id": "tx-1"},
        [(0, HOUR, 6)],
    ),
    "a TxProfile that ended hands back to the TxDefaultProfile": (
        [(1, make(TXD, 0, [(0, 6)])), (1, make(TXP, 0, [(0, 16)], duration=1800, tx="tx-1"))],
        {"transaction_id": "tx-1"},
        [(0, 1800, 16), (1800, HOUR, 6)],
    ),
    "K01.FR.14 a TxDefaultProfile on EVSE 0 applies to the EVSE; the EVSE's own wins at a higher level": (
        [(0, make(TXD, 0, [(0, 10)])), (1, make(TXD, 1, [(0, 16)], start=at(1800)))],
        {},
        [(0, 1800, 10), (1800, HOUR, 16)],
    ),
    "profiles of other EVSEs don't count": (
        [(2, make(TXD, 0, [(0, 6)])), (2, make(TXP, 0, [(0, 6)], tx="tx-1"))],
        {"transaction_id": "tx-1"},
        [(0, HOUR, None)],
    ),
    "K01.FR.30 an absolute schedule starting later": (
        [(1, make(TXD, 0, [(0, 6), (600, 16)], start=at(1200)))],
        {},
        [(0, 1200, None), (1200, 1800, 6), (1800, HOUR, 16)],
    ),
    "a relative schedule starts when charging started": (
        [(1, make(TXD, 0, [(0, 6), (600, 16)], kind=K.RELATIVE))],
        {"charging_started": at(-300)},
        [(0, 300, 6), (300, HOUR, 16)],
    ),
    "a relative schedule without a session starts at the start": (
        [(1, make(TXD, 0, [(0, 6), (600, 16)], kind=K.RELATIVE))],
        {},
        [(0, 600, 6), (600, HOUR, 16)],
    ),
    "a first period starting late (against K01.FR.31) sets nothing before it": (
        [(1, make(TXD, 0, [(600, 6)]))],
        {},
        [(0, 600, None), (600, HOUR, 6)],
    ),
    "a relative schedule of a session starting later": (
        [(1, make(TXD, 0, [(0, 6)], kind=K.RELATIVE))],
        {"charging_started": at(600)},
        [(0, 600, None), (600, HOUR, 6)],
    ),
}


@pytest.mark.parametrize(("profiles", "kwargs", "expected"), CASES.values(), ids=CASES.keys())
def test_k08_expected_composite(
    profiles: list[tuple[int, ChargingProfile]],
    kwargs: dict[str, object],
    expected: list[tuple[int, int, float | None]],
) -> None:
    composite = expected_composite(profiles, evse_id=1, start=START, duration=HOUR, unit=A, **kwargs)  # type: ignore[arg-type]
    assert [
        (int((p.start - START).total_seconds()), int((p.end - START).total_seconds()), p.limit)
        for p in composite.periods
    ] == expected
    assert (composite.evse_id, composite.unit, composite.start, composite.end) == (1, A, START, at(HOUR))


def test_daily_recurrence_over_a_day() -> None:
    """The example of Part 2 §3.6 in amps, looked at from 16:00 for 24 hours."""
    daily = make(
        TXD,
        0,
        [(0, 16), (17 * HOUR, 6), (21 * HOUR, 16)],
        kind=K.RECURRING,
        recurrency=RecurrencyKind.DAILY,
        start=datetime(2025, 3, 1, tzinfo=UTC),
        duration=24 * HOUR,
    )
    composite = expected_composite([(1, daily)], evse_id=1, start=START, duration=24 * HOUR, unit=A)
    assert [(p.start.hour, p.limit) for p in composite.periods] == [(16, 16), (17, 6), (21, 16)]
    assert composite.periods[-1].end == at(24 * HOUR)


def test_k01_fr_13_recurrence_with_a_shorter_duration_falls_back() -> None:
    evening = make(
        TXD,
        1,
        [(0, 6)],
        kind=K.RECURRING,
        recurrency=RecurrencyKind.DAILY,
        start=datetime(2025, 3, 1, 17, tzinfo=UTC),
        duration=4 * HOUR,
    )
    base = make(TXD, 0, [(0, 16)], pid=2)
    composite = expected_composite([(1, evening), (1, base)], evse_id=1, start=START, duration=48 * HOUR, unit=A)
    assert [(p.start.day, p.start.hour, p.limit) for p in composite.periods] == [
        (12, 16, 16),
        (12, 17, 6),
        (12, 21, 16),
        (13, 17, 6),
        (13, 21, 16),
    ]


def test_weekly_recurrence_and_a_recurrence_not_started_yet() -> None:
    weekly = make(
        TXD,
        0,
        [(0, 6), (HOUR, 16)],
        kind=K.RECURRING,
        recurrency=RecurrencyKind.WEEKLY,
        start=datetime(2025, 3, 5, 16, tzinfo=UTC),  # a Wednesday, a week before START
    )
    composite = expected_composite([(1, weekly)], evse_id=1, start=START, duration=2 * HOUR, unit=A)
    assert [p.limit for p in composite.periods] == [6, 16]
    later = make(TXD, 0, [(0, 6)], kind=K.RECURRING, recurrency=RecurrencyKind.DAILY, start=at(1800))
    composite = expected_composite([(1, later)], evse_id=1, start=START, duration=HOUR, unit=A)
    assert [(p.start, p.limit) for p in composite.periods] == [(START, None), (at(1800), 6)]


@pytest.mark.parametrize(
    ("unit", "limit", "phases"),
    [(A, 16, 3), (W, 11040, 3)],
)
def test_units_are_converted_and_the_fewest_phases_win(unit: ChargingRateUnit, limit: float, phases: int) -> None:
    profiles = [
        (0, make(MAX, 0, [(0, 11040, 3)], unit=W)),
        (1, make(TXD, 0, [(0, 20)])),
    ]
    composite = expected_composite(profiles, evse_id=1, start=START, duration=HOUR, unit=unit)
    assert [(p.limit, p.number_phases) for p in composite.periods] == [(pytest.approx(limit), phases)]
    single = [(0, make(MAX, 0, [(0, 32, 3)])), (1, make(TXD, 0, [(0, 7360, 1)], unit=W))]
    composite = expected_composite(single, evse_id=1, start=START, duration=HOUR, unit=A)
    assert [(p.limit, p.number_phases) for p in composite.periods] == [(pytest.approx(32), 1)]


def test_evse_0_combines_only_what_is_on_evse_0() -> None:
    profiles = [(0, make(MAX, 0, [(0, 32)])), (0, make(TXD, 0, [(0, 20)])), (1, make(TXD, 1, [(0, 6)]))]
    composite = expected_composite(profiles, evse_id=0, start=START, duration=HOUR, unit=A, transaction_id="x")
    assert [p.limit for p in composite.periods] == [20]


def test_an_empty_window_and_a_naive_start() -> None:
    assert expected_composite([], evse_id=1, start=START, duration=0, unit=A).periods == ()
    with pytest.raises(ValueError, match="aware"):
        expected_composite([], evse_id=1, start=START.replace(tzinfo=None), duration=60, unit=A)


def test_prediction_matches_what_a_station_would_report() -> None:
    """The integration predicts, the station reports; both views compare period by period."""
    profiles = [(0, make(MAX, 0, [(0, 10)])), (1, make(TXD, 0, [(0, 16), (1800, 6)]))]
    predicted = expected_composite(profiles, evse_id=1, start=START, duration=HOUR, unit=A)
    reported = parse_composite(response([(0, 10), (1800, 6)]))
    assert reported is not None
    assert [(p.start, p.end, p.limit) for p in predicted.periods] == [
        (p.start, p.end, p.limit) for p in reported.periods
    ]
