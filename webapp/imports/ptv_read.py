"""Read PTV service-location JSON into plain values (no database, no Flask request).

Shapes read (PTV Open API v11, `V11VmOpenApiServiceLocationChannel`, and earlier versions still
found in exports); every other field is ignored:

- `id` (the service channel GUID), `serviceChannelType` "ServiceLocation"
- `serviceChannelNames[{type: Name|AlternativeName, language, value}]`, `displayNameType`
- `serviceChannelDescriptions[{type: Description|Summary|ShortDescription, language, value}]`
- `addresses[{type: Location|Visiting|Postal, subType: Single|Street|PostOfficeBox|…,
  streetAddress: {street[{language, value}], streetNumber, postalCode, municipality {code} or
  "code", latitude, longitude}, entrances[{isMainEntrance, coordinates {latitude, longitude},
  accessibilitySentences[{sentenceGroup[{language, value}], sentences[{sentence[{language,
  value}]}]}]}]}]`; older exports have the street fields on the address itself, with
  `streetAddress` as a list of `{language, value}`.
- `phoneNumbers[{type, prefixNumber, number, isFinnishServiceNumber, language}]`,
  `supportEmails` (older: `emails`) `[{language, value}]`, `webPages[{url, language}]`,
  `languages`, `serviceHours` (see ptv_hours).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email

from webapp.core.translation import gettext as _
from webapp.imports import ptv_coords, ptv_hours
from webapp.units.fields import PHONE_RE, WEBSITE_RE
from webapp.units.vocab import SERVICE_LANGUAGES

LANGUAGES = ("fi", "sv", "en")
VISITING = ("Location", "Visiting")


class PtvFileError(ValueError):
    """The file as a whole is not PTV JSON; the message is translated."""


class PtvShapeError(ValueError):
    """A field of a service location has a shape PTV does not publish; args[0] names the field."""


@dataclass
class Sentence:
    group: dict[str, str]
    text: dict[str, str]


@dataclass
class PtvLocation:
    index: int
    ptv_id: str
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    streets: dict[str, str] = field(default_factory=dict)
    postcode: str = ""
    municipality_code: str = ""
    coordinates: tuple[float, float] | None = None
    coordinates_problem: str = ""
    phone: str = ""
    email: str = ""
    website: str = ""
    languages: list[str] = field(default_factory=list)
    opening_hours: str = ""
    exceptions: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        name = self.names.get("fi") or self.names.get("sv") or self.names.get("en") or ""
        return f"{name} ({self.ptv_id})" if name and self.ptv_id else (name or self.ptv_id or f"#{self.index}")


# --- the file ------------------------------------------------------------------------------------

def read_items(content: bytes) -> list[dict[str, Any]]:
    """The service-location objects of a file: one object, a list, or a page {"itemList": [...]}."""
    try:
        data = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PtvFileError(_("The file is not PTV service-location JSON.")) from None
    if isinstance(data, dict) and isinstance(data.get("itemList"), list):
        data = data["itemList"]
    items = data if isinstance(data, list) else [data]
    locations = [i for i in items
                 if isinstance(i, dict) and i.get("serviceChannelType", "ServiceLocation") == "ServiceLocation"]
    if not locations:
        raise PtvFileError(_("The file has no PTV service locations."))
    return locations


# --- small readers ---------------------------------------------------------------------------------

def _list(value: object, name: str) -> list[Any]:
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise PtvShapeError(name)
    return value


def _localized(items: object, name: str, types: tuple[str, ...] = ()) -> dict[str, str]:
    """{language: text} from [{language, value[, type]}]; with types, the first type found wins."""
    out: dict[str, str] = {}
    entries = _list(items, name)
    for wanted in types or (None,):
        for item in entries:
            if not isinstance(item, dict) or not isinstance(item.get("value", ""), (str, type(None))):
                raise PtvShapeError(name)
            lang, text = item.get("language"), (item.get("value") or "").strip()
            if lang in LANGUAGES and text and lang not in out and (wanted is None or item.get("type") == wanted):
                out[lang] = text
    return out


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip()
    raise PtvShapeError(name)


def _names(loc: dict[str, Any]) -> dict[str, str]:
    names = _localized(loc.get("serviceChannelNames"), "serviceChannelNames",
                       ("Name", "AlternativeName", "AlternateName"))
    for item in _list(loc.get("displayNameType"), "displayNameType"):
        if isinstance(item, dict) and item.get("type") in ("AlternativeName", "AlternateName"):
            alt = _localized(loc.get("serviceChannelNames"), "serviceChannelNames", (item["type"],))
            if item.get("language") in alt:
                names[item["language"]] = alt[item["language"]]
    return names


def _pick_address(loc: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The visiting address (type Location/Visiting with a street), else a postal one; (address, postal?)."""
    addresses = _list(loc.get("addresses"), "addresses")
    if not all(isinstance(a, dict) for a in addresses):
        raise PtvShapeError("addresses")
    with_street = [a for a in addresses
                   if a.get("streetAddress") and a.get("subType", "Street") not in ("PostOfficeBox", "Abroad")]
    visiting = [a for a in with_street if a.get("type") in VISITING]
    if visiting:
        return visiting[0], False
    return (with_street[0], True) if with_street else ({}, False)


def _street_fields(address: dict[str, Any]) -> dict[str, Any]:
    """The street part of an address, in the v7+ shape (older exports keep it on the address)."""
    street = address.get("streetAddress")
    if isinstance(street, dict):
        return street
    if isinstance(street, list):  # older: streetAddress [{language, value}] with the rest beside it
        return {**address, "street": street}
    if street in (None, ""):
        return {}
    raise PtvShapeError("addresses.streetAddress")


def _municipality(value: object) -> str:
    if isinstance(value, dict):
        value = value.get("code")
    code = _text(value, "municipality")
    return code.zfill(3) if code.isdigit() else code


def _entrances(address: dict[str, Any]) -> list[dict[str, Any]]:
    entrances = _list(address.get("entrances"), "entrances")
    if not all(isinstance(e, dict) for e in entrances):
        raise PtvShapeError("entrances")
    return sorted(entrances, key=lambda e: not e.get("isMainEntrance"))


def _sentences(entrances: list[dict[str, Any]]) -> list[Sentence]:
    out = []
    for entrance in entrances:
        for group in _list(entrance.get("accessibilitySentences"), "accessibilitySentences"):
            if not isinstance(group, dict):
                raise PtvShapeError("accessibilitySentences")
            names = _localized(group.get("sentenceGroup"), "sentenceGroup")
            for item in _list(group.get("sentences"), "sentences"):
                if not isinstance(item, dict):
                    raise PtvShapeError("sentences")
                text = _localized(item.get("sentence"), "sentence")
                if text:
                    out.append(Sentence({k: v[:200] for k, v in names.items()}, text))
    return out


def _phone(loc: dict[str, Any]) -> str:
    phones = [p for p in _list(loc.get("phoneNumbers"), "phoneNumbers")
              if isinstance(p, dict) and p.get("number") and p.get("type", "Phone") == "Phone"]
    phones.sort(key=lambda p: p.get("language") != "fi")
    for p in phones:
        number, prefix = _text(p.get("number"), "phoneNumbers"), _text(p.get("prefixNumber"), "phoneNumbers")
        if prefix and not p.get("isFinnishServiceNumber"):
            number = f"{prefix} {number[1:] if number.startswith('0') else number}"
        if PHONE_RE.match(number):
            return number
    return ""


def _email(loc: dict[str, Any]) -> str:
    items = _list(loc.get("supportEmails") if "supportEmails" in loc else loc.get("emails"), "supportEmails")
    for item in sorted((i for i in items if isinstance(i, dict)), key=lambda i: i.get("language") != "fi"):
        try:
            return validate_email(_text(item.get("value"), "supportEmails"), check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return ""


def _website(loc: dict[str, Any]) -> str:
    pages = [w for w in _list(loc.get("webPages"), "webPages") if isinstance(w, dict) and w.get("url")]
    for page in sorted(pages, key=lambda w: w.get("language") != "fi"):
        url = _text(page.get("url"), "webPages")
        if WEBSITE_RE.match(url) and len(url) <= 300:
            return url
    return ""


# --- one location -----------------------------------------------------------------------------------

def read_location(index: int, loc: dict[str, Any], today: date) -> PtvLocation:
    """One service location. Raises PtvShapeError naming the field that is not in PTV's shape."""
    try:
        return _read(index, loc, today)
    except ptv_hours.HoursError as exc:
        raise PtvShapeError(f"serviceHours.{exc.args[0]}") from None
    except (AttributeError, TypeError, KeyError, IndexError) as exc:
        raise PtvShapeError(type(exc).__name__) from None


def _read(index: int, loc: dict[str, Any], today: date) -> PtvLocation:
    out = PtvLocation(index=index, ptv_id=_text(loc.get("id"), "id").lower())
    out.names = _names(loc)
    out.descriptions = _localized(loc.get("serviceChannelDescriptions"), "serviceChannelDescriptions",
                                  ("Description", "Summary", "ShortDescription"))
    address, postal = _pick_address(loc)
    if postal:
        out.notes.append(_("PTV has no visiting address; the postal address is used."))
    street = _street_fields(address)
    number = _text(street.get("streetNumber"), "streetNumber")
    for lang, name in _localized(street.get("street"), "street").items():
        out.streets[lang] = f"{name} {number}".strip()
    out.postcode = _text(street.get("postalCode"), "postalCode")
    out.municipality_code = _municipality(street.get("municipality"))
    entrances = _entrances(address)
    out.coordinates, out.coordinates_problem = ptv_coords.from_ptv(street.get("latitude"), street.get("longitude"))
    if out.coordinates is None:
        for entrance in entrances:
            coords = entrance.get("coordinates")
            coords = coords if isinstance(coords, dict) else {}
            found, _problem = ptv_coords.from_ptv(coords.get("latitude"), coords.get("longitude"))
            if found is not None:
                out.coordinates, out.coordinates_problem = found, ""
                out.notes.append(_("The location is taken from the main entrance's coordinates."))
                break
    out.phone, out.email, out.website = _phone(loc), _email(loc), _website(loc)
    languages = [str(c) for c in _list(loc.get("languages"), "languages")]
    out.languages = sorted({c for c in languages if c in SERVICE_LANGUAGES})
    dropped = sorted({c for c in languages if c not in SERVICE_LANGUAGES})
    if dropped:
        out.notes.append(_("Service languages left out (not in this service's list): %(codes)s.",
                           codes=", ".join(dropped)))
    out.opening_hours, out.exceptions, unknown = ptv_hours.read_service_hours(loc.get("serviceHours"), today)
    if unknown:
        out.notes.append(_("Service hours of an unknown type were left out: %(types)s.", types=", ".join(unknown)))
    out.sentences = _sentences(entrances)
    return out
