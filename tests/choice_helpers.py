"""Helpers shared by the choice, identity, capacity and journey tests (not a test module)."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.conftest import csrf_from
from webapp.core.clock import helsinki_today
from webapp.models import Choice, Pilot, Unit
from webapp.seeding import test_persons as tp
from webapp.web import db


def person(slug: str):
    return tp.find_test_person(slug, helsinki_today())


def sign_in(client, slug: str, lang: str = "fi"):
    page = client.get(f"/{lang}/identify/test")
    assert page.status_code == 200
    return client.post(f"/{lang}/identify/test", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                        "person": slug})


def free_unit(app, pilot_slug: str = "uusimaa", element: str = "sote_centre", skip: int = 0) -> int:
    """A visible unit that accepts new customers, has free places and no test-person choices."""
    with app.app_context():
        sess = db.session()
        taken = set(sess.scalars(select(Choice.unit_id)).all())
        units = sess.scalars(select(Unit).join(Pilot, Unit.pilot_id == Pilot.id).where(
            Pilot.slug == pilot_slug, Unit.element == element, Unit.is_hidden.is_(False),
            Unit.accepting_new.is_(True), Unit.listed_count < Unit.capacity).order_by(Unit.id)).all()
        return [u.id for u in units if u.id not in taken][skip]


def counts(app, unit_id: int) -> tuple[int, int]:
    """(number of Choice rows, the unit's listed_count)."""
    with app.app_context():
        sess = db.session()
        return (sess.scalar(select(func.count()).select_from(Choice)),
                sess.scalar(select(Unit.listed_count).where(Unit.id == unit_id)))


def confirm_form(client, lang: str, unit_id: int) -> dict:
    page = client.get(f"/{lang}/choose/{unit_id}/confirm")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    token = re.search(r'name="request_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'id="request_token" name="request_token" type="hidden" value="([^"]+)"', html)
    assert token, html
    return {"csrf_token": csrf_from(html), "request_token": token.group(1)}


def main_text(response) -> str:
    html = response.get_data(as_text=True)
    main = html[html.find("<main"):html.find("</main>")]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))
