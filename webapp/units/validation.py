"""Checking a unit's data: raw strings to canonical values with errors by field, including the checks
that ask the database (municipality, postcode, pilot, provider). Used by the unit form and every import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from webapp.core.translation import current_lang
from webapp.core.translation import gettext as _
from webapp.models import Municipality, Pilot, Postcode, Provider, Unit
from webapp.units.fields import (
    FACT_FIELDS,
    LAT_RANGE,
    LON_RANGE,
    MAX_LEN,
    NOTE_FIELDS,
    PHONE_RE,
    TEXT_FIELDS,
    UNKNOWN_WORDS,
    WEBSITE_RE,
    WEEKDAY_CODES,
    UnitDataError,
    canonical_exceptions,
    fmt_coord,
    fmt_time,
    normalise_ytunnus,
    parse_bool,
    parse_codes,
    parse_exceptions,
    parse_hours,
)
from webapp.units.vocab import ELEMENTS, SERVICE_LANGUAGES, SERVICES, SERVICES_BY_ELEMENT


def validate(sess: Session, raw: dict[str, str], *, element: str, unit: Unit | None
             ) -> tuple[dict[str, str], dict[str, str]]:
    """Check raw strings; return (canonical values, errors by field). Missing keys count as empty.

    Free text may start with a formula character here (the form accepts it, the export
    neutralises it); the CSV import refuses raw formula cells before calling this.
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}

    def get(key: str) -> str:
        return (raw.get(key) or "").replace("\r\n", "\n").strip()

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
                errors["capacity"] = _("The capacity cannot be below the current number of listed customers "
                                       "(%(n)d).", n=listed)
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
            values[f] = "|".join(parse_codes(get(f), vocab))
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
    try:
        return current_lang()
    except RuntimeError:
        return "fi"


def validate_identity(sess: Session, pilot_slug: str, provider_ytunnus: str, element: str,
                      known: KnownIdentities | None = None) -> tuple[Pilot | None, Provider | None, dict[str, str]]:
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
    loaded: list[object] = field(default_factory=list)  # other prefetched rows, kept alive in the session

    @classmethod
    def load(cls, sess: Session, ytunnus_values: list[str]) -> KnownIdentities:
        """Every pilot (with its elements and municipalities) and the providers with these Y-tunnus values:
        four statements, however many rows refer to them."""
        pilots = sess.scalars(select(Pilot).options(selectinload(Pilot.elements), selectinload(Pilot.municipalities)))
        wanted = sorted({y for y in (normalise_ytunnus(v) for v in ytunnus_values) if y})
        providers = list(sess.scalars(select(Provider).where(Provider.y_tunnus.in_(wanted)))) if wanted else []
        return cls({p.slug: p for p in pilots}, {p.y_tunnus: p for p in providers})


def municipality_in_pilot_error(pilot: Pilot, municipality_code: str) -> str | None:
    if municipality_code and municipality_code not in pilot.municipality_codes:
        return _("The municipality is not in this pilot.")
    return None
