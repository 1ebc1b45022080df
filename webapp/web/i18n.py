"""Language from the URL prefix (/fi/, /sv/, /en/), Babel formatting, and helpers for data fields in
Finnish and Swedish (and, for a few fields, English) with a marked fallback."""
from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import flask_babel
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal as babel_format_decimal
from flask import Flask, g, has_app_context, has_request_context, request, url_for
from flask_babel import Babel, Domain, format_decimal, get_locale
from markupsafe import Markup, escape

from webapp.core import translation
from webapp.units.vocab import LANGS

LANGUAGE_NAMES = {"fi": "Suomeksi", "sv": "På svenska", "en": "In English"}
LANGUAGE_SELF_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
# Babel locale per site language: British English for dates and numbers.
BABEL_LOCALES = {"fi": "fi", "sv": "sv", "en": "en_GB"}
# Where data in one language falls back to: Swedish and English to Finnish, Finnish to Swedish.
FALLBACK = {"fi": "sv", "sv": "fi", "en": "fi"}


_dates: dict = {}


class CachedDomain(Domain):
    """Flask-Babel's domain with the merged catalogue kept per locale.

    Flask-Babel looks the catalogue up again on every gettext call (the locale's identifier is rebuilt
    each time), which costs about as much as rendering a line of a template; pages make dozens of calls.
    The locale still comes from the request (and follows force_locale)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._by_locale: dict = {}

    def get_translations(self):  # noqa: ANN201
        locale = _locale_of_context()
        if locale is None:
            return super().get_translations()
        key = _locale_key(locale)
        found = self._by_locale.get(key)
        if found is None:
            found = self._by_locale[key] = super().get_translations()
        return found


def _locale_of_context():  # noqa: ANN202
    """The locale Flask-Babel chose for this request (None before it has chosen one)."""
    ctx = g.get("_flask_babel") if has_app_context() else None
    return getattr(ctx, "babel_locale", None)


def _locale_key(locale) -> tuple:  # noqa: ANN001
    return (locale.language, locale.territory, locale.script, locale.variant)


def preferred_lang() -> str:
    """The browser's preferred site language; Finnish by default."""
    if not has_request_context():
        return "fi"
    return request.accept_languages.best_match(LANGS, default="fi") or "fi"


def current_lang() -> str:
    return g.get("lang") or preferred_lang()


def _select_locale() -> str:
    return BABEL_LOCALES.get(current_lang(), "fi")


class FlaskBabelTranslator:
    """The domain's translation seam (webapp.core.translation) answered by Flask-Babel and this module."""

    def gettext(self, message: str, **variables: Any) -> str:
        return flask_babel.gettext(message, **variables)

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        return flask_babel.ngettext(singular, plural, num, **variables)

    def force_locale(self, locale: str) -> Any:
        return flask_babel.force_locale(locale)

    def format_date(self, value: date, fmt: str) -> str:
        return fmt_date(value, fmt)

    def current_lang(self) -> str:
        """The language of the locale in force (force_locale included), as a site language."""
        locale = _locale_of_context() or get_locale()
        return locale.language if locale is not None and locale.language in LANGS else "fi"


def init_app(app: Flask) -> None:
    translation.install(FlaskBabelTranslator())
    babel = Babel(app, locale_selector=_select_locale)
    domain = babel.domain_instance = CachedDomain(domain=app.config["BABEL_DOMAIN"])
    # Templates translate straight through the domain (Flask-Babel's callables look the domain up each time).
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]  # added by the jinja2.ext.i18n extension
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True)

    @app.url_value_preprocessor
    def _pull_lang(_endpoint: str | None, values: dict | None) -> None:
        if values and "lang" in values:
            g.lang = values.pop("lang")

    @app.url_defaults
    def _add_lang(endpoint: str, values: dict) -> None:
        if "lang" not in values and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = current_lang()

    app.jinja_env.globals.update(
        lang_switch_url=lang_switch_url, other_lang=other_lang, other_langs=other_langs, localized=localized,
        LANGS=LANGS,
        LANGUAGE_NAMES=LANGUAGE_NAMES, LANGUAGE_SELF_NAMES=LANGUAGE_SELF_NAMES, current_lang=current_lang,
    )
    app.jinja_env.filters.update(fdate=fmt_date, fnum=fmt_number, fkm=fmt_km, feur=fmt_eur, fdatetime=fmt_datetime)


def other_lang(lang: str | None = None) -> str:
    """The language data falls back to (and the other official language)."""
    return FALLBACK.get(lang or current_lang(), "fi")


def other_langs(lang: str | None = None) -> list[str]:
    """The site's languages other than this one, in the order fi, sv, en."""
    lang = lang or current_lang()
    return [code for code in LANGS if code != lang]


def lang_switch_url(lang: str) -> str:
    """The same page, with the same query, in `lang`."""
    if request.endpoint is None or not (request.url_rule and "lang" in request.url_rule.arguments):
        return url_for("public.home", lang=lang)
    args: dict[str, Any] = dict(request.view_args or {})
    args.update(request.args.to_dict(flat=False))
    args["lang"] = lang
    return url_for(request.endpoint, **args)


def localized(obj: Any, field: str, lang: str | None = None) -> Markup:
    """The field in the page's language; if it is missing (or the field has no such language), the Finnish
    one marked lang="fi" (on Finnish pages the Swedish one, marked lang="sv")."""
    lang = lang or current_lang()
    text = getattr(obj, f"{field}_{lang}", None) or ""
    if text:
        return Markup(escape(text))
    fallback = other_lang(lang)
    text = getattr(obj, f"{field}_{fallback}", None) or ""
    if not text:
        return Markup("")
    return Markup('<span lang="%s">%s</span>') % (fallback, text)


def fmt_date(value: date | None, fmt: str = "medium") -> str:
    """A date in the page's language; formatted once per locale, date and format (Babel is slow)."""
    if value is None:
        return ""
    locale = _locale_of_context() or get_locale()
    key = (_locale_key(locale), value, fmt)
    text = _dates.get(key)
    if text is None:
        if len(_dates) > 20_000:
            _dates.clear()
        text = _dates[key] = babel_format_date(value, format=fmt, locale=str(locale or "fi"))
    return text


def fmt_datetime(value: datetime | None, fmt: str = "medium") -> str:
    """A moment in Finnish time; a naive value (SQLite) is UTC."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    locale = _locale_of_context() or get_locale()
    return babel_format_datetime(value, format=fmt, tzinfo=ZoneInfo("Europe/Helsinki"), locale=str(locale or "fi"))


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern)


def fmt_km(value: float | None) -> str:
    if value is None:
        return ""
    return _km(str(_locale_of_context() or get_locale() or "fi"), value)


@functools.lru_cache(maxsize=8192)  # a result page shows 20 distances; the same ones recur across searches
def _km(locale: str, value: float) -> str:
    return f"{babel_format_decimal(value, format='#,##0.0', locale=locale)}\u00a0km"


def fmt_eur(value: float | int | None) -> str:
    if value is None:
        return ""
    return f"{format_decimal(value, format='#,##0')}\u00a0€"
