"""Small adapters from database rows to the pure rules' value objects (webapp/choice/rules.py)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Choice, Pilot, Resident, Unit
from webapp.choice.rules import ChoiceRules, ExistingChoice, ResidentFacts, UnitFacts
from webapp.choice.waiting_rules import WaitingRules


def rules_for(pilot: Pilot, element: str) -> ChoiceRules:
    """The pilot's rules for `element`. An element the pilot does not have gets rules that the
    rules reject (element_not_choosable / unit_not_in_pilot), never a silent default."""
    return choice_rules(pilot, pilot.element(element), element, pilot.municipality_codes)


def choice_rules(pilot, pe, element: str, municipalities: frozenset[str]) -> ChoiceRules:  # noqa: ANN001
    """ChoiceRules from anything with the Pilot's and PilotElement's attribute names (rows or objects);
    `pe` None: the pilot does not have the element."""
    base = dict(pilot_slug=pilot.slug, element=element, pilot_municipalities=municipalities,
                choice_opens_on=pilot.choice_opens_on, choice_closes_on=pilot.choice_closes_on)
    if pe is None:
        return ChoiceRules(**base)
    return ChoiceRules(
        **base, min_age=pe.min_age, excluded_in_institutional_care=pe.excluded_in_institutional_care,
        allow_other_pilot_municipality=pe.allow_other_pilot_municipality, lock_in_months=pe.lock_in_months,
        max_switches_per_12_months=pe.max_switches_per_12_months, notice_days=pe.notice_days,
        effective=pe.effective)


def waiting_rules_for(pilot: Pilot, element: str) -> WaitingRules:
    """The pilot's waiting-list rules for `element`; an element the pilot lacks has no lists."""
    pe = pilot.element(element)
    if pe is None:
        return WaitingRules(enabled=False)
    return WaitingRules(enabled=pe.waiting_list_enabled, months=pe.waiting_months,
                        counts_as_switch=pe.waiting_counts_as_switch,
                        when_not_accepting=pe.waiting_when_not_accepting,
                        keep_when_skipped=pe.waiting_keep_when_skipped)


def resident_facts(resident: Resident) -> ResidentFacts:
    return ResidentFacts(birth_date=resident.birth_date, home_municipality=resident.home_municipality_code,
                         in_institutional_care=resident.in_institutional_care)


def unit_facts(unit: Unit) -> UnitFacts:
    return UnitFacts(id=unit.id, pilot_slug=unit.pilot.slug, element=unit.element,
                     municipality=unit.municipality_code, capacity=unit.capacity,
                     listed_count=unit.listed_count, accepting_new=unit.accepting_new,
                     is_visible=not unit.is_hidden, waiting_count=unit.waiting_count)


def existing_choice(choice: Choice, pilot_slug: str) -> ExistingChoice:
    return ExistingChoice(unit_id=choice.unit_id, pilot_slug=pilot_slug, element=choice.element,
                          status=choice.status, created_on=choice.created_on,
                          effective_from=choice.effective_from, ended_on=choice.ended_on,
                          binding_until=choice.binding_until, counts_as_switch=choice.counts_as_switch)


def existing_choices(sess: Session, resident_id: int) -> list[tuple[Choice, ExistingChoice]]:
    """All of a resident's choices with their rules view (pilot slug filled in), read anew from the database
    (populate_existing: a Choice already in the session may be from before a lock was taken)."""
    rows = sess.execute(select(Choice, Pilot.slug).join(Pilot, Choice.pilot_id == Pilot.id)
                        .where(Choice.resident_id == resident_id).order_by(Choice.created_on, Choice.id)
                        .execution_options(populate_existing=True)).all()
    return [(c, existing_choice(c, slug)) for c, slug in rows]
