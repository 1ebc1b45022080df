"""A search's query string: parsed and validated into `SearchParams` (webapp.search), with a message in the
reader's language for every parameter that is wrong, and the labels the search page and the API give the
parameters. Shared by the search page (webapp/web/public) and the API (webapp/web/api).
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from webapp.search import MAX_Q, MAX_RADIUS_KM, MAX_T3, MULTI_VOCABS, SORTS, Known, SearchParams, default_sort
from webapp.units.vocab import ELEMENTS

TRUE_VALUES = {"1", "true", "on", "yes", "y"}
FALSE_VALUES = {"", "0", "false", "off", "no", "n"}
POSTCODE_RE = re.compile(r"^\d{5}$")

FIELD_LABELS = {
    "q": _l("Search words"),
    "pilot": _l("Pilot"),
    "element": _l("Type of unit"),
    "service": _l("Services"),
    "municipality": _l("Municipality"),
    "postcode": _l("Postcode"),
    "radius_km": _l("Distance from the postcode (km)"),
    "max_t3_doctor": _l("Longest wait for a doctor (days)"),
    "max_t3_nurse": _l("Longest wait for a nurse (days)"),
    "language": _l("Service language"),
    "feature": _l("Accessibility"),
    "sector": _l("Provider type"),
    "profile": _l("Accessibility needs"),
    "profile_only": _l("Only units that meet every chosen need"),
    "accepting": _l("Only units accepting new customers"),
    "sort": _l("Sort by"),
    "page": _l("Page"),
    "lang": _l("Language"),
}
SORT_LABELS = {
    "relevance": _l("Best match"),
    "distance": _l("Distance"),
    "queue": _l("Shortest wait for a doctor or dentist"),
    "name": _l("Name"),
}


@dataclass(frozen=True)
class ParamError:
    """A problem with one parameter: `detail` says what to do, `message` also names the field."""
    parameter: str
    detail: str

    @property
    def message(self) -> str:
        return f"{field_label(self.parameter)}: {self.detail}"


def field_label(parameter: str) -> str:
    return str(FIELD_LABELS.get(parameter, parameter))


def parse_params(args: Mapping[str, Any], known: Known) -> tuple[SearchParams, list[ParamError]]:
    """Validate a query string (werkzeug MultiDict or a dict of lists/strings)."""
    errors: list[ParamError] = []

    def err(parameter: str, detail: str) -> None:
        if not any(e.parameter == parameter for e in errors):
            errors.append(ParamError(parameter, detail))

    def one(name: str) -> str:
        value = _getlist(args, name)
        return value[0].strip() if value else ""

    def unknown(name: str, value: str) -> None:
        shown = value if len(value) <= 40 else value[:40] + "…"
        err(name, _("“%(value)s” is not one of the options.", value=shown))

    def integer(name: str, low: int, high: int) -> int | None:
        raw = one(name)
        if raw == "":
            return None
        if not re.fullmatch(r"[+-]?[0-9]{1,9}", raw):
            err(name, _("Enter a whole number."))
            return None
        value = int(raw)
        if not low <= value <= high:
            err(name, _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high))
            return None
        return value

    q = " ".join(one("q").split())
    if len(q) > MAX_Q:
        err("q", _("Use at most %(max)s characters.", max=MAX_Q))
        q = ""

    pilot = one("pilot") or None
    if pilot and pilot not in known.pilots:
        unknown("pilot", pilot)
        pilot = None
    element = one("element") or None
    if element and element not in ELEMENTS:
        unknown("element", element)
        element = None
    municipality = one("municipality") or None
    if municipality and municipality not in known.municipalities:
        unknown("municipality", municipality)
        municipality = None

    multi: dict[str, tuple[str, ...]] = {}
    for name, vocab in MULTI_VOCABS.items():
        values = [v.strip() for v in _getlist(args, name) if v.strip()]
        for v in values:
            if v not in vocab:
                unknown(name, v)
        multi[name] = tuple(dict.fromkeys(v for v in values if v in vocab))

    postcode = one("postcode").replace(" ", "") or None
    origin = None
    if postcode:
        if not POSTCODE_RE.match(postcode):
            err("postcode", _("Enter a postcode of five digits, for example 00100."))
            postcode = None
        else:
            origin = known.postcode_origin(postcode)
            if origin is None:
                err("postcode", _("There is no postcode %(code)s. Check the postcode.", code=postcode))
                postcode = None

    radius = None
    raw_radius = one("radius_km").replace(",", ".")
    if raw_radius:
        try:
            radius = float(raw_radius)
            if not math.isfinite(radius):
                raise ValueError
        except ValueError:
            err("radius_km", _("Enter a number, for example 10."))
            radius = None
        else:
            if not 0 < radius <= MAX_RADIUS_KM:
                err("radius_km", _("Enter a distance greater than 0 and at most %(max)s km.", max=MAX_RADIUS_KM))
                radius = None
        # Without a postcode the distance is kept (the form shows it) but does not filter: the home
        # page's form always sends a default distance.

    max_doctor = integer("max_t3_doctor", 0, MAX_T3)
    max_nurse = integer("max_t3_nurse", 0, MAX_T3)

    flags = {}
    for name in ("accepting", "profile_only"):
        raw_flag = one(name).lower()
        flags[name] = raw_flag in TRUE_VALUES
        if raw_flag not in TRUE_VALUES | FALSE_VALUES:
            err(name, _("The value is not valid."))

    sort_raw = one("sort")
    sort_given = bool(sort_raw)
    sort = sort_raw or default_sort(q, postcode)
    if sort not in SORTS:
        unknown("sort", sort_raw)
        sort, sort_given = default_sort(q, postcode), False
    elif sort == "distance" and not postcode:
        if not any(e.parameter == "postcode" for e in errors):
            err("sort", _("Sorting by distance needs a postcode."))
        sort, sort_given = default_sort(q, None), False

    page = 1
    raw_page = one("page")
    if raw_page:
        if not re.fullmatch(r"[0-9]{1,6}", raw_page) or int(raw_page) < 1:
            err("page", _("Enter a page number of 1 or more."))
        else:
            page = int(raw_page)

    params = SearchParams(q=q, pilot=pilot, element=element, services=multi["service"], municipality=municipality,
                          postcode=postcode, radius_km=radius, max_t3_doctor=max_doctor, max_t3_nurse=max_nurse,
                          languages=multi["language"], features=multi["feature"], sectors=multi["sector"],
                          profiles=multi["profile"], profiles_given=bool(_getlist(args, "profile")),
                          profile_only=flags["profile_only"], accepting=flags["accepting"], sort=sort,
                          sort_given=sort_given, page=page, origin=origin)
    return params, errors


def _getlist(args: Mapping[str, Any], name: str) -> list[str]:
    if hasattr(args, "getlist"):
        return [str(v) for v in args.getlist(name)]
    value = args.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
