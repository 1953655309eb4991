"""The device model inventory and the assembly of NotifyReport parts (B07, B08)."""

from __future__ import annotations

from datetime import UTC, datetime
import json
import random
from typing import Any

import pytest

from custom_components.ocpp_csms.protocol.v201 import (
    GetVariableResult,
    NotifyReportRequest,
    ReportData,
    SetVariableData,
    SetVariableResult,
)
from custom_components.ocpp_csms.protocol.v201.enums import Attribute, Data, Mutability
from custom_components.ocpp_csms.station.device_model import (
    DEFAULT_BYTES_PER_MESSAGE,
    DEFAULT_ITEMS_PER_MESSAGE,
    AttributeInfo,
    Characteristics,
    DeviceModel,
    ReportAssembler,
    VariableInfo,
    VariableKey,
    parse_values_list,
)

from .inventory import inventory, notify_report_parts, report_data

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
ACTUAL = Attribute.ACTUAL


def parts(request_id: int = 1, per_part: int = 20) -> list[NotifyReportRequest]:
    return [NotifyReportRequest.from_payload(part) for part in notify_report_parts(request_id, per_part)]


def full_model() -> DeviceModel:
    model = DeviceModel()
    model.merge_report_data(ReportData.from_payload(item) for item in inventory())
    return model


def feed_all(assembler: ReportAssembler, items: list[NotifyReportRequest]) -> list[DeviceModel | None]:
    return [assembler.feed(part) for part in items]


# Inventory and identity


def test_inventory_has_150_plus_distinct_variables() -> None:
    model = full_model()
    assert len(model) == len(inventory()) >= 150
    assert len({key.slug for key in model}) == len(model)


@pytest.mark.parametrize(
    ("key", "slug"),
    [
        (VariableKey("SmartChargingCtrlr", "LimitChangeSignificance"), "smartchargingctrlr/limitchangesignificance"),
        (
            VariableKey("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetReport"),
            "devicedatactrlr/itemspermessage@getreport",
        ),
        (VariableKey("EVSE", "Power", evse_id=1), "evse#1/power"),
        (VariableKey("Connector", "ConnectorType", evse_id=2, connector_id=1), "connector#2.1/connectortype"),
        (VariableKey("Fan", "FanSpeed", component_instance="Fan1"), "fan@fan1/fanspeed"),
        (VariableKey("ChargingStation", "ACVoltage", variable_instance="L1"), "chargingstation/acvoltage@l1"),
        (VariableKey("Vendor Ctrlr", "A/B", variable_instance="x@y#z"), "vendor%20ctrlr/a%2fb@x%40y%23z"),
    ],
)
def test_slugs_are_lowercase_readable_and_stable(key: VariableKey, slug: str) -> None:
    assert key.slug == slug
    assert VariableKey.from_dict(json.loads(json.dumps(key.to_dict()))).slug == slug


def test_separators_inside_names_cannot_make_slugs_collide() -> None:
    keys = [
        VariableKey("A/b", "c"),
        VariableKey("A", "b/c"),
        VariableKey("A", "c", component_instance="b"),
        VariableKey("A@b", "c"),
        VariableKey("A", "c", evse_id=1),
        VariableKey("A#1", "c"),
        VariableKey("A", "c", evse_id=1, connector_id=2),
        VariableKey("A", "c", evse_id=12),
        VariableKey("A", "c", variable_instance=""),
        VariableKey("A", "c"),
        VariableKey("A%2fb", "c"),
    ]
    assert len({key.slug for key in keys}) == len(keys)


def test_slugs_survive_re_reports_and_restarts() -> None:
    first = full_model()
    slugs = sorted(key.slug for key in first)
    again = full_model()
    again.merge_report_data(ReportData.from_payload(item) for item in reversed(inventory()))
    restored = DeviceModel.from_dict(json.loads(json.dumps(first.to_dict())))
    assert sorted(key.slug for key in again) == slugs
    assert sorted(key.slug for key in restored) == slugs
    assert all(slug == slug.lower() for slug in slugs)


def test_key_converts_to_and_from_ocpp_types() -> None:
    key = VariableKey("Connector", "AvailabilityState", "main", 1, 2, "x")
    assert VariableKey.from_ocpp(key.to_component(), key.to_variable()) == key
    bare = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    assert bare.to_component().evse is None
    assert VariableKey.from_ocpp(bare.to_component(), bare.to_variable()) == bare


# Attributes and characteristics


def test_report_data_parses_attributes_and_characteristics() -> None:
    model = full_model()
    power = model[VariableKey("EVSE", "Power", evse_id=1)]
    assert power.actual == AttributeInfo("0", Mutability.READ_ONLY)
    assert power.attributes[Attribute.MAX_SET] == AttributeInfo("22000", Mutability.READ_WRITE)
    assert power.characteristics == Characteristics(Data.DECIMAL, True, "W", None, 22000.0)
    rate_unit = model.find("SmartChargingCtrlr", "RateUnit")
    assert rate_unit is not None
    assert rate_unit.characteristics is not None
    assert rate_unit.characteristics.values_list == ("A", "W")
    assert rate_unit.value == "A,W"
    heartbeat = model.find("OCPPCommCtrlr", "HeartbeatInterval")
    assert heartbeat is not None
    assert heartbeat.actual == AttributeInfo("300", Mutability.READ_WRITE, persistent=True)
    assert heartbeat.actual.writable
    assert heartbeat.actual.readable
    assert heartbeat.data_type is Data.INTEGER
    assert heartbeat.mutability is Mutability.READ_WRITE
    model_name = model.find("ChargingStation", "Model")
    assert model_name is not None
    assert model_name.actual is not None
    assert model_name.actual.constant


@pytest.mark.parametrize(
    ("text", "values"),
    [(None, ()), ("", ()), ("A,W", ("A", "W")), (" A , W ,", ("A", "W")), ("Single", ("Single",))],
)
def test_values_list_is_split_on_commas(text: str | None, values: tuple[str, ...]) -> None:
    assert parse_values_list(text) == values


def test_absent_attribute_fields_take_the_schema_defaults() -> None:
    data = ReportData.from_payload(
        {"component": {"name": "X"}, "variable": {"name": "Y"}, "variableAttribute": [{"value": "1"}]}
    )
    info = VariableInfo.from_report_data(data)
    assert info.attributes == {Attribute.ACTUAL: AttributeInfo("1", Mutability.READ_WRITE, False, False)}
    assert info.characteristics is None
    assert info.data_type is None


def test_write_only_password_is_never_stored() -> None:
    model = full_model()
    key = VariableKey("SecurityCtrlr", "BasicAuthPassword")
    assert model[key].mutability is Mutability.WRITE_ONLY
    assert not model[key].actual.readable  # type: ignore[union-attr]
    assert not model.update_value(key, ACTUAL, "s3cret-passw0rd")
    assert model.value(key) is None
    # Even a station that (wrongly) reports the value does not get it stored.
    leaky = report_data("SecurityCtrlr", "BasicAuthPassword", "s3cret-passw0rd", mutability="WriteOnly")
    model.merge_report_data([ReportData.from_payload(leaky)])
    assert model.value(key) is None
    assert "s3cret" not in json.dumps(model.to_dict())


def test_variable_without_actual_attribute_uses_the_first_one() -> None:
    info = VariableInfo({Attribute.TARGET: AttributeInfo("5", Mutability.READ_ONLY)})
    assert info.actual is None
    assert info.value is None
    assert info.primary == AttributeInfo("5", Mutability.READ_ONLY)
    assert info.mutability is Mutability.READ_ONLY
    assert VariableInfo().mutability is None


# Lookups and updates


def test_find_by_name_with_evse_and_instances_ignoring_case() -> None:
    model = full_model()
    assert model.find("SmartChargingCtrlr", "RateUnit") is model.find("smartchargingctrlr", "RATEUNIT")
    evse2 = model.find("EVSE", "Power", evse_id=2)
    assert evse2 is not None
    assert evse2.value == "0"
    assert model.find("EVSE", "Power") is None
    connector = model.find("Connector", "ConnectorType", evse_id=1, connector_id=1)
    assert connector is not None
    assert connector.value == "sType2"
    fan = model.find("Fan", "FanSpeed", component_instance="Fan2")
    assert fan is not None
    assert fan.value == "1200"
    assert {key.evse_id for key, _ in model.find_all("EVSE", "Power")} == {1, 2}
    assert len(model.find_all("DeviceDataCtrlr", "ItemsPerMessage")) == 3
    assert model.find_all("Nope", "Nothing") == []
    hit = model.by_slug("evse#2/power")
    assert hit is not None
    assert hit[0] == VariableKey("EVSE", "Power", evse_id=2)
    assert model.by_slug("evse#9/power") is None
    assert VariableKey("EVSE", "Power", evse_id=1) in model
    slug: object = "evse#1/power"
    assert slug not in model  # keys are VariableKeys, not slugs
    assert repr(model) == f"DeviceModel({len(model)} variables)"


def test_update_value_records_changes_and_ignores_unknown_variables() -> None:
    model = full_model()
    key = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    assert model.update_value(key, ACTUAL, "60")
    assert not model.update_value(key, ACTUAL, "60")
    assert model.value(key) == "60"
    assert model[key].actual == AttributeInfo("60", Mutability.READ_WRITE, persistent=True)
    assert not model.update_value(VariableKey("Unknown", "Variable"), ACTUAL, "1")
    assert model.value(VariableKey("Unknown", "Variable")) is None
    # A new attribute type of a known variable is added.
    assert model.update_value(key, Attribute.TARGET, "30")
    assert model.value(key, Attribute.TARGET) == "30"
    assert model.value(key, Attribute.MIN_SET) is None
    assert not model.put(key, model[key])


def test_timestamped_updates_never_go_back_in_time() -> None:
    model = full_model()
    key = VariableKey("EVSE", "Power", evse_id=1)
    assert model.update_value(key, ACTUAL, "7000", at=T0.replace(minute=5))
    assert not model.update_value(key, ACTUAL, "3000", at=T0)  # queued older value, replayed late
    assert model.value(key) == "7000"
    assert model.update_value(key, ACTUAL, "11000", at=T0.replace(minute=6))
    assert model.update_value(key, ACTUAL, "0")  # untimed updates (GetVariables) always apply


def test_b05_fr_11_b06_fr_05_message_limits_from_device_data_ctrlr_with_defaults() -> None:
    model = full_model()
    assert model.items_per_message("GetReport") == 16
    assert model.items_per_message("GetVariables") == 24
    assert model.items_per_message("SetVariables") == 12
    assert model.bytes_per_message("GetVariables") == 65000
    assert model.bytes_per_message("SetVariables") == 32000
    assert model.items_per_message("SetVariableMonitoring") == 10
    assert model.items_per_message("SendLocalList") == 50
    assert model.items_per_message("Heartbeat") == DEFAULT_ITEMS_PER_MESSAGE
    empty = DeviceModel()
    assert empty.items_per_message("GetVariables") == DEFAULT_ITEMS_PER_MESSAGE
    assert empty.bytes_per_message("GetVariables") == DEFAULT_BYTES_PER_MESSAGE
    assert empty.items_per_message("GetVariables", default=8) == 8
    key = VariableKey("DeviceDataCtrlr", "ItemsPerMessage", variable_instance="GetVariables")
    model.update_value(key, ACTUAL, "lots")
    assert model.items_per_message("GetVariables") == DEFAULT_ITEMS_PER_MESSAGE
    model.update_value(key, ACTUAL, "0")
    assert model.items_per_message("GetVariables") == DEFAULT_ITEMS_PER_MESSAGE


def test_b05_b06_get_and_set_variables_results_update_values() -> None:
    model = full_model()
    heartbeat = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    results = [
        GetVariableResult.from_payload(payload)
        for payload in (
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeValue": "120",
            },
            {"attributeStatus": "UnknownVariable", "component": {"name": "X"}, "variable": {"name": "Y"}},
            {"attributeStatus": "Accepted", "component": {"name": "X"}, "variable": {"name": "Y"}},
        )
    ]
    assert model.apply_get_variable_results(results) == [heartbeat]
    assert model.apply_get_variable_results(results) == []  # the same values again
    assert model.value(heartbeat) == "120"
    offline = VariableKey("OCPPCommCtrlr", "OfflineThreshold")
    requested = [
        SetVariableData(attribute_value="90", component=heartbeat.to_component(), variable=heartbeat.to_variable()),
        SetVariableData(attribute_value="900", component=offline.to_component(), variable=offline.to_variable()),
    ]
    set_results = [
        SetVariableResult.from_payload(payload)
        for payload in (
            {
                "attributeStatus": "RebootRequired",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "OfflineThreshold"},
            },
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
            },
            {"attributeStatus": "Accepted", "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "Other"}},
            {
                "attributeStatus": "Accepted",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "attributeType": "Target",
            },
        )
    ]
    assert model.apply_set_variable_results(requested, set_results) == [heartbeat]
    assert model.value(heartbeat) == "90"
    assert model.apply_set_variable_results(requested, set_results) == []  # accepted again, nothing new
    assert model.value(offline) == "600"  # takes effect after the reboot


def test_re_report_without_characteristics_keeps_the_known_ones() -> None:
    model = full_model()
    key = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    bare = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "HeartbeatInterval"},
        "variableAttribute": [{"type": "Actual", "value": "45", "mutability": "ReadWrite"}],
    }
    assert model.merge_report_data([ReportData.from_payload(bare)]) == [key]
    assert model.value(key) == "45"
    assert model[key].data_type is Data.INTEGER
    assert model.merge_report_data([ReportData.from_payload(bare)]) == []


def test_model_round_trips_through_json_exactly() -> None:
    model = full_model()
    model.update_value(VariableKey("EVSE", "Power", evse_id=1), ACTUAL, "11000")
    data = model.to_dict()
    restored = DeviceModel.from_dict(json.loads(json.dumps(data)))
    assert restored == model
    assert restored.to_dict() == data
    assert DeviceModel(dict(model.items())) == model
    assert DeviceModel.from_dict({}) == DeviceModel()


def test_merge_copies_another_model() -> None:
    model = full_model()
    other = DeviceModel()
    assert len(other.merge(model)) == len(model)
    assert other == model
    assert other.merge(model) == []


def test_merge_keeps_characteristics_a_report_does_not_carry() -> None:
    """B08: a report of values only updates the values; what the inventory knew of the variable stays."""
    model = full_model()
    key = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
    known = model[key].characteristics
    report = DeviceModel({key: VariableInfo(attributes={ACTUAL: AttributeInfo(value="45")})})
    assert model.merge(report) == [key]
    assert model.value(key) == "45"
    assert model[key].characteristics == known is not None
    new = VariableKey("VendorCtrlr", "FanSpeed")
    assert model.merge(DeviceModel({new: VariableInfo()})) == [new]
    assert model[new].characteristics is None


# Report assembly


def test_b07_fr_10_assembled_report_equals_the_in_order_one_whatever_the_arrival_order() -> None:
    in_order = parts()
    assert len(in_order) >= 5
    assembler = ReportAssembler()
    results = feed_all(assembler, in_order)
    assert results[:-1] == [None] * (len(in_order) - 1)
    expected = results[-1]
    assert expected == full_model()

    shuffled = list(in_order)
    random.Random(7).shuffle(shuffled)
    last = shuffled.index(in_order[-1])
    shuffled.insert(last + 1, shuffled[0])  # a duplicate, before the report completes
    shuffled.append(in_order[2])  # and one after it completed
    assembler = ReportAssembler()
    results = feed_all(assembler, shuffled)
    done = [result for result in results if result is not None]
    assert len(done) == 1
    assert done[0] == expected
    assert done[0].to_dict() == expected.to_dict()
    assert assembler.request_id is None


def test_b08_fr_14_completion_waits_for_every_part_before_the_last() -> None:
    in_order = parts()
    assembler = ReportAssembler()
    assert assembler.feed(in_order[-1]) is None  # the last part first: the others are still missing
    assert not assembler.is_complete
    assert assembler.missing_seq_nos == list(range(len(in_order) - 1))
    for part in in_order[1:-1]:
        assert assembler.feed(part) is None
    assert assembler.missing_seq_nos == [0]
    assert assembler.received_seq_nos == list(range(1, len(in_order)))
    model = assembler.feed(in_order[0])
    assert model == full_model()


def test_a_part_missing_forever_is_reported_and_partial_model_can_be_taken() -> None:
    in_order = parts()
    assembler = ReportAssembler()
    for part in in_order[:2] + in_order[3:5]:
        assert assembler.feed(part) is None
    assert assembler.received_seq_nos == [0, 1, 3, 4]
    assert not assembler.is_complete
    assert assembler.missing_seq_nos == [2]  # the last part has not come either: only what is known missing
    partial = assembler.take_partial()
    assert partial is not None
    assert len(partial) == 4 * 20
    assert assembler.request_id is None
    assert not assembler.missing_seq_nos
    assert assembler.feed(in_order[2]) is None  # too late: the report was given up
    assert ReportAssembler().take_partial() is None


def test_b07_fr_04_a_new_request_id_supersedes_the_pending_report() -> None:
    old = parts(request_id=1)
    new = parts(request_id=2, per_part=40)
    assembler = ReportAssembler()
    assembler.feed(old[0])
    assembler.feed(old[1])
    assert assembler.feed(new[0]) is None
    assert assembler.request_id == 2
    assert assembler.received_seq_nos == [0]
    assert assembler.feed(old[2]) is None  # a late part of the superseded report is ignored
    assert assembler.received_seq_nos == [0]
    results = feed_all(assembler, new[1:])
    assert results[-1] == full_model()
    assembler.expect(3)
    assert assembler.request_id == 3
    assembler.expect(3)
    assert assembler.request_id == 3


def test_a_request_id_used_before_is_taken_again_and_an_ignored_one_is_dropped() -> None:
    """A report asked for with a finished report's requestId is assembled; parts of an ignored one are not."""
    first = parts(request_id=1, per_part=40)
    assembler = ReportAssembler()
    assert feed_all(assembler, first)[-1] == full_model()
    assert assembler.feed(first[0]) is None  # late: ignored
    assembler.expect(1)
    assert feed_all(assembler, first)[-1] == full_model()

    assembler.expect(2)
    assembler.ignore(2)  # the pending report is not affected
    assembler.ignore(3)
    assembler.ignore(3)
    assert assembler.request_id == 2
    assert assembler.feed(parts(request_id=3)[0]) is None
    assert assembler.request_id == 2  # a part of an ignored report does not supersede the pending one
    assert feed_all(assembler, parts(request_id=2))[-1] == full_model()


def test_report_merges_into_a_base_model() -> None:
    base = full_model()
    base.update_value(VariableKey("EVSE", "Power", evse_id=1), ACTUAL, "5000")
    update = NotifyReportRequest.from_payload(
        {
            "requestId": 9,
            "generatedAt": "2025-06-01T12:00:00+00:00",
            "seqNo": 0,
            "reportData": [
                report_data("OCPPCommCtrlr", "HeartbeatInterval", "77", mutability="ReadWrite", data_type="integer")
            ],
        }
    )
    result = ReportAssembler().feed(update, base=base)
    assert result is base
    assert base.value(VariableKey("OCPPCommCtrlr", "HeartbeatInterval")) == "77"
    assert base.value(VariableKey("EVSE", "Power", evse_id=1)) == "5000"


def test_odd_parts_are_refused() -> None:
    assembler = ReportAssembler()
    base: dict[str, Any] = {"requestId": 4, "generatedAt": "2025-06-01T12:00:00+00:00"}
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": -1, "tbc": True})) is None
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": ReportAssembler.MAX_PARTS})) is None
    assert assembler.received_seq_nos == []
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": 1, "tbc": True})) is None
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": 3, "tbc": True})) is None
    # seqNo 2 says it is the last: 3 is dropped, and a later 4 is refused.
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": 2})) is None
    assert assembler.received_seq_nos == [1, 2]
    assert assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": 4})) is None
    assert assembler.missing_seq_nos == [0]
    empty = assembler.feed(NotifyReportRequest.from_payload({**base, "seqNo": 0, "tbc": True}))
    assert empty == DeviceModel()  # no part carried report data


def test_sparse_variables_round_trip() -> None:
    bare = VariableInfo()
    typed = VariableInfo({Attribute.ACTUAL: AttributeInfo()}, Characteristics(Data.STRING))
    for variable in (bare, typed):
        assert VariableInfo.from_dict(json.loads(json.dumps(variable.to_dict()))) == variable


def test_identical_inventories_share_their_objects() -> None:
    """A fleet of one model holds the names, lists and settings of its inventory once."""

    def load() -> DeviceModel:
        model = DeviceModel()
        for part in notify_report_parts():
            model.merge_report_data(NotifyReportRequest.from_payload(part).report_data or ())
        return DeviceModel.from_dict(model.to_dict())

    first, second = load(), load()
    assert first == second
    shared = sum(1 for key in first if first[key] is second[key])
    assert shared == len(first)
    # Changing a value in one station's model leaves the other's as it was.
    key = next(key for key in first if first[key].value is not None and first[key].actual.writable)  # type: ignore[union-attr]
    assert first.update_value(key, Attribute.ACTUAL, "changed")
    assert second.value(key) != "changed"


def assemble(report: list[NotifyReportRequest]) -> DeviceModel:
    """The model a report in these parts assembles to."""
    assembler = ReportAssembler()
    models = [model for part in report if (model := assembler.feed(part)) is not None]
    assert len(models) == 1
    return models[0]


def test_identical_variable_sets_share_keys_and_name_index_until_one_changes() -> None:
    """The keys and the name index are held once per set of variables, and copied before one model adds to it."""
    first = DeviceModel.from_dict(full_model().to_dict())
    second = DeviceModel.from_dict(full_model().to_dict())
    third, fourth = (assemble(parts()) for _ in range(2))
    assert first._keys is second._keys  # stored models: keys in slug order
    assert third._keys is fourth._keys  # assembled ones: in the order reported
    assert [key for key, _ in first.find_all("EVSE", "Power")] == [key for key, _ in second.find_all("evse", "power")]
    assert first._by_name is second._by_name
    assert first._infos._positions is second._infos._positions  # each holds a list of its infos alone
    assert third._infos._positions is fourth._infos._positions

    # A new variable in one model: its own keys, positions and index; the others keep theirs.
    extra = VariableKey("EVSE", "Power", evse_id=3)
    assert first.put(extra, VariableInfo({ACTUAL: AttributeInfo(value="0")}))
    assert first._keys is not second._keys
    assert first._infos._positions is not second._infos._positions
    assert first[extra].value == "0"
    assert dict(first.items()) == {**dict(second.items()), extra: first[extra]}
    assert len(first) == len(second) + 1
    assert extra in first
    assert extra not in second
    assert [key.evse_id for key, _ in first.find_all("EVSE", "Power")] == [1, 2, 3]
    assert [key.evse_id for key, _ in second.find_all("EVSE", "Power")] == [1, 2]

    # A re-report spelling a name differently keeps the model's lookups case-insensitive and its key current.
    renamed = VariableKey("evse", "power", evse_id=1)
    assert second.put(renamed, second[renamed])
    assert second.by_slug(renamed.slug) == (renamed, second[renamed])
    assert next(key for key in third if key.slug == renamed.slug) == VariableKey("EVSE", "Power", evse_id=1)
    assert not second.put(renamed, second[renamed])  # the same again: no change
    second.compact()
    assert second._keys is not third._keys  # another key set: not shared with the original
