"""A pilot's figures: listed customers per unit and month, by age group, and the capitation basis.

A choice counts as listed in a month when it is in force on at least one day of that month:
not cancelled, effective_from on or before the month's last day, and ended_on (the first day it
no longer applies) after the month's first day. Age is taken on the first day of the month.
The capitation basis is the pilot element's capitation (€/month) × listed customer-months.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dateutil.relativedelta import relativedelta
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.choice.rules import age_on
from webapp.models import Choice, Pilot, Resident, Unit, WaitingEntry

AGE_GROUPS = (("0-17", 0, 17), ("18-29", 18, 29), ("30-44", 30, 44), ("45-64", 45, 64), ("65-74", 65, 74),
              ("75+", 75, 200))


def age_group(age: int) -> str:
    return next(name for name, low, high in AGE_GROUPS if low <= age <= high)


@dataclass
class UnitFigures:
    unit: Unit
    listed: dict[date, int] = field(default_factory=dict)
    by_age: dict[date, dict[str, int]] = field(default_factory=dict)
    rate: int | None = None
    basis: dict[date, int] = field(default_factory=dict)
    queued: dict[date, int] = field(default_factory=dict)  # waiting-list entries on the list in the month


@dataclass
class PilotFigures:
    pilot: Pilot
    year: int
    months: list[date]
    units: list[UnitFigures]
    rates: dict[str, tuple[int | None, bool]]  # element -> (€/month, is demo value)

    def month_total(self, month: date) -> int:
        return sum(u.listed.get(month, 0) for u in self.units)

    def month_by_age(self, month: date) -> dict[str, int]:
        out = {name: 0 for name, _l, _h in AGE_GROUPS}
        for u in self.units:
            for name, n in u.by_age.get(month, {}).items():
                out[name] += n
        return out

    def month_basis(self, month: date) -> int:
        return sum(u.basis.get(month, 0) for u in self.units)

    @property
    def total_basis(self) -> int:
        return sum(self.month_basis(m) for m in self.months)

    @property
    def any_demo_rate(self) -> bool:
        return any(demo for _rate, demo in self.rates.values())


def pilot_figures(sess: Session, pilot: Pilot, year: int, today: date) -> PilotFigures:
    last_month = 12 if year < today.year else (today.month if year == today.year else 0)
    months = [date(year, m, 1) for m in range(1, last_month + 1)]
    rates = {e.element: (e.capitation_eur_per_month, e.is_demo("capitation_eur_per_month")) for e in pilot.elements}
    units = sess.scalars(select(Unit).where(Unit.pilot_id == pilot.id).order_by(Unit.element, Unit.name_fi, Unit.id)
                         ).unique().all()
    figures = {u.id: UnitFigures(unit=u, rate=rates.get(u.element, (None, False))[0]) for u in units}
    if months:
        start, end = months[0], months[-1] + relativedelta(months=1)
        rows = sess.execute(
            select(Choice.unit_id, Choice.effective_from, Choice.ended_on, Resident.birth_date)
            .join(Resident, Resident.id == Choice.resident_id)
            .where(Choice.pilot_id == pilot.id, Choice.status != "cancelled", Choice.effective_from < end,
                   or_(Choice.ended_on.is_(None), Choice.ended_on > start))).all()
        for unit_id, effective_from, ended_on, birth_date in rows:
            fig = figures.get(unit_id)
            if fig is None:
                continue
            for month in months:
                month_end = month + relativedelta(months=1)
                if effective_from < month_end and (ended_on is None or ended_on > month):
                    fig.listed[month] = fig.listed.get(month, 0) + 1
                    group = age_group(age_on(birth_date, month))
                    fig.by_age.setdefault(month, {})
                    fig.by_age[month][group] = fig.by_age[month].get(group, 0) + 1
    if months:
        _count_queued(sess, pilot, months, figures)
    for fig in figures.values():
        if fig.rate is not None:
            fig.basis = {m: n * fig.rate for m, n in fig.listed.items()}
    return PilotFigures(pilot=pilot, year=year, months=months, units=list(figures.values()), rates=rates)


def _count_queued(sess: Session, pilot: Pilot, months: list[date], figures: dict[int, UnitFigures]) -> None:
    """An entry counts in a month when it was on the list on at least one day of it (it is on the list
    from joined_on through ended_on, the day it left, or to today while it is still waiting)."""
    start, end = months[0], months[-1] + relativedelta(months=1)
    rows = sess.execute(select(WaitingEntry.unit_id, WaitingEntry.joined_on, WaitingEntry.ended_on).where(
        WaitingEntry.pilot_id == pilot.id, WaitingEntry.joined_on < end,
        or_(WaitingEntry.ended_on.is_(None), WaitingEntry.ended_on >= start))).all()
    for unit_id, joined_on, ended_on in rows:
        fig = figures.get(unit_id)
        if fig is None:
            continue
        for month in months:
            if joined_on < month + relativedelta(months=1) and (ended_on is None or ended_on >= month):
                fig.queued[month] = fig.queued.get(month, 0) + 1


CsvCell = str | int  # csv_text writes each cell as str(cell)


def csv_rows(result: PilotFigures) -> list[list[CsvCell]]:
    header: list[CsvCell] = [
        "unit_id", "unit", "element", "month", "listed_customers", *[f"age_{n}" for n, _l, _h in AGE_GROUPS],
        "capitation_eur_per_month", "capitation_is_demo_value", "capitation_basis_eur", "waiting_list_entries"]
    rows = [header]
    for fig in result.units:
        rate, demo = result.rates.get(fig.unit.element, (None, False))
        for month in result.months:
            ages = fig.by_age.get(month, {})
            rows.append([fig.unit.id, fig.unit.name_fi, fig.unit.element, month.strftime("%Y-%m"),
                         fig.listed.get(month, 0), *[ages.get(n, 0) for n, _l, _h in AGE_GROUPS],
                         "" if rate is None else rate, "yes" if demo else "no",
                         "" if rate is None else fig.basis.get(month, 0), fig.queued.get(month, 0)])
    return rows
