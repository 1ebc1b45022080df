"""Helpers for the waiting-list tests (not a test module)."""
from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select, update

from tests.choice_helpers import free_unit
from webapp.choice.choices import counted_places
from webapp.models import Resident, Unit
from webapp.web import db

TODAY = date(2026, 11, 24)


def make_residents(app, count: int, municipality: str = "186", birth: date = date(1980, 5, 5)) -> list[int]:
    with app.app_context():
        sess = db.session()
        people = [Resident(key=secrets.token_hex(32), birth_date=birth, home_municipality_code=municipality,
                           in_institutional_care=False) for _ in range(count)]
        sess.add_all(people)
        sess.commit()
        return [p.id for p in people]


def full_unit(app, skip: int = 0, free: int = 0) -> int:
    """A unit of the Uusimaa sote-keskus element made full (or with `free` places), queue empty."""
    unit_id = free_unit(app, skip=skip)
    with app.app_context():
        sess = db.session()
        counted = counted_places(sess, unit_id)
        sess.execute(update(Unit).where(Unit.id == unit_id).values(listed_count=counted, capacity=counted + free,
                                                                   accepting_new=True, waiting_count=0))
        sess.commit()
    return unit_id


def token() -> str:
    return secrets.token_urlsafe(24)


def unit_row(app, unit_id: int) -> tuple[int, int, int]:
    """(capacity, listed_count, waiting_count)."""
    with app.app_context():
        row = db.session().execute(select(Unit.capacity, Unit.listed_count, Unit.waiting_count)
                                   .where(Unit.id == unit_id)).one()
        return tuple(row)
