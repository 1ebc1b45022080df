"""The engine and the decision transaction; the web layer binds a session per request (webapp/web/db.py).

SQLite gets foreign keys, WAL and a busy timeout, and emits its own BEGIN so that writers that
must be serialised (capacity) can ask for BEGIN IMMEDIATE; PostgreSQL uses row locks instead.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session


class Base(DeclarativeBase):
    pass


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves, below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


@contextmanager
def write_transaction(sess: Session) -> Iterator[Session]:
    """A transaction that commits or rolls back as a whole.

    On SQLite it starts with BEGIN IMMEDIATE so that concurrent writers queue up instead of
    reading stale counters; on PostgreSQL the caller takes row locks (SELECT ... FOR UPDATE).
    """
    if sess.in_transaction():
        sess.rollback()
    sess.connection(execution_options={"sqlite_immediate": True})
    try:
        yield sess
        sess.commit()
    except BaseException:
        sess.rollback()
        raise
