"""Served benchmark: the app and a hello-world Flask app under the same gunicorn, driven by the same client.

    .venv/bin/python bench/served.py [--units 10000] [--duration 20] [--connections 4] [--workers 2]
                                     [--db postgresql|sqlite] [--keep DIR]

Builds a database with N generated units (PostgreSQL, the production database, when reachable at
PG_ADMIN_URL; else SQLite) and its search index, then serves, one after the other on 127.0.0.1:
  1. bench/hello.py (one route answering "Hello, world!"), and
  2. the app (APP_ENV=production on PostgreSQL),
each with `gunicorn --workers W` (the README's settings), and drives both with wrk (HTTP load generator,
installed with apt-get when missing) at the same concurrency, for the same time, with the same seeded mix:
search pages with text, filters and distance, API searches, unit pages and comparisons (fi and sv).
The mix has 4,000 addresses, visited in turn from a random start per connection: in a 20 s run most are
asked for once or twice, so the page cache (webapp/web/page_cache.py) serves the repeats; `--no-cache-too` also
measures the mix with the cache off, where every request is rendered. A second mix of 4,000 addresses, the
"search mix", has only the search pages and API searches (the mix issue 10 set its target on).
Prints requests/s and p50/p95/p99 for each, the ratio app / hello-world (the figure to track: one run on
a noisy machine compares like with like), per-kind figures, the largest HTML page and the workers' RSS.
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, pg_admin, pg_reachable, pg_url, prepare

GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
TEXTS = ["hammaslääkäri", "hammaslääkärille", "Tampereella", "sote-keskus", "Hyvinkää", "tandläkare",
         "Stationsgatan", "lääkäri Lahti", "munhälsovård", "Sinivuokko", "fysioterapia", "hamaslääkäri",
         "Jyväskylä", "Helsingfors", "terveysasema", "neuvola", "Kuopio", "mielenterveys"]
FILTERS = ["element=sote_centre&accepting=1", "service=doctor&service=mental_health", "pilot=uusimaa&language=sv",
           "feature=lift&feature=induction_loop&sector=private", "max_t3_doctor=10&element=sote_centre",
           "municipality=837&sort=queue", "sector=public&sector=third&sort=name",
           "pilot=paijat-hame&service=laboratory&max_t3_nurse=5", "element=oral_health", "language=en&accepting=1"]
KINDS = ("search_text", "search_filter", "search_distance", "api", "unit", "compare")
# The "search mix" (issue 10): search pages with text, filters and distance, and API searches.
SEARCH_KINDS = ("search_text", "search_filter", "search_distance", "api")
MIX = {"search_text": 0.15, "search_filter": 0.15, "search_distance": 0.10, "api": 0.25, "unit": 0.25,
       "compare": 0.10}

LUA = r"""
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local i = 0
init = function(args) i = math.random(#paths) end
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d p50=%.3f p95=%.3f p99=%.3f errors=%d status=%d\n",
    summary.requests, summary.duration, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status))
end
"""


def paths_for(kind: str, rng: random.Random, unit_ids: list[int], postcodes: list[str]) -> str:
    lang = rng.choice(["fi", "sv"])
    page = f"&page={rng.randint(2, 3)}" if rng.random() < 0.15 else ""
    if kind == "search_text":
        q = "q=" + urllib.request.quote(rng.choice(TEXTS))
        return f"/{lang}/search?{q}" + (("&" + rng.choice(FILTERS)) if rng.random() < 0.4 else "") + page
    if kind == "search_filter":
        return f"/{lang}/search?{rng.choice(FILTERS)}{page}"
    if kind == "search_distance":
        extra = rng.choice(["&sort=distance", "&radius_km=25&sort=distance", "&radius_km=10&accepting=1",
                            "&radius_km=50&service=doctor&sort=distance"])
        return f"/{lang}/search?postcode={rng.choice(postcodes)}{extra}{page}"
    if kind == "api":
        inner = rng.choice(["q=" + urllib.request.quote(rng.choice(TEXTS)), rng.choice(FILTERS),
                            f"postcode={rng.choice(postcodes)}&sort=distance"])
        return f"/api/v1/units?{inner}{page}"
    if kind == "unit":
        return f"/{lang}/units/{rng.choice(unit_ids)}"
    ids = rng.sample(unit_ids, rng.randint(2, 4))
    return f"/{lang}/compare?" + "&".join(f"unit={i}" for i in ids)


def build_mix(n: int, unit_ids: list[int], postcodes: list[str], seed: int = 1,
              only: str | tuple[str, ...] | None = None) -> list[str]:
    rng = random.Random(seed)
    kinds = [only] if isinstance(only, str) else list(only or MIX)
    weights = [1.0] if isinstance(only, str) else [MIX[k] for k in kinds]
    return [paths_for(rng.choices(kinds, weights)[0], rng, unit_ids, postcodes) for _ in range(n)]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        return shutil.which("wrk") or "wrk"
    raise SystemExit("wrk is missing: install Debian's 'wrk' package (apt-get install wrk).")


def serve(args: list[str], env: dict, port: int, cwd: Path) -> subprocess.Popen:
    proc = subprocess.Popen([GUNICORN, "--bind", f"127.0.0.1:{port}", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
            return proc
        except Exception as exc:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: {proc.stderr.read().decode()[-2000:]}") from exc
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within 30 s")


def stop(proc: subprocess.Popen) -> None:
    """Quick shutdown (SIGINT); a graceful one waits for the workers' kept-alive connections."""
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def rss_mb(proc: subprocess.Popen) -> float:
    """Resident memory of the gunicorn master and its workers."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(proc.pid), "-p", str(proc.pid)], capture_output=True,
                         text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def drive(wrk: str, port: int, paths: list[str], seconds: float, connections: int, workdir: str) -> dict:
    script, plist = Path(workdir) / "mix.lua", Path(workdir) / "paths.txt"
    script.write_text(LUA)
    plist.write_text("\n".join(paths) + "\n")
    out = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s",
                          str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         env=dict(os.environ, BENCH_PATHS=str(plist)), check=True).stdout
    m = re.search(r"RESULT requests=(\d+) duration_us=(\d+) p50=([\d.]+) p95=([\d.]+) p99=([\d.]+) "
                  r"errors=(\d+) status=(\d+)", out)
    if not m:
        raise SystemExit(f"wrk printed no result:\n{out}")
    requests, duration = int(m[1]), int(m[2]) / 1e6
    return {"rps": requests / duration, "p50": float(m[3]), "p95": float(m[4]), "p99": float(m[5]),
            "errors": int(m[6]), "non_2xx": int(m[7]), "requests": requests}


def line(name: str, r: dict) -> str:
    return (f"{name:16} {r['rps']:8.1f} req/s   p50 {r['p50']:6.1f} ms  p95 {r['p95']:6.1f} ms  "
            f"p99 {r['p99']:6.1f} ms   errors {r['errors']}  non-2xx {r['non_2xx']}")


def largest_pages(port: int, paths: list[str]) -> list[tuple[int, str]]:
    sizes = {}
    for p in dict.fromkeys(paths):
        if p.startswith("/api/"):
            continue
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{p}", timeout=10) as r:
            sizes[p] = len(r.read())
    return sorted(((n, p) for p, n in sizes.items()), reverse=True)[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--duration", type=float, default=20, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default=None,
                        help="default: postgresql when reachable, else sqlite")
    parser.add_argument("--keep", metavar="DIR", help="keep the database and index in DIR and reuse them")
    parser.add_argument("--per-kind", action="store_true", help="also measure each kind of request alone")
    parser.add_argument("--no-cache-too", action="store_true",
                        help="also measure the mix with the page cache off (PAGE_CACHE_MB=0): every request rendered")
    args = parser.parse_args()
    wrk = ensure_wrk()
    backend = args.db or ("postgresql" if pg_reachable() else "sqlite")

    with tempfile.TemporaryDirectory(prefix="served-bench-") as tmp:
        workdir = args.keep or tmp
        Path(workdir).mkdir(parents=True, exist_ok=True)
        marker = Path(workdir) / f"generated-{backend}-{args.units}"
        reuse = bool(args.keep) and marker.exists()
        if backend == "postgresql":
            name = f"valinta_bench_{args.units}"
            if not reuse:
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                pg_admin(f'CREATE DATABASE "{name}"')
            url = pg_url(name)
        else:
            if not reuse:
                Path(f"{workdir}/bench.db").unlink(missing_ok=True)
            url = f"sqlite:///{workdir}/bench.db"
        info = prepare(url, workdir, args.units, reuse)
        marker.touch()
        print(f"{backend}: {info['generated']} units generated in {info['generate_s']:.1f} s; "
              f"index build {info['indexed']} units in {info['index_s']:.2f} s")

        from sqlalchemy import create_engine, text
        engine = create_engine(url)
        with engine.connect() as conn:
            unit_ids = [r[0] for r in conn.execute(text("SELECT id FROM unit WHERE NOT is_hidden ORDER BY id"))]
            postcodes = [r[0] for r in conn.execute(text(
                "SELECT DISTINCT postcode FROM unit ORDER BY postcode"))]
        engine.dispose()
        paths = build_mix(4000, unit_ids, postcodes)
        search_paths = build_mix(4000, unit_ids, postcodes, seed=3, only=SEARCH_KINDS)

        env = dict(os.environ, DATABASE_URL=url, INDEX_DIR=f"{workdir}/index", INSTANCE_DIR=workdir,
                   SECRET_KEY="served-bench-secret-" * 3, RESIDENT_KEY_SECRET="served-bench-resident-" * 3,
                   APP_ENV="production" if backend == "postgresql" else "development")
        gunicorn_args = ["--workers", str(args.workers), "--access-logfile", "/dev/null"]
        port = 5091
        hello = serve([*gunicorn_args, "hello:app"], env, port, ROOT / "bench")
        try:
            drive(wrk, port, ["/"], 2, args.connections, workdir)  # warm-up
            base = drive(wrk, port, ["/"], args.duration, args.connections, workdir)
        finally:
            stop(hello)
        uncached = uncached_search = None
        if args.no_cache_too:
            app = serve([*gunicorn_args, "wsgi:app"], dict(env, PAGE_CACHE_MB="0"), port, ROOT)
            try:
                drive(wrk, port, paths, 4, args.connections, workdir)
                uncached = drive(wrk, port, paths, args.duration, args.connections, workdir)
                uncached_search = drive(wrk, port, search_paths, args.duration, args.connections, workdir)
            finally:
                stop(app)
        app = serve([*gunicorn_args, "wsgi:app"], env, port, ROOT)
        try:
            drive(wrk, port, paths, 4, args.connections, workdir)  # warm-up: open the index in every worker
            mix = drive(wrk, port, paths, args.duration, args.connections, workdir)
            search_mix = drive(wrk, port, search_paths, args.duration, args.connections, workdir)
            per_kind = {}
            if args.per_kind:
                for kind in KINDS:
                    per_kind[kind] = drive(wrk, port, build_mix(1000, unit_ids, postcodes, seed=2, only=kind),
                                           max(5.0, args.duration / 3), args.connections, workdir)
            largest = largest_pages(port, paths[:300])
            memory = rss_mb(app)
        finally:
            stop(app)

    print(f"\n{args.units} units, {backend}, gunicorn --workers {args.workers}, wrk -c {args.connections}, "
          f"{args.duration:.0f} s each, {os.cpu_count()} cores")
    print(line("hello world", base))
    print(line("app (mix)", mix))
    print(f"ratio app/hello-world: {mix['rps'] / base['rps'] * 100:.1f} % of the stack's ceiling")
    print(line("app (search mix)", search_mix))
    print(f"ratio search mix/hello-world: {search_mix['rps'] / base['rps'] * 100:.1f} % "
          "(search pages and API searches only, as issue 10 measured them)")
    if uncached is not None:
        print(line("app (mix, no page cache)", uncached))
        print(f"ratio without the page cache: {uncached['rps'] / base['rps'] * 100:.1f} %")
        print(line("app (search mix, no page cache)", uncached_search))
        print(f"ratio of the search mix without the page cache: {uncached_search['rps'] / base['rps'] * 100:.1f} %")
    for kind, r in per_kind.items():
        print(line(f"  {kind}", r))
    print("largest HTML pages: " + "; ".join(f"{n / 1024:.1f} KB {p}" for n, p in largest))
    print(f"app RSS (master + workers): {memory:.0f} MB")


if __name__ == "__main__":
    main()
