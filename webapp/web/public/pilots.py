"""Pilot list, pilot page (facts and choice rules in plain language) and the information pages for the
elements granted after a needs assessment (client voucher, personal budget)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from webapp.choice.adapters import rules_for
from webapp.choice.rules import effective_date
from webapp.core.collation import collation_key
from webapp.models import Pilot, Provider, Unit
from webapp.units.vocab import DIRECT_CHOICE_ELEMENTS
from webapp.web import db
from webapp.web.clock import today
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.web.public.blueprint import bp

# The Hyvinkää-led consortium of source 000 (Keski-Uusimaa): Hyvinkää, Järvenpää, Mäntsälä,
# Nurmijärvi, Pornainen, Tuusula. Pilot.demo_fields "municipalities_beyond_keski_uusimaa" marks the
# other municipalities of the Uusimaa pilot as demo values.
KESKI_UUSIMAA = frozenset({"106", "186", "505", "543", "611", "858"})

# URL part of the information page -> element code.
GRANTED_PAGES = {"client-voucher": "client_voucher", "personal-budget": "personal_budget"}
GRANTED_SLUGS = {v: k for k, v in GRANTED_PAGES.items()}

# Services a client voucher may cover (seed 004, "Asiakasseteli"): vocab.SERVICES codes.
CLIENT_VOUCHER_SERVICES = ("social_rehabilitation", "home_help", "home_nursing", "housing_services",
                           "work_activity", "dental_prosthetics")

@dataclass
class MunicipalityRow:
    code: str
    name: str
    is_demo: bool


def municipality_rows(pilot: Pilot, lang: str) -> list[MunicipalityRow]:
    all_demo = pilot.is_demo("municipalities")
    beyond = pilot.is_demo("municipalities_beyond_keski_uusimaa")
    rows = [MunicipalityRow(pm.municipality_code, pm.municipality.name(lang),
                            all_demo or (beyond and pm.municipality_code not in KESKI_UUSIMAA))
            for pm in pilot.municipalities]
    return sorted(rows, key=lambda r: collation_key(r.name))


def source_documents(pilot: Pilot) -> list[tuple[str, str]]:
    """(file name, title) pairs; the seed keeps both lists ';'-separated in the same order."""
    files = [f.strip() for f in (pilot.source_document or "").split(";") if f.strip()]
    titles = [t.strip() for t in (pilot.source_title or "").split(";")]
    return [(name, titles[i] if i < len(titles) else "") for i, name in enumerate(files)]


def all_unit_counts() -> dict[int, dict[str, int]]:
    """Visible units per pilot and element, for every pilot in one statement."""
    rows = db.session().execute(select(Unit.pilot_id, Unit.element, func.count(Unit.id))
                                .where(Unit.is_hidden.is_(False)).group_by(Unit.pilot_id, Unit.element))
    out: dict[int, dict[str, int]] = {}
    for pilot_id, element, count in rows:
        out.setdefault(pilot_id, {})[element] = count
    return out


def pilots_with_elements() -> list[Pilot]:
    return list(db.session().scalars(select(Pilot).options(selectinload(Pilot.elements))))


def unit_counts(pilot_id: int) -> dict[str, int]:
    rows = db.session().execute(
        select(Unit.element, func.count(Unit.id))
        .where(Unit.pilot_id == pilot_id, Unit.is_hidden.is_(False))
        .group_by(Unit.element)).all()
    return {element: count for element, count in rows}


def get_pilot(slug: str) -> Pilot:
    pilot = db.session().scalar(select(Pilot).where(Pilot.slug == slug))
    if pilot is None:
        raise UserError(_("There is no pilot called “%(slug)s”. See the list of pilots.", slug=slug[:60]), 404)
    return pilot


def example_effective(element) -> tuple[date, date]:  # noqa: ANN001
    """Today and the day a choice made today would take effect under the element's rules."""
    day = today()
    return day, effective_date(rules_for(element.pilot, element.element), day)


@bp.get("/pilots")
def pilots() -> ResponseReturnValue:
    lang = current_lang()
    all_pilots = pilots_with_elements()
    all_pilots = sorted(all_pilots, key=lambda p: collation_key(p.name(lang)))
    every = all_unit_counts()
    counts = {p.id: every.get(p.id, {}) for p in all_pilots}
    return render_template("public/pilots.html", pilots=all_pilots, counts=counts, granted_slugs=GRANTED_SLUGS,
                           direct_elements=DIRECT_CHOICE_ELEMENTS)


@bp.get("/pilots/<slug>")
def pilot(slug: str) -> ResponseReturnValue:
    p = get_pilot(slug)
    lang = current_lang()
    return render_template(
        "public/pilot.html", pilot=p, municipalities=municipality_rows(p, lang), sources=source_documents(p),
        counts=unit_counts(p.id), direct=[e for e in p.elements if e.element in DIRECT_CHOICE_ELEMENTS],
        granted=[e for e in p.elements if e.element in GRANTED_SLUGS], granted_slugs=GRANTED_SLUGS,
        example_effective=example_effective, today=today())


@bp.get("/pilots/<slug>/<any('client-voucher','personal-budget'):kind>")
def pilot_granted(slug: str, kind: str) -> ResponseReturnValue:
    p = get_pilot(slug)
    element = GRANTED_PAGES[kind]
    if p.element(element) is None:
        message = (_("The client voucher is not part of this pilot.") if element == "client_voucher"
                   else _("The personal budget is not part of this pilot."))
        raise UserError(message, 404)
    units = db.session().scalars(
        select(Unit).join(Provider)
        .where(Unit.pilot_id == p.id, Unit.element == element, Unit.is_hidden.is_(False))
        .order_by(Provider.name, Unit.name_fi)).all()
    return render_template("public/pilot_granted.html", pilot=p, element=element, units=units,
                           services=CLIENT_VOUCHER_SERVICES, municipalities=municipality_rows(p, current_lang()))
