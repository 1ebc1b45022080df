"""The CSV format of units (docs/csv-format.md): export, and the reader that turns a file into the rows
the import pipeline plans (webapp/imports/pipeline.py: dry run, then apply, all rows or none).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy.orm import Session

from webapp.core.translation import gettext as _
from webapp.imports.pipeline import ImportFileError, Plan, RowError, RowInput, Source, dry_run
from webapp.models import StaffUser, Unit
from webapp.units.fields import DATA_FIELDS, FORMULA_START, IDENTITY_FIELDS, TEXT_FIELDS, snapshot

COLUMNS = ("id", *IDENTITY_FIELDS, *DATA_FIELDS)
REQUIRED_COLUMNS = ("id", *IDENTITY_FIELDS, "name_fi", "street_fi", "postcode", "municipality_code")
MAX_ROWS = 20000
# Phone is not checked: "+358 …" is a real number, and the phone validator admits no formula anyway.
FORMULA_CHECKED = (*TEXT_FIELDS, "email", "website")
CSV = Source("csv")  # the columns are all a CSV row carries


# --- export --------------------------------------------------------------------------------------

def neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula gets an apostrophe in front."""
    return "'" + value if value.startswith(FORMULA_START) else value


def unit_row(unit: Unit) -> dict[str, str]:
    return {"id": str(unit.id), "pilot": unit.pilot.slug, "provider_ytunnus": unit.provider.y_tunnus,
            "element": unit.element, **snapshot(unit)}


def export_csv(units: list[Unit]) -> str:
    """The units in the import format (see csv_text)."""
    return csv_text([list(COLUMNS), *([unit_row(u)[c] for c in COLUMNS] for u in units)])


def csv_text(rows: Sequence[Sequence[str | int]]) -> str:
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
        raise ImportFileError(_("The file is not UTF-8 text (problem at byte %(pos)d). Save it as “CSV UTF-8” and "
                                "try again.",
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
        raise ImportFileError(_("The file has broken quoting near line %(line)d: check that every quotation mark "
                                "(\") is closed.",
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
        raise ImportFileError(_("The columns are not right (%(details)s). The first line must name the columns of "
                                "docs/csv-format.md.",
                                details="; ".join(parts)))
    return header, rows


def _cell(value: str) -> str:
    """Undo our own export neutralisation: an apostrophe before a formula character."""
    if value.startswith("'") and value[1:2] and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


# --- the rows of the import -----------------------------------------------------------------------------------

def read(content: bytes) -> list[RowInput]:
    """The file's rows for the pipeline's dry run. Raises ImportFileError."""
    header, rows = read_rows(content)
    inputs: list[RowInput] = []
    for line, cells in rows:
        if len(cells) != len(header):
            inputs.append(RowInput(line, {}, [RowError(line, "",
                                                       _("The row has %(got)d cells; the header has %(want)d.",
                                                         got=len(cells), want=len(header)))]))
            continue
        # A text cell written as a formula is refused; one neutralised with an apostrophe (as the
        # export writes it) is accepted and stored without the apostrophe.
        errors = [RowError(line, h, _("The text must not start with =, +, -, @ or a tab (a spreadsheet formula). Put "
                                      "an apostrophe (') in front of it."))
                  # Checked after stripping all white space, as validation strips it before storing.
                  for h, c in zip(header, cells, strict=True)
                  if h in FORMULA_CHECKED and c.strip() and c.strip().startswith(FORMULA_START)]
        inputs.append(RowInput(line, {h: _cell(c) for h, c in zip(header, cells, strict=True)}, errors))
    return inputs


def plan(sess: Session, user: StaffUser | None, content: bytes) -> Plan:
    """The dry run of a CSV file. Raises ImportFileError."""
    return dry_run(sess, user, read(content))
