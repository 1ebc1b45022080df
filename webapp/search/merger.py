"""Merging the small segments that changes leave, in a thread, after a pause in the changes.

A merge of six one-unit segments takes about as long as a change, one of 36 two to four times as long
(merging.py). Done by the change that made it due, it was that change's delay: a change is to show in the
next search within 50 ms, and every sixth one took twice that. So the follower only writes the change
(follow.py) and calls `change_applied`; a thread of this process then merges (segment_merge.py: the merged
segment is written without the index's write lock, so a change that comes meanwhile does not wait for it).

The thread waits for a pause of INDEX_MERGE_IDLE_MS in this process's changes, or at most four times that
since the merge became due (when a whole region chooses at once, the changes that free and fill places
never pause). One merger per node: the others find its lock taken and look again after a pause. Merges that
wait too long are done by the change after all (merging.MAX_PENDING).

The merge shares this process's interpreter lock with its requests: while it wrote, a change answered in
the same process took up to twice as long. So it gives way: before each step, between documents and every
few hundred postings, it waits while this process answers a request (`request_started`/`request_finished`,
counted around every request by the app), though never more than PAUSE_AT_MOST_S at a time, so that under
steady load the merge still gets done.

After merging, the thread loads the new snapshot: the next change's update finds the old documents by
their numbers in it (index._docnums_at) and the next search does not have to load it.
"""
from __future__ import annotations

import logging
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Callable, ContextManager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from webapp.search.index import merge_due
from webapp.search.node_lock import file_lock
from webapp.search.segment_merge import merge_all

log = logging.getLogger(__name__)

MERGE_LOCK_FILE = ".merge.lock"
MAX_WAIT_IDLES = 4
PAUSE_AT_MOST_S = 0.05

_requests = 0  # requests this process is answering now

_lock = threading.Lock()
_last_change: dict[str, float] = {}          # per index directory: when this process last applied a change
_due_since: dict[str, float] = {}            # per index directory: since when a merge has waited
_idle_s: dict[str, float] = {}               # per index directory: the pause to wait for, as last asked
_threads: dict[str, threading.Thread] = {}   # per index directory: the merger thread, while it runs
_last_run: dict[str, tuple[int, float]] = {}  # per index directory: merges done and ms taken, last time
# Per index directory: makes the context the units are read and written in (the app's: documents are written
# with the labels of its translations, and outside an app they would be English).
_contexts: dict[str, Callable[[], ContextManager]] = {}


def change_applied(engine: Engine, index_dir: str, idle_ms: int,
                   context: Callable[[], ContextManager] | None = None) -> None:
    """This process applied a change to the index; when it left a merge due, merge after a pause of `idle_ms`
    in a thread that reads the units to merge through `engine`, within `context()` (the app's context)."""
    index_dir = str(index_dir)
    now = time.monotonic()
    with _lock:
        _last_change[index_dir] = now
        _idle_s[index_dir] = idle_ms / 1000
        _contexts[index_dir] = context or nullcontext
        if not merge_due.get(index_dir):
            return
        _due_since.setdefault(index_dir, now)
        if index_dir in _threads:
            return
        thread = threading.Thread(target=_run, args=(engine, index_dir), daemon=True, name="index-merger")
        _threads[index_dir] = thread
    try:
        thread.start()
    except RuntimeError:  # no thread to be had: the next change tries again
        _stop(index_dir)
        raise


def request_started() -> None:
    global _requests
    with _lock:
        _requests += 1


def request_finished() -> None:
    global _requests
    with _lock:
        _requests -= 1


def give_way() -> None:
    """In the merge thread: wait while this process answers a request, at most PAUSE_AT_MOST_S."""
    deadline = time.monotonic() + PAUSE_AT_MOST_S
    while _requests > 0 and time.monotonic() < deadline:
        time.sleep(0.001)


def idle(index_dir: str) -> bool:
    """No merger thread is running or waiting for index_dir in this process (for tests and benchmarks)."""
    with _lock:
        return str(index_dir) not in _threads


def last_run(index_dir: str) -> tuple[int, float]:
    """How many merges this process's merger did the last time it ran, and in how many ms (for benchmarks)."""
    return _last_run.get(str(index_dir), (0, 0.0))


def _wait_s(index_dir: str, now: float) -> float:
    idle_s = _idle_s[index_dir]
    return min(_last_change.get(index_dir, 0.0) + idle_s, _due_since.get(index_dir, now) + MAX_WAIT_IDLES * idle_s) - now


def _run(engine: Engine, index_dir: str) -> None:
    try:
        while True:
            with _lock:
                wait = _wait_s(index_dir, time.monotonic())
                if wait <= 0 and not merge_due.get(index_dir):
                    del _threads[index_dir]  # under the lock: change_applied starts a new thread from here on
                    _due_since.pop(index_dir, None)
                    return
            if wait > 0:
                time.sleep(min(wait, 0.5))  # (the pause asked for may shorten meanwhile)
                continue
            with _lock:
                _due_since.pop(index_dir, None)
            # When another process of the node holds the merge lock, or a rebuild or an in-line merge came
            # first, look again after a pause: what is due then may have been due after its plan.
            if not _merge(engine, index_dir) or merge_due.get(index_dir):
                with _lock:
                    _last_change[index_dir] = time.monotonic()
    except Exception:  # noqa: BLE001  a merge left undone is done after a later change; searches are unaffected
        log.exception("search index: merging small segments of %s failed", index_dir)
        _stop(index_dir)


def _stop(index_dir: str) -> None:
    with _lock:
        _threads.pop(index_dir, None)
        _due_since.pop(index_dir, None)


def _merge(engine: Engine, index_dir: str) -> bool:
    """The merges due, under the node's merge lock; False when another process holds it."""
    from webapp.search.snapshots import snapshot
    with file_lock(Path(index_dir) / MERGE_LOCK_FILE, blocking=False) as locked:
        if not locked:
            return False
        started = time.perf_counter()
        with _contexts.get(index_dir, nullcontext)(), Session(engine) as sess:
            merges = merge_all(sess, index_dir, pause=give_way)
        took_ms = (time.perf_counter() - started) * 1000
        _last_run[index_dir] = (merges, took_ms)
        log.debug("search index: %d merges in %.0f ms", merges, took_ms)
    give_way()  # loading it holds the snapshot lock that a search needs
    snapshot(index_dir)
    return True
