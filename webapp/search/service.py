"""SearchIndex: a process's whole search state (the snapshot, its text index, the change-log position, the
reference data and the locks), made by create_app and kept in `app.extensions["search"]`.

A search answers from the current snapshot without any SQL. At most once per `sync_interval_ms`, and at once
after this process committed a change, the search that comes first reads the change log (one query) and
applies what it names: the changed units are read from the database (three statements), their rows and
documents replaced, and the next snapshot made by difference. A row for everything, more than
REBUILD_AFTER_UNITS units, a change of the index format, or no check for STALE_SECONDS rebuild from the
database; so does a process that starts, in a thread that its first request starts (`start_building`).
"""
from __future__ import annotations

import gc
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from sqlalchemy.orm import Session

from webapp.search import changelog, changes
from webapp.search.changes import LogState, Status
from webapp.search.documents import (
    Row,
    UnitData,
    _Context,
    index_format,
    load_unit_data,
    translated_labels,
    unit_row,
    unit_text,
)
from webapp.search.params import SearchParams
from webapp.search.query import SearchResult, execute
from webapp.search.reference import ReferenceData
from webapp.search.snapshots import Snapshot
from webapp.search.textindex import TextIndex

log = logging.getLogger(__name__)


class SearchIndex:
    def __init__(self, index_dir: str, sync_interval_ms: int = 500,
                 context: Callable[[], AbstractContextManager[object]] | None = None,
                 sessions: Callable[[], Session] | None = None) -> None:
        """`index_dir`: where this process writes its text index (a folder of its own inside); `context()`:
        entered around reading units, so that their labels are translated (create_app gives app.app_context);
        `sessions()`: a new database session, for the thread that builds the index when a process starts."""
        self.index_dir = index_dir
        self._sessions = sessions
        self._building: threading.Thread | None = None
        self.sync_interval_s = sync_interval_ms / 1000
        self.reference = ReferenceData()
        self._context = context or nullcontext
        self._snapshot: Snapshot | None = None
        self._text: TextIndex | None = None
        self._state: LogState | None = None
        self._format = ""
        self._lock = threading.RLock()  # one thread follows the log or rebuilds at a time
        self._rebuilding = False  # meanwhile other threads answer from the snapshot there is
        self._checked = float("-inf")  # time.monotonic() of the last check of the log
        self._local_commit = threading.Event()
        commit_seen = weakref.WeakMethod(self._local_commit.set)
        changelog.on_local_commit(lambda: (seen := commit_seen()) is not None and seen())

    # ------------------------------------------------------------ searching

    def start_building(self) -> None:
        """Build the index in a thread unless it is built or being built: every worker of a node starts
        building at its first request (any request), and its searches wait for the build."""
        if self._snapshot is not None or self._sessions is None or (self._building and self._building.is_alive()):
            return
        self._building = threading.Thread(target=self._build_in_thread, name="search-index-build", daemon=True)
        self._building.start()

    def _build_in_thread(self) -> None:
        assert self._sessions is not None
        try:
            with self._sessions() as sess:
                self.current(sess)
        except Exception:
            log.exception("search index: building failed")

    def current(self, sess: Session) -> Snapshot:
        """The snapshot to answer from, after following the change log if a check is due."""
        snap = self._snapshot
        due = self._local_commit.is_set() or time.monotonic() - self._checked >= self.sync_interval_s
        if snap is not None and not due:
            return snap
        if self._lock.acquire(blocking=snap is None or not self._rebuilding):
            try:
                self.catch_up(sess)
            finally:
                self._lock.release()
        snap = self._snapshot
        assert snap is not None
        return snap

    def search(self, sess: Session, params: SearchParams, lang: str = "fi", facets: bool = True,
               paginate: bool = True) -> SearchResult:
        return execute(self.current(sess), params, lang=lang, facets=facets, paginate=paginate)

    # ------------------------------------------------------------ following the change log

    def catch_up(self, sess: Session) -> Status:
        """Bring the snapshot up to the change log's head now (see the module's docstring)."""
        with self._lock:
            now = time.time()
            self._local_commit.clear()
            self._checked = time.monotonic()
            state = self._state
            if (state is None or self._snapshot is None or self._format != index_format()
                    or now - state.checked_at > changes.STALE_SECONDS):
                return self._rebuild(sess)
            rows = changes.unapplied(sess, state, now)
            if not rows:
                state.checked_at = now
                return Status(state.head, 0, 0.0)
            units = changes.changed_units(rows)
            if units is None:
                return self._rebuild(sess)
            self._apply(sess, units)
            self._state = changes.advanced(state, rows, now)
            return Status(self._state.head, 0, 0.0)

    def rebuild(self, sess: Session) -> int:
        """Build the snapshot and text index from the database now; the number of searchable units."""
        with self._lock:
            self._rebuild(sess)
            assert self._snapshot is not None
            return len(self._snapshot.slot_by_id)

    def log_state(self) -> LogState | None:
        """The change log's position the snapshot is at (None before the first build)."""
        return self._state

    def status(self, sess: Session) -> Status:
        """How far the snapshot is behind the log, changing nothing (readiness, metrics)."""
        state = self._state
        if state is None:
            return Status(0, -1, float("inf"))
        rows = changes.unapplied(sess, state, time.time())
        return Status(state.head, len(rows), changes.lag_seconds(rows))

    def check_sequence(self, sess: Session) -> bool:
        """After a failover that lost transactions the log's ids can start again below this process's head:
        then the next catch-up rebuilds. True when that happened (one query)."""
        state = self._state
        if state is None or changes.log_top(sess) >= state.head:
            return False
        log.warning("search index: the change log's head is below this index's %s; rebuilding", state.head)
        self._state = None
        return True

    def _rebuild(self, sess: Session) -> Status:
        self._rebuilding = True
        try:
            now = time.time()
            state = changes.head_state(sess, now)  # read before the units: a change meanwhile is applied after
            units, ctx = self._load(sess, None)
            text = TextIndex.build(self.index_dir, ((u.id, unit_text(u, ctx.labels)) for u in units))
            version = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
            rows = [unit_row(unit, ctx, slot, f"{version}.0") for slot, unit in enumerate(units)]
            snap = Snapshot.build(version, rows, text.view())
            # The rows are long-lived: out of the collector's reach, or every full collection walks them (the
            # build's garbage collected first, or it would be kept for good).
            gc.collect()
            gc.freeze()
            self._text, self._snapshot, self._state, self._format = text, snap, state, index_format()
            log.info("search index: built from the database (%s units)", len(rows))
            return Status(state.head, 0, 0.0, rebuilt=True)
        finally:
            self._rebuilding = False

    def _load(self, sess: Session, unit_ids: set[int] | None) -> tuple[list[UnitData], _Context]:
        with self._context():  # the labels in the indexed text are translated in the app's context
            return load_unit_data(sess, unit_ids), _Context(translated_labels())

    def _apply(self, sess: Session, unit_ids: set[int]) -> None:
        snap, text = self._snapshot, self._text
        assert snap is not None and text is not None
        units, ctx = self._load(sess, unit_ids)
        found = {u.id for u in units}
        removed = [uid for uid in sorted(unit_ids) if uid not in found and uid in snap.slot_by_id]
        text.update([(u.id, unit_text(u, ctx.labels)) for u in units], removed)
        stamp = f"{snap.version}.{snap.generation + 1}"
        new_rows: dict[int, Row | None] = dict.fromkeys(removed)
        added = 0
        for unit in units:
            slot = snap.slot_by_id.get(unit.id)
            if slot is None:
                slot, added = len(snap.by_slot) + added, added + 1
            new_rows[unit.id] = unit_row(unit, ctx, slot, stamp)
        self._snapshot = snap.changed(new_rows, text.view())
