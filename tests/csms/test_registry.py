"""The trusted stations: records in storage form, and a change callback for every change."""

from __future__ import annotations

from custom_components.ocpp_csms.csms.registry import SecurityProfile, StationRecord, StationRegistry

CP1 = StationRecord("CP-1", SecurityProfile.BASIC_AUTH, password_hash="scrypt$hash", lenient=True)
CP2 = StationRecord("CP-2", SecurityProfile.TLS_CLIENT_CERTIFICATE)


def test_records_round_trip_through_their_storage_form() -> None:
    stored = StationRegistry([CP1, CP2]).as_list()
    assert stored == [
        {"station_id": "CP-1", "security_profile": 1, "password_hash": "scrypt$hash", "lenient": True},
        {"station_id": "CP-2", "security_profile": 3, "password_hash": None, "lenient": False},
    ]
    assert [StationRecord.from_dict(data) for data in stored] == [CP1, CP2]
    # Records stored before `lenient` existed read as strict.
    assert StationRecord.from_dict({"station_id": "CP-3", "security_profile": 0}) == StationRecord(
        "CP-3", SecurityProfile.NONE
    )


def test_every_change_and_only_a_change_is_reported() -> None:
    registry = StationRegistry([CP1])
    changes: list[list[str]] = []
    registry.on_change = lambda: changes.append([record.station_id for record in registry])

    registry.put(CP2)
    assert registry.get("CP-2") == CP2
    assert registry.remove("CP-1") == CP1
    assert registry.remove("CP-1") is None  # nothing to forget: no change
    assert changes == [["CP-1", "CP-2"], ["CP-2"]]
    assert "CP-1" not in registry
    assert "CP-2" in registry


def test_changes_without_a_listener_are_kept() -> None:
    registry = StationRegistry()
    registry.put(CP1)  # nobody persists yet (the glue sets on_change once it loaded the store)
    assert registry.get("CP-1") == CP1
    assert [record.station_id for record in registry] == ["CP-1"]
