"""Waiting lists, Messages and notice e-mail through HTTP in Finnish and Swedish (Flask test client),
and the staff side: paper waiting-list form, queue length in the unit list, figures."""
from __future__ import annotations

import json
import re
from datetime import date

import pytest
from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from tests.choice_helpers import main_text, sign_in
from tests.conftest import csrf_from
from tests.test_staff_helpers import prepare_accounts
from tests.test_staff_helpers import sign_in as staff_sign_in
from tests.test_staff_helpers import token as staff_token
from tests.waiting_helpers import full_unit
from webapp.core.clock import helsinki_today
from webapp.models import AuditEvent, Unit, WaitingEntry
from webapp.seeding import test_persons as tp
from webapp.seeding.waiting import journey_units
from webapp.web import db


def _join_form(client, lang: str, unit: int) -> dict:
    page = client.get(f"/{lang}/choose/{unit}/waiting-list")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    tok = re.search(r'name="request_token" type="hidden" value="([^"]+)"', html).group(1)
    return {"csrf_token": csrf_from(html), "request_token": tok}


def _queued_unit(app) -> int:
    """The seeded full unit whose queue has three residents (Ville Jonottaja third)."""
    with app.app_context():
        return db.session().scalar(select(Unit.id).where(Unit.waiting_count == 3))


TEXT = {
    "fi": {"offer": "Liity toimipisteen jonoon", "first": "Olet jonossa ensimmäisenä: edelläsi ei ole ketään.",
           "third": "Olet jonossa sijalla 3: edelläsi on 2 asukasta.",
           "replace": "Voit jonottaa yhteen toimipisteeseen kerrallaan",
           "messages": "Viestit", "expired": "on vanhentunut",
           "unit_first": "Olet tämän toimipisteen jonossa ensimmäisenä.",
           "length": "Jonossa olevia asukkaita 1"},
    "sv": {"offer": "Ställ dig i verksamhetsställets kö", "first": "Du står först i kön: ingen står före dig.",
           "third": "Du har plats 3 i kön: 2 invånare står före dig.",
           "replace": "Du kan köa till ett verksamhetsställe åt gången",
           "messages": "Meddelanden", "expired": "har gått ut", "unit_first": "Du står först i verksamhetsställets kö.",
           "length": "Invånare i kön 1"},
}


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_from_a_full_unit_to_first_in_the_queue(app, client, lang):
    unit = full_unit(app)
    sign_in(client, "aino", lang)
    decision = main_text(client.get(f"/{lang}/choose/{unit}"))
    last_day = helsinki_today() + relativedelta(months=6) - relativedelta(days=1)
    assert TEXT[lang]["offer"] in decision and format_date(last_day, "long", locale=lang) in decision
    response = client.post(f"/{lang}/choose/{unit}/waiting-list", data=_join_form(client, lang, unit))
    assert response.status_code == 303
    receipt = client.get(response.headers["Location"])
    assert TEXT[lang]["first"] in main_text(receipt)
    assert TEXT[lang]["first"] in main_text(client.get(f"/{lang}/my-choices"))
    # The unit page tells the signed-in resident their place; everyone sees the length.
    unit_page = main_text(client.get(f"/{lang}/units/{unit}"))
    assert TEXT[lang]["unit_first"] in unit_page
    assert TEXT[lang]["length"] in main_text(app.test_client().get(f"/{lang}/units/{unit}"))


def test_joining_twice_by_resubmitting_is_one_entry_and_a_forged_token_is_refused(app, client):
    unit = full_unit(app)
    sign_in(client, "aino", "fi")
    form = _join_form(client, "fi", unit)
    first = client.post(f"/fi/choose/{unit}/waiting-list", data=form)
    second = client.post(f"/fi/choose/{unit}/waiting-list", data=form)
    assert first.status_code == 303 and second.status_code in (303, 400)
    with app.app_context():
        assert len(db.session().scalars(select(WaitingEntry).where(WaitingEntry.unit_id == unit)).all()) == 1
    other = full_unit(app, skip=1)
    bad = client.post(f"/fi/choose/{other}/waiting-list", data={**_join_form(client, "fi", other),
                                                               "request_token": "forged-token-value-123456"})
    assert bad.status_code == 400
    no_csrf = client.post(f"/fi/choose/{other}/waiting-list", data={"request_token": "x"})
    assert no_csrf.status_code == 400


def test_a_unit_with_free_places_offers_no_list_and_the_form_redirects(app, client):
    unit = full_unit(app, free=3)
    sign_in(client, "aino", "fi")
    assert "Liity toimipisteen jonoon" not in main_text(client.get(f"/fi/choose/{unit}"))
    assert client.get(f"/fi/choose/{unit}/waiting-list").status_code == 303


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_ville_sees_his_place_replacement_warning_and_messages(app, client, lang):
    queued = _queued_unit(app)
    sign_in(client, "ville", lang)
    mine = main_text(client.get(f"/{lang}/my-choices"))
    assert TEXT[lang]["third"] in mine
    assert TEXT[lang]["third"].split(":")[0] in main_text(client.get(f"/{lang}/my-choices"))
    other = full_unit(app)
    assert TEXT[lang]["replace"] in main_text(client.get(f"/{lang}/choose/{other}"))
    assert TEXT[lang]["replace"] in main_text(client.get(f"/{lang}/choose/{other}/waiting-list"))
    inbox = client.get(f"/{lang}/messages")
    assert inbox.status_code == 200 and TEXT[lang]["expired"] in main_text(inbox)
    assert queued


def test_leave_by_the_button_and_not_twice(app, client):
    sign_in(client, "ville", "fi")
    html = client.get("/fi/my-choices").get_data(as_text=True)
    leave = re.search(r'href="(/fi/my-choices/waiting/[A-Z0-9]+/leave)"', html).group(1)
    page = client.get(leave)
    assert page.status_code == 200
    done = client.post(leave, data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 303
    assert "Olet jonossa" not in main_text(client.get("/fi/my-choices"))
    assert client.post(leave, data={"csrf_token": csrf_from(page.get_data(as_text=True))}).status_code == 409
    assert "Olet poistunut toimipisteen" in main_text(client.get("/fi/messages"))


def test_others_entries_are_not_found(app, client):
    sign_in(client, "aino", "fi")
    with app.app_context():
        ref = db.session().scalar(select(WaitingEntry.reference).where(WaitingEntry.status == "waiting").limit(1))
    assert client.get(f"/fi/my-choices/waiting/{ref}").status_code == 404
    assert client.get(f"/fi/my-choices/waiting/{ref}/leave").status_code == 404
    assert client.get("/fi/my-choices/waiting/not-a-ref").status_code == 404


def test_notice_email_verified_by_a_signed_link_that_expires(app, client, tmp_path):
    app.config["MAIL_OUTBOX_DIR"] = str(tmp_path)
    sign_in(client, "ville", "sv")
    page = client.get("/sv/messages/email")
    csrf = csrf_from(page.get_data(as_text=True))
    bad = client.post("/sv/messages/email", data={"csrf_token": csrf, "email": "not an address"})
    assert bad.status_code == 400 and "e-postadress i formen namn@exempel.fi" in main_text(bad)
    empty = client.post("/sv/messages/email", data={"csrf_token": csrf, "email": ""})
    assert empty.status_code == 400 and "Ange din e-postadress." in main_text(empty)
    ok = client.post("/sv/messages/email", data={"csrf_token": csrf, "email": "ville@example.fi"})
    assert ok.status_code == 303
    mails = list(tmp_path.glob("*.eml"))
    assert len(mails) == 1  # written to the outbox folder, never sent out
    from email import message_from_bytes, policy
    text = message_from_bytes(mails[0].read_bytes(), policy=policy.default).get_content()
    link = re.search(r"http://localhost(/sv/messages/email/verify/\S+)", text).group(1)
    assert client.get(link.replace("verify/", "verify/x")).status_code == 400
    assert client.get(link).status_code == 200
    assert "ville@example.fi" in main_text(client.get("/sv/messages"))
    with app.app_context():
        from webapp.models import NoticeAddress
        assert db.session().scalar(select(NoticeAddress.verified_at)) is not None
    # An expired link: signed long ago.
    import time
    from unittest import mock

    from itsdangerous import URLSafeTimedSerializer
    with mock.patch.object(time, "time", return_value=time.time() - 3 * 24 * 3600):
        old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="notice-email").dumps({"r": 1, "e": "x@example.fi"})
    assert client.get(f"/sv/messages/email/verify/{old}").status_code == 410


def test_messages_page_needs_sign_in(client):
    response = client.get("/fi/messages")
    assert response.status_code == 303 and "/identify" in response.headers["Location"]


# --- staff ----------------------------------------------------------------------------------------

def _paper(app):
    users = prepare_accounts(app)
    client = app.test_client()
    staff_sign_in(client, users["pilot_manager"].email)
    page = client.get("/fi/staff/paper-waiting-list").get_data(as_text=True)
    request_token = re.search(r'name="request_token" type="hidden" value="([^"]+)"', page).group(1)
    return users, client, request_token


def test_paper_waiting_list_same_rules_hetu_never_stored_or_shown(app, caplog):
    unit = full_unit(app)
    users, client, request_token = _paper(app)
    aino = next(p for p in tp.test_persons(date.today()) if p.slug == "aino")
    data = {"csrf_token": staff_token(client), "request_token": request_token, "hetu": aino.hetu, "unit": str(unit)}
    response = client.post("/fi/staff/paper-waiting-list", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Asukas on jonossa" in html
    assert aino.hetu not in html and aino.masked in html
    with app.app_context():
        sess = db.session()
        entry = sess.scalar(select(WaitingEntry).where(WaitingEntry.unit_id == unit))
        assert entry.channel == "paper"
        event = sess.scalar(select(AuditEvent).where(AuditEvent.action == "waiting_joined",
                                                     AuditEvent.entity_id == entry.id))
        assert event.actor_type == "staff" and event.actor_id == users["pilot_manager"].id
        everything = json.dumps([[e.before, e.after, e.reasons] for e in sess.scalars(select(AuditEvent))])
        assert aino.hetu not in everything and aino.hetu[:6] not in everything
    assert aino.hetu not in caplog.text
    again = client.post("/fi/staff/paper-waiting-list", data=data)
    assert "vain kerran" in again.get_data(as_text=True)
    # A unit with free places: register a choice instead.
    free = full_unit(app, skip=1, free=2)
    data2 = {**data, "unit": str(free), "request_token": request_token + "x"}
    assert "kirjaa sen sijaan valinta" in client.post("/fi/staff/paper-waiting-list", data=data2).get_data(as_text=True)
    bad = client.post("/fi/staff/paper-waiting-list", data={**data, "hetu": "123",
                                                            "request_token": request_token + "y"})
    assert bad.status_code == 400 and "123" not in re.sub(r"<[^>]+>", "",
                                                          bad.get_data(as_text=True)).split("Henkilötunnus")[-1][:40]


def test_providers_and_auditors_cannot_use_the_paper_waiting_list(app):
    users = prepare_accounts(app)
    for role in ("provider_editor", "auditor"):
        client = app.test_client()
        staff_sign_in(client, users[role].email)
        assert client.get("/fi/staff/paper-waiting-list").status_code == 403


def test_staff_unit_list_and_figures_count_the_queue(app):
    queued = _queued_unit(app)
    users = prepare_accounts(app)
    client = app.test_client()
    staff_sign_in(client, users["admin"].email)
    html = client.get("/fi/staff/units?q=").get_data(as_text=True)
    assert "<th scope=\"col\">Jono</th>" in html
    figures = client.get(f"/fi/staff/figures.csv?pilot=uusimaa&year={helsinki_today().year}").get_data(as_text=True)
    header, *rows = [r.split(",") if "," in r else r.split(";") for r in figures.strip().splitlines()]
    col = header.index("waiting_list_entries")
    month = helsinki_today().strftime("%Y-%m")
    queued_rows = [r for r in rows if r[0] == str(queued) and r[3] == month]
    assert queued_rows and queued_rows[0][col] == "3"


def test_api_and_compare_show_the_queue_length(app, client):
    queued = _queued_unit(app)
    data = client.get(f"/api/v1/units/{queued}").get_json()
    assert data["waiting_list_length"] == 3
    other = journey_units_first(app)
    html = client.get(f"/fi/compare?unit={queued}&unit={other}").get_data(as_text=True)
    assert "3 asukasta jonossa" in html


def journey_units_first(app) -> int:
    with app.app_context():
        return journey_units(db.session())[0].id


def test_staff_raising_the_capacity_moves_the_first_in_the_queue(app):
    from tests.test_staff_units import form_data
    queued = _queued_unit(app)
    users = prepare_accounts(app)
    client = app.test_client()
    staff_sign_in(client, users["admin"].email)
    data = form_data(client, queued)
    data["capacity"] = str(int(data["capacity"]) + 1)
    assert client.post(f"/fi/staff/units/{queued}", data=data).status_code == 302
    with app.app_context():
        sess = db.session()
        entries = sess.scalars(select(WaitingEntry).where(WaitingEntry.unit_id == queued)
                               .order_by(WaitingEntry.id)).all()
        assert [e.status for e in entries] == ["promoted", "waiting", "waiting"]
        unit = sess.get(Unit, queued)
        assert unit.listed_count == unit.capacity and unit.waiting_count == 2
        assert sess.scalar(select(AuditEvent.actor_type).where(AuditEvent.action == "waiting_promoted")) == "system"


def test_free_places_held_for_the_queue_are_explained_and_the_list_offered(app, client):
    from sqlalchemy import update
    unit = full_unit(app, free=1)
    with app.app_context():
        db.session().execute(update(Unit).where(Unit.id == unit).values(waiting_count=1))
        db.session().commit()
    sign_in(client, "aino", "fi")
    text = main_text(client.get(f"/fi/choose/{unit}"))
    assert "Toimipisteen vapaat paikat annetaan ensin sen jonossa oleville asukkaille" in text
    assert "Liity toimipisteen jonoon" in text


def test_staff_let_a_queue_form_while_closed_and_reopening_fills_the_place(app, client):
    from sqlalchemy import update
    unit = full_unit(app, free=1)
    with app.app_context():
        db.session().execute(update(Unit).where(Unit.id == unit).values(accepting_new=False))
        db.session().commit()
    sign_in(client, "aino", "fi")
    assert "Liity toimipisteen jonoon" not in main_text(client.get(f"/fi/choose/{unit}"))
    users = prepare_accounts(app)
    staff = app.test_client()
    staff_sign_in(staff, users["admin"].email)
    page = staff.get(f"/fi/staff/units/{unit}").get_data(as_text=True)
    version = re.search(r'action="/fi/staff/units/\d+/waiting-list">\s*<input name="csrf_token" type="hidden" '
                        r'value="[^"]+">\s*<input name="version" type="hidden" value="(\d+)"', page).group(1)
    answer = staff.post(f"/fi/staff/units/{unit}/waiting-list", data={"csrf_token": staff_token(staff),
                                                                      "version": version})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session().scalar(select(AuditEvent.action).where(AuditEvent.entity_id == unit,
                                                                    AuditEvent.action == "unit.waiting_when_closed"))
    assert "Liity toimipisteen jonoon" in main_text(client.get(f"/fi/choose/{unit}"))
    assert client.post(f"/fi/choose/{unit}/waiting-list", data=_join_form(client, "fi", unit)).status_code == 303
    with app.app_context():
        entry = db.session().scalar(select(WaitingEntry).where(WaitingEntry.unit_id == unit))
        assert entry.status == "waiting"  # a free place, but the unit is closed: nobody moves, nobody is skipped
    from tests.test_staff_units import form_data
    data = form_data(staff, unit)
    data["accepting_new"] = "y"
    assert staff.post(f"/fi/staff/units/{unit}", data=data).status_code == 302
    with app.app_context():
        assert db.session().get(WaitingEntry, entry.id).status == "promoted"
