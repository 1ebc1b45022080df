"""A process's snapshot of the searchable units: a row per unit, in a slot that it keeps while the process
runs, bitmasks over the slots per filter value and numpy arrays for the sorts, with the text index's searcher
of the same moment. A snapshot never changes: a change makes the next one by difference (`changed`).
"""
from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from webapp.core.lru import LRU
from webapp.search.documents import Row
from webapp.search.textindex import TextView

MASK_GROUPS = ("pilot", "element", "municipality", "service", "language", "feature", "sector", "accepting",
               "fact_no")  # fact_no: accessibility facts known to be absent (feature: known present)


_ROW_VALUES: dict[str, Callable[[Row], Iterable[str]]] = {
    "pilot": lambda r: (r.card.pilot_slug,), "element": lambda r: (r.card.element,),
    "municipality": lambda r: (r.card.municipality_code,), "service": lambda r: r.card.services,
    "language": lambda r: r.card.languages, "feature": lambda r: r.card.features, "sector": lambda r: (r.card.sector,),
    "accepting": lambda r: ("1",) if r.accepting else (), "fact_no": lambda r: r.card.facts_no}


@dataclass
class Snapshot:
    """The rows by slot with, per filter value, a bitmask of slots (Python ints: AND/OR and bit_count run in C,
    so filters and facet counts over 10,000 units take microseconds). Distances per origin and T3 limits are
    computed when first asked for and cached, as are text matches and scores."""
    version: str      # the build this snapshot descends from (a rebuild starts a new one)
    generation: int   # counts the changes applied since the build
    text: TextView
    by_slot: list[Row | None]
    slot_by_id: dict[int, int]
    all_mask: int = 0
    masks: dict[str, dict[str, int]] = field(default_factory=dict)
    # For sorting in C (numpy), per slot: the position in name order per language, the queue time
    # (doctor, else dentist; inf when unknown) and the coordinates (nan when unknown).
    rank: dict[str, np.ndarray] = field(default_factory=dict)
    order: dict[str, np.ndarray] = field(default_factory=dict)
    queue_t3: np.ndarray = field(default_factory=lambda: np.empty(0))
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))
    _t3: dict[tuple[str, int], int] = field(default_factory=dict)
    text_cache: LRU = field(default_factory=lambda: LRU(256))
    score_cache: LRU = field(default_factory=lambda: LRU(64))
    _distances: LRU = field(default_factory=lambda: LRU(64))  # per origin (postcode)

    @classmethod
    def build(cls, version: str, rows: list[Row], text: TextView) -> Snapshot:
        """Rows with slots 0..n-1 in order."""
        snap = cls(version=version, generation=0, text=text, by_slot=list(rows),
                   slot_by_id={r.id: r.slot for r in rows})
        snap.all_mask = snap.mask_of(r.slot for r in rows)
        lists: dict[str, dict[str, list[int]]] = {g: {} for g in MASK_GROUPS}  # per group and value: its slots
        for r in rows:
            for g in MASK_GROUPS:
                for v in _ROW_VALUES[g](r):
                    lists[g].setdefault(v, []).append(r.slot)
        snap.masks = {g: {v: snap.mask_of(slots) for v, slots in values.items()} for g, values in lists.items()}
        snap._arrange(None, set(), rows)
        text.map_slots(snap.slot_by_id)
        return snap

    def changed(self, new_rows: dict[int, Row | None], text: TextView) -> Snapshot:
        """The next snapshot: per unit id its new row (in the unit's own slot, or a new one after the last) or None
        (removed)."""
        by_slot, slot_by_id = list(self.by_slot), dict(self.slot_by_id)
        masks = {g: dict(values) for g, values in self.masks.items()}
        all_mask, old_slots = self.all_mask, set()
        for uid, row in new_rows.items():
            old = by_slot[self.slot_by_id[uid]] if uid in self.slot_by_id else None
            if old is not None:
                bit = 1 << old.slot
                all_mask &= ~bit
                for g in MASK_GROUPS:
                    for v in _ROW_VALUES[g](old):
                        masks[g][v] &= ~bit
                by_slot[old.slot] = None
                del slot_by_id[uid]
                old_slots.add(old.slot)
            if row is not None:
                if row.slot >= len(by_slot):
                    by_slot.extend([None] * (row.slot + 1 - len(by_slot)))
                by_slot[row.slot], slot_by_id[uid] = row, row.slot
                bit = 1 << row.slot
                all_mask |= bit
                for g in MASK_GROUPS:
                    for v in _ROW_VALUES[g](row):
                        masks[g][v] = masks[g].get(v, 0) | bit
        snap = Snapshot(version=self.version, generation=self.generation + 1, text=text, by_slot=by_slot,
                        slot_by_id=slot_by_id, all_mask=all_mask,
                        masks={g: {v: m for v, m in values.items() if m} for g, values in masks.items()})
        snap._arrange(self, old_slots, [r for r in new_rows.values() if r is not None])
        text.map_slots(slot_by_id)
        return snap

    def rows(self) -> list[Row]:
        return [r for r in self.by_slot if r is not None]

    def stamp_of(self, unit_id: int) -> str | None:
        """The stamp of a unit's row (None: not searchable, i.e. hidden or unknown)."""
        row = self.by_slot[self.slot_by_id[unit_id]] if unit_id in self.slot_by_id else None
        return None if row is None else row.stamp

    def _arrange(self, prev: Snapshot | None, old_slots: set[int], new_rows: list[Row]) -> None:
        """The sort orders and arrays: `prev`'s with the rows in `old_slots` taken out and `new_rows` put in."""
        size, by_slot = len(self.by_slot), self.by_slot
        for lang, key in (("fi", "key_fi"), ("sv", "key_sv")):
            def sort_key(slot: int, key: str = key) -> tuple[str, int]:
                row = by_slot[slot]
                assert row is not None
                return getattr(row, key), row.id
            if prev is None:
                order = sorted((r.slot for r in new_rows), key=sort_key)
            else:
                order = [s for s in prev.order[lang].tolist() if s not in old_slots]
                for row in new_rows:
                    bisect.insort(order, row.slot, key=sort_key)
            self.order[lang] = np.asarray(order, dtype=np.int64)
            self.rank[lang] = np.full(size, len(order), dtype=np.int64)
            self.rank[lang][self.order[lang]] = np.arange(len(order))
        self.queue_t3, self.lat, self.lon = np.full(size, np.inf), np.full(size, np.nan), np.full(size, np.nan)
        if prev is not None:
            kept = min(size, len(prev.by_slot))
            self.queue_t3[:kept], self.lat[:kept], self.lon[:kept] = (prev.queue_t3[:kept], prev.lat[:kept],
                                                                      prev.lon[:kept])
            gone = list(old_slots)
            self.queue_t3[gone], self.lat[gone], self.lon[gone] = np.inf, np.nan, np.nan
        for r in new_rows:  # the queue time: the doctor's, else the dentist's
            t3 = r.t3("doctor")
            t3 = r.t3("dentist") if t3 is None else t3
            if t3 is not None:
                self.queue_t3[r.slot] = t3
            if r.card.lat is not None and r.card.lon is not None:
                self.lat[r.slot], self.lon[r.slot] = r.card.lat, r.card.lon

    def selected(self, mask: int) -> np.ndarray:
        """The bitmask as a boolean array indexed by slot."""
        size = len(self.by_slot)
        raw = np.frombuffer(mask.to_bytes((size + 7) // 8 or 1, "little"), dtype=np.uint8)
        return np.unpackbits(raw, bitorder="little")[:size].astype(bool)

    def mask_of(self, slots: Iterable[int]) -> int:
        size = len(self.by_slot)
        buf = bytearray((size + 7) // 8)
        for d in slots:
            if d < size:
                buf[d >> 3] |= 1 << (d & 7)
        return int.from_bytes(buf, "little")

    def rows_of(self, mask: int) -> list[Row]:
        return [r for d in np.flatnonzero(self.selected(mask)).tolist() if (r := self.by_slot[d]) is not None]

    def value_mask(self, group: str, value: str) -> int:
        return self.masks.get(group, {}).get(value, 0)

    def t3_mask(self, profession: str, limit: int) -> int:
        key = (profession, limit)
        if key not in self._t3:
            self._t3[key] = self.mask_of(r.slot for r in self.rows() if (t3 := r.t3(profession)) is not None
                                         and t3 <= limit)
        return self._t3[key]

    def distances(self, origin: tuple[float, float]) -> np.ndarray:
        """Great-circle distance (km) from origin to every unit, indexed by slot (inf if unknown)."""
        cached: np.ndarray | None = self._distances.get(origin)
        if cached is not None:
            return cached
        lat1, lon1 = np.radians(origin[0]), np.radians(origin[1])
        lat2, lon2 = np.radians(self.lat), np.radians(self.lon)
        a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        out: np.ndarray = 2 * 6371.0088 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        out[np.isnan(out)] = np.inf
        out.flags.writeable = False
        self._distances.put(origin, out)
        return out

    def radius_mask(self, origin: tuple[float, float], radius_km: float) -> int:
        within = self.distances(origin) <= radius_km
        return int.from_bytes(np.packbits(within, bitorder="little").tobytes(), "little") & self.all_mask
