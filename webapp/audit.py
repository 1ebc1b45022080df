"""The one writer of audit events: who did what and when, with only the changed fields before and after.

Three kinds of event, one function each: a staff change (`record_staff_change`, or `record_unit_change`
for a unit), a resident's or the system's choice event (`record_choice_event`) and a waiting-list entry's
event (`record_waiting_entry_event`). Every event is written in the caller's transaction and commits
with the change it describes; none holds a henkilötunnus. The search index follows by itself
(webapp.search.changelog).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from webapp.models import AuditEvent, StaffUser, Unit, WaitingEntry

ActorType = Literal["staff", "resident", "system"]
Values = Mapping[str, Any]  # JSON-ready field values


def record_staff_change(sess: Session, actor: StaffUser | None, action: str, entity_type: str, entity_id: int | None,
                        *, before: Values | None = None, after: Values | None = None, pilot_id: int | None = None,
                        provider_id: int | None = None) -> AuditEvent:
    """A change made by a staff user (`actor`), or by the system (None: a command run on the server)."""
    event = AuditEvent(actor_type="staff" if actor is not None else "system", actor_id=actor.id if actor else None,
                       action=action, entity_type=entity_type, entity_id=entity_id, pilot_id=pilot_id,
                       provider_id=provider_id, before=dict(before) if before else None,
                       after=dict(after) if after else None)
    sess.add(event)
    return event


def record_unit_change(sess: Session, actor: StaffUser | None, action: str, unit: Unit, *,
                       before: Values | None = None, after: Values | None = None) -> AuditEvent:
    """A staff or system change of `unit` (flushed: it has its id), filed under its pilot and provider."""
    return record_staff_change(sess, actor, action, "unit", unit.id, before=before, after=after,
                               pilot_id=unit.pilot_id, provider_id=unit.provider_id)


def record_choice_event(sess: Session, action: str, resident_id: int, *, entity_id: int | None,
                        pilot_id: int | None, provider_id: int | None = None, reasons: list[str] | None = None,
                        before: Values | None = None, after: Values | None = None,
                        actor_type: ActorType = "resident", actor_id: int | None = None) -> None:
    """A choice event of `resident_id` (their pseudonymous id, never the henkilötunnus); the actor is the
    resident unless `actor_type`/`actor_id` say otherwise (staff entering a paper choice, the system)."""
    # A plain Core INSERT, built once: the event is never read back, and neither the ORM's unit of work
    # nor a statement built per call is needed for it.
    sess.connection().execute(_AUDIT_INSERT, {
        "actor_type": actor_type, "actor_id": actor_id if actor_id is not None else resident_id, "action": action,
        "entity_type": "choice", "entity_id": entity_id, "pilot_id": pilot_id, "provider_id": provider_id,
        "reasons": reasons, "before": dict(before) if before is not None else None,
        "after": {"resident_id": resident_id, **(after or {})}})


def record_waiting_entry_event(sess: Session, action: str, entry: WaitingEntry, *, reasons: list[str] | None = None,
                               actor_type: ActorType = "resident", actor_id: int | None = None,
                               extra: Values | None = None) -> None:
    """An event of a waiting-list entry (flushed: it has its id and reference), filed as a choice event."""
    unit = entry.unit if entry.unit is not None else sess.get(Unit, entry.unit_id)
    record_choice_event(sess, action, entry.resident_id, entity_id=entry.id, pilot_id=entry.pilot_id,
                        provider_id=unit.provider_id if unit else None, reasons=reasons, actor_type=actor_type,
                        actor_id=actor_id,
                        after={"waiting_entry": entry.reference, "unit_id": entry.unit_id, "channel": entry.channel,
                               "expires_on": entry.expires_on.isoformat(), **(extra or {})})


_AUDIT_INSERT = cast(Table, AuditEvent.__table__).insert()


def changed_only(diff: Mapping[str, tuple[Any, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A diff {field: (before, after)} as the two dicts an event keeps."""
    return {k: v[0] for k, v in diff.items()}, {k: v[1] for k, v in diff.items()}
