"""The whole choice journey in Finnish and Swedish with the Flask test client."""
from __future__ import annotations

import logging

import pytest
from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from sqlalchemy import select

from tests.choice_helpers import confirm_form, counts, free_unit, main_text, person, sign_in
from tests.conftest import csrf_from
from tests.session_helpers import age_sessions
from webapp.core.clock import helsinki_today
from webapp.identity.person import resident_key
from webapp.models import AuditEvent, Choice, Resident, Unit
from webapp.seeding import test_persons as tp
from webapp.web import db


def long(d, lang):
    return format_date(d, format="long", locale=lang)


def resident_id(app, slug):
    with app.app_context():
        key = resident_key(app.config["RESIDENT_KEY_SECRET"], person(slug).hetu)
        return db.session().scalar(select(Resident.id).where(Resident.key == key))


def next_month_start():
    return helsinki_today().replace(day=1) + relativedelta(months=1)


# --- each test person gets the answer the rules give -----------------------------------------

@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_adult_resident_may_choose_with_dates(app, client, lang):
    unit = free_unit(app)
    sign_in(client, "aino", lang)
    text = main_text(client.get(f"/{lang}/choose/{unit}"))
    start = next_month_start()
    heading = {"fi": "Voit valita tämän toimipisteen", "sv": "Du kan välja detta verksamhetsställe"}[lang]
    assert heading in text
    assert long(start, lang) in text
    assert long(start + relativedelta(months=12) - relativedelta(days=1), lang) in text


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_locked_in_resident_is_told_until_when(app, client, lang):
    sign_in(client, "matti", lang)
    with app.app_context():
        bound = db.session().scalar(select(Choice.binding_until).where(
            Choice.resident_id == resident_id(app, "matti"), Choice.status == "active"))
    assert bound > helsinki_today()
    text = main_text(client.get(f"/{lang}/choose/{free_unit(app)}"))
    sentence = {"fi": "Nykyinen valintasi sitoo sinua {d} asti. Voit vaihtaa toiseen toimipisteeseen {n} alkaen.",
                "sv": "Ditt nuvarande val binder dig till och med {d}. "
                      "Du kan byta till ett annat verksamhetsställe från och med {n}."}
    assert sentence[lang].format(d=long(bound, lang), n=long(bound + relativedelta(days=1), lang)) in text


def test_lock_in_ended_yesterday_may_switch(app, client):
    sign_in(client, "liisa", "fi")
    text = main_text(client.get(f"/fi/choose/{free_unit(app)}"))
    assert "Voit valita tämän toimipisteen" in text
    assert "pysyy toimipisteenäsi" in text  # the current unit stays until the switch takes effect


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_under_age_is_told_the_birthday_and_what_to_do_instead(app, client, lang):
    sign_in(client, "eetu", lang)
    text = main_text(client.get(f"/{lang}/choose/{free_unit(app)}"))
    tomorrow = long(helsinki_today() + relativedelta(days=1), lang)
    expected = {"fi": f"Täytät 18 vuotta {tomorrow}", "sv": f"Du fyller 18 år den {tomorrow}"}[lang]
    assert expected in text
    assert {"fi": "terveysaseman", "sv": "hälsostation"}[lang] in text
    assert {"fi": "kolmen viikon", "sv": "tre veckor"}[lang] in text


@pytest.mark.parametrize("lang, municipality", [("fi", "Oulu"), ("sv", "Uleåborg")])
def test_resident_outside_every_pilot(app, client, lang, municipality):
    sign_in(client, "olli", lang)
    text = main_text(client.get(f"/{lang}/choose/{free_unit(app)}"))
    expected = {"fi": f"Kotikuntasi {municipality} ei kuulu kokeilun kuntiin",
                "sv": f"Din hemkommun, {municipality}, hör inte till försökets kommuner"}[lang]
    assert expected in text
    assert {"fi": "kerran vuodessa", "sv": "en gång per år"}[lang] in text


def test_institutional_care(app, client):
    sign_in(client, "kaarina", "sv")
    text = main_text(client.get(f"/sv/choose/{free_unit(app)}"))
    assert "Invånare i anstaltsvård omfattas inte av försöket" in text


def test_swedish_resident_sees_swedish_sentences(app, client):
    unit = free_unit(app)
    sign_in(client, "astrid", "sv")
    response = client.get(f"/sv/choose/{unit}")
    assert '<html lang="sv">' in response.get_data(as_text=True)
    text = main_text(response)
    assert "Du kan välja detta verksamhetsställe" in text
    assert f"Valet träder i kraft den {long(next_month_start(), 'sv')}." in text


def test_refusal_is_audited_without_the_henkilotunnus(app, client):
    sign_in(client, "matti")
    client.get(f"/fi/choose/{free_unit(app)}")
    with app.app_context():
        event = db.session().scalars(select(AuditEvent).where(AuditEvent.action == "choice_refused")).one()
        assert event.actor_type == "resident" and event.actor_id == resident_id(app, "matti")
        assert event.reasons == ["locked_in_until"] and event.pilot_id is not None
        assert person("matti").hetu not in repr((event.before, event.after, event.reasons))


# --- the whole journey -----------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_identify_then_return_to_the_same_step(app, client, lang):
    unit = free_unit(app)
    first = client.get(f"/{lang}/choose/{unit}")
    assert first.status_code == 303 and first.headers["Location"].endswith(f"/{lang}/identify")
    signed = sign_in(client, "aino", lang)
    assert signed.status_code == 303 and signed.headers["Location"].endswith(f"/{lang}/choose/{unit}")


@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_register_confirm_and_receipt(app, client, lang):
    unit = free_unit(app)
    before_choices, before_listed = counts(app, unit)
    sign_in(client, "aino", lang)
    response = client.post(f"/{lang}/choose/{unit}/confirm", data=confirm_form(client, lang, unit))
    assert response.status_code == 303 and f"/{lang}/my-choices/" in response.headers["Location"]
    assert counts(app, unit) == (before_choices + 1, before_listed + 1)
    receipt = client.get(response.headers["Location"])
    html = receipt.get_data(as_text=True)
    with app.app_context():
        choice = db.session().scalars(select(Choice).where(Choice.unit_id == unit)).one()
        assert choice.status == "pending" and choice.effective_from == next_month_start()
        assert len(choice.reference) == 10
        created = db.session().scalars(select(AuditEvent).where(AuditEvent.action == "choice_created")).one()
        assert created.entity_id == choice.id and created.actor_id == choice.resident_id
    assert choice.reference in html and "data-print" in html
    assert long(choice.effective_from, lang) in main_text(receipt)
    assert long(choice.binding_until, lang) in main_text(receipt)
    mine = main_text(client.get(f"/{lang}/my-choices"))
    assert choice.reference in mine


def test_double_submit_reload_and_back_create_one_choice(app, client):
    unit = free_unit(app)
    before_choices, before_listed = counts(app, unit)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    first = client.post(f"/fi/choose/{unit}/confirm", data=form)
    second = client.post(f"/fi/choose/{unit}/confirm", data=form)  # double click / reload
    assert first.headers["Location"] == second.headers["Location"]
    back = client.get(f"/fi/choose/{unit}/confirm")  # back button to the confirmation page
    assert back.status_code == 303 and back.headers["Location"] == first.headers["Location"]
    assert counts(app, unit) == (before_choices + 1, before_listed + 1)


def test_switch_and_separate_elements(app, client):
    """Pekka has a sote-keskus choice and a pending oral-health choice at another provider."""
    sign_in(client, "pekka")
    with app.app_context():
        rows = db.session().scalars(select(Choice).where(Choice.resident_id == resident_id(app, "pekka"))).all()
    assert {c.element for c in rows} == {"sote_centre", "oral_health"}
    assert len({c.unit.provider_id for c in rows}) == 2
    response = client.get("/fi/my-choices")
    html, text = response.get_data(as_text=True), main_text(response)
    for c in rows:
        assert c.reference in html
    pending = next(c for c in rows if c.status == "pending")
    assert f'href="/fi/my-choices/{pending.reference}/cancel"' in html
    active = next(c for c in rows if c.status == "active")
    assert f'href="/fi/my-choices/{active.reference}/cancel"' not in html
    assert "Odottaa voimaantuloa" in text and "Voimassa" in text


def test_cancel_pending_choice_releases_the_place(app, client):
    sign_in(client, "pekka")
    with app.app_context():
        pending = db.session().scalars(select(Choice).where(
            Choice.resident_id == resident_id(app, "pekka"), Choice.status == "pending")).one()
    _, listed = counts(app, pending.unit_id)
    page = client.get(f"/fi/my-choices/{pending.reference}/cancel")
    assert page.status_code == 200
    done = client.post(f"/fi/my-choices/{pending.reference}/cancel",
                       data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert done.status_code == 303
    assert counts(app, pending.unit_id)[1] == listed - 1
    with app.app_context():
        sess = db.session()
        assert sess.get(Choice, pending.id).status == "cancelled"
        cancelled = sess.scalars(select(AuditEvent).where(AuditEvent.action == "choice_cancelled")).one()
        assert cancelled.entity_id == pending.id
    again = client.post(f"/fi/my-choices/{pending.reference}/cancel",
                        data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert again.status_code == 409
    assert counts(app, pending.unit_id)[1] == listed - 1


def test_unit_can_be_chosen_again_after_its_pending_choice_was_cancelled(client, app):
    unit_id = free_unit(app)
    sign_in(client, "aino")
    first = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert first.status_code == 303
    reference = first.headers["Location"].rsplit("/", 1)[1]
    cancel_page = client.get(f"/fi/my-choices/{reference}/cancel")
    done = client.post(f"/fi/my-choices/{reference}/cancel",
                       data={"csrf_token": csrf_from(cancel_page.get_data(as_text=True))})
    assert done.status_code == 303
    again = client.get(f"/fi/choose/{unit_id}/confirm")
    assert again.status_code == 200, "a cancelled choice must not block a new confirmation form"
    second = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert second.status_code == 303
    assert second.headers["Location"].rsplit("/", 1)[1] != reference
    with app.app_context():
        statuses = sorted(c.status for c in db.session().query(Choice).filter(Choice.unit_id == unit_id))
    assert statuses == ["cancelled", "pending"]


def test_another_residents_receipt_and_cancel_are_404(app, client):
    with app.app_context():
        ref = db.session().scalars(select(Choice.reference).where(
            Choice.resident_id == resident_id(app, "pekka"), Choice.status == "pending")).one()
    sign_in(client, "aino")
    assert client.get(f"/fi/my-choices/{ref}").status_code == 404
    assert client.get(f"/fi/my-choices/{ref}/cancel").status_code == 404
    page = client.get("/fi/my-choices")
    response = client.post(f"/fi/my-choices/{ref}/cancel", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 404
    with app.app_context():
        assert db.session().scalar(select(Choice.status).where(Choice.reference == ref)) == "pending"


# --- bad input: clear 4xx and nothing changes -------------------------------------------------

def test_forged_unit_id(app, client):
    sign_in(client, "aino")
    assert client.get("/fi/choose/99999999").status_code == 404
    assert client.get("/fi/choose/99999999/confirm").status_code == 404


def test_unit_of_another_pilot_is_refused(app, client):
    unit = free_unit(app, "tampere")
    before = counts(app, unit)
    sign_in(client, "aino")
    text = main_text(client.get(f"/fi/choose/{unit}"))
    assert "Kotikuntasi Järvenpää ei kuulu kokeilun kuntiin" in text
    # The confirmation step is not offered, and a forged submission is refused.
    assert client.get(f"/fi/choose/{unit}/confirm").status_code == 303
    page = client.get(f"/fi/choose/{free_unit(app)}/confirm")
    forged = client.post(f"/fi/choose/{unit}/confirm", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                            "request_token": "x" * 43})
    assert forged.status_code == 400
    assert counts(app, unit) == before


def test_tampered_hidden_field(app, client):
    unit = free_unit(app)
    before = counts(app, unit)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    form["request_token"] = form["request_token"][:-2] + "zz"
    response = client.post(f"/fi/choose/{unit}/confirm", data=form)
    assert response.status_code == 400
    assert "Mitään ei tallennettu" in main_text(response)
    assert counts(app, unit) == before


def test_token_of_another_unit_is_refused(app, client):
    unit, other = free_unit(app), free_unit(app, skip=1)
    before = counts(app, other)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    assert client.post(f"/fi/choose/{other}/confirm", data=form).status_code == 400
    assert counts(app, other) == before


def test_missing_csrf_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    unit = free_unit(app)
    before = counts(app, unit)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    del form["csrf_token"]
    response = client.post(f"/fi/choose/{unit}/confirm", data=form)
    assert response.status_code == 400
    assert counts(app, unit) == before


def test_expired_session_mid_journey(app, client):
    unit = free_unit(app)
    before = counts(app, unit)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    age_sessions(app, "resident", seen_seconds_ago=app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    response = client.post(f"/fi/choose/{unit}/confirm", data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("/fi/identify")
    assert "istunto" in main_text(client.get("/fi/identify")).lower()
    assert counts(app, unit) == before
    # Identifying again returns to the choice step.
    assert sign_in(client, "aino").headers["Location"].endswith(f"/fi/choose/{unit}")


def test_henkilotunnus_never_in_pages_urls_or_logs(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    unit = free_unit(app)
    for p in tp.test_persons(helsinki_today()):
        client.post("/fi/identify/sign-out", data={})
        for lang in ("fi", "sv"):
            pages = [client.get(f"/{lang}/identify/test"), sign_in(client, p.slug, lang),
                     client.get(f"/{lang}/choose/{unit}"), client.get(f"/{lang}/my-choices")]
            for r in pages:
                seen.append(r.get_data(as_text=True))
                seen.append(r.headers.get("Location", ""))
                seen.append(r.headers.get("Set-Cookie", ""))
    sign_in(client, "aino")
    r = client.post(f"/fi/choose/{unit}/confirm", data=confirm_form(client, "fi", unit))
    seen += [r.headers["Location"], client.get(r.headers["Location"]).get_data(as_text=True)]
    everything = "\n".join(seen) + "\n" + caplog.text
    with app.app_context():
        stored = repr(db.session().execute(select(AuditEvent.before, AuditEvent.after, AuditEvent.reasons)).all())
        keys = db.session().scalars(select(Resident.key)).all()
    for p in tp.test_persons(helsinki_today()):
        assert p.hetu not in everything and p.hetu not in stored
        assert p.hetu[7:] not in everything  # not even the individual number with the check character
        assert p.masked in everything  # the masked form is what the test page shows
        assert all(p.hetu not in k for k in keys)


def test_choice_submission_is_rate_limited(make_app):
    app = make_app("sqlite", RATE_LIMIT_ENABLED=True)
    client = app.test_client()
    unit = free_unit(app, "tampere")  # refused (not resident): nothing is ever created
    sign_in(client, "aino")
    page = client.get(f"/fi/choose/{free_unit(app)}/confirm")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "request_token": "forged"}
    statuses = [client.post(f"/fi/choose/{unit}/confirm", data=data).status_code for _ in range(6)]
    assert statuses[:5] == [400] * 5 and statuses[5] == 429
    text = main_text(client.post(f"/fi/choose/{unit}/confirm", data=data))
    assert "Odota hetki" in text or "Odota minuutti" in text


def test_identification_is_rate_limited(make_app):
    app = make_app("sqlite", RATE_LIMIT_ENABLED=True)
    client = app.test_client()
    page = client.get("/sv/identify/test")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)), "person": "nobody"}
    statuses = [client.post("/sv/identify/test", data=data).status_code for _ in range(11)]
    assert statuses[:10] == [400] * 10 and statuses[10] == 429
    assert "Vänta en minut" in main_text(client.post("/sv/identify/test", data=data))


def test_choice_pages_have_security_headers_and_no_store(app, client):
    sign_in(client, "aino")
    for path in (f"/fi/choose/{free_unit(app)}", "/fi/my-choices", "/sv/identify/test"):
        response = client.get(path)
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"


def test_last_place_taken_between_confirm_and_submit(app, client):
    unit = free_unit(app)
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit)
    with app.app_context():  # someone else takes the last place meanwhile
        sess = db.session()
        sess.execute(Unit.__table__.update().where(Unit.__table__.c.id == unit)
                     .values(capacity=Unit.__table__.c.listed_count))
        sess.commit()
    before = counts(app, unit)
    response = client.post(f"/fi/choose/{unit}/confirm", data=form)
    assert response.status_code == 409
    assert "Toimipiste on täynnä" in main_text(response)
    assert counts(app, unit) == before


def test_pending_choice_blocks_another_and_is_explained(app, client):
    sign_in(client, "pekka")
    text = main_text(client.get(f"/fi/choose/{free_unit(app, element='oral_health')}"))
    assert "Sinulla on jo valinta, joka tulee voimaan" in text
    assert long(next_month_start(), "fi") in text


def test_register_and_cancel_on_both_databases(any_app):
    app = any_app
    client = app.test_client()
    unit = free_unit(app)
    before = counts(app, unit)
    sign_in(client, "astrid", "sv")
    done = client.post(f"/sv/choose/{unit}/confirm", data=confirm_form(client, "sv", unit))
    assert done.status_code == 303
    ref = done.headers["Location"].rsplit("/", 1)[1]
    assert counts(app, unit) == (before[0] + 1, before[1] + 1)
    page = client.get(f"/sv/my-choices/{ref}/cancel")
    assert "Annullera ditt val" in main_text(page)
    out = client.post(f"/sv/my-choices/{ref}/cancel", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert out.status_code == 303
    assert counts(app, unit) == (before[0] + 1, before[1])
    assert "Ditt val har annullerats" in main_text(client.get("/sv/my-choices"))
