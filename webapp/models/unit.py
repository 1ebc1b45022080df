"""Providers and their units, with services, languages, accessibility, hours and queue times."""
from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from webapp.core.db import Base


class Provider(Base):
    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    y_tunnus: Mapped[str] = mapped_column(String(9), unique=True)
    sector: Mapped[str] = mapped_column(String(10))  # public | private | third
    website: Mapped[str | None] = mapped_column(String(300))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=True)

    units: Mapped[list[Unit]] = relationship(back_populates="provider")


class Unit(Base):
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    element: Mapped[str] = mapped_column(String(20), index=True)
    name_fi: Mapped[str] = mapped_column(String(200))
    name_sv: Mapped[str] = mapped_column(String(200), default="")
    description_fi: Mapped[str] = mapped_column(Text, default="")
    description_sv: Mapped[str] = mapped_column(Text, default="")
    accessibility_note_fi: Mapped[str] = mapped_column(Text, default="", server_default="")
    accessibility_note_sv: Mapped[str] = mapped_column(Text, default="", server_default="")
    accessibility_note_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    street_fi: Mapped[str] = mapped_column(String(200))
    street_sv: Mapped[str] = mapped_column(String(200), default="")
    postcode: Mapped[str] = mapped_column(ForeignKey("postcode.code"))
    municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int | None] = mapped_column(Integer)
    listed_count: Mapped[int] = mapped_column(Integer, default=0)
    accepting_new: Mapped[bool] = mapped_column(Boolean, default=True)
    # Residents on the unit's waiting list (status 'waiting'), kept with the list like listed_count.
    waiting_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Staff let a waiting list form while the unit is not taking new customers.
    waiting_when_closed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The PTV service channel (a GUID) the unit was imported from: later imports find the unit by it,
    # even after a rename. Unique where set (NULLs are distinct in SQLite and PostgreSQL).
    ptv_id: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)
    ptv_imported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    provider: Mapped[Provider] = relationship(back_populates="units", lazy="joined")
    pilot = relationship("Pilot", lazy="joined")
    municipality = relationship("Municipality", lazy="joined")
    # Collections load when first touched; a page or list that needs them asks for them in its query with
    # `with_collections()` (one statement per collection, however many units), so nothing is read that the
    # page does not show and a list never makes a query per unit.
    services: Mapped[list[UnitService]] = relationship(cascade="all, delete-orphan", lazy="select")
    languages: Mapped[list[UnitLanguage]] = relationship(cascade="all, delete-orphan", lazy="select")
    accessibility_facts: Mapped[list[UnitAccessibilityFact]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="UnitAccessibilityFact.code")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="(OpeningHours.weekday, OpeningHours.opens)")
    opening_exceptions: Mapped[list[OpeningException]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="OpeningException.day")
    queue_times: Mapped[list[QueueTime]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="(QueueTime.profession, QueueTime.measured_on)")
    accessibility_sentences: Mapped[list[AccessibilitySentence]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="AccessibilitySentence.position")

    # ClassVar would clash with DeclarativeBase's own (instance) declaration of __mapper_args__.
    __mapper_args__: Any = {"version_id_col": version}  # noqa: RUF012
    # The counters' ranges (migration 0015; on SQLite triggers of the same names).
    __table_args__ = (
        CheckConstraint("listed_count >= 0 AND (capacity IS NULL OR listed_count <= capacity)",
                        name="ck_unit_listed_count_within_capacity"),
        CheckConstraint("waiting_count >= 0", name="ck_unit_waiting_count_not_negative"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="ck_unit_capacity_not_negative"),
    )

    def name(self, lang: str) -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name_fi

    @property
    def service_codes(self) -> list[str]:
        return sorted(s.code for s in self.services)

    @property
    def language_codes(self) -> list[str]:
        return sorted(s.code for s in self.languages)

    @property
    def accessibility(self) -> dict[str, bool]:
        """Known accessibility facts: code -> yes (True) / no (False); a code not in it is not known."""
        return {f.code: f.value for f in self.accessibility_facts}

    def set_accessibility(self, facts: dict[str, bool | None]) -> None:
        """Replace the facts; None (not known) stores no row. Rows whose value is unchanged are kept."""
        wanted = {c: v for c, v in facts.items() if v is not None}
        kept = [f for f in self.accessibility_facts if f.code in wanted]
        for f in kept:
            f.value = wanted[f.code]
        have = {f.code for f in kept}
        self.accessibility_facts = kept + [UnitAccessibilityFact(code=c, value=v)
                                           for c, v in sorted(wanted.items()) if c not in have]

    @property
    def feature_codes(self) -> list[str]:
        """The accessibility facts known to be present (yes)."""
        return sorted(f.code for f in self.accessibility_facts if f.value)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.listed_count >= self.capacity

    @property
    def free_places(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.listed_count, 0)

    def latest_queue_times(self) -> dict[str, QueueTime]:
        """The newest measurement per profession."""
        latest: dict[str, QueueTime] = {}
        for qt in self.queue_times:
            if qt.profession not in latest or qt.measured_on >= latest[qt.profession].measured_on:
                latest[qt.profession] = qt
        return latest


COLLECTIONS = ("services", "languages", "accessibility_facts", "opening_hours", "opening_exceptions", "queue_times",
               "accessibility_sentences")


def with_collections(*names: str) -> list[Any]:
    """Loader options that read the named collections of the selected units (all of them by default)."""
    return [selectinload(getattr(Unit, name)) for name in (names or COLLECTIONS)]


class UnitService(Base):
    __tablename__ = "unit_service"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


class UnitLanguage(Base):
    __tablename__ = "unit_language"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(8), primary_key=True)


class UnitAccessibilityFact(Base):
    """One known accessibility fact (vocab.ACCESSIBILITY_FACTS): value yes/no. No row = not known."""

    __tablename__ = "unit_accessibility_fact"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bool] = mapped_column(Boolean)


class OpeningHours(Base):
    """Regular weekly hours; weekday 0 = Monday. Several rows a day allow a lunch break."""

    __tablename__ = "opening_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class OpeningException(Base):
    """A day with other hours than usual, e.g. a public holiday; no times means closed."""

    __tablename__ = "opening_exception"
    __table_args__ = (UniqueConstraint("unit_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    opens: Mapped[time | None] = mapped_column(Time)
    closes: Mapped[time | None] = mapped_column(Time)
    note_fi: Mapped[str] = mapped_column(String(200), default="")
    note_sv: Mapped[str] = mapped_column(String(200), default="")


class AccessibilitySentence(Base):
    """One accessibility sentence from PTV (an entrance's), in its group, in each language PTV gave."""

    __tablename__ = "accessibility_sentence"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    group_fi: Mapped[str] = mapped_column(String(200), default="")
    group_sv: Mapped[str] = mapped_column(String(200), default="")
    group_en: Mapped[str] = mapped_column(String(200), default="")
    sentence_fi: Mapped[str] = mapped_column(Text, default="")
    sentence_sv: Mapped[str] = mapped_column(Text, default="")
    sentence_en: Mapped[str] = mapped_column(Text, default="")

    def texts(self) -> dict[str, tuple[str, str]]:
        """{language: (group, sentence)} for the languages the sentence has."""
        return {lang: (getattr(self, f"group_{lang}"), getattr(self, f"sentence_{lang}"))
                for lang in ("fi", "sv", "en") if getattr(self, f"sentence_{lang}")}


class QueueTime(Base):
    """T3: days to the third free non-urgent appointment, per profession; history is kept."""

    __tablename__ = "queue_time"
    __table_args__ = (UniqueConstraint("unit_id", "profession", "measured_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    profession: Mapped[str] = mapped_column(String(30))
    t3_days: Mapped[int] = mapped_column(Integer)
    measured_on: Mapped[date] = mapped_column(Date)
