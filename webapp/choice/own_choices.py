"""A resident's own choices: the list by element (due choices activated first), one choice by its
reference, and cancelling a pending one (its place is released and `promote` fills it after the commit).
Like webapp/choice/choices.py, plain functions of a session and a date."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.audit import ActorType, record_choice_event
from webapp.choice.choices import PromoteFreed, activate_due_choices
from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
from webapp.choice.locking import Locks, lock_resident
from webapp.choice.records import snapshot
from webapp.choice.references import is_reference
from webapp.core.transactions import in_transaction
from webapp.models import Choice, Pilot, Unit


def cancel_choice(sess: Session, resident_id: int, reference: str, today: date, *, promote: PromoteFreed,
                  actor_type: ActorType = "resident", actor_id: int | None = None) -> Choice:
    """Cancel a pending choice before it takes effect and release its place at the unit (`promote` fills it
    after the commit). Raises ChoiceNotFound (not this resident's) or ChoiceConflict('not_cancellable')."""
    activate_due_choices(sess, today, resident_id=resident_id, promote=promote)

    def cancel() -> Choice:
        locks = Locks(sess)
        lock_resident(locks, resident_id)
        choice = sess.scalar(select(Choice).where(Choice.reference == reference, Choice.resident_id == resident_id)
                             .execution_options(populate_existing=True))
        if choice is None:
            raise ChoiceNotFound("choice")
        if choice.status != "pending" or choice.effective_from <= today:
            raise ChoiceConflict("not_cancellable")
        locks.units([choice.unit_id])
        before = snapshot(choice)
        cancelled = sess.execute(update(Choice).where(Choice.id == choice.id, Choice.status == "pending")
                                 .values(status="cancelled", cancelled_at=datetime.now(UTC))
                                 .execution_options(synchronize_session=False))
        if cancelled.rowcount != 1:  # type: ignore[attr-defined]  # cannot happen under the resident's lock
            raise ChoiceConflict("not_cancellable")
        sess.execute(update(Unit).where(Unit.id == choice.unit_id, Unit.listed_count > 0)
                     .values(listed_count=Unit.listed_count - 1).execution_options(synchronize_session=False))
        unit = sess.get(Unit, choice.unit_id)
        record_choice_event(sess, "choice_cancelled", resident_id, entity_id=choice.id, pilot_id=choice.pilot_id,
                     provider_id=unit.provider_id if unit else None, before=before,
                     after={"status": "cancelled"}, actor_type=actor_type, actor_id=actor_id)
        return choice

    choice = in_transaction(sess, cancel, use_case="cancel_choice")
    sess.expire_all()
    promote(sess, {choice.unit_id}, today)
    cancelled = sess.get(Choice, choice.id)
    assert cancelled is not None
    return cancelled


@dataclass
class ElementChoices:
    pilot: Pilot
    element: str
    current: Choice | None
    pending: Choice | None
    history: list[Choice]


def resident_choices(sess: Session, resident_id: int, today: date, *, promote: PromoteFreed) -> list[ElementChoices]:
    """The resident's choices per pilot and element: in force, pending, and the rest (newest first).
    Activates their due choices first (`promote` fills the places that frees)."""
    activate_due_choices(sess, today, resident_id=resident_id, promote=promote)
    choices = sess.scalars(select(Choice).where(Choice.resident_id == resident_id)
                           .order_by(Choice.effective_from.desc(), Choice.id.desc())).all()
    groups: dict[tuple[int, str], list[Choice]] = {}
    for c in choices:
        groups.setdefault((c.pilot_id, c.element), []).append(c)
    result = []
    order = {"sote_centre": 0, "oral_health": 1}
    for (pilot_id, element), items in sorted(groups.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 9))):
        current = next((c for c in items if c.status in ("active", "pending") and c.effective_from <= today
                        and (c.ended_on is None or c.ended_on > today)), None)
        pending = next((c for c in reversed(items) if c.status == "pending" and c.effective_from > today), None)
        history = [c for c in items if c is not current and c is not pending]
        pilot = sess.get(Pilot, pilot_id)
        assert pilot is not None
        result.append(ElementChoices(pilot, element, current, pending, history))
    return result


def choice_of(sess: Session, resident_id: int, reference: str) -> Choice:
    """The resident's own choice by reference; ChoiceNotFound for anyone else's."""
    if not is_reference(reference):
        raise ChoiceNotFound("choice")
    choice = sess.scalar(select(Choice).where(Choice.reference == reference, Choice.resident_id == resident_id))
    if choice is None:
        raise ChoiceNotFound("choice")
    return choice
