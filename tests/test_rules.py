"""Tests of the pure choice rules (webapp/choice/rules.py): no database, no Flask."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from webapp.choice.rules import (
    ALL_ELEMENTS,
    DIRECT_CHOICE_ELEMENTS,
    REASON_CODES,
    ChoiceRules,
    ExistingChoice,
    ResidentFacts,
    UnitFacts,
    age_on,
    binding_until,
    birthday_of_age,
    current_choice,
    decide,
    effective_date,
    switches_in_window,
)

PILOT = "keski-uusimaa"
HYVINKAA, JARVENPAA, TUUSULA, HELSINKI = "106", "186", "858", "091"
TODAY = date(2026, 5, 12)

RULES = ChoiceRules(
    pilot_slug=PILOT,
    element="sote_centre",
    pilot_municipalities=frozenset({HYVINKAA, JARVENPAA, TUUSULA}),
)
NO_LOCK = replace(RULES, lock_in_months=0)
ADULT = ResidentFacts(date(1980, 5, 5), HYVINKAA, in_institutional_care=False)


def unit(id: int = 1, **kw) -> UnitFacts:
    values = dict(
        pilot_slug=PILOT,
        element="sote_centre",
        municipality=HYVINKAA,
        capacity=None,
        listed_count=0,
        accepting_new=True,
    )
    values.update(kw)
    return UnitFacts(id=id, **values)


def choice(unit_id: int, created_on: date, effective_from: date, **kw) -> ExistingChoice:
    values = dict(pilot_slug=PILOT, element="sote_centre", status="active")
    values.update(kw)
    return ExistingChoice(
        unit_id=unit_id, created_on=created_on, effective_from=effective_from, **values
    )


def codes(decision) -> list[str]:
    return [r.code for r in decision.reasons]


def reason(decision, code: str):
    (found,) = [r for r in decision.reasons if r.code == code]
    return found


# --- age ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2008, 6, 15), date(2026, 6, 14), 17),
        (date(2008, 6, 15), date(2026, 6, 15), 18),
        (date(2008, 6, 15), date(2026, 6, 16), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),  # non-leap year: no 29 Feb ...
        (date(2008, 2, 29), date(2026, 3, 1), 18),  # ... the birthday is 1 March
        (date(2008, 2, 29), date(2028, 2, 28), 19),  # leap year 2028: birthday is 29 Feb
        (date(2008, 2, 29), date(2028, 2, 29), 20),
        (date(2008, 2, 29), date(2028, 3, 1), 20),
        (date(2008, 3, 1), date(2028, 2, 29), 19),
        (date(2008, 3, 1), date(2028, 3, 1), 20),
        (date(2026, 5, 12), date(2026, 5, 12), 0),
    ],
)
def test_age_on(birth, day, age):
    assert age_on(birth, day) == age


@pytest.mark.parametrize(
    ("birth", "years", "birthday"),
    [
        (date(2008, 6, 15), 18, date(2026, 6, 15)),
        (date(2008, 2, 29), 18, date(2026, 3, 1)),
        (date(2008, 2, 29), 20, date(2028, 2, 29)),
        (date(2007, 12, 31), 18, date(2025, 12, 31)),
    ],
)
def test_birthday_of_age(birth, years, birthday):
    assert birthday_of_age(birth, years) == birthday
    assert age_on(birth, birthday - timedelta(days=1)) == years - 1
    assert age_on(birth, birthday) == years


@pytest.mark.parametrize(
    ("birth", "today", "allowed"),
    [
        (date(2008, 6, 15), date(2026, 6, 14), False),  # day before the 18th birthday
        (date(2008, 6, 15), date(2026, 6, 15), True),  # the birthday
        (date(2008, 6, 15), date(2026, 6, 16), True),  # day after
        (date(2008, 2, 29), date(2026, 2, 28), False),
        (date(2008, 2, 29), date(2026, 3, 1), True),
    ],
)
def test_eighteenth_birthday_boundary(birth, today, allowed):
    resident = replace(ADULT, birth_date=birth)
    decision = decide(resident, unit(), [], RULES, today)
    assert decision.allowed is allowed
    if allowed:
        assert decision.reasons == ()
        assert decision.allowed_from == today
    else:
        assert codes(decision) == ["under_age"]
        assert reason(decision, "under_age").on == birthday_of_age(birth, 18)
        assert decision.allowed_from == birthday_of_age(birth, 18)


def test_min_age_is_a_rule_parameter():
    resident = replace(ADULT, birth_date=date(2010, 1, 1))
    assert decide(resident, unit(), [], replace(RULES, min_age=16), TODAY).allowed
    assert codes(decide(resident, unit(), [], RULES, TODAY)) == ["under_age"]


# --- effective date and lock-in ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("effective", "notice_on", "starts"),
    [
        ("next_month_start", date(2026, 1, 31), date(2026, 2, 1)),  # last day of a month
        ("next_month_start", date(2026, 11, 30), date(2026, 12, 1)),
        ("next_month_start", date(2026, 12, 31), date(2027, 1, 1)),  # last day of a year
        ("next_month_start", date(2028, 2, 29), date(2028, 3, 1)),  # last day of a leap Feb
        ("next_month_start", date(2026, 2, 28), date(2026, 3, 1)),
        ("next_month_start", date(2026, 5, 1), date(2026, 6, 1)),
        ("after_notice_days", date(2026, 12, 20), date(2027, 1, 10)),  # across a year end
        ("after_notice_days", date(2026, 12, 31), date(2027, 1, 21)),
        ("after_notice_days", date(2028, 2, 20), date(2028, 3, 12)),  # leap year: 29 days
        ("after_notice_days", date(2026, 2, 20), date(2026, 3, 13)),
    ],
)
def test_effective_date(effective, notice_on, starts):
    assert effective_date(replace(RULES, effective=effective), notice_on) == starts


def test_effective_date_rejects_unknown_rule():
    with pytest.raises(ValueError):
        effective_date(replace(RULES, effective="tomorrow"), TODAY)


@pytest.mark.parametrize(
    ("months", "effective_from", "last_day"),
    [
        (12, date(2026, 3, 1), date(2027, 2, 28)),
        (12, date(2027, 3, 1), date(2028, 2, 29)),
        (6, date(2026, 3, 1), date(2026, 8, 31)),
        (12, date(2027, 1, 1), date(2027, 12, 31)),
        (0, date(2026, 3, 1), None),
    ],
)
def test_binding_until(months, effective_from, last_day):
    assert binding_until(replace(RULES, lock_in_months=months), effective_from) == last_day


@pytest.mark.parametrize("kind_of_request", ["register", "switch"])
def test_decision_carries_effective_dates(kind_of_request):
    existing = []
    if kind_of_request == "switch":
        existing = [choice(2, date(2025, 1, 10), date(2025, 2, 1), binding_until=date(2026, 1, 31))]
    decision = decide(ADULT, unit(), existing, RULES, date(2026, 12, 31))
    assert decision.allowed
    assert decision.kind == kind_of_request
    assert decision.effective_from == date(2027, 1, 1)
    assert decision.binding_until == date(2027, 12, 31)


def test_refused_decision_has_no_effective_dates():
    decision = decide(replace(ADULT, home_municipality=HELSINKI), unit(), [], RULES, TODAY)
    assert (decision.effective_from, decision.binding_until) == (None, None)


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "derived"])
@pytest.mark.parametrize(
    ("today", "allowed"),
    [
        (date(2026, 12, 30), False),  # the day before the last binding day
        (date(2026, 12, 31), False),  # the last binding day
        (date(2027, 1, 1), True),  # the day after
    ],
)
def test_lock_in_boundary(today, allowed, stored):
    current = choice(
        2,
        date(2025, 12, 10),
        date(2026, 1, 1),
        binding_until=date(2026, 12, 31) if stored else None,
    )
    decision = decide(ADULT, unit(), [current], RULES, today)
    assert decision.kind == "switch"
    assert decision.current == current
    assert decision.allowed is allowed
    if not allowed:
        assert codes(decision) == ["locked_in_until"]
        assert reason(decision, "locked_in_until").on == date(2026, 12, 31)
        assert decision.allowed_from == date(2027, 1, 1)


def test_no_lock_in_when_lock_in_months_is_zero():
    current = choice(2, date(2026, 4, 10), date(2026, 5, 1))
    assert decide(ADULT, unit(), [current], NO_LOCK, TODAY).allowed
    assert codes(decide(ADULT, unit(), [current], RULES, TODAY)) == ["locked_in_until"]


# --- switch limit ------------------------------------------------------------------------------

FIRST = choice(2, date(2025, 1, 10), date(2025, 2, 1), status="ended", ended_on=date(2025, 7, 1))
SWITCH = choice(3, date(2025, 6, 15), date(2025, 7, 1))  # in force, counts until 15 Jun 2026


@pytest.mark.parametrize(
    ("today", "limit", "allowed"),
    [
        (date(2026, 6, 14), 1, False),  # at the limit: the day before the switch leaves
        (date(2026, 6, 15), 1, True),  # the day the oldest counted switch leaves the window
        (date(2026, 6, 16), 1, True),
        (date(2026, 6, 14), 2, True),  # just under the limit
    ],
)
def test_switch_limit_boundary(today, limit, allowed):
    rules = replace(NO_LOCK, max_switches_per_12_months=limit)
    decision = decide(ADULT, unit(), [FIRST, SWITCH], rules, today)
    assert decision.kind == "switch"
    assert decision.allowed is allowed
    if not allowed:
        assert codes(decision) == ["switch_limit_reached"]
        assert reason(decision, "switch_limit_reached").on == date(2026, 6, 15)
        assert decision.allowed_from == date(2026, 6, 15)


def test_switch_limit_uses_the_switch_that_brings_the_count_below_the_limit():
    second = choice(
        4, date(2025, 9, 1), date(2025, 10, 1), status="ended", ended_on=date(2025, 12, 1)
    )
    third = choice(5, date(2025, 11, 20), date(2025, 12, 1))
    ended = replace(SWITCH, status="ended", ended_on=date(2025, 10, 1))
    rules = replace(NO_LOCK, max_switches_per_12_months=2)
    decision = decide(ADULT, unit(), [FIRST, ended, second, third], rules, date(2026, 3, 1))
    assert reason(decision, "switch_limit_reached").on == date(2026, 9, 1)


def test_cancelled_choices_are_not_switches():
    cancelled = choice(4, date(2026, 3, 3), date(2026, 4, 1), status="cancelled")
    existing = [FIRST, SWITCH, cancelled]
    assert switches_in_window(existing, PILOT, "sote_centre", date(2026, 6, 15)) == []
    assert switches_in_window(existing, PILOT, "sote_centre", date(2026, 6, 14)) == [SWITCH]


def test_first_registration_is_never_limited():
    # Earlier choices all ended: this request is a registration, not a switch.
    ended = replace(SWITCH, status="ended", ended_on=date(2026, 1, 1))
    decision = decide(ADULT, unit(), [FIRST, ended], NO_LOCK, date(2026, 2, 1))
    assert decision.kind == "register"
    assert decision.allowed


def test_switch_made_on_leap_day_leaves_the_window_on_the_date_shown():
    leap = choice(3, date(2024, 2, 29), date(2024, 3, 1))
    first = choice(2, date(2023, 5, 2), date(2023, 6, 1), status="ended")
    existing = [first, leap]
    assert switches_in_window(existing, PILOT, "sote_centre", date(2025, 2, 27)) == [leap]
    decision = decide(ADULT, unit(), existing, NO_LOCK, date(2025, 2, 27))
    assert reason(decision, "switch_limit_reached").on == date(2025, 2, 28)
    assert decide(ADULT, unit(), existing, NO_LOCK, date(2025, 2, 28)).allowed


def test_zero_switches_means_no_switching():
    current = choice(2, date(2024, 1, 1), date(2024, 2, 1))
    rules = replace(NO_LOCK, max_switches_per_12_months=0)
    decision = decide(ADULT, unit(), [current], rules, TODAY)
    assert codes(decision) == ["switch_limit_reached"]
    assert decision.allowed_from is None


# --- capacity ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capacity", "listed", "allowed"),
    [
        (1500, 1499, True),  # the last free place
        (1500, 1500, False),
        (1500, 1501, False),
        (None, 1_000_000, True),  # no maximum
    ],
)
def test_capacity(capacity, listed, allowed):
    decision = decide(ADULT, unit(capacity=capacity, listed_count=listed), [], RULES, TODAY)
    assert decision.allowed is allowed
    if not allowed:
        assert codes(decision) == ["unit_full"]
        assert decision.allowed_from is None


def test_unit_not_accepting():
    decision = decide(ADULT, unit(accepting_new=False), [], RULES, TODAY)
    assert codes(decision) == ["unit_not_accepting"]


# --- residence, care, municipality -------------------------------------------------------------


def test_not_resident_of_pilot_area():
    decision = decide(replace(ADULT, home_municipality=HELSINKI), unit(), [], RULES, TODAY)
    assert codes(decision) == ["not_resident_of_pilot_area"]
    assert decision.allowed_from is None


def test_pilot_without_municipalities_admits_nobody():
    decision = decide(ADULT, unit(), [], replace(RULES, pilot_municipalities=frozenset()), TODAY)
    assert codes(decision) == ["not_resident_of_pilot_area"]


@pytest.mark.parametrize(("excluded", "allowed"), [(True, False), (False, True)])
def test_institutional_care(excluded, allowed):
    resident = replace(ADULT, in_institutional_care=True)
    rules = replace(RULES, excluded_in_institutional_care=excluded)
    decision = decide(resident, unit(), [], rules, TODAY)
    assert decision.allowed is allowed
    assert codes(decision) == ([] if allowed else ["institutional_care"])


@pytest.mark.parametrize(
    ("allow_other", "unit_municipality", "expected"),
    [
        (True, JARVENPAA, []),
        (True, HYVINKAA, []),
        (False, JARVENPAA, ["unit_outside_home_municipality"]),
        (False, HYVINKAA, []),
    ],
)
def test_other_pilot_municipality(allow_other, unit_municipality, expected):
    rules = replace(RULES, allow_other_pilot_municipality=allow_other)
    decision = decide(ADULT, unit(municipality=unit_municipality), [], rules, TODAY)
    assert codes(decision) == expected


# --- same unit, pending ------------------------------------------------------------------------


def test_same_unit_as_current_choice():
    current = choice(1, date(2024, 1, 10), date(2024, 2, 1))
    decision = decide(ADULT, unit(1), [current], NO_LOCK, TODAY)
    assert codes(decision) == ["same_unit"]
    assert decision.allowed_from is None


def test_pending_choice_exists():
    current = choice(2, date(2024, 1, 10), date(2024, 2, 1))
    pending = choice(3, date(2026, 5, 2), date(2026, 6, 1), status="pending")
    rules = replace(NO_LOCK, max_switches_per_12_months=2)
    decision = decide(ADULT, unit(1), [current, pending], rules, TODAY)
    assert decision.kind == "switch"
    assert decision.current == current
    assert codes(decision) == ["pending_choice_exists"]
    assert reason(decision, "pending_choice_exists").on == date(2026, 6, 1)
    assert decision.allowed_from is None


def test_pending_switch_counts_against_the_switch_limit():
    current = choice(2, date(2024, 1, 10), date(2024, 2, 1))
    pending = choice(3, date(2026, 5, 2), date(2026, 6, 1), status="pending")
    decision = decide(ADULT, unit(1), [current, pending], NO_LOCK, TODAY)
    assert codes(decision) == ["pending_choice_exists", "switch_limit_reached"]
    assert reason(decision, "switch_limit_reached").on == date(2027, 5, 2)


def test_pending_choice_of_the_same_unit():
    pending = choice(1, date(2026, 5, 2), date(2026, 6, 1), status="pending")
    decision = decide(ADULT, unit(1), [pending], RULES, TODAY)
    assert decision.kind == "register"
    assert codes(decision) == ["same_unit", "pending_choice_exists"]


def test_cancelled_pending_choice_does_not_block():
    cancelled = choice(3, date(2026, 5, 2), date(2026, 6, 1), status="cancelled")
    assert decide(ADULT, unit(1), [cancelled], RULES, TODAY).allowed


def test_pending_choice_whose_day_has_come_is_current():
    pending = choice(3, date(2026, 4, 2), date(2026, 5, 1), status="pending")
    assert current_choice([pending], PILOT, "sote_centre", TODAY) == pending
    decision = decide(ADULT, unit(1), [pending], RULES, TODAY)
    assert decision.kind == "switch"
    assert codes(decision) == ["locked_in_until"]


@pytest.mark.parametrize(("ended_on", "is_current"), [(TODAY, False), (TODAY + timedelta(1), True)])
def test_current_choice_ended_on(ended_on, is_current):
    c = choice(2, date(2024, 1, 10), date(2024, 2, 1), ended_on=ended_on)
    assert (current_choice([c], PILOT, "sote_centre", TODAY) == c) is is_current


# --- elements, pilot, choice period ------------------------------------------------------------


def test_sote_and_oral_health_are_independent():
    locked_sote = choice(2, date(2026, 4, 10), date(2026, 5, 1))
    oral_rules = replace(RULES, element="oral_health")
    oral_unit = unit(7, element="oral_health")
    decision = decide(ADULT, oral_unit, [locked_sote], oral_rules, TODAY)
    assert decision.allowed
    assert decision.kind == "register"
    assert decision.current is None
    assert codes(decide(ADULT, unit(), [locked_sote], RULES, TODAY)) == ["locked_in_until"]


@pytest.mark.parametrize("element", ["client_voucher", "personal_budget"])
def test_needs_assessed_elements_are_not_choosable(element):
    decision = decide(ADULT, unit(element=element), [], replace(RULES, element=element), TODAY)
    assert not decision.allowed
    assert codes(decision) == ["element_not_choosable"]
    assert decision.allowed_from is None


def test_element_constants():
    assert set(DIRECT_CHOICE_ELEMENTS) < set(ALL_ELEMENTS)
    assert len(ALL_ELEMENTS) == 4


@pytest.mark.parametrize(
    "other",
    [unit(pilot_slug="ylä-savo"), unit(element="oral_health"), unit(is_visible=False)],
    ids=["other pilot", "other element", "hidden"],
)
def test_unit_not_in_pilot(other):
    assert "unit_not_in_pilot" in codes(decide(ADULT, other, [], RULES, TODAY))


PERIOD = replace(RULES, choice_opens_on=date(2026, 6, 1), choice_closes_on=date(2026, 11, 30))


@pytest.mark.parametrize(
    ("today", "on", "allowed_from"),
    [
        (date(2026, 5, 31), date(2026, 6, 1), date(2026, 6, 1)),  # before opening
        (date(2026, 6, 1), None, date(2026, 6, 1)),  # opening day
        (date(2026, 11, 30), None, date(2026, 11, 30)),  # closing day
        (date(2026, 12, 1), date(2026, 11, 30), None),  # after closing
    ],
)
def test_choice_period(today, on, allowed_from):
    decision = decide(ADULT, unit(), [], PERIOD, today)
    assert decision.allowed is (on is None)
    if on is not None:
        assert codes(decision) == ["choice_period_closed"]
        assert reason(decision, "choice_period_closed").on == on
    assert decision.allowed_from == allowed_from


# --- several reasons ---------------------------------------------------------------------------


def test_all_failing_reasons_are_reported():
    resident = ResidentFacts(date(2010, 1, 1), HELSINKI, in_institutional_care=True)
    full = unit(1, capacity=10, listed_count=10, accepting_new=False, municipality=TUUSULA)
    current = choice(1, date(2026, 4, 10), date(2026, 5, 1))
    rules = replace(RULES, allow_other_pilot_municipality=False)
    decision = decide(resident, full, [current], rules, TODAY)
    assert not decision.allowed
    assert codes(decision) == [
        "under_age",
        "institutional_care",
        "not_resident_of_pilot_area",
        "unit_outside_home_municipality",
        "same_unit",
        "locked_in_until",
        "unit_not_accepting",
        "unit_full",
    ]
    assert decision.allowed_from is None
    assert set(codes(decision)) <= set(REASON_CODES)


def test_allowed_from_is_the_latest_time_based_date():
    resident = replace(ADULT, birth_date=date(2008, 8, 20))  # 18 on 20 Aug 2026
    current = choice(2, date(2026, 4, 10), date(2026, 5, 1))  # bound until 30 Apr 2027
    decision = decide(resident, unit(), [current], PERIOD, TODAY)
    assert codes(decision) == ["choice_period_closed", "under_age", "locked_in_until"]
    # 1 May 2027 is after the period closes (30 Nov 2026): no day helps.
    assert decision.allowed_from is None
    decision = decide(resident, unit(), [], PERIOD, TODAY)
    assert codes(decision) == ["choice_period_closed", "under_age"]
    assert decision.allowed_from == date(2026, 8, 20)


def test_every_reason_code_is_declared():
    assert len(set(REASON_CODES)) == len(REASON_CODES)
    assert {"under_age", "locked_in_until", "switch_limit_reached", "unit_full"} <= set(
        REASON_CODES
    )
