"""Service locations from the national service catalogue (Palvelutietovaranto, PTV) as import rows.

PTV's Open API (api.palvelutietovaranto.suomi.fi, e.g. GET /api/v11/ServiceChannel/{id}) returns a
service channel of type "ServiceLocation" as JSON; a file may hold one such object, a list of them,
or a page object {"itemList": [...]}. Fields read here (everything else is ignored):

- serviceChannelNames[{type, language, value}] → name_fi / name_sv (type "Name")
- serviceChannelDescriptions[{type, language, value}] → description_fi / _sv (type "Description",
  else "Summary")
- addresses[{type: "Location"/"Visiting", subType: "Single"/"Street", streetAddress: {street
  [{language, value}], streetNumber, postalCode, municipality {code}, latitude, longitude}}]
  → street_fi/_sv, postcode, municipality_code, lat/lon. PTV gives coordinates in
  ETRS-TM35FIN metres (EPSG:3067); those are not converted here: when the values are not WGS84
  degrees, lat/lon are left empty and the postcode area's location is used.
- phoneNumbers[{prefixNumber, number}], emails[{value}], webPages[{url}] → phone, email, website
- languages ["fi", "sv", ...] → languages
- serviceHours[{serviceHourType: "DaysOfTheWeek", openingHour [{dayFrom, dayTo, from, to}]}]
  → opening_hours; {serviceHourType: "Exceptional", validFrom, isClosed, openingHour,
  additionalInformation [{language, value}]} → exceptions.

PTV does not say which pilot, provider (it has an organisation GUID, not a Y-tunnus) or element a
location belongs to: the staff member chooses them for the whole file. A location whose Finnish
name equals an existing unit's of the same pilot, provider and element updates that unit.
The rows then go through the same dry run, checks and all-or-none apply as a CSV file.
"""
from __future__ import annotations

import csv
import io
import json

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.imports.units_csv import COLUMNS, ImportFileError
from webapp.models import Pilot, Provider, Unit
from webapp.staff.unit_data import WEEKDAY_CODES, fmt_coord

PTV_COLUMNS = ("id", "pilot", "provider_ytunnus", "element", "name_fi", "name_sv", "description_fi", "description_sv",
               "street_fi", "street_sv", "postcode", "municipality_code", "lat", "lon", "phone", "email", "website",
               "languages", "opening_hours", "exceptions")

DAYS = {name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}


def _text(items, language: str, types: tuple[str, ...] = ()) -> str:  # noqa: ANN001
    for wanted in types or (None,):
        for item in items or []:
            if isinstance(item, dict) and item.get("language") == language and (wanted is None or item.get("type") == wanted):
                return str(item.get("value") or "").strip()
    return ""


def _hhmm(value: object) -> str:
    return str(value or "")[:5]


def _coord(value, low: float, high: float) -> str:  # noqa: ANN001
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return str(number) if low <= number <= high else ""


def location_row(loc: dict) -> dict[str, str]:
    """One service location as an import row. Raises ImportFileError when its shape is not PTV's."""
    try:
        return _location_row(loc)
    except (AttributeError, TypeError, KeyError, IndexError, ValueError):
        # A field of an unexpected type (a string where PTV has an object, a number for a time, ...).
        raise ImportFileError(_("The file is not PTV service-location JSON.")) from None


def _location_row(loc: dict) -> dict[str, str]:
    row = {c: "" for c in COLUMNS}
    names = loc.get("serviceChannelNames")
    row["name_fi"], row["name_sv"] = _text(names, "fi", ("Name",)), _text(names, "sv", ("Name",))
    descs = loc.get("serviceChannelDescriptions")
    row["description_fi"] = _text(descs, "fi", ("Description", "Summary"))
    row["description_sv"] = _text(descs, "sv", ("Description", "Summary"))
    addresses = [a for a in loc.get("addresses") or [] if isinstance(a, dict)]
    address = next((a for a in addresses if a.get("type") in ("Location", "Visiting")), addresses[0] if addresses else {})
    street = address.get("streetAddress") or {}
    number = str(street.get("streetNumber") or "").strip()
    for lang in ("fi", "sv"):
        name = _text(street.get("street"), lang)
        row[f"street_{lang}"] = f"{name} {number}".strip() if name else ""
    row["postcode"] = str(street.get("postalCode") or "").strip()
    row["municipality_code"] = str((street.get("municipality") or {}).get("code") or "").strip().zfill(3)
    row["lat"] = _coord(street.get("latitude"), 59.5, 70.1)
    row["lon"] = _coord(street.get("longitude"), 19.0, 31.6)
    phones = [p for p in loc.get("phoneNumbers") or [] if isinstance(p, dict) and p.get("number")]
    if phones:
        prefix = str(phones[0].get("prefixNumber") or "").strip()
        row["phone"] = f"{prefix} {phones[0]['number']}".strip() if prefix else str(phones[0]["number"]).strip()
    emails = [e for e in loc.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    row["email"] = str(emails[0]["value"]).strip() if emails else ""
    pages = [w for w in loc.get("webPages") or [] if isinstance(w, dict) and w.get("url")]
    row["website"] = str(pages[0]["url"]).strip() if pages else ""
    row["languages"] = "|".join(sorted({str(c) for c in loc.get("languages") or [] if isinstance(c, str)}))
    hours, exceptions = [], []
    for sh in loc.get("serviceHours") or []:
        if not isinstance(sh, dict):
            continue
        kind = sh.get("serviceHourType")
        if kind == "DaysOfTheWeek" and not sh.get("isClosed"):
            for oh in sh.get("openingHour") or []:
                first = DAYS.get(str(oh.get("dayFrom") or "").lower())
                last = DAYS.get(str(oh.get("dayTo") or oh.get("dayFrom") or "").lower(), first)
                if first is None or not oh.get("from") or not oh.get("to"):
                    continue
                for day in range(first, (last if last is not None and last >= first else first) + 1):
                    hours.append(f"{WEEKDAY_CODES[day]} {_hhmm(oh['from'])}-{_hhmm(oh['to'])}")
        elif kind == "Exceptional" and sh.get("validFrom"):
            day = str(sh["validFrom"])[:10]
            opening = (sh.get("openingHour") or [{}])[0]
            times = "closed" if sh.get("isClosed") or not opening.get("from") else \
                f"{_hhmm(opening.get('from'))}-{_hhmm(opening.get('to'))}"
            info = sh.get("additionalInformation")
            notes = [_text(info, lang).replace("|", " ").replace(";", ",")[:200] for lang in ("fi", "sv")]
            exceptions.append(f"{day};{times};{notes[0]};{notes[1]}")
    row["opening_hours"] = "|".join(hours)
    row["exceptions"] = "|".join(exceptions)
    row["accepting_new"], row["hidden"] = "yes", "no"
    return row


def ptv_to_csv(sess: Session, content: bytes, pilot: Pilot, provider: Provider, element: str) -> bytes:
    """The PTV JSON as a CSV file in our import format (UTF-8). Raises ImportFileError."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ImportFileError(_("The file is not PTV service-location JSON.")) from None
    if isinstance(data, dict) and isinstance(data.get("itemList"), list):
        data = data["itemList"]
    items = data if isinstance(data, list) else [data]
    locations = [i for i in items if isinstance(i, dict) and i.get("serviceChannelType", "ServiceLocation") == "ServiceLocation"]
    if not locations:
        raise ImportFileError(_("The file has no PTV service locations."))
    existing = {u.name_fi: u for u in sess.scalars(select(Unit).where(
        Unit.pilot_id == pilot.id, Unit.provider_id == provider.id, Unit.element == element)).unique()}
    buf = io.StringIO()
    # Only the columns PTV provides: services, features, capacity and the rest of an existing
    # unit stay as they are (a new unit starts without them).
    writer = csv.DictWriter(buf, fieldnames=PTV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for loc in locations:
        row = location_row(loc)
        row.update(pilot=pilot.slug, provider_ytunnus=provider.y_tunnus, element=element)
        unit = existing.get(row["name_fi"])
        if unit is not None:
            row["id"] = str(unit.id)
            if not (row["lat"] and row["lon"]):
                row["lat"], row["lon"] = fmt_coord(unit.lat), fmt_coord(unit.lon)
        for key in ("name_fi", "name_sv", "description_fi", "description_sv", "street_fi", "street_sv"):
            if row[key].startswith(("=", "+", "-", "@", "\t", "\r")):
                row[key] = "'" + row[key]  # text from PTV is data, never a formula
        writer.writerow(row)
    return buf.getvalue().encode("utf-8")
