"""What a search asks: `SearchParams` (typed, validated; its query string for links), the codes a search may
name (`Known`) and the limits. Parsing a query string into them is the web layer's (webapp/web/search_params.py);
the filters' meaning is in query.py, which executes a search.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from webapp.units.vocab import ACCESSIBILITY_PROFILES, FEATURES, SECTORS, SERVICE_LANGUAGES, SERVICES

MAX_Q = 200
PER_PAGE = 20
MAX_RADIUS_KM = 500
MAX_T3 = 365
SORTS = ("relevance", "distance", "queue", "name")
# The parameters that may be given more than once, and the codes each takes.
MULTI_VOCABS = {"service": SERVICES, "language": SERVICE_LANGUAGES, "feature": FEATURES, "sector": SECTORS,
                "profile": ACCESSIBILITY_PROFILES}


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
