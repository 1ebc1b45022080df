"""The per-process snapshot of the live index version.

Every process keeps one open searcher and an in-memory table of the stored filter fields per index
version (`snapshot()`), reloaded when CURRENT or the index generation changes.
"""
from __future__ import annotations

import gc
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterable

import numpy as np
from whoosh import index as windex

from webapp.core.collation import collation_key
from webapp.core.lru import LRU
from webapp.search.index import changed_at, current_version
from webapp.search.readers import close_searcher, open_searcher

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
    key_fi: str = ""
    key_sv: str = ""
    name_terms: frozenset = frozenset()
    place_terms: frozenset = frozenset()
    card: str = ""  # JSON, read by cards.Card
    facts_no: frozenset = frozenset()
    stamp: str = ""  # new with every write of the document (index.make_schema)

    @property
    def accessibility(self) -> dict[str, bool]:
        """Accessibility facts: code -> yes/no; a code not in it is not known."""
        facts = {c: False for c in self.facts_no}
        facts.update({c: True for c in self.features})
        return facts


def place_rows(queue: np.ndarray, lat: np.ndarray, lon: np.ndarray, rows: Iterable[Row]) -> None:
    """Each row's queue time (doctor, else dentist) and coordinates into the arrays, at its docnum."""
    for r in rows:
        t3 = r.t3_doctor if r.t3_doctor is not None else r.t3_dentist
        if t3 is not None:
            queue[r.docnum] = t3
        if r.lat is not None and r.lon is not None:
            lat[r.docnum], lon[r.docnum] = r.lat, r.lon


def _segid(sub) -> str | None:  # noqa: ANN001
    try:
        return sub.segment().segment_id()
    except AttributeError:
        return None


_CODE_SETS: dict[str, frozenset] = {}


def _codes(text: str | None) -> frozenset:
    """A set of vocabulary codes, shared by every row with the same codes: there are few distinct sets, and
    a frozenset of new strings per row cost about a kilobyte per unit at 100,000 units."""
    text = text or ""
    found = _CODE_SETS.get(text)
    if found is None:
        found = frozenset(sys.intern(code) for code in text.split())
        if len(_CODE_SETS) < 100_000:
            _CODE_SETS[text] = found
    return found


def _row(docnum: int, f: dict) -> Row:
    name_fi, name_sv = f.get("name_fi", ""), f.get("name_sv", "")
    return Row(docnum=docnum, id=int(f["id"]), name_fi=name_fi, name_sv=name_sv,
               pilot=sys.intern(f.get("pilot", "")), element=sys.intern(f.get("element", "")),
               services=_codes(f.get("services")), municipality=sys.intern(f.get("municipality", "")),
               languages=_codes(f.get("languages")),
               features=_codes(f.get("features")), sector=sys.intern(f.get("sector", "")),
               accepting=bool(f.get("accepting")), t3_doctor=f.get("t3_doctor"), t3_nurse=f.get("t3_nurse"),
               t3_dentist=f.get("t3_dentist"), lat=f.get("lat"), lon=f.get("lon"),
               key_fi=collation_key(name_fi), key_sv=collation_key(name_sv or name_fi),
               name_terms=frozenset((f.get("name_terms") or "").split()),
               place_terms=frozenset((f.get("place_terms") or "").split()), card=f.get("card") or "",
               facts_no=_codes(f.get("facts_no")), stamp=f.get("stamp") or "")


# Bit positions set in each byte value, for turning a bitmask back into document numbers quickly.
_BITS = [tuple(b for b in range(8) if v >> b & 1) for v in range(256)]
MASK_GROUPS = ("pilot", "element", "municipality", "service", "language", "feature", "sector", "accepting",
               "fact_no")  # fact_no: accessibility facts known to be absent (feature: known present)


def _row_values(group: str, r: Row) -> Iterable[str]:
    if group == "service":
        return r.services
    if group == "feature":
        return r.features
    if group == "fact_no":
        return r.facts_no
    if group == "language":
        return r.languages
    if group == "accepting":
        return ("1",) if r.accepting else ()
    return (getattr(r, group),)


def value_lists(rows: Iterable[Row]) -> dict[str, dict[str, list[int]]]:
    """Per filter group and value, the document numbers of the rows that have it (for the bitmasks)."""
    lists: dict[str, dict[str, list[int]]] = {g: {} for g in MASK_GROUPS}
    for r in rows:
        for g in MASK_GROUPS:
            for v in _row_values(g, r):
                lists[g].setdefault(v, []).append(r.docnum)
    return lists


@dataclass
class Snapshot:
    """An open index version with its stored fields as rows and, per filter value, a bitmask of documents
    (Python ints: AND/OR and bit_count run in C, so filters and facet counts over 10,000 units take
    microseconds). Distances per origin and T3 limits are computed once and cached."""
    path: Path
    generation: int
    ix: object
    searcher: object
    by_docnum: list[Row | None]
    all_mask: int
    masks: dict[str, dict[str, int]]
    segment_rows: dict = field(default_factory=dict)
    # For sorting in C (numpy), per docnum: the position in name order per language, the queue time
    # (doctor, else dentist; inf when unknown) and the coordinates (nan when unknown).
    rank: dict[str, np.ndarray] = field(default_factory=dict)
    order: dict[str, np.ndarray] = field(default_factory=dict)
    queue_t3: np.ndarray | None = None
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    _t3: dict = field(default_factory=dict)
    text_cache: LRU = field(default_factory=lambda: LRU(256))
    score_cache: LRU = field(default_factory=lambda: LRU(64))
    _distances: LRU = field(default_factory=lambda: LRU(64))  # per origin (postcode)
    _docnum_by_id: dict | None = None  # unit id -> document number; carried over by snapshot_diff.follow
    _rows: list[Row] | None = None  # the live rows in document order, made when first asked for (rows)

    @property
    def rows(self) -> list[Row]:
        """The live rows in document order. Made when first asked for: a change's snapshot follows by
        difference (snapshot_diff.py), and walking all documents for it cost 2 ms at 100,000 units."""
        if self._rows is None:
            self._rows = [r for r in self.by_docnum if r is not None]
        return self._rows

    @classmethod
    def load(cls, path: Path, previous: "Snapshot | None" = None) -> "Snapshot":
        """Open the index at path. Segments are immutable, so the rows of segments that `previous`
        (an older generation of the same version) already read are reused: after update_units only
        the small new segment is read, not all 10,000 stored documents."""
        ix = windex.open_dir(str(path))
        same_version = previous is not None and previous.path == path
        searcher, generation = open_searcher(ix, previous.searcher if same_version else None)
        try:
            return cls._from_searcher(path, ix, searcher, generation, previous if same_version else None)
        except BaseException:
            close_searcher(searcher)  # its readers' counts, or files shared with other snapshots stay open
            raise

    @classmethod
    def _from_searcher(cls, path: Path, ix, searcher, generation: int,  # noqa: ANN001
                       previous: "Snapshot | None") -> "Snapshot":
        reader = searcher.reader()
        subs = list(zip(reader.readers, reader.doc_offsets)) if hasattr(reader, "readers") else [(reader, 0)]
        if previous is not None:
            from webapp.search.snapshot_diff import follow
            followed = follow(cls, previous, ix, searcher, subs, generation)
            if followed is not None:
                return followed
        reusable = previous.segment_rows if previous is not None else {}
        # Per segment: its rows numbered from the offset it had then (document numbers are the offset plus
        # the local number; they shift only when an earlier segment is merged away).
        segment_rows: dict[str, tuple[int, dict[int, Row]]] = {}
        rows: list[Row] = []
        for sub, offset in subs:
            segid = _segid(sub)
            cached_offset, cached = reusable.get(segid, (offset, None)) if segid else (offset, None)
            if cached is None:
                cached = {local: _row(offset + local, fields) for local, fields in sub.iter_docs()}
            elif cached_offset != offset:
                cached = {local: replace(row, docnum=offset + local) for local, row in cached.items()}
            if segid:
                segment_rows[segid] = (offset, cached)
            deletions = sub.has_deletions()
            for local, row in cached.items():
                if deletions and sub.is_deleted(local):
                    continue
                rows.append(row)
        size = max((r.docnum for r in rows), default=-1) + 1
        by_docnum: list[Row | None] = [None] * size
        for r in rows:
            by_docnum[r.docnum] = r
        snap = cls(path=path, generation=generation, ix=ix, searcher=searcher, _rows=rows,
                   by_docnum=by_docnum, all_mask=0, masks={}, segment_rows=segment_rows)
        snap.all_mask = snap.mask_of(r.docnum for r in rows)
        snap.masks = {g: {v: snap.mask_of(ds) for v, ds in values.items()} for g, values in value_lists(rows).items()}
        snap._sort_arrays()
        return snap

    @property
    def schema(self):  # noqa: ANN201
        """The schema as the searcher read it. Not ix.schema: that reads the newest TOC file from disk on every
        call, which another process's writer may just have deleted (FileNotFoundError under load)."""
        return self.searcher.schema

    def _docnums(self) -> dict[int, int]:
        found = self._docnum_by_id
        if found is None:
            found = self._docnum_by_id = {r.id: r.docnum for r in self.rows}
        return found

    def docnum_by_id(self) -> dict[int, int] | None:
        """Each unit's live document number in this generation; None when some unit has two live documents
        (update_units then asks the index itself)."""
        found = self._docnums()
        return found if len(found) == self.all_mask.bit_count() else None

    def stamp_of(self, unit_id: int) -> str | None:
        """The stamp of a unit's document (None: not in the index, i.e. hidden or unknown)."""
        docnum = self._docnums().get(unit_id)
        row = self.by_docnum[docnum] if docnum is not None and docnum < len(self.by_docnum) else None
        if docnum is not None and (row is None or row.id != unit_id):
            # The map was just handed over to the next generation (snapshot_diff): look the unit up directly.
            row = next((r for r in self.rows if r.id == unit_id), None)
        return None if row is None else row.stamp

    def _sort_arrays(self) -> None:
        size = len(self.by_docnum)
        for lang, key in (("fi", "key_fi"), ("sv", "key_sv")):
            ordered = sorted(self.rows, key=lambda r: (getattr(r, key), r.id))
            order = np.fromiter((r.docnum for r in ordered), dtype=np.int64, count=len(ordered))
            rank = np.full(size, len(ordered), dtype=np.int64)
            rank[order] = np.arange(len(ordered))
            self.order[lang], self.rank[lang] = order, rank
        queue = np.full(size, np.inf)
        lat, lon = np.full(size, np.nan), np.full(size, np.nan)
        place_rows(queue, lat, lon, self.rows)
        self.queue_t3, self.lat, self.lon = queue, lat, lon

    def selected(self, mask: int) -> np.ndarray:
        """The bitmask as a boolean array indexed by docnum."""
        size = len(self.by_docnum)
        raw = np.frombuffer(mask.to_bytes((size + 7) // 8 or 1, "little"), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[:size].astype(bool)

    def mask_of(self, docnums: Iterable[int]) -> int:
        size = len(self.by_docnum)
        buf = bytearray((size + 7) // 8)
        for d in docnums:
            if d < size:
                buf[d >> 3] |= 1 << (d & 7)
        return int.from_bytes(buf, "little")

    def docnums(self, mask: int) -> list[int]:
        out: list[int] = []
        for i, byte in enumerate(mask.to_bytes((len(self.by_docnum) + 7) // 8 or 1, "little")):
            if byte:
                base = i << 3
                out.extend(base + b for b in _BITS[byte])
        return out

    def value_mask(self, group: str, value: str) -> int:
        return self.masks.get(group, {}).get(value, 0)

    def t3_mask(self, profession: str, limit: int) -> int:
        key = (profession, limit)
        if key not in self._t3:
            attr = f"t3_{profession}"
            self._t3[key] = self.mask_of(r.docnum for r in self.rows
                                         if getattr(r, attr) is not None and getattr(r, attr) <= limit)
        return self._t3[key]

    def distances(self, origin: tuple[float, float]) -> np.ndarray:
        """Great-circle distance (km) from origin to every document, indexed by docnum (inf if unknown)."""
        cached = self._distances.get(origin)
        if cached is not None:
            return cached
        lat1, lon1 = np.radians(origin[0]), np.radians(origin[1])
        lat2, lon2 = np.radians(self.lat), np.radians(self.lon)
        a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        out = 2 * 6371.0088 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        out[np.isnan(out)] = np.inf
        out.flags.writeable = False
        self._distances.put(origin, out)
        return out

    def radius_mask(self, origin: tuple[float, float], radius_km: float) -> int:
        within = self.distances(origin) <= radius_km
        return int.from_bytes(np.packbits(within, bitorder="little").tobytes(), "little") & self.all_mask


MAX_SNAPSHOTS = 8
_snapshots: dict[str, Snapshot] = {}
_snapshot_lock = threading.Lock()


class IndexMissing(RuntimeError):
    pass


def cached_snapshot(index_dir: str) -> Snapshot | None:
    """The snapshot this process has open for index_dir, as it is (no check for a newer generation)."""
    return _snapshots.get(index_dir)


_verified: dict[str, float] = {}  # per index directory: when the files last confirmed the cached snapshot


def snapshot(index_dir: str, max_age_ms: float = 0) -> Snapshot:
    """The open searcher and row table of the live index version (cached per process).

    With `max_age_ms`, a snapshot confirmed against the files less than that long ago, with no change
    noted since (index.note_change: this process wrote the index, or its follower checked the change log),
    is returned without reading CURRENT and listing the index directory again: a page-cache hit costs
    about 1 ms, and those file reads were a third of it."""
    if max_age_ms > 0:
        snap, verified = _snapshots.get(index_dir), _verified.get(index_dir)
        if (snap is not None and verified is not None and verified > changed_at.get(str(index_dir), 0.0)
                and (time.monotonic() - verified) * 1000 < max_age_ms):
            return snap
    checked = time.monotonic()
    path = current_version(index_dir)
    if path is None:
        raise IndexMissing(index_dir)
    with _snapshot_lock:
        snap = _snapshots.get(index_dir)
        if snap is not None and snap.path == path and snap.ix.latest_generation() == snap.generation:
            _verified[index_dir] = checked
            return snap
        new = Snapshot.load(path, previous=snap)
        # The row table is long-lived: move it out of the collector's reach, or every full collection
        # walks its ~200,000 objects (a 50-100 ms pause on 10,000 units).
        gc.freeze()
        if snap is not None:
            _retire(snap)
        _snapshots.pop(index_dir, None)
        _snapshots[index_dir] = new
        while len(_snapshots) > MAX_SNAPSHOTS:  # e.g. many test apps in one process
            _retire(_snapshots.pop(next(iter(_snapshots))))
        _verified[index_dir] = checked
        return new


def _close(searcher, ix) -> None:  # noqa: ANN001
    try:
        close_searcher(searcher)
        ix.close()
    except Exception:  # noqa: BLE001  closing an index that is gone is harmless
        pass


def _retire(snap: Snapshot) -> None:
    """Close a replaced snapshot's searcher when the last search using it is done: another thread of this
    process may be in the middle of a search on it (its files are memory-mapped), and such a search holds a
    reference to the snapshot. Closing at once when the last reference goes, not after a fixed wait, matters:
    each open searcher holds about 6 MB of Whoosh's per-segment data, and a burst of 40 changes within a
    minute kept 40 of them (250 MB more per worker at 10,000 units)."""
    weakref.finalize(snap, _close, snap.searcher, snap.ix)

