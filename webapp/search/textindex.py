"""The process's Whoosh index of the units' words, used only through Whoosh's public API.

Whoosh answers one question: which units match these words (query.py). Each process writes its own index in
a folder of its own under INDEX_DIR, so no other process ever writes it: a build creates a fresh folder,
a change updates the documents with Whoosh's writer and its normal merge policy, and a new searcher reads
the result. Segments are written as compound files (Whoosh's default), which a reader opens
whole, so an older searcher still in use reads on after a merge has deleted the files.
"""
from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import cast

import numpy as np
from whoosh import index as windex
from whoosh.query import And, FuzzyTerm, Or, Query, Term
from whoosh.reading import IndexReader
from whoosh.searching import Searcher

from webapp.search.documents import make_schema

PROCESS_PREFIX = "proc-"


class TextView:
    """One searcher of the index, with Whoosh's document numbers mapped to the snapshot's slots."""

    def __init__(self, index: TextIndex, searcher: Searcher) -> None:
        self.index = index  # its folder stays while a view of it is in use
        self.searcher = searcher
        self.lock = index.lock  # a searcher is not safe for threads at once; shared by every view of one index
        self.schema = searcher.schema
        self._slots = np.empty(0, dtype=np.int64)
        weakref.finalize(self, searcher.close)  # when the last search using this view is done

    def map_slots(self, slot_by_id: dict[int, int]) -> None:
        """Map each of Whoosh's document numbers to the slot of its unit (-1: none)."""
        leaves = [leaf for leaf, _offset in self.searcher.reader().leaf_readers()]
        ids = np.concatenate([self.index.unit_ids(leaf) for leaf in leaves] or [np.empty(0, dtype=np.int64)])
        self.index.forget_segments_but(leaves)
        known = np.fromiter(slot_by_id, dtype=np.int64, count=len(slot_by_id))
        slots = np.fromiter(slot_by_id.values(), dtype=np.int64, count=len(slot_by_id))
        by_id = np.argsort(known)
        known, slots = known[by_id], slots[by_id]
        at = np.minimum(np.searchsorted(known, ids), max(len(known) - 1, 0))
        self._slots = np.where(known[at] == ids, slots[at], -1) if len(known) else np.full(len(ids), -1)

    def slots(self, query: Query) -> list[int]:
        """The slots of the units matching the query."""
        with self.lock:
            docnums = np.fromiter(query.docs(self.searcher), dtype=np.int64)
        found = self._slots[docnums] if len(docnums) else docnums
        return cast(list[int], found[found >= 0].tolist())

    def matches(self, q: str) -> tuple[list[int], bool] | None:
        """The slots of the units that have every word, and whether only a fuzzy match found any (None: no
        words). A word matches its Finnish or Swedish stem; when nothing does, a word of four letters or more
        also matches with a typo or two, and by its unstemmed form too."""
        exact = self._query(q, fuzzy=False)
        if exact is None:
            return None
        found = self.slots(exact)
        if found:
            return found, False
        fuzzy = self._query(q, fuzzy=True)
        return (self.slots(fuzzy) if fuzzy is not None else []), True

    def _query(self, q: str, fuzzy: bool) -> Query | None:
        clauses: list[Query] = []
        for word in re.findall(r"\w+", q):
            alternatives: list[Query] = []
            for field in ("text_fi", "text_sv", "text_plain") if fuzzy else ("text_fi", "text_sv"):
                for token in self.schema[field].analyzer(word):
                    t = token.text
                    if fuzzy and len(t) >= 4:
                        alternatives.append(FuzzyTerm(field, t, maxdist=1 if len(t) < 7 else 2, prefixlength=1))
                    elif field != "text_plain":
                        alternatives.append(Term(field, t))
            if alternatives:
                clauses.append(Or(alternatives))
        return None if not clauses else And(clauses) if len(clauses) > 1 else clauses[0]

    def words(self, q: str) -> list[frozenset[str]]:
        """Per word of the query, its tokens under the Finnish, Swedish and plain analysers."""
        return [frozenset(t.text for field in ("text_fi", "text_sv", "text_plain")
                          for t in self.schema[field].analyzer(word)) for word in re.findall(r"\w+", q)]


class TextIndex:
    """The index folder of one build; `update` writes changes into it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ix = windex.open_dir(str(folder))
        self.lock = threading.Lock()
        self._ids: dict[str, np.ndarray] = {}  # per segment (they never change): its documents' unit ids
        weakref.finalize(self, _remove, self.ix, folder)

    @classmethod
    def build(cls, index_dir: str, documents: Iterable[tuple[int, dict[str, str]]]) -> TextIndex:
        """A fresh index of (unit id, documents.unit_text) in a new folder of this process."""
        root = Path(index_dir) / f"{PROCESS_PREFIX}{os.getpid()}"
        root.mkdir(parents=True, exist_ok=True)
        _remove_folders_of_ended_processes(Path(index_dir))
        folder = root / uuid.uuid4().hex[:12]
        folder.mkdir()
        ix = windex.create_in(str(folder), make_schema())
        # Postings stay in memory up to limitmb (10,000 units need about 200 MB), beyond it in temporary files.
        writer = ix.writer(limitmb=256)
        for uid, text in documents:
            writer.add_document(id=uid, **text)
        writer.commit(optimize=True)
        ix.close()
        return cls(folder)

    def view(self) -> TextView:
        """A searcher of the index as it is now. A new one each time, not `searcher.refresh()`: that hands the
        old searcher's segment readers to the new one and closes the rest, under a search still using it."""
        with self.lock:
            return TextView(self, self.ix.searcher())

    def unit_ids(self, leaf: IndexReader) -> np.ndarray:
        """The unit id of each document of one segment's reader (read once per segment)."""
        segment = leaf.segment().segment_id() if leaf.segment() is not None else None
        ids = self._ids.get(segment) if segment else None
        if ids is None:
            ids = np.fromiter(leaf.column_reader("id"), dtype=np.int64)
            if segment:
                self._ids[segment] = ids
        return ids

    def forget_segments_but(self, leaves: list[IndexReader]) -> None:
        kept = {seg.segment_id() for seg in (leaf.segment() for leaf in leaves) if seg is not None}
        self._ids = {k: v for k, v in self._ids.items() if k in kept}

    def update(self, documents: list[tuple[int, dict[str, str]]], removed: Iterable[int]) -> None:
        """Replace the units' documents and delete the removed units' (one commit)."""
        with self.lock:
            writer = self.ix.writer(timeout=30.0)
            try:
                for uid, text in documents:
                    writer.update_document(id=uid, **text)
                for uid in removed:
                    writer.delete_by_term("id", uid)
                writer.commit()
            except BaseException:
                writer.cancel()
                raise


def _remove(ix: windex.Index, folder: Path) -> None:
    ix.close()
    shutil.rmtree(folder, ignore_errors=True)


def _remove_folders_of_ended_processes(index_dir: Path) -> None:
    for path in index_dir.glob(f"{PROCESS_PREFIX}*"):
        pid = path.name.removeprefix(PROCESS_PREFIX)
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
