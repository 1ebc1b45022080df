"""App factory, configuration, languages and translations."""
from __future__ import annotations

import pytest

from webapp.core.catalogs import untranslated
from webapp.core.config import ConfigError, load_settings


def test_production_refuses_without_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "", "DATABASE_URL": "postgresql://x@h/db"})


def test_production_refuses_sqlite():
    with pytest.raises(ConfigError, match="PostgreSQL"):
        load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "DATABASE_URL": "sqlite:///x.db",
                       "RESIDENT_KEY_SECRET": "y" * 40})


def test_production_settings_are_secure():
    s = load_settings({"APP_ENV": "production", "SECRET_KEY": "x" * 40, "RESIDENT_KEY_SECRET": "y" * 40,
                       "DATABASE_URL": "postgresql://u@h/db"}).to_flask()
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert s["TEST_IDENTIFICATION"] is False


@pytest.mark.parametrize("env", ["prod", "Production", "staging"])
def test_unknown_app_env_is_refused(env):
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": env})


@pytest.mark.parametrize("header, expected", [("sv-FI,sv;q=0.9", "/sv/"), ("fi", "/fi/"), ("en-GB", "/en/"),
                                              ("de-DE", "/fi/"), (None, "/fi/")])
def test_root_redirects_to_preferred_language(client, header, expected):
    headers = {"Accept-Language": header} if header else {}
    response = client.get("/", headers=headers)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(expected)


def test_pages_carry_lang_and_alternates(client):
    html = client.get("/sv/").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert 'hreflang="fi" href="/fi/"' in html
    assert 'hreflang="sv" href="/sv/"' in html
    assert 'hreflang="en" href="/en/"' in html


def test_language_switch_keeps_path_and_query(client):
    html = client.get("/fi/search?q=hammas&service=dentist&service=dental_check").get_data(as_text=True)
    assert 'class="lang-switch" href="/sv/search?q=hammas&amp;service=dentist&amp;service=dental_check"' in html
    assert 'class="lang-switch" href="/en/search?q=hammas&amp;service=dentist&amp;service=dental_check"' in html


def test_english_pages_switch_to_finnish_and_swedish_keeping_the_state(client):
    html = client.get("/en/search?q=hammas&profile=wheelchair").get_data(as_text=True)
    assert '<html lang="en">' in html
    switch = 'class="lang-switch" href="/{0}/search?q=hammas&amp;profile=wheelchair" hreflang="{0}" lang="{0}">'
    assert switch.format("fi") + "Suomeksi" in html
    assert switch.format("sv") + "På svenska" in html
    assert 'hreflang="en" href="/en/search?q=hammas&amp;profile=wheelchair"' in html
    assert "Wheelchair user" in html and "Search units" in html
    # from the English catalogue, not the msgid
    assert "or a service in Finnish or Swedish, such as “hammaslääkäri”." in html


def test_english_dates_and_numbers_are_british_by_babel(app):
    from datetime import date

    from flask import g

    from webapp.web.i18n import fmt_date, fmt_number
    for lang, day, number in (("en", "30 Nov 2026", "12,345.6"), ("fi", "30.11.2026", "12\u00a0345,6"),
                              ("sv", "30 nov. 2026", "12\u00a0345,6")):
        with app.test_request_context(f"/{lang}/"):
            g.lang = lang
            assert fmt_date(date(2026, 11, 30)) == day
            assert fmt_number(12345.6, 1) == number


def test_data_without_english_falls_back_to_finnish_marked_lang_fi(app, client):
    from sqlalchemy import select

    from webapp.models import Unit
    from webapp.web import db
    with app.app_context():
        unit = db.session().scalar(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(1))
        name_fi = unit.name_fi
    html = client.get(f"/en/units/{unit.id}").get_data(as_text=True)
    assert f'<span lang="fi">{name_fi}</span>' in html
    assert '<html lang="en">' in html


def test_unknown_language_prefix_is_404_in_preferred_language(client):
    response = client.get("/de/search", headers={"Accept-Language": "sv"})
    assert response.status_code == 404
    assert '<html lang="sv">' in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/fi/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_every_message_has_finnish_swedish_and_english_translation():
    from webapp.core.catalogs import LOCALES
    assert LOCALES == ("fi", "sv", "en")
    missing = untranslated()
    assert not missing, "untranslated messages:\n" + "\n".join(missing[:50])


def test_hsts_only_over_https(make_app):
    app = make_app(TRUSTED_PROXIES=1)
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/fi/").headers
    secure = client.get("/fi/", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("lang, text", [("fi", "Jokin meni vikaan"), ("sv", "Något gick fel")])
def test_unexpected_error_is_a_500_page_in_the_visitors_language_without_details(make_app, lang, text, caplog):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get(f"/{lang}/boom")
    def boom():
        raise RuntimeError("secret internal detail 010190-900X")

    response = app.test_client().get(f"/{lang}/boom")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert f'<html lang="{lang}">' in html and text in html
    assert "secret internal detail" not in html and "Traceback" not in html
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "secret internal detail" in logged, "the error itself is logged for the operators"
    assert "010190-900X" not in logged, "but never a henkilötunnus"


def test_unexpected_api_error_is_json(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("internal")

    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500 and response.json["error"]["status"] == 500


def test_apply_translations_takes_triples_pairs_and_none(tmp_path, monkeypatch):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from webapp.core import catalogs as cat
    monkeypatch.setattr(cat, "TRANSLATIONS", tmp_path)
    for locale in cat.LOCALES:
        catalog = Catalog(locale=locale, domain="messages")
        catalog.add("Lift")
        catalog.add("Door")
        catalog.add(("%(num)s need", "%(num)s needs"))
        cat.po_path(locale, "messages").parent.mkdir(parents=True)
        with cat.po_path(locale, "messages").open("wb") as fh:
            write_po(fh, catalog)
    cat.apply_translations("messages", {"Lift": ("Hissi", "Hiss", "Lift"), "Door": ("Ovi", "Dörr"),
                                        "%(num)s need": (("%(num)s tarve", "%(num)s tarvetta"), None,
                                                         ("%(num)s need", "%(num)s needs"))})
    fi, sv, en = (cat.read(locale, "messages") for locale in cat.LOCALES)
    assert (fi.get("Lift").string, sv.get("Lift").string, en.get("Lift").string) == ("Hissi", "Hiss", "Lift")
    assert (fi.get("Door").string, sv.get("Door").string, en.get("Door").string) == ("Ovi", "Dörr", "")
    assert fi.get("%(num)s need").string == ("%(num)s tarve", "%(num)s tarvetta")
    assert not any(sv.get("%(num)s need").string)  # None: left as it was


@pytest.mark.parametrize("path", ["/en/my-choices", "/en/messages", "/en/identify", "/en/staff/sign-in",
                                  "/sv/messages"])
def test_private_pages_are_not_stored_in_any_language(client, path):
    assert client.get(path).headers.get("Cache-Control") == "no-store"
