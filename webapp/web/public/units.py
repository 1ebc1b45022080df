"""The unit page: every fact a resident chooses by, and the way to choose it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from urllib.parse import urlsplit

from babel.dates import format_time
from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from stdnum.fi import ytunnus

from webapp.models import Postcode, QueueTime, Unit, with_collections
from webapp.units.vocab import (
    ACCESSIBILITY_FACTS,
    DIRECT_CHOICE_ELEMENTS,
    PROFESSIONS,
    SERVICE_LANGUAGES,
    SERVICES,
    WEEKDAYS,
)
from webapp.web import db
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.web.page_cache import cached_page, one_unit
from webapp.web.public.blueprint import bp
from webapp.web.public.pilots import GRANTED_SLUGS, today
from webapp.web.public.profiles import assessments_for, chosen_profiles


def fmt_time(value: time) -> str:
    return format_time(value, format="short", locale=str(get_locale() or "fi"))


def fmt_interval(opens: time | None, closes: time | None) -> str:
    if opens is None or closes is None:
        return ""
    return f"{fmt_time(opens)}–{fmt_time(closes)}"


@dataclass
class Weekday:
    name: str
    intervals: list[str]


def weekly_hours(unit: Unit) -> list[Weekday]:
    days = [Weekday(str(name), []) for name in WEEKDAYS]
    for row in sorted(unit.opening_hours, key=lambda r: (r.weekday, r.opens)):
        if 0 <= row.weekday < 7:
            days[row.weekday].intervals.append(fmt_interval(row.opens, row.closes))
    return days


def format_business_id(value: str) -> str:
    try:
        return ytunnus.format(value)
    except Exception:  # noqa: BLE001  old or malformed data is shown as stored
        return value


def queue_history(unit: Unit) -> list[tuple[str, list[QueueTime]]]:
    """Per profession (vocabulary order), its measurements newest first."""
    by_profession: dict[str, list[QueueTime]] = {}
    for qt in unit.queue_times:
        by_profession.setdefault(qt.profession, []).append(qt)
    order = list(PROFESSIONS) + sorted(set(by_profession) - set(PROFESSIONS))
    return [(code, sorted(by_profession[code], key=lambda q: q.measured_on, reverse=True))
            for code in order if code in by_profession]


def in_vocabulary_order(codes: list[str], vocabulary: dict) -> list[str]:
    """Codes in the vocabulary's order (related services together); unknown codes last."""
    known = [c for c in vocabulary if c in codes]
    return known + sorted(set(codes) - set(known))


def web_address(value: str | None) -> str | None:
    """Only http(s) addresses become links (a javascript: or data: URL entered by staff never does)."""
    if value and urlsplit(value.strip()).scheme.lower() in ("http", "https"):
        return value.strip()
    return None


@dataclass
class SentenceGroup:
    name: str
    name_lang: str
    sentences: list[tuple[str, str]]  # (text, language)


def _in_language(texts: dict[str, str], lang: str) -> tuple[str, str]:
    """The text in the page's language, else in Finnish, Swedish or English; with its language."""
    for code in (lang, "fi", "sv", "en"):
        if texts.get(code):
            return texts[code], code
    return "", lang


def accessibility_groups(unit: Unit, lang: str) -> list[SentenceGroup]:
    """PTV's accessibility sentences grouped as PTV groups them, in the page's language when given."""
    groups: dict[tuple, SentenceGroup] = {}
    for s in unit.accessibility_sentences:
        names = {code: getattr(s, f"group_{code}") for code in ("fi", "sv", "en")}
        key = tuple(sorted(names.items()))
        if key not in groups:
            groups[key] = SentenceGroup(*_in_language(names, lang), [])
        text, text_lang = _in_language({code: t for code, (_g, t) in s.texts().items()}, lang)
        if text:
            groups[key].sentences.append((text, text_lang))
    return [g for g in groups.values() if g.sentences]


def get_visible_unit(unit_id: int) -> Unit:
    unit = db.session().get(Unit, unit_id, options=with_collections())
    if unit is None or unit.is_hidden:
        raise UserError(_("There is no unit number %(id)s. It may have been removed, or the address may be wrong.",
                          id=unit_id), 404)
    return unit


def waiting_facts(u: Unit) -> dict:
    """Whether the unit keeps a waiting list, and the signed-in resident's place in it. The pilot's
    rules are read only when they matter: the unit has a queue, is full or is not taking customers."""
    from webapp.choice.waiting import standing_at
    from webapp.web.identity.signin import current_resident_id
    relevant = u.element in DIRECT_CHOICE_ELEMENTS and (u.waiting_count > 0 or u.is_full or not u.accepting_new)
    element = u.pilot.element(u.element) if relevant else None
    has_list = element is not None and element.waiting_list_enabled
    queue_when_closed = has_list and element is not None and (element.waiting_when_not_accepting
                                                              or u.waiting_when_closed)
    rid = current_resident_id() if has_list and u.waiting_count > 0 else None
    return {"has_waiting_list": has_list, "queue_when_closed": queue_when_closed,
            "standing": standing_at(db.session(), rid, u.id) if rid is not None else None}


@bp.get("/units/<int:unit_id>")
@cached_page(one_unit)
def unit(unit_id: int) -> ResponseReturnValue:
    u = get_visible_unit(unit_id)
    day: date = today()
    postcode = db.session().get(Postcode, u.postcode)
    latest = u.latest_queue_times()
    profiles = chosen_profiles()
    return render_template(
        "public/unit.html", unit=u, postcode=postcode, business_id=format_business_id(u.provider.y_tunnus),
        hours=weekly_hours(u), exceptions=[e for e in u.opening_exceptions if e.day >= day],
        fmt_interval=fmt_interval, latest=[(code, latest[code]) for code, _rows in queue_history(u)],
        history=queue_history(u), direct_choice=u.element in DIRECT_CHOICE_ELEMENTS,
        granted_slug=GRANTED_SLUGS.get(u.element), today=day,
        website=web_address(u.website) or web_address(u.provider.website),
        services=in_vocabulary_order(u.service_codes, SERVICES),
        languages=in_vocabulary_order(u.language_codes, SERVICE_LANGUAGES),
        facts=u.accessibility, fact_codes=list(ACCESSIBILITY_FACTS), profiles=profiles,
        fits=assessments_for(u.accessibility, profiles),
        ptv_accessibility=accessibility_groups(u, current_lang()), **waiting_facts(u))
