"""Small adapters from database rows to the pure rules' value objects (webapp/choice/rules.py)."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.choice.rules import ChoiceRules, ExistingChoice, ResidentFacts, UnitFacts
from webapp.choice.waiting_rules import WaitingRules
from webapp.models import Choice, Pilot, Resident, Unit

# ChoiceRules' fields that come from the pilot and the element asked for; every other field is a column of
# PilotElement with the field's name (tests/test_choice_adapters.py holds it), read by rules_for and by the
# locked read of a submission (webapp/choice/choices.py). A new rule: a field here, a column there.
PILOT_RULE_FIELDS = ("pilot_slug", "element", "pilot_municipalities", "choice_opens_on", "choice_closes_on")
ELEMENT_RULE_FIELDS = tuple(f.name for f in fields(ChoiceRules) if f.name not in PILOT_RULE_FIELDS)


def rules_for(pilot: Pilot, element: str) -> ChoiceRules:
    """The pilot's rules for `element`. An element the pilot does not have gets rules that the
    rules reject (element_not_choosable / unit_not_in_pilot), never a silent default."""
    return choice_rules(pilot, pilot.element(element), element, pilot.municipality_codes)


def choice_rules(pilot: Any, pe: Any, element: str, municipalities: frozenset[str]) -> ChoiceRules:
    """ChoiceRules from anything with the Pilot's and PilotElement's attribute names (rows or objects);
    `pe` None: the pilot does not have the element."""
    base: dict[str, Any] = dict(pilot_slug=pilot.slug, element=element, pilot_municipalities=municipalities,
                                choice_opens_on=pilot.choice_opens_on, choice_closes_on=pilot.choice_closes_on)
    if pe is None:
        return ChoiceRules(**base)
    return ChoiceRules(**base, **{name: getattr(pe, name) for name in ELEMENT_RULE_FIELDS})


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
