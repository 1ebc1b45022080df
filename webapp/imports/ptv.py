"""The PTV format: service locations read into the rows of the import pipeline (webapp/imports/pipeline.py),
so they get the same dry run and all-or-none apply as the CSV import.

PTV does not say which pilot, provider (it has an organisation GUID, not a Y-tunnus) or element a
location belongs to: the caller (staff form or command) gives them for the whole import. A
location is matched to a unit by its PTV service-channel id (`Unit.ptv_id`), so a renamed
location updates the same unit; a unit without a PTV id yet is linked once by its Finnish name
(same pilot, provider and type). Only the fields PTV has are changed: services, capacity,
features and the rest stay as they are. Field shapes: webapp/imports/ptv_read.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from webapp.core.translation import gettext as _
from webapp.imports import ptv_read
from webapp.imports.accessibility_facts import facts_from_sentences
from webapp.imports.pipeline import Extra, Plan, RowError, RowInput, Source, dry_run, write_plan
from webapp.imports.ptv_read import PtvFileError, PtvLocation, PtvShapeError
from webapp.models import AccessibilitySentence, Pilot, Provider, StaffUser, Unit
from webapp.units.fields import fmt_coord
from webapp.units.vocab import ACCESSIBILITY_FACTS

__all__ = ["PTV", "PtvFileError", "PtvImport", "apply_import", "plan_import", "read_file_items"]

read_file_items = ptv_read.read_items


@dataclass
class PtvImport:
    """The dry run of a PTV import, and the units of the scope that PTV no longer lists."""
    plan: Plan
    locations: int
    missing: list[Unit] = field(default_factory=list)


# --- one location as a row ------------------------------------------------------------------------

def _row(loc: PtvLocation, pilot: Pilot, provider: Provider, element: str, unit: Unit | None) -> RowInput:
    notes = list(loc.notes)
    names, streets = dict(loc.names), dict(loc.streets)
    if "fi" not in names and names:
        names["fi"] = names.get("sv") or names["en"]
        notes.append(_("PTV has no Finnish name; the name in another language is used in Finnish too."))
    if "fi" not in streets and streets:
        streets["fi"] = streets.get("sv") or streets["en"]
    raw = {"id": str(unit.id) if unit is not None else "", "pilot": pilot.slug,
           "provider_ytunnus": provider.y_tunnus, "element": element,
           "name_fi": names.get("fi", ""), "name_sv": names.get("sv", ""),
           "description_fi": loc.descriptions.get("fi", ""), "description_sv": loc.descriptions.get("sv", ""),
           "street_fi": streets.get("fi", ""), "street_sv": streets.get("sv", ""),
           "postcode": loc.postcode, "municipality_code": loc.municipality_code,
           "lat": "", "lon": "", "phone": loc.phone, "email": loc.email, "website": loc.website,
           "languages": "|".join(loc.languages), "opening_hours": loc.opening_hours, "exceptions": loc.exceptions}
    if loc.coordinates is not None:
        raw["lat"], raw["lon"] = fmt_coord(loc.coordinates[0]), fmt_coord(loc.coordinates[1])
    elif unit is not None:
        raw["lat"], raw["lon"] = fmt_coord(unit.lat), fmt_coord(unit.lon)
        notes.append(_("PTV has no usable coordinates for the location; the unit keeps its current location."))
    else:
        notes.append(_("PTV has no usable coordinates for the location; "
                       "the centre of its postcode area (or municipality) is used."))
    sentences = [[s.group, s.text] for s in loc.sentences]
    facts = facts_from_sentences(t for s in loc.sentences for t in s.text.values())
    extra = {"ptv_id": loc.ptv_id, "sentences": sentences, "facts": facts}
    extra_diff: dict[str, tuple[str, str]] = {}
    if unit is not None:
        if unit.ptv_id != loc.ptv_id:
            extra_diff["ptv_id"] = (unit.ptv_id or "", loc.ptv_id)
        current = [[_texts(s, "group"), _texts(s, "sentence")] for s in unit.accessibility_sentences]
        if current != sentences:
            extra_diff["accessibility_sentences"] = (_sentences_summary(current), _sentences_summary(sentences))
        if merged_facts(unit, facts) != unit.accessibility:
            extra_diff["accessibility_facts"] = (_facts_summary(unit.accessibility),
                                                 _facts_summary(merged_facts(unit, facts)))
    return RowInput(loc.index, raw, label=loc.label, notes=notes, extra=extra, extra_diff=extra_diff)


def _texts(sentence: AccessibilitySentence, kind: str) -> dict[str, str]:
    return {lang: getattr(sentence, f"{kind}_{lang}") for lang in ptv_read.LANGUAGES
            if getattr(sentence, f"{kind}_{lang}")}


def _facts_summary(facts: dict[str, bool]) -> str:
    return ", ".join(f"{ACCESSIBILITY_FACTS.get(code, code)}: {_('yes') if value else _('no')}"
                     for code, value in sorted(facts.items()))


def _sentences_summary(sentences: Iterable[Iterable[Any]]) -> str:
    return " / ".join(text.get("fi") or text.get("sv") or text.get("en") or "" for _group, text in sentences)


# --- matching and planning -------------------------------------------------------------------------

def _scope_units(sess: Session, pilot: Pilot, provider: Provider, element: str) -> list[Unit]:
    return list(sess.scalars(select(Unit).where(Unit.pilot_id == pilot.id, Unit.provider_id == provider.id,
                                                Unit.element == element).order_by(Unit.id)).unique())


def plan_import(sess: Session, user: StaffUser | None, items: list[dict[str, Any]], pilot: Pilot, provider: Provider,
                element: str, today: date, *, report_missing: bool = False,
                progress: Callable[[int], None] | None = None) -> PtvImport:
    """The dry run for the service-location objects `items` (see ptv_read.read_items).

    With `report_missing`, units of the scope whose PTV id is not among the items are listed
    (they are never deleted). `progress(n)` is called after each location read."""
    scope = _scope_units(sess, pilot, provider, element)
    by_name = {u.name_fi: u for u in scope if u.ptv_id is None}
    inputs: list[RowInput] = []
    seen: set[str] = set()
    for index, item in enumerate(items, start=1):
        if progress is not None:
            progress(index)
        try:
            loc = ptv_read.read_location(index, item, today)
        except PtvShapeError as exc:
            label = str(item.get("id") or f"#{index}")
            inputs.append(RowInput(index, {}, [RowError(index, exc.args[0], _(
                "The service location is not in PTV's shape (field %(field)s); nothing was imported.",
                field=exc.args[0]), label)]))
            continue
        if not loc.ptv_id:
            inputs.append(RowInput(index, {}, [RowError(index, "id", _("The service location has no PTV id."),
                                                        loc.label)]))
            continue
        if loc.ptv_id in seen:
            inputs.append(RowInput(index, {}, [RowError(index, "id",
                                                        _("The service location is in the file more than once."),
                                                        loc.label)]))
            continue
        seen.add(loc.ptv_id)
        unit = sess.scalar(select(Unit).where(Unit.ptv_id == loc.ptv_id))
        linked_by_name = False
        if unit is None and loc.names.get("fi") in by_name:
            unit, linked_by_name = by_name.pop(loc.names["fi"]), True
        row = _row(loc, pilot, provider, element, unit)
        if linked_by_name and unit is not None:
            row.notes.append(_("Linked by its Finnish name to unit %(id)d, which had no PTV id yet.", id=unit.id))
        inputs.append(row)
    plan = dry_run(sess, user, inputs)
    missing = [u for u in scope if u.ptv_id and u.ptv_id not in seen] if report_missing else []
    return PtvImport(plan, len(items), missing)


# --- applying ----------------------------------------------------------------------------------------

def apply_extra(sess: Session, unit: Unit, extra: Extra) -> None:
    """Write what PTV carries besides the columns: identity, import time, sentences and facts."""
    unit.ptv_id = extra["ptv_id"]
    unit.ptv_imported_at = datetime.now(UTC)
    unit.accessibility_sentences = [
        AccessibilitySentence(position=i, **{f"group_{lang}": group.get(lang, "") for lang in ptv_read.LANGUAGES},
                              **{f"sentence_{lang}": text.get(lang, "") for lang in ptv_read.LANGUAGES})
        for i, (group, text) in enumerate(extra["sentences"])]
    write_facts(sess, unit, extra.get("facts") or {})


def merged_facts(unit: Unit | None, facts: dict[str, bool]) -> dict[str, bool]:
    """The unit's known facts after an import: what the sentences state replaces the value of that
    fact; facts the sentences say nothing about keep what staff entered (or stay unknown)."""
    return {**(unit.accessibility if unit is not None else {}), **facts}


def write_facts(sess: Session, unit: Unit, facts: dict[str, bool]) -> None:
    """Store the facts the sentences state in the structured accessibility facts."""
    unit.set_accessibility(dict(merged_facts(unit, facts)))


def touch_unchanged(sess: Session, plan: Plan) -> None:
    """Units PTV still describes the same way only get their import time, with a plain UPDATE that
    leaves their version alone (a nightly sync must not conflict with staff editing them)."""
    same = [c["unit_id"] for c in plan.unchanged]
    if same:
        sess.execute(update(Unit).where(Unit.id.in_(same)).values(ptv_imported_at=datetime.now(UTC)),
                     execution_options={"synchronize_session": False})


PTV = Source("ptv", apply_extra=apply_extra, after_apply=touch_unchanged)


def apply_import(sess: Session, user: StaffUser | None, plan: Plan) -> list[int]:
    """Write a valid PTV plan in the caller's transaction, without the locks and the import's own audit
    event (seeding a fixture); an import goes through pipeline.apply(..., PTV, ...)."""
    return write_plan(sess, user, plan, PTV)
