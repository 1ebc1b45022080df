"""Who may see and edit which units: the rule of the staff roles, without the session that says who is signed in.

Roles: admin (everything), pilot_manager (one pilot's units), provider_editor (one provider's units),
auditor (reads everything, changes nothing). The web layer finds the signed-in user (webapp/web/staff/auth.py);
imports ask the same rule of every row (None as the user is the system: a command run on the server).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from webapp.models import StaffUser, Unit

WRITE_ROLES = ("admin", "pilot_manager", "provider_editor")


def can_write(user: StaffUser) -> bool:
    return user.role in WRITE_ROLES


def unit_scope(user: StaffUser) -> ColumnElement[bool]:
    """A SQL condition: the units this user may see in the workspace."""
    if user.role == "pilot_manager":
        return Unit.pilot_id == user.pilot_id if user.pilot_id else false()
    if user.role == "provider_editor":
        return Unit.provider_id == user.provider_id if user.provider_id else false()
    return true()


def may_see_unit(user: StaffUser, unit: Unit) -> bool:
    if user.role in ("admin", "auditor"):
        return True
    if user.role == "pilot_manager":
        return user.pilot_id is not None and unit.pilot_id == user.pilot_id
    if user.role == "provider_editor":
        return user.provider_id is not None and unit.provider_id == user.provider_id
    return False


def may_edit_unit(user: StaffUser, unit: Unit) -> bool:
    return can_write(user) and may_see_unit(user, unit)


def may_import_into(user: StaffUser | None, pilot_id: int, provider_id: int) -> str | None:
    """Which identity column a row may not name for this user ("pilot", "provider_ytunnus"), or None."""
    role = user.role if user is not None else "system"
    if role == "pilot_manager" and user is not None and pilot_id != user.pilot_id:
        return "pilot"
    if role == "provider_editor" and user is not None and provider_id != user.provider_id:
        return "provider_ytunnus"
    return None
