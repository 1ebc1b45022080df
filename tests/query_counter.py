"""Counting the SQL statements a request or a use case sends (not a test module).

Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT) and SQLite PRAGMAs are not counted: they are not
queries, and SQLite and PostgreSQL send them differently.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class Statements(list):
    def __str__(self) -> str:
        return "\n".join(f"{i + 1}. {s[:160]}" for i, s in enumerate(self))


@contextmanager
def counting(app) -> Iterator[Statements]:
    """The statements sent on the app's engine while the block runs."""
    engine = app.extensions["db_engine"]
    seen = Statements()

    def before(_conn, _cursor, statement, _params, _context, _many) -> None:
        if not statement.lstrip().upper().startswith(NOT_COUNTED):
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)
