"""One index writer per node: a file lock shared by the node's worker processes, and a lock for the threads of
this process (the change log's follower, follow.py, and the merger of small segments, merger.py)."""
from __future__ import annotations

import fcntl
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

LOCK_FILE = ".follow.lock"
_thread_lock = threading.Lock()


@contextmanager
def node_lock(index_dir: str, blocking: bool) -> Iterator[bool]:
    """Yields True when this thread holds the node's writer lock; False when not blocking and another has it."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    if not _thread_lock.acquire(blocking=blocking):
        yield False
        return
    try:
        with open(Path(index_dir) / LOCK_FILE, "a+") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()
