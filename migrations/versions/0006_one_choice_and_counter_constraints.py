"""the database keeps the choice invariants: one pending and one active choice per resident and element,
one waiting entry per resident and element, unit counters within range

Revision ID: 0015
Revises: 0011
Create Date: 2026-12-04
The file's number is its place in the chain; its revision id stays 0015 (deployed databases store it).

Before changing anything the migration looks for rows that already break these rules and, if it finds
any, stops with a report of them (nothing changed), so that an operator can put them right first.

PostgreSQL gets CHECK constraints. SQLite cannot add a CHECK constraint to an existing table without
rebuilding it, and the tables that refer to `unit` make a rebuild unsafe with foreign keys on; there the
same conditions are triggers with the constraints' names, which refuse the write the same way.
"""
from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0011'
branch_labels = None
depends_on = None

ONE_PER_ELEMENT = {
    "uq_choice_one_pending": ("choice", "pending"),
    "uq_choice_one_active": ("choice", "active"),
    "uq_waiting_entry_one_per_element": ("waiting_entry", "waiting"),
}
COUNTERS = {
    "ck_unit_listed_count_within_capacity": "listed_count >= 0 AND (capacity IS NULL OR listed_count <= capacity)",
    "ck_unit_waiting_count_not_negative": "waiting_count >= 0",
    "ck_unit_capacity_not_negative": "capacity IS NULL OR capacity >= 0",
}


class InvariantViolations(RuntimeError):
    """Rows that break the rules this migration makes the database's own; nothing was changed."""


def violations(conn: sa.Connection) -> list[str]:
    """A line per rule and the rows that break it (empty when the data keeps every rule)."""
    found = []
    for name, (table, status) in ONE_PER_ELEMENT.items():
        rows = conn.execute(sa.text(
            f"SELECT resident_id, pilot_id, element, count(*) AS n FROM {table} WHERE status = :status "
            "GROUP BY resident_id, pilot_id, element HAVING count(*) > 1 ORDER BY resident_id"),
            {"status": status}).all()
        for r in rows:
            ids = conn.execute(sa.text(
                f"SELECT id FROM {table} WHERE status = :status AND resident_id = :r AND pilot_id = :p "
                "AND element = :e ORDER BY id"), {"status": status, "r": r.resident_id, "p": r.pilot_id,
                                                  "e": r.element}).scalars().all()
            found.append(f"{name}: resident {r.resident_id}, pilot {r.pilot_id}, {r.element}: {r.n} {status} rows "
                         f"in {table} (ids {', '.join(map(str, ids))})")
    for name, condition in COUNTERS.items():
        for r in conn.execute(sa.text(f"SELECT id, capacity, listed_count, waiting_count FROM unit "
                                      f"WHERE NOT ({condition}) ORDER BY id")).all():
            found.append(f"{name}: unit {r.id} has capacity {r.capacity}, listed_count {r.listed_count}, "
                         f"waiting_count {r.waiting_count}")
    return found


def _of_new_row(condition: str) -> str:
    """The condition about the row being written, for a trigger (capacity -> NEW.capacity ...)."""
    return re.sub(r"\b(capacity|listed_count|waiting_count)\b", r"NEW.\1", condition)


def upgrade() -> None:
    conn = op.get_bind()
    broken = violations(conn)
    if broken:
        raise InvariantViolations(
            "The database has rows that break rules this upgrade makes the database's own. Nothing was changed. "
            "Put these rows right (end or cancel the extra choices or entries, recount the units' counters), "
            "then upgrade again:\n  " + "\n  ".join(broken))
    sqlite = conn.dialect.name == "sqlite"
    for name, (table, status) in ONE_PER_ELEMENT.items():
        if name == "uq_waiting_entry_one_per_element":
            continue  # there since 0012
        where = sa.text(f"status = '{status}'")
        op.create_index(name, table, ["resident_id", "pilot_id", "element"], unique=True,
                        sqlite_where=where, postgresql_where=where)
    for name, condition in COUNTERS.items():
        if sqlite:
            for event in ("INSERT", "UPDATE"):
                op.execute(f"CREATE TRIGGER {name}_{event.lower()} BEFORE {event} ON unit "
                           f"WHEN NOT ({_of_new_row(condition)})"
                           f" BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END")
        else:
            op.create_check_constraint(name, "unit", condition)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in COUNTERS:
        if sqlite:
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}")
        else:
            op.drop_constraint(name, "unit", type_="check")
    op.drop_index("uq_choice_one_active", table_name="choice")
    op.drop_index("uq_choice_one_pending", table_name="choice")
