"""Three fixes to Whoosh (whoosh-reloaded 2.7.5), applied when the search package is imported.

1.

While a segment's postings are written, Whoosh asks, for every posting, the length of the document's field
from the segment's length column. `W3PerDocReader._cached_reader` caches the column reader only when the
column exists; for a field without lengths (ours: the keyword and ID fields) it asks the file system again
for every posting. Building 10,000 units made 374,000 `stat` calls that way, a quarter of the build time.
Caching the answer "no such column" too changes nothing else: a segment's files do not change once written.

2. Where the column exists, every posting still reads the length back from the column file (a seek and a read
through two layers of column readers): 1.08 million reads for 10,000 units, about 36 per document and field.
`add_postings` now asks each (field, document) once; the postings of a field come together, so one field's
lengths are kept at a time. The lengths read are the same, so the segment written is the same.

3. A term with fewer postings than the codec's `inlinelimit` is to be stored inline in the term table, not as
a pickled and compressed block in the postings file. Whoosh calls `terminfo.set_inline`, but the method is
named `set_inlined`, so any limit above the default (1: nothing is inlined) failed. In a one-unit update's
segment every term has one posting: inlining them (INLINE_CODEC, index.update_units) takes a third off the
segment's commit. Reading inlined postings is Whoosh's own, unchanged code.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator

from whoosh.codec import base, whoosh3

_MISSING = object()


def _cached_reader(self, fieldname, column):  # noqa: ANN001, ANN202  (Whoosh's signature)
    reader = self._readers.get(fieldname, _MISSING)
    if reader is _MISSING:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


class _FieldLengths:
    """A per-document reader's doc_field_length, asked once per (field, document) while postings are written."""

    def __init__(self, lengths) -> None:  # noqa: ANN001
        self._lengths = lengths
        self._field = None
        self._known: dict[int, int] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int:
        if fieldname != self._field:
            self._field, self._known = fieldname, {}
        found = self._known.get(docnum)
        if found is None:
            found = self._known[docnum] = self._lengths.doc_field_length(docnum, fieldname, default)
        return found


_original_add_postings = base.FieldWriter.add_postings


_local = threading.local()


@contextmanager
def pausing(pause: Callable[[], None]) -> Iterator[None]:
    """While postings are written in this thread, call `pause()` every POSTINGS_BETWEEN_PAUSES postings."""
    _local.pause = pause
    try:
        yield
    finally:
        _local.pause = None


POSTINGS_BETWEEN_PAUSES = 256


def _with_pauses(items: Iterable, pause: Callable[[], None]) -> Iterator:
    for i, item in enumerate(items):
        if i % POSTINGS_BETWEEN_PAUSES == 0:
            pause()
        yield item


def _add_postings(self, schema, lengths, items):  # noqa: ANN001, ANN202  (Whoosh's signature)
    pause = getattr(_local, "pause", None)
    if pause is not None:
        items = _with_pauses(items, pause)
    return _original_add_postings(self, schema, _FieldLengths(lengths) if lengths else lengths, items)


def inline_codec() -> whoosh3.W3Codec:
    """The codec for small segments: terms with a single posting stored inline (fix 3)."""
    return whoosh3.W3Codec(inlinelimit=2)


def apply() -> None:
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
    whoosh3.W3TermInfo.set_inline = whoosh3.W3TermInfo.set_inlined
    if base.FieldWriter.add_postings is _original_add_postings:
        base.FieldWriter.add_postings = _add_postings

