"""The Whoosh index on disk: building, updating and merging its versions.

Layout on disk: `<index_dir>/CURRENT` names the live version directory (`v<time>`) beside it.
`rebuild_index` builds a new version in a fresh directory and switches CURRENT with an atomic
rename, so readers never see a half-built index; `update_units` rewrites single documents in the
live version (the change log's follower calls it, follow.py); the small segments those updates leave are
merged by segment_merge.py (merging.py says when, merger.py runs it). What a document holds is in documents.py;
reading the live version is in snapshots.py.
"""
from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy.orm import Session
from whoosh import index as windex
from whoosh.reading import SegmentReader
from whoosh.writing import NO_MERGE

from webapp.search import whoosh_fixes
from webapp.search.documents import _load_units, make_schema, unit_document
from webapp.search.merging import merge_start, too_many_pending

log = logging.getLogger(__name__)
whoosh_fixes.apply()

CURRENT = "CURRENT"

# Per index directory, when this process last learned that the index on disk may have changed: it wrote it,
# or its follower checked the change log (another process may have written). snapshots.snapshot() looks at
# the files again only after such a moment, or once its interval has passed.
changed_at: dict[str, float] = {}


def note_change(index_dir: str) -> None:
    changed_at[str(index_dir)] = time.monotonic()


# ---------------------------------------------------------------- versions on disk

def current_version(index_dir: str) -> Path | None:
    root = Path(index_dir)
    try:
        name = (root / CURRENT).read_text().strip()
    except FileNotFoundError:
        # An index written directly into index_dir (older layout) is still readable.
        return root if windex.exists_in(str(root)) else None
    path = root / name
    return path if name and path.is_dir() else None


def rebuild_index(sess: Session, index_dir: str, advance: Callable[[int], None] | None = None,
                  procs: int = 1) -> int:
    """Index every visible unit into a fresh version directory, then switch to it; returns the count.
    `advance(n)` is told of every n units written (webapp.core.progress).

    `procs` > 1 analyses and writes postings in that many processes, each into its own segment (Whoosh's
    multisegment writer, no merge): about twice as fast on two cores. Only for a single-threaded process
    such as `flask index-rebuild`: Whoosh forks its workers, and forking a threaded web worker can leave a
    child waiting on a lock another thread held."""
    root = Path(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    name = f"v{time.time_ns()}-{uuid.uuid4().hex[:6]}"
    build = root / f".build-{name}"
    build.mkdir()
    try:
        units, ctx = _load_units(sess)
        ix = windex.create_in(str(build), make_schema())
        # Postings stay in memory up to limitmb (10,000 units need about 200 MB); beyond it Whoosh sorts them
        # through temporary files, which is much slower but keeps memory bounded.
        writer = (ix.writer(limitmb=256) if procs <= 1
                  else ix.writer(limitmb=256, procs=procs, multisegment=True))
        for i, unit in enumerate(units, 1):
            writer.add_document(**unit_document(unit, ctx, stamp=name))
            if advance is not None and i % 100 == 0:
                advance(100)
        if advance is not None and len(units) % 100:
            advance(len(units) % 100)
        # One process: optimise into one segment. Several: keep their segments (merging would undo the gain).
        writer.commit(optimize=procs <= 1)
        ix.close()
        os.rename(build, root / name)
        tmp = root / f".{CURRENT}-{name}"
        tmp.write_text(name)
        os.replace(tmp, root / CURRENT)  # the atomic switch
        note_change(index_dir)
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

# Per index directory: the last write by this process left small segments due for a merge (merging.py).
merge_due: dict[str, bool] = {}


def update_units(sess: Session, index_dir: str, unit_ids: Iterable[int], merge: bool = True) -> int:
    """Re-index the given units; hidden or deleted ones are removed. Returns how many documents were written.

    With `merge`, the update that makes a merge of small segments due does it in its own commit; without,
    it only notes it in `merge_due` for merger.py, unless too many small segments have piled up.
    Builds the whole index instead when none exists yet."""
    ids = {int(i) for i in unit_ids}
    if not ids:
        return 0
    path = current_version(index_dir)
    if path is None:
        rebuild_index(sess, index_dir)
        return len(ids)
    units, ctx = _load_units(sess, ids)
    stamp = uuid.uuid4().hex[:16]
    with _write_lock:
        ix = windex.open_dir(str(path))
        # A compound file, though copying the segment's files into one takes a tenth of a one-unit update:
        # a reader opens it whole, while it opens a plain segment's column files when first asked for, and a
        # merge deletes the files of the segments it replaces while other workers may still read them.
        writer = ix.writer(timeout=30.0, codec=whoosh_fixes.inline_codec())
        try:
            docnums = _docnums_at(index_dir, path, writer.generation - 1)
            for unit in units:
                document = unit_document(unit, ctx, stamp=stamp)
                if docnums is None:
                    writer.update_document(**document)  # finds the old document through a searcher
                    continue
                if unit.id in docnums:
                    writer.delete_document(docnums[unit.id])
                writer.add_document(**document)
            for missing in ids - {u.id for u in units}:
                if docnums is None:
                    writer.delete_by_term("id", str(missing))
                elif missing in docnums:
                    writer.delete_document(docnums[missing])
            counts = [seg.doc_count() for seg in writer.segments] + [len(units)]
            start = merge_start(counts) if merge or too_many_pending(counts) else None
            _commit_merging(sess, ix, writer, {u.id for u in units}, stamp, start)
            merge_due[str(index_dir)] = start is None and merge_start(counts) is not None
            note_change(index_dir)
        except BaseException:
            writer.cancel()
            raise
        finally:
            ix.close()
    return len(units)


def _commit_merging(sess: Session, ix, writer, written: set[int], stamp: str,  # noqa: ANN001
                    start: int | None) -> None:
    """Commit the writer, with the segments from `start` on merged into its new segment: their other live
    units are read anew from the database and written with it, and the segments are dropped, in one
    commit. Only a trailing run is merged, so the segments before it keep their document numbers."""
    if start is None or start >= len(writer.segments):
        writer.commit(mergetype=NO_MERGE)
        return
    others, ctx = _load_units(sess, _live_unit_ids(ix, writer.segments[start:]) - written)
    for unit in others:
        writer.add_document(**unit_document(unit, ctx, stamp=stamp))
    writer.commit(mergetype=lambda _writer, segments: segments[:start])


def _docnums_at(index_dir: str, path: Path, generation: int) -> dict[int, int] | None:
    """Each unit's document number in the index generation the writer starts from, when this process's
    snapshot is of exactly that generation (the writer's lock keeps it so until the commit); else None.
    update_document would open a searcher over every segment just to find the old document: with a few
    segments that is most of a one-unit update's time.

    A snapshot of an older generation of the same version (a merge, or another worker's change, came since)
    first follows it by difference: the search after this update would do that anyway."""
    from webapp.search.snapshots import cached_snapshot, snapshot
    snap = cached_snapshot(index_dir)
    if snap is None or snap.path != path:
        return None
    if snap.generation < generation:
        snap = snapshot(index_dir)
    if snap.path != path or snap.generation != generation:
        return None
    return snap.docnum_by_id()


def _live_unit_ids(ix, segments: list) -> set[int]:  # noqa: ANN001
    ids: set[int] = set()
    for seg in segments:
        reader = SegmentReader(ix.storage, ix.schema, seg)
        try:
            ids.update(int(fields["id"]) for docnum, fields in reader.iter_docs() if not reader.is_deleted(docnum))
        finally:
            reader.close()
    return ids
