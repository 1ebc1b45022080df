"""The import pipeline every format goes through: plan, dry run, apply.

1. Plan: a format's reader (units_csv.py, ptv.py) turns a file into `RowInput`s: raw cells by CSV column
   (docs/csv-format.md), errors found while reading, and what the format carries besides the columns.
2. Dry run (`dry_run`): each row is checked against the database and the user's rights and becomes a
   create, a change (with the field diff) or unchanged, or errors with line, column and message. Nothing
   is written; the `Plan` has a digest so that the apply can check it applies exactly what was shown.
3. Apply (`apply`, in the caller's write transaction): lock the planned units (webapp/choice/locking.py,
   in id order) and check the capacities again, write every row through webapp/units/changes.py (each
   with its audit event), then audit the import itself. All rows or none.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.audit import record_staff_change
from webapp.choice.locking import Locks
from webapp.core.translation import gettext as _
from webapp.core.validation import is_whole_number
from webapp.models import Municipality, Postcode, StaffUser, Unit, with_collections
from webapp.units.changes import create_unit, update_unit
from webapp.units.fields import DATA_FIELDS, diff, snapshot
from webapp.units.permissions import may_edit_unit, may_import_into
from webapp.units.validation import KnownIdentities, municipality_in_pilot_error, validate, validate_identity

Extra = dict[str, Any]  # what a format carries besides the columns (JSON-ready: it is in the digest)


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is translated."""


class CapacityTooLow(Exception):
    """After the locks, a planned capacity is below the unit's listed customers: nothing may be applied.
    `args[0]`: the names of those units."""


@dataclass
class RowError:
    line: int
    column: str
    message: str
    label: str = ""  # what the line is, when it is not a CSV line (e.g. a PTV location's name and id)


@dataclass
class RowInput:
    """One row to plan: the raw cells by column, errors found while reading it, and what an
    import kind carries besides the columns (`extra`, applied by its format's `apply_extra`; `extra_diff`,
    shown and counted as changes)."""
    line: int
    raw: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    label: str = ""
    notes: list[str] = field(default_factory=list)
    extra: Extra | None = None
    extra_diff: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Plan:
    # {"line", "values", "pilot_id", "provider_id", "element"}
    creates: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)    # {"line", "unit_id", "name", "diff", "values"}
    unchanged: list[dict[str, Any]] = field(default_factory=list)  # {"line", "unit_id", "name"}
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def digest(self) -> str:
        data = {"c": [(c["line"], c["values"], c["pilot_id"], c["provider_id"], c["element"], c.get("extra"))
                      for c in self.creates],
                "u": [(c["line"], c["unit_id"], c["version"], c["values"], c.get("extra")) for c in self.changes],
                "n": [c["unit_id"] for c in self.unchanged]}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Source:
    """A format as the apply step sees it: its name in the audit log, and what it writes besides the
    canonical values: `apply_extra(sess, unit, extra)` per row, `after_apply(sess, plan)` once."""
    name: str
    apply_extra: Callable[[Session, Unit, Extra], None] | None = None
    after_apply: Callable[[Session, Plan], None] | None = None


# --- the dry run -----------------------------------------------------------------------------------

def _prefetch(sess: Session, inputs: list[RowInput]) -> KnownIdentities:
    """Read what the rows refer to before checking them, so that the dry run makes the same few statements
    for 3 rows or 3,000: the units named by id (with their collections), the pilots and providers, every
    municipality and the postcodes used. Later look-ups find them in the session."""
    def column(name: str) -> list[str]:
        return [row.raw.get(name, "").strip() for row in inputs if row.raw]

    # The session's identity map holds objects weakly: `loaded` keeps them there until the plan is made.
    loaded: list[object] = []
    ids = sorted({int(v) for v in column("id") if is_whole_number(v) and int(v) < 2**31})
    for chunk in range(0, len(ids), 500):
        loaded += sess.scalars(select(Unit).where(Unit.id.in_(ids[chunk:chunk + 500]))
                               .options(*with_collections())).all()
    loaded += sess.scalars(select(Municipality)).all()
    codes = sorted({v for v in column("postcode") if v})
    for chunk in range(0, len(codes), 500):
        loaded += sess.scalars(select(Postcode).where(Postcode.code.in_(codes[chunk:chunk + 500]))).all()
    known = KnownIdentities.load(sess, column("provider_ytunnus"))
    known.loaded = loaded
    return known


def dry_run(sess: Session, user: StaffUser | None, inputs: list[RowInput]) -> Plan:
    """The dry run of rows read by any format: create, change (with the diff), unchanged or errors.
    `user` None is the system (a command run on the server), which may import into any unit."""
    result = Plan()
    seen_ids: set[int] = set()
    known = _prefetch(sess, inputs)
    for row in inputs:
        if not row.raw:
            result.errors.extend(row.errors)
            continue
        entry = _plan_row(sess, user, row, seen_ids, result, known)
        if entry is not None:
            kind, data = entry
            data.update(line=row.line, label=row.label, notes=row.notes, extra=row.extra)
            getattr(result, kind).append(data)
    return result


def _plan_row(sess: Session, user: StaffUser | None, row: RowInput, seen_ids: set[int], result: Plan,
              known: KnownIdentities | None = None) -> tuple[str, dict[str, Any]] | None:
    line, raw = row.line, row.raw

    def err(col: str, msg: str) -> RowError:
        return RowError(line, col, msg, row.label)

    row_errors: list[RowError] = list(row.errors)
    unit = None
    id_text = raw.get("id", "").strip()
    if id_text:
        unit = sess.get(Unit, int(id_text)) if is_whole_number(id_text) else None
        if unit is None or (user is not None and not may_edit_unit(user, unit)):
            # A unit of another provider or pilot looks the same as a missing one.
            result.errors.append(err("id", _("There is no unit %(id)s that you may edit.", id=id_text)))
            return None
        if unit.id in seen_ids:
            result.errors.append(err("id", _("The unit %(id)s is on more than one row.", id=id_text)))
            return None
        seen_ids.add(unit.id)
    pilot, provider, id_errors = validate_identity(sess, raw.get("pilot", ""), raw.get("provider_ytunnus", ""),
                                                   raw.get("element", "").strip(), known)
    for col, msg in id_errors.items():
        row_errors.append(err(col, msg))
    element = raw.get("element", "").strip()
    if pilot is not None and provider is not None and not id_errors:
        refused = may_import_into(user, pilot.id, provider.id)
        if refused == "pilot":
            row_errors.append(err("pilot", _("You may only import units of your own pilot.")))
        if refused == "provider_ytunnus":
            row_errors.append(err("provider_ytunnus", _("You may only import units of your own organisation.")))
        if unit is not None:
            if pilot.id != unit.pilot_id or provider.id != unit.provider_id or element != unit.element:
                row_errors.append(err("pilot", _("A unit cannot be moved to another pilot, provider or type in an "
                                                 "import.")))
    if unit is not None:  # columns left out keep the unit's values (a new unit gets the defaults)
        raw = {**snapshot(unit), **{k: v for k, v in raw.items() if k in DATA_FIELDS}}
    values, errors = validate(sess, raw, element=element or "sote_centre", unit=unit)
    if pilot is not None and "municipality_code" not in errors:
        refusal = municipality_in_pilot_error(pilot, values["municipality_code"])
        if refusal:
            errors["municipality_code"] = refusal
    for col, msg in errors.items():
        row_errors.append(err(col, msg))
    if row_errors or pilot is None or provider is None:
        result.errors.extend(row_errors)
        return None
    if unit is None:
        return "creates", {"values": values, "pilot_id": pilot.id, "provider_id": provider.id, "element": element,
                           "name": values["name_fi"]}
    d = {**diff(snapshot(unit), values), **row.extra_diff}
    if d:
        return "changes", {"unit_id": unit.id, "version": unit.version, "name": unit.name_fi, "diff": d,
                           "values": values}
    return "unchanged", {"unit_id": unit.id, "name": unit.name_fi}


# --- applying ----------------------------------------------------------------------------------------

def lock_planned_units(sess: Session, p: Plan) -> list[str]:
    """Lock the units a plan changes (webapp/choice/locking.py: in id order) and check again, after the
    locks, what choices change meanwhile: a planned capacity may not be below the listed customers. The
    names of the units whose planned capacity is now too low (the plan must not be applied then)."""
    ids = sorted(c["unit_id"] for c in p.changes)
    Locks(sess).units(ids)
    listed = {row.id: row.listed_count for row in sess.execute(select(Unit.id, Unit.listed_count)
                                                                .where(Unit.id.in_(ids)))}
    return [c["name"] for c in p.changes
            if c["values"].get("capacity") and int(c["values"]["capacity"]) < listed.get(c["unit_id"], 0)]


def write_plan(sess: Session, user: StaffUser | None, p: Plan, source: Source) -> list[int]:
    """Write a valid plan's rows (each through webapp/units/changes.py, with its audit event) in the caller's
    transaction; returns the ids of the units created or changed. `apply` locks first: use that."""
    if not p.ok:
        raise ValueError("a plan with errors cannot be applied")
    touched: list[int] = []

    def extra_writer(extra: Extra | None) -> Callable[[Unit], None] | None:
        write = source.apply_extra
        if write is None or extra is None:
            return None
        return lambda unit: write(sess, unit, extra)

    for c in p.creates:
        change = create_unit(sess, user, pilot_id=c["pilot_id"], provider_id=c["provider_id"], element=c["element"],
                             values=c["values"], extra=extra_writer(c.get("extra")))
        touched.append(change.unit.id)
    for c in p.changes:
        unit = sess.get(Unit, c["unit_id"])
        if unit is None:
            raise ValueError(f"unit {c['unit_id']} is gone")
        update_unit(sess, user, unit, c["values"], changes=c["diff"], extra=extra_writer(c.get("extra")))
        touched.append(unit.id)
    if source.after_apply is not None:
        source.after_apply(sess, p)
    return touched


def apply(sess: Session, user: StaffUser | None, p: Plan, source: Source, *, pilot_id: int | None,
          provider_id: int | None) -> list[int]:
    """Apply a valid plan in the caller's write transaction: lock the planned units, write every row, audit
    the import (filed under `pilot_id` and `provider_id`). Raises CapacityTooLow (nothing written then)."""
    too_low = lock_planned_units(sess, p)
    if too_low:
        raise CapacityTooLow(too_low)
    touched = write_plan(sess, user, p, source)
    record_staff_change(sess, user, "import.apply", "import", None, after={
        "created": len(p.creates), "changed": len(p.changes), "unchanged": len(p.unchanged), "source": source.name},
        pilot_id=pilot_id, provider_id=provider_id)
    return touched
