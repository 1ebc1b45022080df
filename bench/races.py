#!/usr/bin/env python3
"""Racing load on PostgreSQL: many residents' threads through every use case that locks, then the invariants.

    .venv/bin/python bench/races.py [--threads 8] [--ops 400] [--seed 1]

Creates a throw-away database (PG_ADMIN_URL, as the tests), migrates and seeds it, makes two full units with
queues and three with a few free places, and runs the mix of tests/racing.py: choices, cancellations, joins,
leaves, expiry, promotions and capacity raised by staff. Prints the operations, their outcomes, the errors
(deadlocks and anything else a resident would have seen as a failure), the transactions run again, and every
broken invariant. Run it from an older checkout (copy this file and tests/racing.py there) for a before/after.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import racing
from tests.conftest import PG_ADMIN_URL, _base_overrides, _pg_admin, _pg_url, pg_unavailable_reason
from webapp import create_app
from webapp.core.migrate import upgrade
from webapp.web import db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--ops", type=int, default=400, help="operations per thread")
    parser.add_argument("--residents", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reason = pg_unavailable_reason()
    if reason:
        sys.exit(reason)
    name = f"valinta_races_{uuid.uuid4().hex[:8]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = _pg_url(name)
            upgrade(url)
            app = create_app({"DATABASE_URL": url, "INDEX_DIR": os.path.join(tmp, "index"), "INSTANCE_DIR": tmp,
                              **_base_overrides(Path(tmp))})
            from webapp.seeding import run_seed
            with app.app_context():
                run_seed(db.session(), resident_key_secret=app.config["RESIDENT_KEY_SECRET"],
                         instance_dir=app.config.get("INSTANCE_DIR"), app_env=app.config["APP_ENV"])
                db.session().close()
            units, residents = racing.prepare_mix(app, residents=args.residents)
            started = time.monotonic()
            report = racing.run_mix(app, units, residents, args.threads, args.ops, seed=args.seed)
            took = time.monotonic() - started
            broken = racing.broken_invariants(app, units)
            print(f"database: {PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
            print(f"operations: {report.operations} ({args.threads} threads x {args.ops}) in {took:.1f} s")
            for key, n in sorted(report.outcomes.items()):
                print(f"  {key:24} {n}")
            print(f"errors: {sum(report.errors.values())} {report.errors}")
            for example in report.examples:
                print(f"  e.g. {example}")
            print(f"transactions run again (deadlock or serialisation failure): {racing.retries_counted():.0f}")
            print(f"broken invariants: {len(broken)}")
            for line in broken[:20]:
                print(f"  {line}")
            app.extensions["db_engine"].dispose()
    finally:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
