"""The search-index change log, written by the data layer itself.

Every ORM session notices, as it flushes and executes, which units' public data changed: units,
their services, languages, accessibility facts and sentences, queue times and opening hours, and the listed
count changed by the choice use case's guarded UPDATEs. Just before the commit it inserts ONE `index_change` row
naming those units (or NULL, "everything", when a pilot, provider, municipality or postcode changed, or very many
units did), so the row commits or rolls back with the change it describes. No view, command or use case has to
remember to call anything; every node's `SearchIndex` (service.py) reads the log.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, cast

from sqlalchemy import Table, event, select
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BinaryExpression, BindParameter, BooleanClauseList

from webapp.models import (
    AccessibilitySentence,
    IndexChange,
    Municipality,
    OpeningException,
    OpeningHours,
    Pilot,
    PilotElement,
    PilotMunicipality,
    Postcode,
    Provider,
    QueueTime,
    Unit,
    UnitAccessibilityFact,
    UnitLanguage,
    UnitService,
)

EVERYTHING = "*"
MAX_UNITS_PER_ROW = 1000  # beyond this a full rebuild on each node is cheaper than updating one by one
# What the index holds of a unit, and what else its public page shows (the page cache, webapp/web/page_cache.py,
# is keyed by the unit's document: a change to any of these must rewrite it).
UNIT_CHILDREN = (UnitService, UnitLanguage, UnitAccessibilityFact, QueueTime,
                 OpeningHours, OpeningException, AccessibilitySentence)
WHOLE_INDEX = (Pilot, PilotElement, PilotMunicipality, Municipality, Postcode)
_KEY = "index_changes"
_PROVIDERS = "index_changed_providers"
_listeners: list[Callable[[], object]] = []
_LOG_INSERT = cast(Table, IndexChange.__table__).insert()  # built once: every logged commit writes one row


def pending(sess: Session) -> set[int | str]:
    """The unit ids (and/or EVERYTHING) this session's transaction has changed so far."""
    return cast(set[int | str], sess.info.setdefault(_KEY, set()))


def _note_objects(sess: Session, objects: Iterable[object]) -> None:
    changed = pending(sess)
    for obj in objects:
        if isinstance(obj, Unit):
            if obj.id is not None:
                changed.add(obj.id)
        elif isinstance(obj, UNIT_CHILDREN):
            if obj.unit_id is not None:
                changed.add(obj.unit_id)
        elif isinstance(obj, Provider):
            if obj.id is not None:
                sess.info.setdefault(_PROVIDERS, set()).add(obj.id)
        elif isinstance(obj, WHOLE_INDEX):
            changed.add(EVERYTHING)


def _after_flush(sess: Session, _ctx: object) -> None:
    _note_objects(sess, sess.new)
    # A unit whose collection lost rows counts too: rows removed as orphans (e.g. a fact set back to not
    # known) are deleted by the flush itself and never appear in sess.deleted.
    _note_objects(sess, (o for o in sess.dirty
                         if sess.is_modified(o, include_collections=isinstance(o, Unit))))
    _note_objects(sess, sess.deleted)


def _conjuncts(where: Any) -> list[Any]:
    if where is None:
        return []
    if isinstance(where, BooleanClauseList) and where.operator is operators.and_:
        return [c for clause in where.clauses for c in _conjuncts(clause)]
    return [where]


def ids_from_where(where: Any, column: Any) -> list[int] | None:
    """The ids that `column == :id` or `column IN (:ids)` pins the WHERE clause to; None when it does not."""
    for cond in _conjuncts(where):
        if (isinstance(cond, BinaryExpression) and isinstance(cond.right, BindParameter)
                and getattr(cond.left, "key", None) == column.key
                and getattr(getattr(cond.left, "table", None), "name", None) == column.table.name):
            value = cond.right.effective_value
            if cond.operator is operators.eq and value is not None:
                return [int(value)]
            if cond.operator is operators.in_op and value is not None:
                return [int(v) for v in value]
    return None


def _on_execute(state: ORMExecuteState) -> None:
    """Bulk UPDATE/DELETE statements bypass the flush: read the units they touch from their WHERE clause."""
    if not (state.is_update or state.is_delete):
        return
    name = getattr(getattr(state.statement, "table", None), "name", None)  # an annotated copy of the Table
    for model, column in ((Unit, Unit.id), *((m, m.unit_id) for m in UNIT_CHILDREN)):
        if name == model.__tablename__:
            ids = ids_from_where(getattr(state.statement, "whereclause", None), column)
            pending(state.session).update(ids if ids is not None else [EVERYTHING])
            return
    if any(name == m.__tablename__ for m in (Provider, *WHOLE_INDEX)):
        pending(state.session).add(EVERYTHING)


def _before_commit(sess: Session) -> None:
    if sess.new or sess.dirty or sess.deleted:
        sess.flush()  # the commit would flush anyway; now the changes are noted before the log row is written
    changed = pending(sess)
    providers = sess.info.pop(_PROVIDERS, set())
    if providers and EVERYTHING not in changed:
        changed.update(sess.scalars(select(Unit.id).where(Unit.provider_id.in_(sorted(providers)))))
    if not changed:
        return
    every = EVERYTHING in changed or len(changed) > MAX_UNITS_PER_ROW
    unit_ids = None if every else " ".join(str(i) for i in sorted(changed))
    sess.connection().execute(_LOG_INSERT, {"unit_ids": unit_ids})
    changed.clear()
    sess.info["index_changed_committed"] = True


def _after_commit(sess: Session) -> None:
    sess.info.pop(_KEY, None)
    if sess.info.pop("index_changed_committed", False):
        for listener in _listeners:
            listener()


def _after_rollback(sess: Session) -> None:
    sess.info.pop(_KEY, None)
    sess.info.pop(_PROVIDERS, None)
    sess.info.pop("index_changed_committed", None)


def on_local_commit(listener: Callable[[], object]) -> None:
    """Call `listener()` after this process commits a logged change (the follower skips its throttle)."""
    _listeners.append(listener)


def install() -> None:
    """Listen on every ORM session (idempotent)."""
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "do_orm_execute", _on_execute)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)
