"""Transactions of one station, from TransactionEvent (E01-E15) and MeterValues (J01) messages.

Events are applied idempotently and order-independently. A station queues events while offline and sends them
later (E04, E11, E12) with `offline` set; delivery retries (E13) can repeat one; the CSMS can therefore see any
order. Instead of buffering until gaps fill, every field of a transaction is a register that keeps the value of
the event with the highest seqNo that set it (the idToken: the lowest, the one that authorized the session), the
start time is the earliest event's, the session energy depends on the set of register readings only
(`energy.SessionEnergy`), the lifetime energy takes the newest reading, and the EVSE's meter snapshot keeps the
newest reading per quantity. Within a transaction, readings are ordered by seqNo (a station replaying its queue
may stamp each event when it sends it: a lower register from an earlier seqNo is never a meter reset); across
transactions, by timestamp. So the state after any arrival order, with any duplicates, equals the state after
applying the events in seqNo order, and an old event arriving late never moves the state backwards.

A duplicate is the same event sent again: the same (transactionId, seqNo) and the same event (type, timestamp,
trigger, charging state), a no-op. Some stations reuse seqNos (every event with seqNo 0, against E.FR's increasing
seqNo): a different event with a seqNo already seen is applied (as the newest with that seqNo) and counted in
`reused_seq_nos`. The signatures of the highest few seqNos are kept per transaction (RECENT_SIGNATURES), as
retries repeat recent events; an older seqNo seen again counts as a duplicate.

seqNos missing between the lowest and highest received are reported by `gaps` (diagnostics: a station low on
memory may drop Updated events, E04.FR.07/E11.FR.04).

Per EVSE the tracker shows the session of the transaction that started last; its values (energy, duration,
stop reason, ID token) stay after it ends and are replaced when the next transaction starts. The EVSE field is
sent only in the first event after the EV connected (E01.FR.16): readings of a transaction whose EVSE is not known
yet wait in the transaction until it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Self

from ..protocol.v201.datatypes import IdToken, MeterValue
from ..protocol.v201.enums import ChargingState, Location, Reason, TransactionEvent, TriggerReason
from ..protocol.v201.messages import TransactionEventRequest
from .energy import DEFAULT_MAX_POWER_W, LifetimeEnergy, SessionEnergy
from .meter_values import MeterSnapshot, Reading, energy_register, readings
from .seq_nos import SeqNos

#: Transactions remembered per EVSE (the current one and the ones before it), to recognise late events.
HISTORY_PER_EVSE: Final = 4
#: Transactions whose EVSE is not known yet, at most.
MAX_UNASSIGNED: Final = 16
#: Messages' worth of readings a transaction of unknown EVSE holds until its EVSE is known.
MAX_PENDING: Final = 256
#: EVSEs tracked per station, at most (the largest real stations have a few dozen): readings of further EVSE
#: ids (a broken or hostile station counting up) are not kept, and a transaction there stays unassigned.
MAX_EVSES: Final = 64
#: Signatures of a transaction's latest events kept to tell a retried event from a reused seqNo.
RECENT_SIGNATURES: Final = 8
#: The stamp of what the Ended event sets: above every seqNo.
ENDED_STAMP: Final = 2**31

type _Stamped[T] = tuple[int, T]  # (seqNo of the event that set it, value)
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def register_locations(evse_id: int) -> tuple[Location, ...]:
    """Where the energy register of an EVSE is read: the outlet; for EVSE 0 (the grid meter) also the inlet."""
    return (Location.OUTLET,) if evse_id > 0 else (Location.INLET, Location.OUTLET)


def _later[T](held: _Stamped[T] | None, seq_no: int, value: T | None) -> _Stamped[T] | None:
    """The register keeping the value of the highest seqNo."""
    if value is None or (held is not None and held[0] > seq_no):
        return held
    return seq_no, value


def event_signature(event: TransactionEventRequest) -> str:
    """What tells two events with the same seqNo apart: a retry repeats all of it."""
    state = event.transaction_info.charging_state
    return "|".join(
        (event.event_type.value, event.timestamp.isoformat(), event.trigger_reason.value, state.value if state else "")
    )


def _stamped_to_list(held: _Stamped[Any] | None) -> list[Any] | None:
    return [held[0], held[1]] if held is not None else None


@dataclass(slots=True)
class TransactionRecord:
    """What is known of one transaction."""

    transaction_id: str
    evse_id: int | None = None
    connector_id: int | None = None
    seq_nos: SeqNos = field(default_factory=SeqNos)
    #: The earliest event's timestamp (the Started event's, once it arrived).
    started_at: datetime | None = None
    #: The Ended event's timestamp.
    ended_at: datetime | None = None
    started_event: bool = False
    charging_state: _Stamped[ChargingState] | None = None
    stopped_reason: _Stamped[Reason] | None = None
    trigger_reason: _Stamped[TriggerReason] | None = None
    time_spent_charging: _Stamped[int] | None = None
    remote_start_id: _Stamped[int] | None = None
    #: The idToken of the lowest seqNo: the one that authorized the transaction (not the one that ended it).
    id_token: _Stamped[IdToken] | None = None
    energy: SessionEnergy = field(default_factory=SessionEnergy)
    #: Readings (with the seqNo of their event) waiting for the EVSE to be known.
    pending: list[tuple[int, Reading]] = field(default_factory=list)
    #: The signatures of the events with the highest seqNos (at most RECENT_SIGNATURES).
    signatures: dict[int, str] = field(default_factory=dict)
    #: Different events that came with a seqNo already seen (a station that does not increase it).
    reused_seq_nos: int = 0

    def seen(self, seq_no: int, signature: str) -> bool:
        """Whether this event was applied before (a retry); otherwise it is remembered as applied."""
        if seq_no in self.seq_nos:
            known = self.signatures.get(seq_no)
            if known is None or known == signature:
                return True
            self.reused_seq_nos += 1
        self.seq_nos.add(seq_no)
        self.signatures[seq_no] = signature
        if len(self.signatures) > RECENT_SIGNATURES:
            del self.signatures[min(self.signatures)]
        return False

    @property
    def ended(self) -> bool:
        """Whether the Ended event arrived."""
        return self.ended_at is not None

    @property
    def missing_seq_nos(self) -> list[int]:
        """The seqNos between the lowest and highest received that did not arrive."""
        return self.seq_nos.missing()

    @property
    def settled_through(self) -> int | None:
        """The seqNo up to which every event of the transaction is in: none before it can still come (None: unknown).

        Known once the Started event (the transaction's lowest seqNo) arrived, for a station that does not reuse
        seqNos: the end of the run of consecutive seqNos from the Started event's.
        """
        if not self.started_event or self.reused_seq_nos:
            return None
        return self.seq_nos.first_run_end

    @property
    def rank(self) -> tuple[datetime, str]:
        """Which of an EVSE's transactions is the current one: the latest to start."""
        return self.started_at or _NEVER, self.transaction_id

    def duration(self, now: datetime) -> timedelta | None:
        """From start to end, or to `now` while it runs."""
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.started_at, timedelta(0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data: dict[str, Any] = {
            "transaction_id": self.transaction_id,
            "seq_nos": self.seq_nos.to_list(),
            "started_event": self.started_event,
            "energy": self.energy.to_dict(),
        }
        if self.evse_id is not None:
            data["evse_id"] = self.evse_id
        if self.connector_id is not None:
            data["connector_id"] = self.connector_id
        if self.started_at is not None:
            data["started_at"] = self.started_at.isoformat()
        if self.ended_at is not None:
            data["ended_at"] = self.ended_at.isoformat()
        for name in ("charging_state", "stopped_reason", "trigger_reason", "time_spent_charging", "remote_start_id"):
            if (held := _stamped_to_list(getattr(self, name))) is not None:
                data[name] = held
        if self.id_token is not None:
            data["id_token"] = [self.id_token[0], self.id_token[1].to_payload()]
        if self.pending:
            data["pending"] = [[order, reading.to_dict()] for order, reading in self.pending]
        if self.signatures:
            data["signatures"] = [[seq_no, self.signatures[seq_no]] for seq_no in sorted(self.signatures)]
        if self.reused_seq_nos:
            data["reused_seq_nos"] = self.reused_seq_nos
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TransactionRecord:
        """The inverse of `to_dict()`."""
        record = cls(
            transaction_id=data["transaction_id"],
            evse_id=data.get("evse_id"),
            connector_id=data.get("connector_id"),
            seq_nos=SeqNos(data["seq_nos"]),
            started_at=datetime.fromisoformat(data["started_at"]) if "started_at" in data else None,
            ended_at=datetime.fromisoformat(data["ended_at"]) if "ended_at" in data else None,
            started_event=data["started_event"],
            energy=SessionEnergy.from_dict(data["energy"]),
            pending=[(order, Reading.from_dict(reading)) for order, reading in data.get("pending", ())],
            signatures={int(seq_no): str(signature) for seq_no, signature in data.get("signatures", ())},
            reused_seq_nos=data.get("reused_seq_nos", 0),
        )
        if (held := data.get("charging_state")) is not None:
            record.charging_state = (held[0], ChargingState(held[1]))
        if (held := data.get("stopped_reason")) is not None:
            record.stopped_reason = (held[0], Reason(held[1]))
        if (held := data.get("trigger_reason")) is not None:
            record.trigger_reason = (held[0], TriggerReason(held[1]))
        if (held := data.get("time_spent_charging")) is not None:
            record.time_spent_charging = (held[0], held[1])
        if (held := data.get("remote_start_id")) is not None:
            record.remote_start_id = (held[0], held[1])
        if (held := data.get("id_token")) is not None:
            record.id_token = (held[0], IdToken.from_payload(held[1]))
        return record


@dataclass(frozen=True, slots=True)
class EventOutcome:
    """What applying one TransactionEvent did, for the glue to decide what to refresh."""

    transaction_id: str
    evse_id: int | None
    #: The (transactionId, seqNo) was seen before: nothing changed.
    duplicate: bool = False
    #: The event is about the session the EVSE shows (not an older transaction's late event).
    current: bool = False
    #: This event made its transaction the EVSE's current one: a new session began (reset session entities).
    new_session: bool = False
    #: The station queued the event while offline (E04.FR.03).
    offline: bool = False


@dataclass(frozen=True, slots=True)
class EvseSession:
    """An EVSE's current (or, after it ended, last) session, the meter and lifetime energy: what entities show."""

    evse_id: int
    #: The running transaction, None when the last one ended.
    transaction_id: str | None = None
    #: The transaction whose values are shown (running or ended).
    last_transaction_id: str | None = None
    charging_state: ChargingState | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    #: Energy of the session (Wh).
    energy_wh: float | None = None
    stopped_reason: Reason | None = None
    id_token: IdToken | None = None
    remote_start_id: int | None = None
    time_spent_charging_s: int | None = None
    meter: MeterSnapshot = field(default_factory=MeterSnapshot)
    #: The EVSE's lifetime energy (Wh), never decreasing.
    lifetime_energy_wh: float | None = None
    #: False after a restore from a store that may lag what was shown, until the register is read again.
    energy_confirmed: bool = True

    @property
    def active(self) -> bool:
        """Whether a transaction is running."""
        return self.transaction_id is not None

    def duration(self, now: datetime) -> timedelta | None:
        """The session's duration: to its end, or to `now` while it runs."""
        if self.started_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else now
        return max(end - self.started_at, timedelta(0))


class TransactionTracker:
    """The transactions, sessions, meter snapshots and lifetime energy of one station's EVSEs."""

    def __init__(self, *, max_power_w: float = DEFAULT_MAX_POWER_W) -> None:
        """Nothing known yet. `max_power_w` bounds plausible lifetime energy increases (see `energy`)."""
        self._max_power_w = max_power_w
        self._transactions: dict[str, TransactionRecord] = {}
        self._by_evse: dict[int, list[str]] = {}
        self._current: dict[int, str] = {}
        self._unassigned: dict[str, None] = {}
        self._meters: dict[int, MeterSnapshot] = {}
        self.lifetime = LifetimeEnergy(max_power_w)
        #: What each EVSE shows, built once per change: every entity of the EVSE reads it when the state is written.
        self._views: dict[int, EvseSession] = {}

    def __eq__(self, other: object) -> bool:
        """Equal when the persisted state is."""
        return isinstance(other, TransactionTracker) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    # Reading

    @property
    def evse_ids(self) -> list[int]:
        """The EVSEs with a transaction or meter values, sorted."""
        return sorted(self._by_evse.keys() | self._meters.keys())

    def transaction(self, transaction_id: str) -> TransactionRecord | None:
        """A remembered transaction."""
        return self._transactions.get(transaction_id)

    def evse(self, evse_id: int) -> EvseSession:
        """What an EVSE shows now (built again only after a change)."""
        view = self._views.get(evse_id)
        if view is None:
            view = self._views[evse_id] = self._view(evse_id)
        return view

    def _view(self, evse_id: int) -> EvseSession:
        meter = self._meters.get(evse_id) or MeterSnapshot()
        lifetime = self.lifetime.total_wh(evse_id)
        confirmed = self.lifetime.confirmed(evse_id)
        current = self._current.get(evse_id)
        record = self._transactions[current] if current is not None else None
        if record is None:
            return EvseSession(evse_id, meter=meter, lifetime_energy_wh=lifetime, energy_confirmed=confirmed)
        return EvseSession(
            evse_id,
            transaction_id=None if record.ended else record.transaction_id,
            last_transaction_id=record.transaction_id,
            charging_state=record.charging_state[1] if record.charging_state else None,
            started_at=record.started_at,
            ended_at=record.ended_at,
            energy_wh=record.energy.energy_wh if record.energy.first is not None else None,
            stopped_reason=record.stopped_reason[1] if record.stopped_reason else None,
            id_token=record.id_token[1] if record.id_token else None,
            remote_start_id=record.remote_start_id[1] if record.remote_start_id else None,
            time_spent_charging_s=record.time_spent_charging[1] if record.time_spent_charging else None,
            meter=meter,
            lifetime_energy_wh=lifetime,
            energy_confirmed=confirmed,
        )

    def lifetime_energy_wh(self, evse_id: int) -> float | None:
        """An EVSE's lifetime energy (Wh)."""
        return self.lifetime.total_wh(evse_id)

    @property
    def gaps(self) -> dict[str, list[int]]:
        """Per remembered transaction, the seqNos missing between the lowest and highest received."""
        return {
            transaction_id: missing
            for transaction_id, record in sorted(self._transactions.items())
            if (missing := record.missing_seq_nos)
        }

    @property
    def reused_seq_nos(self) -> dict[str, int]:
        """Per remembered transaction, how many different events came with a seqNo already seen."""
        return {
            transaction_id: record.reused_seq_nos
            for transaction_id, record in sorted(self._transactions.items())
            if record.reused_seq_nos
        }

    # Messages

    def apply_event(self, event: TransactionEventRequest) -> EventOutcome:
        """Apply one TransactionEventRequest (E01-E15); idempotent, order-independent (see the module doc)."""
        self._views.clear()
        info = event.transaction_info
        transaction_id = info.transaction_id
        seq_no = event.seq_no
        record = self._transactions.get(transaction_id)
        if record is None:
            record = TransactionRecord(transaction_id)
            self._transactions[transaction_id] = record
            self._unassigned[transaction_id] = None
        if record.seen(seq_no, event_signature(event)):
            return EventOutcome(
                transaction_id,
                record.evse_id,
                duplicate=True,
                current=self._is_current(record),
                offline=bool(event.offline),
            )
        was_current = self._is_current(record)
        if record.started_at is None or event.timestamp < record.started_at:
            record.started_at = event.timestamp
        if event.event_type is TransactionEvent.STARTED:
            record.started_event = True
        stopped_reason = info.stopped_reason
        if event.event_type is TransactionEvent.ENDED:
            record.ended_at = event.timestamp
            stopped_reason = stopped_reason or Reason.LOCAL  # the one reason that may be left out (E07.FR.06)
        # The Ended event's state is final: an event a station sends after it (against E.FR) does not move it back.
        final = ENDED_STAMP if event.event_type is TransactionEvent.ENDED else seq_no
        record.charging_state = _later(record.charging_state, final, info.charging_state)
        record.stopped_reason = _later(record.stopped_reason, seq_no, stopped_reason)
        record.trigger_reason = _later(record.trigger_reason, seq_no, event.trigger_reason)
        record.time_spent_charging = _later(record.time_spent_charging, seq_no, info.time_spent_charging)
        record.remote_start_id = _later(record.remote_start_id, seq_no, info.remote_start_id)
        if event.id_token is not None and (record.id_token is None or seq_no < record.id_token[0]):
            record.id_token = (seq_no, event.id_token)

        taken = readings(event.meter_value or ())
        locations = register_locations(record.evse_id if record.evse_id is not None else 1)
        for reading in energy_register(taken, locations):
            record.energy.add(reading.value, reading.timestamp, seq_no)
        if (through := record.settled_through) is not None:
            record.energy.settle(through)  # what no late event can change is folded into a sum
        if record.evse_id is None:
            if event.evse is not None and self._accepts(event.evse.id):
                self._assign(record, event.evse.id, event.evse.connector_id)
                self._feed_evse(event.evse.id, taken, seq_no, transaction_id)
            else:
                record.pending.extend((seq_no, reading) for reading in taken)
                del record.pending[:-MAX_PENDING]
        else:
            self._feed_evse(record.evse_id, taken, seq_no, transaction_id)
        self._trim_unassigned()
        if record.evse_id is not None:
            self._elect(record.evse_id)
        current = self._is_current(record)
        return EventOutcome(
            transaction_id,
            record.evse_id,
            current=current,
            new_session=current and not was_current,
            offline=bool(event.offline),
        )

    def end_without_event(self, transaction_id: str, ended_at: datetime) -> bool:
        """The station says the transaction is over and nothing of it is queued (E14): its Ended event was lost.

        The session ends at `ended_at`, idle; an Ended event that still arrives sets its own values. Whether a
        running transaction was ended.
        """
        self._views.clear()
        record = self._transactions.get(transaction_id)
        if record is None or record.ended:
            return False
        record.ended_at = ended_at
        record.charging_state = _later(record.charging_state, ENDED_STAMP - 1, ChargingState.IDLE)
        return True

    def apply_meter_values(self, evse_id: int, meter_values: Sequence[MeterValue]) -> bool:
        """Apply a MeterValuesRequest (J01) of an EVSE (0: the station's grid meter); whether anything changed.

        Register readings taken while the EVSE's current transaction ran also count towards its session energy,
        placed after the transaction's latest event reading (they carry no seqNo; they come live).
        """
        self._views.clear()
        if not self._accepts(evse_id):
            return False
        taken = readings(meter_values)
        changed = self._feed_evse(evse_id, taken, -1)
        current = self._current.get(evse_id)
        if current is None:
            return changed
        record = self._transactions[current]
        start, end = record.started_at or _NEVER, record.ended_at
        order = record.energy.last_order or 0
        for reading in energy_register(taken, register_locations(evse_id)):
            if start <= reading.timestamp and (end is None or reading.timestamp <= end):
                changed |= record.energy.add(reading.value, reading.timestamp, order)
        return changed

    # Internals

    def _accepts(self, evse_id: int) -> bool:
        """Whether readings of the EVSE are kept: a known one, or a new one within MAX_EVSES."""
        if evse_id in self._meters or evse_id in self._by_evse:
            return True
        return len(self._meters.keys() | self._by_evse.keys()) < MAX_EVSES

    def _is_current(self, record: TransactionRecord) -> bool:
        return record.evse_id is not None and self._current.get(record.evse_id) == record.transaction_id

    def _feed_evse(self, evse_id: int, taken: Sequence[Reading], order: int, transaction_id: str | None = None) -> bool:
        """Readings of an EVSE: to its meter snapshot and lifetime (ordered by seqNo within a transaction)."""
        meter = self._meters.get(evse_id)
        if meter is None:
            meter = self._meters[evse_id] = MeterSnapshot()
        changed = meter.update(taken, order)
        register = energy_register(taken, register_locations(evse_id))
        event_order = (transaction_id, order) if transaction_id is not None else None
        for reading in sorted(register, key=lambda reading: reading.timestamp):
            changed |= self.lifetime.feed(evse_id, reading.value, reading.timestamp, event_order)
        return changed

    def _assign(self, record: TransactionRecord, evse_id: int, connector_id: int | None) -> None:
        """The EVSE of a transaction became known: file it there, replay its waiting readings."""
        record.evse_id = evse_id
        record.connector_id = connector_id
        self._unassigned.pop(record.transaction_id, None)
        self._by_evse.setdefault(evse_id, []).append(record.transaction_id)
        pending = sorted(record.pending, key=lambda item: (item[0], item[1].timestamp))
        record.pending = []
        for order, reading in pending:
            self._feed_evse(evse_id, [reading], order, record.transaction_id)

    def _elect(self, evse_id: int) -> None:
        """Make the latest-starting transaction current; forget the oldest beyond the history."""
        records = [self._transactions[transaction_id] for transaction_id in self._by_evse[evse_id]]
        records.sort(key=lambda record: record.rank)
        self._current[evse_id] = records[-1].transaction_id
        for record in records[:-HISTORY_PER_EVSE]:
            del self._transactions[record.transaction_id]
            self._by_evse[evse_id].remove(record.transaction_id)

    def _trim_unassigned(self) -> None:
        """Forget the earliest-starting transactions of unknown EVSE beyond the limit."""
        while len(self._unassigned) > MAX_UNASSIGNED:
            oldest = min(self._unassigned, key=lambda transaction_id: self._transactions[transaction_id].rank)
            del self._unassigned[oldest]
            del self._transactions[oldest]

    # Persistence

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form of what must survive a restart.

        Remembered transactions (their seqNos, session values, energy), the EVSEs' meter snapshots and the
        lifetime energy. Canonical: equal states give equal dicts.
        """
        return {
            "transactions": [record.to_dict() for _, record in sorted(self._transactions.items())],
            "meters": {str(evse_id): meter.to_dict() for evse_id, meter in sorted(self._meters.items())},
            "lifetime": self.lifetime.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, max_power_w: float = DEFAULT_MAX_POWER_W) -> Self:
        """The inverse of `to_dict()`."""
        tracker = cls(max_power_w=max_power_w)
        for item in data.get("transactions", ()):
            record = TransactionRecord.from_dict(item)
            tracker._transactions[record.transaction_id] = record
            if record.evse_id is not None:
                tracker._by_evse.setdefault(record.evse_id, []).append(record.transaction_id)
            else:
                tracker._unassigned[record.transaction_id] = None
        for evse_id in list(tracker._by_evse):
            tracker._elect(evse_id)
        tracker._meters = {int(evse_id): MeterSnapshot.from_dict(meter) for evse_id, meter in data["meters"].items()}
        tracker.lifetime = LifetimeEnergy.from_dict(data.get("lifetime", {}), max_power_w)
        return tracker
