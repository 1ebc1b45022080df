"""Search parameters: parsing and validation (pure), and execution over the index snapshot.

`parse_params(args, known)` turns a query string (a MultiDict) into a typed `SearchParams` and a list
of `ParamError`s, each naming its parameter with a message in the current language. `execute()`
runs the text query through Whoosh, applies the filters over the snapshot's stored fields, counts
facets, sorts and pages.

Filter semantics: service and feature: ALL selected must match; language and sector: ANY selected;
pilot, element, municipality: one value; accepting: accepting new customers and not full;
max_t3_*: latest T3 at most N days (a unit without a measurement does not match);
postcode + radius_km: great-circle distance from the postcode (its own coordinates, else its
municipality's) at most radius_km; radius_km alone is ignored.

Facets: for each value, how many units would match with the OTHER filters applied (pilot, element,
municipality, language, sector, accepting: the group's own selection is ignored); for the all-of
groups (service, feature) the count is within the current results, i.e. how many would remain if
the value were added.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from whoosh import query as wq

from webapp.search.index import Snapshot, collation_key  # noqa: F401  (collation_key re-exported)
from webapp.vocab import ELEMENTS, FEATURES, SECTORS, SERVICE_LANGUAGES, SERVICES

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
MULTI_VOCABS = {"service": SERVICES, "language": SERVICE_LANGUAGES, "feature": FEATURES, "sector": SECTORS}
# Facet groups: (parameter, how the group combines: "any" = own selection ignored, "all" = counted in results)
FACET_GROUPS = {"pilot": "any", "element": "any", "municipality": "any", "language": "any", "sector": "any",
                "accepting": "any", "service": "all", "feature": "all"}


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
    accepting: bool = False
    sort: str = "name"
    sort_given: bool = False
    page: int = 1
    per_page: int = PER_PAGE
    origin: tuple[float, float] | None = field(default=None, compare=False)

    def query_pairs(self, **changes) -> list[tuple[str, str]]:
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
        if p.sort_given:
            pairs.append(("sort", p.sort))
        if p.page > 1:
            pairs.append(("page", str(p.page)))
        return pairs

    @property
    def active_filters(self) -> list[tuple[str, str]]:
        """(parameter, value) of every filter in use, in the order of the form."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for name in ("pilot", "element", "municipality"):
            if getattr(self, name):
                out.append((name, getattr(self, name)))
        if self.postcode and self.radius_km is not None:
            out.append(("radius_km", _num(self.radius_km)))
        out += [("service", v) for v in self.services]
        for name in ("max_t3_doctor", "max_t3_nurse"):
            if getattr(self, name) is not None:
                out.append((name, str(getattr(self, name))))
        out += [("language", v) for v in self.languages]
        out += [("feature", v) for v in self.features]
        out += [("sector", v) for v in self.sectors]
        if self.accepting:
            out.append(("accepting", "1"))
        return out

    def without(self, parameter: str, value: str) -> "SearchParams":
        """These parameters with one filter value removed (and the page reset)."""
        changes: dict = {"page": 1}
        if parameter in ("q", "pilot", "element", "municipality"):
            changes[parameter] = "" if parameter == "q" else None
        elif parameter == "radius_km":
            changes["radius_km"] = None
        elif parameter in ("max_t3_doctor", "max_t3_nurse"):
            changes[parameter] = None
        elif parameter == "accepting":
            changes["accepting"] = False
        else:
            attr = {"service": "services", "language": "languages", "feature": "features", "sector": "sectors"}[parameter]
            changes[attr] = tuple(v for v in getattr(self, attr) if v != value)
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


# ---------------------------------------------------------------- parsing

def parse_params(args: Mapping, known: Known) -> tuple[SearchParams, list[ParamError]]:
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

    raw_accepting = one("accepting").lower()
    accepting = raw_accepting in TRUE_VALUES
    if raw_accepting not in TRUE_VALUES | FALSE_VALUES:
        err("accepting", _("The value is not valid."))

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
                          accepting=accepting, sort=sort, sort_given=sort_given, page=page, origin=origin)
    return params, errors


def _getlist(args: Mapping, name: str) -> list[str]:
    if hasattr(args, "getlist"):
        return [str(v) for v in args.getlist(name)]
    value = args.get(name)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


# ---------------------------------------------------------------- execution

def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


@dataclass
class Hit:
    id: int
    score: float | None = None
    distance_km: float | None = None


@dataclass
class SearchResult:
    params: SearchParams
    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    fuzzy: bool = False

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.params.per_page))


def _text_query(snap: Snapshot, q: str, fuzzy: bool) -> wq.Query | None:
    """AND of the words; each word matches the Finnish or Swedish stem (or, fuzzily, the plain word)."""
    schema = snap.ix.schema
    words = re.findall(r"\w+", q)
    if not words:
        return None
    clauses = []
    for word in words:
        alternatives = []
        for fname in ("text_fi", "text_sv"):
            for token in schema[fname].analyzer(word):
                t = token.text
                if fuzzy and len(t) >= 4:
                    alternatives.append(wq.FuzzyTerm(fname, t, maxdist=1 if len(t) < 7 else 2, prefixlength=1))
                else:
                    alternatives.append(wq.Term(fname, t))
        if fuzzy:  # the unstemmed words help where a stemmer cuts an inflected form short
            for token in schema["text_plain"].analyzer(word):
                t = token.text
                if len(t) >= 4:
                    alternatives.append(wq.FuzzyTerm("text_plain", t, maxdist=1 if len(t) < 7 else 2,
                                                     prefixlength=1))
        if alternatives:
            clauses.append(wq.Or(alternatives))
    if not clauses:
        return None
    return wq.And(clauses) if len(clauses) > 1 else clauses[0]


def _query_words(snap: Snapshot, q: str) -> list[frozenset[str]]:
    """Per word of the query, its tokens under the Finnish, Swedish and plain analysers."""
    schema = snap.ix.schema
    out = []
    for word in re.findall(r"\w+", q):
        tokens = set()
        for fname in ("text_fi", "text_sv", "text_plain"):
            tokens.update(t.text for t in schema[fname].analyzer(word))
        out.append(frozenset(tokens))
    return out


def _text_matches(snap: Snapshot, q: str) -> tuple[set[int] | None, wq.Query | None, bool]:
    """Docnums matching the words (None = no words: everything); the query used; whether fuzzy."""
    if not q:
        return None, None, False
    query = _text_query(snap, q, fuzzy=False)
    if query is None:
        return None, None, False
    with snap.lock:
        docs = set(query.docs(snap.searcher))
        if docs:
            return docs, query, False
        fuzzy = _text_query(snap, q, fuzzy=True)
        docs = set(fuzzy.docs(snap.searcher)) if fuzzy is not None else set()
    return docs, fuzzy, True


def _group_masks(snap: Snapshot, p: SearchParams) -> dict[str, int]:
    """Per active filter, the bitmask of documents that pass it."""
    m: dict[str, int] = {}
    if p.pilot:
        m["pilot"] = snap.value_mask("pilot", p.pilot)
    if p.element:
        m["element"] = snap.value_mask("element", p.element)
    if p.municipality:
        m["municipality"] = snap.value_mask("municipality", p.municipality)
    if p.services:  # all of them
        mask = snap.all_mask
        for v in p.services:
            mask &= snap.value_mask("service", v)
        m["service"] = mask
    if p.features:  # all of them
        mask = snap.all_mask
        for v in p.features:
            mask &= snap.value_mask("feature", v)
        m["feature"] = mask
    if p.languages:  # any of them
        mask = 0
        for v in p.languages:
            mask |= snap.value_mask("language", v)
        m["language"] = mask
    if p.sectors:  # any of them
        mask = 0
        for v in p.sectors:
            mask |= snap.value_mask("sector", v)
        m["sector"] = mask
    if p.accepting:
        m["accepting"] = snap.value_mask("accepting", "1")
    if p.max_t3_doctor is not None:
        m["max_t3_doctor"] = snap.t3_mask("doctor", p.max_t3_doctor)
    if p.max_t3_nurse is not None:
        m["max_t3_nurse"] = snap.t3_mask("nurse", p.max_t3_nurse)
    if p.origin is not None and p.radius_km is not None:
        m["radius_km"] = snap.radius_mask(p.origin, p.radius_km)
    return m


def execute(snap: Snapshot, p: SearchParams, lang: str = "fi", facets: bool = True,
            paginate: bool = True) -> SearchResult:
    docs, text_query, fuzzy = _text_matches(snap, p.q)
    base = snap.all_mask if docs is None else snap.mask_of(docs) & snap.all_mask
    masks = _group_masks(snap, p)
    final = base
    for mask in masks.values():
        final &= mask

    counts: dict[str, dict[str, int]] = {}
    if facets:
        for group, how in FACET_GROUPS.items():
            if how == "any" and group in masks:
                scope = base
                for other, mask in masks.items():
                    if other != group:
                        scope &= mask
            else:
                scope = final
            bucket: dict[str, int] = {}
            for value, mask in snap.masks.get(group, {}).items():
                n = (scope & mask).bit_count()
                if n:
                    bucket[value] = n
            counts[group] = bucket

    total = final.bit_count()
    start, stop = ((p.page - 1) * p.per_page, p.page * p.per_page) if paginate else (0, total)
    docnums = snap.docnums(final)
    distances = snap.distances(p.origin) if p.origin is not None else None
    rows = snap.by_docnum
    key = "key_sv" if lang == "sv" else "key_fi"
    scores: dict[int, float] = {}

    if p.sort == "relevance" and text_query is not None and docnums:
        # Every matching unit has all the words somewhere; a word found in the name weighs 3, in the
        # address or place 2, elsewhere 1. Ties in name order. Cheap, and the same on every page.
        words = [w for w in _query_words(snap, p.q) if w]

        def relevance(d: int) -> float:
            r = rows[d]
            total_score = 0
            for alternatives in words:
                if not alternatives.isdisjoint(r.name_terms):
                    total_score += 3
                elif not alternatives.isdisjoint(r.place_terms):
                    total_score += 2
                else:
                    total_score += 1
            return total_score

        scores = {d: relevance(d) for d in docnums}
        docnums.sort(key=lambda d: (-scores[d], getattr(rows[d], key), rows[d].id))
        page_docnums = docnums[start:stop]
    else:
        if p.sort == "distance" and distances is not None:
            docnums.sort(key=lambda d: (distances[d], getattr(rows[d], key), rows[d].id))
        elif p.sort == "queue":
            def queue_key(d: int):
                r = rows[d]
                t3 = r.t3_doctor if r.t3_doctor is not None else r.t3_dentist
                return (t3 is None, t3 if t3 is not None else 0, getattr(r, key), r.id)
            docnums.sort(key=queue_key)
        else:
            docnums.sort(key=lambda d: (getattr(rows[d], key), rows[d].id))
        page_docnums = docnums[start:stop]

    hits = [Hit(id=rows[d].id, score=scores.get(d), distance_km=distances[d] if distances is not None else None)
            for d in page_docnums]
    return SearchResult(params=p, total=total, hits=hits, facets=counts, fuzzy=fuzzy)
