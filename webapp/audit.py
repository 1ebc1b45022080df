"""After every change: an audit event (only changed fields, before and after). The search index follows by itself (webapp.search.changelog)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.models import AuditEvent, StaffUser

def record(sess: Session, user: StaffUser | None, action: str, entity_type: str, entity_id: int | None,
           before: dict | None, after: dict | None, *, pilot_id: int | None = None,
           provider_id: int | None = None) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(actor_type="staff" if user is not None else "system", actor_id=user.id if user else None,
                       action=action, entity_type=entity_type, entity_id=entity_id, pilot_id=pilot_id,
                       provider_id=provider_id, before=before or None, after=after or None)
    sess.add(event)
    return event


def changed_only(diff: dict[str, tuple]) -> tuple[dict, dict]:
    return {k: v[0] for k, v in diff.items()}, {k: v[1] for k, v in diff.items()}
