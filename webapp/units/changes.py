"""Changing a unit: write validated canonical values into it, and the audited create, update and flag changes
that the unit form, the visibility buttons and every import go through.

Each function works in the caller's transaction (the caller holds the unit's lock, webapp/choice/locking.py,
and commits); it flushes, so that the unit has its id and new version, and adds the audit event.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy.orm import Session, object_session

from webapp.audit import changed_only, record_unit_change
from webapp.models import OpeningException, OpeningHours, StaffUser, Unit, UnitLanguage, UnitService
from webapp.units.fields import FACT_FIELDS, NOTE_FIELDS, TEXT_FIELDS, diff, parse_exceptions, parse_hours, snapshot
from webapp.units.vocab import ACCESSIBILITY_FACTS

ApplyExtra = Callable[[Unit], None]  # writes what an import carries besides the canonical values
Flag = Literal["hidden", "waiting_when_closed"]


def now() -> datetime:
    return datetime.now(UTC)


def _split(value: str) -> list[str]:
    return [c for c in value.split("|") if c]


@dataclass
class UnitChange:
    """What a change did: the unit, the audit action, and the fields changed {field: (before, after)}."""
    unit: Unit
    action: str
    diff: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.diff)


def create_unit(sess: Session, actor: StaffUser | None, *, pilot_id: int, provider_id: int, element: str,
                values: Mapping[str, str], audit_after: Mapping[str, str] | None = None,
                extra: ApplyExtra | None = None) -> UnitChange:
    """A new unit with validated `values`; the audit event keeps `audit_after` (default: the values)."""
    unit = Unit(pilot_id=pilot_id, provider_id=provider_id, element=element, is_demo=False, listed_count=0)
    sess.add(unit)
    with sess.no_autoflush:
        apply(unit, values)
        if extra is not None:
            extra(unit)
    sess.flush()
    after = dict(audit_after if audit_after is not None else values)
    record_unit_change(sess, actor, "unit.create", unit, after=after)
    return UnitChange(unit, "unit.create", {k: ("", v) for k, v in values.items() if v})


def update_unit(sess: Session, actor: StaffUser | None, unit: Unit, values: Mapping[str, str], *,
                changes: Mapping[str, tuple[str, str]] | None = None, extra: ApplyExtra | None = None) -> UnitChange:
    """Write `values` into `unit` and audit the fields changed: `changes` when the caller has the diff (an
    import's plan, with what it carries besides the values), else the diff against the unit now. The
    version before and after is kept in the event, so that a conflict can tell what changed meanwhile.
    Raises StaleDataError when another transaction changed the unit first."""
    d = dict(changes) if changes is not None else diff(snapshot(unit), values)
    before, after = changed_only(d)
    before["version"] = unit.version
    apply(unit, values)
    if extra is not None:
        extra(unit)
    sess.flush()
    after["version"] = unit.version
    record_unit_change(sess, actor, "unit.update", unit, before=before, after=after)
    return UnitChange(unit, "unit.update", d)


def toggle_flag(sess: Session, actor: StaffUser, unit: Unit, flag: Flag) -> UnitChange:
    """Turn the unit's `hidden` flag (hidden from residents) or `waiting_when_closed` flag (a waiting list
    may form while it takes no new customers) the other way. Raises StaleDataError as update_unit does."""
    yes_no = {True: "yes", False: "no"}
    if flag == "hidden":
        old = unit.is_hidden
        unit.is_hidden = not old
        unit.updated_at = now()
        action = "unit.hide" if unit.is_hidden else "unit.show"
    else:
        old = unit.waiting_when_closed
        unit.waiting_when_closed = not old
        action = "unit.waiting_when_closed"
    before = {flag: yes_no[old], "version": unit.version}
    sess.flush()
    record_unit_change(sess, actor, action, unit, before=before, after={flag: yes_no[not old], "version": unit.version})
    return UnitChange(unit, action, {flag: (yes_no[old], yes_no[not old])})


def apply(unit: Unit, values: Mapping[str, str]) -> None:
    """Write validated canonical values into the unit (only changed collections are replaced).

    `updated_at` is always set so that the unit row itself is updated and its version goes up
    even when only a list (services, hours, ...) changed.
    """
    current = snapshot(unit) if unit.id is not None else {}
    unit.updated_at = now()
    for f in TEXT_FIELDS:
        setattr(unit, f, values[f])
    unit.postcode = values["postcode"]
    unit.municipality_code = values["municipality_code"]
    unit.lat = float(values["lat"])
    unit.lon = float(values["lon"])
    unit.phone = values["phone"] or None
    unit.email = values["email"] or None
    unit.website = values["website"] or None
    unit.capacity = int(values["capacity"]) if values["capacity"] else None
    unit.accepting_new = values["accepting_new"] == "yes"
    unit.is_hidden = values["hidden"] == "yes"
    if current.get("services") != values["services"]:
        unit.services = [UnitService(code=c) for c in _split(values["services"])]
    if current.get("languages") != values["languages"]:
        unit.languages = [UnitLanguage(code=c) for c in _split(values["languages"])]
    if any(current.get(f) != values[f] for f in FACT_FIELDS):
        unit.set_accessibility({c: None if not values[f"a11y_{c}"] else values[f"a11y_{c}"] == "yes"
                                for c in ACCESSIBILITY_FACTS})
    for f in NOTE_FIELDS:
        setattr(unit, f, values[f])
    if current.get("opening_hours") != values["opening_hours"]:
        unit.opening_hours = [OpeningHours(weekday=d, opens=o, closes=c)
                              for d, o, c in parse_hours(values["opening_hours"])]
    if current.get("exceptions") != values["exceptions"]:
        sess = object_session(unit)
        if unit.opening_exceptions and sess is not None:
            unit.opening_exceptions.clear()  # (unit, day) is unique: delete the old rows first
            sess.flush()
        unit.opening_exceptions = [OpeningException(day=d, opens=o, closes=c, note_fi=fi, note_sv=sv)
                                   for d, o, c, fi, sv in parse_exceptions(values["exceptions"])]
