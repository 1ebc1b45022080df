"""Waiting lists: join, leave, where I stand, expiry. Plain functions of a session and a date.

Every change to an entry takes its locks through webapp/choice/locking.py (the resident, the units,
then the entries) and reads the entry again after them, in one transaction that is run again on a
deadlock (webapp/core/transactions.py). `Unit.waiting_count` counts the unit's 'waiting' entries and
changes in the same transaction as the entries. The rules are pure functions in
webapp/choice/waiting_rules.py.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from webapp.choice import inbox
from webapp.choice.adapters import existing_choices, resident_facts, rules_for, unit_facts, waiting_rules_for
from webapp.choice.locking import Locks
from webapp.choice.service import ChoiceConflict, ChoiceNotFound, Evaluation, _audit, activate_due_choices, evaluate, is_reference, lock_resident, new_reference
from webapp.models import Resident, Unit, WaitingEntry
from webapp.choice.rules import decide
from webapp.core.transactions import in_transaction
from webapp.choice.waiting_rules import QUEUE_REASONS, JoinDecision, expires_on, join_decision


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


def entry_params(entry: WaitingEntry, unit: Unit) -> dict:
    """What a message about an entry needs, in both languages."""
    return {"entry": entry.reference, "unit_id": unit.id, "unit_fi": unit.name_fi, "unit_sv": unit.name_sv or unit.name_fi,
            "element": entry.element, "joined_on": entry.joined_on.isoformat(), "expires_on": entry.expires_on.isoformat()}


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


def _end_entry(sess: Session, entry: WaitingEntry, status: str, reason: str, today: date) -> bool:
    """Take an entry off its list (guarded: only a 'waiting' entry) and lower the unit's count; the caller
    holds the locks of the resident, the unit and the entry."""
    ended = sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry.id, WaitingEntry.status == "waiting")
                         .values(status=status, end_reason=reason, ended_on=today)
                         .execution_options(synchronize_session=False))
    if ended.rowcount != 1:
        return False
    sess.execute(update(Unit).where(Unit.id == entry.unit_id, Unit.waiting_count > 0)
                 .values(waiting_count=Unit.waiting_count - 1).execution_options(synchronize_session=False))
    return True


def join_waiting_list(sess: Session, resident_id: int, unit_id: int, request_token: str, today: date,
                      channel: str = "web", *, actor_type: str = "resident", actor_id: int | None = None) -> JoinOutcome:
    """Put the resident at the end of the unit's waiting list, replacing their list for the same
    pilot and element. The same `request_token` twice gives the first entry back ('duplicate')."""
    activate_due_choices(sess, today, resident_id=resident_id)
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
    if outcome.status == "created":
        from webapp.choice.promotion import promote_from_waiting_lists
        promote_from_waiting_lists(sess, [unit_id], today)  # a place may be free behind skipped residents
        sess.expire_all()
        outcome.entry = sess.get(WaitingEntry, outcome.entry.id)
    return outcome


ONE_ENTRY_INDEX = "uq_waiting_entry_one_per_element"


def _join(sess: Session, locks: Locks, resident_id: int, unit_id: int, token: str, today: date, channel: str,
          actor_type: str, actor_id: int | None) -> JoinOutcome:
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
    rules = rules_for(unit.pilot, unit.element)
    decision = decide(resident_facts(resident), unit_facts(unit),
                      [ex for _c, ex in existing_choices(sess, resident_id)], rules, today)
    wrules = waiting_rules_for(unit.pilot, unit.element)
    join = join_decision(decision, wrules, rules, today,
                         already_waiting_here=current is not None and current.unit_id == unit_id,
                         unit_lets_queue_form=unit.waiting_when_closed)
    if not join.allowed:
        _audit(sess, "waiting_refused", resident_id, entity_id=None, pilot_id=unit.pilot_id,
               provider_id=unit.provider_id, reasons=[join.refusal, *decision.codes],
               after={"unit_id": unit_id, "channel": channel}, actor_type=actor_type, actor_id=actor_id)
        return JoinOutcome("refused", refusal=join.refusal)
    replaced = None
    if current is not None and _end_entry(sess, current, "replaced", "replaced", today):
        replaced = current
        _audit_entry(sess, "waiting_left", current, reasons=["replaced"], actor_type=actor_type, actor_id=actor_id)
        inbox.notify(sess, resident_id, "left", {**entry_params(current, current.unit), "why": "replaced",
                                                 "on": today.isoformat()})
    entry = WaitingEntry(resident_id=resident_id, unit_id=unit_id, pilot_id=unit.pilot_id, element=unit.element,
                         status="waiting", channel=channel, reference=new_reference(), request_token=token,
                         joined_on=today, expires_on=expires_on(wrules, today))
    sess.add(entry)
    sess.execute(update(Unit).where(Unit.id == unit_id).values(waiting_count=Unit.waiting_count + 1)
                 .execution_options(synchronize_session=False))
    sess.flush()
    _audit_entry(sess, "waiting_joined", entry, actor_type=actor_type, actor_id=actor_id,
                 extra={"replaced": replaced.reference if replaced else None})
    return JoinOutcome("created", entry=entry, replaced=replaced)


def _audit_entry(sess: Session, action: str, entry: WaitingEntry, *, reasons: list[str] | None = None,
                 actor_type: str = "resident", actor_id: int | None = None, extra: dict | None = None) -> None:
    unit = entry.unit if entry.unit is not None else sess.get(Unit, entry.unit_id)
    _audit(sess, action, entry.resident_id, entity_id=entry.id, pilot_id=entry.pilot_id,
           provider_id=unit.provider_id if unit else None, reasons=reasons, actor_type=actor_type, actor_id=actor_id,
           after={"waiting_entry": entry.reference, "unit_id": entry.unit_id, "channel": entry.channel,
                  "expires_on": entry.expires_on.isoformat(), **(extra or {})})


def entry_of(sess: Session, resident_id: int, reference: str) -> WaitingEntry:
    if not is_reference(reference):
        raise ChoiceNotFound("entry")
    entry = sess.scalar(select(WaitingEntry).where(WaitingEntry.reference == reference,
                                                   WaitingEntry.resident_id == resident_id))
    if entry is None:
        raise ChoiceNotFound("entry")
    return entry


def leave_waiting_list(sess: Session, resident_id: int, reference: str, today: date, *,
                       actor_type: str = "resident", actor_id: int | None = None) -> WaitingEntry:
    """Take the resident off a list. ChoiceNotFound (not theirs) or ChoiceConflict('not_waiting')."""
    entry_id = entry_of(sess, resident_id, reference).id

    def leave() -> WaitingEntry:
        entry = lock_entry(sess, Locks(sess), entry_id)
        if entry is None or entry.status != "waiting" or not _end_entry(sess, entry, "left", "resident", today):
            raise ChoiceConflict("not_waiting")
        _audit_entry(sess, "waiting_left", entry, reasons=["resident"], actor_type=actor_type, actor_id=actor_id)
        inbox.notify(sess, resident_id, "left", {**entry_params(entry, entry.unit), "why": "resident",
                                                 "on": today.isoformat()})
        return entry

    unit_id = in_transaction(sess, leave, use_case="leave_waiting_list").unit_id
    from webapp.choice.promotion import promote_from_waiting_lists
    promote_from_waiting_lists(sess, [unit_id], today)
    sess.expire_all()
    return sess.get(WaitingEntry, entry_id)


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
        if entry is None or not entry.expires_on < today or not _end_entry(sess, entry, "expired", "expired", today):
            return False
        _audit_entry(sess, "waiting_expired", entry, actor_type="system", actor_id=None)
        inbox.notify(sess, entry.resident_id, "expired", entry_params(entry, entry.unit))
        return True

    return sum(in_transaction(sess, lambda e=entry_id: expire(e), use_case="expire_waiting_entries")
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


def new_request_token() -> str:
    return secrets.token_urlsafe(24)
