"""Deterministic races on PostgreSQL (not a test module).

A race is staged the way the defects were reproduced by hand: a second connection holds a row lock,
the racing calls start one after another and each is seen waiting for a lock (pg_stat_activity)
before the next starts, so they queue for the lock in a known order; then the lock is released.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import text

from webapp import db
from webapp.transactions import RETRIES


@dataclass
class Racer:
    name: str
    thread: threading.Thread
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def waiting_for_locks(app) -> int:  # noqa: ANN001
    """Backends of this test's database that wait for a lock."""
    with app.app_context(), db.engine().connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND wait_event_type = 'Lock'")).scalar_one()


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@contextmanager
def row_lock(app, table: str, row_id: int) -> Iterator[None]:  # noqa: ANN001
    """Hold `table`'s row `row_id` locked FOR UPDATE from a connection of its own until the block ends."""
    with app.app_context():
        conn = db.engine().connect()
        try:
            trans = conn.begin()
            found = conn.execute(text(f"SELECT id FROM {table} WHERE id = :id FOR UPDATE"), {"id": row_id}).first()
            assert found is not None, f"no {table} row {row_id}"
            yield
            trans.rollback()
        finally:
            conn.close()


def start(app, name: str, job: Callable, racers: list[Racer]) -> Racer:  # noqa: ANN001
    """Run job(session) in a thread with the app's context and a session of its own."""
    def body() -> None:
        with app.app_context():
            sess = db.new_session()
            try:
                racer.result = job(sess)
            except BaseException as exc:  # noqa: BLE001  reported by finish()
                racer.error = exc
            finally:
                sess.close()
                racer.done.set()

    racer = Racer(name, threading.Thread(target=body, name=name, daemon=True))
    racers.append(racer)
    racer.thread.start()
    return racer


def start_blocked(app, name: str, job: Callable, racers: list[Racer]) -> Racer:  # noqa: ANN001
    """Start a racer and wait until it waits for a lock (one more waiting backend than before)."""
    before = waiting_for_locks(app)
    racer = start(app, name, job, racers)
    wait_until(lambda: waiting_for_locks(app) > before or racer.done.is_set(), what=f"{name} to wait for a lock")
    assert not racer.done.is_set(), f"{name} did not wait for the held lock: {racer.error or racer.result!r}"
    return racer


def finish(racers: list[Racer], timeout: float = 60.0) -> None:
    for racer in racers:
        racer.thread.join(timeout)
        assert not racer.thread.is_alive(), f"{racer.name} hung"


def retries_counted() -> float:
    """Deadlocks and serialisation failures retried so far in this process (all use cases)."""
    return sum(sample.value for metric in RETRIES.collect() for sample in metric.samples
               if sample.name.endswith("_total"))
