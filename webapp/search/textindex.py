"""The process's Whoosh index of the units' words, used only through Whoosh's public API.

Whoosh answers one question: which units match these words (query.py). Each process writes its own index in
a folder of its own under INDEX_DIR, so no other process ever writes it: a build creates a fresh folder,
a change updates the documents with Whoosh's writer and its normal merge policy, and a new searcher reads
the result. Segments are written as compound files (Whoosh's default), which a reader opens
whole, so an older searcher still in use reads on after a merge has deleted the files.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
import weakref
from pathlib import Path
from typing import Iterable

import numpy as np
from whoosh import index as windex
from whoosh.query import Query
from whoosh.searching import Searcher

from webapp.search.documents import make_schema

PROCESS_PREFIX = "proc-"


class TextView:
    """One searcher of the index, with Whoosh's document numbers mapped to the snapshot's slots."""

    def __init__(self, index: "TextIndex", searcher: Searcher) -> None:
        self.index = index  # its folder stays while a view of it is in use
        self.searcher = searcher
        self.lock = index.lock  # a searcher is not safe for threads at once; shared by every view of one index
        self.schema = searcher.schema
        self._slots = np.empty(0, dtype=np.int64)
        weakref.finalize(self, searcher.close)  # when the last search using this view is done

    def map_slots(self, slot_by_id: dict[int, int]) -> None:
        ids = np.fromiter(self.searcher.reader().column_reader("id"), dtype=np.int64)
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
        return found[found >= 0].tolist()


class TextIndex:
    """The index folder of one build; `update` writes changes into it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ix = windex.open_dir(str(folder))
        self.lock = threading.Lock()
        weakref.finalize(self, _remove, self.ix, folder)

    @classmethod
    def build(cls, index_dir: str, documents: Iterable[tuple[int, dict[str, str]]]) -> "TextIndex":
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
