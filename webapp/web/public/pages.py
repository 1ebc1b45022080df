"""Home, about, accessibility statement, and the language redirect at /."""
from __future__ import annotations

from datetime import date

from flask import current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import Form, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from webapp.core.collation import collation_key
from webapp.models import Municipality, PilotMunicipality
from webapp.units import vocab
from webapp.web import db
from webapp.web.i18n import current_lang, preferred_lang
from webapp.web.page_cache import cached_page, whole_index
from webapp.web.public.blueprint import bp
from webapp.web.public.pilots import GRANTED_SLUGS, all_unit_counts, pilots_with_elements

STATEMENT_PREPARED_ON = date(2026, 11, 24)
RADIUS_CHOICES = ("2", "5", "10", "20", "50")


def _root() -> ResponseReturnValue:
    return redirect(url_for("public.home", lang=preferred_lang()), code=302)


@bp.record_once
def _add_root(state) -> None:  # noqa: ANN001
    state.app.add_url_rule("/", "root", _root)


@bp.context_processor
def _vocabularies() -> dict:
    """vocab_label('SERVICES', code) etc. for the public templates."""
    def vocab_label(name: str, code: str) -> str:
        return vocab.label(getattr(vocab, name), code)
    return {"vocab_label": vocab_label}


class HomeSearchForm(Form):
    """The home page's search; a GET form to public.search (no CSRF: it changes nothing)."""

    q = StringField(_l("Search words"))
    municipality = SelectField(_l("Municipality"), validate_choice=False)
    postcode = StringField(_l("Postcode"), render_kw={"inputmode": "numeric", "autocomplete": "postal-code",
                                                      "maxlength": "5", "class": "input-short"})
    radius_km = SelectField(_l("Distance from the postcode"), default="10", validate_choice=False)
    element = RadioField(_l("What are you looking for?"), default="", validate_choice=False)


def home_search_form() -> HomeSearchForm:
    lang = current_lang()
    form = HomeSearchForm()
    codes = db.session().scalars(select(PilotMunicipality.municipality_code).distinct()).all()
    munis = db.session().scalars(select(Municipality).where(Municipality.code.in_(codes))).all()
    form.municipality.choices = [SelectChoice("", _l("Any municipality"))] + [
        SelectChoice(m.code, m.name(lang)) for m in sorted(munis, key=lambda m: collation_key(m.name(lang)))]
    form.radius_km.choices = [SelectChoice(r, _l("%(km)s km", km=r)) for r in RADIUS_CHOICES]
    form.element.choices = [SelectChoice("", _l("Anything"))] + [SelectChoice(code, label)
                                                                 for code, label in vocab.ELEMENTS.items()]
    return form


@bp.get("/")
@cached_page(whole_index)
def home() -> ResponseReturnValue:
    lang = current_lang()
    pilots = sorted(pilots_with_elements(), key=lambda p: collation_key(p.name(lang)))
    counts = all_unit_counts()
    return render_template("public/home.html", pilots=pilots, form=home_search_form(),
                           counts={p.id: counts.get(p.id, {}) for p in pilots}, granted_slugs=GRANTED_SLUGS)


@bp.get("/about")
def about() -> ResponseReturnValue:
    return render_template("public/about.html", data_date=date(2024, 4, 13), d_2016=date(2016, 10, 17),
                           d_2017=date(2017, 5, 22))


@bp.get("/accessibility")
def accessibility() -> ResponseReturnValue:
    return render_template("public/accessibility.html", app_env=current_app.config["APP_ENV"],
                           prepared_on=STATEMENT_PREPARED_ON)
