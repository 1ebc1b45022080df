"""The search page (GET /<lang>/search) and the compare page (GET /<lang>/compare)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from markupsafe import Markup

from webapp.core.lru import LRU
from webapp.core.validation import is_whole_number
from webapp.models import Municipality
from webapp.search import Card, Hit, Reference, SearchParams
from webapp.units import vocab
from webapp.units.vocab import (
    ACCESSIBILITY_FACTS,
    ELEMENTS,
    PROFESSIONS,
    SECTORS,
    SERVICE_LANGUAGES,
    SERVICES,
    WEEKDAYS,
    label,
)
from webapp.web import db
from webapp.web.i18n import current_lang, fmt_date, fmt_km
from webapp.web.page_cache import cached_page, compared_units, whole_index
from webapp.web.public.blueprint import bp
from webapp.web.public.comparison import fmt_clock, hours_summary, load_units, postcode_names, professions_for
from webapp.web.public.profiles import assessments_for, chosen_profiles, remember_profiles, remembered_profiles
from webapp.web.public.search_filters import build_filters, vocabulary_labels
from webapp.web.search_params import FIELD_LABELS, SORT_LABELS, ParamError, parse_params

MAX_COMPARE = 4
CARD_CACHE_SIZE = 20_000  # rendered cards (both languages); about 1.5 KB each


def _filter_label(parameter: str, value: str, ref: Reference) -> str:
    field = str(FIELD_LABELS[parameter])
    if parameter in ("service", "language", "feature", "sector", "profile"):
        return f"{field}: {vocabulary_labels(ref.lang)[parameter].get(value, value)}"
    if parameter == "element":
        return f"{field}: {label(ELEMENTS, value)}"
    if parameter == "pilot":
        return f"{field}: {ref.pilot_names.get(value, value)}"
    if parameter == "municipality":
        return f"{field}: {ref.municipality_names.get(value) or municipality_name(value)}"
    if parameter in ("accepting", "profile_only"):
        return field
    if parameter == "q":
        return f"{field}: “{value}”"
    return f"{field}: {value}"


def municipality_name(code: str) -> str:
    muni = db.session().get(Municipality, code)
    return muni.name(current_lang()) if muni else code


def search_url(params: SearchParams, **changes: Any) -> str:
    pairs = params.query_pairs(**changes)
    base = url_for("public.search")
    return f"{base}?{urlencode(pairs)}" if pairs else base


@dataclass
class CardTexts:
    """A card's fixed texts in one language, translated once per process (cards are rendered often)."""
    unit_url: str  # the unit page's address without the id
    demo: str
    type: str
    provider: str
    address: str
    service_languages: str
    new_customers: str
    full: str
    not_accepting: str
    accepting: str
    queue_first: str
    compare: str
    not_measured: str
    not_given: str
    days: str       # "%(days)s days"
    measured: str   # "measured %(date)s"
    wait_for: dict[str, str]
    element: dict[str, str]
    sector: dict[str, str]
    language: dict[str, str]
    date: Callable[[date], str]


_texts: dict[str, CardTexts] = {}


def card_texts(lang: str, unit_url: str) -> CardTexts:
    """The card texts in `lang` (call in a request in that language)."""
    texts = _texts.get(lang)
    if texts is None or texts.unit_url != unit_url:
        labels = vocabulary_labels(lang)
        dates: dict[date, str] = {}

        def formatted(day: date) -> str:
            if day not in dates:
                dates[day] = fmt_date(day)
            return dates[day]

        texts = CardTexts(
            unit_url=unit_url, demo=_("Demo data"), type=_("Type"), provider=_("Provider"), address=_("Address"),
            service_languages=_("Service languages"), new_customers=_("New customers"), full=_("Full"),
            not_accepting=_("Not accepting new customers"), accepting=_("Accepting new customers"),
            queue_first=_("Free places go to those in the queue"),
            compare=_("Compare"), not_measured=_("Not measured"), not_given=_("Not given"),
            days=_("%(days)s days"), measured=_("measured %(date)s"),
            wait_for={p: _("Wait for %(profession)s (T3)", profession=label.lower())
                      for p, label in labels["profession"].items()},
            element=labels["element"], sector=labels["sector"], language=labels["language"], date=formatted)
        _texts[lang] = texts
    return texts


def _card_renderer(lang: str) -> Callable[[Card], str]:
    template = current_app.jinja_env.get_template("search/_card.html")
    unit_url = url_for("public.unit", unit_id=0).removesuffix("0")
    texts = card_texts(lang, unit_url)
    return lambda card: template.render(c=card, t=texts, lang=lang)


def _distance_renderer(postcode: str | None):  # noqa: ANN202
    """Per hit, its distance from the searched postcode (the labels translated once per page)."""
    label, origin = _("Distance"), _("from postcode %(code)s", code=postcode)

    def render(hit: Hit) -> Markup:
        if hit.distance_km is None:
            return Markup("")
        return Markup("<dt>%s</dt><dd>%s %s</dd>") % (label, fmt_km(hit.distance_km), origin)
    return render


def vocab_label(name: str, code: str) -> str:
    return vocab.label(getattr(vocab, name), code)


_rendered: LRU = LRU(CARD_CACHE_SIZE)  # (lang, id(card)) -> (card, its HTML)


def rendered(card: Card, lang: str, render: Callable[[Card], str]) -> Markup:
    """The card's HTML in `lang`, rendered once per card and language."""
    key = (lang, id(card))
    found = _rendered.get(key)
    if found is None or found[0] is not card:  # (an id can be reused once its card is gone)
        found = (card, Markup(render(card)))
        _rendered.put(key, found)
    return found[1]


_fits = LRU(2_000)  # rendered profile fits by (language, assessments): few distinct ones


def _fit_renderer(lang: str, profiles: tuple[str, ...]):  # noqa: ANN202
    """Per hit, what the chosen profiles lack (templates/_accessibility.html), or nothing."""
    if not profiles:
        return lambda hit: Markup("")

    def render(hit: Hit) -> Markup:
        key = (lang, tuple(assessments_for(hit.card.accessibility, profiles)))
        html = _fits.get(key)
        if html is None:
            macro = current_app.jinja_env.get_template("_accessibility.html").module.profile_fit  # type: ignore[attr-defined]
            html = Markup(macro(list(key[1]), vocab_label))
            _fits.put(key, html)
        return html
    return render


@bp.get("/search")
@cached_page(whole_index)
def search() -> ResponseReturnValue:
    if "profile" not in request.args and remembered_profiles():
        # The profiles chosen earlier in this visit, put in the address so that a shared link keeps them.
        pairs = [(k, v) for k, vs in request.args.lists() for v in vs]
        pairs += [("profile", p) for p in remembered_profiles()]
        return redirect(f"{url_for('public.search')}?{urlencode(pairs)}", code=303)
    sess = db.session()
    lang = current_lang()
    search_index = current_app.extensions["search"]
    ref = search_index.reference.reference(sess, lang)
    params, errors = parse_params(request.args, search_index.reference.known(sess))
    if params.profiles_given and not any(e.parameter == "profile" for e in errors):
        remember_profiles(params.profiles)
    result = None
    relax: list[tuple[str, str]] = []
    if not errors:
        result = search_index.search(sess, params, lang=lang)
        if params.page > result.pages and result.total:
            errors.append(ParamError("page", _("There is no page %(page)s. The last page is %(last)s.",
                                               page=params.page, last=result.pages)))
            result = None
    if result is not None and not result.total:
        relax = [(_filter_label(p, v, ref), search_url(params.without(p, v))) for p, v in params.active_filters]
    form = build_filters(request.args, params, result.facets if result else {}, ref, errors)
    page_numbers = _page_window(params.page, result.pages) if result else []
    render_card = _card_renderer(lang)

    fit_html = _fit_renderer(lang, params.profiles)
    distance_html = _distance_renderer(params.postcode)

    def card_html(hit: Hit) -> Markup:
        html = rendered(hit.card, lang, render_card)
        html = html.replace("<!--DISTANCE-->", distance_html(hit), 1)
        return Markup(html.replace("<!--FIT-->", fit_html(hit), 1))

    status = 400 if errors else 200
    return render_template(
        "search/search.html", form=form, params=params, result=result, errors=errors, relax=relax,
        page_numbers=page_numbers, search_url=search_url, max_compare=MAX_COMPARE, card_html=card_html,
        SORT_LABELS=SORT_LABELS, map_tile_url=current_app.config.get("MAP_TILE_URL"),
        map_attribution=current_app.config.get("MAP_ATTRIBUTION", ""),
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
@cached_page(compared_units)
def compare() -> ResponseReturnValue:
    sess = db.session()
    back = back_to_search_url()
    try:
        ids = compare_ids(request.args.getlist("unit"))
        units = load_units(sess, ids)
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
