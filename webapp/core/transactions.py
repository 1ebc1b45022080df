"""Decision transactions that the database may ask to run again.

PostgreSQL ends a transaction with a deadlock (40P01) or a serialisation failure (40001) when it
cannot order it against another; SQLite answers "database is locked" when a writer's snapshot went
stale. Nothing of such a transaction was committed, so running the whole decision again (locks,
reads, rules, writes) is safe; a decision that did commit is never run twice, and a resubmitted
request is recognised by its request token. Retries are bounded, spread with random jitter, and
counted in /metrics by use case and reason.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from webapp.core import db

T = TypeVar("T")

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 0.02  # the first retry waits up to this long; each next one up to twice as long

RETRIES = Counter("valinta_db_retries", "Decision transactions run again after a transient database error",
                  ["use_case", "reason"])
GAVE_UP = Counter("valinta_db_retries_exhausted", "Decision transactions that failed every attempt",
                  ["use_case", "reason"])

_SQLSTATES = {"40P01": "deadlock", "40001": "serialization_failure"}


def transient_reason(exc: BaseException) -> str | None:
    """'deadlock', 'serialization_failure' or 'database_locked' when running again may succeed, else None."""
    if not isinstance(exc, DBAPIError):
        return None
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _SQLSTATES:
        return _SQLSTATES[sqlstate]
    if "database is locked" in str(exc.orig):
        return "database_locked"
    return None


def in_transaction(sess: Session, body: Callable[[], T], *, use_case: str, attempts: int = MAX_ATTEMPTS) -> T:
    """Run `body` in one write transaction (db.write_transaction) that commits or rolls back as a whole;
    run it again, up to `attempts` times in all, when the database reports a transient conflict."""
    for attempt in range(1, attempts + 1):
        try:
            with db.write_transaction(sess):
                return body()
        except DBAPIError as exc:
            reason = transient_reason(exc)
            if reason is None:
                raise
            if attempt == attempts:
                GAVE_UP.labels(use_case, reason).inc()
                raise
            RETRIES.labels(use_case, reason).inc()
            sess.expire_all()
            time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** (attempt - 1)))  # jitter, not secrets
    raise AssertionError("unreachable")
