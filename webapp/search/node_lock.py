"""Locks shared by a node's worker processes: a file lock in the index directory.

`node_lock`: one index writer per node, and one thread of this process (the change log's follower,
follow.py). `file_lock` is the file lock alone (merger.py: one merger per node)."""
from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".follow.lock"
_thread_lock = threading.Lock()


@contextmanager
def file_lock(path: Path, blocking: bool) -> Iterator[bool]:
    """Yields True while this process holds the lock on `path`; False when not blocking and another has it."""
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def node_lock(index_dir: str, blocking: bool) -> Iterator[bool]:
    """Yields True when this thread holds the node's writer lock; False when not blocking and another has it."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    if not _thread_lock.acquire(blocking=blocking):
        yield False
        return
    try:
        with file_lock(Path(index_dir) / LOCK_FILE, blocking) as locked:
            yield locked
    finally:
        _thread_lock.release()
