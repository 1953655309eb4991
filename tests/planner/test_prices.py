"""Each price format a source may publish, read into slots; what we cannot read says what we expected."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from custom_components.ocpp_csms.planner.prices import (
    PowerSlot,
    PriceFormatError,
    PriceProblem,
    PriceSlot,
    merge_prices,
    parse_price_attributes,
    parse_price_response,
    parse_solar_forecast,
    price_at,
    slot_length,
)

NOW = datetime(2026, 3, 10, 9, 20, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")


def _hourly(day: str, count: int = 3) -> list[dict[str, object]]:
    start = datetime.fromisoformat(f"{day}T00:00:00+01:00")
    return [
        {
            "start": (start + timedelta(hours=h)).isoformat(),
            "end": (start + timedelta(hours=h + 1)).isoformat(),
            "value": 0.1 + h / 100,
        }
        for h in range(count)
    ]


def test_nord_pool_custom_raw_today_and_tomorrow() -> None:
    attributes = {"raw_today": _hourly("2026-03-10"), "raw_tomorrow": _hourly("2026-03-11", 2), "unit": "kWh"}
    slots = parse_price_attributes(attributes, now=NOW, tz=BERLIN)
    assert len(slots) == 5
    assert slots[0] == PriceSlot(datetime(2026, 3, 9, 23, tzinfo=UTC), datetime(2026, 3, 10, 0, tzinfo=UTC), 0.1)
    assert slots[3].start == datetime(2026, 3, 10, 23, tzinfo=UTC)
    assert slot_length(slots) == timedelta(hours=1)


def test_nord_pool_custom_late_tomorrow_is_empty() -> None:
    slots = parse_price_attributes({"raw_today": _hourly("2026-03-10"), "raw_tomorrow": []}, now=NOW)
    assert len(slots) == 3


def test_entsoe_prices_quarter_hours() -> None:
    prices = [{"time": f"2026-03-10 10:{m:02d}:00+00:00", "price": 0.2 + m / 1000} for m in (0, 15, 30, 45)]
    slots = parse_price_attributes({"prices": prices, "prices_today": [], "avg": 0.2}, now=NOW)
    assert [slot.duration for slot in slots] == [timedelta(minutes=15)] * 4
    assert slots[-1].end == datetime(2026, 3, 10, 11, tzinfo=UTC)
    assert slots[1].price == pytest.approx(0.215)
    assert slot_length(slots) == timedelta(minutes=15)


def test_tibber_style_starts_at_total() -> None:
    today = [{"startsAt": "2026-03-10T00:00:00.000+01:00", "total": 0.31, "energy": 0.2, "tax": 0.11}]
    tomorrow = [{"startsAt": "2026-03-11T00:00:00.000+01:00", "total": 0.25}]
    slots = parse_price_attributes({"today": today, "tomorrow": tomorrow}, now=NOW)
    assert [slot.price for slot in slots] == [0.31, 0.25]
    assert slots[0].end == slots[0].start + timedelta(hours=1)  # the next start is a day away: the usual step


def test_plain_numbers_per_local_day() -> None:
    slots = parse_price_attributes({"today": [0.1] * 24, "tomorrow": [0.2] * 96}, now=NOW, tz=BERLIN)
    assert len(slots) == 24 + 96
    assert slots[0].start == datetime(2026, 3, 9, 23, tzinfo=UTC)
    assert slots[24].start == datetime(2026, 3, 10, 23, tzinfo=UTC)
    assert slots[24].duration == timedelta(minutes=15)


def test_energi_data_service_hour_price() -> None:
    raw = [{"hour": "2026-03-10T10:00:00+01:00", "price": 1.5}, {"hour": "2026-03-10T11:00:00+01:00", "price": 1.2}]
    forecast = [{"hour": "2026-03-11T10:00:00+01:00", "price": 1.1}]
    slots = parse_price_attributes({"raw_today": raw, "forecast": forecast}, now=NOW)
    assert [slot.price for slot in slots] == [1.5, 1.2, 1.1]


def test_generic_list_with_and_without_end_and_naive_times() -> None:
    data = [
        {"start": "2026-03-10T10:00:00", "end": "2026-03-10T10:30:00", "price": "0.5"},
        {"start": "2026-03-10T10:30:00", "price": 0.4},
        {"start": datetime(2026, 3, 10, 11, tzinfo=UTC), "price": -0.01},
    ]
    slots = parse_price_attributes({"data": data}, now=NOW, tz=BERLIN)
    assert slots[0].start == datetime(2026, 3, 10, 9, tzinfo=UTC)
    assert slots[0].end == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    assert slots[1].end == datetime(2026, 3, 10, 10, tzinfo=UTC)
    assert slots[2].price == -0.01


def test_scale_per_mwh() -> None:
    slots = parse_price_attributes({"prices": [{"start": 1773136800, "price": 120.0}]}, now=NOW, scale=0.001)
    assert slots[0].price == pytest.approx(0.12)
    assert slots[0].start == datetime(2026, 3, 10, 10, tzinfo=UTC)


def test_core_nord_pool_action_response() -> None:
    data = {
        "SE3": [
            {"start": "2026-03-10T10:00:00+00:00", "end": "2026-03-10T10:15:00+00:00", "price": 801.2},
            {"start": "2026-03-10T10:15:00+00:00", "end": "2026-03-10T10:30:00+00:00", "price": 750.0},
        ]
    }
    slots = parse_price_response(data, scale=0.001)
    assert [round(slot.price, 4) for slot in slots] == [0.8012, 0.75]
    assert parse_price_response(data["SE3"])[1].price == 750.0


@pytest.mark.parametrize(
    ("attributes", "reason", "found"),
    [
        ({"unit": "kWh", "current_price": 0.3}, PriceProblem.NO_PRICES, "attributes current_price, unit"),
        ({"prices": [{"when": 1, "cost": 2}]}, PriceProblem.BAD_ITEM, "prices[0]: attributes cost, when"),
        ({"prices": ["soon"]}, PriceProblem.BAD_ITEM, "prices[0]: str"),
        ({"prices": [0.1, 0.2]}, PriceProblem.BAD_ITEM, "prices: numbers without times"),
        ({"today": [0.1, "dear"]}, PriceProblem.BAD_ITEM, "today[0]: float"),
        ({"prices": [{"start": "yesterday", "price": 1}]}, PriceProblem.BAD_ITEM, "prices[0]: attributes price, start"),
        ({"prices": [{"start": "2026-03-10T10:00:00Z", "price": "nan"}]}, PriceProblem.BAD_ITEM, "prices[0]"),
    ],
)
def test_unreadable_attributes_say_what_was_expected(
    attributes: dict[str, object], reason: PriceProblem, found: str
) -> None:
    with pytest.raises(PriceFormatError) as caught:
        parse_price_attributes(attributes, now=NOW)
    assert caught.value.reason is reason
    assert caught.value.placeholders["found"].startswith(found)
    assert "raw_today" in caught.value.placeholders["expected"]


@pytest.mark.parametrize("data", [None, "prices", {"count": 3}, {"SE3": [{"start": True, "price": 1}]}])
def test_unreadable_response(data: object) -> None:
    with pytest.raises(PriceFormatError) as caught:
        parse_price_response(data)
    assert caught.value.reason is PriceProblem.BAD_RESPONSE


def test_merge_keeps_what_a_session_still_needs() -> None:
    old = [PriceSlot(NOW + timedelta(hours=h), NOW + timedelta(hours=h + 1), 1.0) for h in range(-3, 2)]
    new = [PriceSlot(NOW + timedelta(hours=h), NOW + timedelta(hours=h + 1), 2.0) for h in range(1, 3)]
    merged = merge_prices(old, new, keep_after=NOW - timedelta(hours=1, minutes=30))
    assert [slot.price for slot in merged] == [1.0, 1.0, 1.0, 2.0, 2.0]
    assert price_at(merged, NOW + timedelta(minutes=90)) == 2.0
    assert price_at(merged, NOW - timedelta(hours=5)) is None
    assert price_at(merged, NOW + timedelta(hours=9)) is None


def test_solar_forecasts() -> None:
    solcast = {
        "detailedForecast": [
            {"period_start": "2026-03-10T10:00:00+00:00", "pv_estimate": 2.5},
            {"period_start": "2026-03-10T10:30:00+00:00", "pv_estimate": 3.0},
        ]
    }
    slots = parse_solar_forecast(solcast)
    assert slots[0] == PowerSlot(datetime(2026, 3, 10, 10, tzinfo=UTC), datetime(2026, 3, 10, 10, 30, tzinfo=UTC), 2500)
    assert slots[1].end == datetime(2026, 3, 10, 11, tzinfo=UTC)
    watts = parse_solar_forecast({"watts": {"2026-03-10T10:00:00+00:00": 1000, "2026-03-10T11:00:00+00:00": 0}})
    assert [slot.power for slot in watts] == [1000, 0]
    generic = parse_solar_forecast({"forecast": [{"start": "2026-03-10T10:00:00+00:00", "power": 800}]})
    assert generic[0].power == 800
    with pytest.raises(PriceFormatError) as caught:
        parse_solar_forecast({"forecast": [{"start": "2026-03-10T10:00:00+00:00"}]})
    assert caught.value.reason is PriceProblem.NO_SOLAR
    assert parse_solar_forecast({"detailedForecast": []}) == []
    with pytest.raises(PriceFormatError):
        parse_solar_forecast({"energy": 3})
