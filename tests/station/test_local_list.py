"""The local authorization list a station holds, and the SendLocalList requests that keep it in step (D01, D02)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json

import pytest

from custom_components.ocpp_csms.protocol.v201 import IdToken, ReportData
from custom_components.ocpp_csms.protocol.v201.enums import AuthorizationStatus, IdTokenEnum, Update
from custom_components.ocpp_csms.station.device_model import DeviceModel
from custom_components.ocpp_csms.station.id_tokens import IdTokenEntry, IdTokenList
from custom_components.ocpp_csms.station.local_list import (
    LocalListCapabilities,
    LocalListState,
    LocalListTooLargeError,
    SyncStatus,
    plan_updates,
    token_key,
    wanted_list,
)

from .inventory import inventory, report_data

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
UNLIMITED = {"max_items": 100, "max_bytes": 65000}


def model_of(items: list[dict[str, object]]) -> DeviceModel:
    model = DeviceModel()
    model.merge_report_data(ReportData.from_payload(item) for item in items)
    return model


def tokens(count: int = 3) -> IdTokenList:
    return IdTokenList(
        IdTokenEntry(f"CARD-{number}", IdTokenEnum.ISO14443, f"Driver {number}") for number in range(count)
    )


def synced(state: LocalListState, requests: list) -> LocalListState:  # type: ignore[type-arg]
    for request in requests:
        state.apply(request)
    return state


def test_wanted_list_carries_each_token_status_now() -> None:
    allowed = tokens(1)
    allowed.add(IdTokenEntry("anyone", None, status=AuthorizationStatus.BLOCKED))
    allowed.add(IdTokenEntry("LEASE", IdTokenEnum.E_MAID, expires_at=NOW + timedelta(hours=1)))
    allowed.add(IdTokenEntry("ELSEWHERE", IdTokenEnum.ISO14443, evses=(("CP-2", 1),)))
    wanted = wanted_list(allowed, "CP-1", NOW)
    statuses = {key: data.id_token_info.status for key, data in wanted.items() if data.id_token_info}
    assert statuses == {
        "ISO14443:card-0": AuthorizationStatus.ACCEPTED,
        "ISO14443:anyone": AuthorizationStatus.BLOCKED,  # listed for any type: sent as an RFID card
        "eMAID:lease": AuthorizationStatus.ACCEPTED,
        "ISO14443:elsewhere": AuthorizationStatus.NOT_AT_THIS_LOCATION,
    }
    later = wanted_list(allowed, "CP-1", NOW + timedelta(hours=1))
    assert later["eMAID:lease"].id_token_info.status is AuthorizationStatus.EXPIRED  # type: ignore[union-attr]


def test_d01_first_list_is_full_version_1_then_nothing_until_a_change() -> None:
    state = LocalListState()
    requests = plan_updates(state, wanted_list(tokens(), "CP-1", NOW), full=True, **UNLIMITED)
    assert [(r.version_number, r.update_type, len(r.local_authorization_list or ())) for r in requests] == [
        (1, Update.FULL, 3)
    ]
    synced(state, requests)
    assert (state.version, len(state.entries)) == (1, 3)
    assert plan_updates(state, wanted_list(tokens(), "CP-1", NOW), full=False, **UNLIMITED) == []


def test_d01_fr_16_17_differential_after_an_edit() -> None:
    allowed = tokens()
    state = synced(
        LocalListState(), plan_updates(LocalListState(), wanted_list(allowed, "CP-1", NOW), full=True, **UNLIMITED)
    )
    allowed.add(IdTokenEntry("CARD-1", IdTokenEnum.ISO14443, "Driver 1", status=AuthorizationStatus.BLOCKED))
    allowed.remove("CARD-2")
    (request,) = plan_updates(state, wanted_list(allowed, "CP-1", NOW), full=False, **UNLIMITED)
    assert (request.version_number, request.update_type) == (2, Update.DIFFERENTIAL)
    items = {data.id_token.id_token: data.id_token_info for data in request.local_authorization_list or ()}
    assert items["CARD-1"] is not None
    assert items["CARD-1"].status is AuthorizationStatus.BLOCKED  # D01.FR.16: updated
    assert items["CARD-2"] is None  # D01.FR.17: removed
    synced(state, [request])
    assert sorted(state.entries) == ["ISO14443:card-0", "ISO14443:card-1"]


def test_d01_fr_11_split_to_items_and_bytes_per_message() -> None:
    wanted = wanted_list(tokens(5), "CP-1", NOW)
    requests = plan_updates(LocalListState(version=7), wanted, full=True, max_items=2, max_bytes=65000)
    assert [(r.version_number, r.update_type, len(r.local_authorization_list or ())) for r in requests] == [
        (8, Update.FULL, 2),  # D01.FR.03: a Full list first, then Differential ones, each a newer version
        (9, Update.DIFFERENTIAL, 2),
        (10, Update.DIFFERENTIAL, 1),
    ]
    item_bytes = len(next(iter(wanted.values())).to_json())
    by_bytes = plan_updates(LocalListState(), wanted, full=True, max_items=100, max_bytes=128 + 2 * (item_bytes + 1))
    assert [len(r.local_authorization_list or ()) for r in by_bytes] == [2, 2, 1]
    assert all(len(r.to_json()) <= 128 + 2 * (item_bytes + 1) for r in by_bytes)
    assert synced(LocalListState(), requests).version == 10


def test_d01_fr_12_a_list_too_long_is_refused_whole() -> None:
    with pytest.raises(LocalListTooLargeError) as caught:
        plan_updates(LocalListState(), wanted_list(tokens(4), "CP-1", NOW), full=True, max_entries=3, **UNLIMITED)
    assert (caught.value.entries, caught.value.limit) == (4, 3)


def test_d01_fr_04_an_empty_full_list_and_a_station_ahead() -> None:
    (request,) = plan_updates(LocalListState(version=3), {}, full=True, station_version=9, **UNLIMITED)
    assert (request.version_number, request.update_type, request.local_authorization_list) == (10, Update.FULL, None)
    state = synced(LocalListState(entries={"ISO14443:x": {}}), [request])
    assert (state.version, state.entries) == (10, {})


def test_state_round_trip() -> None:
    state = synced(
        LocalListState(), plan_updates(LocalListState(), wanted_list(tokens(), "CP-1", NOW), full=True, **UNLIMITED)
    )
    state.status, state.synced_at = SyncStatus.IN_SYNC, NOW
    assert LocalListState.from_dict(json.loads(json.dumps(state.to_dict()))) == state
    assert LocalListState.from_dict({}) == LocalListState()
    assert token_key(IdToken(id_token="AbC", type=IdTokenEnum.KEY_CODE)) == "KeyCode:abc"


def test_capabilities_from_the_device_model() -> None:
    model = model_of(inventory())
    assert LocalListCapabilities.of(model) == LocalListCapabilities(True, None, 50, 8000)
    limited = model_of(
        [
            report_data("LocalAuthListCtrlr", "Enabled", "true", data_type="boolean"),
            report_data("LocalAuthListCtrlr", "Available", "false", data_type="boolean"),
            report_data("LocalAuthListCtrlr", "Entries", "0", data_type="integer", max_limit=250),
        ]
    )
    assert LocalListCapabilities.of(limited) == LocalListCapabilities(False, 250, 1, 4096)
    assert not LocalListCapabilities.of(DeviceModel()).enabled
