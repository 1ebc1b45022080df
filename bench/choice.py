"""Choice benchmark: concurrent submissions through the choice use case, with capacity checked afterwards.

    .venv/bin/python bench/choice.py [--workers 32] [--processes 4] [--residents 4000] [--db postgresql|sqlite|both]

Builds a seeded database (migrations, reference data, demo units), creates fresh adult residents of a pilot
municipality and gives 20 units room for half of them, so that about half of the submissions are accepted
and half refused as "unit full" at the end. `--workers` submitters (threads spread over `--processes`
processes, each thread with its own database session) then call `submit_choice` as fast as they can, each
for its own residents against randomly chosen units. Prints submissions per second (accepted and refused),
the SQL statements of one submission, and whether capacity stayed exact: for every unit, listed_count equals
its active and pending choices and never exceeds its capacity.

Before the submissions, the same workers make one UPDATE and COMMIT per resident: the floor a write
transaction costs on this machine now. The ratio of the two is the figure to compare between runs.
"""
from __future__ import annotations

import argparse
import multiprocessing
import random
import secrets
import tempfile
import threading
import time
from datetime import date

from common import bench_app, pg_admin, pg_reachable, pg_url
from sqlalchemy import event, func, select, update

from webapp.choice import use_cases as svc
from webapp.choice.choices import counted_places
from webapp.core.migrate import upgrade
from webapp.models import Choice, Pilot, Resident, Unit
from webapp.web import db

TODAY = date(2026, 11, 24)  # inside the demo choice window


def setup(url: str, workdir: str, residents: int) -> tuple[list[int], list[int]]:
    upgrade(url)
    app = bench_app(url, f"{workdir}/index", workdir)
    from webapp.seeding import run_seed
    with app.app_context():
        sess = db.session()
        run_seed(sess, resident_key_secret=app.config["RESIDENT_KEY_SECRET"],
                 instance_dir=app.config.get("INSTANCE_DIR"), app_env=app.config["APP_ENV"])
        units = list(sess.scalars(select(Unit.id).join(Pilot, Pilot.id == Unit.pilot_id).where(
            Pilot.slug == "uusimaa", Unit.element == "sote_centre", Unit.is_hidden.is_(False)).order_by(Unit.id)))[:20]
        places = residents // 2 // len(units)
        for uid in units:
            counted = counted_places(sess, uid)
            sess.execute(update(Unit).where(Unit.id == uid).values(listed_count=counted, capacity=counted + places,
                                                                   accepting_new=True))
        people = [Resident(key=secrets.token_hex(32), birth_date=date(1980, 5, 5), home_municipality_code="186",
                           in_institutional_care=False) for _ in range(residents)]
        sess.add_all(people)
        sess.commit()
        ids = [p.id for p in people]
        sess.close()
        db.engine().dispose()
    return units, ids


def _baseline_write(sess, resident_id: int) -> str:  # noqa: ANN001
    """The floor a submission is measured against: one write transaction with one UPDATE of the resident's own
    row (a value it already has), through the same session and transaction helper."""
    with db.write_transaction(sess):
        sess.execute(update(Resident).where(Resident.id == resident_id).values(in_institutional_care=False))
    return "baseline"


def _submitter(url: str, workdir: str, units: list[int], residents: list[int], threads: int, seed: int,
               results: multiprocessing.Queue, ready, baseline: bool = False) -> None:  # noqa: ANN001
    app = bench_app(url, f"{workdir}/index", workdir)
    ready.wait()  # every process has its app: the clock starts now
    tallies: dict[str, int] = {}
    lock = threading.Lock()

    def work(mine: list[int], rng: random.Random) -> None:
        with app.app_context():
            sess = db.new_session()
            try:
                for rid in mine:
                    status = (_baseline_write(sess, rid) if baseline else
                              svc.submit_choice(sess, rid, rng.choice(units), secrets.token_urlsafe(16), TODAY).status)
                    with lock:
                        tallies[status] = tallies.get(status, 0) + 1
            finally:
                sess.close()

    parts = [residents[i::threads] for i in range(threads)]
    pool = [threading.Thread(target=work, args=(part, random.Random(seed * 100 + i))) for i, part in enumerate(parts)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    app.extensions["db_engine"].dispose()
    results.put(tallies)


def statements_of_one(url: str, workdir: str, unit: int, resident: int) -> int:
    app = bench_app(url, f"{workdir}/index", workdir)
    seen: list[str] = []

    def count(_c: object, _cu: object, statement: str, *_a: object) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT")):
            seen.append(statement)

    with app.app_context():
        event.listen(db.engine(), "before_cursor_execute", count)
        svc.submit_choice(db.session(), resident, unit, secrets.token_urlsafe(16), TODAY)
        event.remove(db.engine(), "before_cursor_execute", count)
        db.engine().dispose()
    return len(seen)


def check_capacity(url: str, workdir: str, units: list[int]) -> tuple[bool, int]:
    app = bench_app(url, f"{workdir}/index", workdir)
    exact, over = True, 0
    with app.app_context():
        sess = db.session()
        for uid in units:
            listed, capacity = sess.execute(select(Unit.listed_count, Unit.capacity).where(Unit.id == uid)).one()
            counted = sess.scalar(select(func.count()).select_from(Choice).where(
                Choice.unit_id == uid, Choice.status.in_(("active", "pending"))))
            exact &= listed == counted
            over += max(0, listed - capacity)
        db.engine().dispose()
    return exact and not over, over


def _drive(url: str, workdir: str, units: list[int], residents: list[int], args: argparse.Namespace,
           baseline: bool) -> tuple[dict[str, int], float]:
    """Run the submitters (threads over processes) until each has done its residents; tallies and seconds."""
    per_process = [residents[i::args.processes] for i in range(args.processes)]
    threads = max(1, args.workers // args.processes)
    results: multiprocessing.Queue = multiprocessing.Queue()
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Barrier(len(per_process) + 1)
    procs = [ctx.Process(target=_submitter, args=(url, workdir, units, part, threads, i, results, ready, baseline))
             for i, part in enumerate(per_process)]
    for p in procs:
        p.start()
    ready.wait()
    start = time.perf_counter()
    tallies: dict[str, int] = {}
    for _ in procs:
        for k, v in results.get().items():
            tallies[k] = tallies.get(k, 0) + v
    for p in procs:
        p.join()
    return tallies, time.perf_counter() - start


def run(backend: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="choice-bench-") as workdir:
        if backend == "postgresql":
            name = "valinta_choice_bench"
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{name}"')
            url = pg_url(name)
        else:
            url = f"sqlite:///{workdir}/choice.db"
        units, residents = setup(url, workdir, args.residents + 1)
        per_statement = statements_of_one(url, workdir, units[0], residents.pop())
        base_tallies, base_wall = _drive(url, workdir, units, residents, args, baseline=True)
        tallies, wall = _drive(url, workdir, units, residents, args, baseline=False)
        threads = max(1, args.workers // args.processes)
        ok, over = check_capacity(url, workdir, units)
        total = sum(tallies.values())
        print(f"{backend:10} {total} submissions by {threads * args.processes} workers ({args.processes} processes) "
              f"in {wall:.1f} s: {total / wall:.0f} submissions/s; {tallies}; "
              f"{per_statement} SQL statements per accepted submission; capacity exact: {ok} (over capacity: {over})")
        base = sum(base_tallies.values()) / base_wall
        print(f"{backend:10} baseline, the same workers each making one UPDATE and COMMIT per submission: "
              f"{base:.0f}/s; ratio submissions/baseline: {total / wall / base * 100:.0f} %")
        if backend == "postgresql":
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--residents", type=int, default=4000)
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    args = parser.parse_args()
    backends = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    for backend in backends:
        if backend == "postgresql" and not pg_reachable():
            print("postgresql: not reachable at PG_ADMIN_URL; skipped")
            continue
        run(backend, args)


if __name__ == "__main__":
    main()
