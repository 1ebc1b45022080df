"""Search benchmark: 10,000 generated units, index build time, then page and API searches in-process.

    .venv/bin/python bench/search.py [--units 10000] [--requests 500]

Creates a fresh SQLite database in a temporary directory (migrations, reference data,
generate_bulk_units), builds the index, and drives the WSGI app with app.test_client() — a single
process, no network — through a fixed, seeded mix of text, filter and distance-sorted searches on
the search page and the API. Prints latency percentiles, requests per second and peak RSS.
"""
from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from common import bench_app, counting_statements, pct, prepare

TEXTS = ["hammaslääkäri", "hammaslääkärille", "Tampereella", "sote-keskus", "Hyvinkää", "tandläkare",
         "Stationsgatan", "lääkäri Lahti", "munhälsovård", "Sinivuokko", "fysioterapia", "hamaslääkäri",
         "Jyväskylä", "Helsingfors"]
FILTERS = [
    "element=sote_centre&accepting=1",
    "service=doctor&service=mental_health",
    "pilot=uusimaa&language=sv",
    "feature=lift&feature=induction_loop&sector=private",
    "max_t3_doctor=10&element=sote_centre",
    "municipality=837&sort=queue",
    "sector=public&sector=third&sort=name",
    "pilot=paijat-hame&service=laboratory&max_t3_nurse=5",
]
DISTANCE = [
    "postcode=00100&sort=distance",
    "postcode=05800&radius_km=25&sort=distance",
    "postcode=33100&radius_km=10&accepting=1",
    "postcode=40100&radius_km=50&service=doctor&sort=distance",
    "postcode=15110&sort=distance&element=sote_centre",
]


def build_queries(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kind = rng.random()
        if kind < 0.35:
            qs = "q=" + rng.choice(TEXTS)
            if rng.random() < 0.4:
                qs += "&" + rng.choice(FILTERS)
        elif kind < 0.7:
            qs = rng.choice(FILTERS)
        else:
            qs = rng.choice(DISTANCE)
        if rng.random() < 0.2:
            qs += f"&page={rng.randint(2, 4)}"
        base = "/api/v1/units?" if i % 2 else f"/{rng.choice(['fi', 'sv'])}/search?"
        out.append(base + qs)
    return out


def change_visible_ms(app, client, round_no: int = 0) -> float:  # noqa: ANN001
    """Rename a unit as staff would on this node (the commit writes the change log), and time from the commit
    until the next search has followed the log and finds the new name."""
    from sqlalchemy import update

    from webapp.models import Unit
    from webapp.web import db
    word = f"x{uuid.uuid4().hex[:12]}"  # a word no other unit has, not even from an earlier run
    with app.app_context():
        sess = db.session()
        uid = sess.scalar(Unit.__table__.select().with_only_columns(Unit.id).order_by(Unit.id.desc())
                          .offset(round_no).limit(1))
        sess.execute(update(Unit).where(Unit.id == uid).values(name_fi=f"Vaihdettu {word}"))
        start = time.perf_counter()
        sess.commit()
        found = client.get(f"/api/v1/units?q={word.lower()}").get_json()
        elapsed = (time.perf_counter() - start) * 1000
    assert [i["id"] for i in found["items"]] == [uid], found
    return elapsed


def search_latencies(client, queries: list[str]) -> dict[str, list[float]]:  # noqa: ANN001
    out: dict[str, list[float]] = {"page": [], "api": []}
    for q in queries:
        s = time.perf_counter()
        client.get(q).get_data()
        out["api" if q.startswith("/api/") else "page"].append((time.perf_counter() - s) * 1000)
    return out


def _write_changes(url: str, workdir: str, per_second: float, count: int, out) -> None:  # noqa: ANN001
    """In another process, as staff on another node: rename `count` units, `per_second` commits a second; each
    commit's word, unit and wall-clock time go to `out`."""
    from sqlalchemy import update

    from webapp.models import Unit
    from webapp.web import db
    app = bench_app(url, f"{workdir}/writer-index", workdir)
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(Unit.__table__.select().with_only_columns(Unit.id).order_by(Unit.id).limit(count)).all()
        start = time.time()
        for i, uid in enumerate(ids):
            time.sleep(max(0.0, start + i / per_second - time.time()))
            word = f"x{uuid.uuid4().hex[:12]}"
            sess.execute(update(Unit).where(Unit.id == uid).values(name_fi=f"Toisaalla {word}"))
            sess.commit()
            out.put((word, uid, time.time()))
    out.put(None)


def remote_change_visible_ms(url: str, workdir: str, client, per_second: float = 10, count: int = 100) -> list[float]:  # noqa: ANN001
    """Per change made by another process at `per_second`: from its commit until a search here finds it."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    writer = ctx.Process(target=_write_changes, args=(url, workdir, per_second, count, out))
    writer.start()
    pending: dict[str, tuple[int, float]] = {}
    seen: list[float] = []
    done = False
    while not done or pending:
        while not out.empty() or (not pending and not done):
            item = out.get()
            if item is None:
                done = True
                break
            pending[item[0]] = (item[1], item[2])
        for word, (uid, committed) in list(pending.items()):
            items = client.get(f"/api/v1/units?q={word}").get_json()["items"]
            if items:
                assert [i["id"] for i in items] == [uid], items
                seen.append((time.time() - committed) * 1000)
                del pending[word]
        time.sleep(0.01)
    writer.join()
    return seen


def _serving_rss(workdir: str, queries: list[str], started: float, out) -> None:  # noqa: ANN001
    """In a fresh process without an index, as a web worker starting: the time from its start until its first
    search is answered (it builds the index), then its peak RSS after answering the queries."""
    app = bench_app(f"sqlite:///{workdir}/bench.db", f"{workdir}/cold-index", workdir)
    app.config["PAGE_CACHE_MB"] = 0
    client = app.test_client()
    assert client.get("/fi/search").status_code == 200
    out.put(time.time() - started)
    for q in queries:
        client.get(q)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    status = Path("/proc/self/status").read_text()
    for field in ("VmHWM:", "VmRSS:"):
        out.put(int(next(line.split()[1] for line in status.splitlines() if line.startswith(field))) / 1024)


def cold_start_and_rss(workdir: str, queries: list[str]) -> tuple[float, float, float]:
    """A process that starts without an index: seconds until it serves its first search, and its peak and
    current RSS (MB) once it has answered the queries (what a worker needs)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_serving_rss, args=(workdir, queries, time.time(), out))
    child.start()
    first, peak, now = out.get(), out.get(), out.get()
    child.join()
    return first, peak, now


def hello_baseline_ms(requests: int = 2000) -> float:
    """Mean time of a request to bench/hello.py's app through Flask's test client, in this process: the
    machine's speed now. Machines here are shared and their speed moves 2x within an hour; the ratios printed
    beside the absolute figures compare like with like."""
    from hello import app as hello
    client = hello.test_client()
    for _ in range(200):
        client.get("/")
    start = time.perf_counter()
    for _ in range(requests):
        client.get("/")
    return (time.perf_counter() - start) * 1000 / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--keep", metavar="DIR", help="use DIR instead of a temporary directory and reuse its "
                                                      "database if it exists (for profiling)")
    parser.add_argument("--changes", type=int, default=50,
                        help="changes of this process, one at a time, timed from commit to the next search "
                             "finding them")
    parser.add_argument("--remote-changes", type=int, default=100,
                        help="changes by another process at --rate a second, timed from commit until a search here "
                             "finds them (the follower checks the log every INDEX_SYNC_INTERVAL_MS)")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--page-cache-mb", type=float, default=0,
                        help="the page cache for repeated queries (default 0: every request searches and renders)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="search-bench-") as tmp:
        if args.keep:
            tmp = args.keep
            Path(tmp).mkdir(parents=True, exist_ok=True)
        reuse = bool(args.keep) and Path(f"{tmp}/bench.db").exists()
        info = prepare(f"sqlite:///{tmp}/bench.db", tmp, args.units, reuse)
        print(f"database: {info['generated']} units generated in {info['generate_s']:.1f} s")
        print(f"index build: {info['indexed']} units in {info['index_s']:.2f} s")
        app = bench_app(f"sqlite:///{tmp}/bench.db", f"{tmp}/index", tmp)
        # The queries repeat: measure the search itself, not the page cache (bench/served.py measures both).
        app.config["PAGE_CACHE_MB"] = args.page_cache_mb

        client = app.test_client()
        t3 = time.perf_counter()
        warm = client.get("/fi/search")  # opens the searcher and loads the row table
        assert warm.status_code == 200, warm.status_code
        print(f"first search (builds the index in this app): {(time.perf_counter() - t3) * 1000:.0f} ms")

        queries = build_queries(args.requests)
        for q in queries[:20]:  # warm-up, not measured
            client.get(q)
        latencies: list[float] = []
        by_kind: dict[str, list[float]] = {"page": [], "api": []}
        statuses: dict[int, int] = {}
        slowest: list[tuple[float, str]] = []
        start = time.perf_counter()
        for q in queries:
            s = time.perf_counter()
            response = client.get(q)
            response.get_data()
            elapsed = (time.perf_counter() - s) * 1000
            latencies.append(elapsed)
            slowest.append((elapsed, q))
            by_kind["api" if q.startswith("/api/") else "page"].append(elapsed)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        wall = time.perf_counter() - start
        # The first change of a process is not timed, as the first searches are not (first-use caches).
        change_visible_ms(app, client, args.changes + 1)
        visible = [change_visible_ms(app, client, i) for i in range(args.changes)]
        with app.app_context():
            from webapp.web import db
            with counting_statements(db.engine()) as statements:
                for q in queries[:100]:
                    client.get(q)
        remote = remote_change_visible_ms(f"sqlite:///{tmp}/bench.db", tmp, client, args.rate, args.remote_changes)
        cold_s, serving, serving_now = cold_start_and_rss(tmp, queries)

    hello_ms = hello_baseline_ms()
    print(f"baseline: a hello-world Flask request in this process takes {hello_ms:.3f} ms now (the ratios in "
          f"brackets are multiples of it)")
    print(f"requests: {len(queries)} (page {len(by_kind['page'])}, api {len(by_kind['api'])}); statuses {statuses}")
    print(f"latency ms: p50 {pct(latencies, 50):.1f}  p95 {pct(latencies, 95):.1f}  p99 {pct(latencies, 99):.1f}  "
          f"mean {statistics.mean(latencies):.1f}  max {max(latencies):.1f}")
    for kind, values in by_kind.items():
        print(f"  {kind:4}: p50 {pct(values, 50):.1f}  p95 {pct(values, 95):.1f} ({pct(values, 95) / hello_ms:.0f}x)  "
              f"p99 {pct(values, 99):.1f}")
    print("slowest:", "; ".join(f"{ms:.0f} ms {q}" for ms, q in sorted(slowest, reverse=True)[:3]))
    print(f"throughput: {len(queries) / wall:.1f} requests/s (single process)")
    print(f"SQL statements in 100 searches within the sync interval: {len(statements)}")
    print(f"a change of this process is in its next search ({len(visible)} changes, one at a time): "
          f"p50 {pct(visible, 50):.0f} ms ({pct(visible, 50) / hello_ms:.0f}x), p95 {pct(visible, 95):.0f} ms, "
          f"max {max(visible):.0f} ms")
    print(f"a change by another process ({len(remote)} at {args.rate:g}/s) is found here after: "
          f"p50 {pct(remote, 50):.0f} ms, p95 {pct(remote, 95):.0f} ms, max {max(remote):.0f} ms "
          f"(INDEX_SYNC_INTERVAL_MS {app.config['INDEX_SYNC_INTERVAL_MS']})")
    print(f"a process that starts without an index serves its first search after {cold_s:.1f} s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS (index build and searches; the data is generated in a child process): {peak / 1024:.0f} MB")
    print(f"RSS of a serving process (builds its index, answers the same searches): peak {serving:.0f} MB, "
          f"after {serving_now:.0f} MB")


if __name__ == "__main__":
    main()
