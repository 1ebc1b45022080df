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

from webapp.web import db

try:
    from webapp.core.transactions import RETRIES
except ImportError:  # bench/races.py --code OLD_CHECKOUT: code from before the retries
    RETRIES = None


@dataclass
class Racer:
    name: str
    thread: threading.Thread
    result: object = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def waiting_for_locks(app) -> int:
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
def row_lock(app, table: str, row_id: int) -> Iterator[None]:
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


def start(app, name: str, job: Callable, racers: list[Racer]) -> Racer:
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


def start_blocked(app, name: str, job: Callable, racers: list[Racer]) -> Racer:
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
    if RETRIES is None:
        return 0.0
    return sum(sample.value for metric in RETRIES.collect() for sample in metric.samples
               if sample.name.endswith("_total"))


# --- a random mix of every use case that locks, many residents at once (the suite and bench/races.py) ---

MIX = ("submit", "submit", "cancel", "join", "join", "leave", "expire", "promote", "capacity")


@dataclass
class MixReport:
    operations: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # anything but a refusal or a conflict a user is told
    examples: list[str] = field(default_factory=list)

    def count(self, table: dict[str, int], key: str) -> None:
        table[key] = table.get(key, 0) + 1


def prepare_mix(app, residents: int = 40, full: int = 2, open_units: int = 3, free: int = 3):
    from tests.waiting_helpers import full_unit, make_residents
    units = [full_unit(app, skip=i) for i in range(full)] + \
        [full_unit(app, skip=full + i, free=free) for i in range(open_units)]
    return units, make_residents(app, residents)


def run_mix(app, units: list[int], residents: list[int], threads: int, per_thread: int, seed: int = 1,
            today=None) -> MixReport:
    import random
    import secrets as _secrets
    from datetime import timedelta

    from sqlalchemy import select, update

    from tests.waiting_helpers import TODAY
    from webapp.choice import use_cases as svc
    from webapp.choice import waiting
    from webapp.choice.promotion import promote_from_waiting_lists
    from webapp.models import Choice, Unit, WaitingEntry

    day = today or TODAY
    report = MixReport()
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def raise_capacity(sess, unit_id: int) -> None:
        # What a staff member's save does to the counters: the unit's row locked, then changed, then the queue.
        from webapp.core.db import write_transaction
        with write_transaction(sess):
            sess.execute(select(Unit.id).where(Unit.id == unit_id).with_for_update())  # as Locks.units does
            sess.execute(update(Unit).where(Unit.id == unit_id, Unit.capacity.is_not(None))
                         .values(capacity=Unit.capacity + 1))
        promote_from_waiting_lists(sess, [unit_id], day)

    def one(sess, rng: random.Random) -> str:
        kind = rng.choice(MIX)
        rid = rng.choice(residents)
        if kind == "submit":
            return "submit:" + svc.submit_choice(sess, rid, rng.choice(units), _secrets.token_urlsafe(12), day).status
        if kind == "cancel":
            ref = sess.scalar(select(Choice.reference).where(Choice.resident_id == rid, Choice.status == "pending"))
            sess.rollback()
            if ref is None:
                return "cancel:none"
            svc.cancel_choice(sess, rid, ref, day)
            return "cancel:done"
        if kind == "join":
            return "join:" + svc.join_waiting_list(sess, rid, rng.choice(units[:2] or units),
                                                       _secrets.token_urlsafe(12), day).status
        if kind == "leave":
            ref = sess.scalar(select(WaitingEntry.reference).where(WaitingEntry.resident_id == rid,
                                                                   WaitingEntry.status == "waiting"))
            sess.rollback()
            if ref is None:
                return "leave:none"
            svc.leave_waiting_list(sess, rid, ref, day)
            return "leave:done"
        if kind == "expire":
            entry = sess.scalar(select(WaitingEntry.id).where(WaitingEntry.status == "waiting")
                                .order_by(WaitingEntry.id).limit(1))
            if entry is not None:
                sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry)
                             .values(expires_on=day - timedelta(days=1)))
                sess.commit()
            return f"expire:{waiting.expire_entries(sess, day)}"
        if kind == "promote":
            return f"promote:{len(promote_from_waiting_lists(sess, None, day).promoted)}"
        raise_capacity(sess, rng.choice(units))
        return "capacity:raised"

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        with app.app_context():
            sess = db.new_session()
            try:
                barrier.wait()
                for _ in range(per_thread):
                    try:
                        outcome = one(sess, rng)
                    except (svc.ChoiceConflict, svc.ChoiceNotFound) as exc:
                        outcome = f"conflict:{exc}"
                    except Exception as exc:  # noqa: BLE001  counted and shown by the caller
                        sess.rollback()
                        with lock:
                            report.operations += 1
                            name = type(getattr(exc, "orig", None) or exc).__name__
                            report.count(report.errors, name)
                            if len(report.examples) < 5:
                                report.examples.append(str(exc).splitlines()[0][:200])
                        continue
                    with lock:
                        report.operations += 1
                        report.count(report.outcomes, outcome.split(":")[0] + ":" +
                                     ("n" if outcome.split(":")[1].isdigit() else outcome.split(":")[1]))
            finally:
                sess.close()

    pool = [threading.Thread(target=worker, args=(n,), daemon=True) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(600)
    return report


def broken_invariants(app, units: list[int]) -> list[str]:
    """What a resident relies on, checked from the rows: one pending, one active choice and one waiting
    entry per resident and element; every counter equal to the rows it counts and within capacity."""
    from sqlalchemy import func, select

    from webapp.models import Choice, Unit, WaitingEntry
    found = []
    with app.app_context():
        sess = db.session()
        for status in ("pending", "active"):
            for rid, _pilot, element, n in sess.execute(
                    select(Choice.resident_id, Choice.pilot_id, Choice.element, func.count())
                    .where(Choice.status == status).group_by(Choice.resident_id, Choice.pilot_id, Choice.element)
                    .having(func.count() > 1)):
                found.append(f"resident {rid} has {n} {status} choices ({element})")
        for rid, n in sess.execute(select(WaitingEntry.resident_id,
                                          func.count()).where(WaitingEntry.status == "waiting")
                                   .group_by(WaitingEntry.resident_id, WaitingEntry.pilot_id, WaitingEntry.element)
                                   .having(func.count() > 1)):
            found.append(f"resident {rid} is in {n} queues of one element")
        for unit in sess.scalars(select(Unit).where(Unit.id.in_(units))):
            listed = sess.scalar(select(func.count()).select_from(Choice).where(
                Choice.unit_id == unit.id, Choice.status.in_(("active", "pending"))))
            queued = sess.scalar(select(func.count()).select_from(WaitingEntry).where(
                WaitingEntry.unit_id == unit.id, WaitingEntry.status == "waiting"))
            if unit.listed_count != listed:
                found.append(f"unit {unit.id}: listed_count {unit.listed_count}, {listed} choices")
            if unit.waiting_count != queued:
                found.append(f"unit {unit.id}: waiting_count {unit.waiting_count}, {queued} waiting")
            if unit.capacity is not None and unit.listed_count > unit.capacity:
                found.append(f"unit {unit.id}: {unit.listed_count} listed, capacity {unit.capacity}")
    return found
