"""The listed ID tokens and the authorization answers (C01, C09, C16, E03.FR.02, E05.FR.01)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.ocpp_csms.protocol.v201 import IdToken, IdTokenInfo
from custom_components.ocpp_csms.protocol.v201.enums import AuthorizationStatus, IdTokenEnum
from custom_components.ocpp_csms.station.id_tokens import (
    IdTokenEntry,
    IdTokenList,
    Purpose,
    UnknownToken,
    UnknownTokenPolicy,
    migrate_v1,
    same_token,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ACCEPTED = AuthorizationStatus.ACCEPTED


def token(value: str, kind: IdTokenEnum = IdTokenEnum.ISO14443) -> IdToken:
    return IdToken(id_token=value, type=kind)


def tokens() -> IdTokenList:
    return IdTokenList(
        [
            IdTokenEntry("04A1B2C3", IdTokenEnum.ISO14443, "Alice's card"),
            IdTokenEntry("1234", IdTokenEnum.KEY_CODE, "Garage PIN", group_id="FAMILY"),
            IdTokenEntry("LEASE-CAR", None, "Lease car", expires_at=NOW + timedelta(days=30)),
            IdTokenEntry("OLD-CARD", IdTokenEnum.ISO14443, "Lost card", expires_at=NOW - timedelta(days=1)),
        ]
    )


def test_c01_listed_token_is_accepted_ignoring_case() -> None:
    allowed = tokens()
    assert allowed.authorize(token("04A1B2C3"), NOW) == IdTokenInfo(status=ACCEPTED)
    assert allowed.authorize(token("04a1b2c3"), NOW).status is ACCEPTED  # IdToken is case insensitive
    assert "04a1b2c3" in allowed
    entry = allowed.get("04A1b2c3")
    assert entry is not None
    assert entry.label == "Alice's card"


def test_c01_fr_06_accepted_answer_carries_expiry_and_group() -> None:
    allowed = tokens()
    info = allowed.authorize(token("LEASE-CAR", IdTokenEnum.E_MAID), NOW)
    assert (info.status, info.cache_expiry_date_time) == (ACCEPTED, NOW + timedelta(days=30))
    info = allowed.authorize(token("1234", IdTokenEnum.KEY_CODE), NOW)
    assert info.status is ACCEPTED
    assert info.group_id_token == IdToken(id_token="FAMILY", type=IdTokenEnum.CENTRAL)  # C01.FR.06


def test_expired_token() -> None:
    allowed = tokens()
    assert allowed.authorize(token("OLD-CARD"), NOW).status is AuthorizationStatus.EXPIRED
    assert allowed.authorize(token("LEASE-CAR"), NOW + timedelta(days=30)).status is AuthorizationStatus.EXPIRED


@pytest.mark.parametrize(
    ("policy", "status"),
    [(UnknownTokenPolicy.REJECT, AuthorizationStatus.UNKNOWN), (UnknownTokenPolicy.ACCEPT, ACCEPTED)],
)
def test_c01_fr_07_unknown_token_follows_the_policy(policy: UnknownTokenPolicy, status: AuthorizationStatus) -> None:
    allowed = tokens()
    allowed.unknown_policy = policy
    assert tokens().last_unknown is None
    assert allowed.authorize(token("DEADBEEF"), NOW).status is status
    assert allowed.last_unknown == UnknownToken("DEADBEEF", IdTokenEnum.ISO14443, NOW)
    # A listed token string presented as another type than the entry names is not that token.
    assert allowed.authorize(token("1234", IdTokenEnum.ISO14443), NOW).status is status


def test_removed_token_is_unknown() -> None:
    allowed = tokens()
    assert allowed.remove("04a1b2c3")
    assert not allowed.remove("04A1B2C3")
    assert allowed.authorize(token("04A1B2C3"), NOW).status is AuthorizationStatus.UNKNOWN
    assert len(allowed) == 3


def test_no_authorization_and_empty_tokens() -> None:
    allowed = tokens()
    no_auth = IdToken(id_token="", type=IdTokenEnum.NO_AUTHORIZATION)
    assert allowed.authorize(no_auth, NOW).status is ACCEPTED
    allowed.accept_no_authorization = False
    assert allowed.authorize(no_auth, NOW).status is AuthorizationStatus.INVALID
    assert allowed.authorize(token("  "), NOW).status is AuthorizationStatus.INVALID


def test_add_replaces_and_refuses_empty_tokens() -> None:
    allowed = tokens()
    allowed.add(IdTokenEntry("04a1b2c3", IdTokenEnum.ISO14443, "Alice's new label"))
    assert len(allowed) == 4
    assert next(iter(allowed)).label == "Alice's new label"
    with pytest.raises(ValueError, match="needs a token"):
        allowed.add(IdTokenEntry(""))


def test_round_trip() -> None:
    allowed = tokens()
    allowed.unknown_policy = UnknownTokenPolicy.ACCEPT
    data = json.loads(json.dumps(allowed.to_dict()))
    restored = IdTokenList.from_dict(data)
    assert restored == allowed
    assert list(restored) == list(allowed)
    assert restored.unknown_policy is UnknownTokenPolicy.ACCEPT
    assert IdTokenList.from_dict({}) == IdTokenList()
    assert allowed != object()


# ---- statuses, groups, EVSEs, master pass (C01, C09, C16) ------------------------------------------------------


def listed(**fields: object) -> IdTokenList:
    return IdTokenList([IdTokenEntry("CARD", IdTokenEnum.ISO14443, "Anna", **fields)])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "status", [AuthorizationStatus.BLOCKED, AuthorizationStatus.EXPIRED, AuthorizationStatus.INVALID]
)
def test_c01_fr_07_a_refused_token_answers_its_status_with_its_group(status: AuthorizationStatus) -> None:
    info = listed(status=status, group_id="FAMILY", expires_at=NOW + timedelta(days=1)).authorize(token("CARD"), NOW)
    assert info.status is status
    assert info.cache_expiry_date_time is None  # only an accepted token is cached until its expiry
    assert info.group_id_token == IdToken(id_token="FAMILY", type=IdTokenEnum.CENTRAL)  # C09.FR.12


def test_an_accepted_token_expires_without_anyone_editing_it() -> None:
    allowed = listed(expires_at=NOW + timedelta(hours=1))
    assert allowed.authorize(token("CARD"), NOW + timedelta(minutes=59)).status is ACCEPTED
    assert allowed.authorize(token("CARD"), NOW + timedelta(hours=1)).status is AuthorizationStatus.EXPIRED
    entry = allowed.get("card")
    assert entry is not None
    assert entry.effective_status(NOW + timedelta(hours=2)) is AuthorizationStatus.EXPIRED
    assert entry.status is ACCEPTED  # what the user set stays


def test_c01_fr_08_language_and_personal_message() -> None:
    info = listed(language="de-DE", personal_message="Willkommen, Anna").authorize(token("CARD"), NOW)
    assert info.language1 == "de-DE"
    assert info.personal_message is not None
    assert info.personal_message.to_payload() == {"format": "UTF8", "content": "Willkommen, Anna", "language": "de-DE"}


def test_c01_fr_19_to_22_evses_a_token_may_use() -> None:
    allowed = listed(evses=(("CP-1", 2), ("CP-1", 1), ("CP-2", 1)))
    info = allowed.authorize(token("CARD"), NOW, station_id="CP-1")
    assert (info.status, info.evse_id) == (ACCEPTED, [1, 2])  # C01.FR.20
    other = allowed.authorize(token("CARD"), NOW, station_id="CP-3")
    assert (other.status, other.evse_id) == (AuthorizationStatus.NOT_AT_THIS_LOCATION, None)  # C01.FR.22
    # A transaction on an EVSE it may not use; starting on one it may use; stopping anywhere.
    start = allowed.authorize(token("CARD"), NOW, station_id="CP-2", evse_id=2, purpose=Purpose.START)
    assert start.status is AuthorizationStatus.NOT_AT_THIS_LOCATION
    start = allowed.authorize(token("CARD"), NOW, station_id="CP-2", evse_id=1, purpose=Purpose.START)
    assert (start.status, start.evse_id) == (ACCEPTED, [1])
    stop = allowed.authorize(token("CARD"), NOW, station_id="CP-2", evse_id=2, purpose=Purpose.STOP)
    assert stop.status is ACCEPTED
    assert listed().authorize(token("CARD"), NOW, station_id="CP-1").evse_id is None  # C01.FR.19: any EVSE


def test_c16_master_pass_stops_but_never_starts() -> None:
    allowed = listed(group_id="police")
    master = "POLICE"  # group ids are compared ignoring case
    info = allowed.authorize(token("CARD"), NOW, station_id="CP-1", master_pass_group=master)
    assert info.status is ACCEPTED  # the station may stop transactions with it
    stop = allowed.authorize(token("CARD"), NOW, master_pass_group=master, purpose=Purpose.STOP)
    assert stop.status is ACCEPTED
    start = allowed.authorize(token("CARD"), NOW, master_pass_group=master, purpose=Purpose.START)
    assert start.status is AuthorizationStatus.INVALID  # C16.FR.03
    assert start.group_id_token == IdToken(id_token="police", type=IdTokenEnum.CENTRAL)
    # Without a master pass group, or of another group, it is an ordinary token.
    assert allowed.authorize(token("CARD"), NOW, purpose=Purpose.START).status is ACCEPTED
    assert same_token("A", "a")
    assert not same_token("A", None)
    assert not same_token("", "")


def test_replace_renames_in_place_and_counts() -> None:
    allowed = tokens()
    assert allowed.count_after("NEW") == 5
    assert allowed.count_after("04a1b2c3") == 4
    assert allowed.count_after("NEW", replacing="1234") == 4
    allowed.replace("1234", IdTokenEntry("4321", IdTokenEnum.KEY_CODE, "New PIN"))
    assert [entry.id_token for entry in allowed] == ["04A1B2C3", "4321", "LEASE-CAR", "OLD-CARD"]
    allowed.replace("4321", IdTokenEntry("4321", IdTokenEnum.KEY_CODE, "Relabelled"))
    assert [entry.label for entry in allowed][1] == "Relabelled"
    allowed.replace("4321", IdTokenEntry("LEASE-CAR", None, "Merged"))  # renamed onto a listed one: one entry
    assert [entry.id_token for entry in allowed] == ["04A1B2C3", "LEASE-CAR", "OLD-CARD"]
    allowed.replace("MISSING", IdTokenEntry("ADDED"))
    assert "added" in allowed
    with pytest.raises(ValueError, match="needs a token"):
        allowed.replace("ADDED", IdTokenEntry(""))


def test_next_expiry_of_accepted_tokens() -> None:
    allowed = tokens()
    assert allowed.next_expiry(NOW) == NOW + timedelta(days=30)
    allowed.add(IdTokenEntry("SOON", expires_at=NOW + timedelta(hours=1), status=AuthorizationStatus.BLOCKED))
    assert allowed.next_expiry(NOW) == NOW + timedelta(days=30)  # a blocked token changes nothing when it expires
    assert allowed.next_expiry(NOW + timedelta(days=31)) is None


def test_version_1_tokens_migrate_as_accepted_and_new_fields_round_trip() -> None:
    stored_v1 = {"unknown_policy": "reject", "entries": [{"id_token": "OLD", "label": "From 2025"}]}
    migrated = IdTokenList.from_dict(migrate_v1(stored_v1))
    entry = migrated.get("OLD")
    assert entry is not None
    assert (entry.status, entry.label, entry.evses) == (ACCEPTED, "From 2025", ())
    full = IdTokenEntry(
        "CARD",
        IdTokenEnum.ISO14443,
        "Anna",
        status=AuthorizationStatus.BLOCKED,
        expires_at=NOW,
        group_id="FAMILY",
        language="en-GB",
        personal_message="Hi",
        evses=(("CP-1", 1),),
    )
    assert IdTokenEntry.from_dict(json.loads(json.dumps(full.to_dict()))) == full
