"""The choice and waiting-list use cases as the web layer, the CLI and the jobs call them: each acts
(webapp/choice/choices.py, own_choices.py, waiting.py) and then fills the places it freed from the waiting
lists (webapp/choice/promotion.py), after its commit. Messages go to the residents' inboxes and the mail
outbox inside the transactions; the caller sends the outbox (webapp/web/choice/mail.py, `send_soon`).

The lower modules never import this one: choices.py takes the promotion step as a parameter (`promote`).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from webapp.audit import ActorType
from webapp.choice import choices, own_choices, waiting
from webapp.choice.choices import ChoicePromotion, Evaluation, Outcome
from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
from webapp.choice.own_choices import ElementChoices
from webapp.choice.promotion import promote_freed, promote_from_waiting_lists
from webapp.choice.waiting import JoinOutcome
from webapp.models import Choice, WaitingEntry

__all__ = [
    "ChoiceConflict", "ChoiceNotFound", "ElementChoices", "Evaluation", "JoinOutcome", "Outcome",
    "activate_due_choices", "cancel_choice", "choice_of", "join_waiting_list", "leave_waiting_list", "resident_choices",
    "submit_choice",
]


def submit_choice(sess: Session, resident_id: int, unit_id: int, request_token: str | None, today: date,
                  channel: str = "web", *, actor_type: ActorType = "resident", actor_id: int | None = None,
                  promotion: ChoicePromotion | None = None) -> Outcome:
    """Register or switch the resident to the unit (webapp.choice.choices.submit_choice), then fill the places
    a due switch taking effect released."""
    return choices.submit_choice(sess, resident_id, unit_id, request_token, today, channel, promote=promote_freed,
                                 actor_type=actor_type, actor_id=actor_id, promotion=promotion)


def cancel_choice(sess: Session, resident_id: int, reference: str, today: date, *, actor_type: ActorType = "resident",
                  actor_id: int | None = None) -> Choice:
    """Cancel a pending choice (webapp.choice.own_choices.cancel_choice); its place goes to the unit's queue."""
    return own_choices.cancel_choice(sess, resident_id, reference, today, promote=promote_freed, actor_type=actor_type,
                                 actor_id=actor_id)


def activate_due_choices(sess: Session, today: date, resident_id: int | None = None) -> int:
    """Activate the choices that are due (webapp.choice.choices.activate_due_choices); the places the switches
    released go to the units' queues."""
    return choices.activate_due_choices(sess, today, resident_id, promote=promote_freed)


def resident_choices(sess: Session, resident_id: int, today: date) -> list[ElementChoices]:
    """The resident's choices per pilot and element, after activating those that are due."""
    return own_choices.resident_choices(sess, resident_id, today, promote=promote_freed)


def choice_of(sess: Session, resident_id: int, reference: str) -> Choice:
    """The resident's own choice with this reference (ChoiceNotFound otherwise)."""
    return own_choices.choice_of(sess, resident_id, reference)


def join_waiting_list(sess: Session, resident_id: int, unit_id: int, request_token: str, today: date,
                      channel: str = "web", *, actor_type: ActorType = "resident",
                      actor_id: int | None = None) -> JoinOutcome:
    """Activate the resident's due choices, put them at the end of the unit's waiting list
    (webapp.choice.waiting.join_list), then fill the unit's free places: one may be free behind skipped
    residents."""
    activate_due_choices(sess, today, resident_id=resident_id)
    outcome = waiting.join_list(sess, resident_id, unit_id, request_token, today, channel, actor_type=actor_type,
                                actor_id=actor_id)
    if outcome.status == "created" and outcome.entry is not None:
        promote_from_waiting_lists(sess, [unit_id], today)
        sess.expire_all()
        outcome.entry = sess.get(WaitingEntry, outcome.entry.id)
    return outcome


def leave_waiting_list(sess: Session, resident_id: int, reference: str, today: date, *,
                       actor_type: ActorType = "resident", actor_id: int | None = None) -> WaitingEntry:
    """Take the resident off a list (webapp.choice.waiting.leave_list); the next in the queue may move up.
    ChoiceNotFound (not theirs) or ChoiceConflict('not_waiting')."""
    left = waiting.leave_list(sess, resident_id, reference, today, actor_type=actor_type, actor_id=actor_id)
    entry_id, unit_id = left.id, left.unit_id
    promote_from_waiting_lists(sess, [unit_id], today)
    sess.expire_all()
    entry = sess.get(WaitingEntry, entry_id)
    assert entry is not None
    return entry
