"""SetChargingProfileRequest / ClearChargingProfileRequest builders, checked against the official JSON schema.

What they refuse to build is in test_profile_errors.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_csms.charging.capabilities import SmartChargingCapabilities
from custom_components.ocpp_csms.charging.profiles import (
    ProfileAllocator,
    ProfileRole,
    SchedulePeriod,
    clear_limit_requests,
    clear_requests,
    limit_profile,
    limit_requests,
    schedule_profile,
    schedule_requests,
)
from custom_components.ocpp_csms.protocol.v201.enums import (
    ChargingProfilePurpose as P,
    ChargingRateUnit,
    RecurrencyKind,
)

from .conftest import NOW, assert_schema_valid

A, W = ChargingRateUnit.A, ChargingRateUnit.W
AMS = ZoneInfo("Europe/Amsterdam")
CAPS = SmartChargingCapabilities(rate_units=(A, W), max_stack_level=8, periods_per_schedule=10)
AMPS_ONLY = SmartChargingCapabilities(rate_units=(A,), max_stack_level=8)
NOW_Z = "2025-03-12T14:30:15Z"


@pytest.fixture
def allocator() -> ProfileAllocator:
    return ProfileAllocator(max_stack_level=8)


def limit(allocator: ProfileAllocator, caps: SmartChargingCapabilities = CAPS, **kwargs: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"evse_id": 1, "limit": 16, "unit": A, "now": NOW} | kwargs
    return assert_schema_valid(limit_profile(allocator, caps, **arguments))


def schedule(
    allocator: ProfileAllocator, periods: list[SchedulePeriod], caps: SmartChargingCapabilities = CAPS, **kwargs: Any
) -> dict[str, Any]:
    arguments: dict[str, Any] = {"evse_id": 1, "periods": periods, "unit": A, "now": NOW, "tz": AMS} | kwargs
    return assert_schema_valid(schedule_profile(allocator, caps, **arguments))


def periods_of(payload: dict[str, Any]) -> list[tuple[int, float]]:
    return [
        (p["startPeriod"], p["limit"])
        for p in payload["chargingProfile"]["chargingSchedule"][0]["chargingSchedulePeriod"]
    ]


# ---- constant limits ---------------------------------------------------------------------------------------------


def test_k01_fr_40_a_limit_is_absolute_from_now(allocator: ProfileAllocator) -> None:
    assert limit(allocator, now=NOW.replace(microsecond=123456)) == {
        "evseId": 1,
        "chargingProfile": {
            "id": 1000,
            "stackLevel": 3,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": [
                {
                    "id": 1000,
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}],
                    "startSchedule": NOW_Z,
                }
            ],
        },
    }


def test_k01_fr_37_a_limit_for_a_while(allocator: ProfileAllocator) -> None:
    profile = limit(allocator, duration=timedelta(minutes=90, microseconds=1), number_phases=1)["chargingProfile"]
    assert profile["validTo"] == "2025-03-12T16:00:16Z"
    assert profile["chargingSchedule"][0]["duration"] == 5401
    assert profile["chargingSchedule"][0]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 1}
    ]
    until = datetime(2025, 3, 12, 18, 0, tzinfo=AMS)
    profile = limit(allocator, until=until)["chargingProfile"]
    assert (profile["validTo"], profile["chargingSchedule"][0]["duration"]) == ("2025-03-12T17:00:00Z", 8985)


def test_station_cap_is_a_charging_station_max_profile(allocator: ProfileAllocator) -> None:
    payload = limit(allocator, evse_id=0, limit=22000, unit=W, purpose=P.CHARGING_STATION_MAX_PROFILE)
    assert payload["evseId"] == 0
    assert payload["chargingProfile"]["chargingProfilePurpose"] == "ChargingStationMaxProfile"
    assert payload["chargingProfile"]["stackLevel"] == 1
    assert periods_of(payload) == [(0, 22000.0)]


@pytest.mark.parametrize(
    ("asked", "phases", "sent"),
    [
        ((11000, W), None, (15.9, "A")),
        ((3680, W), 1, (16.0, "A")),
        ((7400, W), 1, (32.1, "A")),
        ((10, A), 1, (10, "A")),
    ],
)
def test_k01_fr_26_limits_in_a_unit_the_station_takes(
    allocator: ProfileAllocator, asked: tuple[float, ChargingRateUnit], phases: int | None, sent: tuple[float, str]
) -> None:
    schedule_ = limit(allocator, AMPS_ONLY, limit=asked[0], unit=asked[1], number_phases=phases)["chargingProfile"][
        "chargingSchedule"
    ][0]
    assert (schedule_["chargingSchedulePeriod"][0]["limit"], schedule_["chargingRateUnit"]) == sent


def test_k01_fr_03_a_tx_profile_names_its_transaction(allocator: ProfileAllocator) -> None:
    profile = limit(allocator, purpose=P.TX_PROFILE, transaction_id="tx-42")["chargingProfile"]
    assert (profile["chargingProfilePurpose"], profile["transactionId"]) == ("TxProfile", "tx-42")


# ---- schedules: offsets ------------------------------------------------------------------------------------------


def test_offsets_count_from_now(allocator: ProfileAllocator) -> None:
    payload = schedule(allocator, [SchedulePeriod(3600, 6), SchedulePeriod(0, 16), SchedulePeriod(7200, 10)])
    schedule_ = payload["chargingProfile"]["chargingSchedule"][0]
    assert payload["chargingProfile"]["chargingProfileKind"] == "Absolute"
    assert payload["chargingProfile"]["stackLevel"] == 2  # a schedule ranks below a limit (3)
    assert schedule_["startSchedule"] == NOW_Z
    assert "duration" not in schedule_
    assert periods_of(payload) == [(0, 16.0), (3600, 6.0), (7200, 10.0)]


def test_k01_fr_31_the_first_period_starts_at_0(allocator: ProfileAllocator) -> None:
    start = datetime(2025, 3, 12, 22, 0, tzinfo=UTC)
    payload = schedule(allocator, [SchedulePeriod(1800, 6), SchedulePeriod(5400, 16)], start=start)
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == "2025-03-12T22:30:00Z"
    assert periods_of(payload) == [(0, 6.0), (3600, 16.0)]


def test_k01_fr_11_a_schedule_with_an_end(allocator: ProfileAllocator) -> None:
    payload = schedule(allocator, [SchedulePeriod(0, 6), SchedulePeriod(3600, 16)], duration=timedelta(hours=3))
    profile = payload["chargingProfile"]
    assert (profile["validTo"], profile["chargingSchedule"][0]["duration"]) == ("2025-03-12T17:30:15Z", 10800)


# ---- schedules: clock times --------------------------------------------------------------------------------------

# NOW is 15:30:15 in Amsterdam (UTC+1 until 30 March 2025).
EVENING = [SchedulePeriod(time(17, 0), 6), SchedulePeriod(time(21, 0), 16)]


@pytest.mark.parametrize(
    ("periods", "now", "start", "offsets"),
    [
        (EVENING, NOW, "2025-03-12T16:00:00Z", [(0, 6.0), (14400, 16.0)]),
        # sent during its first period: it starts today, in the past
        (
            [SchedulePeriod(time(15, 0), 6), SchedulePeriod(time(21, 0), 16)],
            NOW,
            "2025-03-12T14:00:00Z",
            [(0, 6.0), (21600, 16.0)],
        ),
        # all of today's clock times have passed: tomorrow
        (
            [SchedulePeriod(time(8, 0), 6), SchedulePeriod(time(12, 0), 16)],
            NOW,
            "2025-03-13T07:00:00Z",
            [(0, 6.0), (14400, 16.0)],
        ),
        # across midnight, in the order given
        (
            [SchedulePeriod(time(22, 0), 16), SchedulePeriod(time(6, 0), 10)],
            NOW,
            "2025-03-12T21:00:00Z",
            [(0, 16.0), (28800, 10.0)],
        ),
        # across the switch to summer time (30 March, 02:00 → 03:00): the night is an hour shorter
        (
            [SchedulePeriod(time(22, 0), 16), SchedulePeriod(time(6, 0), 10)],
            datetime(2025, 3, 29, 19, 0, tzinfo=UTC),
            "2025-03-29T21:00:00Z",
            [(0, 16.0), (25200, 10.0)],
        ),
        # a single clock time already past: its next occurrence
        ([SchedulePeriod(time(15, 0), 6)], NOW, "2025-03-13T14:00:00Z", [(0, 6.0)]),
        ([SchedulePeriod(time(15, 30, 15), 6)], NOW, NOW_Z, [(0, 6.0)]),
        # with weekdays: Friday evening, then Monday morning
        (
            [SchedulePeriod(time(18, 0), 6, weekday=4), SchedulePeriod(time(7, 0), 16, weekday=0)],
            NOW,
            "2025-03-14T17:00:00Z",
            [(0, 6.0), (219600, 16.0)],
        ),
    ],
)
def test_one_off_clock_times(
    allocator: ProfileAllocator,
    periods: list[SchedulePeriod],
    now: datetime,
    start: str,
    offsets: list[tuple[int, float]],
) -> None:
    payload = schedule(allocator, periods, now=now)
    assert payload["chargingProfile"]["chargingProfileKind"] == "Absolute"
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == start
    assert periods_of(payload) == offsets


def test_one_off_clock_times_from_a_given_start(allocator: ProfileAllocator) -> None:
    payload = schedule(allocator, EVENING, start=datetime(2025, 3, 20, 12, 0, tzinfo=AMS))
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == "2025-03-20T16:00:00Z"


def test_daily_recurrence_like_the_specs_example(allocator: ProfileAllocator) -> None:
    """Part 2 §3.6: 11 kW at night, 6 kW from 08:00 to 20:00, every day."""
    periods = [
        SchedulePeriod(time(0), 11000, number_phases=3),
        SchedulePeriod(time(8), 6000, number_phases=3),
        SchedulePeriod(time(20), 11000, number_phases=3),
    ]
    profile = schedule(allocator, periods, unit=W, tz=UTC, recurrence=RecurrencyKind.DAILY)["chargingProfile"]
    assert profile["chargingProfileKind"] == "Recurring"
    assert profile["recurrencyKind"] == "Daily"
    assert profile["chargingSchedule"][0] == {
        "id": 1000,
        "chargingRateUnit": "W",
        "startSchedule": "2025-03-12T00:00:00Z",
        "duration": 86400,
        "chargingSchedulePeriod": [
            {"startPeriod": 0, "limit": 11000.0, "numberPhases": 3},
            {"startPeriod": 28800, "limit": 6000.0, "numberPhases": 3},
            {"startPeriod": 72000, "limit": 11000.0, "numberPhases": 3},
        ],
    }


def test_daily_recurrence_wraps_the_last_period_round_midnight(allocator: ProfileAllocator) -> None:
    payload = schedule(allocator, EVENING, recurrence=RecurrencyKind.DAILY, until=NOW + timedelta(days=7))
    profile = payload["chargingProfile"]
    assert profile["chargingSchedule"][0]["startSchedule"] == "2025-03-11T23:00:00Z"  # local midnight
    assert profile["chargingSchedule"][0]["duration"] == 86400
    assert profile["validTo"] == "2025-03-19T14:30:15Z"
    assert periods_of(payload) == [(0, 16.0), (61200, 6.0), (75600, 16.0)]


def test_weekly_recurrence(allocator: ProfileAllocator) -> None:
    periods = [SchedulePeriod(time(8), 10, weekday=5), SchedulePeriod(time(0), 16, weekday=0)]
    payload = schedule(allocator, periods, recurrence=RecurrencyKind.WEEKLY)
    profile = payload["chargingProfile"]
    assert profile["recurrencyKind"] == "Weekly"
    assert profile["chargingSchedule"][0]["startSchedule"] == "2025-03-09T23:00:00Z"  # Monday 00:00 local
    assert profile["chargingSchedule"][0]["duration"] == 604800
    assert periods_of(payload) == [(0, 16.0), (5 * 86400 + 8 * 3600, 10.0)]


def test_recurring_offsets_count_from_midnight_or_start(allocator: ProfileAllocator) -> None:
    periods = [SchedulePeriod(3600, 6), SchedulePeriod(7200, 16)]
    payload = schedule(allocator, periods, recurrence=RecurrencyKind.DAILY)
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == "2025-03-11T23:00:00Z"
    assert periods_of(payload) == [(0, 16.0), (3600, 6.0), (7200, 16.0)]
    start = datetime(2025, 3, 12, 6, 0, tzinfo=UTC)
    payload = schedule(allocator, periods, recurrence=RecurrencyKind.DAILY, start=start)
    assert payload["chargingProfile"]["chargingSchedule"][0]["startSchedule"] == "2025-03-12T06:00:00Z"


def test_k01_fr_26_schedule_periods_converted_with_their_phases(allocator: ProfileAllocator) -> None:
    periods = [SchedulePeriod(0, 11040), SchedulePeriod(3600, 3680, number_phases=1), SchedulePeriod(7200, 1380)]
    payload = schedule(allocator, periods, AMPS_ONLY, unit=W)
    assert payload["chargingProfile"]["chargingSchedule"][0]["chargingRateUnit"] == "A"
    assert periods_of(payload) == [(0, 16.0), (3600, 16.0), (7200, 2.0)]


def test_equal_neighbours_merge_to_fit_periods_per_schedule(allocator: ProfileAllocator) -> None:
    caps = SmartChargingCapabilities(rate_units=(A,), max_stack_level=8, periods_per_schedule=2)
    equal_neighbours = [SchedulePeriod(0, 6), SchedulePeriod(60, 6), SchedulePeriod(120, 16)]
    assert periods_of(schedule(allocator, equal_neighbours, caps)) == [(0, 6.0), (120, 16.0)]


# ---- the control surface: TxDefault + TxProfile policy, clearing --------------------------------------------------


def test_a_limit_for_an_evse_with_a_running_transaction(allocator: ProfileAllocator) -> None:
    requests = limit_requests(
        allocator, CAPS, evse_id=1, limit=10, unit=A, now=NOW, transactions={1: "tx-1", 2: "tx-2"}, also_tx_profile=True
    )
    payloads = [assert_schema_valid(request) for request in requests]
    assert [(p["evseId"], p["chargingProfile"]["chargingProfilePurpose"]) for p in payloads] == [
        (1, "TxDefaultProfile"),
        (1, "TxProfile"),
    ]
    assert payloads[1]["chargingProfile"]["transactionId"] == "tx-1"
    assert payloads[1]["chargingProfile"]["stackLevel"] == 3
    without_policy = limit_requests(allocator, CAPS, evse_id=1, limit=10, unit=A, now=NOW, transactions={1: "tx-1"})
    assert [r.charging_profile.charging_profile_purpose for r in without_policy] == [P.TX_DEFAULT_PROFILE]
    assert without_policy[0].charging_profile.id == requests[0].charging_profile.id  # K01.FR.05: replaced


def test_a_station_wide_limit_ranks_below_an_evses_own(allocator: ProfileAllocator) -> None:
    evse_limit = limit_requests(
        allocator, CAPS, evse_id=1, limit=10, unit=A, now=NOW, transactions={1: "tx-1"}, also_tx_profile=True
    )
    station = limit_requests(
        allocator, CAPS, evse_id=0, limit=8, unit=A, now=NOW, transactions={1: "tx-1", 2: "tx-2"}, also_tx_profile=True
    )
    for request in station:
        assert_schema_valid(request)
    assert [(r.evse_id, r.charging_profile.charging_profile_purpose) for r in station] == [
        (0, P.TX_DEFAULT_PROFILE),
        (1, P.TX_PROFILE),
        (2, P.TX_PROFILE),
    ]
    assert all(r.charging_profile.stack_level == 1 for r in station)
    assert all(r.charging_profile.stack_level == 3 for r in evse_limit)
    ids = {r.charging_profile.id for r in evse_limit + station}
    assert len(ids) == 5

    # Clearing the station-wide limit leaves the EVSE's own alone, and vice versa.
    cleared = [assert_schema_valid(r)["chargingProfileId"] for r in clear_limit_requests(allocator, evse_id=0)]
    assert sorted(cleared) == sorted(r.charging_profile.id for r in station)
    cleared = [r.charging_profile_id for r in clear_limit_requests(allocator, evse_id=1)]
    assert sorted(cleared) == sorted(r.charging_profile.id for r in evse_limit)
    assert allocator.installed() == []
    assert clear_limit_requests(allocator, evse_id=1) == []


def test_schedule_requests_follow_the_same_policy(allocator: ProfileAllocator) -> None:
    periods = [SchedulePeriod(time(17), 6), SchedulePeriod(time(21), 16)]
    common: dict[str, Any] = {"periods": periods, "unit": A, "now": NOW, "tz": AMS, "recurrence": RecurrencyKind.DAILY}
    station = schedule_requests(allocator, CAPS, evse_id=0, transactions={2: "tx-2"}, also_tx_profile=True, **common)
    evse = schedule_requests(allocator, CAPS, evse_id=2, transactions={2: "tx-2"}, also_tx_profile=True, **common)
    alone = schedule_requests(allocator, CAPS, evse_id=3, **common)
    for request in station + evse + alone:
        assert_schema_valid(request)
    levels = [
        (r.evse_id, r.charging_profile.charging_profile_purpose, r.charging_profile.stack_level) for r in station + evse
    ]
    assert levels == [
        (0, P.TX_DEFAULT_PROFILE, 0),
        (2, P.TX_PROFILE, 0),
        (2, P.TX_DEFAULT_PROFILE, 2),
        (2, P.TX_PROFILE, 2),
    ]
    assert len(alone) == 1
    assert [r.charging_profile_id for r in clear_limit_requests(allocator, evse_id=0, schedule=True)] == [
        r.charging_profile.id for r in station
    ]
    assert len(clear_limit_requests(allocator, evse_id=2, schedule=True)) == 2
    assert len(clear_limit_requests(allocator, evse_id=3)) == 0  # a limit was never set there
    assert [r.charging_profile_id for r in clear_requests(allocator)] == [alone[0].charging_profile.id]


def test_clear_requests_only_ever_name_our_ids(allocator: ProfileAllocator) -> None:
    cap = limit_profile(allocator, CAPS, evse_id=0, limit=32, unit=A, now=NOW, purpose=P.CHARGING_STATION_MAX_PROFILE)
    limit_profile(allocator, CAPS, evse_id=1, limit=16, unit=A, now=NOW)
    requests = clear_requests(allocator, purpose=P.CHARGING_STATION_MAX_PROFILE)
    assert [assert_schema_valid(r) for r in requests] == [{"chargingProfileId": cap.charging_profile.id}]
    assert clear_requests(allocator, purpose=P.CHARGING_STATION_MAX_PROFILE) == []
    assert [slot.evse_id for slot in allocator.installed()] == [1]
    assert allocator.installed()[0].role == ProfileRole.LIMIT
