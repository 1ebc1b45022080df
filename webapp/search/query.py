"""Executing a search over the index snapshot; parsing the parameters is in params.py.

`execute()` asks the text index which units match the words, applies the filters over the snapshot's stored fields,
counts facets, sorts and pages.

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

import math
import re
from dataclasses import dataclass

import numpy as np
from whoosh import query as wq

from webapp.accessibility import required_facts
from webapp.search.params import (SearchParams)
from webapp.search.snapshots import Snapshot

# Facet groups: (parameter, how the group combines: "any" = own selection ignored, "all" = counted in results)
FACET_GROUPS = {"pilot": "any", "element": "any", "municipality": "any", "language": "any", "sector": "any",
                "accepting": "any", "service": "all", "feature": "all"}


@dataclass
class Hit:
    id: int
    score: float | None = None
    distance_km: float | None = None
    card: str = ""  # the unit's stored card (cards.py)
    facts: dict[str, bool] | None = None  # accessibility facts (code -> yes/no; absent = not known)


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
    schema = snap.text.schema
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
    schema = snap.text.schema
    out = []
    for word in re.findall(r"\w+", q):
        tokens = set()
        for fname in ("text_fi", "text_sv", "text_plain"):
            tokens.update(t.text for t in schema[fname].analyzer(word))
        out.append(frozenset(tokens))
    return out


def _text_matches(snap: Snapshot, q: str) -> tuple[int | None, wq.Query | None, bool]:
    """Bitmask of the documents matching the words (None = no words: everything); the query used; whether
    fuzzy. Cached per snapshot: the same words give the same documents until the index changes."""
    if not q:
        return None, None, False
    cached = snap.text_cache.get(q)
    if cached is not None:
        return cached
    found = _run_text_query(snap, q)
    snap.text_cache.put(q, found)
    return found


def _run_text_query(snap: Snapshot, q: str) -> tuple[int | None, wq.Query | None, bool]:
    query = _text_query(snap, q, fuzzy=False)
    if query is None:
        return None, None, False
    slots = snap.text.slots(query)
    if slots:
        return snap.mask_of(slots) & snap.all_mask, query, False
    fuzzy = _text_query(snap, q, fuzzy=True)
    slots = snap.text.slots(fuzzy) if fuzzy is not None else []
    return snap.mask_of(slots) & snap.all_mask, fuzzy, True


def _relevance(snap: Snapshot, q: str, matched: int) -> np.ndarray:
    """Per slot, how well the words match (cached per snapshot and words): every matching unit has all
    the words somewhere; a word found in the name weighs 3, in the address or place 2, elsewhere 1."""
    cached = snap.score_cache.get(q)
    if cached is not None:
        return cached
    words = [w for w in _query_words(snap, q) if w]
    score = np.zeros(len(snap.by_slot), dtype=np.float64)
    for d in snap.slots(matched):
        r = snap.by_slot[d]
        total = 0
        for alternatives in words:
            if not alternatives.isdisjoint(r.name_terms):
                total += 3
            elif not alternatives.isdisjoint(r.place_terms):
                total += 2
            else:
                total += 1
        score[d] = total
    score.flags.writeable = False
    snap.score_cache.put(q, score)
    return score


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
    if p.profile_only and p.profiles:
        mask = snap.all_mask
        for code in required_facts(p.profiles):
            mask &= snap.value_mask("feature", code)
        m["profile_only"] = mask
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
    matched, text_query, fuzzy = _text_matches(snap, p.q)
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
    rows = snap.by_slot
    rank = snap.rank["sv" if lang == "sv" else "fi"]
    scores: dict[int, float] = {}

    # Every order ends in the name order of the language (then the id), so that ties are stable.
    if p.sort == "relevance" and text_query is not None and total:
        score = _relevance(snap, p.q, base)
        docs = np.flatnonzero(snap.selected(final))
        ordered = docs[np.lexsort((rank[docs], -score[docs]))]
    elif p.sort == "distance" and distances is not None and total:
        docs = np.flatnonzero(snap.selected(final))
        ordered = docs[np.lexsort((rank[docs], distances[docs]))]
    elif p.sort == "queue" and total:
        docs = np.flatnonzero(snap.selected(final))
        ordered = docs[np.lexsort((rank[docs], snap.queue_t3[docs]))]
    elif total:
        order = snap.order["sv" if lang == "sv" else "fi"]
        ordered = order[snap.selected(final)[order]]
    else:
        ordered = np.empty(0, dtype=np.int64)
    required = required_facts(p.profiles)
    if required and len(ordered):  # stable: the chosen order stays within each rank
        ordered = ordered[np.argsort(profile_ranks(snap, required)[ordered], kind="stable")]
    page_slots = ordered[start:stop].tolist()
    if p.sort == "relevance" and text_query is not None and total:
        scores = {d: float(score[d]) for d in page_slots}

    hits = [Hit(id=rows[d].id, score=scores.get(d),
                distance_km=float(distances[d]) if distances is not None else None, card=rows[d].card,
                facts=rows[d].accessibility)
            for d in page_slots]
    return SearchResult(params=p, total=total, hits=hits, facets=counts, fuzzy=fuzzy)
