"""Choices: decide, register or switch, and activate choices that are due (a resident's list and cancelling:
webapp/choice/own_choices.py).

Plain functions of a SQLAlchemy session and a date, independent of Flask, so that the staff
workspace can register paper choices with ``submit_choice(..., channel="paper")``. The web layer
and the jobs call them through webapp/choice/use_cases.py, which hands in `promote`: what fills the
places a change freed from the waiting lists (webapp/choice/promotion.py), after the commit.

Capacity (never more than ``Unit.capacity`` listed customers):
- ``Unit.listed_count`` counts the unit's *active + pending* choices. The place at the new unit
  is reserved at once when the choice is submitted; the place at the old unit is released when
  the new choice takes effect (``activate_due_choices``), or the new place is released when a
  pending choice is cancelled.
- Every decision runs in one transaction (webapp/core/transactions.py, run again on a deadlock) that
  takes its row locks through webapp/choice/locking.py, in its one order, and reads what it decides
  on only after them. The counter is then raised with a guarded UPDATE (``listed_count <
  capacity``); the database itself refuses a counter out of range and a second pending or active
  choice per resident and element (migration 0015).
- Everything (choice row, counter, audit event) commits together or not at all.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.audit import ActorType, record_choice_event
from webapp.choice.adapters import (
    ELEMENT_RULE_FIELDS,
    choice_rules,
    existing_choice,
    existing_choices,
    resident_facts,
    rules_for,
    unit_facts,
)
from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
from webapp.choice.locking import Locks, lock_resident
from webapp.choice.records import snapshot
from webapp.choice.references import new_reference
from webapp.choice.rules import (
    ChoiceRules,
    Decision,
    ExistingChoice,
    Reason,
    ResidentFacts,
    UnitFacts,
    decide,
    pending_choice,
)
from webapp.core import db
from webapp.core.transactions import in_transaction
from webapp.models import Choice, Pilot, PilotElement, PilotMunicipality, Resident, Unit

R = TypeVar("R")
CHANNELS = ("web", "paper", "queue")  # queue: a switch from a waiting list (webapp/choice/promotion.py)

# What fills the places freed at these units from their waiting lists, after the commit; never raises.
PromoteFreed = Callable[[Session, set[int], date], None]
# A choice row as the resident's read gives it: a Choice's columns (and the pilot's slug), not an entity.
# Row is generic over its column types (a TypeVarTuple): Row[Any] would be a row of one column.
ChoiceRow = Row[*tuple[Any, ...]]
ResidentChoices = list[tuple[ChoiceRow, ExistingChoice]]


class ChoicePromotion(Protocol):
    """The waiting-list part of a submission (webapp/choice/promotion.py): it decides with the waiting-list
    rules and claims the entry inside the submission's transaction."""
    counts_as_switch: bool

    def decide(self, resident: ResidentFacts, unit: UnitFacts, existing: list[ExistingChoice],
               choice_rules: ChoiceRules, today: date) -> Decision: ...

    def claim(self, sess: Session, locks: Locks, choice: Choice) -> None: ...


@dataclass
class Evaluation:
    """What the decision page shows: the decision and the rows behind it."""
    resident: Resident
    unit: Unit
    decision: Decision
    current: Choice | None = None
    pending: Choice | None = None


@dataclass
class Outcome:
    status: str  # created | duplicate | refused
    choice: Choice | None = None
    decision: Decision | None = None
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.status in ("created", "duplicate")


def _visible_unit(sess: Session, unit_id: int) -> Unit:
    unit = sess.get(Unit, unit_id)
    if unit is None or unit.is_hidden:
        raise ChoiceNotFound("unit")
    return unit


def _row_of(rows: Sequence[tuple[R, ExistingChoice]], existing: ExistingChoice | None) -> R | None:
    """The row behind an ExistingChoice that the rules picked (None stays None)."""
    return next((row for row, ex in rows if ex == existing), None) if existing is not None else None


def evaluate(sess: Session, resident_id: int, unit_id: int, today: date) -> Evaluation:
    """The decision for `resident_id` choosing `unit_id` on `today` (reads only)."""
    resident = sess.get(Resident, resident_id)
    if resident is None:
        raise ChoiceNotFound("resident")
    unit = _visible_unit(sess, unit_id)
    rows = existing_choices(sess, resident_id)
    rules = rules_for(unit.pilot, unit.element)
    decision = decide(resident_facts(resident), unit_facts(unit), [ex for _c, ex in rows], rules, today)
    current = _row_of(rows, decision.current)
    pending = _row_of(rows, pending_choice([ex for _c, ex in rows], rules.pilot_slug, unit.element, today))
    return Evaluation(resident, unit, decision, current, pending)


# A mapped class's __table__ is typed as a FromClause; a declarative class maps a Table.
_CHOICE_TABLE = cast(Table, Choice.__table__)
_CHOICE_INSERT = _CHOICE_TABLE.insert().returning(_CHOICE_TABLE.c.id)


def record_refusal(sess: Session, evaluation: Evaluation, *, actor_type: ActorType = "resident",
                   actor_id: int | None = None) -> None:
    """Record that a refusal with its reasons was shown (own transaction)."""
    with db.write_transaction(sess):
        record_choice_event(sess, "choice_refused", evaluation.resident.id, entity_id=None,
                     pilot_id=evaluation.unit.pilot_id, provider_id=evaluation.unit.provider_id,
                     reasons=list(evaluation.decision.codes), after={"unit_id": evaluation.unit.id},
                     actor_type=actor_type, actor_id=actor_id)


# Built once: a statement made per call costs more Python than the rest of a submission's decision.
# (Only reads and locks are prebuilt; the counter UPDATE names its unit in its WHERE clause, where the
# change log reads it: webapp/search/changelog.py.) Plain columns, no ORM entities: a Choice entity would also
# join its Unit (lazy="joined"), some forty columns per choice that deciding never looks at.
_CHOICE_COLUMNS = (Choice.id, Choice.unit_id, Choice.element, Choice.status, Choice.channel, Choice.reference,
                   Choice.request_token, Choice.created_on, Choice.effective_from, Choice.binding_until,
                   Choice.ended_on, Choice.counts_as_switch)
_RESIDENT_WITH_CHOICES = (
    select(Resident.birth_date, Resident.home_municipality_code, Resident.in_institutional_care, Pilot.slug,
           *_CHOICE_COLUMNS)
    .outerjoin(Choice, Choice.resident_id == Resident.id).outerjoin(Pilot, Pilot.id == Choice.pilot_id)
    .where(Resident.id == bindparam("resident_id")).order_by(Choice.created_on, Choice.id))


def _locked_resident(sess: Session, locks: Locks, resident_id: int) -> tuple[ResidentFacts, ResidentChoices]:
    """Lock the resident's row, then read their facts with all their choices. The choices come as
    (row, ExistingChoice) like existing_choices gives them; a row has a Choice's columns. Two statements:
    one that joined the choices to the lock would return them as they were before it waited for the lock."""
    lock_resident(locks, resident_id)
    return read_resident(sess, resident_id)


@dataclass(frozen=True)
class LockedUnit:
    """What deciding a choice needs of a unit, read under its row lock: the unit's facts and its pilot's
    rules for the unit's element."""
    id: int
    pilot_id: int
    provider_id: int
    element: str
    facts: UnitFacts
    rules: ChoiceRules


# The pilot's municipalities as one string, beside the unit (STRING_AGG on PostgreSQL, GROUP_CONCAT on SQLite).
_AREA = (select(func.aggregate_strings(PilotMunicipality.municipality_code, " "))
         .where(PilotMunicipality.pilot_id == Unit.pilot_id).scalar_subquery().label("area"))

# The element's rules are the PilotElement columns named like ChoiceRules' fields (webapp/choice/adapters.py).
_LOCKED_UNIT = (
    select(Unit.id, Unit.pilot_id, Unit.provider_id, Unit.element, Unit.municipality_code, Unit.capacity,
           Unit.listed_count, Unit.accepting_new, Unit.is_hidden, Unit.waiting_count, Pilot.slug, Pilot.choice_opens_on,
           Pilot.choice_closes_on, PilotElement.id.label("pe_id"),
           *(getattr(PilotElement, name) for name in ELEMENT_RULE_FIELDS), _AREA)
    .join(Pilot, Pilot.id == Unit.pilot_id)
    .outerjoin(PilotElement, (PilotElement.pilot_id == Unit.pilot_id) & (PilotElement.element == Unit.element))
    .where(Unit.id == bindparam("unit_id")))


def _locked_unit(sess: Session, locks: Locks, unit_id: int) -> LockedUnit:
    """The unit, locked (by the caller, or here), read with its pilot's rules and municipalities (no ORM
    objects)."""
    locks.units([unit_id])
    row = sess.execute(_LOCKED_UNIT, {"unit_id": unit_id}).first()
    if row is None:
        raise ChoiceNotFound("unit")
    municipalities = frozenset((row.area or "").split())
    facts = UnitFacts(id=row.id, pilot_slug=row.slug, element=row.element, municipality=row.municipality_code,
                      capacity=row.capacity, listed_count=row.listed_count, accepting_new=row.accepting_new,
                      is_visible=not row.is_hidden, waiting_count=row.waiting_count)
    rules = choice_rules(row, row if row.pe_id is not None else None, row.element, municipalities)
    return LockedUnit(row.id, row.pilot_id, row.provider_id, row.element, facts, rules)


def submit_choice(sess: Session, resident_id: int, unit_id: int, request_token: str | None, today: date,
                  channel: str = "web", *, promote: PromoteFreed, actor_type: ActorType = "resident",
                  actor_id: int | None = None, promotion: ChoicePromotion | None = None) -> Outcome:
    """Register or switch `resident_id` to `unit_id`, deciding again under locks.

    - The same `request_token` twice (double submit, reload, back-and-submit) gives the first
      choice back with status 'duplicate'; a token can only ever create one choice.
    - A refusal creates nothing and is recorded in the audit log with its reason codes.
    - `channel='paper'` with `actor_type='staff'` and `actor_id` = staff user id records a
      paper choice entered by staff (the resident is still the subject of the audit event).
    - `promotion` (webapp/choice/promotion.py) switches the first resident of a waiting list: it
      decides with the waiting-list rules and claims the entry inside this same transaction.
    - `promote` fills, after the transaction, the places that a due switch taking effect here released.
    Raises ChoiceNotFound for an unknown resident or unit, ChoiceConflict('token_mismatch') when
    the token belongs to another resident's choice.

    Eight statements when nothing is due (tests/test_query_counts.py): lock the resident, read them with
    all their choices, lock the unit, read it with its rules and its pilot's municipalities, reserve the
    place, insert the choice and the audit event, and the change-log row (webapp/search/changelog.py).
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {CHANNELS}")
    freed: set[int] = set()  # units whose place a switch taking effect here released

    def decide_and_write() -> Outcome:
        freed.clear()  # a transaction run again starts from nothing
        return submit_locked(sess, Locks(sess), resident_id, unit_id, request_token, today, channel, actor_type,
                             actor_id, promotion, freed)

    try:
        outcome = in_transaction(sess, decide_and_write, use_case="submit_choice")
    except IntegrityError as exc:
        sess.rollback()
        freed.clear()
        if one_choice_violated(exc):
            # Cannot happen under the resident's lock; the database's own rule answers if it ever does.
            reasons = (Reason("pending_choice_exists", _pending_from(sess, resident_id, unit_id)),)
            return Outcome("refused", decision=Decision(False, "switch", reasons, None, None, None, None),
                           reasons=reasons)
        # The token is taken (unique request_token): by this resident's request that won a race, whose
        # choice stands, or by another resident's choice, which is refused.
        earlier = sess.scalar(select(Choice).where(Choice.request_token == request_token)) if request_token else None
        if earlier is None:
            raise
        if earlier.resident_id != resident_id:
            raise ChoiceConflict("token_mismatch") from None
        return Outcome("duplicate", choice=earlier)
    finally:
        if freed:
            promote(sess, set(freed), today)
    if outcome.status == "created" and outcome.choice is not None and outcome.choice.effective_from <= today:
        # an 'after_notice_days' rule with 0 days
        activate_due_choices(sess, today, resident_id=resident_id, promote=promote)
    return outcome


def one_choice_violated(exc: IntegrityError) -> bool:
    """Whether the database refused a second pending or active choice of one resident and element."""
    text = str(exc.orig)
    return any(name in text for name in ONE_CHOICE_INDEXES) or \
        "choice.resident_id, choice.pilot_id, choice.element" in text  # SQLite names the columns


ONE_CHOICE_INDEXES = ("uq_choice_one_pending", "uq_choice_one_active")


def _pending_from(sess: Session, resident_id: int, unit_id: int) -> date | None:
    """When the resident's pending choice of the unit's pilot and element takes effect."""
    unit = sess.get(Unit, unit_id)
    if unit is None:
        return None
    return sess.scalar(select(Choice.effective_from).where(
        Choice.resident_id == resident_id, Choice.pilot_id == unit.pilot_id, Choice.element == unit.element,
        Choice.status == "pending").order_by(Choice.effective_from).limit(1))


def submit_locked(sess: Session, locks: Locks, resident_id: int, unit_id: int, request_token: str | None,
                  today: date, channel: str, actor_type: ActorType, actor_id: int | None,
                  promotion: ChoicePromotion | None, freed: set[int]) -> Outcome:
    """One attempt of submit_choice, inside its transaction: lock, read, decide, write. The units whose
    place a due switch released are added to `freed`."""
    resident, rows = _locked_resident(sess, locks, resident_id)
    if request_token:
        earlier = next((c for c, _ex in rows if c.request_token == request_token), None)
        if earlier is not None:
            return Outcome("duplicate", choice=sess.get(Choice, earlier.id))
    due = [c for c, _ex in rows if c.status == "pending" and c.effective_from <= today]
    # The units whose counters change here, locked together in id order: this one, and those a due
    # switch releases.
    locks.units({unit_id} | _units_released_by(rows, due))
    if _activate(sess, [c.id for c in due], freed):
        _resident, rows = read_resident(sess, resident_id)  # a switch took effect meanwhile: decide on the new state
    unit = _locked_unit(sess, locks, unit_id)
    facts = (resident, unit.facts, [ex for _c, ex in rows], unit.rules, today)
    decision = promotion.decide(*facts) if promotion is not None else decide(*facts)
    if decision.allowed:
        reserved = sess.execute(
            update(Unit).where(Unit.id == unit_id,
                               (Unit.capacity.is_(None)) | (Unit.listed_count < Unit.capacity))
            .values(listed_count=Unit.listed_count + 1).execution_options(synchronize_session=False))
        if reserved.rowcount != 1:  # type: ignore[attr-defined]  # cannot happen under the lock; a guard
            decision = Decision(False, decision.kind, (Reason("unit_full"),), None, None, None,
                                decision.current)
    if not decision.allowed:
        record_choice_event(sess, "choice_refused", resident_id, entity_id=None, pilot_id=unit.pilot_id,
                     provider_id=unit.provider_id, reasons=list(decision.codes),
                     after={"unit_id": unit_id, "channel": channel}, actor_type=actor_type, actor_id=actor_id)
        return Outcome("refused", decision=decision, reasons=decision.reasons)
    previous = _row_of(rows, decision.current)
    effective = decision.effective_from
    assert effective is not None
    values: dict[str, Any] = dict(
        resident_id=resident_id, unit_id=unit_id, pilot_id=unit.pilot_id, element=unit.element,
        status="pending", channel=channel, reference=new_reference(),
        request_token=request_token or secrets.token_urlsafe(24), created_on=today, effective_from=effective,
        binding_until=decision.binding_until, previous_choice_id=previous.id if previous is not None else None,
        ended_on=None, cancelled_at=None,
        counts_as_switch=promotion.counts_as_switch if promotion is not None else True)
    # A Core INSERT ... RETURNING id: the ORM's flush costs more than the whole decision. The Choice
    # handed back is not attached to the session (its columns are as inserted).
    choice = Choice(id=sess.connection().execute(_CHOICE_INSERT, values).scalar_one(), **values)
    record_choice_event(sess, "choice_created", resident_id, entity_id=choice.id, pilot_id=unit.pilot_id,
                 provider_id=unit.provider_id, after=snapshot(choice), actor_type=actor_type, actor_id=actor_id,
                 before=snapshot(previous) if previous is not None else None)  # type: ignore[arg-type]
    if promotion is not None:
        promotion.claim(sess, locks, choice)
    return Outcome("created", choice=choice, decision=decision)


def read_resident(sess: Session, resident_id: int) -> tuple[ResidentFacts, ResidentChoices]:
    found = sess.execute(_RESIDENT_WITH_CHOICES, {"resident_id": resident_id}).all()
    first = found[0]
    return (ResidentFacts(birth_date=first.birth_date, home_municipality=first.home_municipality_code,
                          in_institutional_care=first.in_institutional_care),
            # existing_choice reads only a Choice's columns, which the row has under the same names
            [(r, existing_choice(r, r.slug)) for r in found if r.id is not None])  # type: ignore[arg-type]


def _units_released_by(rows: ResidentChoices, due: list[ChoiceRow]) -> set[int]:
    """Units of the active choices that the due pending choices `due` replace when they take effect."""
    elements = {(c.slug, c.element) for c in due}
    return {c.unit_id for c, _ex in rows if c.status == "active" and (c.slug, c.element) in elements}


def activate_due_choices(sess: Session, today: date, resident_id: int | None = None, *,
                         promote: PromoteFreed) -> int:
    """Make pending choices whose effective date has come active, end the choice each replaces
    and release the old unit's place (`promote` fills it after the commits). Lazily called on read and by
    the scheduled job; one transaction per resident, under the resident's lock, so it never races the
    resident's own choices. Returns how many it activated."""
    due = select(Choice.resident_id).where(Choice.status == "pending", Choice.effective_from <= today)
    if resident_id is not None:
        due = due.where(Choice.resident_id == resident_id)
    residents = sorted(set(sess.scalars(due)))
    if sess.in_transaction():
        sess.rollback()  # end the read so the next transaction starts fresh
    activated = 0
    freed: set[int] = set()
    for rid in residents:
        mine: set[int] = set()

        def activate_one(rid: int = rid, mine: set[int] = mine) -> int:
            mine.clear()
            locks = Locks(sess)
            if not locks.resident(rid):
                return 0
            _facts, rows = read_resident(sess, rid)
            pending = [c for c, _ex in rows if c.status == "pending" and c.effective_from <= today]
            locks.units(_units_released_by(rows, pending))
            return _activate(sess, [c.id for c in pending], mine)

        activated += in_transaction(sess, activate_one, use_case="activate_due_choices")
        freed |= mine
    if activated:
        sess.expire_all()
    if freed:
        promote(sess, freed, today)
    return activated


def _activate(sess: Session, choice_ids: list[int], freed: set[int] | None = None) -> int:
    """Inside the caller's transaction, with the resident and the units concerned locked: activate these
    pending choices (oldest effective date first), end the choices they replace and release the old units'
    places (their ids are added to `freed`). The old choice ends before the new one becomes active: the
    database allows one active choice per resident and element. Returns how many it activated."""
    if not choice_ids:
        return 0
    activated = 0
    for choice in sess.scalars(select(Choice).where(Choice.id.in_(choice_ids)).order_by(Choice.effective_from)
                               .execution_options(populate_existing=True)).all():
        if choice.status != "pending":
            continue
        olds = sess.scalars(select(Choice).where(
            Choice.resident_id == choice.resident_id, Choice.pilot_id == choice.pilot_id,
            Choice.element == choice.element, Choice.status == "active", Choice.id != choice.id,
            Choice.effective_from <= choice.effective_from)).all()
        for old in olds:
            ended = sess.execute(update(Choice).where(Choice.id == old.id, Choice.status == "active")
                                 .values(status="ended", ended_on=choice.effective_from)
                                 .execution_options(synchronize_session=False))
            if ended.rowcount == 1:  # type: ignore[attr-defined]
                sess.execute(update(Unit).where(Unit.id == old.unit_id, Unit.listed_count > 0)
                             .values(listed_count=Unit.listed_count - 1)
                             .execution_options(synchronize_session=False))
                if freed is not None:
                    freed.add(old.unit_id)
        won = sess.execute(update(Choice).where(Choice.id == choice.id, Choice.status == "pending")
                           .values(status="active").execution_options(synchronize_session=False))
        activated += won.rowcount  # type: ignore[attr-defined]
    if activated:
        sess.expire_all()  # the updates above bypassed the identity map
    return activated


def counted_places(sess: Session, unit_id: int) -> int:
    """Active + pending choices of a unit: what listed_count must equal for choice-made places."""
    return sess.scalar(select(func.count()).select_from(Choice)
                       .where(Choice.unit_id == unit_id, Choice.status.in_(("active", "pending")))) or 0
