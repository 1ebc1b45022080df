"""Every node's index follows the database's change log (`index_change`, written by webapp.search.changelog).

Before a search the process runs `catch_up`: ONE indexed query, `id > head OR id IN (gaps)`, that returns
nothing when nothing changed. Rows it returns name units; those are re-indexed from the database and the
new head is stored beside the index version (`LOG_STATE.json`), so all worker processes of a node share
it. A row without units ("everything"), more than REBUILD_AFTER_UNITS changed units, a missing index or
state, or a state not checked for STALE_SECONDS (a node that was down while old log rows were purged)
make the node rebuild its index by itself.

Ids are handed out when a row is inserted, just before its commit, so on PostgreSQL a later id can commit
first. An id skipped over is remembered as a gap and asked for again until it appears or GAP_SECONDS
pass (a rolled-back transaction leaves a gap that never fills).

`INDEX_SYNC_INTERVAL_MS` (default 50) lets a process skip the check when it checked less than that long
ago, so a change made on another node reaches this node's searches within that bound (plus the time to
re-index the changed units); the process's own commits always make its next search check.
"""
from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, ContextManager

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from webapp.search import changelog
from webapp.models import IndexChange
from webapp.search.documents import index_format
from webapp.search.index import current_version, note_change, rebuild_index, update_units
from webapp.search import merger
from webapp.search.node_lock import node_lock

log = logging.getLogger(__name__)

STATE_FILE = "LOG_STATE.json"
GAP_SECONDS = 60
BATCH = 5000
REBUILD_AFTER_UNITS = 2000
RETENTION = timedelta(days=1)          # log rows older than this are purged (flask purge-expired)
STALE_SECONDS = RETENTION.total_seconds() / 2
TOUCH_SECONDS = 60                     # an idle node notes that it checked at most once a minute

_last_check: dict[str, tuple[float, "Status"]] = {}  # per index directory: (when, what) of the last check
_local_change = threading.Event()
changelog.on_local_commit(_local_change.set)


@dataclass
class LogState:
    head: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when it was first missed (unix seconds)
    checked_at: float = 0.0
    # The document format the index was built with (documents.INDEX_FORMAT): a new release that changes the
    # schema or the stored card must not write its documents into an index of the old format.
    index_format: str = ""

    def to_json(self) -> str:
        return json.dumps({"head": self.head, "gaps": {str(k): v for k, v in self.gaps.items()},
                           "checked_at": self.checked_at, "index_format": self.index_format})

    @classmethod
    def from_json(cls, text: str) -> "LogState":
        data = json.loads(text)
        return cls(int(data["head"]), {int(k): float(v) for k, v in data.get("gaps", {}).items()},
                   float(data.get("checked_at", 0)), str(data.get("index_format", "")))


@dataclass
class Status:
    head: int            # the last log row this node's index includes
    behind: int          # rows still not applied after this call (0 normally)
    lag_seconds: float   # age of the oldest row not applied (0 when none)
    rebuilt: bool = False


def read_state(version: Path | None) -> LogState | None:
    if version is None:
        return None
    try:
        return LogState.from_json((version / STATE_FILE).read_text())
    except (FileNotFoundError, ValueError, KeyError):
        return None


def write_state(version: Path, state: LogState) -> None:
    tmp = version / f".{STATE_FILE}.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(state.to_json())
    os.replace(tmp, version / STATE_FILE)


def _live_gaps(state: LogState, now: float) -> list[int]:
    return sorted(g for g, seen in state.gaps.items() if now - seen < GAP_SECONDS)


def _unapplied(sess: Session, state: LogState, now: float) -> list:
    """The one query: log rows after the head, and rows that were missing when the head moved past them."""
    cond = IndexChange.id > state.head
    gaps = _live_gaps(state, now)
    if gaps:
        cond = or_(cond, IndexChange.id.in_(gaps))
    return sess.execute(select(IndexChange.id, IndexChange.unit_ids, IndexChange.at)
                        .where(cond).order_by(IndexChange.id).limit(BATCH)).all()


def _advance(state: LogState, rows: list, now: float) -> LogState:
    found = {r.id for r in rows}
    top = max([state.head, *found])
    gaps = {g: seen for g, seen in state.gaps.items() if g not in found and now - seen < GAP_SECONDS}
    for missing in range(state.head + 1, top + 1):
        if missing not in found and len(gaps) < 1000:
            gaps.setdefault(missing, now)
    return LogState(top, gaps, now, state.index_format)


def _lag(rows: list) -> float:
    if not rows:
        return 0.0
    oldest = min(r.at for r in rows)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=timezone.utc)
    return max(0.0, (datetime.now(timezone.utc) - oldest).total_seconds())


def head_state(sess: Session, now: float) -> LogState:
    """The log's head as seen now, with the ids just below it that have not committed yet as gaps."""
    head = sess.scalar(select(func.max(IndexChange.id))) or 0
    recent = set(sess.scalars(select(IndexChange.id).where(IndexChange.id > head - 1000)))
    gaps = {i: now for i in range(max(1, head - 999), head + 1) if i not in recent}
    return LogState(head, gaps, now, index_format())


def rebuild(sess: Session, index_dir: str, advance=None, procs: int = 1) -> int:  # noqa: ANN001
    """Build a fresh index and store the log head it includes (read before the units are).
    `advance(n)` and `procs`: as for rebuild_index."""
    now = time.time()
    state = head_state(sess, now)
    count = rebuild_index(sess, index_dir, advance, procs=procs)
    version = current_version(index_dir)
    if version is not None:
        write_state(version, state)
    return count


def _needs_rebuild(state: LogState | None, now: float) -> bool:
    return state is None or now - state.checked_at > STALE_SECONDS or state.index_format != index_format()


def catch_up(sess: Session, index_dir: str, interval_ms: int = 0, force: bool = False,
             merge_idle_ms: int = 0, merge_context: Callable[[], ContextManager] | None = None) -> Status:
    """Bring this node's index up to the change log's head (see the module's docstring). Within
    `interval_ms` of the last check, and with no commit of this process since, nothing is read: neither
    the log nor the index's files. With `merge_idle_ms`, small segments that the changes leave are merged
    once changes pause that long (merger.py), in `merge_context()` (the app's context); without, by the
    change that makes a merge due."""
    last = _last_check.get(index_dir)
    if (not force and last is not None and not _local_change.is_set()
            and (time.monotonic() - last[0]) * 1000 < interval_ms):
        return last[1]
    now = time.time()
    version = current_version(index_dir)
    state = read_state(version)
    if _needs_rebuild(state, now):
        return _rebuild_locked(sess, index_dir, wait=version is None, state=state)
    _local_change.clear()
    checked, status = time.monotonic(), Status(state.head, 0, 0.0)
    _last_check[index_dir] = (checked, status)  # other threads: no second check meanwhile
    note_change(index_dir)  # another process may have written the index: snapshots look at the files again
    rows = _unapplied(sess, state, now)
    if not rows:
        if now - state.checked_at > TOUCH_SECONDS:
            state.checked_at = now
            write_state(version, state)
        return status
    status = _apply_locked(sess, index_dir, rows, (version, state), merge=merge_idle_ms <= 0)
    _last_check[index_dir] = (checked, status)
    if merge_idle_ms > 0 and not status.rebuilt:
        merger.change_applied(sess.get_bind(), index_dir, merge_idle_ms, merge_context)
    return status


def _rebuild_locked(sess: Session, index_dir: str, wait: bool, state: LogState | None) -> Status:
    with node_lock(index_dir, blocking=wait) as locked:
        if not locked:  # another worker is rebuilding: answer from the index there is meanwhile
            return Status(state.head if state else 0, 1, 0.0)
        again = read_state(current_version(index_dir))
        if not _needs_rebuild(again, time.time()):
            return Status(again.head, 0, 0.0)
        log.info("search index: rebuilding %s from the database", index_dir)
        rebuild(sess, index_dir)
        return Status(read_state(current_version(index_dir)).head, 0, 0.0, rebuilt=True)


def _apply_locked(sess: Session, index_dir: str, rows: list, seen: tuple[Path | None, LogState],
                  merge: bool = True) -> Status:
    """Apply `rows`, read when the index and its state were `seen`: read again if another worker of this node
    applied something meanwhile (the state's head or gaps moved)."""
    with node_lock(index_dir, blocking=True):
        now = time.time()
        version = current_version(index_dir)
        state = read_state(version)
        if _needs_rebuild(state, now):
            return _rebuild_locked(sess, index_dir, wait=True, state=state)
        if (version, state.head, state.gaps) != (seen[0], seen[1].head, seen[1].gaps):
            rows = _unapplied(sess, state, now)
        if not rows:
            return Status(state.head, 0, 0.0)
        units: set[int] = set()
        everything = len(rows) >= BATCH
        for row in rows:
            if row.unit_ids is None:
                everything = True
            else:
                units.update(int(i) for i in row.unit_ids.split())
        if everything or len(units) > REBUILD_AFTER_UNITS:
            rebuild(sess, index_dir)
            return Status(read_state(current_version(index_dir)).head, 0, 0.0, rebuilt=True)
        update_units(sess, index_dir, units, merge=merge)
        new = _advance(state, rows, now)
        write_state(version, new)
    return Status(new.head, 0, 0.0)


def status(sess: Session, index_dir: str) -> Status:
    """How far this node's index is behind the log, without changing anything (readiness, metrics)."""
    now = time.time()
    state = read_state(current_version(index_dir))
    if state is None:
        return Status(0, -1, float("inf"))
    rows = _unapplied(sess, state, now)
    return Status(state.head, len(rows), _lag(rows))


def check_sequence(sess: Session, index_dir: str) -> bool:
    """After a failover that lost transactions, the log's ids can start again below this node's head: then
    forget the state, so that the next catch-up rebuilds. True when that happened. (One query; /readyz.)"""
    version = current_version(index_dir)
    state = read_state(version)
    if state is None:
        return False
    top = sess.scalar(select(func.max(IndexChange.id))) or 0
    if top >= state.head:
        return False
    log.warning("search index: the change log's head %s is below this index's %s; rebuilding", top, state.head)
    (version / STATE_FILE).unlink(missing_ok=True)
    return True


def purge(sess: Session, older_than: timedelta = RETENTION) -> int:
    """Delete log rows older than `older_than` (nodes idle longer than half of it rebuild). Commits."""
    cutoff = datetime.now(timezone.utc) - older_than
    deleted = sess.execute(delete(IndexChange).where(IndexChange.at < cutoff)).rowcount
    sess.commit()
    return deleted or 0
