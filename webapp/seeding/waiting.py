"""Demo waiting lists: a full sote-keskus with a queue of three (the test person Ville Jonottaja third,
with a message about an expired place in another queue) and a full one with an empty queue, where
a resident who joins is first. Dates are relative to the day of seeding; safe to run again."""
from __future__ import annotations

import secrets
from datetime import date, timedelta
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.choice.records import entry_params
from webapp.choice.references import new_reference
from webapp.core.clock import helsinki_today
from webapp.identity.person import resident_key
from webapp.models import Choice, Message, Pilot, Resident, Unit, WaitingEntry
from webapp.seeding.test_persons import find_test_person


def journey_units(sess: Session) -> list[Unit]:
    """Visible Uusimaa sote-keskus units with a maximum and no test-person choices, newest id first
    (the oldest are left for the tests that need free units)."""
    taken = set(sess.scalars(select(Choice.unit_id)))
    units = sess.scalars(select(Unit).join(Pilot, Unit.pilot_id == Pilot.id).where(
        Pilot.slug == "uusimaa", Unit.element == "sote_centre", Unit.is_hidden.is_(False),
        Unit.accepting_new.is_(True), Unit.capacity.is_not(None), Unit.listed_count < Unit.capacity)
        .order_by(Unit.id.desc())).all()
    return [u for u in units if u.id not in taken]


def _entry(resident_id: int, unit: Unit, joined: date, status: str = "waiting", **kw: Any) -> WaitingEntry:
    return WaitingEntry(resident_id=resident_id, unit_id=unit.id, pilot_id=unit.pilot_id, element=unit.element,
                        status=status, channel="web", reference=new_reference(),
                        request_token=secrets.token_urlsafe(24),
                        joined_on=joined, expires_on=joined + relativedelta(months=6) - timedelta(days=1), **kw)


def seed_waiting_lists(sess: Session, today: date | None = None, *, resident_key_secret: str) -> str:
    """The demo queues; Ville is found by his key made with `resident_key_secret` (RESIDENT_KEY_SECRET)."""
    if sess.scalar(select(func.count()).select_from(WaitingEntry)):
        return ""
    today = today or helsinki_today()
    person = find_test_person("ville", today)
    if person is None:
        return "waiting lists: no test person to seed them with"
    ville = sess.scalar(select(Resident).where(Resident.key == resident_key(resident_key_secret, person.hetu)))
    units = journey_units(sess)
    if ville is None or len(units) < 3:
        return "waiting lists: no units to seed them with"
    queued, empty, earlier = units[0], units[1], units[2]
    for unit in (queued, empty):
        assert unit.capacity is not None  # journey_units has a maximum
        unit.listed_count = unit.capacity
    others = [Resident(key=secrets.token_hex(32), birth_date=date(1970 + i * 7, 4, 2 + i), home_municipality_code=code,
                       in_institutional_care=False) for i, code in enumerate(("186", "858"))]
    sess.add_all(others)
    sess.flush()
    for days, resident in ((40, others[0]), (20, others[1]), (10, ville)):
        sess.add(_entry(resident.id, queued, today - timedelta(days=days)))
    queued.waiting_count = 3
    joined = today - relativedelta(months=7)
    old = _entry(ville.id, earlier, joined, status="expired", end_reason="expired")
    old.ended_on = old.expires_on + timedelta(days=1)
    sess.add(old)
    sess.flush()
    sess.add(Message(resident_id=ville.id, kind="expired", params=entry_params(old, earlier)))
    sess.flush()
    return "waiting lists: a queue of 3 and an empty one at full units"
