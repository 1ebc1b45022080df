"""What the search index holds of a unit: the Whoosh schema, the unit's text and the values of its snapshot row.

Text is indexed twice, once per language, with the Snowball stemmers (`text_fi`, `text_sv`), plus an
unstemmed field (`text_plain`) used by the typo-tolerant fallback. Filters, facets, sorts and cards work on the
row values in memory (snapshots.py). Units are read with plain (non-ORM) queries, three statements per 500 units.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import bindparam, case, literal, select, true, union_all
from sqlalchemy.orm import Session
from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer
from whoosh.fields import NUMERIC, TEXT, Schema

from webapp.choice.rules import open_to_newcomers
from webapp.core.collation import collation_key
from webapp.core.translation import force_locale
from webapp.models import (
    Municipality,
    Pilot,
    Postcode,
    Provider,
    QueueTime,
    Unit,
    UnitAccessibilityFact,
    UnitLanguage,
    UnitService,
)
from webapp.search.cards import Card, LatestT3
from webapp.units.vocab import ELEMENTS, SECTORS, SERVICES

# Raise when what a document or row means changes without changing the schema:
# a SearchIndex whose index has another format rebuilds it instead of mixing two formats (service.py).
INDEX_FORMAT = 6  # 6: Whoosh holds only the words; rows come from the database


@functools.cache
def index_format() -> str:
    """The documents' format: the version above and the schema's field names."""
    return f"{INDEX_FORMAT}:{' '.join(sorted(make_schema().names()))}"


def make_schema() -> Schema:
    """Whoosh holds only the words (which units match them); everything else is in the snapshot (snapshots.py).
    No phrase queries are made, so positions are not stored."""
    return Schema(
        id=NUMERIC(int, unique=True, sortable=True),  # the column maps Whoosh's document numbers to units
        text_fi=TEXT(analyzer=LanguageAnalyzer("fi"), phrase=False),
        text_sv=TEXT(analyzer=LanguageAnalyzer("sv"), phrase=False),
        text_plain=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=1), phrase=False),
    )


@functools.cache  # the catalogues do not change while a process runs; SearchIndex asks in its app context
def translated_labels() -> dict[str, dict[str, str]]:
    """Vocabulary labels in Finnish and Swedish, for the indexed text."""
    out: dict[str, dict[str, str]] = {}
    for lang in ("fi", "sv"):
        with force_locale(lang):
            labels = {f"service:{c}": str(v) for c, v in SERVICES.items()}
            labels.update({f"element:{c}": str(v) for c, v in ELEMENTS.items()})
            labels.update({f"sector:{c}": str(v) for c, v in SECTORS.items()})
        out[lang] = labels
    return out


def terms(analyzers: tuple[Any, ...], texts: Iterable[str], memo: dict[str, frozenset[str]]) -> frozenset[str]:
    """The tokens of texts under each analyser (the index's Finnish, Swedish and plain forms). `memo` keeps each
    text's tokens for a whole build: place names and streets repeat across units, and the stemmers are slow."""
    out: set[str] = set()
    for text in filter(None, texts):
        if text not in memo:
            memo[text] = frozenset(t.text for analyzer in analyzers for t in analyzer(text))
        out |= memo[text]
    return frozenset(out)


@functools.cache  # shared, as a searcher's are by all threads: making them took an update 0.5 ms
def make_analyzers() -> tuple[Any, ...]:
    schema = make_schema()
    return tuple(schema[name].analyzer for name in ("text_fi", "text_sv", "text_plain"))


@dataclass
class _Context:
    labels: dict[str, dict[str, str]]
    analyzers: tuple[Any, ...] = field(default_factory=make_analyzers)
    terms_memo: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class UnitData:
    """What the index needs of a unit, read with plain (non-ORM) queries for speed: the columns of
    _statements() in order, then the codes and the latest T3 per profession."""
    id: int
    name_fi: str
    name_sv: str
    description_fi: str
    description_sv: str
    street_fi: str
    street_sv: str
    postcode: str
    municipality_code: str
    element: str
    lat: float | None
    lon: float | None
    capacity: int | None
    listed_count: int
    accepting_new: bool
    provider_name: str
    sector: str
    pilot_slug: str
    y_tunnus: str
    is_demo: bool
    pilot_name_fi: str
    pilot_name_sv: str
    waiting_count: int
    accessibility_note_fi: str | None
    accessibility_note_sv: str | None
    accessibility_note_en: str | None
    postcode_name_fi: str | None  # None: the postcode is not in the register
    postcode_name_sv: str | None
    municipality_name_fi: str | None  # None: the municipality is not in the register
    municipality_name_sv: str | None
    region_fi: str | None
    region_sv: str | None
    services: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    facts_no: list[str] = field(default_factory=list)
    latest_t3: dict[str, tuple[int, date]] = field(default_factory=dict)

    @property
    def accepting(self) -> bool:
        """Open to a resident outside the queue (rules.open_to_newcomers): accepting new customers, not full,
        and not every free place held for the waiting list. Only visible units are indexed."""
        return open_to_newcomers(self.accepting_new, True, self.capacity, self.listed_count, self.waiting_count)


@functools.cache  # built once: building them took a one-unit update about 1 ms
def _statements() -> dict[bool, tuple[Any, ...]]:
    """The three statements of load_unit_data, for all units (False) or for the ids in :ids (True)."""
    ids: Any = bindparam("ids", expanding=True)
    base = (select(Unit.id, Unit.name_fi, Unit.name_sv, Unit.description_fi, Unit.description_sv, Unit.street_fi,
                   Unit.street_sv, Unit.postcode, Unit.municipality_code, Unit.element, Unit.lat, Unit.lon,
                   Unit.capacity, Unit.listed_count, Unit.accepting_new, Provider.name, Provider.sector, Pilot.slug,
                   Provider.y_tunnus, Unit.is_demo, Pilot.name_fi, Pilot.name_sv, Unit.waiting_count,
                   Unit.accessibility_note_fi, Unit.accessibility_note_sv, Unit.accessibility_note_en,
                   Postcode.name_fi, Postcode.name_sv, Municipality.name_fi, Municipality.name_sv,
                   Municipality.region_fi, Municipality.region_sv)
            .join(Provider, Provider.id == Unit.provider_id).join(Pilot, Pilot.id == Unit.pilot_id)
            .outerjoin(Postcode, Postcode.code == Unit.postcode)
            .outerjoin(Municipality, Municipality.code == Unit.municipality_code)
            .where(Unit.is_hidden.is_(False)).order_by(Unit.id))
    fact = UnitAccessibilityFact
    out: dict[bool, tuple[Any, ...]] = {}
    for some in (False, True):
        def of(column: Any, some: bool = some) -> Any:
            return column.in_(ids) if some else true()
        codes = union_all(*(select(literal(attr).label("kind"), model.unit_id, model.code).where(of(model.unit_id))
                            for model, attr in ((UnitService, "services"), (UnitLanguage, "languages"))),
                          # accessibility facts: known present -> features, known absent -> facts_no
                          select(case((fact.value, "features"), else_="facts_no").label("kind"), fact.unit_id,
                                 fact.code).where(of(fact.unit_id)))
        queue = (select(QueueTime.unit_id, QueueTime.profession, QueueTime.t3_days, QueueTime.measured_on)
                 .where(of(QueueTime.unit_id)))
        out[some] = (base.where(Unit.id.in_(ids)) if some else base, codes, queue)
    return out


def load_unit_data(sess: Session, unit_ids: Iterable[int] | None = None) -> list[UnitData]:
    """Visible units (all, or the given ids) with their codes and latest T3, and the names they refer to.

    Three statements per 500 units, whatever their number: the units joined with their provider, pilot,
    postcode and municipality; their service, language and feature codes in one UNION; their queue times."""
    wanted = None if unit_ids is None else sorted(set(unit_ids))
    chunks = [None] if wanted is None else [wanted[i:i + 500] for i in range(0, len(wanted), 500)]
    units: dict[int, UnitData] = {}
    for chunk in chunks:
        stmt_units, stmt_codes, stmt_queue = _statements()[chunk is not None]
        params = {} if chunk is None else {"ids": chunk}
        units.update((row[0], UnitData(*row)) for row in sess.execute(stmt_units, params))
        for kind, uid, code in sess.execute(stmt_codes, params):
            if uid in units:
                getattr(units[uid], kind).append(code)
        for uid, profession, days, measured in sess.execute(stmt_queue, params):
            unit = units.get(uid)
            current = unit.latest_t3.get(profession) if unit is not None else None
            if unit is not None and (current is None or measured >= current[1]):
                unit.latest_t3[profession] = (days, measured)
    return list(units.values())


def unit_text(unit: UnitData, labels: dict[str, dict[str, str]]) -> dict[str, str]:
    """A unit's words as Whoosh indexes them (its text fields), pure; `labels`: translated_labels()."""
    texts: dict[str, list[str]] = {}
    for lang in ("fi", "sv"):
        lab = labels[lang]
        parts = [getattr(unit, f"{name}_{lang}") or "" for name in ("name", "description", "street")]
        parts += [unit.postcode or "", getattr(unit, f"municipality_name_{lang}") or "",
                  getattr(unit, f"region_{lang}") or "", getattr(unit, f"postcode_name_{lang}") or "",
                  unit.provider_name, lab.get(f"element:{unit.element}", ""), lab.get(f"sector:{unit.sector}", "")]
        parts += [lab.get(f"service:{c}", c) for c in sorted(unit.services)]
        texts[lang] = [p for p in parts if p]
    return {"text_fi": "\n".join(texts["fi"]), "text_sv": "\n".join(texts["sv"]),
            "text_plain": "\n".join(dict.fromkeys(texts["fi"] + texts["sv"]))}
@dataclass(slots=True)
class Row:
    """A unit in the snapshot (snapshots.py): its card, and what filters, sorts and ranking need besides."""
    slot: int
    card: Card
    accepting: bool  # open to a resident outside the queue (UnitData.accepting)
    key_fi: str  # collation keys of the name per language
    key_sv: str
    name_terms: frozenset[str]  # the name's and the place's analysed words, for ranking (query.py)
    place_terms: frozenset[str]
    stamp: str  # new with every load of the unit: a cached page of it is current while its stamp is

    @property
    def id(self) -> int:
        return self.card.id

    def t3(self, profession: str) -> int | None:
        latest = self.card.t3.get(profession)
        return None if latest is None else latest.t3_days


def unit_row(unit: UnitData, ctx: _Context, slot: int, stamp: str) -> Row:
    """A unit's row in the snapshot (pure)."""
    place = [unit.street_fi, unit.street_sv, unit.postcode, unit.municipality_name_fi or "",
             unit.municipality_name_sv or "", unit.postcode_name_fi or "", unit.postcode_name_sv or ""]
    return Row(slot=slot, card=unit_card(unit), accepting=bool(unit.accepting),
               key_fi=collation_key(unit.name_fi or ""), key_sv=collation_key(unit.name_sv or unit.name_fi or ""),
               name_terms=terms(ctx.analyzers, [unit.name_fi, unit.name_sv], ctx.terms_memo),
               place_terms=terms(ctx.analyzers, place, ctx.terms_memo), stamp=stamp)


def unit_card(unit: UnitData) -> Card:
    """What a result card and an API item show of a unit (pure)."""
    return Card(
        id=unit.id, name_fi=unit.name_fi, name_sv=unit.name_sv or "", element=unit.element,
        pilot_slug=unit.pilot_slug, pilot_name_fi=unit.pilot_name_fi, pilot_name_sv=unit.pilot_name_sv,
        provider_name=unit.provider_name, y_tunnus=unit.y_tunnus, sector=unit.sector, street_fi=unit.street_fi,
        street_sv=unit.street_sv or "", postcode=unit.postcode, postcode_name_fi=unit.postcode_name_fi or "",
        postcode_name_sv=unit.postcode_name_sv or "", municipality_code=unit.municipality_code,
        municipality_name_fi=unit.municipality_name_fi or "", municipality_name_sv=unit.municipality_name_sv or "",
        lat=unit.lat, lon=unit.lon, services=tuple(sorted(unit.services)), languages=tuple(sorted(unit.languages)),
        features=tuple(sorted(unit.features)), facts_no=tuple(sorted(unit.facts_no)),
        accessibility_note_fi=unit.accessibility_note_fi or "", accessibility_note_sv=unit.accessibility_note_sv or "",
        accessibility_note_en=unit.accessibility_note_en or "", capacity=unit.capacity,
        listed_count=unit.listed_count, accepting_new=bool(unit.accepting_new), is_demo=bool(unit.is_demo),
        t3={p: LatestT3(int(days), measured) for p, (days, measured) in sorted(unit.latest_t3.items())},
        waiting_count=unit.waiting_count)


def unit_cards(sess: Session, unit_ids: Iterable[int]) -> dict[int, Card]:
    """Cards of visible units read from the database, by id."""
    return {u.id: unit_card(u) for u in load_unit_data(sess, unit_ids)}
