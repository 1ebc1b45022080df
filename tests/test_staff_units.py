"""Editing units: validation (fi and sv), concurrent edits, hiding, queue times, index and audit."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from tests.test_staff_helpers import editor_unit_ids, prepare_accounts, sign_in, token
from webapp.models import AuditEvent, Postcode, QueueTime, Unit
from webapp.units import fields as uf
from webapp.web import db


def form_data(client, unit_id: int, lang: str = "fi") -> dict:
    """The edit form as the browser would send it unchanged (with the session's CSRF token)."""
    app = client.application
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        snap = uf.snapshot(unit)
        data = {f: snap[f] for f in (*uf.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone", "email",
                                     "website", "capacity")}
        if unit.accepting_new:
            data["accepting_new"] = "y"
        data["services"] = unit.service_codes
        data["languages"] = unit.language_codes
        for f in (*uf.FACT_FIELDS, *uf.NOTE_FIELDS):
            data[f] = snap[f]
        for day in range(7):
            data[f"hours_{day}"] = ", ".join(f"{uf.fmt_time(h.opens)}-{uf.fmt_time(h.closes)}"
                                             for h in unit.opening_hours if h.weekday == day)
        data["exceptions"] = "\n".join(snap["exceptions"].split("|"))
        data["version"] = str(unit.version)
    data["csrf_token"] = token(client, lang)
    return data


@pytest.fixture
def admin(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["admin"].email)
    client.users = users
    return client


def _unit_id(app) -> int:
    with app.app_context():
        return db.session().scalar(select(Unit.id).where(Unit.element == "sote_centre", Unit.listed_count > 100)
                                   .order_by(Unit.id).limit(1))


def test_edit_saves_audits_only_changed_fields_and_updates_index(app, admin):
    unit_id = _unit_id(app)
    data = form_data(admin, unit_id)
    data["name_fi"] = "Zyxwvu terveysasema"
    data["phone"] = "+358 40 123 4567"
    response = admin.post(f"/fi/staff/units/{unit_id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        sess = db.session()
        unit = sess.get(Unit, unit_id)
        assert unit.name_fi == "Zyxwvu terveysasema" and unit.phone == "+358 40 123 4567"
        event = sess.scalars(select(AuditEvent).where(AuditEvent.action == "unit.update",
                                                      AuditEvent.entity_id == unit_id)).one()
        assert set(event.after) == {"name_fi", "phone", "version"}
        assert event.after["name_fi"] == "Zyxwvu terveysasema" and event.before["name_fi"] != "Zyxwvu terveysasema"
        assert event.actor_id == admin.users["admin"].id
    # the public search sees the new name at once
    page = admin.get("/fi/search?q=Zyxwvu").get_data(as_text=True)
    assert "Zyxwvu terveysasema" in page


def test_nothing_changed_creates_no_event(app, admin):
    unit_id = _unit_id(app)
    response = admin.post(f"/fi/staff/units/{unit_id}", data=form_data(admin, unit_id))
    assert response.status_code == 302
    with app.app_context():
        assert not db.session().scalars(select(AuditEvent).where(AuditEvent.action == "unit.update")).all()


CASES = [
    ("name_fi", "", "Anna nimi suomeksi.", "Ange namnet på finska."),
    ("postcode", "123", "Postinumerossa on viisi numeroa", "Ett postnummer har fem siffror"),
    ("postcode", "99998", "Postinumeroa 99998 ei ole olemassa.", "Postnumret 99998 finns inte."),
    ("lat", "55.0", "Leveysasteen on oltava välillä 59.5–70.1", "Latituden måste vara mellan 59.5 och 70.1"),
    ("lon", "35", "Pituusasteen on oltava välillä 19.0–31.6", "Longituden måste vara mellan 19.0 och 31.6"),
    ("lat", "abc", "Anna luku, esim. 60.1699.", "Ange ett tal, t.ex. 60.1699."),
    ("phone", "12345", "Anna suomalainen puhelinnumero", "Ange ett finskt telefonnummer"),
    ("email", "not-an-address", "Anna sähköpostiosoite muodossa", "Ange en e-postadress i formen"),
    ("website", "ftp://example.fi", "Anna verkko-osoite, joka alkaa https://", "Ange en webbadress som börjar med https://"),
    ("capacity", "1", "Kapasiteetti ei voi olla pienempi kuin nykyinen",
     "Kapaciteten kan inte vara lägre än nuvarande"),
    ("capacity", "lots", "Anna kapasiteetti kokonaislukuna", "Ange kapaciteten som ett heltal"),
    ("hours_0", "8-16", "ei ole aikaväli", "är inte en period"),
    ("exceptions", "2026-13-40; closed", "ei ole päivämäärä muodossa", "är inte ett datum i formen"),
    ("municipality_code", "", "Valitse kunta.", "Välj kommun."),
]


@pytest.mark.parametrize("field, value, fi, sv", CASES)
def test_validation_messages_in_finnish_and_swedish(app, admin, field, value, fi, sv):
    unit_id = _unit_id(app)
    with app.app_context():
        before = db.session().get(Unit, unit_id).version
    for lang, expected in (("fi", fi), ("sv", sv)):
        data = form_data(admin, unit_id, lang)
        data[field] = value
        response = admin.post(f"/{lang}/staff/units/{unit_id}", data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert expected in html
        assert f'href="#{field}"' in html  # in the summary, linked to the field
        assert f'id="{field}-error"' in html  # and beside the field
    with app.app_context():
        assert db.session().get(Unit, unit_id).version == before


def test_postcode_must_belong_to_the_municipality(app, admin):
    unit_id = _unit_id(app)
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        other = db.session().scalar(select(Postcode).where(Postcode.municipality_code != unit.municipality_code)
                                    .order_by(Postcode.code).limit(1))
        code = other.code
    data = form_data(admin, unit_id)
    data["postcode"] = code
    html = admin.post(f"/fi/staff/units/{unit_id}", data=data).get_data(as_text=True)
    assert f"Postinumero {code} ei ole kunnassa" in html


def test_phone_formats():
    for good in ("09 123 4567", "+358 40 123 4567", "040-1234567", "0800 12345", "+358401234567"):
        assert uf.PHONE_RE.match(good), good
    for bad in ("12345", "+46 8 123 456", "0", "09 12", "abc", "+358 0 123 4567"):
        assert not uf.PHONE_RE.match(bad), bad


def test_second_save_with_a_stale_version_is_refused_and_shows_what_changed(app, admin):
    unit_id = _unit_id(app)
    first = form_data(admin, unit_id)
    second = dict(first)
    first["name_fi"] = "Ensimmäisen muokkaajan nimi"
    assert admin.post(f"/fi/staff/units/{unit_id}", data=first).status_code == 302
    second["phone"] = "09 765 4321"
    response = admin.post(f"/fi/staff/units/{unit_id}", data=second)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Joku muu muutti tätä toimipistettä muokkauksesi aikana" in html
    assert "Ensimmäisen muokkaajan nimi" in html  # the current value of the field changed meanwhile
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        assert unit.name_fi == "Ensimmäisen muokkaajan nimi"
        assert unit.phone != "09 765 4321"


def test_hide_and_show_a_unit(app, admin):
    unit_id = _unit_id(app)
    data = form_data(admin, unit_id)
    r = admin.post(f"/fi/staff/units/{unit_id}/visibility", data={"csrf_token": data["csrf_token"],
                                                                   "version": data["version"]})
    assert r.status_code == 302
    with app.app_context():
        assert db.session().get(Unit, unit_id).is_hidden
        event = db.session().scalar(select(AuditEvent).where(AuditEvent.action == "unit.hide"))
        assert event.before["hidden"] == "no" and event.after["hidden"] == "yes"
    # a stale version does not toggle it back
    admin.post(f"/fi/staff/units/{unit_id}/visibility", data={"csrf_token": data["csrf_token"],
                                                               "version": data["version"]})
    with app.app_context():
        assert db.session().get(Unit, unit_id).is_hidden


def test_create_unit_with_hours_and_exceptions(app, admin):
    with app.app_context():
        sess = db.session()
        unit = sess.get(Unit, _unit_id(app))
        pilot_slug, ytunnus = unit.pilot.slug, unit.provider.y_tunnus
        muni, postcode = unit.municipality_code, unit.postcode
    data = {"csrf_token": token(admin), "pilot": pilot_slug, "provider": ytunnus, "element": "sote_centre",
            "name_fi": "Uusi Testiasema", "name_sv": "Nya Teststationen", "street_fi": "Testikatu 1",
            "postcode": postcode, "municipality_code": muni, "capacity": "1000", "accepting_new": "y",
            "services": ["doctor", "nurse"], "languages": ["fi", "sv"], "a11y_lift": "yes", "a11y_ramp": "no",
            "hours_0": "08:00-11:30, 12:00-16:00", "hours_4": "8.00-15.00",
            "exceptions": "2026-12-24; closed; Jouluaatto; Julafton\n2026-12-31; 08:00-12:00; ; "}
    response = admin.post("/fi/staff/units/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        unit = db.session().scalar(select(Unit).where(Unit.name_fi == "Uusi Testiasema"))
        snap = uf.snapshot(unit)
        assert snap["opening_hours"] == "mon 08:00-11:30|mon 12:00-16:00|fri 08:00-15:00"
        assert snap["exceptions"] == "2026-12-24;closed;Jouluaatto;Julafton|2026-12-31;08:00-12:00;;"
        assert unit.lat and unit.lon  # from the postcode area
        assert unit.accessibility == {"lift": True, "ramp": False}  # the rest not known
        assert db.session().scalar(select(AuditEvent).where(AuditEvent.action == "unit.create")).entity_id == unit.id


def test_new_provider_needs_a_valid_ytunnus(app, admin):
    html = admin.post("/sv/staff/providers/new", data={"csrf_token": token(admin, "sv"), "name": "Testi Oy",
                                                       "y_tunnus": "1234567-8",
                                                       "sector": "private"}).get_data(as_text=True)
    assert "Ange ett giltigt FO-nummer" in html
    r = admin.post("/fi/staff/providers/new", data={"csrf_token": token(admin), "name": "Testi Oy",
                                                    "y_tunnus": "0737546-2", "sector": "private"})
    assert r.status_code == 302
    r = admin.post("/fi/staff/providers/new", data={"csrf_token": token(admin), "name": "Testi Oy",
                                                    "y_tunnus": "0737546-2", "sector": "private"})
    assert "Palveluntuottaja tällä Y-tunnuksella on jo olemassa." in r.get_data(as_text=True)


def test_queue_time_batch_keeps_history_and_updates_same_day(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit).where(Unit.pilot_id == users["pilot_manager"].pilot_id,
                                                Unit.element == "sote_centre")
                              .order_by(Unit.id).limit(2)).unique().all()
        ids = [u.id for u in units]
        history = {i: sess.scalar(select(QueueTime.id).where(QueueTime.unit_id == i).limit(1)) for i in ids}
        counts = {i: len(sess.get(Unit, i).queue_times) for i in ids}
    page = client.get("/fi/staff/queue-times")
    assert page.status_code == 200
    day = date.today().isoformat()
    data = {"csrf_token": token(client), "measured_on": day, f"t3_{ids[0]}_doctor": "12", f"t3_{ids[0]}_nurse": "3",
            f"t3_{ids[1]}_doctor": "7"}
    assert client.post("/fi/staff/queue-times", data=data).status_code == 302
    data[f"t3_{ids[0]}_doctor"] = "14"  # same unit, profession and day: updates that row
    assert client.post("/fi/staff/queue-times", data=data).status_code == 302
    with app.app_context():
        sess = db.session()
        assert len(sess.get(Unit, ids[0]).queue_times) == counts[ids[0]] + 2
        assert len(sess.get(Unit, ids[1]).queue_times) == counts[ids[1]] + 1
        latest = sess.get(Unit, ids[0]).latest_queue_times()
        assert latest["doctor"].t3_days == 14 and latest["nurse"].t3_days == 3
        assert all(sess.get(QueueTime, h) is not None for h in history.values())  # history kept
    bad = client.post("/fi/staff/queue-times", data={**data, f"t3_{ids[1]}_nurse": "-2"})
    assert bad.status_code == 400
    assert "Anna päivien määrä kokonaislukuna väliltä 0–365." in bad.get_data(as_text=True)


def test_auditor_reads_but_cannot_change(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["auditor"].email)
    unit_id = _unit_id(app)
    html = client.get(f"/fi/staff/units/{unit_id}").get_data(as_text=True)
    assert "Voit lukea näitä tietoja mutta et muuttaa niitä." in html
    admin = app.test_client()
    sign_in(admin, users["admin"].email)
    data = form_data(admin, unit_id)
    data["name_fi"] = "Tarkastajan muutos"
    data["csrf_token"] = token(client)
    assert client.post(f"/fi/staff/units/{unit_id}", data=data).status_code == 403
    with app.app_context():
        assert db.session().get(Unit, unit_id).name_fi != "Tarkastajan muutos"


def test_edit_and_stale_version_on_both_databases(any_app):
    users = prepare_accounts(any_app)
    client = any_app.test_client()
    sign_in(client, users["pilot_manager"].email)
    unit_id, _other = editor_unit_ids(any_app, users)
    first = form_data(client, unit_id)
    second = dict(first)
    first["services"] = ["doctor", "nurse"]
    first["exceptions"] = "2026-12-24; closed; Jouluaatto; Julafton"
    assert client.post(f"/fi/staff/units/{unit_id}", data=first).status_code == 302
    second["name_fi"] = "Myöhässä"
    assert client.post(f"/fi/staff/units/{unit_id}", data=second).status_code == 409
    with any_app.app_context():
        unit = db.session().get(Unit, unit_id)
        assert unit.service_codes == ["doctor", "nurse"] and unit.name_fi != "Myöhässä"
        assert uf.snapshot(unit)["exceptions"] == "2026-12-24;closed;Jouluaatto;Julafton"


def test_staff_edit_accessibility_facts_and_notes(app, admin):
    uid = _unit_id(app)
    data = form_data(admin, uid)
    data.update({"a11y_lift": "no", "a11y_step_free_entrance": "yes", "a11y_induction_loop": "",
                 "accessibility_note_fi": "Sisäänkäynti pihan puolelta.",
                 "accessibility_note_sv": "Entrén från gården.",
                 "accessibility_note_en": ""})
    response = admin.post(f"/fi/staff/units/{uid}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        unit = db.session().get(Unit, uid)
        facts = unit.accessibility
        assert facts["lift"] is False and facts["step_free_entrance"] is True and "induction_loop" not in facts
        assert unit.accessibility_note_sv == "Entrén från gården."
        audit = db.session().scalars(select(AuditEvent).where(AuditEvent.entity_id == uid,
                                                              AuditEvent.action == "unit.update")).all()[-1]
        assert audit.after["a11y_lift"] == "no"
    page = app.test_client().get(f"/en/units/{uid}").get_data(as_text=True)
    assert '<p class="accessibility-note"><span lang="fi">Sisäänkäynti pihan puolelta.</span></p>' in page


def test_staff_form_shows_each_fact_as_yes_no_or_not_known(app, admin):
    uid = _unit_id(app)
    with app.app_context():
        unit = db.session().get(Unit, uid)
        unit.set_accessibility({"lift": False})
        db.session().commit()
    html = admin.get(f"/fi/staff/units/{uid}").get_data(as_text=True)
    assert re.search(r'<input checked id="a11y_lift-1" name="a11y_lift" type="radio" value="no">', html)
    assert re.search(r'<input checked id="a11y_ramp-2" name="a11y_ramp" type="radio" value="">', html)
    assert "<legend class=\"label\">Hissi</legend>" in html


def test_staff_fact_value_must_be_yes_no_or_empty(app, admin):
    uid = _unit_id(app)
    data = form_data(admin, uid)
    data["a11y_lift"] = "perhaps"
    html = admin.post(f"/fi/staff/units/{uid}", data=data).get_data(as_text=True)
    assert "Hissi: " in html and "tyhjäksi" in html
