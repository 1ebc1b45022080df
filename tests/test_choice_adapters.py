"""Adapters from database rows to the pure rules' value objects."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from webapp.choice.adapters import existing_choice, rules_for, unit_facts
from webapp.choice.rules import ChoiceRules
from webapp.models import Choice, Pilot, Unit
from webapp.web import db


def test_rules_come_from_the_pilot_element(app):
    with app.app_context():
        sess = db.session()
        hml = sess.scalar(select(Pilot).where(Pilot.slug == "hameenlinna"))
        rules = rules_for(hml, "sote_centre")
        assert (rules.lock_in_months, rules.max_switches_per_12_months, rules.effective) == (6, 2, "after_notice_days")
        assert rules.pilot_municipalities == frozenset({"109"})
        assert rules.choice_opens_on == date(2026, 1, 1) and rules.choice_closes_on == date(2027, 12, 31)
        ph = sess.scalar(select(Pilot).where(Pilot.slug == "paijat-hame"))
        assert rules_for(ph, "sote_centre").allow_other_pilot_municipality is False


def test_element_the_pilot_lacks_gets_default_rules_that_refuse(app):
    with app.app_context():
        hml = db.session().scalar(select(Pilot).where(Pilot.slug == "hameenlinna"))
        rules = rules_for(hml, "oral_health")
        assert rules == ChoiceRules(pilot_slug="hameenlinna", element="oral_health",
                                    pilot_municipalities=frozenset({"109"}),
                                    choice_opens_on=hml.choice_opens_on, choice_closes_on=hml.choice_closes_on)


def test_unit_and_choice_facts(app):
    with app.app_context():
        sess = db.session()
        choice = sess.scalars(select(Choice).where(Choice.status == "pending")).first()
        ex = existing_choice(choice, "uusimaa")
        assert (ex.unit_id, ex.status, ex.effective_from, ex.binding_until) == (
            choice.unit_id, "pending", choice.effective_from, choice.binding_until)
        unit = sess.get(Unit, choice.unit_id)
        unit.is_hidden = True
        facts = unit_facts(unit)
        assert facts.is_visible is False and facts.pilot_slug == "uusimaa" and facts.listed_count == unit.listed_count
        sess.rollback()


def test_every_element_rule_is_a_pilot_element_column() -> None:
    """A new rule field in ChoiceRules needs its PilotElement column of the same name (and a migration)."""
    from webapp.choice.adapters import ELEMENT_RULE_FIELDS
    from webapp.models import PilotElement
    assert ELEMENT_RULE_FIELDS and all(name in PilotElement.__table__.c for name in ELEMENT_RULE_FIELDS)


def test_every_reason_code_has_its_sentence() -> None:
    """The one reason table (webapp/choice/reasons.py) has a row for each code the rules report."""
    from webapp.choice.reasons import REASONS
    from webapp.choice.rules import REASON_CODES
    assert set(REASONS) == set(REASON_CODES)
