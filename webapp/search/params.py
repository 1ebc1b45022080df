"""Search parameters: parsing and validation (pure, no index or database).

`parse_params(args, known)` turns a query string (a MultiDict) into a typed `SearchParams` and a list
of `ParamError`s, each naming its parameter with a message in the current language. The filters'
meaning is described in query.py, which executes a search.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from webapp.core.translation import gettext as _
from webapp.core.translation import lazy_gettext as _l
from webapp.units.vocab import ACCESSIBILITY_PROFILES, ELEMENTS, FEATURES, SECTORS, SERVICE_LANGUAGES, SERVICES

MAX_Q = 200
PER_PAGE = 20
MAX_RADIUS_KM = 500
MAX_T3 = 365
SORTS = ("relevance", "distance", "queue", "name")
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
MULTI_VOCABS = {"service": SERVICES, "language": SERVICE_LANGUAGES, "feature": FEATURES, "sector": SECTORS,
               "profile": ACCESSIBILITY_PROFILES}


@dataclass(frozen=True)
class ParamError:
    """A problem with one parameter: `detail` says what to do, `message` also names the field."""
    parameter: str
    detail: str

    @property
    def message(self) -> str:
        return f"{field_label(self.parameter)}: {self.detail}"


@dataclass(frozen=True)
class Known:
    """What the parser needs from the database: valid pilot slugs and municipality codes, and a
    postcode lookup returning (lat, lon) or None when the postcode does not exist."""
    pilots: frozenset[str]
    municipalities: frozenset[str]
    postcode_origin: Callable[[str], tuple[float, float] | None]


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    pilot: str | None = None
    element: str | None = None
    services: tuple[str, ...] = ()
    municipality: str | None = None
    postcode: str | None = None
    radius_km: float | None = None
    max_t3_doctor: int | None = None
    max_t3_nurse: int | None = None
    languages: tuple[str, ...] = ()
    features: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    # Accessibility profiles rank the results (those meeting every need first) without filtering,
    # unless profile_only. profiles_given: the query string had `profile` (possibly empty = none).
    profiles: tuple[str, ...] = ()
    profiles_given: bool = False
    profile_only: bool = False
    accepting: bool = False
    sort: str = "name"
    sort_given: bool = False
    page: int = 1
    per_page: int = PER_PAGE
    origin: tuple[float, float] | None = field(default=None, compare=False)

    def query_pairs(self, **changes: Any) -> list[tuple[str, str]]:
        """The parameters as query-string pairs (for links); `changes` replace fields first."""
        p = replace(self, **changes) if changes else self
        pairs: list[tuple[str, str]] = []
        if p.q:
            pairs.append(("q", p.q))
        for name in ("pilot", "element", "municipality", "postcode"):
            if getattr(p, name):
                pairs.append((name, getattr(p, name)))
        if p.radius_km is not None:
            pairs.append(("radius_km", _num(p.radius_km)))
        pairs += [("service", v) for v in p.services]
        for name in ("max_t3_doctor", "max_t3_nurse"):
            if getattr(p, name) is not None:
                pairs.append((name, str(getattr(p, name))))
        pairs += [("language", v) for v in p.languages]
        pairs += [("feature", v) for v in p.features]
        pairs += [("sector", v) for v in p.sectors]
        if p.accepting:
            pairs.append(("accepting", "1"))
        pairs += [("profile", v) for v in p.profiles] or ([("profile", "")] if p.profiles_given else [])
        if p.profile_only and p.profiles:
            pairs.append(("profile_only", "1"))
        if p.sort_given:
            pairs.append(("sort", p.sort))
        if p.page > 1:
            pairs.append(("page", str(p.page)))
        return pairs

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        """(parameter, value) of every filter in use, in the order of the form (a distance only with a postcode)."""
        return [(k, v) for k, v in self.query_pairs(page=1) if k not in ("postcode", "profile", "sort")
                and (k != "radius_km" or self.postcode)]

    def without(self, parameter: str, value: str) -> SearchParams:
        """These parameters with one filter value removed (and the page reset)."""
        changes: dict[str, Any] = {"page": 1}
        if parameter in MULTI_VOCABS:
            attr = f"{parameter}s"
            changes[attr] = tuple(v for v in getattr(self, attr) if v != value)
        else:
            changes[parameter] = {"q": "", "accepting": False, "profile_only": False}.get(parameter)
        if parameter == "q" and self.sort == "relevance":
            changes.update(sort=default_sort("", self.postcode), sort_given=False)
        return replace(self, **changes)


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def default_sort(q: str, postcode: str | None) -> str:
    if q:
        return "relevance"
    return "distance" if postcode else "name"


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
