"""CSV import and export of units, in the format of docs/csv-format.md.

Import is two steps: `plan()` is the dry run (what would be created, changed with field diffs,
left alone, and every bad row with line, column and message); `apply_plan()` applies a plan in
the caller's transaction, all rows or none. The plan has a digest so that the apply can check it
applies exactly what the dry run showed.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from webapp.core.translation import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.choice.locking import Locks
from webapp.models import Municipality, Postcode, StaffUser, Unit, with_collections
from webapp.units import unit_data as ud
from webapp.web.staff.auth import may_edit_unit
from webapp.core.validation import is_whole_number

COLUMNS = ("id", *ud.IDENTITY_FIELDS, *ud.DATA_FIELDS)
REQUIRED_COLUMNS = ("id", *ud.IDENTITY_FIELDS, "name_fi", "street_fi", "postcode", "municipality_code")
MAX_ROWS = 20000
FORMULA_START = ud.FORMULA_START
# Phone is not checked: "+358 …" is a real number, and the phone validator admits no formula anyway.
FORMULA_CHECKED = (*ud.TEXT_FIELDS, "email", "website")


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message is translated."""


@dataclass
class RowError:
    line: int
    column: str
    message: str
    label: str = ""  # what the line is, when it is not a CSV line (e.g. a PTV location's name and id)


@dataclass
class RowInput:
    """One row to plan: the raw cells by column, errors found while reading it, and what an
    import kind carries besides the columns (`extra`, applied by its own function; `extra_diff`,
    shown and counted as changes)."""
    line: int
    raw: dict[str, str]
    errors: list[RowError] = field(default_factory=list)
    label: str = ""
    notes: list[str] = field(default_factory=list)
    extra: dict | None = None
    extra_diff: dict[str, tuple[str, str]] = field(default_factory=dict)


@dataclass
class Plan:
    creates: list[dict] = field(default_factory=list)   # {"line", "values", "pilot_id", "provider_id", "element"}
    changes: list[dict] = field(default_factory=list)   # {"line", "unit_id", "name", "diff", "values"}
    unchanged: list[dict] = field(default_factory=list)  # {"line", "unit_id", "name"}
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


# --- export --------------------------------------------------------------------------------------

def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets an apostrophe in front."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unit_row(unit: Unit) -> dict[str, str]:
    return {"id": str(unit.id), "pilot": unit.pilot.slug, "provider_ytunnus": unit.provider.y_tunnus,
            "element": unit.element, **ud.snapshot(unit)}


def export_csv(units: list[Unit]) -> str:
    """The units in the import format (see csv_text)."""
    return csv_text([list(COLUMNS), *([unit_row(u)[c] for c in COLUMNS] for u in units)])


def csv_text(rows: list[list[str]]) -> str:
    """UTF-8 text with a BOM (for spreadsheets), comma-separated, every formula-like cell neutralised."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(str(c)) for c in row])
    return buf.getvalue()


# --- reading -------------------------------------------------------------------------------------

def read_rows(content: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Decode and split the file: (header, [(line number, cells)]). Raises ImportFileError."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError(_("The file is not UTF-8 text (problem at byte %(pos)d). Save it as “CSV UTF-8” and try again.",
                                pos=exc.start + 1)) from None
    if "\x00" in text:
        raise ImportFileError(_("The file is not a text file."))
    if not text.strip():
        raise ImportFileError(_("The file is empty."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            line = reader.line_num
            if header is None:
                header = [c.strip().lower() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            rows.append((line, cells))
            if len(rows) > MAX_ROWS:
                raise ImportFileError(_("The file has more than %(n)d rows. Split it into smaller files.", n=MAX_ROWS))
    except csv.Error:
        raise ImportFileError(_("The file has broken quoting near line %(line)d: check that every quotation mark (\") is closed.",
                                line=reader.line_num)) from None
    if header is None:
        raise ImportFileError(_("The file is empty."))
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in COLUMNS]
    dupes = sorted({c for c in header if header.count(c) > 1})
    if missing or unknown or dupes:
        parts = []
        if missing:
            parts.append(_("missing columns: %(cols)s", cols=", ".join(missing)))
        if unknown:
            parts.append(_("unknown columns: %(cols)s", cols=", ".join(unknown)))
        if dupes:
            parts.append(_("repeated columns: %(cols)s", cols=", ".join(dupes)))
        raise ImportFileError(_("The columns are not right (%(details)s). The first line must name the columns of docs/csv-format.md.",
                                details="; ".join(parts)))
    return header, rows


def _cell(value: str) -> str:
    """Undo our own export neutralisation: an apostrophe before a formula character."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


# --- the dry run -----------------------------------------------------------------------------------

def plan(sess: Session, user: StaffUser, content: bytes) -> Plan:
    header, rows = read_rows(content)
    inputs = []
    for line, cells in rows:
        if len(cells) != len(header):
            inputs.append(RowInput(line, {}, [RowError(line, "", _("The row has %(got)d cells; the header has %(want)d.",
                                                                     got=len(cells), want=len(header)))]))
            continue
        # A text cell written as a formula is refused; one neutralised with an apostrophe (as the
        # export writes it) is accepted and stored without the apostrophe.
        errors = [RowError(line, h, _("The text must not start with =, +, -, @ or a tab (a spreadsheet formula). Put an apostrophe (') in front of it."))
                  # Checked after stripping all white space, as validation strips it before storing.
                  for h, c in zip(header, cells) if h in FORMULA_CHECKED and c.strip() and c.strip().startswith(FORMULA_START)]
        inputs.append(RowInput(line, {h: _cell(c) for h, c in zip(header, cells)}, errors))
    return plan_rows(sess, user, inputs)


def _prefetch(sess: Session, inputs: list[RowInput]) -> ud.KnownIdentities:
    """Read what the rows refer to before checking them, so that the dry run makes the same few statements
    for 3 rows or 3,000: the units named by id (with their collections), the pilots and providers, every
    municipality and the postcodes used. Later look-ups find them in the session."""
    def column(name: str) -> list[str]:
        return [row.raw.get(name, "").strip() for row in inputs if row.raw]

    # The session's identity map holds objects weakly: `loaded` keeps them there until the plan is made.
    loaded: list = []
    ids = sorted({int(v) for v in column("id") if is_whole_number(v) and int(v) < 2**31})
    for chunk in range(0, len(ids), 500):
        loaded += sess.scalars(select(Unit).where(Unit.id.in_(ids[chunk:chunk + 500]))
                               .options(*with_collections())).all()
    loaded += sess.scalars(select(Municipality)).all()
    codes = sorted({v for v in column("postcode") if v})
    for chunk in range(0, len(codes), 500):
        loaded += sess.scalars(select(Postcode).where(Postcode.code.in_(codes[chunk:chunk + 500]))).all()
    known = ud.KnownIdentities.load(sess, column("provider_ytunnus"))
    known.loaded = loaded
    return known


def plan_rows(sess: Session, user: StaffUser | None, inputs: list[RowInput]) -> Plan:
    """The dry run of rows read by any import kind: create, change (with the diff), unchanged or errors.
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


def _plan_row(sess: Session, user: StaffUser | None, row: RowInput, seen_ids: set[int], result: Plan,  # noqa: ANN202
              known: ud.KnownIdentities | None = None):
    line, raw = row.line, row.raw
    err = lambda col, msg: RowError(line, col, msg, row.label)  # noqa: E731
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
    pilot, provider, id_errors = ud.validate_identity(sess, raw.get("pilot", ""), raw.get("provider_ytunnus", ""),
                                                      raw.get("element", "").strip(), known)
    for col, msg in id_errors.items():
        row_errors.append(err(col, msg))
    element = raw.get("element", "").strip()
    if not id_errors:
        role = user.role if user is not None else "system"
        if role == "pilot_manager" and pilot.id != user.pilot_id:
            row_errors.append(err("pilot", _("You may only import units of your own pilot.")))
        if role == "provider_editor" and provider.id != user.provider_id:
            row_errors.append(err("provider_ytunnus", _("You may only import units of your own organisation.")))
        if unit is not None:
            if pilot.id != unit.pilot_id or provider.id != unit.provider_id or element != unit.element:
                row_errors.append(err("pilot", _("A unit cannot be moved to another pilot, provider or type in an import.")))
    if unit is not None:  # columns left out keep the unit's values (a new unit gets the defaults)
        raw = {**ud.snapshot(unit), **{k: v for k, v in raw.items() if k in ud.DATA_FIELDS}}
    values, errors = ud.validate(sess, raw, element=element or "sote_centre", unit=unit)
    if pilot is not None and "municipality_code" not in errors:
        msg = ud.municipality_in_pilot_error(pilot, values["municipality_code"])
        if msg:
            errors["municipality_code"] = msg
    for col, msg in errors.items():
        row_errors.append(err(col, msg))
    if row_errors:
        result.errors.extend(row_errors)
        return None
    if unit is None:
        return "creates", {"values": values, "pilot_id": pilot.id, "provider_id": provider.id, "element": element,
                           "name": values["name_fi"]}
    d = {**ud.diff(ud.snapshot(unit), values), **row.extra_diff}
    if d:
        return "changes", {"unit_id": unit.id, "version": unit.version, "name": unit.name_fi, "diff": d, "values": values}
    return "unchanged", {"unit_id": unit.id, "name": unit.name_fi}


ApplyExtra = Callable[[Session, Unit, dict], None]


def lock_planned_units(sess: Session, p: Plan) -> list[str]:
    """Lock the units a plan changes (webapp/choice/locking.py: in id order) and check again, after the
    locks, what choices change meanwhile: a planned capacity may not be below the listed customers. The
    names of the units whose planned capacity is now too low (the plan must not be applied then)."""
    ids = sorted(c["unit_id"] for c in p.changes)
    Locks(sess).units(ids)
    listed = dict(sess.execute(select(Unit.id, Unit.listed_count).where(Unit.id.in_(ids))).tuples().all())
    return [c["name"] for c in p.changes
            if c["values"].get("capacity") and int(c["values"]["capacity"]) < listed.get(c["unit_id"], 0)]


def apply_plan(sess: Session, user: StaffUser | None, p: Plan, apply_extra: ApplyExtra | None = None) -> list[int]:
    """Apply a valid plan in the caller's transaction; returns the ids of the units touched.

    `apply_extra(sess, unit, extra)` writes what an import kind carries besides the columns."""
    from webapp.audit import changed_only, record
    if not p.ok:
        raise ValueError("a plan with errors cannot be applied")
    touched: list[int] = []
    for c in p.creates:
        unit = Unit(pilot_id=c["pilot_id"], provider_id=c["provider_id"], element=c["element"], is_demo=False,
                    listed_count=0)
        sess.add(unit)
        with sess.no_autoflush:
            ud.apply(unit, c["values"])
            if apply_extra is not None and c.get("extra") is not None:
                apply_extra(sess, unit, c["extra"])
        sess.flush()
        record(sess, user, "unit.create", "unit", unit.id, None, dict(c["values"]), pilot_id=unit.pilot_id,
               provider_id=unit.provider_id)
        touched.append(unit.id)
    for c in p.changes:
        unit = sess.get(Unit, c["unit_id"])
        before, after = changed_only(c["diff"])
        before["version"] = unit.version
        ud.apply(unit, c["values"])
        if apply_extra is not None and c.get("extra") is not None:
            apply_extra(sess, unit, c["extra"])
        sess.flush()
        after["version"] = unit.version
        record(sess, user, "unit.update", "unit", unit.id, before, after, pilot_id=unit.pilot_id,
               provider_id=unit.provider_id)
        touched.append(unit.id)
    return touched
