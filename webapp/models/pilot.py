"""A freedom-of-choice pilot, its municipalities and its choice rules per element."""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base


class Pilot(Base):
    __tablename__ = "pilot"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200))
    region_fi: Mapped[str] = mapped_column(String(80))
    region_sv: Mapped[str] = mapped_column(String(80))
    lead_municipality_code: Mapped[str | None] = mapped_column(ForeignKey("municipality.code"))
    lead_organisation_fi: Mapped[str | None] = mapped_column(String(200))
    lead_organisation_sv: Mapped[str | None] = mapped_column(String(200))
    summary_fi: Mapped[str] = mapped_column(Text, default="")
    summary_sv: Mapped[str] = mapped_column(Text, default="")
    population_min: Mapped[int | None] = mapped_column(Integer)
    population_max: Mapped[int | None] = mapped_column(Integer)
    funding_eur: Mapped[int | None] = mapped_column(BigInteger)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # The pilots ran 2017-2022; this demo reopens a choice window, labelled as demo data.
    choice_opens_on: Mapped[date | None] = mapped_column(Date)
    choice_closes_on: Mapped[date | None] = mapped_column(Date)
    source_document: Mapped[str] = mapped_column(String(200), default="")
    source_title: Mapped[str] = mapped_column(String(300), default="")
    demo_fields: Mapped[str] = mapped_column(String(300), default="")  # comma-separated field names

    municipalities: Mapped[list[PilotMunicipality]] = relationship(
        back_populates="pilot", cascade="all, delete-orphan", order_by="PilotMunicipality.municipality_code"
    )
    elements: Mapped[list[PilotElement]] = relationship(
        back_populates="pilot", cascade="all, delete-orphan", order_by="PilotElement.position"
    )

    def name(self, lang: str) -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name_fi

    @property
    def municipality_codes(self) -> frozenset[str]:
        return frozenset(m.municipality_code for m in self.municipalities)

    def element(self, code: str) -> PilotElement | None:
        return next((e for e in self.elements if e.element == code), None)

    def is_demo(self, field: str) -> bool:
        return field in {f.strip() for f in self.demo_fields.split(",") if f.strip()}


class PilotMunicipality(Base):
    __tablename__ = "pilot_municipality"

    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id", ondelete="CASCADE"), primary_key=True)
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"), primary_key=True)

    pilot: Mapped[Pilot] = relationship(back_populates="municipalities")
    municipality = relationship("Municipality", lazy="joined")


class PilotElement(Base):
    """One element of a pilot with its choice rules (docs/domain.md §3); rules are data, not code."""

    __tablename__ = "pilot_element"
    __table_args__ = (UniqueConstraint("pilot_id", "element"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id", ondelete="CASCADE"), index=True)
    element: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    min_age: Mapped[int] = mapped_column(Integer, default=18)
    excluded_in_institutional_care: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_other_pilot_municipality: Mapped[bool] = mapped_column(Boolean, default=True)
    lock_in_months: Mapped[int] = mapped_column(Integer, default=12)
    max_switches_per_12_months: Mapped[int] = mapped_column(Integer, default=1)
    notice_days: Mapped[int] = mapped_column(Integer, default=21)
    effective: Mapped[str] = mapped_column(String(20), default="next_month_start")
    capitation_eur_per_month: Mapped[int | None] = mapped_column(Integer)
    # Waiting lists (webapp/choice/waiting_rules.py): whether the element's units keep one, how many months an
    # entry lasts, whether a switch from the list counts against the limit and starts a lock-in, whether a
    # unit that is not taking new customers still lets a queue form, and whether a resident skipped for a
    # reason that passes with time keeps their place.
    waiting_list_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    waiting_months: Mapped[int] = mapped_column(Integer, default=6, server_default="6")
    waiting_counts_as_switch: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    waiting_when_not_accepting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    waiting_keep_when_skipped: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    # Which of the values above are demo values not found in the source documents.
    demo_fields: Mapped[str] = mapped_column(String(300), default="")

    pilot: Mapped[Pilot] = relationship(back_populates="elements")

    def is_demo(self, field: str) -> bool:
        return field in {f.strip() for f in self.demo_fields.split(",") if f.strip()}
