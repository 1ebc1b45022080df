"""Reading the change log (`index_change`, written by webapp.search.changelog on every commit that changes units).

ONE indexed query, `id > head OR id IN (gaps)`, returns nothing when nothing changed. Ids are handed out when
a row is inserted, just before its commit, so on PostgreSQL a later id can commit first: an id skipped over is
remembered as a gap and asked for again until it appears or GAP_SECONDS pass (a rolled-back transaction leaves
a gap that never fills). A row without units means "everything"; rows older than RETENTION are purged.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from webapp.models import IndexChange

GAP_SECONDS = 60
BATCH = 5000
REBUILD_AFTER_UNITS = 2000
RETENTION = timedelta(days=1)  # log rows older than this are purged (flask purge-expired)
STALE_SECONDS = RETENTION.total_seconds() / 2  # unchecked this long, rows may have been purged: rebuild


@dataclass
class LogState:
    head: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when it was first missed (unix seconds)
    checked_at: float = 0.0


@dataclass
class Status:
    head: int            # the last log row this process's snapshot includes
    behind: int          # rows still not applied (0 normally)
    lag_seconds: float   # age of the oldest row not applied (0 when none)
    rebuilt: bool = False


def unapplied(sess: Session, state: LogState, now: float) -> Sequence[Any]:
    """The one query: log rows after the head, and rows that were missing when the head moved past them."""
    cond = IndexChange.id > state.head
    gaps = sorted(g for g, seen in state.gaps.items() if now - seen < GAP_SECONDS)
    if gaps:
        cond = or_(cond, IndexChange.id.in_(gaps))
    return sess.execute(select(IndexChange.id, IndexChange.unit_ids, IndexChange.at)
                        .where(cond).order_by(IndexChange.id).limit(BATCH)).all()


def advanced(state: LogState, rows: Sequence[Any], now: float) -> LogState:
    found = {r.id for r in rows}
    top = max([state.head, *found])
    gaps = {g: seen for g, seen in state.gaps.items() if g not in found and now - seen < GAP_SECONDS}
    for missing in range(state.head + 1, top + 1):
        if missing not in found and len(gaps) < 1000:
            gaps.setdefault(missing, now)
    return LogState(top, gaps, now)


def changed_units(rows: Sequence[Any]) -> set[int] | None:
    """The units the rows name; None when they call for a rebuild (a row for everything, or very many)."""
    units: set[int] = set()
    for row in rows:
        if row.unit_ids is None:
            return None
        units.update(int(i) for i in row.unit_ids.split())
    return None if len(rows) >= BATCH or len(units) > REBUILD_AFTER_UNITS else units


def head_state(sess: Session, now: float) -> LogState:
    """The log's head as seen now, with the ids just below it that have not committed yet as gaps."""
    head = log_top(sess)
    recent = set(sess.scalars(select(IndexChange.id).where(IndexChange.id > head - 1000)))
    gaps = {i: now for i in range(max(1, head - 999), head + 1) if i not in recent}
    return LogState(head, gaps, now)


def lag_seconds(rows: Sequence[Any]) -> float:
    if not rows:
        return 0.0
    oldest: datetime = min(r.at for r in rows)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - oldest).total_seconds())


def log_top(sess: Session) -> int:
    return sess.scalar(select(func.max(IndexChange.id))) or 0


def purge(sess: Session, older_than: timedelta = RETENTION) -> int:
    """Delete log rows older than `older_than` (a process unchecked for half of it rebuilds). Commits."""
    cutoff = datetime.now(UTC) - older_than
    result = sess.execute(delete(IndexChange).where(IndexChange.at < cutoff))
    sess.commit()
    return int(getattr(result, "rowcount", 0) or 0)
