"""The allowed ID tokens and the authorization answers (C01, E03.FR.02, E05.FR.01)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.ocpp_csms.protocol.v201 import IdToken, IdTokenInfo
from custom_components.ocpp_csms.protocol.v201.enums import AuthorizationStatus, IdTokenEnum
from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry, IdTokenList, UnknownToken, UnknownTokenPolicy

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
