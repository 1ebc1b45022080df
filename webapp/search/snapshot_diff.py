"""A snapshot's next generation by difference (Snapshot.load): what update_units changed is applied to the
previous snapshot's table, masks and sort orders instead of reading all documents again."""
from __future__ import annotations

import bisect
from dataclasses import replace

import numpy as np

from webapp.search.snapshots import Row, Snapshot, _row, _segid, place_rows, value_lists


def follow(cls: type[Snapshot], prev: Snapshot, ix, searcher, subs: list,  # noqa: ANN001
           generation: int) -> Snapshot | None:
    """The next generation from `prev` by difference, as update_units and the merges leave it: segments kept
    at their offsets, some documents deleted, new segments after them; a run of small segments replaced by
    their merge, and the segments after it moved to new offsets. Only the new segments' documents are read,
    and only the changes are applied to the masks and sort orders, so a change reaches search in
    milliseconds instead of rebuilding the whole table. None when a segment has no id: load fully."""
    if not all(_segid(sub) for sub, _offset in subs):
        return None
    now = {_segid(sub): offset for sub, offset in subs}
    moved = {segid for segid, (offset, _rows) in prev.segment_rows.items() if segid in now and now[segid] != offset}
    by_docnum = list(prev.by_docnum)
    segment_rows = {segid: kept for segid, kept in prev.segment_rows.items() if segid in now and segid not in moved}
    removed: list[int] = []

    def remove(docnum: int) -> None:
        if docnum < len(by_docnum) and by_docnum[docnum] is not None:
            by_docnum[docnum] = None
            removed.append(docnum)

    for segid, (_offset, rows) in prev.segment_rows.items():
        if segid not in segment_rows:  # merged away, or moved: its documents are at other numbers now
            for r in rows.values():
                remove(r.docnum)
    added: list[Row] = []
    size = 0
    for sub, offset in subs:
        segid = _segid(sub)
        size = max(size, offset + sub.doc_count_all())
        if segid in segment_rows:
            if sub.has_deletions():
                for local in sub.segment().deleted_docs():
                    remove(offset + local)
            continue
        if segid in moved:  # the same documents, renumbered (segments are immutable)
            cached = {local: replace(row, docnum=offset + local) for local, row in prev.segment_rows[segid][1].items()}
        else:
            cached = {local: _row(offset + local, fields) for local, fields in sub.iter_docs()}
        segment_rows[segid] = (offset, cached)
        added.extend(r for local, r in cached.items() if not (sub.has_deletions() and sub.is_deleted(local)))
    if len(by_docnum) < size:  # (in place: a new list of 100,000 cost a change 10 ms)
        by_docnum.extend([None] * (size - len(by_docnum)))
    else:
        del by_docnum[size:]
    for r in added:
        by_docnum[r.docnum] = r
    snap = cls(path=prev.path, generation=generation, ix=ix, searcher=searcher,
               by_docnum=by_docnum,
               all_mask=0, masks={}, segment_rows=segment_rows)
    snap._docnum_by_id = _docnums_followed(prev, removed, added)
    keep = ~snap.mask_of(removed) & ((1 << size) - 1)  # also clears documents past a shrunken end
    new_lists = value_lists(added)
    snap.all_mask = (prev.all_mask & keep) | snap.mask_of(r.docnum for r in added)
    masks = {g: {v: m & keep for v, m in values.items()} for g, values in prev.masks.items()}
    for g, values in new_lists.items():
        group = masks.setdefault(g, {})
        for v, docnums in values.items():
            group[v] = group.get(v, 0) | snap.mask_of(docnums)
    snap.masks = {g: {v: m for v, m in values.items() if m} for g, values in masks.items()}
    _sort_arrays_from(snap, prev, removed, added)
    return snap

def _sort_arrays_from(self: Snapshot, prev: Snapshot, removed: list[int], added: list[Row]) -> None:
    """The sort orders and arrays of `prev` with `removed` taken out and `added` put in."""
    size, by_docnum = len(self.by_docnum), self.by_docnum
    for lang, key in (("fi", "key_fi"), ("sv", "key_sv")):
        order = prev.order[lang]
        if removed:  # their positions in the order, from the rank array (np.isin sorted all of it)
            positions = prev.rank[lang][np.asarray([d for d in removed if d < len(prev.rank[lang])], dtype=np.int64)]
            order = np.delete(order, positions[positions < len(order)])
        if added:
            # bisect on the array itself: a list of it cost an O(n) copy per language and change
            sort_key = lambda d: (getattr(by_docnum[d], key), by_docnum[d].id)  # noqa: E731
            new = sorted(added, key=lambda r: (getattr(r, key), r.id))
            positions = [bisect.bisect_left(order, (getattr(r, key), r.id), key=sort_key) for r in new]
            order = np.insert(order, positions, [r.docnum for r in new])
        rank = np.full(size, len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        self.order[lang], self.rank[lang] = order, rank

    def resized(array: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(size, fill)
        common = min(size, len(array))
        out[:common] = array[:common]
        return out

    queue, lat, lon = resized(prev.queue_t3, np.inf), resized(prev.lat, np.nan), resized(prev.lon, np.nan)
    gone = [d for d in removed if d < size]
    if gone:
        queue[gone], lat[gone], lon[gone] = np.inf, np.nan, np.nan
    place_rows(queue, lat, lon, added)
    self.queue_t3, self.lat, self.lon = queue, lat, lon


def _docnums_followed(prev: Snapshot, removed: list[int], added: list[Row]) -> dict[int, int] | None:
    """prev's unit -> document number map with the removals and additions applied; None to build it afresh when
    prev had none or a unit would have two documents. The map is taken over, not copied (a copy cost a change
    8 ms at 100,000 units): prev makes its own again if asked (Snapshot.stamp_of checks what it finds)."""
    ids = prev._docnum_by_id  # noqa: SLF001
    if not ids:
        return None
    prev._docnum_by_id = None  # noqa: SLF001
    for docnum in removed:
        row = prev.by_docnum[docnum] if docnum < len(prev.by_docnum) else None
        if row is not None and ids.get(row.id) == docnum:
            del ids[row.id]
    for row in added:
        if row.id in ids:
            return None
        ids[row.id] = row.docnum
    return ids
