"""The seqNos of a transaction's events, held as runs of consecutive numbers.

A session sends an event every meter interval: eight hours at 10 s are 2880 seqNos, which a set holds in some
130 kB. In order (the usual case) they are one run, [0, 2879]: a gap (a lost or late event) splits a run, and
the event that fills it joins the two again.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise


def _start(run: list[int]) -> int:
    return run[0]


class SeqNos:
    """A set of seqNos (non-negative or not) as sorted, disjoint, non-adjacent [first, last] runs."""

    __slots__ = ("_runs",)

    def __init__(self, runs: Iterable[Sequence[int]] = ()) -> None:
        """From [first, last] runs in any order (overlapping or adjacent ones are merged)."""
        self._runs: list[list[int]] = []
        for first, last in sorted((int(run[0]), int(run[1])) for run in runs):
            if first > last:
                continue
            if self._runs and first <= self._runs[-1][1] + 1:
                self._runs[-1][1] = max(self._runs[-1][1], last)
            else:
                self._runs.append([first, last])

    def __contains__(self, number: object) -> bool:
        """Whether `number` was added."""
        if not isinstance(number, int):
            return False
        index = bisect_right(self._runs, number, key=_start)
        return index > 0 and self._runs[index - 1][1] >= number

    def add(self, number: int) -> None:
        """Add one seqNo, joining the runs it touches."""
        runs = self._runs
        index = bisect_right(runs, number, key=_start)  # runs[index - 1] starts at or before `number`
        if index > 0 and runs[index - 1][1] >= number:
            return
        joins_before = index > 0 and runs[index - 1][1] == number - 1
        joins_after = index < len(runs) and runs[index][0] == number + 1
        if joins_before and joins_after:
            runs[index - 1][1] = runs[index][1]
            del runs[index]
        elif joins_before:
            runs[index - 1][1] = number
        elif joins_after:
            runs[index][0] = number
        else:
            runs.insert(index, [number, number])

    def __bool__(self) -> bool:
        """Whether any seqNo was added."""
        return bool(self._runs)

    def __iter__(self) -> Iterator[int]:
        """Every seqNo, in order."""
        for first, last in self._runs:
            yield from range(first, last + 1)

    def __eq__(self, other: object) -> bool:
        """The same seqNos."""
        return isinstance(other, SeqNos) and self._runs == other._runs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        """The runs."""
        return f"SeqNos({self._runs!r})"

    @property
    def first_run_end(self) -> int | None:
        """The last seqNo of the run that starts at the lowest one (None: none added)."""
        return self._runs[0][1] if self._runs else None

    def missing(self) -> list[int]:
        """The seqNos between the lowest and the highest that were not added."""
        return [number for before, after in pairwise(self._runs) for number in range(before[1] + 1, after[0])]

    def to_list(self) -> list[list[int]]:
        """JSON-ready [first, last] runs: {1, 2, 3, 7} → [[1, 3], [7, 7]]."""
        return [[first, last] for first, last in self._runs]
