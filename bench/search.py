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

from common import bench_app, pct, prepare

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
    """Rename a unit as staff would (the commit writes the change log), and time from the commit until the
    next search has followed the log and finds the new name."""
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


def segments_of(index_dir: str) -> int:
    from whoosh import index as windex

    from webapp.search.index import current_version
    ix = windex.open_dir(str(current_version(index_dir)))
    try:
        return len(ix._segments())
    finally:
        ix.close()


def search_latencies(client, queries: list[str]) -> dict[str, list[float]]:  # noqa: ANN001
    out: dict[str, list[float]] = {"page": [], "api": []}
    for q in queries:
        s = time.perf_counter()
        client.get(q).get_data()
        out["api" if q.startswith("/api/") else "page"].append((time.perf_counter() - s) * 1000)
    return out


def wait_for_merges(index_dir: str) -> tuple[int, float]:
    """Wait until this process's merger is done (merger.py); how many merges it did, in how many ms."""
    from webapp.search import merger
    while not merger.idle(index_dir):
        time.sleep(0.005)
    return merger.last_run(index_dir)


def _serving_rss(workdir: str, queries: list[str], out) -> None:  # noqa: ANN001
    """In a fresh process: open the index and answer the queries, as a web worker would; its peak RSS."""
    app = bench_app(f"sqlite:///{workdir}/bench.db", f"{workdir}/index", workdir)
    app.config["PAGE_CACHE_MB"] = 0
    client = app.test_client()
    for q in ["/fi/search", *queries]:
        client.get(q)
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
    status = Path("/proc/self/status").read_text()
    out.put(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024)


def serving_rss_mb(workdir: str, queries: list[str]) -> float:
    """Peak RSS of a process that only serves (no index build, no generation): what a worker needs."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    child = ctx.Process(target=_serving_rss, args=(workdir, queries, out))
    child.start()
    peak = out.get()
    child.join()
    return peak


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
                        help="changes back to back, timed from commit to the next search finding them (the small "
                             "segments they leave are merged in the pause after them: webapp/search/merger.py)")
    parser.add_argument("--paused-changes", type=int, default=12,
                        help="changes with a pause after each in which the merges that are due are done")
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
        print(f"first search (open index, load table): {(time.perf_counter() - t3) * 1000:.0f} ms")

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
        # Back to back, as deployed: merges wait for a pause, or run after at most four pauses' time meanwhile.
        # The first change of a process is not timed, as the first searches are not (it builds the unit ->
        # document map and first-use caches).
        change_visible_ms(app, client, args.changes + 30 + args.paused_changes)
        visible = [change_visible_ms(app, client, i) for i in range(args.changes)]
        wait_for_merges(f"{tmp}/index")
        # Searches while a burst's one-unit segments wait to be merged (held back here).
        idle_ms = app.config["INDEX_MERGE_IDLE_MS"]
        app.config["INDEX_MERGE_IDLE_MS"] = 600_000
        for i in range(30):
            change_visible_ms(app, client, args.changes + i)
        pending = segments_of(f"{tmp}/index")
        with_pending = search_latencies(client, queries[:200])
        app.config["INDEX_MERGE_IDLE_MS"] = idle_ms
        paused, merged = [], None
        for i in range(args.paused_changes):
            paused.append(change_visible_ms(app, client, args.changes + 30 + i))
            time.sleep(0.05)
            took = wait_for_merges(f"{tmp}/index")
            merged = merged or took  # the first pause merges what the held-back burst left
        serving = serving_rss_mb(tmp, queries)

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
    print(f"a changed unit is in the next search after its commit ({len(visible)} changes, one at a time, back to "
          f"back; the search follows the change log): p50 {pct(visible, 50):.0f} ms "
          f"({pct(visible, 50) / hello_ms:.0f}x), "
          f"p95 {pct(visible, 95):.0f} ms, max {max(visible):.0f} ms")
    print(f"  searches with the {pending} segments 30 changes leave while merges are held back: "
          f"page p95 {pct(with_pending['page'], 95):.1f}, "
          f"api p95 {pct(with_pending['api'], 95):.1f} ms; the first pause merged them in {merged[0] if merged else 0} "
          f"merges, {merged[1] if merged else 0:.0f} ms (in the merger's thread)")
    if paused:
        print(f"  {len(paused)} changes with a pause after each (the merges due done in it): "
              f"p50 {pct(paused, 50):.0f} ms ({pct(paused, 50) / hello_ms:.0f}x), p95 {pct(paused, 95):.0f} ms, "
              f"max {max(paused):.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"peak RSS (index build and searches; the data is generated in a child process): {peak / 1024:.0f} MB")
    print(f"peak RSS of a process that only serves (opens the index, answers the same searches): {serving:.0f} MB")


if __name__ == "__main__":
    main()
