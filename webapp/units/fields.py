"""A unit's editable data as canonical strings: the fields, their labels, parsing and formatting.

The unit form and the CSV and PTV imports all turn their input into the same dict of canonical strings
(the CSV cell format of docs/csv-format.md), so a value means the same thing everywhere and an export
followed by an import changes nothing. Checks against the database: validation.py; writing: changes.py.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from itertools import pairwise

from stdnum.fi import ytunnus

from webapp.core.translation import gettext as _
from webapp.core.translation import lazy_gettext as _l
from webapp.models import OpeningException, OpeningHours, Unit
from webapp.units.vocab import ACCESSIBILITY_FACTS

# Data fields in CSV column order (after the identity columns id, pilot, provider_ytunnus, element).
TEXT_FIELDS = ("name_fi", "name_sv", "description_fi", "description_sv", "street_fi", "street_sv")
# One field per accessibility fact: yes, no or empty (not known).
FACT_FIELDS = tuple(f"a11y_{code}" for code in ACCESSIBILITY_FACTS)
NOTE_FIELDS = ("accessibility_note_fi", "accessibility_note_sv", "accessibility_note_en")
DATA_FIELDS = (*TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone", "email", "website",
               "capacity", "accepting_new", "hidden", "services", "languages", *FACT_FIELDS, *NOTE_FIELDS,
               "opening_hours", "exceptions")
IDENTITY_FIELDS = ("pilot", "provider_ytunnus", "element")

FIELD_LABELS = {
    "id": _l("Unit ID"),
    "pilot": _l("Pilot"),
    "provider_ytunnus": _l("Provider's Y-tunnus"),
    "element": _l("Type of unit"),
    "name_fi": _l("Name in Finnish"),
    "name_sv": _l("Name in Swedish"),
    "description_fi": _l("Description in Finnish"),
    "description_sv": _l("Description in Swedish"),
    "street_fi": _l("Street address in Finnish"),
    "street_sv": _l("Street address in Swedish"),
    "postcode": _l("Postcode"),
    "municipality_code": _l("Municipality"),
    "lat": _l("Latitude"),
    "lon": _l("Longitude"),
    "phone": _l("Phone number"),
    "email": _l("E-mail address"),
    "website": _l("Web address"),
    "capacity": _l("Capacity (maximum number of listed customers)"),
    "accepting_new": _l("Accepting new customers"),
    "hidden": _l("Hidden from residents"),
    "services": _l("Services"),
    "languages": _l("Service languages"),
    **{f"a11y_{code}": text for code, text in ACCESSIBILITY_FACTS.items()},
    "accessibility_note_fi": _l("Accessibility note in Finnish"),
    "accessibility_note_sv": _l("Accessibility note in Swedish"),
    "accessibility_note_en": _l("Accessibility note in English"),
    "opening_hours": _l("Opening hours"),
    "exceptions": _l("Exceptions to opening hours"),
    "version": _l("Version"),
    "ptv_id": _l("PTV service channel"),
    "accessibility_sentences": _l("Accessibility sentences from PTV"),
    "accessibility_facts": _l("Accessibility facts"),
}

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LAT_RANGE = (59.5, 70.1)
LON_RANGE = (19.0, 31.6)
# Finnish numbers: national 0 + area or mobile code, or international +358 without the 0;
# spaces and hyphens between digits allowed; 6 to 12 digits after the prefix (service numbers
# such as 010 and 0800 included). python-stdnum has no phone module.
PHONE_RE = re.compile(r"^(?:\+358[ -]?[1-9]|0[1-9])(?:[ -]?\d){4,11}$")
WEBSITE_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]+$", re.IGNORECASE)
TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
MAX_LEN = {"name_fi": 200, "name_sv": 200, "street_fi": 200, "street_sv": 200, "description_fi": 4000,
           "description_sv": 4000, "phone": 40, "email": 200, "website": 300, "accessibility_note_fi": 1000,
           "accessibility_note_sv": 1000, "accessibility_note_en": 1000}


ExceptionTuple = tuple[date, time | None, time | None, str, str]  # day, opens, closes, note_fi, note_sv


class UnitDataError(ValueError):
    """A value cannot be read; the message is translated."""


def label(field: str) -> str:
    """The field's name for people, in the current language (the code itself when it has none)."""
    return str(FIELD_LABELS.get(field, field))


# --- canonical values ---------------------------------------------------------------------------

def fmt_coord(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def fmt_time(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def hours_text(rows: Iterable[OpeningHours]) -> str:
    items = sorted((h.weekday, h.opens, h.closes) for h in rows)
    return "|".join(f"{WEEKDAY_CODES[d]} {fmt_time(o)}-{fmt_time(c)}" for d, o, c in items)


def exceptions_text(rows: Iterable[OpeningException]) -> str:
    items = sorted(rows, key=lambda e: e.day)
    out: list[str] = []
    for e in items:
        times = f"{fmt_time(e.opens)}-{fmt_time(e.closes)}" if e.opens and e.closes else "closed"
        out.append(f"{e.day.isoformat()};{times};{e.note_fi or ''};{e.note_sv or ''}")
    return "|".join(out)


def snapshot(unit: Unit) -> dict[str, str]:
    """The unit's editable data as canonical strings (also the CSV row)."""
    return {
        "name_fi": unit.name_fi or "", "name_sv": unit.name_sv or "",
        "description_fi": unit.description_fi or "", "description_sv": unit.description_sv or "",
        "street_fi": unit.street_fi or "", "street_sv": unit.street_sv or "",
        "postcode": unit.postcode or "", "municipality_code": unit.municipality_code or "",
        "lat": fmt_coord(unit.lat), "lon": fmt_coord(unit.lon),
        "phone": unit.phone or "", "email": unit.email or "", "website": unit.website or "",
        "capacity": "" if unit.capacity is None else str(unit.capacity),
        "accepting_new": "yes" if unit.accepting_new else "no",
        "hidden": "yes" if unit.is_hidden else "no",
        "services": "|".join(sorted(s.code for s in unit.services)),
        "languages": "|".join(sorted(s.code for s in unit.languages)),
        **facts_text(unit.accessibility),
        **{f: getattr(unit, f) or "" for f in NOTE_FIELDS},
        "opening_hours": hours_text(unit.opening_hours),
        "exceptions": exceptions_text(unit.opening_exceptions),
    }


def facts_text(facts: dict[str, bool]) -> dict[str, str]:
    """Per fact field: "yes", "no" or "" (not known)."""
    return {f"a11y_{c}": ("yes" if facts[c] else "no") if c in facts else "" for c in ACCESSIBILITY_FACTS}


def diff(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """The fields of `after` whose value differs from `before`: {field: (before, after)}."""
    return {k: (before.get(k, ""), after[k]) for k in after if before.get(k, "") != after[k]}


# --- parsing single values -----------------------------------------------------------------------

def _time(text: str) -> time | None:
    m = TIME_RE.match(text.strip())
    return time(int(m.group(1)), int(m.group(2))) if m else None


def parse_interval(text: str) -> tuple[time, time] | None:
    parts = re.split(r"\s*[-–]\s*", text.strip())
    if len(parts) != 2:
        return None
    opens, closes = _time(parts[0]), _time(parts[1])
    if opens is None or closes is None or not opens < closes:
        return None
    return opens, closes


def parse_hours(text: str) -> list[tuple[int, time, time]]:
    """'mon 08:00-16:00|mon 17:00-19:00|tue ...' → sorted (weekday, opens, closes)."""
    rows: list[tuple[int, time, time]] = []
    for item in [i.strip() for i in text.split("|") if i.strip()]:
        day, _sep, rest = item.partition(" ")
        day = day.lower()
        interval = parse_interval(rest)
        if day not in WEEKDAY_CODES or interval is None:
            raise UnitDataError(_("“%(item)s” is not a weekday and an interval such as “mon 08:00-16:00”.", item=item))
        rows.append((WEEKDAY_CODES.index(day), *interval))
    rows.sort()
    for a, b in pairwise(rows):
        if a[0] == b[0] and b[1] < a[2]:
            raise UnitDataError(_("The opening hours on %(day)s overlap.", day=WEEKDAY_CODES[a[0]]))
    return rows


def parse_exceptions(text: str, separator: str = "|") -> list[ExceptionTuple]:
    """'2026-12-24;closed;Jouluaatto;Julafton|2026-12-31;08:00-14:00;…;…' → sorted tuples."""
    rows: list[ExceptionTuple] = []
    seen: set[date] = set()
    for item in [i.strip() for i in text.split(separator) if i.strip()]:
        parts = [p.strip() for p in item.split(";")]
        if len(parts) < 2 or len(parts) > 4:
            raise UnitDataError(_("“%(item)s” is not in the form “date;times or closed;note in Finnish;note in "
                                  "Swedish”.", item=item))
        parts += [""] * (4 - len(parts))
        try:
            day = date.fromisoformat(parts[0])
        except ValueError:
            raise UnitDataError(_("“%(value)s” is not a date in the form 2026-12-24.", value=parts[0])) from None
        if day in seen:
            raise UnitDataError(_("The date %(day)s is given twice.", day=parts[0]))
        seen.add(day)
        if parts[1].lower() in ("closed", "suljettu", "stängt"):
            opens = closes = None
        else:
            interval = parse_interval(parts[1])
            if interval is None:
                raise UnitDataError(_("“%(value)s” is not “closed” or an interval such as 08:00-14:00.",
                                      value=parts[1]))
            opens, closes = interval
        for note in parts[2:]:
            if len(note) > 200 or "|" in note:
                raise UnitDataError(_("A note may have at most 200 characters and no “|”."))
            if note.startswith(FORMULA_START):
                raise UnitDataError(_("A note must not start with =, +, -, @ or a tab."))
        rows.append((day, opens, closes, parts[2], parts[3]))
    rows.sort(key=lambda r: r[0])
    return rows


def canonical_exceptions(rows: Iterable[ExceptionTuple]) -> str:
    out: list[str] = []
    for day, opens, closes, fi, sv in rows:
        times = f"{fmt_time(opens)}-{fmt_time(closes)}" if opens else "closed"
        out.append(f"{day.isoformat()};{times};{fi};{sv}")
    return "|".join(out)


def parse_codes(text: str, vocabulary: Mapping[str, object]) -> list[str]:
    """'b|a|a' → ['a', 'b']; raises UnitDataError naming unknown codes and the allowed ones."""
    codes = sorted({c.strip() for c in text.split("|") if c.strip()})
    unknown = [c for c in codes if c not in vocabulary]
    if unknown:
        raise UnitDataError(_("Unknown code: %(codes)s. Allowed: %(allowed)s.", codes=", ".join(unknown),
                              allowed=", ".join(vocabulary)))
    return codes


UNKNOWN_WORDS = ("unknown", "not known", "ei tiedossa", "inte känt", "okänd", "?")


def parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("yes", "true", "1", "kyllä", "ja"):
        return True
    if value in ("no", "false", "0", "ei", "nej"):
        return False
    return None


def normalise_ytunnus(value: str) -> str | None:
    value = (value or "").strip()
    if not ytunnus.is_valid(value):
        return None
    return ytunnus.format(value)
