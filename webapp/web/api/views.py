"""JSON API v1: units (search with the same parameters as the search page), one unit, pilots, OpenAPI."""
from __future__ import annotations

import re

from flask import Response, current_app, g, jsonify, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.core.validation import is_whole_number
from webapp.models import Pilot
from webapp.search import FACET_GROUPS, MAX_RADIUS_KM, Card, unit_cards
from webapp.units.accessibility import PROFILE_REQUIREMENTS, assess
from webapp.units.vocab import ACCESSIBILITY_FACTS, ELEMENTS, LANGS, label
from webapp.web import db
from webapp.web.api.blueprint import bp
from webapp.web.api.openapi import openapi_document
from webapp.web.i18n import current_lang
from webapp.web.page_cache import cached_page, one_unit, whole_index
from webapp.web.public.search_filters import vocabulary_labels
from webapp.web.search_params import ParamError, field_label, parse_params


def _error(status: int, message: str, parameter: str | None = None, errors: list[ParamError] | None = None) -> Response:
    body: dict = {"status": status, "message": message}
    if parameter:
        body["parameter"] = parameter
    if errors and len(errors) > 1:
        body["errors"] = [{"parameter": e.parameter, "message": e.message} for e in errors]
    response = jsonify({"error": body})
    response.status_code = status
    return response


def _take_lang() -> ParamError | None:
    """`lang` (fi|sv|en) picks the language of labels and messages; default from Accept-Language."""
    if "lang" not in request.args:
        return None
    raw = request.args.get("lang", "")
    if raw not in LANGS:  # also an empty lang=: the document allows only fi, sv and en
        g.lang = current_lang()
        return ParamError("lang", _("Use fi, sv or en."))
    g.lang = raw
    return None


def _coded(labels: dict[str, str], code: str) -> dict:
    """A code with its label in the current language (`labels`: vocabulary_labels(lang)[group])."""
    return {"code": code, "label": labels.get(code, code)}


def _facts_json(facts: dict[str, bool], labels: dict) -> list[dict]:
    """Every accessibility fact: true, false or null (not known)."""
    return [{**_coded(labels["fact"], c), "value": facts.get(c)} for c in ACCESSIBILITY_FACTS]


def profiles_json(facts: dict[str, bool], profiles: tuple[str, ...], labels: dict) -> list[dict]:
    """Per profile, what is missing (known to be absent) and what is not known."""
    return [{"profile": _coded(labels["profile"], a.profile), "meets": a.meets,
             "missing": [{**_coded(labels["fact"], c), "text": labels["fact_missing"].get(c, c)} for c in a.missing],
             "not_known": [_coded(labels["fact"], c) for c in a.unknown]}
            for a in assess(facts, profiles)]


def _unit_url(lang: str, unit_id: int) -> str:
    """The unit page's address; url_for once per response and language, not once per item."""
    prefixes = g.setdefault("unit_url_prefixes", {})
    if lang not in prefixes:
        prefixes[lang] = url_for("public.unit", unit_id=0, lang=lang, _external=True).removesuffix("0")
    return f"{prefixes[lang]}{unit_id}"


def unit_json(card: Card, distance_km: float | None = None, with_distance: bool = False,
              profiles: tuple[str, ...] = ()) -> dict:
    """A unit as the API shows it, from its stored card (webapp.search.cards)."""
    labels = vocabulary_labels(current_lang())
    item = {
        "id": card.id,
        "name": {"fi": card.name_fi, "sv": card.name_sv or None},
        "element": _coded(labels["element"], card.element),
        "pilot": {"slug": card.pilot_slug, "name_fi": card.pilot_name_fi, "name_sv": card.pilot_name_sv},
        "provider": {"name": card.provider_name, "y_tunnus": card.y_tunnus, "sector": _coded(labels["sector"],
                                                                                             card.sector)},
        "address": {"fi": card.street_fi, "sv": card.street_sv or None},
        "postcode": card.postcode,
        "municipality": {"code": card.municipality_code, "name_fi": card.municipality_name_fi,
                         "name_sv": card.municipality_name_sv},
        "lat": card.lat,
        "lon": card.lon,
        "services": [_coded(labels["service"], c) for c in card.services],
        "languages": [_coded(labels["language"], c) for c in card.languages],
        "features": [_coded(labels["feature"], c) for c in card.features],
        "accessibility": _facts_json(card.accessibility, labels),
        "accessibility_note": {"fi": card.accessibility_note_fi or None, "sv": card.accessibility_note_sv or None,
                               "en": card.accessibility_note_en or None},
        "capacity": card.capacity,
        "listed_count": card.listed_count,
        "accepting_new": card.accepting_new,
        "is_full": card.is_full,
        "open_to_newcomers": card.open_to_newcomers,
        "places_for_newcomers": card.places_for_newcomers,
        "waiting_list_length": card.waiting_count,
        "queue_times": [{"profession": _coded(labels["profession"], p), "t3_days": t3.t3_days,
                         "measured_on": t3.measured_on.isoformat()} for p, t3 in sorted(card.t3.items())],
        "is_demo": card.is_demo,
        "url": {lang: _unit_url(lang, card.id) for lang in LANGS},
    }
    if profiles:
        item["profiles"] = profiles_json(card.accessibility, profiles, labels)
    if with_distance:
        item["distance_km"] = round(distance_km, 2) if distance_km is not None else None
    return item


FACET_VOCABS = ("element", "service", "language", "feature", "sector")  # groups labelled from the vocabulary


@bp.get("/units")
@cached_page(whole_index)
def units() -> ResponseReturnValue:
    problem = _take_lang()
    sess = db.session()
    search_index = current_app.extensions["search"]
    params, errors = parse_params(request.args, search_index.reference.known(sess))
    errors = _empty_numbers() + errors
    # The API answers sort=distance without a postcode in the default order (its `sort` says which): one
    # parameter's validity may not depend on another's, or the OpenAPI document could not describe it.
    errors = [e for e in errors if not (e.parameter == "sort" and request.args.get("sort", "").strip() == "distance")]
    if problem:
        errors.insert(0, problem)
    if errors:
        return _error(404 if _only_unknown_places(errors) else 400, errors[0].message, errors[0].parameter, errors)
    result = search_index.search(sess, params, lang=current_lang())
    # A page past the last one has no items (200): `pages` tells how many there are.
    items = [unit_json(h.card, h.distance_km, with_distance=params.origin is not None, profiles=params.profiles)
             for h in result.hits]
    pilot_names = search_index.reference.reference(sess, current_lang()).pilot_names
    labels = vocabulary_labels(current_lang())
    facets: dict[str, list[dict]] = {}
    for group in FACET_GROUPS:
        counts = result.facets.get(group, {})
        entries = []
        for value, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            entry: dict = {"value": value, "count": count}
            if group in FACET_VOCABS:
                entry["label"] = labels[group].get(value, value)
            elif group == "pilot" and value in pilot_names:
                entry["label"] = pilot_names[value]
            elif group == "accepting":
                entry["label"] = field_label("accepting")
            entries.append(entry)
        facets[group] = entries
    return jsonify({"total": result.total, "page": params.page, "per_page": params.per_page, "pages": result.pages,
                    "sort": params.sort, "fuzzy": result.fuzzy, "items": items, "facets": facets})


@bp.get("/units/<unit_id>")
@cached_page(one_unit)
def unit(unit_id: str) -> ResponseReturnValue:
    problem = _take_lang()
    if problem:
        return _error(400, problem.message, problem.parameter)
    profiles = [p.strip() for p in request.args.getlist("profile") if p.strip()]
    for p in profiles:
        if p not in PROFILE_REQUIREMENTS:
            err = ParamError("profile", _("“%(value)s” is not one of the options.", value=p[:40]))
            return _error(400, err.message, "profile")
    if not is_whole_number(unit_id):
        return _error(404, _("No unit has the number %(id)s.", id=unit_id[:20]))
    found = unit_cards(db.session(), [int(unit_id)])
    if int(unit_id) not in found:
        return _error(404, _("No unit has the number %(id)s.", id=unit_id))
    return jsonify(unit_json(found[int(unit_id)], profiles=tuple(dict.fromkeys(profiles))))


def _rules(element) -> dict:  # noqa: ANN001
    return {"min_age": element.min_age, "excluded_in_institutional_care": element.excluded_in_institutional_care,
            "allow_other_pilot_municipality": element.allow_other_pilot_municipality,
            "lock_in_months": element.lock_in_months, "max_switches_per_12_months": element.max_switches_per_12_months,
            "notice_days": element.notice_days, "effective": element.effective,
            "capitation_eur_per_month": element.capitation_eur_per_month,
            "demo_values": sorted(f.strip() for f in element.demo_fields.split(",") if f.strip())}


@bp.get("/pilots")
def pilots() -> ResponseReturnValue:
    problem = _take_lang()
    if problem:
        return _error(400, problem.message, problem.parameter)
    items = []
    for p in db.session().scalars(select(Pilot).order_by(Pilot.slug)):
        items.append({
            "slug": p.slug, "name_fi": p.name_fi, "name_sv": p.name_sv, "region_fi": p.region_fi,
            "region_sv": p.region_sv, "lead_municipality_code": p.lead_municipality_code,
            "starts_on": p.starts_on.isoformat() if p.starts_on else None,
            "ends_on": p.ends_on.isoformat() if p.ends_on else None,
            "choice_opens_on": p.choice_opens_on.isoformat() if p.choice_opens_on else None,
            "choice_closes_on": p.choice_closes_on.isoformat() if p.choice_closes_on else None,
            "population_min": p.population_min, "population_max": p.population_max, "funding_eur": p.funding_eur,
            "source_document": p.source_document,
            "demo_values": sorted(f.strip() for f in p.demo_fields.split(",") if f.strip()),
            "municipalities": [{"code": m.municipality_code, "name_fi": m.municipality.name_fi,
                                "name_sv": m.municipality.name_sv} for m in p.municipalities],
            "elements": [{"code": e.element, "label": label(ELEMENTS, e.element), "rules": _rules(e)}
                         for e in p.elements],
        })
    return jsonify({"items": items, "total": len(items)})


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(openapi_document(_catalogue(db.session())))


def _catalogue(sess) -> dict:  # noqa: ANN001
    """The pilot slugs the API accepts (a handful: listed in the document as an enum)."""
    return {"pilots": sorted(sess.scalars(select(Pilot.slug)))}


def _empty_numbers() -> list[ParamError]:
    """The search form may send an empty number (no limit); the API's numbers are numbers, as documented."""
    messages = {"page": lambda: _("Enter a page number of 1 or more."),
                "max_t3_doctor": lambda: _("Enter a whole number."), "max_t3_nurse": lambda: _("Enter a whole number."),
                "radius_km": lambda: _("Enter a distance greater than 0 and at most %(max)s km.", max=MAX_RADIUS_KM)}
    return [ParamError(name, message()) for name, message in messages.items()
            if name in request.args and not request.args.get(name, "").strip()]


PLACE_FORMATS = {"municipality": re.compile(r"[0-9]{3}"), "postcode": re.compile(r"[0-9]{5}")}


def _only_unknown_places(errors: list[ParamError]) -> bool:
    """Well-formed municipality codes or postcodes that do not exist (and nothing else wrong): 404, as the
    document says; a code of the wrong form is a 400."""
    return all(e.parameter in PLACE_FORMATS
               and PLACE_FORMATS[e.parameter].fullmatch(request.args.get(e.parameter, "").strip()) for e in errors)
