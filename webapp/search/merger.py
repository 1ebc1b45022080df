"""Merging the small segments that changes leave, once the changes pause (INDEX_MERGE_IDLE_MS).

A merge of six one-unit segments takes about as long as a change, one of 36 two to four times as long
(merging.py). Done by the change that made it due, it was those changes' whole delay: a change is to show
in the next search within 50 ms, and every sixth one took twice that. So the follower only writes the
change (follow.py) and calls `change_applied`; a thread of this process then waits until no change has
come for the idle time, takes the node's writer lock if it is free, and merges. A change that comes during
a merge waits for it, as it would wait for another change; one that comes during the wait postpones it.
Merges that wait too long are done by the change after all (merging.MAX_PENDING).

After merging, the thread loads the new snapshot: the next change's update finds the old documents by
their numbers in it (index._docnums_at) and the next search does not have to load it.
"""
from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from webapp.search.index import merge_due, merge_segments
from webapp.search.node_lock import node_lock

log = logging.getLogger(__name__)

_lock = threading.Lock()
_last_change: dict[str, float] = {}          # per index directory: when this process last applied a change
_threads: dict[str, threading.Thread] = {}   # per index directory: the merger thread, while it runs


def change_applied(engine: Engine, index_dir: str, idle_ms: int) -> None:
    """This process applied a change to the index; when it left a merge due, merge once changes pause for
    `idle_ms`, in a thread that reads the units to merge through `engine`."""
    index_dir = str(index_dir)
    with _lock:
        _last_change[index_dir] = time.monotonic()
        if not merge_due.get(index_dir) or index_dir in _threads:
            return
        thread = threading.Thread(target=_run, args=(engine, index_dir, idle_ms / 1000), daemon=True,
                                  name="index-merger")
        _threads[index_dir] = thread
    thread.start()


def idle(index_dir: str) -> bool:
    """No merger thread is running or waiting for index_dir in this process (for tests and benchmarks)."""
    with _lock:
        return str(index_dir) not in _threads


def _run(engine: Engine, index_dir: str, idle_s: float) -> None:
    try:
        while True:
            with _lock:
                wait = _last_change.get(index_dir, 0.0) + idle_s - time.monotonic()
                if wait <= 0 and not merge_due.get(index_dir):
                    del _threads[index_dir]  # under the lock: change_applied starts a new thread from here on
                    return
            if wait > 0:
                time.sleep(wait)
                continue
            if not _merge(engine, index_dir):
                with _lock:  # another writer holds the index: try again after another pause
                    _last_change[index_dir] = time.monotonic()
    except Exception:  # noqa: BLE001  a merge left undone is done by a later one; searches are unaffected
        log.exception("search index: merging small segments of %s failed", index_dir)
        with _lock:
            _threads.pop(index_dir, None)


def _merge(engine: Engine, index_dir: str) -> bool:
    """Merge under the node's writer lock; False when another thread or process holds it."""
    from webapp.search.snapshots import snapshot  # (snapshots imports the index module, as this one does)
    with node_lock(index_dir, blocking=False) as locked:
        if not locked:
            return False
        with Session(engine) as sess:
            started = time.perf_counter()
            merges = merge_segments(sess, index_dir)
        if merges == 0 and merge_due.get(index_dir):
            return False  # the Whoosh writer was busy (e.g. a command writing without the node lock)
        log.debug("search index: %d merges in %.0f ms", merges, (time.perf_counter() - started) * 1000)
    snapshot(index_dir)
    return True
