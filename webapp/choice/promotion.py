"""A place frees → the next resident of the waiting list moves (issue 12, point 4).

`promote_from_waiting_lists(sess, unit_ids, today)` is the one entry point: called after every
path that frees a place (cancellation, a switch away taking effect, staff raising the capacity or
reopening the unit), by joins and leaves, and by the scheduled jobs. For each unit, while it has a
free place, the first entry in the queue is switched through `submit_choice` itself (locks, exact
capacity, audit, receipt) with the entry claimed in the same transaction; the request token is
the entry's own, so an entry can only ever become one choice, however many promoters run at once.
A resident who fails a rule on the day is skipped with the reason, told, and stays or leaves the
queue as the pilot's rules say (webapp/choice/waiting_rules.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.audit import record_waiting_entry_event
from webapp.choice import inbox
from webapp.choice.adapters import waiting_rules_for
from webapp.choice.choices import submit_choice
from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
from webapp.choice.locking import Locks
from webapp.choice.records import Params, end_entry, entry_params
from webapp.choice.rules import ChoiceRules, Decision, ExistingChoice, ResidentFacts, UnitFacts
from webapp.choice.waiting import expire_entries, lock_entry
from webapp.choice.waiting_rules import WaitingRules, promotion_decision, skip_action
from webapp.core.transactions import in_transaction
from webapp.models import Choice, Unit, WaitingEntry

log = logging.getLogger(__name__)


@dataclass
class PromotionReport:
    promoted: list[int] = field(default_factory=list)  # choice ids
    skipped: list[int] = field(default_factory=list)  # entry ids
    expired: int = 0
    changed_units: set[int] = field(default_factory=set)


class EntryPromotion:
    """The waiting-list part of submit_choice for one entry (webapp.choice.choices.ChoicePromotion): its
    decision and its claim."""

    def __init__(self, entry: WaitingEntry, rules: WaitingRules) -> None:
        self.entry_id, self.reference, self.rules = entry.id, entry.reference, rules
        self.counts_as_switch = rules.counts_as_switch

    def decide(self, resident: ResidentFacts, unit: UnitFacts, existing: list[ExistingChoice],
               choice_rules: ChoiceRules, today: date) -> Decision:
        return promotion_decision(resident, unit, existing, choice_rules, self.rules, today)

    def claim(self, sess: Session, locks: Locks, choice: Choice) -> None:
        """Mark the entry promoted in the choice's transaction (which holds the resident and the unit),
        or undo everything."""
        locks.entries([self.entry_id])
        entry = sess.get(WaitingEntry, self.entry_id, populate_existing=True)
        if entry is None or entry.unit_id != choice.unit_id or not end_entry(sess, entry, "promoted", "promoted",
                                                                                 choice.created_on):
            raise ChoiceConflict("entry_gone")
        sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry.id).values(choice_id=choice.id)
                     .execution_options(synchronize_session=False))
        record_waiting_entry_event(sess, "waiting_promoted", entry, actor_type="system", actor_id=None,
                     extra={"choice": choice.reference})
        inbox.notify(sess, entry.resident_id, "promoted", {
            **entry_params(entry, entry.unit), "choice": choice.reference,
            "effective_from": choice.effective_from.isoformat(),
            "binding_until": choice.binding_until.isoformat() if choice.binding_until else None})


def _reasons(decision: Decision) -> list[Params]:
    return [{"code": r.code, "on": r.on.isoformat() if r.on else None} for r in decision.reasons]


def skip_entry(sess: Session, entry_id: int, decision: Decision, rules: WaitingRules, today: date) -> None:
    """Record that the entry's resident was passed over; tell them when the reasons are new."""
    action = skip_action(decision, rules)
    codes = ",".join(decision.codes)[:200]

    def skip() -> None:
        entry = lock_entry(sess, Locks(sess), entry_id)
        if entry is None or entry.status != "waiting":
            return
        record_waiting_entry_event(sess, "waiting_skipped", entry, reasons=list(decision.codes), actor_type="system",
                     extra={"then": action})
        params = {**entry_params(entry, entry.unit), "reasons": _reasons(decision), "on": today.isoformat()}
        if action == "leave":
            if end_entry(sess, entry, "removed", "skipped", today):
                inbox.notify(sess, entry.resident_id, "removed", params)
        elif entry.last_skip != codes:
            inbox.notify(sess, entry.resident_id, "skipped", params)
        sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry.id).values(last_skip=codes)
                     .execution_options(synchronize_session=False))

    in_transaction(sess, skip, use_case="skip_waiting_entry")


def _free_places(unit: Unit | None) -> int:
    """Places the queue may fill now: none while the unit is hidden or not taking new customers
    (its queue waits, nobody is skipped; reopening the unit fills them)."""
    if unit is None or unit.is_hidden or not unit.accepting_new or unit.capacity is None:
        return 0
    return unit.capacity - unit.listed_count


def _promote_unit(sess: Session, unit_id: int, today: date, report: PromotionReport) -> None:
    tried: set[int] = set()
    while True:
        sess.expire_all()
        unit = sess.get(Unit, unit_id)
        if unit is None or _free_places(unit) <= 0 or unit.waiting_count <= 0:
            break
        stmt = select(WaitingEntry).where(WaitingEntry.unit_id == unit_id, WaitingEntry.status == "waiting")
        if tried:
            stmt = stmt.where(WaitingEntry.id.not_in(tried))
        entry = sess.scalar(stmt.order_by(WaitingEntry.id).limit(1))
        if entry is None:
            break
        tried.add(entry.id)
        rules = waiting_rules_for(unit.pilot, unit.element)
        if sess.in_transaction():
            sess.rollback()
        try:
            outcome = submit_choice(sess, entry.resident_id, unit_id, f"waiting-list-{entry.reference}", today,
                                    channel="queue", promote=promote_freed, actor_type="system", actor_id=None,
                                    promotion=EntryPromotion(entry, rules))
        except (ChoiceConflict, ChoiceNotFound):
            continue  # the entry left or was promoted meanwhile: the next one
        if outcome.status == "created":
            assert outcome.choice is not None  # submit_choice returns every 'created' Outcome with its choice
            report.promoted.append(outcome.choice.id)
            report.changed_units.add(unit_id)
        elif outcome.status == "refused":
            assert outcome.decision is not None  # submit_choice returns every 'refused' Outcome with its decision
            if "unit_full" in outcome.decision.codes:
                break  # the place went (to an earlier promotion or a change of capacity)
            skip_entry(sess, entry.id, outcome.decision, rules, today)
            report.skipped.append(entry.id)
            report.changed_units.add(unit_id)


def promote_from_waiting_lists(sess: Session, unit_ids: list[int] | None, today: date) -> PromotionReport:
    """Expire the lists' old entries, then fill every free place of these units (None: of every unit
    with a queue) from their waiting lists, first come first served. The search indexes follow through the
    change log (waiting_count and listed_count changes are logged)."""
    report = PromotionReport()
    report.expired = expire_entries(sess, today, unit_ids)
    if unit_ids is None:
        unit_ids = list(sess.scalars(select(Unit.id).where(Unit.waiting_count > 0).order_by(Unit.id)))
    for unit_id in sorted(set(unit_ids)):
        _promote_unit(sess, unit_id, today, report)
    if sess.in_transaction():
        sess.rollback()
    return report


def promote_freed(sess: Session, unit_ids: set[int], today: date) -> None:
    """After the commit of a change that freed places at these units (webapp.choice.choices.PromoteFreed):
    they go to the first eligible residents of their waiting lists. A failure is logged, never raised: the
    change that freed the place stands, and `flask run-waiting-lists` fills the place later."""
    if not unit_ids:
        return
    try:
        promote_from_waiting_lists(sess, sorted(unit_ids), today)
    except Exception:
        sess.rollback()
        log.exception("promotion from the waiting lists of units %s failed; run flask run-waiting-lists",
                      sorted(unit_ids))
