"""Merging a run of small segments without holding the index's write lock while the merged segment is written.

A merge re-reads the run's units from the database and writes them as one segment: for 36 units that takes
two to four times as long as a change. Holding the write lock meanwhile, it made the changes that came then
wait for it. Here it goes in three steps, and only the last takes the lock, for as long as a change does:

1. `plan`: which segments to merge (merging.merge_start), and which unit each of their live documents is.
2. `build`: the merged segment, written in a scratch index beside the version. (Not in the version itself:
   every commit there deletes the files of segments its table of contents does not name.)
3. `swap`: under the lock, if the run is still in the index, its segments are replaced by the merged one,
   in place. A document of the run deleted since the plan (its unit was changed: the new version is in a
   later segment, or it was removed) is deleted in the merged segment too, so each unit keeps one document.

Segments written meanwhile stay after the merged one, at new document numbers; the snapshot follows that
by difference too (snapshot_diff.py).
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session
from whoosh import index as windex
from whoosh.index import LockError
from whoosh.reading import SegmentReader
from whoosh.writing import NO_MERGE

from webapp.search import whoosh_fixes
from webapp.search.documents import _load_units, unit_document
from webapp.search.index import _write_lock, current_version, merge_due, note_change
from webapp.search.merging import merge_start
from webapp.search.readers import deleted_docs

log = logging.getLogger(__name__)


@dataclass
class Plan:
    path: Path                              # the index version
    segment_ids: list[str]                  # the run, in index order
    deleted: dict[str, frozenset[int]]      # per run segment: its deleted documents when planned
    unit_at: dict[tuple[str, int], int]     # (segment id, document number) -> unit id, of the live documents


@dataclass
class Merged:
    scratch: Path
    segment: object | None                  # None when no unit of the run is left to write
    local: dict[int, int]                   # unit id -> its document number in the merged segment


def plan(index_dir: str) -> Plan | None:
    """The merge due in the live version, or None."""
    from webapp.search.snapshots import cached_snapshot
    path = current_version(index_dir)
    if path is None:
        return None
    ix = windex.open_dir(str(path))
    try:
        toc = ix._read_toc()  # noqa: SLF001
        start = merge_start([seg.doc_count() for seg in toc.segments])
        if start is None:
            return None
        run = toc.segments[start:]
        snap = cached_snapshot(index_dir)
        known = snap.segment_rows if snap is not None and snap.path == path else {}
        unit_at: dict[tuple[str, int], int] = {}
        for seg in run:
            segid, deleted = seg.segment_id(), deleted_docs(seg)
            if segid in known:  # the snapshot read its documents already (opening 36 readers took 20-30 ms)
                unit_at.update(((segid, local), row.id) for local, row in known[segid][1].items()
                               if local not in deleted)
                continue
            reader = SegmentReader(ix.storage, toc.schema, seg)
            try:
                unit_at.update(((segid, docnum), int(fields["id"])) for docnum, fields in reader.iter_docs())
            finally:
                reader.close()
        return Plan(path, [seg.segment_id() for seg in run], {seg.segment_id(): deleted_docs(seg) for seg in run}, unit_at)
    finally:
        ix.close()


def build(sess: Session, planned: Plan, pause: Callable[[], None] | None = None) -> Merged:
    """Write the run's units, as the database has them now, as one segment in a scratch index. `pause()` is
    called between documents and while postings are written (merger.py: to give way to requests)."""
    pause = pause or (lambda: None)
    scratch = planned.path.parent / f".merge-{uuid.uuid4().hex[:12]}"
    live = windex.open_dir(str(planned.path))
    try:
        schema, indexname = live._read_toc().schema, live.indexname  # noqa: SLF001
    finally:
        live.close()
    try:
        scratch.mkdir()
        ix = windex.create_in(str(scratch), schema, indexname=indexname)
        writer = ix.writer(codec=whoosh_fixes.inline_codec())
        units, ctx = _load_units(sess, set(planned.unit_at.values()))
        stamp = uuid.uuid4().hex[:16]
        local = {}
        for docnum, unit in enumerate(units):
            pause()
            writer.add_document(**unit_document(unit, ctx, stamp=stamp))
            local[unit.id] = docnum
        with whoosh_fixes.pausing(pause):
            writer.commit(mergetype=NO_MERGE)
        segments = ix._read_toc().segments  # noqa: SLF001
        ix.close()
        return Merged(scratch, segments[0] if segments else None, local)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


def swap(index_dir: str, planned: Plan, merged: Merged) -> bool:
    """Put the merged segment in the run's place; False (nothing changed) when the run is no longer there: a
    rebuild or another merge came first."""
    try:
        if current_version(index_dir) != planned.path:
            return False
        with _write_lock:
            ix = windex.open_dir(str(planned.path))
            try:
                writer = ix.writer(timeout=10.0)  # a change holds the lock for tens of milliseconds
            except LockError:
                ix.close()
                return False
            try:
                segments = writer.segments
                ids = [seg.segment_id() for seg in segments]
                count = len(planned.segment_ids)
                start = ids.index(planned.segment_ids[0]) if planned.segment_ids[0] in ids else -1
                if start < 0 or ids[start:start + count] != planned.segment_ids:
                    writer.cancel()
                    return False
                if merged.segment is not None:
                    for seg in segments[start:start + count]:
                        for docnum in deleted_docs(seg) - planned.deleted[seg.segment_id()]:
                            unit_id = planned.unit_at.get((seg.segment_id(), docnum))
                            if unit_id in merged.local:
                                merged.segment.delete_document(merged.local[unit_id])
                    _move_files(merged, planned.path)
                replaced = segments[:start] + ([merged.segment] if merged.segment is not None else []) \
                    + segments[start + count:]
                writer.commit(mergetype=lambda _writer, _segments: replaced)
                note_change(index_dir)
                return True
            except BaseException:
                if not writer.is_closed:
                    writer.cancel()
                raise
            finally:
                ix.close()
    finally:
        shutil.rmtree(merged.scratch, ignore_errors=True)


def _move_files(merged: Merged, path: Path) -> None:
    prefix = merged.segment.segment_id()  # the index's name and the segment's: MAIN_<id>
    for name in os.listdir(merged.scratch):
        if name.startswith(prefix):
            os.rename(merged.scratch / name, path / name)


STALE_SCRATCH_S = 600


def remove_stale_scratch(index_dir: str) -> None:
    """Scratch indexes a merger left when its process died (older than any merge takes)."""
    for path in Path(index_dir).glob(".merge-*"):
        try:
            if time.time() - path.stat().st_mtime > STALE_SCRATCH_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def merge_all(sess: Session, index_dir: str, pause: Callable[[], None] | None = None) -> int:
    """Do the merges that are due, one after another, until none is; returns how many were swapped in."""
    remove_stale_scratch(index_dir)
    done = 0
    while True:
        if pause is not None:
            pause()
        planned = plan(index_dir)
        if planned is None:
            with _write_lock:  # update_units notes a merge due under it: none may come between plan and note
                if plan(index_dir) is None:
                    merge_due[str(index_dir)] = False
                    return done
            continue
        merged = build(sess, planned, pause)
        if pause is not None:
            pause()  # the swap holds the write lock that the next change needs
        if not swap(index_dir, planned, merged):
            return done  # a rebuild or an in-line merge came first: merge_due stays, the merger looks again
        done += 1
