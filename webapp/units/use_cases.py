"""What staff do to units, one function per use case: save an edit, create a unit, hide or show it, let a
waiting list form while it is closed, record queue times, add a provider.

The web layer parses the form into canonical values (webapp/units/validation.py), locks the unit
(webapp/choice/locking.py: it decides on the unit's counters) and calls one of these; each checks the rule
(webapp/units/permissions.py), changes, audits and commits, and says what happened. Moving a waiting list
after a save is webapp/choice's business: the outcome tells the caller when the queue may move.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from webapp.audit import record_staff_change, record_unit_change
from webapp.models import AuditEvent, Pilot, Provider, QueueTime, StaffUser, Unit
from webapp.units.changes import UnitChange, create_unit, toggle_flag, update_unit
from webapp.units.fields import DATA_FIELDS, diff, snapshot
from webapp.units.permissions import can_write, may_edit_unit

EditStatus = Literal["saved", "unchanged", "conflict", "invalid"]


class NotAllowed(PermissionError):
    """The user may not change this unit (the web layer answers 403)."""


class SavedMeanwhile(Exception):
    """The same rows were saved at the same moment in another transaction; nothing was saved."""


@dataclass
class EditOutcome:
    """`saved` (with the change), `unchanged`, `conflict` (someone saved a newer version first: nothing was
    saved) or `invalid` (the values had errors). `queue_may_move`: places may have been freed (a save, a unit
    shown again), so the unit's waiting list should be looked at."""
    status: EditStatus
    change: UnitChange | None = None

    @property
    def queue_may_move(self) -> bool:
        return self.status == "saved" and self.change is not None and (
            self.change.action == "unit.update" or self.change.action == "unit.show")


def _check_may_edit(user: StaffUser, unit: Unit) -> None:
    if not may_edit_unit(user, unit):
        raise NotAllowed(unit.id)


def save_unit_edit(sess: Session, user: StaffUser, unit: Unit, values: Mapping[str, str] | None,
                   submitted_version: int) -> EditOutcome:
    """Save the unit form. `values`: validated canonical values, None when the form had errors. A version
    other than the unit's is a conflict whether or not the values were valid."""
    _check_may_edit(user, unit)
    if submitted_version != unit.version:
        return EditOutcome("conflict")
    if values is None:
        return EditOutcome("invalid")
    if not diff(snapshot(unit), values):
        return EditOutcome("unchanged")
    try:
        change = update_unit(sess, user, unit, values)
        sess.commit()
    except StaleDataError:
        sess.rollback()
        return EditOutcome("conflict")
    return EditOutcome("saved", change)


def conflicting_fields(sess: Session, unit: Unit, values: Mapping[str, str], submitted_version: int
                       ) -> list[tuple[str, str, str]]:
    """(field, sent, saved now) for the fields whose sent value differs from the unit's, or that someone
    changed after `submitted_version` (from the audit events), so the editor sees what to check."""
    current = snapshot(unit)
    changed_meanwhile: set[str] = set()
    events = sess.scalars(select(AuditEvent).where(AuditEvent.entity_type == "unit", AuditEvent.entity_id == unit.id))
    for event in events:
        version_before = (event.before or {}).get("version")
        if isinstance(version_before, int) and version_before >= submitted_version:
            changed_meanwhile.update(k for k in (event.after or {}) if k != "version")
    return [(key, values.get(key, ""), current.get(key, "")) for key in DATA_FIELDS
            if key != "hidden" and (values.get(key, "") != current.get(key, "") or key in changed_meanwhile)]


def create_unit_by_staff(sess: Session, user: StaffUser, pilot: Pilot, provider: Provider, element: str,
                         values: Mapping[str, str]) -> UnitChange:
    """A new unit from the form (pilot, provider and type chosen from the user's scope); commits."""
    if not can_write(user):
        raise NotAllowed(None)
    change = create_unit(sess, user, pilot_id=pilot.id, provider_id=provider.id, element=element, values=values,
                         audit_after={**values, "pilot": pilot.slug, "provider_ytunnus": provider.y_tunnus,
                                      "element": element})
    sess.commit()
    return change


def toggle_unit_flag(sess: Session, user: StaffUser, unit: Unit, flag: Literal["hidden", "waiting_when_closed"],
                     submitted_version: int) -> EditOutcome:
    """Hide or show the unit (`hidden`), or let a waiting list form while it is closed (`waiting_when_closed`);
    `conflict` when the unit changed after the page was shown."""
    _check_may_edit(user, unit)
    if submitted_version != unit.version:
        return EditOutcome("conflict")
    try:
        change = toggle_flag(sess, user, unit, flag)
    except StaleDataError:
        sess.rollback()
        return EditOutcome("conflict")
    sess.commit()
    return EditOutcome("saved", change)


def record_queue_times(sess: Session, user: StaffUser, day: date, entries: Iterable[tuple[Unit, str, int]]) -> int:
    """Queue times (unit, profession, T3 days) measured on `day`; a figure already saved as it is is skipped.
    Returns how many units got a new figure; raises SavedMeanwhile when the same figures were saved at the
    same moment in another request (nothing is saved then)."""
    touched: set[int] = set()
    for unit, prof, days in entries:
        row = sess.scalar(select(QueueTime).where(QueueTime.unit_id == unit.id, QueueTime.profession == prof,
                                                  QueueTime.measured_on == day))
        before = {f"{prof} {day.isoformat()}": row.t3_days} if row else None
        if row is None:
            sess.add(QueueTime(unit_id=unit.id, profession=prof, t3_days=days, measured_on=day))
        elif row.t3_days == days:
            continue
        else:
            row.t3_days = days
        record_unit_change(sess, user, "queue_time.set", unit, before=before,
                           after={f"{prof} {day.isoformat()}": days})
        touched.add(unit.id)
    try:
        sess.commit()
    except IntegrityError:
        sess.rollback()
        raise SavedMeanwhile() from None
    return len(touched)


def create_provider(sess: Session, user: StaffUser, *, name: str, y_tunnus: str, sector: str,
                    website: str) -> Provider:
    """A new provider (the Y-tunnus normalised and checked to be new by the caller); commits. Raises
    SavedMeanwhile when another request added the same Y-tunnus first."""
    provider = Provider(name=name, y_tunnus=y_tunnus, sector=sector, website=website or None, is_demo=False)
    sess.add(provider)
    try:
        sess.flush()
    except IntegrityError:
        sess.rollback()
        raise SavedMeanwhile() from None
    record_staff_change(sess, user, "provider.create", "provider", provider.id, after={
        "name": provider.name, "y_tunnus": y_tunnus, "sector": provider.sector, "website": website},
        pilot_id=user.pilot_id, provider_id=provider.id)
    sess.commit()
    return provider
