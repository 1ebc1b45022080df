"""Loading the units behind search hits, and small display helpers shared by the page and the API."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from webapp.models import Postcode, QueueTime, Unit
from webapp.vocab import PROFESSIONS_BY_ELEMENT



def load_units(sess: Session, ids: Iterable[int], full: bool = False) -> dict[int, Unit]:
    """Visible units by id (hidden and unknown ids are left out).

    Without `full`, queue-time history and opening hours are loaded only if touched (use `latest_t3` for the
    newest T3 values): a result page needs 20 units, not their 250 history rows."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    options = [selectinload(Unit.services), selectinload(Unit.languages), selectinload(Unit.accessibility_facts)]
    if full:
        options += [selectinload(Unit.queue_times), selectinload(Unit.opening_hours)]
    else:
        options += [lazyload(Unit.queue_times), lazyload(Unit.opening_hours), lazyload(Unit.opening_exceptions)]
    stmt = select(Unit).where(Unit.id.in_(wanted), Unit.is_hidden.is_(False)).options(*options)
    return {u.id: u for u in sess.scalars(stmt).unique()}


@dataclass(frozen=True)
class LatestT3:
    t3_days: int
    measured_on: date


def latest_t3(sess: Session, ids: Iterable[int]) -> dict[int, dict[str, LatestT3]]:
    """The newest T3 per profession of each unit, read without loading the history as objects."""
    wanted = sorted(set(ids))
    out: dict[int, dict[str, LatestT3]] = {i: {} for i in wanted}
    if not wanted:
        return out
    rows = sess.execute(select(QueueTime.unit_id, QueueTime.profession, QueueTime.t3_days, QueueTime.measured_on)
                        .where(QueueTime.unit_id.in_(wanted)))
    for uid, profession, days, measured in rows:
        current = out[uid].get(profession)
        if current is None or measured >= current.measured_on:
            out[uid][profession] = LatestT3(days, measured)
    return out


def postcode_names(sess: Session, codes: Iterable[str]) -> dict[str, Postcode]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {p.code: p for p in sess.scalars(select(Postcode).where(Postcode.code.in_(wanted)))}


def professions_for(unit: Unit, latest: dict | None = None) -> tuple[str, ...]:
    """The professions whose T3 is shown for this unit: its element's, and any others measured."""
    main = PROFESSIONS_BY_ELEMENT.get(unit.element, ())
    measured = latest if latest is not None else unit.latest_queue_times()
    others = tuple(p for p in sorted(measured) if p not in main)
    return main + others


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
            lines[-1] = HoursLine(lines[-1].weekdays + (day,), intervals)
        else:
            lines.append(HoursLine((day,), intervals))
    return lines


def fmt_clock(value: time) -> str:
    return f"{value.hour}.{value.minute:02d}" if value.minute else str(value.hour)

