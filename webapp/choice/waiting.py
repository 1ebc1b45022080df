"""Waiting lists: join, leave, where I stand, expiry. Plain functions of a session and a date.

Every change to an entry takes its locks through webapp/choice/locking.py (the resident, the units,
then the entries) and reads the entry again after them, in one transaction that is run again on a
deadlock (webapp/core/transactions.py). `Unit.waiting_count` counts the unit's 'waiting' entries and
changes in the same transaction as the entries. The rules are pure functions in
webapp/choice/waiting_rules.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from webapp.audit import ActorType, record_choice_event, record_waiting_entry_event
from webapp.choice import inbox
from webapp.choice.adapters import existing_choices, resident_facts, rules_for, unit_facts, waiting_rules_for
from webapp.choice.choices import Evaluation, evaluate
from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
from webapp.choice.locking import Locks, lock_resident
from webapp.choice.records import end_entry, entry_params
from webapp.choice.references import is_reference, new_reference
from webapp.choice.rules import decide
from webapp.choice.waiting_rules import QUEUE_REASONS, JoinDecision, expires_on, join_decision
from webapp.core.transactions import in_transaction
from webapp.models import Resident, Unit, WaitingEntry


@dataclass
class JoinEvaluation:
    evaluation: Evaluation
    join: JoinDecision
    current_entry: WaitingEntry | None  # the resident's list for this pilot and element, if any

    @property
    def replaces(self) -> WaitingEntry | None:
        e = self.current_entry
        return e if e is not None and e.unit_id != self.evaluation.unit.id else None


@dataclass
class JoinOutcome:
    status: str  # created | duplicate | refused
    entry: WaitingEntry | None = None
    replaced: WaitingEntry | None = None
    refusal: str | None = None


@dataclass
class Standing:
    entry: WaitingEntry
    place: int  # 1 = first in the queue

    @property
    def ahead(self) -> int:
        return self.place - 1


def _current_entry(sess: Session, resident_id: int, pilot_id: int, element: str) -> WaitingEntry | None:
    return sess.scalar(select(WaitingEntry).where(
        WaitingEntry.resident_id == resident_id, WaitingEntry.pilot_id == pilot_id,
        WaitingEntry.element == element, WaitingEntry.status == "waiting").execution_options(populate_existing=True))


def evaluate_join(sess: Session, resident_id: int, unit_id: int, today: date) -> JoinEvaluation:
    """The choice decision and whether the unit's waiting list is open to the resident (reads only)."""
    return join_offer(sess, evaluate(sess, resident_id, unit_id, today), today)


def join_offer(sess: Session, ev: Evaluation, today: date) -> JoinEvaluation:
    """Whether the unit's waiting list is open to the resident of an evaluated choice (reads only)."""
    unit, resident_id = ev.unit, ev.resident.id
    if ev.decision.allowed or not set(ev.decision.codes) & (QUEUE_REASONS | {"unit_not_accepting"}):
        # No waiting list to offer: answer without reading the resident's lists.
        return JoinEvaluation(ev, JoinDecision(False, "not_full", None, None, None), None)
    current = _current_entry(sess, resident_id, unit.pilot_id, unit.element)
    join = join_decision(ev.decision, waiting_rules_for(unit.pilot, unit.element), rules_for(unit.pilot, unit.element),
                         today, already_waiting_here=current is not None and current.unit_id == unit.id,
                         unit_lets_queue_form=unit.waiting_when_closed)
    return JoinEvaluation(ev, join, current)


def join_list(sess: Session, resident_id: int, unit_id: int, request_token: str, today: date,
              channel: str = "web", *, actor_type: ActorType = "resident", actor_id: int | None = None) -> JoinOutcome:
    """Put the resident at the end of the unit's waiting list, replacing their list for the same
    pilot and element, in one transaction. The same `request_token` twice gives the first entry back
    ('duplicate'). The resident's due choices are activated before and the unit's free places filled after
    by webapp/choice/use_cases.py (join_waiting_list)."""
    try:
        outcome = in_transaction(
            sess, lambda: _join(sess, Locks(sess), resident_id, unit_id, request_token, today, channel, actor_type,
                                actor_id), use_case="join_waiting_list")
    except IntegrityError as exc:  # the same token won a race: the first entry stands
        sess.rollback()
        earlier = sess.scalar(select(WaitingEntry).where(WaitingEntry.request_token == request_token))
        if earlier is None and (ONE_ENTRY_INDEX in str(exc.orig) or "waiting_entry.resident_id" in str(exc.orig)):
            # Cannot happen under the resident's lock; the database's own rule answers if it ever does.
            return JoinOutcome("refused", refusal="already_waiting")
        if earlier is None or earlier.resident_id != resident_id:
            raise
        return JoinOutcome("duplicate", entry=earlier)
    return outcome


ONE_ENTRY_INDEX = "uq_waiting_entry_one_per_element"


def _join(sess: Session, locks: Locks, resident_id: int, unit_id: int, token: str, today: date, channel: str,
          actor_type: ActorType, actor_id: int | None) -> JoinOutcome:
    lock_resident(locks, resident_id)
    earlier = sess.scalar(select(WaitingEntry).where(WaitingEntry.request_token == token))
    if earlier is not None:
        if earlier.resident_id != resident_id:
            raise ChoiceConflict("token_mismatch")
        return JoinOutcome("duplicate", entry=earlier)
    unit = sess.get(Unit, unit_id)
    if unit is None or unit.is_hidden:
        raise ChoiceNotFound("unit")
    current = _current_entry(sess, resident_id, unit.pilot_id, unit.element)
    if unit_id not in locks.units([unit_id] + ([current.unit_id] if current is not None else [])):
        raise ChoiceNotFound("unit")
    if current is not None:
        locks.entries([current.id])
    unit = sess.get(Unit, unit_id, populate_existing=True)
    resident = sess.get(Resident, resident_id, populate_existing=True)
    # Both rows were found and locked above (lock_resident raises and locks.units leaves unit_id out when
    # a row is missing), and the locks are held until the transaction ends, so the fresh reads find them.
    assert unit is not None and resident is not None
    rules = rules_for(unit.pilot, unit.element)
    decision = decide(resident_facts(resident), unit_facts(unit),
                      [ex for _c, ex in existing_choices(sess, resident_id)], rules, today)
    wrules = waiting_rules_for(unit.pilot, unit.element)
    join = join_decision(decision, wrules, rules, today,
                         already_waiting_here=current is not None and current.unit_id == unit_id,
                         unit_lets_queue_form=unit.waiting_when_closed)
    if not join.allowed:
        assert join.refusal is not None  # join_decision gives a refusal whenever it does not allow the join
        record_choice_event(sess, "waiting_refused", resident_id, entity_id=None, pilot_id=unit.pilot_id,
               provider_id=unit.provider_id, reasons=[join.refusal, *decision.codes],
               after={"unit_id": unit_id, "channel": channel}, actor_type=actor_type, actor_id=actor_id)
        return JoinOutcome("refused", refusal=join.refusal)
    replaced = None
    if current is not None and end_entry(sess, current, "replaced", "replaced", today):
        replaced = current
        record_waiting_entry_event(sess, "waiting_left", current, reasons=["replaced"], actor_type=actor_type,
                           actor_id=actor_id)
        inbox.notify(sess, resident_id, "left", {**entry_params(current, current.unit), "why": "replaced",
                                                 "on": today.isoformat()})
    entry = WaitingEntry(resident_id=resident_id, unit_id=unit_id, pilot_id=unit.pilot_id, element=unit.element,
                         status="waiting", channel=channel, reference=new_reference(), request_token=token,
                         joined_on=today, expires_on=expires_on(wrules, today))
    sess.add(entry)
    sess.execute(update(Unit).where(Unit.id == unit_id).values(waiting_count=Unit.waiting_count + 1)
                 .execution_options(synchronize_session=False))
    sess.flush()
    record_waiting_entry_event(sess, "waiting_joined", entry, actor_type=actor_type, actor_id=actor_id,
                 extra={"replaced": replaced.reference if replaced else None})
    return JoinOutcome("created", entry=entry, replaced=replaced)


def entry_of(sess: Session, resident_id: int, reference: str) -> WaitingEntry:
    if not is_reference(reference):
        raise ChoiceNotFound("entry")
    entry = sess.scalar(select(WaitingEntry).where(WaitingEntry.reference == reference,
                                                   WaitingEntry.resident_id == resident_id))
    if entry is None:
        raise ChoiceNotFound("entry")
    return entry


def leave_list(sess: Session, resident_id: int, reference: str, today: date, *,
               actor_type: ActorType = "resident", actor_id: int | None = None) -> WaitingEntry:
    """Take the resident off a list, in one transaction; the entry as it was left (its place is filled by
    webapp/choice/use_cases.py, leave_waiting_list). ChoiceNotFound (not theirs) or
    ChoiceConflict('not_waiting')."""
    entry_id = entry_of(sess, resident_id, reference).id

    def leave() -> WaitingEntry:
        entry = lock_entry(sess, Locks(sess), entry_id)
        if entry is None or entry.status != "waiting" or not end_entry(sess, entry, "left", "resident", today):
            raise ChoiceConflict("not_waiting")
        record_waiting_entry_event(sess, "waiting_left", entry, reasons=["resident"], actor_type=actor_type,
                                   actor_id=actor_id)
        inbox.notify(sess, resident_id, "left", {**entry_params(entry, entry.unit), "why": "resident",
                                                 "on": today.isoformat()})
        return entry

    return in_transaction(sess, leave, use_case="leave_waiting_list")


def lock_entry(sess: Session, locks: Locks, entry_id: int) -> WaitingEntry | None:
    """Lock an entry the way every change to it does, its resident, its unit and itself, and read it again
    after the locks (None: gone). An entry's resident and unit never change, so reading them first is safe."""
    owner = sess.execute(select(WaitingEntry.resident_id, WaitingEntry.unit_id)
                         .where(WaitingEntry.id == entry_id)).first()
    if owner is None:
        return None
    lock_resident(locks, owner.resident_id)
    locks.units([owner.unit_id])
    locks.entries([entry_id])
    return sess.get(WaitingEntry, entry_id, populate_existing=True)


def expire_entries(sess: Session, today: date, unit_ids: list[int] | None = None) -> int:
    """End every entry whose last day has passed, with an audit event and a message each (a transaction
    per entry, locked like every other change to it)."""
    stmt = select(WaitingEntry.id).where(WaitingEntry.status == "waiting", WaitingEntry.expires_on < today)
    if unit_ids is not None:
        stmt = stmt.where(WaitingEntry.unit_id.in_(unit_ids))
    due = list(sess.scalars(stmt.order_by(WaitingEntry.id)))
    if sess.in_transaction():
        sess.rollback()

    def expire(entry_id: int) -> bool:
        entry = lock_entry(sess, Locks(sess), entry_id)
        if entry is None or not entry.expires_on < today or not end_entry(sess, entry, "expired", "expired", today):
            return False
        record_waiting_entry_event(sess, "waiting_expired", entry, actor_type="system", actor_id=None)
        inbox.notify(sess, entry.resident_id, "expired", entry_params(entry, entry.unit))
        return True

    return sum(in_transaction(sess, partial(expire, entry_id), use_case="expire_waiting_entries")
               for entry_id in due)


def place_of(sess: Session, entry: WaitingEntry) -> int:
    """1 for the first in the queue; entries still waiting ahead of this one, plus one."""
    ahead = sess.scalar(select(func.count()).select_from(WaitingEntry).where(
        WaitingEntry.unit_id == entry.unit_id, WaitingEntry.status == "waiting", WaitingEntry.id < entry.id)) or 0
    return ahead + 1


def resident_standings(sess: Session, resident_id: int) -> list[Standing]:
    """The resident's entries that are still waiting, each with its place in the queue (one statement)."""
    ahead = aliased(WaitingEntry)
    place = (select(func.count()).select_from(ahead)
             .where(ahead.unit_id == WaitingEntry.unit_id, ahead.status == "waiting", ahead.id < WaitingEntry.id)
             .correlate(WaitingEntry).scalar_subquery() + 1)
    rows = sess.execute(select(WaitingEntry, place).where(WaitingEntry.resident_id == resident_id,
                                                          WaitingEntry.status == "waiting").order_by(WaitingEntry.id))
    return [Standing(entry, int(n)) for entry, n in rows]


def standing_at(sess: Session, resident_id: int, unit_id: int) -> Standing | None:
    entry = sess.scalar(select(WaitingEntry).where(WaitingEntry.resident_id == resident_id,
                                                   WaitingEntry.unit_id == unit_id, WaitingEntry.status == "waiting"))
    return Standing(entry, place_of(sess, entry)) if entry is not None else None

