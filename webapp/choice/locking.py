"""The one order in which every use case takes its row locks, and the only code that takes them.

Residents, then units in id order, then waiting entries in id order (LockOrder). Choice rows and
messages are not locked: they change only while their resident's row is locked. A `Locks` object
belongs to one transaction and refuses a lock out of this order (LockOrderError, a programming
error), so two transactions can never each hold a row the other waits for.

Lock first, then read: under PostgreSQL's READ COMMITTED a statement that waited for a row lock
re-reads the locked row but returns rows of other tables as they were when it started. So a lock
is taken by a statement of its own, and what a decision depends on is read by the statements after
it (on SQLite the transaction's BEGIN IMMEDIATE already serialises writers).
"""
from __future__ import annotations

from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.choice.errors import ChoiceNotFound
from webapp.models import Resident, Unit, WaitingEntry


class LockOrder(IntEnum):
    RESIDENT = 1
    UNIT = 2
    WAITING_ENTRY = 3


_TABLES: dict[LockOrder, type[Resident] | type[Unit] | type[WaitingEntry]] = {
    LockOrder.RESIDENT: Resident, LockOrder.UNIT: Unit, LockOrder.WAITING_ENTRY: WaitingEntry}


class LockOrderError(RuntimeError):
    """A lock asked for out of LockOrder: a bug in the use case, never a user's error."""


class Locks:
    """The row locks of one transaction, taken in LockOrder (and by id within a kind)."""

    def __init__(self, sess: Session) -> None:
        self._sess = sess
        self._level = 0
        self._last_id = 0
        self.held: dict[LockOrder, set[int]] = {kind: set() for kind in LockOrder}  # rows locked
        self._asked: dict[LockOrder, set[int]] = {kind: set() for kind in LockOrder}  # ids asked for, found or not

    def _take(self, kind: LockOrder, ids: list[int] | set[int]) -> None:
        wanted = sorted(set(ids) - self._asked[kind])
        if not wanted:
            return
        if kind < self._level or (kind == self._level and wanted[0] <= self._last_id):
            raise LockOrderError(f"{kind.name} {wanted} after {LockOrder(self._level).name} {self._last_id}")
        table = _TABLES[kind]
        found = set(self._sess.scalars(select(table.id).where(table.id.in_(wanted)).order_by(table.id)
                                       .with_for_update()))
        self._level, self._last_id = kind, wanted[-1]
        self._asked[kind] |= set(wanted)
        self.held[kind] |= found

    def resident(self, resident_id: int) -> bool:
        """Lock the resident's row; False when there is no such resident."""
        self._take(LockOrder.RESIDENT, [resident_id])
        return resident_id in self.held[LockOrder.RESIDENT]

    def units(self, unit_ids: list[int] | set[int]) -> set[int]:
        """Lock these units' rows in id order; the ids found (locked now or before)."""
        self._take(LockOrder.UNIT, unit_ids)
        return set(unit_ids) & self.held[LockOrder.UNIT]

    def entries(self, entry_ids: list[int] | set[int]) -> set[int]:
        """Lock these waiting entries' rows in id order; the ids found (locked now or before)."""
        self._take(LockOrder.WAITING_ENTRY, entry_ids)
        return set(entry_ids) & self.held[LockOrder.WAITING_ENTRY]


def lock_resident(locks: Locks, resident_id: int) -> None:
    """Lock the resident's row; ChoiceNotFound when there is no such resident."""
    if not locks.resident(resident_id):
        raise ChoiceNotFound("resident")
