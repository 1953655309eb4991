"""Lifetime energy that never decreases, and a session's energy independent of arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
import json
import random

from custom_components.ocpp_csms.station.energy import LifetimeEnergy, SessionEnergy

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_lifetime_starts_at_the_register_and_adds_increases() -> None:
    energy = LifetimeEnergy()
    assert energy.total_wh(1) is None
    assert energy.feed(1, 1_000_000.0, at(0))
    assert energy.total_wh(1) == 1_000_000.0
    assert energy.feed(1, 1_000_180.0, at(1))
    assert not energy.feed(1, 1_000_180.0, at(2))  # no increase
    assert energy.total_wh(1) == 1_000_180.0
    assert energy.registers == [1]
    assert not LifetimeEnergy().feed(2, 0.0, at(0))


def test_lifetime_takes_a_drop_as_a_new_baseline() -> None:
    energy = LifetimeEnergy()
    energy.feed(1, 5000.0, at(0))
    assert not energy.feed(1, 0.0, at(1))  # the meter was reset (or replaced)
    assert energy.total_wh(1) == 5000.0
    assert energy.feed(1, 250.0, at(2))
    assert energy.total_wh(1) == 5250.0
    # A station reporting each session's energy from 0 instead of a register: sessions add up.
    assert not energy.feed(1, 0.0, at(10))
    energy.feed(1, 1000.0, at(20))
    assert energy.total_wh(1) == 6250.0


def test_lifetime_ignores_replayed_and_older_readings() -> None:
    energy = LifetimeEnergy()
    energy.feed(1, 1000.0, at(0))
    energy.feed(1, 1600.0, at(10))
    assert not energy.feed(1, 1300.0, at(5))  # queued offline, arrives late: already covered by 1600
    assert not energy.feed(1, 1600.0, at(10))  # a repeated message
    assert not energy.feed(1, 1700.0, at(10))  # same time, different value: not newer
    assert energy.total_wh(1) == 1600.0
    energy.feed(1, 1900.0, at(15))
    assert energy.total_wh(1) == 1900.0


def test_lifetime_refuses_implausible_jumps() -> None:
    energy = LifetimeEnergy(max_power_w=50_000)
    energy.feed(1, 1000.0, at(0))
    # 1 MWh in one minute: a unit mix-up or a glitch, not energy. It becomes the new baseline.
    assert not energy.feed(1, 1_001_000.0, at(1))
    assert energy.total_wh(1) == 1000.0
    assert energy.feed(1, 1_001_500.0, at(2))  # increases from the new baseline count again
    assert energy.total_wh(1) == 1500.0
    assert not energy.feed(1, 2000.0, at(3))  # and the glitch ending is a drop
    assert energy.feed(1, 2700.0, at(4))  # 700 Wh/min = 42 kW: plausible
    assert energy.total_wh(1) == 2200.0


def test_lifetime_never_decreases_over_a_random_register_history() -> None:
    rng = random.Random(3)
    energy = LifetimeEnergy()
    register, last_total, minute = 0.0, 0.0, 0
    for _ in range(500):
        minute += rng.randint(-3, 5)
        register = 0.0 if rng.random() < 0.02 else register + rng.choice([0, 10.5, 183.3, 370.0])
        energy.feed(1, register, at(minute))
        total = energy.total_wh(1)
        assert total is not None
        assert total >= last_total
        last_total = total


def test_lifetime_restores_and_continues() -> None:
    energy = LifetimeEnergy()
    energy.feed(1, 1000.0, at(0))
    energy.feed(1, 1000.1, at(1))
    energy.feed(2, 0.3, at(1))
    data = json.loads(json.dumps(energy.to_dict()))
    restored = LifetimeEnergy.from_dict(data)
    assert restored == energy
    assert restored.to_dict() == data
    assert not restored.feed(1, 1000.0, at(0.5))  # a replay from before the restart
    assert restored.feed(1, 1000.3, at(2))
    assert restored.total_wh(1) == 1000.3  # decimal arithmetic: exact
    assert energy != object()


def test_session_energy_sums_increases_in_time_order() -> None:
    session = SessionEnergy()
    assert session.energy_wh == 0.0
    assert (session.first, session.last) == (None, None)
    assert not session.add(1000.0, at(0))
    assert session.add(1100.0, at(1))
    assert session.add(1250.0, at(2))
    assert session.energy_wh == 250.0
    assert session.first == (at(0), 1000.0)
    assert session.last == (at(2), 1250.0)
    assert not session.add(1100.0, at(1))  # the same reading again


def test_session_energy_refuses_the_jump_the_lifetime_refuses() -> None:
    """250 kWh in 15 s (issue 18): neither total counts it, in either arrival order."""
    glitch = [(1000.0, T0), (251_000.0, T0 + timedelta(seconds=15)), (252_000.0, at(10))]
    for order in (glitch, list(reversed(glitch))):
        session = SessionEnergy()
        for value, timestamp in order:
            session.add(value, timestamp)
        assert session.energy_wh == 1000.0  # only the plausible kWh after the glitch
    lifetime = LifetimeEnergy()
    for value, timestamp in glitch:
        lifetime.feed(1, value, timestamp)
    assert lifetime.total_wh(1) == 2000.0  # the first reading, then the kWh after the glitch


def test_session_energy_is_independent_of_arrival_order_and_never_decreases() -> None:
    points = [(at(0), 500.0), (at(1), 700.0), (at(2), 0.0), (at(3), 40.0), (at(4), 90.5), (at(5), 90.5)]
    expected = 200.0 + 40.0 + 50.5  # the drop to 0 (a meter reset mid-session) starts a new baseline
    for order in itertools.permutations(points):
        session = SessionEnergy()
        previous = 0.0
        for timestamp, value in order:
            session.add(value, timestamp)
            assert session.energy_wh >= previous
            previous = session.energy_wh
        assert session.energy_wh == expected


def test_session_energy_folds_old_readings_in_long_sessions() -> None:
    session = SessionEnergy(max_points=8)
    for minute in range(20):
        session.add(1000.0 + 10 * minute, at(minute))
    assert session.energy_wh == 190.0
    assert session.first is not None
    assert session.first[0] > at(0)  # the older half was folded into a fixed sum
    assert not session.add(1001.0, at(0.5))  # within the folded part: counted already
    assert session.energy_wh == 190.0
    data = json.loads(json.dumps(session.to_dict()))
    restored = SessionEnergy.from_dict(data, max_points=8)
    assert restored == session
    assert restored.to_dict() == data
    assert restored.add(1300.0, at(30))
    assert restored.energy_wh == 300.0
    assert SessionEnergy.from_dict(SessionEnergy().to_dict()) == SessionEnergy()
    assert session != object()


def test_a_register_that_drops_to_0_for_a_moment_is_counted_once() -> None:
    """Growatt, Pulsar (charger-quirks.md): a reading of 0 between two true ones is a glitch, not a reset."""
    points = [(at(0), 5000.0), (at(10), 5500.0), (at(11), 0.0), (at(20), 6000.0), (at(30), 6500.0)]
    in_order = SessionEnergy()
    for timestamp, value in points:
        previous = in_order.energy_wh
        in_order.add(value, timestamp)
        assert in_order.energy_wh >= previous
    for order in itertools.permutations(points):
        # A late reading can show an earlier one to be a dip: the total then comes down to the right value.
        session = SessionEnergy()
        for timestamp, value in order:
            session.add(value, timestamp)
        assert session.energy_wh == 1500.0
    lifetime = LifetimeEnergy()
    readings = [*points[:3], (at(12), 0.0), *points[3:]]  # within one transaction, two low readings
    for seq_no, (timestamp, value) in enumerate(readings):
        lifetime.feed(1, value, timestamp, ("T1", seq_no))
    assert lifetime.total_wh(1) == 6500.0
    restored = LifetimeEnergy.from_dict(json.loads(json.dumps(lifetime.to_dict())))
    assert restored == lifetime


def test_a_drop_within_a_transaction_that_stays_low_is_a_reset() -> None:
    lifetime = LifetimeEnergy()
    for seq_no, (minute, value) in enumerate([(0, 5000.0), (10, 5500.0), (11, 0.0)]):
        lifetime.feed(1, value, at(minute), ("T1", seq_no))
    restored = LifetimeEnergy.from_dict(json.loads(json.dumps(lifetime.to_dict())))
    assert restored == lifetime  # the level before the drop is kept across a restart
    for energy in (lifetime, restored):
        energy.feed(1, 200.0, at(12), ("T1", 3))  # rising from the new baseline: the meter was reset
        energy.feed(1, 6000.0, at(20), ("T1", 4))  # and further, past the old level: counted from the new baseline
        assert energy.total_wh(1) == 5500.0 + 6000.0


def test_a_drop_between_transactions_is_a_per_session_register() -> None:
    lifetime = LifetimeEnergy()
    lifetime.feed(1, 0.0, at(0), ("T1", 0))
    lifetime.feed(1, 3000.0, at(60), ("T1", 1))
    lifetime.feed(1, 0.0, at(120), ("T2", 0))
    lifetime.feed(1, 4000.0, at(180), ("T2", 1))
    assert lifetime.total_wh(1) == 7000.0


def test_lifetime_orders_readings_of_one_transaction_by_seq_no() -> None:
    energy = LifetimeEnergy()
    energy.feed(1, 1000.0, at(0), ("TX", 10))
    assert energy.feed(1, 1400.0, at(1), ("TX", 14))
    for minute, (seq_no, value) in enumerate(((12, 1200.0), (13, 1300.0), (11, 1100.0)), start=2):
        assert not energy.feed(1, value, at(minute), ("TX", seq_no))  # older by seqNo, whatever the time
    assert energy.feed(1, 1500.0, at(0.5), ("TX", 15))  # newer by seqNo, though stamped earlier
    assert not energy.feed(1, 1500.0, at(0.5), ("TX", 15))  # the same reading again
    assert energy.total_wh(1) == 1500.0
    assert not energy.feed(1, 1600.0, at(0.8), ("TX2", 0))  # another transaction: by time (at(1) taken already)
    assert energy.feed(1, 1600.0, at(5), ("TX2", 0))
    data = json.loads(json.dumps(energy.to_dict()))
    assert data["1"]["last_order"] == ["TX2", 0]
    assert LifetimeEnergy.from_dict(data) == energy


def test_session_energy_orders_by_seq_no_then_time_and_restores_old_points() -> None:
    session = SessionEnergy()
    for sent, (seq_no, value) in enumerate(((14, 1400.0), (12, 1200.0), (13, 1300.0), (11, 1100.0))):
        session.add(value, at(sent), seq_no)
    assert session.energy_wh == 300.0
    assert session.last_order == 14
    assert SessionEnergy().last_order is None
    data = json.loads(json.dumps(session.to_dict()))
    assert SessionEnergy.from_dict(data) == session
    # Points stored before seqNo ordering ([timestamp, value]) load with seqNo 0, in time order.
    old = SessionEnergy.from_dict({"points": [[at(1).isoformat(), "1100"], [at(0).isoformat(), "1000"]]})
    assert old.energy_wh == 100.0
    folding = SessionEnergy(max_points=4)
    for seq_no in range(1, 8):
        folding.add(100.0 * seq_no, at(10 - seq_no), seq_no)
    assert folding.energy_wh == 600.0
    assert not folding.add(50.0, at(20), 1)  # before what was folded
    restored = SessionEnergy.from_dict(json.loads(json.dumps(folding.to_dict())), max_points=4)
    assert restored == folding


def test_a_restored_lifetime_is_unconfirmed_until_its_register_is_read_again() -> None:
    energy = LifetimeEnergy()
    energy.feed(1, 1000.0, at(0))
    restored = LifetimeEnergy.from_dict(energy.to_dict())
    restored.mark_unconfirmed()
    assert not restored.confirmed(1)
    assert restored.confirmed(2)  # nothing restored of it
    assert not restored.feed(1, 900.0, at(-1))  # older: still unconfirmed
    assert restored.feed(1, 1000.0, at(1))  # read again, unchanged: now shown
    assert restored.confirmed(1)
    assert restored.total_wh(1) == 1000.0
