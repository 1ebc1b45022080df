"""What the choice and waiting-list use cases write beside their rows: audit events, snapshots of a choice,
the end of a waiting entry, and the parameters of a message about an entry. Inside the caller's transaction."""
from __future__ import annotations

from datetime import date
from typing import Any, cast

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

from webapp.models import AuditEvent, Choice, Unit, WaitingEntry

Params = dict[str, Any]

# A plain Core INSERT, built once: the event is never read back, and neither the ORM's unit of work
# nor a statement built per call is needed for it.
_AUDIT_INSERT = cast(Table, AuditEvent.__table__).insert()  # __table__ is typed as a FromClause; it is a Table


def record_event(sess: Session, action: str, resident_id: int, *, entity_id: int | None, pilot_id: int | None,
                 provider_id: int | None = None, reasons: list[str] | None = None, after: Params | None = None,
                 before: Params | None = None, actor_type: str = "resident", actor_id: int | None = None) -> None:
    """An audit event of a choice or waiting entry; never holds the henkilötunnus (the resident is its
    pseudonymous id). The choice domain's own helper: webapp/audit.py records staff changes."""
    sess.connection().execute(_AUDIT_INSERT, {
        "actor_type": actor_type, "actor_id": actor_id if actor_id is not None else resident_id, "action": action,
        "entity_type": "choice", "entity_id": entity_id, "pilot_id": pilot_id, "provider_id": provider_id,
        "reasons": reasons, "before": before, "after": {"resident_id": resident_id, **(after or {})}})


def snapshot(choice: Choice) -> Params:
    return {"choice_id": choice.id, "reference": choice.reference, "unit_id": choice.unit_id,
            "element": choice.element, "status": choice.status, "channel": choice.channel,
            "effective_from": choice.effective_from.isoformat(),
            "binding_until": choice.binding_until.isoformat() if choice.binding_until else None}


def entry_params(entry: WaitingEntry, unit: Unit) -> Params:
    """What a message about an entry needs, in both languages."""
    return {"entry": entry.reference, "unit_id": unit.id, "unit_fi": unit.name_fi,
            "unit_sv": unit.name_sv or unit.name_fi, "element": entry.element,
            "joined_on": entry.joined_on.isoformat(), "expires_on": entry.expires_on.isoformat()}


def record_entry_event(sess: Session, action: str, entry: WaitingEntry, *, reasons: list[str] | None = None,
                       actor_type: str = "resident", actor_id: int | None = None, extra: Params | None = None) -> None:
    """An audit event about a waiting entry."""
    unit = entry.unit if entry.unit is not None else sess.get(Unit, entry.unit_id)
    record_event(sess, action, entry.resident_id, entity_id=entry.id, pilot_id=entry.pilot_id,
                 provider_id=unit.provider_id if unit else None, reasons=reasons, actor_type=actor_type,
                 actor_id=actor_id, after={"waiting_entry": entry.reference, "unit_id": entry.unit_id,
                                           "channel": entry.channel, "expires_on": entry.expires_on.isoformat(),
                                           **(extra or {})})


def end_entry(sess: Session, entry: WaitingEntry, status: str, reason: str, today: date) -> bool:
    """Take an entry off its list (guarded: only a 'waiting' entry) and lower the unit's count; the caller
    holds the locks of the resident, the unit and the entry."""
    ended = sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry.id, WaitingEntry.status == "waiting")
                         .values(status=status, end_reason=reason, ended_on=today)
                         .execution_options(synchronize_session=False))
    if ended.rowcount != 1:  # type: ignore[attr-defined]
        return False
    sess.execute(update(Unit).where(Unit.id == entry.unit_id, Unit.waiting_count > 0)
                 .values(waiting_count=Unit.waiting_count - 1).execution_options(synchronize_session=False))
    return True
