"""A searcher for a new index generation that shares the previous generation's readers of unchanged segments.

`ix.searcher()` opens a reader for every segment: each opens the segment's files and reads its term table's
header, about 0.4 ms a segment. A change adds one segment and deletes a document in another, so opening
them all again cost a change 6 ms with a few small segments and 20 ms with fifty (while merges wait for a
pause, merger.py). Whoosh's own `reader(reuse=...)` is no help: it reuses a reader when the segment's id is
the same even if the segment has new deletions, and the reader would still show the deleted document.

Here a segment reader is shared when the segment's id and its deleted documents are the same. When only the
deletions differ (the build's segment loses a document with every change), a copy of the reader is made that
shares its open files and caches and reads the new deletions: reopening the build's segment cost a change
1-2 ms. The readers sharing files count the searchers using them: closing a searcher closes the files only
when no other searcher uses them.
"""
from __future__ import annotations

import copy
import threading

from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

# Counted per open searcher using them, keyed by id() (entries go when the count does, while the reader lives):
_uses: dict[int, int] = {}               # a reader (one that opened the files, or a copy with other deletions)
_files_users: dict[int, int] = {}        # the reader that opened the files: uses of it and of its copies
# Re-entrant: a snapshot's finalizer (close_searcher) could run in a collection inside open_searcher's lock.
_lock = threading.RLock()
RETRIES = 10


def deleted_docs(segment) -> frozenset[int]:  # noqa: ANN001
    """A segment's deleted document numbers (segment_merge.py uses them too)."""
    return frozenset(segment.deleted_docs()) if segment.has_deletions() else frozenset()


def open_searcher(ix, previous: Searcher | None = None) -> tuple[Searcher, int]:  # noqa: ANN001
    """A searcher over the index's latest generation, with `previous`'s readers of unchanged segments, and
    that generation's number (as read with the segments: the directory may hold a newer one already).

    Another process may commit meanwhile and delete the table of contents just read, or a merged segment's
    files: then the table is read again, as Whoosh's own `reader()` does."""
    old = {}
    if previous is not None:
        for reader, _offset in previous.reader().leaf_readers():
            segment = reader.segment() if isinstance(reader, SegmentReader) else None
            if segment is not None and not reader.is_closed:
                old[segment.segment_id()] = reader
    for attempt in range(RETRIES):
        opened: list[SegmentReader] = []
        try:
            toc = ix._read_toc()  # noqa: SLF001  (what ix.reader() reads)
            readers = []
            for segment in toc.segments:
                reader = old.get(segment.segment_id())
                if reader is None:
                    reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
                    opened.append(reader)
                elif deleted_docs(reader.segment()) != deleted_docs(segment):
                    reader = _with_deletions_of(reader, segment)
                readers.append(reader)
        except OSError:
            for reader in opened:
                reader.close()
            if attempt == RETRIES - 1:
                raise
            continue
        break
    with _lock:
        for reader in readers:
            opener = _opener_of(reader)
            _uses[id(reader)] = _uses.get(id(reader), 0) + 1
            _files_users[id(opener)] = _files_users.get(id(opener), 0) + 1
    if not readers:
        combined = EmptyReader(toc.schema)
    elif len(readers) == 1:
        combined = readers[0]
    else:
        combined = MultiReader(readers, generation=toc.generation)
    return Searcher(combined, fromindex=ix), toc.generation


def _with_deletions_of(reader: SegmentReader, segment) -> SegmentReader:  # noqa: ANN001
    """A copy of the reader, sharing its open files and caches, that reads `segment`'s deletions (the
    deletions are all a reader takes from its segment object; the files of a segment never change)."""
    copied = copy.copy(reader)
    copied.__dict__.pop("deleted_docs_set", None)  # a cached_property: the old deletions, filtered from postings
    copied._segment = segment  # noqa: SLF001
    copied._perdoc = copy.copy(reader._perdoc)  # noqa: SLF001
    copied._perdoc._segment = segment  # noqa: SLF001
    copied._shares_files_of = _opener_of(reader)
    return copied


def _opener_of(reader: SegmentReader) -> SegmentReader:
    """The reader that opened the files `reader` reads (itself, unless it is a copy)."""
    return getattr(reader, "_shares_files_of", reader)


def close_searcher(searcher: Searcher) -> None:
    """Close the searcher, and the files of those of its readers that no other open searcher uses."""
    with _lock:
        for reader, _offset in searcher.reader().leaf_readers():
            opener = _opener_of(reader)
            if _drop(_uses, reader) and reader is not opener:
                reader.is_closed = True  # (its files close with the opener's)
            if _drop(_files_users, opener):
                opener.close()
        searcher.is_closed = True


def _drop(counts: dict[int, int], reader) -> bool:  # noqa: ANN001
    """One use fewer; True when it was the last."""
    left = counts.pop(id(reader), 1) - 1
    if left > 0:
        counts[id(reader)] = left
    return left <= 0
