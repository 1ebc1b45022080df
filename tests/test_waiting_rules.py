"""The waiting-list rules (webapp/choice/waiting_rules.py) at their boundaries: pure, no database, no Flask."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from webapp.choice.rules import ChoiceRules, ExistingChoice, ResidentFacts, UnitFacts, decide
from webapp.choice.waiting_rules import (
    WaitingRules,
    expires_on,
    is_expired,
    join_decision,
    promotion_decision,
    skip_action,
)

PILOT = "uusimaa"
HYVINKAA, OULU = "106", "564"
RULES = ChoiceRules(pilot_slug=PILOT, element="sote_centre", pilot_municipalities=frozenset({HYVINKAA, "186"}))
WAIT = WaitingRules()
ADULT = ResidentFacts(date(1980, 5, 5), HYVINKAA, in_institutional_care=False)
TODAY = date(2026, 3, 10)


def unit(id: int = 1, **kw) -> UnitFacts:
    values = dict(pilot_slug=PILOT, element="sote_centre", municipality=HYVINKAA, capacity=100, listed_count=100,
                  accepting_new=True)
    values.update(kw)
    return UnitFacts(id=id, **values)


def active(unit_id: int, created_on: date, effective_from: date, binding: date | None = None, **kw) -> ExistingChoice:
    values = {"status": "active", **kw}
    return ExistingChoice(unit_id=unit_id, pilot_slug=PILOT, element="sote_centre", created_on=created_on,
                          effective_from=effective_from, binding_until=binding, **values)


def join(resident=ADULT, u=None, existing=(), rules=WAIT, today=TODAY, **kw):
    d = decide(resident, u or unit(), list(existing), RULES, today)
    return join_decision(d, rules, RULES, today, **kw)


# --- expiry ---------------------------------------------------------------------------------------

def test_an_entry_lasts_the_pilots_months_to_the_day_before():
    assert expires_on(WAIT, date(2026, 3, 1)) == date(2026, 8, 31)
    assert expires_on(replace(WAIT, months=1), date(2026, 1, 31)) == date(2026, 2, 27)  # month-end clipping


def test_expiry_day_before_of_and_after():
    last = expires_on(WAIT, TODAY)  # 9 Sep 2026
    assert last == date(2026, 9, 9)
    assert not is_expired(last, last - timedelta(days=1))
    assert not is_expired(last, last)  # still in the queue on its last day
    assert is_expired(last, last + timedelta(days=1))


# --- joining --------------------------------------------------------------------------------------

def test_a_full_unit_offers_its_list_with_the_dates():
    j = join()
    assert j.allowed and j.expires_on == date(2026, 9, 9)
    assert j.switch_from == TODAY and j.effective_if_today == date(2026, 4, 1)


def test_a_unit_with_a_free_place_needs_no_list_unless_the_queue_holds_it():
    assert join(u=unit(listed_count=99)).refusal == "not_full"
    held = join(u=unit(listed_count=99, waiting_count=1))  # the free place belongs to the one waiting
    assert held.allowed
    assert not join(u=unit(listed_count=98, waiting_count=1)).allowed  # a second place is free: choose directly


def test_not_accepting_forms_a_queue_only_when_the_pilot_says_so():
    closed = unit(listed_count=50, accepting_new=False)
    assert join(u=closed).refusal == "not_full"
    assert join(u=closed, rules=replace(WAIT, when_not_accepting=True)).allowed


def test_no_list_when_the_pilot_has_none_or_already_waiting_here():
    assert join(rules=replace(WAIT, enabled=False)).refusal == "not_offered"
    assert join(already_waiting_here=True).refusal == "already_waiting"


def test_moving_out_of_the_pilot_area_or_care_shuts_the_list():
    assert join(resident=replace(ADULT, home_municipality=OULU)).refusal == "other_reasons"
    assert join(resident=replace(ADULT, in_institutional_care=True)).refusal == "other_reasons"


def test_a_lock_in_ending_before_expiry_may_wait_the_day_after_it_may_not():
    last = expires_on(WAIT, TODAY)
    # Locked in to the day before the last day on the list: may join; switch from the day after the lock-in.
    bound = last - timedelta(days=1)
    ok = join(existing=[active(2, date(2025, 8, 1), date(2025, 9, 1), bound)])
    assert ok.allowed and ok.switch_from == last
    # Lock-in ends on the last day: the switch would be possible only the day after the list ends.
    late = join(existing=[active(2, date(2025, 8, 1), date(2025, 9, 1), last)])
    assert late.refusal == "other_reasons"


def test_turning_18_before_expiry_may_wait_on_the_day_itself():
    last = expires_on(WAIT, TODAY)
    born_18_on_last = date(last.year - 18, last.month, last.day)
    on_last = join(resident=replace(ADULT, birth_date=born_18_on_last))
    assert on_last.allowed and on_last.switch_from == last
    day_after = born_18_on_last + timedelta(days=1)
    assert join(resident=replace(ADULT, birth_date=day_after)).refusal == "other_reasons"


# --- promotion ------------------------------------------------------------------------------------

def promote(resident=ADULT, existing=(), rules=WAIT, today=TODAY, **unit_kw):
    return promotion_decision(resident, unit(listed_count=99, waiting_count=3, **unit_kw), list(existing),
                              RULES, rules, today)


def test_the_queue_does_not_hold_the_place_against_its_own_head():
    d = promote()
    assert d.allowed and d.effective_from == date(2026, 4, 1) and d.binding_until == date(2027, 3, 31)
    # ...but a direct chooser is refused while the queue holds the free place.
    assert decide(ADULT, unit(listed_count=99, waiting_count=3), [], RULES, TODAY).codes == ("waiting_list_first",)


def test_promotion_at_the_end_of_a_lock_in_day_before_of_after():
    bound = TODAY
    existing = [active(2, date(2025, 2, 1), date(2025, 3, 1), bound)]
    assert promote(existing=existing, today=bound - timedelta(days=1)).codes == ("locked_in_until",)
    assert promote(existing=existing, today=bound).codes == ("locked_in_until",)
    assert promote(existing=existing, today=bound + timedelta(days=1)).allowed


def test_promotion_around_the_18th_birthday():
    birthday = TODAY
    young = replace(ADULT, birth_date=date(birthday.year - 18, birthday.month, birthday.day))
    assert promote(resident=young, today=birthday - timedelta(days=1)).codes == ("under_age",)
    assert promote(resident=young, today=birthday).allowed
    assert promote(resident=young, today=birthday + timedelta(days=1)).allowed


def test_moving_out_of_the_pilot_area_fails_promotion_and_leaves_the_queue():
    moved = promote(resident=replace(ADULT, home_municipality=OULU))
    assert moved.codes == ("not_resident_of_pilot_area",)
    assert skip_action(moved, WAIT) == "leave"


def test_time_based_skips_stay_unless_the_pilot_says_leave():
    young = replace(ADULT, birth_date=date(TODAY.year - 18, TODAY.month, TODAY.day) + timedelta(days=1))
    d = promote(resident=young)
    assert d.codes == ("under_age",)
    assert skip_action(d, WAIT) == "stay"
    assert skip_action(d, replace(WAIT, keep_when_skipped=False)) == "leave"
    mixed = promote(resident=replace(young, home_municipality=OULU))
    assert skip_action(mixed, WAIT) == "leave"


def test_a_switch_from_the_list_counts_unless_the_pilot_says_otherwise():
    # One switch already made in the last 12 months, lock-in over: the limit (1) stops a counted switch.
    first = active(2, date(2024, 1, 10), date(2024, 2, 1), date(2024, 3, 1), status="ended", ended_on=date(2025, 5, 1))
    switch = active(3, date(2025, 4, 10), date(2025, 5, 1), date(2025, 6, 1))
    counted = promote(existing=[first, switch])
    assert counted.codes == ("switch_limit_reached",)
    free = promote(existing=[first, switch], rules=replace(WAIT, counts_as_switch=False))
    assert free.allowed and free.binding_until is None
    # A later switch: the uncounted one neither counts against the limit nor binds.
    uncounted = active(1, TODAY, date(2026, 4, 1), None, counts_as_switch=False)
    later = decide(ADULT, unit(id=4, listed_count=0), [first, replace(switch, status="ended", ended_on=date(2026, 4,
                                                                                                            1)),
                                                       uncounted], RULES, date(2026, 5, 12))
    assert later.allowed, later.codes


def test_a_pilot_that_counts_the_switch_starts_a_new_lock_in():
    d = promote(rules=replace(WAIT, counts_as_switch=True))
    later = decide(ADULT, unit(id=4, listed_count=0),
                   [active(1, TODAY, d.effective_from, d.binding_until)], RULES, date(2026, 5, 12))
    assert later.codes == ("locked_in_until",)


def test_staff_can_let_a_queue_form_at_a_unit_not_taking_new_customers():
    closed = unit(listed_count=50, accepting_new=False)
    assert join(u=closed).refusal == "not_full"
    assert join(u=closed, unit_lets_queue_form=True).allowed
