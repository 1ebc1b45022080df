"""PTV service hours as our weekly hours and exceptional days (pure functions, no database).

PTV (Open API v8 and later) has three kinds of `serviceHours`, each with `openingHour` items
`{dayFrom, dayTo, from, to}`; the v7 and older names are in brackets:

- "DaysOfTheWeek" ("Standard"): the regular week, valid from `validFrom` to `validTo`, or
  `validForNow`. Each item is one weekday (`dayTo` is empty or, in old data, a meaningless
  "Monday"); a real range such as Monday–Friday is taken when `dayTo` comes later in the week.
- "OverMidnight" ("Special"): from `dayFrom` at `from` to `dayTo` at `to`, across midnight.
- "Exceptional" ("Exception"): the days `validFrom`..`validTo` (or one day) with other hours,
  or closed (`isClosed`), with `additionalInformation` as a note.

`isAlwaysOpen` means the whole day. Our model has one interval per row and opens < closes, so a
time past midnight is split at midnight (e.g. Fri 22:00–06:00 becomes fri 22:00-23:59 and
sat 00:00-06:00) and overlapping intervals of a day are merged.
"""
from __future__ import annotations

import re
from datetime import date, time, timedelta
from typing import Any

from webapp.units.fields import FORMULA_START, WEEKDAY_CODES, fmt_time

REGULAR = {"DaysOfTheWeek", "Standard"}
OVER_MIDNIGHT = {"OverMidnight", "Special"}
EXCEPTIONAL = {"Exceptional", "Exception"}
KNOWN_TYPES = REGULAR | OVER_MIDNIGHT | EXCEPTIONAL
DAYS = {name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                                          "sunday"))}
START, END = time(0, 0), time(23, 59)
MAX_EXCEPTION_DAYS = 366
TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?$")

Interval = tuple[int, time, time]


class HoursError(ValueError):
    """A service hour that is not in PTV's shape; the message says which field."""


def _time(value: object, field: str) -> time:
    m = TIME_RE.match(value.strip()) if isinstance(value, str) else None
    if not m:
        raise HoursError(field)
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours == 24 and minutes == 0:
        return END
    if hours > 23 or minutes > 59:
        raise HoursError(field)
    return time(hours, minutes)


def _day(value: object, field: str) -> int:
    if not isinstance(value, str) or value.strip().lower() not in DAYS:
        raise HoursError(field)
    return DAYS[value.strip().lower()]


def _date(value: object, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise HoursError(field) from None


def _span(first: int, opens: time, last: int, closes: time) -> list[Interval]:
    """From weekday `first` at `opens` to weekday `last` at `closes`, split into one interval a day."""
    steps = (last - first) % 7
    if steps == 0:
        if closes > opens:
            return [(first, opens, closes)]
        steps, last = 1, (first + 1) % 7  # the same weekday but earlier in the day: the next morning
    out = [(first, opens, END)]
    out += [((first + i) % 7, START, END) for i in range(1, steps)]
    if closes > START:
        out.append((last, START, closes))
    return out


def _items(entry: dict[str, Any]) -> list[dict[str, Any]]:
    items = entry.get("openingHour") or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise HoursError("openingHour")
    return items


def _valid_now(entry: dict[str, Any], today: date) -> bool:
    if entry.get("validForNow"):
        return True
    start, end = _date(entry.get("validFrom"), "validFrom"), _date(entry.get("validTo"), "validTo")
    return (start is None or start <= today) and (end is None or today <= end)


def _regular(entry: dict[str, Any]) -> list[Interval]:
    out: list[Interval] = []
    for item in _items(entry):
        first = _day(item.get("dayFrom"), "dayFrom")
        last = first
        if item.get("dayTo"):
            to_day = _day(item.get("dayTo"), "dayTo")
            last = to_day if to_day > first else first
        if entry.get("isAlwaysOpen"):
            opens, closes = START, END
        else:
            opens, closes = _time(item.get("from"), "from"), _time(item.get("to"), "to")
        for day in range(first, last + 1):
            if closes == opens:  # 00:00–00:00: the whole day
                out.append((day, START, END))
            else:  # closes before opens (e.g. 20:00–02:00) runs past midnight into the next day
                out.extend(_span(day, opens, day if closes > opens else (day + 1) % 7, closes))
    if entry.get("isAlwaysOpen") and not out:
        out = [(d, START, END) for d in range(7)]
    return out


def _over_midnight(entry: dict[str, Any]) -> list[Interval]:
    out: list[Interval] = []
    for item in _items(entry):
        first = _day(item.get("dayFrom"), "dayFrom")
        last = _day(item.get("dayTo"), "dayTo") if item.get("dayTo") else (first + 1) % 7
        out.extend(_span(first, _time(item.get("from"), "from"), last, _time(item.get("to"), "to")))
    return out


def merge(intervals: list[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals of a day joined; empty ones dropped."""
    out: list[Interval] = []
    for day, opens, closes in sorted(i for i in intervals if i[1] < i[2]):
        if out and out[-1][0] == day and opens <= out[-1][2]:
            out[-1] = (day, out[-1][1], max(out[-1][2], closes))
        else:
            out.append((day, opens, closes))
    return out


def hours_text(intervals: list[Interval]) -> str:
    return "|".join(f"{WEEKDAY_CODES[d]} {fmt_time(o)}-{fmt_time(c)}" for d, o, c in merge(intervals))


def _note(items: object, language: str) -> str:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get("language") == language and isinstance(item.get("value"), str):
            text = re.sub(r"[|;\r\n\t]+", " ", item["value"]).strip().lstrip("".join(FORMULA_START)).strip()
            return text[:200]
    return ""


def _exception(entry: dict[str, Any]) -> list[tuple[date, time | None, time | None, str, str]]:
    first = _date(entry.get("validFrom"), "validFrom")
    if first is None:
        raise HoursError("validFrom")
    last = _date(entry.get("validTo"), "validTo") or first
    last = max(first, min(last, first + timedelta(days=MAX_EXCEPTION_DAYS - 1)))
    opens = closes = None
    items = [i for i in _items(entry) if i.get("from")]
    if entry.get("isAlwaysOpen"):
        opens, closes = START, END
    elif items and not entry.get("isClosed"):
        times = [(_time(i.get("from"), "from"), _time(i.get("to"), "to")) for i in items]
        opens = min(o for o, _ in times)
        closes = max((c if c > o else END) for o, c in times)
    notes = _note(entry.get("additionalInformation"), "fi"), _note(entry.get("additionalInformation"), "sv")
    return [(first + timedelta(days=n), opens, closes, *notes) for n in range((last - first).days + 1)]


def read_service_hours(entries: object, today: date) -> tuple[str, str, list[str]]:
    """(weekly hours text, exceptions text, unknown hour types) in the canonical unit format.

    Raises HoursError naming the field when an entry is not in PTV's shape.
    """
    if entries in (None, ""):
        entries = []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise HoursError("serviceHours")
    weekly: list[Interval] = []
    days: dict[date, tuple[date, time | None, time | None, str, str]] = {}
    unknown: list[str] = []
    for entry in entries:
        kind = entry.get("serviceHourType")
        if kind in REGULAR and _valid_now(entry, today) and not entry.get("isClosed"):
            weekly.extend(_regular(entry))
        elif kind in OVER_MIDNIGHT and _valid_now(entry, today) and not entry.get("isClosed"):
            weekly.extend(_over_midnight(entry))
        elif kind in EXCEPTIONAL:
            for row in _exception(entry):
                days.setdefault(row[0], row)  # the first entry for a day wins, as PTV lists them in order
        elif kind not in KNOWN_TYPES:
            unknown.append(str(kind))
    exceptions = []
    for day, opens, closes, fi, sv in sorted(days.values(), key=lambda r: r[0]):
        times = f"{fmt_time(opens)}-{fmt_time(closes)}" if opens is not None else "closed"
        exceptions.append(f"{day.isoformat()};{times};{fi};{sv}")
    return hours_text(weekly), "|".join(exceptions), unknown
