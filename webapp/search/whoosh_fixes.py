"""One fix to Whoosh (whoosh-reloaded 2.7.5), applied when the search package is imported.

While a segment's postings are written, Whoosh asks, for every posting, the length of the document's field
from the segment's length column. `W3PerDocReader._cached_reader` caches the column reader only when the
column exists; for a field without lengths (ours: the keyword and ID fields) it asks the file system again
for every posting. Building 10,000 units made 374,000 `stat` calls that way, a quarter of the build time.
Caching the answer "no such column" too changes nothing else: a segment's files do not change once written.
"""
from __future__ import annotations

from whoosh.codec import whoosh3

_MISSING = object()


def _cached_reader(self, fieldname, column):  # noqa: ANN001, ANN202  (Whoosh's signature)
    reader = self._readers.get(fieldname, _MISSING)
    if reader is _MISSING:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


def apply() -> None:
    whoosh3.W3PerDocReader._cached_reader = _cached_reader
