"""The search page (GET /<lang>/search) and the compare page (GET /<lang>/compare)."""
from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

from flask import current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, SearchField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from webapp import db
from webapp.collation import collation_key
from webapp.validation import is_whole_number
from webapp.i18n import current_lang
from webapp.models import Municipality, Pilot, PilotMunicipality
from webapp.public import bp
from webapp.public.profiles import assessments_for, chosen_profiles, remember_profiles, remembered_profiles
from webapp.search import (FIELD_LABELS, SORT_LABELS, SORTS, known_from_db, parse_params, run_search)
from webapp.search.params import MAX_Q, ParamError, SearchParams
from webapp.search.units import (fmt_clock, hours_summary, latest_t3, load_units, postcode_names,
                                 professions_for)
from webapp.vocab import (ACCESSIBILITY_FACTS, ACCESSIBILITY_PROFILES, ELEMENTS, FEATURES, PROFESSIONS, SECTORS, SERVICE_LANGUAGES, SERVICES, WEEKDAYS,
                          label)

MAX_COMPARE = 4


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SearchForm(FlaskForm):
    """Only for rendering: validation is done by webapp.search.parse_params (shared with the API)."""

    class Meta:
        csrf = False

    q = SearchField(FIELD_LABELS["q"], render_kw={"maxlength": MAX_Q, "autocomplete": "off"})
    pilot = SelectField(FIELD_LABELS["pilot"], validate_choice=False)
    element = SelectField(FIELD_LABELS["element"], validate_choice=False)
    municipality = SelectField(FIELD_LABELS["municipality"], validate_choice=False)
    postcode = StringField(FIELD_LABELS["postcode"], render_kw={"inputmode": "numeric", "autocomplete": "postal-code",
                                                                "maxlength": 5, "class": "input-short"})
    radius_km = StringField(FIELD_LABELS["radius_km"], render_kw={"inputmode": "decimal", "class": "input-short"})
    service = MultiCheckboxField(FIELD_LABELS["service"], validate_choice=False)
    max_t3_doctor = StringField(FIELD_LABELS["max_t3_doctor"], render_kw={"inputmode": "numeric", "class": "input-short"})
    max_t3_nurse = StringField(FIELD_LABELS["max_t3_nurse"], render_kw={"inputmode": "numeric", "class": "input-short"})
    language = MultiCheckboxField(FIELD_LABELS["language"], validate_choice=False)
    feature = MultiCheckboxField(FIELD_LABELS["feature"], validate_choice=False)
    sector = MultiCheckboxField(FIELD_LABELS["sector"], validate_choice=False)
    profile = MultiCheckboxField(FIELD_LABELS["profile"], validate_choice=False)
    profile_only = BooleanField(FIELD_LABELS["profile_only"])
    accepting = BooleanField(FIELD_LABELS["accepting"])
    sort = SelectField(FIELD_LABELS["sort"], validate_choice=False)


class ErrorView:
    """What templates/_forms.html error_summary needs: `errors` and form[name] with id and label."""

    def __init__(self, form: SearchForm, errors: list[ParamError]):
        self.form = form
        self.errors = {e.parameter: [e.detail] for e in errors}

    def __getitem__(self, name: str):
        if name in self.form:
            return self.form[name]
        return SimpleNamespace(id="filters-heading", label=SimpleNamespace(text=str(FIELD_LABELS.get(name, name))))


def vocab_labels() -> dict[str, dict[str, str]]:
    """The vocabulary labels in the current language, translated once per request."""
    return {"element": {c: str(v) for c, v in ELEMENTS.items()}, "sector": {c: str(v) for c, v in SECTORS.items()},
            "profession": {c: str(v) for c, v in PROFESSIONS.items()},
            "language": {c: str(v) for c, v in SERVICE_LANGUAGES.items()}}


def _counted(text: str, count: int | None) -> str:
    return text if count is None else f"{text} ({count})"


def _fill_choices(form: SearchForm, params: SearchParams, facets: dict[str, dict[str, int]], lang: str) -> None:
    sess = db.session()
    has_facets = bool(facets)

    def count(group: str, value: str) -> int | None:
        return facets.get(group, {}).get(value, 0) if has_facets else None

    pilots = sorted(sess.scalars(select(Pilot)), key=lambda p: collation_key(p.name(lang)))
    form.pilot.choices = [("", _("All pilots"))] + [(p.slug, _counted(p.name(lang), count("pilot", p.slug))) for p in pilots]
    form.element.choices = [("", _("All types"))] + [(c, _counted(str(v), count("element", c))) for c, v in ELEMENTS.items()]
    munis = list(sess.scalars(select(Municipality).where(
        Municipality.code.in_(select(PilotMunicipality.municipality_code)))))
    munis.sort(key=lambda m: collation_key(m.name(lang)))
    form.municipality.choices = [("", _("All municipalities"))] + [
        (m.code, _counted(m.name(lang), count("municipality", m.code))) for m in munis
        if not has_facets or count("municipality", m.code) or m.code == params.municipality]

    def multi(group: str, vocab: dict, selected: tuple[str, ...]) -> list[tuple[str, str]]:
        return [(c, _counted(str(v), count(group, c))) for c, v in vocab.items()
                if not has_facets or count(group, c) or c in selected]

    form.service.choices = multi("service", SERVICES, params.services)
    form.language.choices = multi("language", SERVICE_LANGUAGES, params.languages)
    form.feature.choices = multi("feature", FEATURES, params.features)
    form.sector.choices = multi("sector", SECTORS, params.sectors)
    form.profile.choices = [(c, str(v)) for c, v in ACCESSIBILITY_PROFILES.items()]
    form.sort.choices = [(s, str(SORT_LABELS[s])) for s in SORTS if s != "distance" or params.postcode]
    if params.sort in dict(form.sort.choices):
        form.sort.data = params.sort
    form.accepting.label.text = _counted(str(FIELD_LABELS["accepting"]), count("accepting", "1"))


def _filter_label(parameter: str, value: str, sess) -> str:  # noqa: ANN001
    field = str(FIELD_LABELS[parameter])
    if parameter in ("service", "language", "feature", "sector", "profile"):
        vocab = {"service": SERVICES, "language": SERVICE_LANGUAGES, "feature": FEATURES, "sector": SECTORS,
                 "profile": ACCESSIBILITY_PROFILES}[parameter]
        return f"{field}: {label(vocab, value)}"
    if parameter == "element":
        return f"{field}: {label(ELEMENTS, value)}"
    if parameter == "pilot":
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == value))
        return f"{field}: {pilot.name(current_lang()) if pilot else value}"
    if parameter == "municipality":
        muni = sess.get(Municipality, value)
        return f"{field}: {muni.name(current_lang()) if muni else value}"
    if parameter in ("accepting", "profile_only"):
        return field
    if parameter == "q":
        return f"{field}: “{value}”"
    return f"{field}: {value}"


def search_url(params: SearchParams, **changes) -> str:
    pairs = params.query_pairs(**changes)
    base = url_for("public.search")
    return f"{base}?{urlencode(pairs)}" if pairs else base


@bp.get("/search")
def search():
    if "profile" not in request.args and remembered_profiles():
        # The profiles chosen earlier in this visit, put in the address so that a shared link keeps them.
        pairs = [(k, v) for k, vs in request.args.lists() for v in vs]
        pairs += [("profile", p) for p in remembered_profiles()]
        return redirect(f"{url_for('public.search')}?{urlencode(pairs)}", code=303)
    sess = db.session()
    lang = current_lang()
    params, errors = parse_params(request.args, known_from_db(sess))
    if params.profiles_given and not any(e.parameter == "profile" for e in errors):
        remember_profiles(params.profiles)
    form = SearchForm(formdata=request.args)
    result = None
    units: dict = {}
    latest: dict = {}
    postcodes: dict = {}
    relax: list[tuple[str, str]] = []
    if not errors:
        result = run_search(sess, current_app.config["INDEX_DIR"], params, lang=lang)
        if params.page > result.pages and result.total:
            errors.append(ParamError("page", _("There is no page %(page)s. The last page is %(last)s.",
                                               page=params.page, last=result.pages)))
            result = None
    if result is not None:
        units = load_units(sess, [h.id for h in result.hits])
        latest = latest_t3(sess, units)
        postcodes = postcode_names(sess, [u.postcode for u in units.values()])
        if not result.total:
            relax = [(_filter_label(p, v, sess), search_url(params.without(p, v)))
                     for p, v in params.active_filters]
    for e in errors:
        if e.parameter in form:
            form[e.parameter].errors = [e.detail]
    _fill_choices(form, params, result.facets if result else {}, lang)
    page_numbers = _page_window(params.page, result.pages) if result else []
    fits = {h.id: assessments_for(h.facts or {}, params.profiles) for h in result.hits} if result else {}
    status = 400 if errors else 200
    return render_template(
        "search/search.html", form=form, params=params, result=result, units=units, postcodes=postcodes,
        latest=latest, labels=vocab_labels(), fits=fits,
        map_tile_url=current_app.config.get("MAP_TILE_URL"), map_attribution=current_app.config.get("MAP_ATTRIBUTION", ""),
        errors=errors, error_view=ErrorView(form, errors), relax=relax, page_numbers=page_numbers,
        search_url=search_url, max_compare=MAX_COMPARE, professions_for=professions_for, PROFESSIONS=PROFESSIONS,
        ELEMENTS=ELEMENTS, SECTORS=SECTORS, SERVICE_LANGUAGES=SERVICE_LANGUAGES, label=label, SORT_LABELS=SORT_LABELS,
    ), status


def _page_window(page: int, pages: int) -> list[int | None]:
    """Page numbers to link: first, last and two around the current one; None marks a gap."""
    wanted = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int | None] = []
    for n in wanted:
        if out and out[-1] is not None and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out


# ---------------------------------------------------------------- compare

class CompareError(Exception):
    def __init__(self, message: str, code: int = 400):
        super().__init__(message)
        self.message, self.code = message, code


def compare_ids(values: list[str]) -> list[int]:
    """Unit ids from the query string, in order, without duplicates; raises CompareError."""
    ids: list[int] = []
    for raw in values:
        raw = raw.strip()
        if not is_whole_number(raw):
            shown = raw if len(raw) <= 20 else raw[:20] + "…"
            raise CompareError(_("“%(value)s” is not a unit number.", value=shown))
        if int(raw) not in ids:
            ids.append(int(raw))
    if len(ids) < 2:
        raise CompareError(_("Choose at least two units to compare. You chose %(count)s.", count=len(ids)))
    if len(ids) > MAX_COMPARE:
        raise CompareError(_("You can compare at most %(max)s units at a time. You chose %(count)s. "
                             "Go back and clear some of the choices.", max=MAX_COMPARE, count=len(ids)))
    return ids


def back_to_search_url() -> str:
    """The search the visitor came from (the compare form carries its query string as `back`)."""
    raw = request.args.get("back", "")[:2000]
    pairs = [(k, v) for k, v in parse_qsl(raw, keep_blank_values=False) if k in FIELD_LABELS and k != "lang"]
    base = url_for("public.search")
    return f"{base}?{urlencode(pairs)}" if pairs else base


@bp.get("/compare")
def compare():
    sess = db.session()
    back = back_to_search_url()
    try:
        ids = compare_ids(request.args.getlist("unit"))
        units = load_units(sess, ids, full=True)
        missing = [i for i in ids if i not in units]
        if missing:
            raise CompareError(_("No unit has the number %(ids)s. It may have been removed.",
                                 ids=", ".join(str(i) for i in missing)), 404)
    except CompareError as exc:
        return render_template("search/compare.html", units=[], error=exc.message, back=back), exc.code
    ordered = [units[i] for i in ids]
    postcodes = postcode_names(sess, [u.postcode for u in ordered])
    professions: list[str] = []
    for u in ordered:
        for p in professions_for(u):
            if p not in professions:
                professions.append(p)
    services = [c for c in SERVICES if any(c in u.service_codes for u in ordered)]
    profiles = chosen_profiles()
    return render_template(
        "search/compare.html", units=ordered, error=None, back=back, postcodes=postcodes, professions=professions,
        services=services, profiles=profiles, fits={u.id: assessments_for(u.accessibility, profiles) for u in ordered},
        hours_summary=hours_summary, fmt_clock=fmt_clock, WEEKDAYS=WEEKDAYS,
        PROFESSIONS=PROFESSIONS, SERVICES=SERVICES, ELEMENTS=ELEMENTS, SECTORS=SECTORS,
        SERVICE_LANGUAGES=SERVICE_LANGUAGES, ACCESSIBILITY_FACTS=ACCESSIBILITY_FACTS, label=label)
