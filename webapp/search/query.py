"""Executing a search over the index snapshot; parsing the parameters is in params.py.

`execute()` asks the text index which units match the words (textindex.py), applies the filters over the
snapshot's rows, counts facets, sorts and pages.

Filter semantics: service and feature: ALL selected must match; language and sector: ANY selected;
pilot, element, municipality: one value; accepting: open to a resident outside the queue
(rules.open_to_newcomers: accepting new customers, not full, free places not all held for the queue);
max_t3_*: latest T3 at most N days (a unit without a measurement does not match);
postcode + radius_km: great-circle distance from the postcode (its own coordinates, else its
municipality's) at most radius_km; radius_km alone is ignored.
profile: ranks, does not filter: units whose facts meet every need of the chosen profiles come first,
then fewer needs known to be missing, then fewer not known, each in the chosen sort order;
profile_only: only units that meet every need (a need not known does not count as met).

Facets: for each value, how many units would match with the OTHER filters applied (pilot, element,
municipality, language, sector, accepting: the group's own selection is ignored); for the all-of
groups (service, feature) the count is within the current results, i.e. how many would remain if
the value were added.
"""
from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from webapp.search.cards import Card
from webapp.search.params import SearchParams
from webapp.search.snapshots import Snapshot
from webapp.units.accessibility import required_facts

# Facet groups: (parameter, how the group combines: "any" = own selection ignored, "all" = counted in results)
FACET_GROUPS = {"pilot": "any", "element": "any", "municipality": "any", "language": "any", "sector": "any",
                "accepting": "any", "service": "all", "feature": "all"}


@dataclass
class Hit:
    card: Card  # what the result shows (cards.py)
    score: float | None = None
    distance_km: float | None = None

    @property
    def id(self) -> int:
        return self.card.id


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


def _text_matches(snap: Snapshot, q: str) -> tuple[int | None, bool, bool]:
    """Bitmask of the units matching the words (None = no words: everything), whether there were words, and
    whether the match is fuzzy. Cached per snapshot: the same words find the same units until a change."""
    if not q:
        return None, False, False
    found: tuple[int | None, bool, bool] | None = snap.text_cache.get(q)
    if found is None:
        matched = snap.text.matches(q)
        found = (None, False, False) if matched is None else (snap.mask_of(matched[0]) & snap.all_mask, True,
                                                              matched[1])
        snap.text_cache.put(q, found)
    return found


def _relevance(snap: Snapshot, q: str, matched: int) -> np.ndarray:
    """Per slot, how well the words match (cached per snapshot and words): every matching unit has all
    the words somewhere; a word found in the name weighs 3, in the address or place 2, elsewhere 1."""
    cached: np.ndarray | None = snap.score_cache.get(q)
    if cached is not None:
        return cached
    words = [w for w in snap.text.words(q) if w]
    score = np.zeros(len(snap.by_slot), dtype=np.float64)
    for r in snap.rows_of(matched):
        score[r.slot] = sum(3 if not w.isdisjoint(r.name_terms) else 2 if not w.isdisjoint(r.place_terms) else 1
                            for w in words)
    score.flags.writeable = False
    snap.score_cache.put(q, score)
    return score


def _group_masks(snap: Snapshot, p: SearchParams) -> dict[str, int]:
    """Per active filter, the bitmask of units that pass it."""
    def every(group: str, values: Iterable[str]) -> int:
        return functools.reduce(operator.and_, (snap.value_mask(group, v) for v in values), snap.all_mask)

    def any_of(group: str, values: Iterable[str]) -> int:
        return functools.reduce(operator.or_, (snap.value_mask(group, v) for v in values), 0)

    m = {g: snap.value_mask(g, getattr(p, g)) for g in ("pilot", "element", "municipality") if getattr(p, g)}
    m.update({g: every(g, v) for g, v in (("service", p.services), ("feature", p.features)) if v})
    m.update({g: any_of(g, v) for g, v in (("language", p.languages), ("sector", p.sectors)) if v})
    if p.accepting:
        m["accepting"] = snap.value_mask("accepting", "1")
    for profession, limit in (("doctor", p.max_t3_doctor), ("nurse", p.max_t3_nurse)):
        if limit is not None:
            m[f"max_t3_{profession}"] = snap.t3_mask(profession, limit)
    if p.origin is not None and p.radius_km is not None:
        m["radius_km"] = snap.radius_mask(p.origin, p.radius_km)
    if p.profile_only and p.profiles:
        m["profile_only"] = every("feature", required_facts(p.profiles))
    return m


def profile_ranks(snap: Snapshot, required: tuple[str, ...]) -> np.ndarray:
    """Per document, accessibility.rank_key(facts, required) as one number (smaller first): meets all,
    then fewer needs known to be missing, then fewer not known. Over bitmasks, not per-row dicts."""
    n = len(snap.by_slot)
    yes = np.zeros(n, dtype=np.int64)
    no = np.zeros(n, dtype=np.int64)
    for code in required:
        yes += snap.selected(snap.value_mask("feature", code))[:n]
        no += snap.selected(snap.value_mask("fact_no", code))[:n]
    unknown = len(required) - yes - no
    return np.where((no == 0) & (unknown == 0), 0, 1) * 10_000 + no * 100 + unknown


def execute(snap: Snapshot, p: SearchParams, lang: str = "fi", facets: bool = True,
            paginate: bool = True) -> SearchResult:
    matched, has_words, fuzzy = _text_matches(snap, p.q)
    base = snap.all_mask if matched is None else matched
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
    distances = snap.distances(p.origin) if p.origin is not None else None
    rank = snap.rank["sv" if lang == "sv" else "fi"]
    # Every order ends in the name order of the language (then the id), so that ties are stable.
    score = _relevance(snap, p.q, base) if p.sort == "relevance" and has_words and total else None
    key = (-score if score is not None else distances if p.sort == "distance" and distances is not None
           else snap.queue_t3 if p.sort == "queue" else None)
    if key is not None:
        docs = np.flatnonzero(snap.selected(final))
        ordered = docs[np.lexsort((rank[docs], key[docs]))]
    else:
        order = snap.order["sv" if lang == "sv" else "fi"]
        ordered = order[snap.selected(final)[order]]
    required = required_facts(p.profiles)
    if required and len(ordered):  # stable: the chosen order stays within each rank
        ordered = ordered[np.argsort(profile_ranks(snap, required)[ordered], kind="stable")]
    hits = [Hit(card=row.card, score=None if score is None else float(score[d]),
                distance_km=None if distances is None else float(distances[d]))
            for d in ordered[start:stop].tolist() if (row := snap.by_slot[d]) is not None]
    return SearchResult(params=p, total=total, hits=hits, facets=counts, fuzzy=fuzzy)
