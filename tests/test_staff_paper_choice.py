"""A choice made on a paper form, entered by staff through the choice rules."""
from __future__ import annotations

import json
import re
from datetime import date

from sqlalchemy import select

from tests.test_staff_helpers import prepare_accounts, sign_in, token
from webapp.models import AuditEvent, Choice, Unit
from webapp.seeding import test_persons as tp
from webapp.web import db


def person(slug: str):
    return next(p for p in tp.test_persons(date.today()) if p.slug == slug)


def _setup(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    page = client.get("/fi/staff/paper-choice").get_data(as_text=True)
    request_token = re.search(r'name="request_token" type="hidden" value="([^"]+)"', page).group(1)
    with app.app_context():
        unit_id = db.session().scalar(select(Unit.id).where(Unit.pilot_id == users["pilot_manager"].pilot_id,
                                                            Unit.element == "sote_centre", Unit.accepting_new.is_(True),
                                                            Unit.is_hidden.is_(False), Unit.municipality_code == "186")
                                      .order_by(Unit.id).limit(1))
    return users, client, request_token, unit_id


def test_paper_choice_is_registered_without_storing_or_showing_the_hetu(app):
    users, client, request_token, unit_id = _setup(app)
    aino = person("aino")
    data = {"csrf_token": token(client), "request_token": request_token, "hetu": aino.hetu.lower(),
            "unit": str(unit_id)}
    response = client.post("/fi/staff/paper-choice", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Valinta kirjattiin" in html
    assert aino.hetu not in html and aino.hetu.lower() not in html
    assert aino.masked in html
    with app.app_context():
        sess = db.session()
        choice = sess.scalar(select(Choice).where(Choice.unit_id == unit_id, Choice.channel == "paper"))
        assert choice is not None and choice.status in ("pending", "active")
        events = sess.scalars(select(AuditEvent)).all()
        dumped = json.dumps([[e.before, e.after, e.reasons, e.action] for e in events], default=str)
        assert aino.hetu not in dumped and aino.hetu[:6] + aino.hetu[7:] not in dumped
        created = sess.scalar(select(AuditEvent).where(AuditEvent.action == "choice_created",
                                                       AuditEvent.entity_id == choice.id))
        assert created.actor_type == "staff" and created.actor_id == users["pilot_manager"].id
    # sending the same form again registers nothing new
    again = client.post("/fi/staff/paper-choice", data=data)
    assert again.status_code == 200
    with app.app_context():
        assert len(db.session().scalars(select(Choice).where(Choice.channel == "paper")).all()) == 1


def test_paper_choice_refused_by_the_rules(app):
    _users, client, request_token, unit_id = _setup(app)
    olli = person("olli")  # lives in Oulu, outside every pilot
    response = client.post("/fi/staff/paper-choice", data={"csrf_token": token(client), "request_token": request_token,
                                                            "hetu": olli.hetu, "unit": str(unit_id)})
    html = response.get_data(as_text=True)
    assert "Valintaa ei voi kirjata" in html
    assert olli.hetu not in html
    with app.app_context():
        assert not db.session().scalars(select(Choice).where(Choice.channel == "paper")).all()


def test_invalid_hetu_is_refused_and_not_echoed(app):
    _users, client, request_token, unit_id = _setup(app)
    for lang, message in (("fi", "Anna kelvollinen henkilötunnus"), ("sv", "Ange en giltig personbeteckning")):
        response = client.post(f"/{lang}/staff/paper-choice", data={"csrf_token": token(client, lang),
                                                                    "request_token": request_token,
                                                                    "hetu": "131052-308U", "unit": str(unit_id)})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert message in html
        assert "131052-308U" not in html
    assert client.get("/fi/staff/paper-choice?hetu=131052-308T").status_code == 200  # GET never uses it
