"""Every dateTime the central system sends has at most three decimal places (Part 2, primitive datatypes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import re
from typing import Annotated, Any

from pydantic import TypeAdapter
import pytest

from custom_components.ocpp_csms.protocol.model import OcppModel, format_date_time
from custom_components.ocpp_csms.protocol.v201 import datatypes, messages
from custom_components.ocpp_csms.protocol.v201.enums import RegistrationStatus
from custom_components.ocpp_csms.protocol.v201.messages import BootNotificationResponse, HeartbeatResponse

#: RFC 3339 with at most milliseconds.
OCPP_DATE_TIME = re.compile(r'"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})"')
MOMENT = datetime(2026, 11, 30, 23, 39, 25, 708043, tzinfo=timezone(timedelta(hours=1)))


def models() -> list[type[OcppModel]]:
    return [
        value
        for module in (datatypes, messages)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, OcppModel) and value is not OcppModel
    ]


def date_time_fields() -> list[tuple[str, Any]]:
    fields = []
    for model in models():
        for name, field in model.model_fields.items():
            if "datetime" in str(field.annotation).lower():
                fields.append((f"{model.__name__}.{name}", Annotated[field.annotation, *field.metadata]))
    return fields


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """No Home Assistant here."""


def test_the_format() -> None:
    assert format_date_time(MOMENT) == "2026-11-30T23:39:25.708+01:00"
    assert format_date_time(MOMENT.astimezone(UTC)) == "2026-11-30T22:39:25.708Z"
    assert format_date_time(MOMENT.replace(microsecond=0)) == "2026-11-30T23:39:25+01:00"
    assert format_date_time(MOMENT.replace(microsecond=999)) == "2026-11-30T23:39:25+01:00"
    assert format_date_time(datetime(2026, 1, 1, tzinfo=UTC)) == "2026-01-01T00:00:00Z"


def test_there_are_date_time_fields() -> None:
    assert len(date_time_fields()) >= 25


@pytest.mark.parametrize(("where", "annotation"), date_time_fields(), ids=lambda item: str(item)[:60])
def test_every_date_time_field_is_sent_with_at_most_milliseconds(where: str, annotation: Any) -> None:
    sent = TypeAdapter(annotation).dump_json(MOMENT).decode()
    assert OCPP_DATE_TIME.fullmatch(sent), (where, sent)


def test_boot_and_heartbeat_answers() -> None:
    """The defect as found: currentTime had six fractional digits."""
    heartbeat = HeartbeatResponse(current_time=MOMENT.astimezone(UTC)).to_json()
    assert heartbeat == b'{"currentTime":"2026-11-30T22:39:25.708Z"}'
    boot = BootNotificationResponse(current_time=MOMENT, interval=300, status=RegistrationStatus.ACCEPTED).to_payload()
    assert boot["currentTime"] == "2026-11-30T23:39:25.708+01:00"
