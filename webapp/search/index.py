"""The Whoosh index: one document per visible unit.

Layout on disk: `<index_dir>/CURRENT` names the live version directory (`v<time>`) beside it.
`rebuild_index` builds a new version in a fresh directory and switches CURRENT with an atomic
rename, so readers never see a half-built index; `update_units` rewrites single documents in the
live version (the staff workspace calls it after every change).

Text is indexed twice, once per language, with the Snowball stemmers (`text_fi`, `text_sv`), plus an
unstemmed field (`text_plain`) used by the typo-tolerant fallback. Filters use keyword/ID fields.
Every process keeps one open searcher and an in-memory table of the stored filter fields per index
version (`snapshot()`), reloaded when CURRENT or the index generation changes.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from whoosh import index as windex
from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from webapp.models import Municipality, Pilot, Postcode, Unit
from webapp.vocab import ELEMENTS, SECTORS, SERVICES

log = logging.getLogger(__name__)

CURRENT = "CURRENT"


def make_schema() -> Schema:
    return Schema(
        id=ID(stored=True, unique=True),
        text_fi=TEXT(analyzer=LanguageAnalyzer("fi")),
        text_sv=TEXT(analyzer=LanguageAnalyzer("sv")),
        text_plain=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=1)),
        name_fi=STORED(),
        name_sv=STORED(),
        pilot=ID(stored=True),
        element=ID(stored=True),
        services=KEYWORD(stored=True),
        municipality=ID(stored=True),
        languages=KEYWORD(stored=True),
        features=KEYWORD(stored=True),
        sector=ID(stored=True),
        accepting=BOOLEAN(stored=True),
        t3_doctor=NUMERIC(int, stored=True),
        t3_nurse=NUMERIC(int, stored=True),
        t3_dentist=NUMERIC(int, stored=True),
        lat=STORED(),
        lon=STORED(),
    )


# ---------------------------------------------------------------- documents

def _labels() -> dict[str, dict[str, str]]:
    """Vocabulary labels in Finnish and Swedish (English outside an app context)."""
    from flask_babel import force_locale
    out: dict[str, dict[str, str]] = {}
    for lang in ("fi", "sv"):
        with force_locale(lang):
            labels = {f"service:{c}": str(v) for c, v in SERVICES.items()}
            labels.update({f"element:{c}": str(v) for c, v in ELEMENTS.items()})
            labels.update({f"sector:{c}": str(v) for c, v in SECTORS.items()})
        out[lang] = labels
    return out


@dataclass
class _Context:
    labels: dict[str, dict[str, str]]
    postcodes: dict[str, Postcode] = field(default_factory=dict)
    municipalities: dict[str, Municipality] = field(default_factory=dict)
    pilots: dict[int, Pilot] = field(default_factory=dict)


def _context(sess: Session, units: list[Unit]) -> _Context:
    ctx = _Context(labels=_labels())
    codes = {u.postcode for u in units}
    if codes:
        for chunk in _chunks(sorted(codes), 500):
            for pc in sess.scalars(select(Postcode).where(Postcode.code.in_(chunk))):
                ctx.postcodes[pc.code] = pc
    return ctx


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def unit_document(unit: Unit, ctx: _Context) -> dict:
    """The Whoosh document of a unit (pure apart from the loaded relationships)."""
    muni = unit.municipality
    pc = ctx.postcodes.get(unit.postcode)
    provider = unit.provider
    pilot = unit.pilot
    texts: dict[str, list[str]] = {}
    for lang in ("fi", "sv"):
        labels = ctx.labels[lang]
        parts = [getattr(unit, f"name_{lang}") or "", getattr(unit, f"description_{lang}") or "",
                 getattr(unit, f"street_{lang}") or "", unit.postcode or "",
                 muni.name(lang) if muni else "", getattr(muni, f"region_{lang}", "") if muni else "",
                 pc.name(lang) if pc else "", provider.name if provider else "",
                 labels.get(f"element:{unit.element}", ""),
                 labels.get(f"sector:{provider.sector}", "") if provider else ""]
        parts += [labels.get(f"service:{c}", c) for c in unit.service_codes]
        texts[lang] = [p for p in parts if p]
    latest = unit.latest_queue_times()
    doc = {
        "id": str(unit.id),
        "text_fi": "\n".join(texts["fi"]),
        "text_sv": "\n".join(texts["sv"]),
        "text_plain": "\n".join(dict.fromkeys(texts["fi"] + texts["sv"])),
        "name_fi": unit.name_fi or "",
        "name_sv": unit.name_sv or "",
        "pilot": pilot.slug if pilot else "",
        "element": unit.element,
        "services": " ".join(unit.service_codes),
        "municipality": unit.municipality_code,
        "languages": " ".join(unit.language_codes),
        "features": " ".join(unit.feature_codes),
        "sector": provider.sector if provider else "",
        "accepting": bool(unit.accepting_new and not unit.is_full),
        "lat": unit.lat,
        "lon": unit.lon,
    }
    for profession in ("doctor", "nurse", "dentist"):
        if profession in latest:
            doc[f"t3_{profession}"] = int(latest[profession].t3_days)
    return doc


def _load_units(sess: Session, unit_ids: Iterable[int] | None = None) -> list[Unit]:
    stmt = (select(Unit).where(Unit.is_hidden.is_(False))
            .options(selectinload(Unit.services), selectinload(Unit.languages), selectinload(Unit.features),
                     selectinload(Unit.queue_times))
            .order_by(Unit.id))
    if unit_ids is not None:
        ids = sorted(set(unit_ids))
        units: list[Unit] = []
        for chunk in _chunks(ids, 500):
            units += list(sess.scalars(stmt.where(Unit.id.in_(chunk))).unique())
        return units
    return list(sess.scalars(stmt).unique())


# ---------------------------------------------------------------- versions on disk

def _current_version(index_dir: str) -> Path | None:
    root = Path(index_dir)
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        # An index written directly into index_dir (older layout) is still readable.
        return root if windex.exists_in(str(root)) else None
    path = root / name
    return path if name and path.is_dir() else None


def rebuild_index(sess: Session, index_dir: str) -> int:
    """Index every visible unit into a fresh version directory, then switch to it; returns the count."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    build = root / f".build-{name}"
    build.mkdir()
    try:
        units = _load_units(sess)
        ctx = _context(sess, units)
        ix = windex.create_in(str(build), make_schema())
        writer = ix.writer(limitmb=128)
        for unit in units:
            writer.add_document(**unit_document(unit, ctx))
        writer.commit(optimize=True)
        ix.close()
        os.rename(build, root / name)
        tmp = root / f".{CURRENT}-{name}"
        tmp.write_text(name)
        os.replace(tmp, root / CURRENT)  # the atomic switch
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    _remove_old_versions(root, keep=name)
    return len(units)


def _remove_old_versions(root: Path, keep: str) -> None:
    """Keep the live version and the one before it (a reader in another process may still use it)."""
    versions = sorted((p for p in root.iterdir() if p.is_dir() and p.name.startswith("v")), key=lambda p: p.name)
    older = [p for p in versions if p.name != keep]
    for path in older[:-1]:
        shutil.rmtree(path, ignore_errors=True)
    # Files of the old flat layout are no longer used once a version exists.
    for path in root.iterdir():
        if path.is_file() and (path.suffix in (".toc", ".seg") or path.name.startswith("_MAIN")):
            try:
                path.unlink()
            except OSError:
                pass


_write_lock = threading.Lock()


def update_units(sess: Session, index_dir: str, unit_ids: Iterable[int]) -> int:
    """Re-index the given units; hidden or deleted ones are removed. Returns how many documents were written.

    Builds the whole index instead when none exists yet."""
    ids = {int(i) for i in unit_ids}
    if not ids:
        return 0
    path = _current_version(index_dir)
    if path is None:
        rebuild_index(sess, index_dir)
        return len(ids)
    units = _load_units(sess, ids)
    ctx = _context(sess, units)
    with _write_lock:
        ix = windex.open_dir(str(path))
        writer = ix.writer(timeout=30.0)
        try:
            for unit in units:
                writer.update_document(**unit_document(unit, ctx))
            for missing in ids - {u.id for u in units}:
                writer.delete_by_term("id", str(missing))
            writer.commit()
        except BaseException:
            writer.cancel()
            raise
        finally:
            ix.close()
    return len(units)


# ---------------------------------------------------------------- the per-process snapshot

@dataclass(slots=True)
class Row:
    """The stored filter fields of one document."""
    docnum: int
    id: int
    name_fi: str
    name_sv: str
    pilot: str
    element: str
    services: frozenset
    municipality: str
    languages: frozenset
    features: frozenset
    sector: str
    accepting: bool
    t3_doctor: int | None
    t3_nurse: int | None
    t3_dentist: int | None
    lat: float | None
    lon: float | None


def _row(docnum: int, f: dict) -> Row:
    return Row(docnum=docnum, id=int(f["id"]), name_fi=f.get("name_fi", ""), name_sv=f.get("name_sv", ""),
               pilot=f.get("pilot", ""), element=f.get("element", ""),
               services=frozenset((f.get("services") or "").split()), municipality=f.get("municipality", ""),
               languages=frozenset((f.get("languages") or "").split()),
               features=frozenset((f.get("features") or "").split()), sector=f.get("sector", ""),
               accepting=bool(f.get("accepting")), t3_doctor=f.get("t3_doctor"), t3_nurse=f.get("t3_nurse"),
               t3_dentist=f.get("t3_dentist"), lat=f.get("lat"), lon=f.get("lon"))


@dataclass
class Snapshot:
    path: Path
    generation: int
    ix: object
    searcher: object
    rows: list[Row]
    by_docnum: dict[int, Row]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        try:
            self.searcher.close()
            self.ix.close()
        except Exception:  # noqa: BLE001  closing an index that is gone is harmless
            pass


MAX_SNAPSHOTS = 8
_snapshots: dict[str, Snapshot] = {}
_snapshot_lock = threading.Lock()


class IndexMissing(RuntimeError):
    pass


def snapshot(index_dir: str) -> Snapshot:
    """The open searcher and row table of the live index version (cached per process)."""
    path = _current_version(index_dir)
    if path is None:
        raise IndexMissing(index_dir)
    with _snapshot_lock:
        snap = _snapshots.get(index_dir)
        if snap is not None and snap.path == path:
            if snap.ix.latest_generation() == snap.generation:
                return snap
        ix = windex.open_dir(str(path))
        searcher = ix.searcher()
        reader = searcher.reader()
        rows = [_row(docnum, fields) for docnum, fields in reader.iter_docs()]
        new = Snapshot(path=path, generation=ix.latest_generation(), ix=ix, searcher=searcher, rows=rows,
                       by_docnum={r.docnum: r for r in rows})
        if snap is not None:
            snap.close()
        _snapshots.pop(index_dir, None)
        _snapshots[index_dir] = new
        while len(_snapshots) > MAX_SNAPSHOTS:  # e.g. many test apps in one process
            _snapshots.pop(next(iter(_snapshots))).close()
        return new


def forget_snapshots() -> None:
    with _snapshot_lock:
        for snap in _snapshots.values():
            snap.close()
        _snapshots.clear()
