"""One place for a unit's editable data: canonical text values, validation, diffs and applying.

The unit form and the CSV import both turn their input into the same dict of canonical strings
(the CSV cell format of docs/csv-format.md), validate it here and apply it here, so a value means
the same thing in both and an export followed by an import changes nothing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from email_validator import EmailNotValidError, validate_email
from webapp.core.translation import gettext as _
from webapp.core.translation import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload
from stdnum.fi import ytunnus

from webapp.models import Municipality, OpeningException, OpeningHours, Pilot, Postcode, Provider, Unit, UnitLanguage, UnitService
from webapp.units.vocab import ACCESSIBILITY_FACTS, ELEMENTS, SERVICE_LANGUAGES, SERVICES, SERVICES_BY_ELEMENT

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


class UnitDataError(ValueError):
    pass


def label(field: str) -> str:
    return str(FIELD_LABELS.get(field, field))


# --- canonical values ---------------------------------------------------------------------------

def fmt_coord(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def fmt_time(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def hours_text(rows) -> str:  # noqa: ANN001
    items = sorted((h.weekday, h.opens, h.closes) for h in rows)
    return "|".join(f"{WEEKDAY_CODES[d]} {fmt_time(o)}-{fmt_time(c)}" for d, o, c in items)


def exceptions_text(rows) -> str:  # noqa: ANN001
    items = sorted(rows, key=lambda e: e.day)
    out = []
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


def diff(before: dict[str, str], after: dict[str, str]) -> dict[str, tuple[str, str]]:
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
    rows = []
    for item in [i.strip() for i in text.split("|") if i.strip()]:
        day, _, rest = item.partition(" ")
        day = day.lower()
        interval = parse_interval(rest)
        if day not in WEEKDAY_CODES or interval is None:
            raise UnitDataError(_("“%(item)s” is not a weekday and an interval such as “mon 08:00-16:00”.", item=item))
        rows.append((WEEKDAY_CODES.index(day), *interval))
    rows.sort()
    for a, b in zip(rows, rows[1:]):
        if a[0] == b[0] and b[1] < a[2]:
            raise UnitDataError(_("The opening hours on %(day)s overlap.", day=WEEKDAY_CODES[a[0]]))
    return rows


def parse_exceptions(text: str, separator: str = "|") -> list[tuple[date, time | None, time | None, str, str]]:
    """'2026-12-24;closed;Jouluaatto;Julafton|2026-12-31;08:00-14:00;…;…' → sorted tuples."""
    rows = []
    seen = set()
    for item in [i.strip() for i in text.split(separator) if i.strip()]:
        parts = [p.strip() for p in item.split(";")]
        if len(parts) < 2 or len(parts) > 4:
            raise UnitDataError(_("“%(item)s” is not in the form “date;times or closed;note in Finnish;note in Swedish”.", item=item))
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
                raise UnitDataError(_("“%(value)s” is not “closed” or an interval such as 08:00-14:00.", value=parts[1]))
            opens, closes = interval
        for note in parts[2:]:
            if len(note) > 200 or "|" in note:
                raise UnitDataError(_("A note may have at most 200 characters and no “|”."))
            if note.startswith(FORMULA_START):
                raise UnitDataError(_("A note must not start with =, +, -, @ or a tab."))
        rows.append((day, opens, closes, parts[2], parts[3]))
    rows.sort(key=lambda r: r[0])
    return rows


def canonical_exceptions(rows) -> str:  # noqa: ANN001
    out = []
    for day, opens, closes, fi, sv in rows:
        times = f"{fmt_time(opens)}-{fmt_time(closes)}" if opens else "closed"
        out.append(f"{day.isoformat()};{times};{fi};{sv}")
    return "|".join(out)


def _codes(text: str, vocabulary, field: str) -> list[str]:  # noqa: ANN001
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


# --- validation ------------------------------------------------------------------------------------

def validate(sess: Session, raw: dict[str, str], *, element: str, unit: Unit | None
             ) -> tuple[dict[str, str], dict[str, str]]:
    """Check raw strings; return (canonical values, errors by field). Missing keys count as empty.

    Free text may start with a formula character here (the form accepts it, the export
    neutralises it); the CSV import refuses raw formula cells before calling this.
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    get = lambda k: (raw.get(k) or "").replace("\r\n", "\n").strip()  # noqa: E731

    for f in TEXT_FIELDS:
        v = get(f)
        if f in ("name_fi", "street_fi") and not v:
            errors[f] = _("Enter the name in Finnish.") if f == "name_fi" else _("Enter the street address in Finnish.")
        elif len(v) > MAX_LEN[f]:
            errors[f] = _("Use at most %(n)d characters.", n=MAX_LEN[f])
        values[f] = v

    muni_code = get("municipality_code")
    muni = sess.get(Municipality, muni_code) if re.fullmatch(r"\d{3}", muni_code) else None
    if not muni_code:
        errors["municipality_code"] = _("Choose the municipality.")
    elif muni is None:
        errors["municipality_code"] = _("“%(value)s” is not a municipality code.", value=muni_code)
    values["municipality_code"] = muni_code

    pc = get("postcode")
    postcode = sess.get(Postcode, pc) if re.fullmatch(r"\d{5}", pc) else None
    if not pc:
        errors["postcode"] = _("Enter the postcode.")
    elif not re.fullmatch(r"\d{5}", pc):
        errors["postcode"] = _("A postcode has five digits, e.g. 00100.")
    elif postcode is None:
        errors["postcode"] = _("The postcode %(code)s does not exist.", code=pc)
    elif muni is not None and postcode.municipality_code != muni.code:
        errors["postcode"] = _("The postcode %(code)s is not in %(municipality)s.", code=pc,
                               municipality=muni.name_sv if _current_lang() == "sv" else muni.name_fi)
    values["postcode"] = pc

    for f, (low, high) in (("lat", LAT_RANGE), ("lon", LON_RANGE)):
        v = get(f).replace(",", ".")
        if not v:
            # Empty: the postcode area's (or municipality's) coordinates.
            source = postcode if postcode is not None and postcode.lat else muni
            coord = getattr(source, f, None) if source is not None else None
            values[f] = fmt_coord(coord) if coord is not None else ""
            if coord is None and f not in errors:
                errors[f] = _("Enter the coordinates; no default is known for this postcode.")
            continue
        try:
            number = float(v)
        except ValueError:
            number = None
        if number is None or number != number:
            errors[f] = _("Enter a number such as 60.1699.")
        elif not low <= number <= high:
            errors[f] = (_("The latitude must be between 59.5 and 70.1 (inside Finland).") if f == "lat"
                         else _("The longitude must be between 19.0 and 31.6 (inside Finland)."))
        values[f] = fmt_coord(number) if number is not None and number == number else v

    phone = get("phone")
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = _("Enter a Finnish phone number, e.g. 09 123 4567 or +358 40 123 4567.")
    values["phone"] = phone

    email = get("email")
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError:
            errors["email"] = _("Enter an e-mail address in the form name@example.fi.")
    values["email"] = email

    website = get("website")
    if website and (not WEBSITE_RE.match(website) or len(website) > 300):
        errors["website"] = _("Enter a web address starting with https:// or http://.")
    values["website"] = website

    cap = get("capacity")
    if cap:
        if not re.fullmatch(r"\d{1,7}", cap):
            errors["capacity"] = _("Enter the capacity as a whole number, or leave it empty for no maximum.")
        else:
            cap = str(int(cap))
            listed = unit.listed_count if unit is not None else 0
            if int(cap) < listed:
                errors["capacity"] = _("The capacity cannot be below the current number of listed customers (%(n)d).", n=listed)
    values["capacity"] = cap

    for f in ("accepting_new", "hidden"):
        v = get(f)
        flag = parse_bool(v) if v else (f == "accepting_new")
        if flag is None:
            errors[f] = _("Write yes or no.")
        values[f] = "yes" if flag else "no"

    allowed_services = {c: SERVICES[c] for c in SERVICES_BY_ELEMENT.get(element, ())}
    for f in FACT_FIELDS:
        v = get(f)
        flag = parse_bool(v) if v and v.lower() not in UNKNOWN_WORDS else None
        if v and v.lower() not in UNKNOWN_WORDS and flag is None:
            errors[f] = _("Write yes or no, or leave empty if not known.")
        values[f] = "" if flag is None else ("yes" if flag else "no")
    for f in NOTE_FIELDS:
        v = get(f)
        if len(v) > MAX_LEN[f]:
            errors[f] = _("Use at most %(n)d characters.", n=MAX_LEN[f])
        values[f] = v

    for f, vocab in (("services", allowed_services), ("languages", SERVICE_LANGUAGES)):
        try:
            values[f] = "|".join(_codes(get(f), vocab, f))
        except UnitDataError as exc:
            errors[f] = str(exc)
            values[f] = get(f)

    try:
        rows = parse_hours(get("opening_hours"))
        values["opening_hours"] = "|".join(f"{WEEKDAY_CODES[d]} {fmt_time(o)}-{fmt_time(c)}" for d, o, c in rows)
    except UnitDataError as exc:
        errors["opening_hours"] = str(exc)
        values["opening_hours"] = get("opening_hours")

    try:
        values["exceptions"] = canonical_exceptions(parse_exceptions(get("exceptions")))
    except UnitDataError as exc:
        errors["exceptions"] = str(exc)
        values["exceptions"] = get("exceptions")

    return values, errors


def _current_lang() -> str:
    from webapp.core.translation import current_lang
    try:
        return current_lang()
    except RuntimeError:
        return "fi"


def validate_identity(sess: Session, pilot_slug: str, provider_ytunnus: str, element: str,
                      known: "KnownIdentities | None" = None) -> tuple[Pilot | None, Provider | None, dict[str, str]]:
    """`known`: pilots and providers read beforehand (an import checks many rows against the same few)."""
    errors: dict[str, str] = {}
    if known is not None:
        pilot = known.pilots.get(pilot_slug.strip())
    else:
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == pilot_slug.strip())) if pilot_slug.strip() else None
    if pilot is None:
        errors["pilot"] = _("“%(value)s” is not a pilot.", value=pilot_slug)
    provider = None
    y = normalise_ytunnus(provider_ytunnus)
    if y is None:
        errors["provider_ytunnus"] = _("“%(value)s” is not a valid Y-tunnus (e.g. 1234567-1).", value=provider_ytunnus)
    else:
        provider = known.providers.get(y) if known is not None else \
            sess.scalar(select(Provider).where(Provider.y_tunnus == y))
        if provider is None:
            errors["provider_ytunnus"] = _("No provider has the Y-tunnus %(value)s. Add the provider first.", value=y)
    if element not in ELEMENTS:
        errors["element"] = _("“%(value)s” is not a type of unit. Allowed: %(allowed)s.", value=element,
                              allowed=", ".join(ELEMENTS))
    elif pilot is not None and pilot.element(element) is None:
        errors["element"] = _("This pilot has no element “%(value)s”.", value=element)
    return pilot, provider, errors


@dataclass
class KnownIdentities:
    pilots: dict[str, Pilot]
    providers: dict[str, Provider]
    loaded: list = field(default_factory=list)  # other prefetched rows, kept alive in the session

    @classmethod
    def load(cls, sess: Session, ytunnus_values: list[str]) -> "KnownIdentities":
        """Every pilot (with its elements and municipalities) and the providers with these Y-tunnus values:
        four statements, however many rows refer to them."""
        pilots = sess.scalars(select(Pilot).options(selectinload(Pilot.elements), selectinload(Pilot.municipalities)))
        wanted = sorted({y for y in (normalise_ytunnus(v) for v in ytunnus_values) if y})
        providers = sess.scalars(select(Provider).where(Provider.y_tunnus.in_(wanted))) if wanted else []
        return cls({p.slug: p for p in pilots}, {p.y_tunnus: p for p in providers})


def municipality_in_pilot_error(pilot: Pilot, municipality_code: str) -> str | None:
    if municipality_code and municipality_code not in pilot.municipality_codes:
        return _("The municipality is not in this pilot.")
    return None


# --- applying -------------------------------------------------------------------------------------

def apply(unit: Unit, values: dict[str, str]) -> None:
    """Write validated canonical values into the unit (only changed collections are replaced).

    `updated_at` is always set so that the unit row itself is updated and its version goes up
    even when only a list (services, hours, ...) changed.
    """
    current = snapshot(unit) if unit.id is not None else {}
    unit.updated_at = datetime.now(timezone.utc)
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
    split = lambda v: [c for c in v.split("|") if c]  # noqa: E731
    if current.get("services") != values["services"]:
        unit.services = [UnitService(code=c) for c in split(values["services"])]
    if current.get("languages") != values["languages"]:
        unit.languages = [UnitLanguage(code=c) for c in split(values["languages"])]
    if any(current.get(f) != values[f] for f in FACT_FIELDS):
        unit.set_accessibility({c: None if not values[f"a11y_{c}"] else values[f"a11y_{c}"] == "yes"
                                for c in ACCESSIBILITY_FACTS})
    for f in NOTE_FIELDS:
        setattr(unit, f, values[f])
    if current.get("opening_hours") != values["opening_hours"]:
        unit.opening_hours = [OpeningHours(weekday=d, opens=o, closes=c) for d, o, c in parse_hours(values["opening_hours"])]
    if current.get("exceptions") != values["exceptions"]:
        sess = object_session(unit)
        if unit.opening_exceptions and sess is not None:
            unit.opening_exceptions.clear()  # (unit, day) is unique: delete the old rows first
            sess.flush()
        unit.opening_exceptions = [OpeningException(day=d, opens=o, closes=c, note_fi=fi, note_sv=sv)
                                   for d, o, c, fi, sv in parse_exceptions(values["exceptions"])]

