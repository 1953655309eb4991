"""Price and solar forecasts as slots, from the formats integrations publish.

Prices are in the site's currency per kWh (`scale` converts, e.g. 0.001 for a price per MWh). A slot lasts as
long as the source says (15 or 60 minutes usually): its end is given, or the next slot's start, or the usual
spacing of the source's slots.

Formats read (`parse_price_attributes`, a sensor's attributes):

- Nord Pool (custom integration): `raw_today` / `raw_tomorrow`, lists of `{start, end, value}`;
- ENTSO-e: `prices`, a list of `{time, price}`;
- Tibber style: `today` / `tomorrow`, lists of `{startsAt, total}` (or of plain numbers, one per slot of the day);
- Energi Data Service: `raw_today` / `raw_tomorrow` / `forecast`, lists of `{hour, price}`;
- generic: `prices`, `forecast` or `data`, lists of `{start, end?, price}`.

`parse_price_response` reads the response data of an action (Home Assistant's Nord Pool integration answers
`{area: [{start, end, price}]}`, per MWh). Anything else raises `PriceFormatError`, whose `reason` and
placeholders (`expected`, `found`) make a translated message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
import itertools
import math
from typing import Any, Final

#: Attributes that may hold a price list, in the order they are read.
PRICE_LIST_KEYS: Final = ("raw_today", "raw_tomorrow", "prices", "forecast", "data", "today", "tomorrow")
#: Keys of one price item.
START_KEYS: Final = ("start", "startsAt", "starts_at", "start_time", "time", "hour", "from", "period_start")
END_KEYS: Final = ("end", "endsAt", "ends_at", "end_time", "till", "to", "period_end")
PRICE_KEYS: Final = ("price", "value", "total", "price_per_kwh", "energy_price")
EXPECTED_PRICES: Final = (
    "raw_today/raw_tomorrow, prices, forecast, data or today/tomorrow: lists of {start, end?, price} "
    "(also startsAt/total, time/price, hour/price, start/value)"
)
EXPECTED_RESPONSE: Final = "a list of {start, end?, price}, or a mapping of such lists (one per area)"
EXPECTED_SOLAR: Final = (
    "detailedForecast/forecast: lists of {period_start, pv_estimate (kW)} or {start, power (W)}, or watts: {time: W}"
)
SOLAR_LIST_KEYS: Final = ("detailedForecast", "detailedHourly", "forecast", "forecasts")
SOLAR_KW_KEYS: Final = ("pv_estimate", "power_kw")
SOLAR_W_KEYS: Final = ("power", "watts", "value")
_DEFAULT_SLOT: Final = timedelta(hours=1)
_SLOT_CHOICES: Final = (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1))


class PriceProblem(StrEnum):
    """Why a source could not be read (the translation key of the message)."""

    NO_PRICES = "no_prices"
    """None of the attributes we read is there."""
    BAD_ITEM = "bad_item"
    """An item has no start time or no price we can read."""
    BAD_RESPONSE = "bad_response"
    """An action's response data is not a price list."""
    NO_SOLAR = "no_solar"
    """A solar forecast sensor without a forecast we can read."""


class PriceFormatError(ValueError):
    """A price or solar source in a format we cannot read: what we expected and what we found."""

    def __init__(self, reason: PriceProblem, expected: str, found: str) -> None:
        """`expected` and `found` are the message's placeholders (no values from the source, only its shape)."""
        super().__init__(f"{reason.value}: expected {expected}, found {found}")
        self.reason = reason
        self.placeholders = {"expected": expected, "found": found}


@dataclass(frozen=True, slots=True)
class PriceSlot:
    """From `start` until `end` (aware, UTC), energy costs `price` per kWh."""

    start: datetime
    end: datetime
    price: float

    @property
    def duration(self) -> timedelta:
        """How long the slot lasts."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class PowerSlot:
    """From `start` until `end`, `power` W (a solar forecast)."""

    start: datetime
    end: datetime
    power: float


def _found(value: Any) -> str:
    """A short description of what a source holds, for an error message (never the values themselves)."""
    if isinstance(value, Mapping):
        keys = ", ".join(sorted(str(key) for key in value)[:8])
        return f"attributes {keys}" if keys else "no attributes"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)} items"
    return type(value).__name__


def _to_datetime(value: Any, tz: tzinfo) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        moment = datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _first(item: Mapping[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if key in item and item[key] is not None:
            return item[key]
    return None


def _spacing(starts: Sequence[datetime]) -> timedelta:
    """The usual distance between consecutive starts (the most frequent one up to an hour), else one hour."""
    counts: dict[timedelta, int] = {}
    for earlier, later in itertools.pairwise(starts):
        step = later - earlier
        if timedelta(0) < step <= _DEFAULT_SLOT:
            counts[step] = counts.get(step, 0) + 1
    if not counts:
        return _DEFAULT_SLOT
    return max(counts, key=lambda step: (counts[step], -step.total_seconds()))


def _close_slots(items: list[tuple[datetime, datetime | None, float]]) -> list[PriceSlot]:
    """Sorted slots without duplicates (a later item for the same start wins), each with an end."""
    by_start: dict[datetime, tuple[datetime | None, float]] = {}
    for start, end, price in items:
        by_start[start] = (end, price)
    starts = sorted(by_start)
    step = _spacing(starts)
    slots = []
    for index, start in enumerate(starts):
        end, price = by_start[start]
        if end is None or end <= start:
            following = starts[index + 1] if index + 1 < len(starts) else None
            end = following if following is not None and following - start <= step else start + step
        slots.append(PriceSlot(start, end, price))
    return slots


def _day_numbers(numbers: Sequence[Any], day: date, tz: tzinfo) -> list[tuple[datetime, None, float]]:
    """Plain numbers, one per slot of a local day (24 or 96, or as many as the day has hours / quarters)."""
    midnight = datetime.combine(day, time(), tz).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    step = (next_midnight - midnight) / max(len(numbers), 1)
    return [(midnight + step * index, None, _to_float(raw) or 0.0) for index, raw in enumerate(numbers)]


def _items(value: Sequence[Any], key: str, tz: tzinfo) -> list[tuple[datetime, datetime | None, float]]:
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise PriceFormatError(PriceProblem.BAD_ITEM, EXPECTED_PRICES, f"{key}[{index}]: {type(item).__name__}")
        start = _to_datetime(_first(item, START_KEYS), tz)
        price = _to_float(_first(item, PRICE_KEYS))
        if start is None or price is None:
            raise PriceFormatError(PriceProblem.BAD_ITEM, EXPECTED_PRICES, f"{key}[{index}]: {_found(item)}")
        end = _to_datetime(_first(item, END_KEYS), tz)
        items.append((start, end, price))
    return items


def parse_price_attributes(
    attributes: Mapping[str, Any], *, now: datetime, tz: tzinfo = UTC, scale: float = 1.0
) -> list[PriceSlot]:
    """The price slots a sensor's attributes carry (today's and tomorrow's, or the whole forecast).

    `now` (aware) and `tz` place plain numbers on today's and tomorrow's local slots. Raises PriceFormatError.
    """
    items: list[tuple[datetime, datetime | None, float]] = []
    seen = False
    today = now.astimezone(tz).date()
    for key in PRICE_LIST_KEYS:
        value = attributes.get(key)
        if value is None or isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            continue
        seen = True
        if value and all(_to_float(entry) is not None for entry in value):
            if key not in ("today", "tomorrow"):
                raise PriceFormatError(PriceProblem.BAD_ITEM, EXPECTED_PRICES, f"{key}: numbers without times")
            day = today if key == "today" else today + timedelta(days=1)
            items.extend(_day_numbers(value, day, tz))
            continue
        items.extend(_items(value, key, tz))
    if not seen:
        raise PriceFormatError(PriceProblem.NO_PRICES, EXPECTED_PRICES, _found(attributes))
    return [PriceSlot(s.start, s.end, s.price * scale) for s in _close_slots(items)]


def parse_price_response(data: Any, *, tz: tzinfo = UTC, scale: float = 1.0) -> list[PriceSlot]:
    """The price slots in an action's response data (a list, or a mapping of lists: all of them are read)."""
    lists: list[tuple[str, Sequence[Any]]] = []
    if isinstance(data, Mapping):
        lists.extend(
            (str(key), value)
            for key, value in data.items()
            if isinstance(value, Sequence) and not isinstance(value, (str, bytes))
        )
    elif isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        lists.append(("response", data))
    if not lists:
        raise PriceFormatError(PriceProblem.BAD_RESPONSE, EXPECTED_RESPONSE, _found(data))
    items: list[tuple[datetime, datetime | None, float]] = []
    for key, value in lists:
        try:
            items.extend(_items(value, key, tz))
        except PriceFormatError as err:
            raise PriceFormatError(PriceProblem.BAD_RESPONSE, EXPECTED_RESPONSE, err.placeholders["found"]) from None
    return [PriceSlot(s.start, s.end, s.price * scale) for s in _close_slots(items)]


def merge_prices(older: Sequence[PriceSlot], newer: Sequence[PriceSlot], *, keep_after: datetime) -> list[PriceSlot]:
    """Prices known so far with new ones (which win where they overlap), dropping slots ended before `keep_after`.

    A source shows today and tomorrow; the cost of a session that began yesterday still needs yesterday's.
    """
    by_start = {slot.start: slot for slot in older if slot.end > keep_after}
    by_start.update((slot.start, slot) for slot in newer)
    return sorted(by_start.values(), key=lambda slot: slot.start)


def price_at(slots: Sequence[PriceSlot], moment: datetime) -> float | None:
    """The price at `moment` (None when no slot covers it)."""
    low, high = 0, len(slots)
    while low < high:  # slots are sorted: the last one starting at or before the moment
        middle = (low + high) // 2
        if slots[middle].start <= moment:
            low = middle + 1
        else:
            high = middle
    if low and slots[low - 1].end > moment:
        return slots[low - 1].price
    return None


def parse_solar_forecast(attributes: Mapping[str, Any], *, tz: tzinfo = UTC) -> list[PowerSlot]:
    """A solar forecast in W per slot (Solcast's kW estimates, Forecast.Solar's `watts`, or a generic list)."""
    watts = attributes.get("watts")
    if isinstance(watts, Mapping):
        points = sorted(
            (moment, power)
            for moment, power in ((_to_datetime(k, tz), _to_float(v)) for k, v in watts.items())
            if moment is not None and power is not None
        )
        if points:
            step = _spacing([moment for moment, _ in points])
            return [
                PowerSlot(moment, points[i + 1][0] if i + 1 < len(points) else moment + step, power)
                for i, (moment, power) in enumerate(points)
            ]
    for key in SOLAR_LIST_KEYS:
        value = attributes.get(key)
        if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
            continue
        if not value:
            return []  # a forecast with nothing in it (yet)
        items: list[tuple[datetime, datetime | None, float]] = []
        for index, item in enumerate(value):
            start = _to_datetime(_first(item, START_KEYS), tz) if isinstance(item, Mapping) else None
            kilowatts = _to_float(_first(item, SOLAR_KW_KEYS)) if isinstance(item, Mapping) else None
            power = _to_float(_first(item, SOLAR_W_KEYS)) if isinstance(item, Mapping) else None
            if start is None or (kilowatts is None and power is None):
                raise PriceFormatError(PriceProblem.NO_SOLAR, EXPECTED_SOLAR, f"{key}[{index}]")
            end = _to_datetime(_first(item, END_KEYS), tz) if isinstance(item, Mapping) else None
            items.append((start, end, kilowatts * 1000.0 if kilowatts is not None else float(power or 0.0)))
        return [PowerSlot(slot.start, slot.end, max(slot.price, 0.0)) for slot in _close_slots(items)]
    raise PriceFormatError(PriceProblem.NO_SOLAR, EXPECTED_SOLAR, _found(attributes))


def slot_length(slots: Sequence[PriceSlot]) -> timedelta:
    """The sources's slot length (15 or 60 minutes usually), for display."""
    lengths = [slot.duration for slot in slots]
    if not lengths:
        return _DEFAULT_SLOT
    common = max(set(lengths), key=lengths.count)
    return min(_SLOT_CHOICES, key=lambda choice: abs((choice - common).total_seconds()))
