"""What the choice and waiting-list use cases write beside their rows: snapshots of a choice for the audit
events (which webapp/audit.py writes), the end of a waiting entry, and the parameters of a message about an
entry. Inside the caller's transaction."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from webapp.models import Choice, Unit, WaitingEntry

Params = dict[str, Any]

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
