"""Waiting-list rules (docs/domain.md glossary: jonotuslista / kölista), pure like webapp/choice/rules.py.

A resident refused only because a unit is full may join its waiting list; one list per pilot and
element at a time. When a place frees, the first resident in the queue who passes every choice
rule on that day is switched; the others are skipped with their reasons and stay in the queue when
the reasons pass with time (and the pilot keeps their place), or leave it otherwise. An entry lasts
`months` months. All of it is data per pilot and element (:class:`WaitingRules`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import cast

from dateutil.relativedelta import relativedelta

from webapp.choice.rules import (
    TIME_BASED_REASONS,
    ChoiceRules,
    Decision,
    ExistingChoice,
    ResidentFacts,
    UnitFacts,
    decide,
    effective_date,
    passes_on,
)

# Reasons that a waiting list answers: the unit has no place for you now.
QUEUE_REASONS = frozenset({"unit_full", "waiting_list_first"})
# Reasons that pass by themselves once their date comes: a resident may wait through them (join) and
# keeps the place in the queue when skipped for them. "pending_choice_exists" passes when the pending
# choice takes effect or is cancelled.
WAIT_THROUGH = TIME_BASED_REASONS  # the rules' own time-based reasons (webapp/choice/rules.py)
STAY_REASONS = WAIT_THROUGH | {"pending_choice_exists"}


@dataclass(frozen=True)
class WaitingRules:
    enabled: bool = True
    months: int = 6  # how long an entry lasts
    counts_as_switch: bool = True  # a switch from the list counts against the limit and starts a lock-in
    when_not_accepting: bool = False  # a unit not taking new customers still lets a queue form
    keep_when_skipped: bool = True  # skipped for a reason that passes with time: keep the place


@dataclass(frozen=True)
class JoinDecision:
    allowed: bool
    refusal: str | None  # not_offered | not_full | other_reasons | already_waiting
    expires_on: date | None  # the last day on the list
    switch_from: date | None  # the earliest day a switch from the list could be made
    effective_if_today: date | None  # when a switch made today would take effect


def expires_on(rules: WaitingRules, joined_on: date) -> date:
    """The last day on the list: joined_on + months − 1 day (1 Mar + 6 months → 31 Aug)."""
    # untyped dateutil (no stubs in the dependency lists): date + relativedelta is a date
    return cast(date, joined_on + relativedelta(months=rules.months)) - timedelta(days=1)


def is_expired(last_day: date, today: date) -> bool:
    """An entry is in the queue through its last day and gone from the next day on."""
    return today > last_day


def _queue_reasons(rules: WaitingRules, unit_lets_queue_form: bool) -> frozenset[str]:
    closed_queue = rules.when_not_accepting or unit_lets_queue_form
    return QUEUE_REASONS | ({"unit_not_accepting"} if closed_queue else frozenset())


def join_decision(decision: Decision, rules: WaitingRules, choice_rules: ChoiceRules, today: date,
                  already_waiting_here: bool = False, unit_lets_queue_form: bool = False) -> JoinDecision:
    """May a resident whose choice of a unit was `decision` join the unit's waiting list today?

    Yes when the unit has no place for them (full, or the queue holds the free places, or it is not
    taking new customers and the pilot or the unit's staff let a queue form) and every other failing rule passes by
    itself before the entry expires (e.g. a lock-in ending or an 18th birthday on or before the last
    day on the list). The switch can then be made from `switch_from` at the earliest.
    """
    last = expires_on(rules, today)

    def no(why: str) -> JoinDecision:
        return JoinDecision(False, why, None, None, None)

    if not rules.enabled:
        return no("not_offered")
    queue_codes = _queue_reasons(rules, unit_lets_queue_form)
    codes = set(decision.codes)
    if decision.allowed or not codes & queue_codes:
        return no("not_full")
    if already_waiting_here:
        return no("already_waiting")
    others = [r for r in decision.reasons if r.code not in queue_codes]
    days = [passes_on(r, today) for r in others]
    if any(d is None or d > last for d in days):
        return no("other_reasons")
    start = max([today, *[d for d in days if d is not None]])
    return JoinDecision(True, None, last, start, effective_date(choice_rules, today))


def promotion_decision(resident: ResidentFacts, unit: UnitFacts, existing: list[ExistingChoice],
                       choice_rules: ChoiceRules, rules: WaitingRules, today: date) -> Decision:
    """May the resident at the head of the queue be switched to `unit` today?

    Every choice rule applies as on the day, except that the queue itself does not hold the place
    against them. When the pilot does not count a switch from the list, the switch limit does not
    stop it and the new choice has no lock-in."""
    decision = decide(resident, replace(unit, waiting_count=0), existing, choice_rules, today)
    if rules.counts_as_switch:
        return decision
    reasons = tuple(r for r in decision.reasons if r.code != "switch_limit_reached")
    if reasons == decision.reasons and not decision.allowed:
        return decision
    if reasons:
        return replace(decision, reasons=reasons, allowed=False)
    starts = effective_date(choice_rules, today)
    return replace(decision, allowed=True, reasons=(), effective_from=starts, binding_until=None, allowed_from=today)


def skip_action(decision: Decision, rules: WaitingRules) -> str:
    """'stay' (keep the place in the queue) or 'leave' for a resident skipped with `decision`."""
    if rules.keep_when_skipped and decision.reasons and all(r.code in STAY_REASONS for r in decision.reasons):
        return "stay"
    return "leave"


def place_in_queue(ahead: int) -> int:
    """1 for the first in the queue: the residents ahead plus one."""
    return ahead + 1
