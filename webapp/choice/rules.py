"""Choice rules of a freedom-of-choice pilot (valinnanvapauskokeilu), docs/domain.md §3.

The rules are data on the pilot (:class:`ChoiceRules`); :func:`decide` is a pure function of
its arguments: no Flask, no database, no clock (``today`` is passed in), no I/O. Every failing
rule is reported as a :class:`Reason`; templates turn the codes into fi/sv sentences using
``Reason.on`` for the date in the sentence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol, cast

from dateutil.relativedelta import relativedelta

DIRECT_CHOICE_ELEMENTS = ("sote_centre", "oral_health")
# Client voucher and personal budget are granted after a needs assessment (seed 004),
# so the site informs about them but never registers a choice.
ALL_ELEMENTS = ("sote_centre", "oral_health", "client_voucher", "personal_budget")

REASON_CODES = (
    "element_not_choosable",
    "unit_not_in_pilot",
    "choice_period_closed",
    "under_age",
    "institutional_care",
    "not_resident_of_pilot_area",
    "unit_outside_home_municipality",
    "same_unit",
    "pending_choice_exists",
    "locked_in_until",
    "switch_limit_reached",
    "unit_not_accepting",
    "unit_full",
    "waiting_list_first",
)

EFFECTIVE_RULES = ("next_month_start", "after_notice_days")


@dataclass(frozen=True)
class ResidentFacts:
    birth_date: date
    home_municipality: str  # 3-digit municipality code from the population register
    in_institutional_care: bool


@dataclass(frozen=True)
class UnitFacts:
    id: int
    pilot_slug: str
    element: str
    municipality: str  # 3-digit code
    capacity: int | None  # None = no maximum
    listed_count: int
    accepting_new: bool
    is_visible: bool = True
    waiting_count: int = 0  # residents on the unit's waiting list: free places go to them first


@dataclass(frozen=True)
class ExistingChoice:
    unit_id: int
    pilot_slug: str
    element: str
    status: str  # 'pending' | 'active' | 'ended' | 'cancelled'
    created_on: date  # the day the notice was given
    effective_from: date
    ended_on: date | None = None  # first day on which the choice no longer applies
    binding_until: date | None = None  # last binding day, as told to the resident
    counts_as_switch: bool = True  # False: a switch from a waiting list that the pilot does not count


@dataclass(frozen=True)
class ChoiceRules:
    pilot_slug: str
    element: str
    min_age: int = 18
    excluded_in_institutional_care: bool = True
    pilot_municipalities: frozenset[str] = frozenset()
    allow_other_pilot_municipality: bool = True
    lock_in_months: int = 12
    max_switches_per_12_months: int = 1
    notice_days: int = 21
    effective: str = "next_month_start"  # or 'after_notice_days'
    choice_opens_on: date | None = None
    choice_closes_on: date | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    on: date | None = None  # the date that belongs in the sentence


@dataclass(frozen=True)
class Decision:
    allowed: bool
    kind: str  # 'register' (no current choice for this element) | 'switch'
    reasons: tuple[Reason, ...]
    effective_from: date | None  # set only when allowed
    binding_until: date | None  # set only when allowed and the pilot has a lock-in
    allowed_from: date | None  # earliest day the same request passes the time-based rules
    current: ExistingChoice | None

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)


# --- helpers (pure) --------------------------------------------------------------------------


def birthday_of_age(birth_date: date, years: int) -> date:
    """The day on which a person born on ``birth_date`` reaches ``years`` years of age.

    A person reaches age N on the Nth birthday. Someone born on 29 February reaches it on
    1 March in a non-leap year: the full N years have only elapsed once 28 February is over.
    This is the chosen interpretation (the common legal convention, e.g. in the UK, Hong Kong
    and New Zealand); no Finnish source confirming it was found, so check with the pilot's
    lawyer before relying on the one-day difference. relativedelta alone would give 28 Feb.
    """
    # dateutil is untyped here (no stubs in the dependency lists): date + relativedelta is a date.
    day = cast(date, birth_date + relativedelta(years=years))
    if (birth_date.month, birth_date.day) == (2, 29) and day.day == 28:
        day += timedelta(days=1)
    return day


def age_on(birth_date: date, day: date) -> int:
    """Completed years on ``day``; consistent with :func:`birthday_of_age` (29 Feb → 1 Mar)."""
    years = day.year - birth_date.year
    if years > 0 and day < birthday_of_age(birth_date, years):
        years -= 1
    return max(years, 0)


def effective_date(rules: ChoiceRules, notice_on: date) -> date:
    """The day a choice notified on ``notice_on`` takes effect.

    'next_month_start': the first day of the month after the notice (capitation is paid per
    month, so a choice starts on a month boundary): 31 Dec 2026 → 1 Jan 2027, 30 Nov → 1 Dec.
    'after_notice_days': notice + ``notice_days`` (the Health Care Act's three weeks).
    The same rule applies to a first registration as to a switch: in both cases the new unit
    needs the same notice to take the resident on, and one rule keeps the dates predictable.
    """
    if rules.effective == "next_month_start":
        return cast(date, notice_on.replace(day=1) + relativedelta(months=1))  # untyped dateutil; a date
    if rules.effective == "after_notice_days":
        return notice_on + timedelta(days=rules.notice_days)
    raise ValueError(f"unknown effective rule {rules.effective!r}; expected {EFFECTIVE_RULES}")


def binding_until(rules: ChoiceRules, effective_from: date) -> date | None:
    """Last binding day: effective_from + lock_in_months − 1 day; None when lock_in_months is 0.

    From 1 Mar 2026 with 12 months → 28 Feb 2027; a switch is possible from 1 Mar 2027.
    Month-end dates are clipped by relativedelta (31 Jan + 1 month − 1 day = 27 Feb).
    """
    if rules.lock_in_months <= 0:
        return None
    # untyped dateutil: date + relativedelta is a date
    return cast(date, effective_from + relativedelta(months=rules.lock_in_months)) - timedelta(days=1)


def _for_element(existing: Iterable[ExistingChoice], pilot_slug: str, element: str) -> list[ExistingChoice]:
    return [c for c in existing if c.pilot_slug == pilot_slug and c.element == element]


def current_choice(
    existing: Iterable[ExistingChoice], pilot_slug: str, element: str, today: date
) -> ExistingChoice | None:
    """The choice in force on ``today``: status 'active', effective_from <= today and
    (ended_on is None or ended_on > today). ``ended_on`` is the first day it no longer applies.

    A 'pending' choice whose effective_from has arrived is also treated as in force: it has
    taken effect even if the job that flips its status has not run yet; otherwise a resident
    could register twice in that gap. If several match, the latest effective_from wins.
    """
    in_force = [
        c
        for c in _for_element(existing, pilot_slug, element)
        if c.status in ("active", "pending")
        and c.effective_from <= today
        and (c.ended_on is None or c.ended_on > today)
    ]
    return max(in_force, key=lambda c: (c.effective_from, c.created_on), default=None)


def pending_choice(
    existing: Iterable[ExistingChoice], pilot_slug: str, element: str, today: date
) -> ExistingChoice | None:
    """A choice made but not yet in force: status 'pending' and effective_from > today."""
    pending = [
        c
        for c in _for_element(existing, pilot_slug, element)
        if c.status == "pending" and c.effective_from > today
    ]
    return min(pending, key=lambda c: c.effective_from, default=None)


def switches_in_window(
    existing: Iterable[ExistingChoice], pilot_slug: str, element: str, today: date
) -> list[ExistingChoice]:
    """Switches counted against ``max_switches_per_12_months`` on ``today``, oldest first.

    A switch is a non-cancelled choice whose created_on is after the created_on of an earlier
    non-cancelled choice for the same pilot and element (the first registration is not one).
    A switch counts while created_on <= today < created_on + 12 months, i.e. created_on is in
    (today − 12 months, today]. Written this way round so that the day it leaves the window is
    exactly created_on + 12 months, the date shown to the resident (a switch on 29 Feb 2024
    leaves on 28 Feb 2025 under relativedelta's month-end clipping).
    """
    kept = [c for c in _for_element(existing, pilot_slug, element) if c.status != "cancelled"]
    if not kept:
        return []
    first = min(c.created_on for c in kept)
    counted = [
        c for c in kept
        if c.counts_as_switch and first < c.created_on <= today < c.created_on + relativedelta(months=12)
    ]
    return sorted(counted, key=lambda c: c.created_on)


# --- room for a newcomer (pure) -------------------------------------------------------------
# One rule for every surface that says whether a unit takes new customers (search filter, result card,
# unit page, API, staff list) and for decide(): a newcomer is a resident who is not in the unit's queue.

NEWCOMER_STATUSES = ("open", "queue_first", "full", "not_accepting", "hidden")


def places_for_newcomers(capacity: int | None, listed_count: int, waiting_count: int) -> int | None:
    """Free places not held for the unit's queue: capacity − listed − waiting, at least 0; None = no maximum.

    Places that free up belong to the residents already waiting (first come, first served), so a unit with
    3 free places and a queue of 3 has none for a newcomer; what it offers is its waiting list."""
    if capacity is None:
        return None
    return max(capacity - listed_count - max(waiting_count, 0), 0)


def capacity_refusal(capacity: int | None, listed_count: int, waiting_count: int) -> str | None:
    """Why the unit's capacity refuses a newcomer: 'unit_full' (no free place at all), 'waiting_list_first'
    (every free place is held for the queue), or None (a place is left, or there is no maximum)."""
    if capacity is None:
        return None
    if listed_count >= capacity:
        return "unit_full"
    if places_for_newcomers(capacity, listed_count, waiting_count) == 0:
        return "waiting_list_first"
    return None


def open_to_newcomers(accepting_new: bool, is_visible: bool, capacity: int | None, listed_count: int,
                      waiting_count: int) -> bool:
    """May a resident outside the queue choose the unit, as far as the unit is concerned? Exactly when
    decide() reports none of unit_not_in_pilot (hidden), unit_not_accepting, unit_full, waiting_list_first."""
    return bool(accepting_new and is_visible
                and capacity_refusal(capacity, listed_count, waiting_count) is None)


def newcomer_status(accepting_new: bool, is_visible: bool, capacity: int | None, listed_count: int,
                    waiting_count: int) -> str:
    """What the unit's label says (NEWCOMER_STATUSES): 'hidden', else 'full' (no free place), else
    'not_accepting' (the provider's flag is off), else 'queue_first' (the free places go to those in the
    queue), else 'open'. 'open' exactly when :func:`open_to_newcomers`."""
    if not is_visible:
        return "hidden"
    refusal = capacity_refusal(capacity, listed_count, waiting_count)
    if refusal == "unit_full":
        return "full"
    if not accepting_new:
        return "not_accepting"
    if refusal == "waiting_list_first":
        return "queue_first"
    return "open"


class NewcomerFigures(Protocol):
    """The Unit model's attribute names that :func:`newcomer_status_of` reads (read-only, so a frozen
    search Card fits as well as a Unit); ``is_hidden`` is optional and read with getattr."""

    @property
    def accepting_new(self) -> bool: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def listed_count(self) -> int: ...
    @property
    def waiting_count(self) -> int: ...


def newcomer_status_of(unit: NewcomerFigures) -> str:
    """:func:`newcomer_status` of anything with the Unit model's attribute names (a Unit, a search Card)."""
    return newcomer_status(unit.accepting_new, not getattr(unit, "is_hidden", False), unit.capacity,
                           unit.listed_count, unit.waiting_count)


# --- the decision ----------------------------------------------------------------------------

# Reasons that pass by themselves once a date arrives (only when they carry that date): a resident may
# wait through them in a queue (webapp/choice/waiting_rules.py). A new time-based rule is added here.
TIME_BASED_REASONS = frozenset(
    {"under_age", "locked_in_until", "switch_limit_reached", "choice_period_closed"}
)


def decide(
    resident: ResidentFacts,
    unit: UnitFacts,
    existing_choices: Iterable[ExistingChoice],
    rules: ChoiceRules,
    today: date,
) -> Decision:
    """May ``resident`` choose ``unit`` on ``today`` under ``rules``? Reports every failing rule.

    ``existing_choices`` may hold the resident's choices of any pilot and element; only those
    of ``rules.pilot_slug`` + ``rules.element`` are considered, so e.g. a locked-in sote-keskus
    choice never blocks an oral-health choice.
    """
    existing = _for_element(existing_choices, rules.pilot_slug, rules.element)
    current = current_choice(existing, rules.pilot_slug, rules.element, today)
    pending = pending_choice(existing, rules.pilot_slug, rules.element, today)
    kind = "switch" if current is not None else "register"
    reasons: list[Reason] = []

    if rules.element not in DIRECT_CHOICE_ELEMENTS or unit.element not in DIRECT_CHOICE_ELEMENTS:
        reasons.append(Reason("element_not_choosable"))
    if unit.pilot_slug != rules.pilot_slug or unit.element != rules.element or not unit.is_visible:
        reasons.append(Reason("unit_not_in_pilot"))

    # Choice period: before opening, `on` is the opening day (time-based); after closing,
    # `on` is the closing day (no later date can help).
    if rules.choice_opens_on is not None and today < rules.choice_opens_on:
        reasons.append(Reason("choice_period_closed", rules.choice_opens_on))
    elif rules.choice_closes_on is not None and today > rules.choice_closes_on:
        reasons.append(Reason("choice_period_closed", rules.choice_closes_on))

    # Age is checked on the day of the request (the target group is adults, seed 004).
    if age_on(resident.birth_date, today) < rules.min_age:
        reasons.append(Reason("under_age", birthday_of_age(resident.birth_date, rules.min_age)))
    if rules.excluded_in_institutional_care and resident.in_institutional_care:
        reasons.append(Reason("institutional_care"))
    # An empty pilot_municipalities set fails closed: nobody is resident of an unconfigured pilot.
    if resident.home_municipality not in rules.pilot_municipalities:
        reasons.append(Reason("not_resident_of_pilot_area"))
    if not rules.allow_other_pilot_municipality and unit.municipality != resident.home_municipality:
        reasons.append(Reason("unit_outside_home_municipality"))

    if current is not None and current.unit_id == unit.id:
        reasons.append(Reason("same_unit"))
    elif pending is not None and pending.unit_id == unit.id:
        reasons.append(Reason("same_unit", pending.effective_from))
    if pending is not None:
        reasons.append(Reason("pending_choice_exists", pending.effective_from))

    if current is not None:
        # The binding day stored with the choice is what the resident was told; derive it from
        # the rules only for choices stored without one.
        bound = current.binding_until or (
            binding_until(rules, current.effective_from) if current.counts_as_switch else None)
        if bound is not None and today <= bound:
            reasons.append(Reason("locked_in_until", bound))
        counted = switches_in_window(existing, rules.pilot_slug, rules.element, today)
        limit = rules.max_switches_per_12_months
        if limit <= 0:  # 0 means switching is not allowed at all (not "unlimited")
            reasons.append(Reason("switch_limit_reached"))
        elif len(counted) >= limit:
            # Allowed again when enough switches have left the window to go below the limit;
            # with exactly `limit` counted that is the oldest one's created_on + 12 months.
            leaving = counted[len(counted) - limit].created_on + relativedelta(months=12)
            reasons.append(Reason("switch_limit_reached", leaving))

    if not unit.accepting_new:
        reasons.append(Reason("unit_not_accepting"))
    # unit_full, or waiting_list_first: places that free up belong to the residents already waiting.
    refusal = capacity_refusal(unit.capacity, unit.listed_count, unit.waiting_count)
    if refusal is not None:
        reasons.append(Reason(refusal))

    allowed = not reasons
    starts = effective_date(rules, today) if allowed else None
    return Decision(
        allowed=allowed,
        kind=kind,
        reasons=tuple(reasons),
        effective_from=starts,
        binding_until=binding_until(rules, starts) if starts is not None else None,
        allowed_from=_allowed_from(reasons, rules, today),
        current=current,
    )


def passes_on(reason: Reason, today: date) -> date | None:
    """The first day on which a time-based reason no longer fails; None if no such day."""
    if reason.code not in TIME_BASED_REASONS or reason.on is None:
        return None  # e.g. not resident, unit full
    if reason.code == "locked_in_until":  # `on` is the last binding day
        return reason.on + timedelta(days=1)
    # birthday, day the switch leaves the window, opening day; a closing day is in the past
    return reason.on if reason.on > today else None


def _allowed_from(reasons: list[Reason], rules: ChoiceRules, today: date) -> date | None:
    """Today when nothing fails; the latest day on which every failing (all time-based) reason
    passes, provided the choice period is still open then; otherwise None."""
    if not reasons:
        return today
    days = [passes_on(r, today) for r in reasons]
    if any(d is None for d in days):
        return None
    day = max(d for d in days if d is not None)
    if rules.choice_closes_on is not None and day > rules.choice_closes_on:
        return None
    return day
