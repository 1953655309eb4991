"""The reservations Home Assistant made (H01-H04): ids never reused, what each station and EVSE holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

from custom_components.ocpp_csms.protocol.v201.enums import Connector, IdTokenEnum
from custom_components.ocpp_csms.station.reservations import MAX_RESERVATION_ID, Reservation, ReservationBook

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def reservation(book: ReservationBook, station_id: str, evse_id: int | None, minutes: int) -> Reservation:
    made = Reservation(
        id=book.new_id(),
        station_id=station_id,
        evse_id=evse_id,
        connector_type=None if evse_id else Connector.S_TYPE2,
        id_token="CARD",
        token_type=IdTokenEnum.ISO14443,
        group_id="FAMILY" if evse_id else None,
        expires_at=NOW + timedelta(minutes=minutes),
    )
    book.add(made)
    return made


def test_h01_reservations_by_evse_and_station() -> None:
    book = ReservationBook()
    first = reservation(book, "CP-1", 1, 30)
    anywhere_late = reservation(book, "CP-1", None, 60)
    anywhere_soon = reservation(book, "CP-1", None, 10)
    other = reservation(book, "CP-2", 1, 5)
    assert [first.id, anywhere_late.id, anywhere_soon.id, other.id] == [1, 2, 3, 4]
    assert book.at("CP-1", 1) == [first]
    assert book.at("CP-1") == [anywhere_soon, anywhere_late]  # soonest ending first
    assert book.at("CP-3") == []
    assert len(book.of_station("CP-1")) == 3
    assert book.next_expiry() == NOW + timedelta(minutes=5)
    assert book.expired(NOW + timedelta(minutes=10)) == [anywhere_soon, other]
    assert book.end(other.id) == other
    assert book.end(other.id) is None  # ends once
    assert book.of_station("CP-2") == []
    assert len(book) == 3
    assert sorted(r.id for r in book) == [1, 2, 3]
    assert first.attributes() == {
        "reservation_id": 1,
        "evse_id": 1,
        "connector_type": None,
        "id_token": "CARD",
        "token_type": "ISO14443",
        "group_id": "FAMILY",
        "expires": "2026-11-21T12:30:00+00:00",
    }


def test_h01_fr_02_the_same_id_replaces() -> None:
    book = ReservationBook()
    made = reservation(book, "CP-1", 1, 30)
    replacement = Reservation(made.id, "CP-1", 2, None, "CARD", IdTokenEnum.ISO14443, None, made.expires_at)
    book.add(replacement)
    assert (book.at("CP-1", 1), book.at("CP-1", 2)) == ([], [replacement])


def test_ids_are_never_reused_and_wrap_around() -> None:
    book = ReservationBook(next_id=MAX_RESERVATION_ID)
    assert book.new_id() == MAX_RESERVATION_ID
    assert book.new_id() == 1
    reservation(book, "CP-1", 1, 30)  # takes 2
    book.next_id = 2
    assert book.new_id() == 3  # 2 is in force: skipped


def test_round_trip() -> None:
    book = ReservationBook()
    reservation(book, "CP-1", 1, 30)
    reservation(book, "CP-1", None, 60)
    restored = ReservationBook.from_dict(json.loads(json.dumps(book.to_dict())))
    assert restored.to_dict() == book.to_dict()
    assert restored.next_id == 3
    assert ReservationBook.from_dict({}).next_id == 1
