"""A transaction's seqNos held as runs: the same answers as a set, in a few numbers for an in-order session."""

from __future__ import annotations

from itertools import pairwise
import json

from hypothesis import given, settings, strategies as st

from custom_components.ocpp_csms.station.seq_nos import SeqNos


def test_in_order_seq_nos_are_one_run() -> None:
    seq_nos = SeqNos()
    for number in range(2880):  # eight hours of events every 10 s
        seq_nos.add(number)
    assert seq_nos.to_list() == [[0, 2879]]
    assert seq_nos.first_run_end == 2879
    assert seq_nos.missing() == []
    assert 2879 in seq_nos
    assert 2880 not in seq_nos
    assert "1" not in seq_nos


def test_a_gap_splits_a_run_and_the_late_event_joins_it_again() -> None:
    """E04.FR.07: a lost event shows as a gap; the event arriving late fills it."""
    seq_nos = SeqNos()
    for number in (0, 1, 2, 4, 5, 9):
        seq_nos.add(number)
    assert seq_nos.to_list() == [[0, 2], [4, 5], [9, 9]]
    assert seq_nos.missing() == [3, 6, 7, 8]
    assert seq_nos.first_run_end == 2
    seq_nos.add(3)
    assert seq_nos.to_list() == [[0, 5], [9, 9]]
    seq_nos.add(8)
    seq_nos.add(7)
    seq_nos.add(6)
    assert seq_nos.to_list() == [[0, 9]]
    seq_nos.add(5)  # a retry: nothing changes
    assert seq_nos.to_list() == [[0, 9]]


def test_runs_from_storage_are_merged_and_round_trip() -> None:
    assert SeqNos([[4, 6], [0, 2], [3, 3], [5, 9], [12, 11]]).to_list() == [[0, 9]]
    seq_nos = SeqNos([[0, 3], [7, 8]])
    assert SeqNos(json.loads(json.dumps(seq_nos.to_list()))) == seq_nos
    assert list(seq_nos) == [0, 1, 2, 3, 7, 8]
    assert repr(seq_nos) == "SeqNos([[0, 3], [7, 8]])"
    assert not SeqNos()
    assert SeqNos().first_run_end is None
    assert seq_nos != [[0, 3], [7, 8]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-5, 60), max_size=80))
def test_seq_nos_answer_as_a_set_would(numbers: list[int]) -> None:
    seq_nos = SeqNos()
    held: set[int] = set()
    for number in numbers:
        seq_nos.add(number)
        held.add(number)
        assert list(seq_nos) == sorted(held)
    for number in range(-7, 63):
        assert (number in seq_nos) == (number in held)
    expected_missing = [n for n in range(min(held), max(held)) if n not in held] if held else []
    assert seq_nos.missing() == expected_missing
    runs = seq_nos.to_list()
    assert all(before[1] + 1 < after[0] for before, after in pairwise(runs))
    assert SeqNos(runs) == seq_nos
