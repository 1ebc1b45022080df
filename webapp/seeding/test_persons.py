"""Test persons for development and tests: the test identification page, a population register
stand-in, and their seeded residents and choices.

Every henkilötunnus here uses an individual number 900-999 (reserved for test identities) and is
generated with the right century sign and check character. Dates are relative to the day the
seed runs (or the page is shown), so the demo stays right: the person who turns 18 tomorrow does
so whatever day it is. Pages and the dev console show the codes masked only.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import cast

from dateutil.relativedelta import relativedelta
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from webapp.choice.references import new_reference
from webapp.choice.rules import birthday_of_age
from webapp.core.clock import helsinki_today
from webapp.core.translation import LazyText
from webapp.core.translation import lazy_gettext as _l
from webapp.identity.person import RegisterRecord, VerifiedPerson, hetu_for, mask_hetu, normalise_hetu, resident_key
from webapp.identity.residents import put_resident
from webapp.models import Choice, Pilot, Resident, Unit


@dataclass(frozen=True)
class TestPerson:
    slug: str
    given_name: str
    family_name: str
    hetu: str
    record: RegisterRecord
    shows: LazyText  # translated for the test page when shown
    shows_en: str  # for the dev console

    @property
    def masked(self) -> str:
        return mask_hetu(self.hetu)

    def verified(self) -> VerifiedPerson:
        return VerifiedPerson(self.hetu, self.given_name, self.family_name, self.record.home_municipality_code)


def _eighteen_tomorrow(today: date) -> date:
    """A birth date on which the person is 17 today and turns 18 tomorrow. When tomorrow is
    29 February nobody turns 18 that day (18 years earlier was no leap year); then the person
    born on 1 March, who turns 18 the day after tomorrow."""
    tomorrow = today + timedelta(days=1)
    birth = cast(date, tomorrow - relativedelta(years=18))  # untyped dateutil: date - relativedelta is a date
    while birthday_of_age(birth, 18) < tomorrow:
        birth += timedelta(days=1)
    return birth


def test_persons(today: date) -> list[TestPerson]:
    """The test persons as they are on `today` (only the one turning 18 depends on the day)."""
    young = _eighteen_tomorrow(today)
    rows = [
        ("aino", "Aino", "Testinen", date(1990, 1, 15), 902, "186", False, "fi",
         _l("Adult resident of Järvenpää with no choice: may choose."),
         "adult resident of Järvenpää (Uusimaa pilot), no choice: may choose"),
        ("matti", "Matti", "Sidottu", date(1975, 6, 3), 903, "858", False, "fi",
         _l("Resident of Tuusula with a sote-keskus choice still binding: cannot switch until the lock-in ends."),
         "resident of Tuusula, sote-keskus choice binding past today: locked in"),
        ("liisa", "Liisa", "Vapautunut", date(1982, 11, 30), 904, "106", False, "fi",
         _l("Resident of Hyvinkää whose lock-in ended yesterday: may switch."),
         "resident of Hyvinkää, lock-in ended yesterday: may switch"),
        ("eetu", "Eetu", "Nuorinen", young, 905, "543", False, "fi",
         _l("Resident of Nurmijärvi who turns 18 tomorrow: may choose from tomorrow."),
         "resident of Nurmijärvi, turns 18 tomorrow: under age today"),
        ("olli", "Olli", "Ulkopuolinen", date(1968, 2, 29), 907, "564", False, "fi",
         _l("Resident of Oulu, outside every pilot: not a resident of the pilot area."),
         "resident of Oulu, outside every pilot: not resident"),
        ("kaarina", "Kaarina", "Hoivala", date(1936, 8, 12), 908, "505", True, "fi",
         _l("Resident of Mäntsälä in institutional care: outside the pilot."),
         "resident of Mäntsälä in institutional care: excluded"),
        ("astrid", "Astrid", "Lindqvist", date(1988, 4, 21), 910, "753", False, "sv",
         _l("Swedish-speaking resident of Sipoo with no choice: may choose, in Swedish."),
         "Swedish-speaking resident of Sipoo (bilingual), no choice: may choose"),
        ("pekka", "Pekka", "Kaksivalinta", date(1959, 10, 9), 911, "091", False, "fi",
         _l("Resident of Helsinki with a sote-keskus choice and a pending oral-health choice that can be cancelled."),
         "resident of Helsinki, active sote-keskus choice and a pending oral-health choice (cancellable)"),
        ("ville", "Ville", "Jonottaja", date(1979, 3, 14), 912, "186", False, "fi",
         _l("Resident of Järvenpää, third in the waiting list of a full sote-keskus, with a message about an "
            "expired place in another queue."),
         "resident of Järvenpää, 3rd in the waiting list of a full sote-keskus; a message in Messages"),
    ]
    return [TestPerson(slug, given, family, hetu_for(born, individual),
                       RegisterRecord(born, muni, care, lang), shows, shows_en)
            for slug, given, family, born, individual, muni, care, lang, shows, shows_en in rows]


def find_test_person(slug: str, today: date) -> TestPerson | None:
    return next((p for p in test_persons(today) if p.slug == slug), None)


class TestPersonRegister:
    """Development stand-in for the population register (VTJ): the test persons' records.
    Production would query the Population Information System (VTJ) of the Digital and
    Population Data Services Agency with the henkilötunnus from the identification."""

    def __init__(self, today_fn: Callable[[], date]) -> None:
        self._today = today_fn

    def lookup(self, hetu: str) -> RegisterRecord | None:
        wanted = normalise_hetu(hetu)
        today = self._today()
        # The person turning 18 is looked up for yesterday too, so a seed from yesterday still works.
        for day in (today, today - timedelta(days=1)):
            for person in test_persons(day):
                if person.hetu == wanted:
                    return person.record
        return None


# --- seeding ---------------------------------------------------------------------------------

def _pick_units(sess: Session, pilot_slug: str, element: str, count: int) -> list[Unit]:
    units = sess.scalars(
        select(Unit).join(Pilot, Unit.pilot_id == Pilot.id)
        .where(Pilot.slug == pilot_slug, Unit.element == element, Unit.is_hidden.is_(False),
               Unit.accepting_new.is_(True), (Unit.capacity.is_(None)) | (Unit.listed_count < Unit.capacity - 10))
        .order_by(Unit.id).limit(count * 3)).all()
    # Different providers, so that a switch demonstrates choosing another provider.
    picked: list[Unit] = []
    providers: set[int] = set()
    for unit in units:
        if unit.provider_id not in providers:
            picked.append(unit)
            providers.add(unit.provider_id)
        if len(picked) == count:
            break
    return picked


def _add_choice(sess: Session, resident: Resident, unit: Unit, status: str, created_on: date, effective_from: date,
                binding_until: date | None, ended_on: date | None = None, previous: Choice | None = None) -> Choice:
    choice = Choice(resident_id=resident.id, unit_id=unit.id, pilot_id=unit.pilot_id, element=unit.element,
                    status=status, channel="web", reference=new_reference(), request_token=secrets.token_urlsafe(24),
                    created_on=created_on, effective_from=effective_from, binding_until=binding_until,
                    ended_on=ended_on, previous_choice_id=previous.id if previous is not None else None)
    sess.add(choice)
    if status in ("active", "pending"):
        unit_table = cast(Table, Unit.__table__)  # typed as a FromClause; a declarative class maps a Table
        sess.execute(unit_table.update().where(unit_table.c.id == unit.id)
                     .values(listed_count=unit_table.c.listed_count + 1))
    sess.flush()
    return choice


def seed_test_persons(sess: Session, today: date | None = None, *, resident_key_secret: str) -> str:
    """Create the test persons' residents and their choices; safe to run again (idempotent). The residents
    are keyed with `resident_key_secret` (the app's RESIDENT_KEY_SECRET), as a sign-in would key them."""
    today = today or helsinki_today()
    secret = resident_key_secret
    persons = {p.slug: p for p in test_persons(today)}
    residents = {slug: put_resident(sess, resident_key(secret, p.hetu), p.record) for slug, p in persons.items()}
    made = 0

    def has_choices(slug: str) -> bool:
        return bool(sess.scalar(select(func.count()).select_from(Choice)
                                .where(Choice.resident_id == residents[slug].id)))

    sote = _pick_units(sess, "uusimaa", "sote_centre", 3)
    oral = _pick_units(sess, "uusimaa", "oral_health", 1)
    if len(sote) < 3 or not oral:
        return "test persons: no demo units to seed choices with"
    month_start = today.replace(day=1)
    if not has_choices("matti"):
        # Chose two months ago; took effect at the next month start; binds 12 months.
        created = month_start - relativedelta(months=2) + timedelta(days=9)
        effective = created.replace(day=1) + relativedelta(months=1)
        _add_choice(sess, residents["matti"], sote[0], "active", created, effective,
                    effective + relativedelta(months=12) - timedelta(days=1))
        made += 1
    if not has_choices("liisa"):
        binding = today - timedelta(days=1)
        effective = binding + timedelta(days=1) - relativedelta(months=12)
        _add_choice(sess, residents["liisa"], sote[1], "active", effective - timedelta(days=20), effective, binding)
        made += 1
    if not has_choices("pekka"):
        effective = month_start - relativedelta(months=24)
        _add_choice(sess, residents["pekka"], sote[2], "active", effective - timedelta(days=15), effective,
                    effective + relativedelta(months=12) - timedelta(days=1))
        pending_from = month_start + relativedelta(months=1)
        _add_choice(sess, residents["pekka"], oral[0], "pending", today, pending_from,
                    pending_from + relativedelta(months=12) - timedelta(days=1))
        made += 2
    return f"{len(persons)} test persons ({made} new choices)"


def describe_test_persons() -> list[str]:
    """Lines for the dev console: names, masked codes and what each shows."""
    lines = ["Test persons (test identification page /fi/identify/test):"]
    for p in test_persons(helsinki_today()):
        lines.append(f"  {p.given_name} {p.family_name} ({p.masked}): {p.shows_en}")
    return lines
