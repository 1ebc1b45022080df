"""Shared by the benchmarks: a database with N generated units and its index, percentiles, peak memory."""
from __future__ import annotations

import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webapp import create_app  # noqa: E402
from webapp.core.migrate import upgrade  # noqa: E402
from webapp.web import db  # noqa: E402

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BENCH_SECRETS = {"SECRET_KEY": "bench-secret-" * 4, "RESIDENT_KEY_SECRET": "bench-resident-" * 4}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@contextmanager
def counting_statements(engine) -> Iterator[list[str]]:  # noqa: ANN001
    """The SQL statements sent on `engine` while the block runs."""
    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001, ANN002
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def pg_admin(sql: str) -> None:
    import psycopg
    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), autocommit=True,
                         connect_timeout=3) as conn:
        conn.execute(sql)


def pg_reachable() -> bool:
    try:
        pg_admin("SELECT 1")
        return True
    except Exception:  # noqa: BLE001  any failure means unreachable
        return False


def bench_app(url: str, index_dir: str, instance: str):  # noqa: ANN201
    return create_app({"DATABASE_URL": url, "INDEX_DIR": index_dir, "INSTANCE_DIR": instance, "TESTING": True,
                       "RATE_LIMIT_ENABLED": False, **BENCH_SECRETS})


def _generate(app, count: int) -> None:  # noqa: ANN001
    from webapp.core.progress import progress
    from webapp.seeding.demo import generate_bulk_units
    from webapp.seeding.reference import load_reference_data
    with app.app_context():
        sess = db.session()
        load_reference_data(sess)
        with progress("Generating units", count) as advance:
            generate_bulk_units(sess, count, advance=advance)
            sess.commit()


def prepare(url: str, workdir: str, units: int, reuse: bool) -> dict:
    """Migrate `url`, generate `units` units unless `reuse`, time a full index build (in workdir/index).

    Generation runs in a child process, so that the caller's peak RSS is that of indexing and searching,
    not of creating the units through the ORM. Returns timings."""
    t0 = time.perf_counter()
    upgrade(url)
    app = bench_app(url, f"{workdir}/index", workdir)
    if not reuse:
        child = multiprocessing.get_context("fork").Process(target=_generate, args=(app, units))
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit(f"generating units failed ({child.exitcode})")
    t1 = time.perf_counter()
    with app.app_context():
        count = app.extensions["search"].rebuild(db.session())  # a full build, as a process starting does
        db.session().close()
        db.engine().dispose()
    t2 = time.perf_counter()
    return {"app": app, "generated": 0 if reuse else units, "generate_s": t1 - t0, "indexed": count,
            "index_s": t2 - t1}
