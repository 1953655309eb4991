"""Transactions applied idempotently and in any order (E01-E15, seqNo §1.3.2), sessions, lifetime energy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
import random
from typing import Any

from hypothesis import given, settings, strategies as st

from custom_components.ocpp_csms.protocol.v201 import MeterValue, TransactionEventRequest
from custom_components.ocpp_csms.protocol.v201.enums import ChargingState, IdTokenEnum, Reason, TriggerReason
from custom_components.ocpp_csms.station.energy import SETTLED_FOLD_BATCH
from custom_components.ocpp_csms.station.transactions import (
    HISTORY_PER_EVSE,
    MAX_UNASSIGNED,
    RECENT_SIGNATURES,
    TransactionRecord,
    TransactionTracker,
    register_locations,
)

T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
R0 = 1_000_000.0  # the EVSE's register at the start: 1000 kWh
WH_PER_MINUTE = 180.0  # about 11 kW


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(
    event_type: str,
    seq_no: int,
    timestamp: datetime,
    transaction_id: str = "TX1",
    *,
    trigger: str | None = None,
    evse: int | None = None,
    register: float | None = None,
    power: float | None = None,
    context: str | None = None,
    charging_state: str | None = None,
    stopped_reason: str | None = None,
    id_token: str | None = None,
    remote_start_id: int | None = None,
    time_spent_charging: int | None = None,
    offline: bool = False,
) -> TransactionEventRequest:
    """A TransactionEventRequest, built from its wire form."""
    default_trigger = {"Started": "Authorized", "Updated": "MeterValuePeriodic", "Ended": "EVDeparted"}[event_type]
    info: dict[str, Any] = {"transactionId": transaction_id}
    if charging_state is not None:
        info["chargingState"] = charging_state
    if stopped_reason is not None:
        info["stoppedReason"] = stopped_reason
    if remote_start_id is not None:
        info["remoteStartId"] = remote_start_id
    if time_spent_charging is not None:
        info["timeSpentCharging"] = time_spent_charging
    payload: dict[str, Any] = {
        "eventType": event_type,
        "timestamp": timestamp.isoformat(),
        "triggerReason": trigger or default_trigger,
        "seqNo": seq_no,
        "transactionInfo": info,
    }
    sampled: list[dict[str, Any]] = []
    if register is not None:
        item: dict[str, Any] = {"value": register, "measurand": "Energy.Active.Import.Register"}
        if context is not None:
            item["context"] = context
        sampled.append(item)
    if power is not None:
        sampled.append({"value": power, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}})
    if sampled:
        payload["meterValue"] = [{"timestamp": timestamp.isoformat(), "sampledValue": sampled}]
    if evse is not None:
        payload["evse"] = {"id": evse, "connectorId": 1}
    if id_token is not None:
        payload["idToken"] = {"idToken": id_token, "type": "ISO14443"}
    if offline:
        payload["offline"] = True
    return TransactionEventRequest.from_payload(payload)


def meter_values(timestamp: datetime, register: float, location: str = "Outlet") -> list[MeterValue]:
    return [
        MeterValue.from_payload(
            {
                "timestamp": timestamp.isoformat(),
                "sampledValue": [
                    {"value": register / 1000, "location": location, "unitOfMeasure": {"unit": "kWh"}},
                    {"value": 0.0, "measurand": "Power.Active.Import", "location": location},
                ],
            }
        )
    ]


def test_e04_e11_charging_session_offline_replay_and_meter_reset() -> None:
    tracker = TransactionTracker()
    lifetimes: list[float] = []

    def check(energy_wh: float, lifetime_wh: float) -> None:
        session = tracker.evse(1)
        assert session.energy_wh == energy_wh
        assert session.lifetime_energy_wh == lifetime_wh
        assert tracker.lifetime_energy_wh(1) == lifetime_wh
        lifetimes.append(lifetime_wh)

    # The session starts: the register reads R0.
    started = event(
        "Started",
        0,
        at(0),
        evse=1,
        register=R0,
        context="Transaction.Begin",
        charging_state="Charging",
        id_token="04A1B2C3",
        remote_start_id=7,
    )
    outcome = tracker.apply_event(started)
    assert (outcome.transaction_id, outcome.evse_id, outcome.current, outcome.new_session) == ("TX1", 1, True, True)
    check(0.0, R0)
    session = tracker.evse(1)
    assert (session.transaction_id, session.last_transaction_id, session.active) == ("TX1", "TX1", True)
    assert session.charging_state is ChargingState.CHARGING
    assert session.id_token is not None
    assert session.id_token.id_token == "04A1B2C3"
    assert session.remote_start_id == 7
    assert session.duration(at(5)) == timedelta(minutes=5)

    # 20 meter updates while online.
    for minute in range(1, 21):
        outcome = tracker.apply_event(
            event("Updated", minute, at(minute), register=R0 + WH_PER_MINUTE * minute, power=11000.0)
        )
        assert outcome.current
        assert not outcome.new_session
        check(WH_PER_MINUTE * minute, R0 + WH_PER_MINUTE * minute)
    assert tracker.evse(1).meter.active_power_w == 11000.0

    # The station goes offline and queues 30 events (E04.FR.01), delivered shuffled, some twice (E13 retries).
    states = {0: "Charging", 35: "SuspendedEV", 40: "Charging", 50: "Idle"}
    queued = [
        event(
            "Ended" if seq_no == 50 else "Updated",
            seq_no,
            at(seq_no),
            register=R0 + WH_PER_MINUTE * seq_no,
            power=0.0 if seq_no == 50 else 11000.0,
            context="Transaction.End" if seq_no == 50 else None,
            charging_state=states.get(seq_no),
            stopped_reason="EVDisconnected" if seq_no == 50 else None,
            trigger="EVCommunicationLost" if seq_no == 50 else None,
            time_spent_charging=2700 if seq_no == 50 else None,
            offline=True,
        )
        for seq_no in range(21, 51)
    ]
    rng = random.Random(2024)
    delivered = list(queued)
    rng.shuffle(delivered)
    for duplicate in rng.sample(queued, 8):
        delivered.insert(rng.randrange(len(delivered) + 1), duplicate)
    received = set(range(21))
    for request in delivered:
        outcome = tracker.apply_event(request)
        assert outcome.offline
        assert outcome.duplicate == (request.seq_no in received)
        received.add(request.seq_no)
        top = max(received)
        check(WH_PER_MINUTE * top, R0 + WH_PER_MINUTE * top)
        session = tracker.evse(1)
        assert session.transaction_id == (None if 50 in received else "TX1")
        assert session.charging_state == ChargingState(states[max(received & states.keys())])
    session = tracker.evse(1)
    assert (session.last_transaction_id, session.stopped_reason) == ("TX1", Reason.EV_DISCONNECTED)
    assert (session.ended_at, session.time_spent_charging_s) == (at(50), 2700)
    assert session.duration(at(500)) == timedelta(minutes=50)
    assert tracker.gaps == {}
    final_tx1 = WH_PER_MINUTE * 50

    # The station's meter is replaced: its register restarts at 0. The last session's values stay until the
    # next session starts; the lifetime does not drop.
    assert tracker.apply_meter_values(1, meter_values(at(70), 0.0))
    check(final_tx1, R0 + final_tx1)
    assert tracker.evse(1).stopped_reason is Reason.EV_DISCONNECTED

    # The next session (seqNo from 0 again, E10.FR.03 / §1.3.2.1 "SHOULD set to 0").
    outcome = tracker.apply_event(
        event("Started", 0, at(80), "TX2", evse=1, register=0.0, charging_state="Charging", id_token="CAFE")
    )
    assert outcome.new_session
    check(0.0, R0 + final_tx1)
    session = tracker.evse(1)
    assert (session.transaction_id, session.stopped_reason, session.ended_at) == ("TX2", None, None)
    for step in range(1, 6):
        tracker.apply_event(event("Updated", step, at(80 + step), "TX2", register=200.0 * step))
        check(200.0 * step, R0 + final_tx1 + 200.0 * step)

    assert lifetimes == sorted(lifetimes)  # never decreased over the whole sequence
    restored = TransactionTracker.from_dict(json.loads(json.dumps(tracker.to_dict())))
    assert restored == tracker
    assert restored.evse(1) == tracker.evse(1)
    assert restored.apply_event(queued[0]).duplicate  # last seqNos survive the restart
    assert restored.apply_event(event("Updated", 3, at(83), "TX2", register=600.0)).duplicate


def test_late_event_of_an_older_transaction_does_not_move_the_session_back() -> None:
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), "OLD", evse=1, register=100.0, charging_state="Charging"))
    tracker.apply_event(event("Ended", 2, at(10), "OLD", register=500.0, stopped_reason="Remote"))
    tracker.apply_event(event("Started", 0, at(20), "NEW", evse=1, register=500.0, charging_state="EVConnected"))
    late = tracker.apply_event(
        event("Updated", 1, at(5), "OLD", register=300.0, charging_state="SuspendedEV", offline=True)
    )
    assert (late.current, late.new_session, late.duplicate) == (False, False, False)
    session = tracker.evse(1)
    assert (session.transaction_id, session.charging_state, session.energy_wh) == (
        "NEW",
        ChargingState.EV_CONNECTED,
        0.0,
    )
    old = tracker.transaction("OLD")
    assert old is not None
    assert old.charging_state == (1, ChargingState.SUSPENDED_EV)
    assert old.energy.energy_wh == 400.0
    assert tracker.lifetime_energy_wh(1) == 500.0


def test_an_older_event_does_not_overwrite_a_newer_value() -> None:
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1, charging_state="Charging"))
    tracker.apply_event(event("Updated", 2, at(2), charging_state="SuspendedEVSE", trigger="ChargingStateChanged"))
    tracker.apply_event(event("Updated", 1, at(1), charging_state="SuspendedEV", trigger="ChargingStateChanged"))
    assert tracker.evse(1).charging_state is ChargingState.SUSPENDED_EVSE
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.trigger_reason == (2, TriggerReason.CHARGING_STATE_CHANGED)


def test_e04_fr_07_seq_no_gaps_are_recorded() -> None:
    tracker = TransactionTracker()
    for seq_no in (0, 1, 3, 6):
        tracker.apply_event(
            event("Started" if seq_no == 0 else "Updated", seq_no, at(seq_no), evse=1 if seq_no == 0 else None)
        )
    assert tracker.gaps == {"TX1": [2, 4, 5]}
    tracker.apply_event(event("Updated", 2, at(2)))
    assert tracker.gaps == {"TX1": [4, 5]}


def test_a_station_that_reuses_seq_no_0_still_has_its_session_counted() -> None:
    """Quirk: every event with seqNo 0. A different event is applied (and counted); a retried one is not."""
    tracker = TransactionTracker()
    started = event("Started", 0, at(0), evse=1, register=1000, charging_state="Charging")
    updated = event("Updated", 0, at(1), register=3000, charging_state="Charging")
    ended = event("Ended", 0, at(2), register=4500, charging_state="Idle", stopped_reason="EVDisconnected")
    outcomes = [tracker.apply_event(request) for request in (started, updated, updated, ended, ended)]
    assert [outcome.duplicate for outcome in outcomes] == [False, False, True, False, True]
    session = tracker.evse(1)
    assert session.energy_wh == 3500
    assert session.transaction_id is None  # ended: the charging switch goes off
    assert session.charging_state is ChargingState.IDLE
    assert tracker.reused_seq_nos == {"TX1": 2}
    assert tracker.gaps == {}
    restored = TransactionTracker.from_dict(tracker.to_dict())
    assert restored.apply_event(ended).duplicate  # remembered across a restart
    assert restored.reused_seq_nos == {"TX1": 2}


def test_events_after_ended_do_not_reopen_the_session() -> None:
    """An Updated after the Ended (in either arrival order) leaves the session ended and idle."""
    started = event("Started", 0, at(0), evse=1, register=1000, charging_state="Charging")
    ended = event("Ended", 1, at(2), register=2000, charging_state="Idle")
    straggler = event("Updated", 2, at(3), charging_state="Charging")
    for order in ((started, ended, straggler), (started, straggler, ended)):
        tracker = TransactionTracker()
        for request in order:
            tracker.apply_event(request)
        session = tracker.evse(1)
        assert session.transaction_id is None
        assert session.charging_state is ChargingState.IDLE


def test_only_the_latest_signatures_are_kept() -> None:
    tracker = TransactionTracker()
    for seq_no in range(RECENT_SIGNATURES + 4):
        tracker.apply_event(event("Started" if seq_no == 0 else "Updated", seq_no, at(seq_no), evse=1))
    record = tracker.transaction("TX1")
    assert record is not None
    assert sorted(record.signatures) == list(range(4, RECENT_SIGNATURES + 4))
    assert tracker.apply_event(event("Updated", 1, at(30))).duplicate  # too old to tell apart: a duplicate


def test_e01_fr_16_readings_wait_for_the_evse_to_be_known() -> None:
    tracker = TransactionTracker()
    # Events queued offline: the one carrying the EVSE (E01.FR.16) arrives last.
    tracker.apply_event(event("Updated", 2, at(2), register=1400.0, offline=True))
    tracker.apply_event(event("Updated", 1, at(1), register=1200.0, power=7000.0, offline=True))
    assert tracker.evse_ids == []
    assert tracker.evse(1).meter.energy_import_wh is None
    outcome = tracker.apply_event(event("Started", 0, at(0), evse=1, register=1000.0, offline=True))
    assert outcome.new_session
    session = tracker.evse(1)
    assert (session.energy_wh, session.lifetime_energy_wh) == (400.0, 1400.0)
    assert session.meter.energy_import_wh == 1400.0
    assert session.meter.active_power_w == 7000.0
    assert tracker.evse_ids == [1]


def test_e07_fr_06_stop_reason_id_token_and_session_values() -> None:
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=2, id_token="START", charging_state="Charging"))
    tracker.apply_event(event("Updated", 1, at(1), remote_start_id=42))
    # Ended without stoppedReason: Local, the one reason that may be left out (E07.FR.06).
    tracker.apply_event(event("Ended", 2, at(30), id_token="STOPPER", trigger="StopAuthorized"))
    session = tracker.evse(2)
    assert session.id_token is not None
    assert session.id_token.id_token == "START"  # the token that authorized the session, not the one that ended it
    assert session.id_token.type is IdTokenEnum.ISO14443
    assert (session.stopped_reason, session.remote_start_id) == (Reason.LOCAL, 42)
    assert session.energy_wh is None  # no register reading in this session
    assert session.duration(at(99)) == timedelta(minutes=30)
    assert not session.active
    empty = tracker.evse(9)
    assert (empty.transaction_id, empty.duration(at(1)), empty.lifetime_energy_wh) == (None, None, None)
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.duration(at(99)) == timedelta(minutes=30)
    assert record.ended


def test_running_session_duration_uses_now() -> None:
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1))
    assert tracker.evse(1).duration(at(12)) == timedelta(minutes=12)
    assert tracker.evse(1).duration(at(-1)) == timedelta(0)
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.duration(at(3)) == timedelta(minutes=3)


def test_j01_fr_22_meter_values_outside_and_during_transactions() -> None:
    tracker = TransactionTracker()
    # The grid meter (EVSE 0) at the inlet, J01.FR.04.
    assert register_locations(0) == (register_locations(0)[0], register_locations(1)[0])
    assert tracker.apply_meter_values(0, meter_values(at(0), 50_000.0, "Inlet"))
    assert tracker.apply_meter_values(0, meter_values(at(15), 50_500.0, "Inlet"))
    assert tracker.lifetime_energy_wh(0) == 50_500.0
    assert tracker.evse(0).meter.energy_import_wh == 50_500.0
    # EVSE 1: clock-aligned MeterValues during a transaction count towards its session (J01.FR.22).
    tracker.apply_event(event("Started", 0, at(0), evse=1, register=1000.0))
    assert tracker.apply_meter_values(1, meter_values(at(15), 3000.0))
    assert tracker.evse(1).energy_wh == 2000.0
    assert not tracker.apply_meter_values(1, meter_values(at(15), 3000.0))  # the same message again
    tracker.apply_event(event("Ended", 1, at(20), register=3500.0))
    tracker.apply_meter_values(1, meter_values(at(30), 3600.0))  # after the end: not this session's
    assert tracker.evse(1).energy_wh == 2500.0
    assert tracker.lifetime_energy_wh(1) == 3600.0
    assert TransactionTracker().apply_meter_values(3, meter_values(at(0), 10.0))
    assert tracker.evse_ids == [0, 1]


def test_old_transactions_are_forgotten_beyond_the_history() -> None:
    tracker = TransactionTracker()
    count = HISTORY_PER_EVSE + 2
    for index in range(count):
        tracker.apply_event(event("Started", 0, at(10 * index), f"T{index}", evse=1))
        tracker.apply_event(event("Ended", 1, at(10 * index + 5), f"T{index}"))
    assert [tracker.transaction(f"T{index}") is not None for index in range(count)] == [False] * 2 + [True] * 4
    assert tracker.evse(1).last_transaction_id == f"T{count - 1}"
    # Transactions whose EVSE never becomes known are bounded too: the earliest are dropped.
    for index in range(MAX_UNASSIGNED + 3):
        tracker.apply_event(event("Updated", 5, at(1000 + index), f"U{index}", register=10.0 * index))
    assert tracker.transaction("U0") is None
    assert tracker.transaction(f"U{MAX_UNASSIGNED + 2}") is not None
    restored = TransactionTracker.from_dict(json.loads(json.dumps(tracker.to_dict())))
    assert restored == tracker
    assert restored != object()
    # The waiting readings survive the restart and reach the EVSE when it becomes known.
    restored.apply_event(event("Started", 4, at(1000), "U5", evse=2))
    assert restored.evse(2).meter.energy_import_wh == 50.0


# Property: any permutation with duplicates of a valid event sequence ends in the state of the in-order one.

STATES = (None, "Charging", "SuspendedEV", "SuspendedEVSE", "EVConnected")
REASONS = (None, "Remote", "EVDisconnected", "StoppedByEV")


@st.composite
def event_sequences(draw: st.DrawFn) -> list[TransactionEventRequest]:
    """Valid sequences: per EVSE a continuous seqNo counter (§1.3.2), 1-2 transactions, registers that grow."""
    events: list[TransactionEventRequest] = []
    for evse in (1, 2):
        seq_no = draw(st.integers(0, 3))
        minute = draw(st.integers(0, 30))
        register = float(draw(st.integers(0, 10_000_000)))
        for index in range(draw(st.integers(1 if evse == 1 else 0, 2))):
            transaction_id = f"E{evse}T{index}"
            events.append(
                event(
                    "Started",
                    seq_no,
                    at(minute),
                    transaction_id,
                    evse=evse,
                    register=register,
                    charging_state="Charging",
                    id_token=f"TAG{evse}{index}",
                )
            )
            for _ in range(draw(st.integers(0, 5))):
                seq_no, minute = seq_no + 1, minute + draw(st.integers(1, 5))
                register += draw(st.integers(0, 400))
                events.append(
                    event(
                        "Updated",
                        seq_no,
                        at(minute),
                        transaction_id,
                        register=register,
                        power=float(draw(st.integers(0, 22000))),
                        charging_state=draw(st.sampled_from(STATES)),
                    )
                )
            if index == 0 or draw(st.booleans()):
                seq_no, minute = seq_no + 1, minute + draw(st.integers(1, 5))
                register += draw(st.integers(0, 400))
                events.append(
                    event(
                        "Ended",
                        seq_no,
                        at(minute),
                        transaction_id,
                        register=register,
                        stopped_reason=draw(st.sampled_from(REASONS)),
                        charging_state="Idle",
                    )
                )
            seq_no, minute = seq_no + 1, minute + draw(st.integers(1, 120))
    return events


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_any_arrival_order_with_duplicates_gives_the_in_order_state(data: st.DataObject) -> None:
    events = data.draw(event_sequences())
    in_order = TransactionTracker()
    for request in events:
        in_order.apply_event(request)
    duplicates = data.draw(st.lists(st.sampled_from(events), max_size=6))
    arrival = data.draw(st.permutations(events + duplicates))

    tracker = TransactionTracker()
    lifetimes: dict[int, float] = {}
    energies: dict[str, float] = {}
    shown: dict[int, list[str]] = {}
    for request in arrival:
        tracker.apply_event(request)
        for evse in (1, 2):
            session = tracker.evse(evse)
            lifetime = session.lifetime_energy_wh
            if lifetime is not None:
                assert lifetime >= lifetimes.get(evse, 0.0)
                lifetimes[evse] = lifetime
            if session.last_transaction_id is not None:
                history = shown.setdefault(evse, [])
                if not history or history[-1] != session.last_transaction_id:
                    assert session.last_transaction_id not in history  # never back to a session already left
                    history.append(session.last_transaction_id)
        record = tracker.transaction(request.transaction_info.transaction_id)
        assert record is not None
        assert record.energy.energy_wh >= energies.get(record.transaction_id, 0.0)
        energies[record.transaction_id] = record.energy.energy_wh

    assert tracker.to_dict() == in_order.to_dict()
    for evse in (1, 2):
        assert tracker.evse(evse) == in_order.evse(evse)


def test_empty_record() -> None:
    record = TransactionRecord("X")
    assert record.missing_seq_nos == []
    assert record.rank[1] == "X"
    assert record.duration(at(0)) is None
    assert not record.ended
    assert TransactionRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_an_offline_replay_out_of_seq_no_order_stamped_when_sent_is_not_a_meter_reset() -> None:
    """Issue 19: seqNo 14, 12, 13, 11 with rising registers, each stamped when sent: no reset, nothing extra."""
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1, register=R0, charging_state="Charging"))
    for seq_no in range(1, 11):
        tracker.apply_event(event("Updated", seq_no, at(seq_no), register=R0 + 100.0 * seq_no))
    assert (tracker.evse(1).energy_wh, tracker.lifetime_energy_wh(1)) == (1000.0, R0 + 1000.0)
    # Offline, then replayed: the station stamps each event when it sends it (at 60, 61, 62, 63 minutes).
    for sent, seq_no in enumerate((14, 12, 13, 11)):
        tracker.apply_event(event("Updated", seq_no, at(60 + sent), register=R0 + 100.0 * seq_no, offline=True))
        assert tracker.lifetime_energy_wh(1) == R0 + 1400.0
        assert tracker.evse(1).energy_wh == 1400.0
    tracker.apply_event(event("Ended", 15, at(64), register=R0 + 1500.0))
    assert (tracker.evse(1).energy_wh, tracker.lifetime_energy_wh(1)) == (1500.0, R0 + 1500.0)
    # The next transaction is ordered against this one by time.
    tracker.apply_event(event("Started", 0, at(70), "TX2", evse=1, register=R0 + 1500.0))
    tracker.apply_event(event("Updated", 1, at(71), "TX2", register=R0 + 1600.0))
    assert (tracker.evse(1).energy_wh, tracker.lifetime_energy_wh(1)) == (100.0, R0 + 1600.0)
    restored = TransactionTracker.from_dict(json.loads(json.dumps(tracker.to_dict())))
    assert restored == tracker
    assert not restored.apply_event(event("Updated", 2, at(65), "TX2", register=R0 + 1700.0)).duplicate
    assert (restored.evse(1).energy_wh, restored.lifetime_energy_wh(1)) == (200.0, R0 + 1700.0)


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_replays_stamped_when_sent_count_exactly_in_any_order(data: st.DataObject) -> None:
    """Events of one transaction in any order, stamped in arrival order: the totals are those of the register."""
    steps = data.draw(st.lists(st.integers(0, 400), min_size=1, max_size=12))
    registers = [R0]
    for step in steps:
        registers.append(registers[-1] + step)
    arrival = data.draw(st.permutations(range(len(registers))))
    tracker = TransactionTracker()
    for sent, seq_no in enumerate(arrival):
        kind = "Started" if seq_no == 0 else "Updated"
        tracker.apply_event(event(kind, seq_no, at(sent), evse=1, register=registers[seq_no], offline=True))
    assert tracker.evse(1).energy_wh == registers[-1] - R0
    assert tracker.lifetime_energy_wh(1) == registers[-1]


def test_a_station_counting_up_evse_ids_is_tracked_for_at_most_max_evses() -> None:
    from custom_components.ocpp_csms.station.transactions import MAX_EVSES  # noqa: PLC0415

    tracker = TransactionTracker()
    for evse_id in range(1, MAX_EVSES + 10):
        tracker.apply_meter_values(evse_id, meter_values(at(evse_id), 1000.0))
    assert tracker.evse_ids == list(range(1, MAX_EVSES + 1))
    assert not tracker.apply_meter_values(MAX_EVSES + 5, meter_values(at(99), 2000.0))
    outcome = tracker.apply_event(event("Started", 0, at(100), "FAR", evse=MAX_EVSES + 5, register=1.0))
    assert outcome.evse_id is None  # kept unassigned (bounded), no new EVSE
    assert tracker.apply_event(event("Started", 0, at(100), "NEAR", evse=3, register=1.0)).evse_id == 3


def test_a_long_session_in_order_holds_a_few_readings() -> None:
    """Issue 19: eight hours of events every 10 s: memory and the stored form do not grow with the session."""
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1, register=R0, charging_state="Charging"))
    for seq_no in range(1, 2880):
        tracker.apply_event(event("Updated", seq_no, at(seq_no / 6), register=R0 + 30.0 * seq_no))
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.energy.energy_wh == 30.0 * 2879
    assert record.seq_nos.to_list() == [[0, 2879]]
    stored = record.to_dict()
    # The neighbours of the next reading and at most a batch of settled ones; the rest is a sum.
    assert 2 <= len(stored["energy"]["points"]) < 2 + SETTLED_FOLD_BATCH
    assert len(json.dumps(tracker.to_dict())) < 4000  # every reading: some 200 kB
    # A retry of an old event is still a duplicate; the session goes on from the held readings.
    assert tracker.apply_event(event("Updated", 100, at(100 / 6), register=R0 + 3000.0)).duplicate
    tracker.apply_event(event("Ended", 2880, at(480), register=R0 + 30.0 * 2880, stopped_reason="EVDisconnected"))
    assert tracker.evse(1).energy_wh == 30.0 * 2880
    restored = TransactionTracker.from_dict(json.loads(json.dumps(tracker.to_dict())))
    assert restored == tracker


def test_a_gap_keeps_the_readings_after_it_until_the_late_event_fills_it() -> None:
    """E04.FR.07: readings after a missing seqNo stay held; the late event arrives, counts, and they fold."""
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1, register=R0, charging_state="Charging"))
    for seq_no in range(1, 50):
        if seq_no != 10:
            tracker.apply_event(event("Updated", seq_no, at(seq_no), register=R0 + 100.0 * seq_no))
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.missing_seq_nos == [10]
    assert record.settled_through == 9
    assert len(record.to_dict()["energy"]["points"]) == 10 + 39  # nothing to fold before the gap; all after it
    # The late event was a dip (a reading of 0 between two true ones): counted once, as in order.
    tracker.apply_event(event("Updated", 10, at(10), register=0.0, offline=True))
    assert tracker.evse(1).energy_wh == 4900.0
    assert len(record.to_dict()["energy"]["points"]) == 2  # all settled now: folded but the last two
    in_order = TransactionTracker()
    in_order.apply_event(event("Started", 0, at(0), evse=1, register=R0, charging_state="Charging"))
    for seq_no in range(1, 50):
        register = 0.0 if seq_no == 10 else R0 + 100.0 * seq_no
        in_order.apply_event(event("Updated", seq_no, at(seq_no), register=register))
    assert in_order.evse(1).energy_wh == tracker.evse(1).energy_wh


def test_a_station_reusing_seq_nos_folds_by_the_point_limit_only() -> None:
    tracker = TransactionTracker()
    tracker.apply_event(event("Started", 0, at(0), evse=1, register=R0))
    for minute in range(1, 30):
        tracker.apply_event(event("Updated", 0, at(minute), register=R0 + 100.0 * minute))
    record = tracker.transaction("TX1")
    assert record is not None
    assert record.reused_seq_nos == 29
    assert record.settled_through is None  # the order of its events cannot be told from their seqNos
    assert len(record.to_dict()["energy"]["points"]) == 30
    assert tracker.evse(1).energy_wh == 2900.0
