"""What the compare page (search_views.compare) shows of units beyond their cards: the units with their
collections, their postcodes' names, the professions whose T3 is shown and the weekly hours."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import Postcode, Unit, with_collections
from webapp.units.vocab import PROFESSIONS_BY_ELEMENT


def load_units(sess: Session, ids: Iterable[int]) -> dict[int, Unit]:
    """Visible units by id with what the comparison shows (hidden and unknown ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    options = with_collections("services", "languages", "accessibility_facts", "queue_times", "opening_hours")
    stmt = select(Unit).where(Unit.id.in_(wanted), Unit.is_hidden.is_(False)).options(*options)
    return {u.id: u for u in sess.scalars(stmt).unique()}


def postcode_names(sess: Session, codes: Iterable[str]) -> dict[str, Postcode]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {p.code: p for p in sess.scalars(select(Postcode).where(Postcode.code.in_(wanted)))}


def professions_for(unit: Unit) -> tuple[str, ...]:
    """The professions whose T3 is shown for this unit: its element's, and any others measured."""
    main = PROFESSIONS_BY_ELEMENT.get(unit.element, ())
    return main + tuple(p for p in sorted(unit.latest_queue_times()) if p not in main)


@dataclass
class HoursLine:
    weekdays: tuple[int, ...]
    intervals: tuple[tuple[time, time], ...]


def hours_summary(unit: Unit) -> list[HoursLine]:
    """Regular weekly hours with consecutive days of equal hours merged (Mon–Fri 8–16)."""
    by_day: dict[int, list[tuple[time, time]]] = {}
    for oh in unit.opening_hours:
        by_day.setdefault(oh.weekday, []).append((oh.opens, oh.closes))
    lines: list[HoursLine] = []
    for day in sorted(by_day):
        intervals = tuple(sorted(by_day[day]))
        if lines and lines[-1].intervals == intervals and lines[-1].weekdays[-1] == day - 1:
            lines[-1] = HoursLine((*lines[-1].weekdays, day), intervals)
        else:
            lines.append(HoursLine((day,), intervals))
    return lines


def fmt_clock(value: time) -> str:
    return f"{value.hour}.{value.minute:02d}" if value.minute else str(value.hour)
