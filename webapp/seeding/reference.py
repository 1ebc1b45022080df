"""Municipalities, postcodes and pilots from seed/. Safe to run again: rows are upserted by key."""
from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.config import ROOT
from webapp.models import Municipality, Pilot, PilotElement, PilotMunicipality, Postcode

SEED = ROOT / "seed"


def _float(value: str) -> float | None:
    return float(value) if value else None


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def load_municipalities(sess: Session, path: Path = SEED / "fi_municipalities.csv") -> int:
    existing = {m.code: m for m in sess.scalars(select(Municipality))}
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            m = existing.get(row["code"]) or Municipality(code=row["code"])
            m.name_fi, m.name_sv = row["name_fi"], row["name_sv"]
            m.region_code, m.region_fi, m.region_sv = row["region_code"], row["region_fi"], row["region_sv"]
            m.language_ratio_code = int(row["language_ratio_code"] or 1)
            m.lat, m.lon = _float(row["lat"]), _float(row["lon"])
            sess.add(m)
    sess.flush()
    return len(existing)


def load_postcodes(sess: Session, path: Path = SEED / "fi_postcodes.csv") -> None:
    existing = set(sess.scalars(select(Postcode.code)))
    rows = []
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["postcode"] in existing:
                continue
            rows.append(Postcode(code=row["postcode"], name_fi=row["name_fi"].title(), name_sv=row["name_sv"].title(),
                                 type_code=int(row["type_code"]), municipality_code=row["municipality_code"],
                                 lat=_float(row["lat"]), lon=_float(row["lon"])))
    sess.add_all(rows)
    sess.flush()


PILOT_FIELDS = ("name_fi", "name_sv", "lead_municipality_code", "lead_organisation_fi", "lead_organisation_sv",
                "summary_fi", "summary_sv", "population_min", "population_max", "funding_eur",
                "source_document", "source_title", "demo_fields")
DATE_FIELDS = ("starts_on", "ends_on", "choice_opens_on", "choice_closes_on")
RULE_FIELDS = ("min_age", "excluded_in_institutional_care", "allow_other_pilot_municipality", "lock_in_months",
               "max_switches_per_12_months", "notice_days", "effective", "capitation_eur_per_month", "demo_fields")


def load_pilots(sess: Session, path: Path = SEED / "pilots.json") -> list[Pilot]:
    data = json.loads(path.read_text(encoding="utf-8"))
    pilots = []
    for record in data["pilots"]:
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == record["slug"])) or Pilot(slug=record["slug"])
        for field in PILOT_FIELDS:
            setattr(pilot, field, record.get(field))
        for field in DATE_FIELDS:
            setattr(pilot, field, _date(record.get(field)))
        lead = sess.get(Municipality, record["lead_municipality_code"])
        if lead is None:  # pilots.json names a municipality that fi_municipalities.csv lacks
            raise ValueError(f"pilot {record['slug']}: unknown lead municipality {record['lead_municipality_code']}")
        pilot.region_fi, pilot.region_sv = lead.region_fi, lead.region_sv
        wanted = set(record["municipalities"])
        pilot.municipalities = [m for m in pilot.municipalities if m.municipality_code in wanted] + [
            PilotMunicipality(municipality_code=code) for code in sorted(wanted - pilot.municipality_codes)]
        elements = {e.element: e for e in pilot.elements}
        pilot.elements = []
        for position, spec in enumerate(record["elements"]):
            element = elements.get(spec["element"]) or PilotElement(element=spec["element"])
            element.position = position
            for field in RULE_FIELDS:
                if field in spec:
                    setattr(element, field, spec[field])
            pilot.elements.append(element)
        sess.add(pilot)
        pilots.append(pilot)
    sess.flush()
    return pilots


def load_reference_data(sess: Session) -> list[Pilot]:
    load_municipalities(sess)
    load_postcodes(sess)
    return load_pilots(sess)
