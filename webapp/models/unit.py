"""Providers and their units, with services, languages, accessibility, hours and queue times."""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (Boolean, Date, DateTime, Float, ForeignKey, Integer, SmallInteger, String, Text,
                        Time, UniqueConstraint, func)
from sqlalchemy.orm import Mapped, mapped_column, relationship, selectinload

from webapp.db import Base


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

    provider: Mapped[Provider] = relationship(back_populates="units", lazy="joined")
    pilot = relationship("Pilot", lazy="joined")
    municipality = relationship("Municipality", lazy="joined")
    # Collections load when first touched; a page or list that needs them asks for them in its query with
    # `with_collections()` (one statement per collection, however many units), so nothing is read that the
    # page does not show and a list never makes a query per unit.
    services: Mapped[list[UnitService]] = relationship(cascade="all, delete-orphan", lazy="select")
    languages: Mapped[list[UnitLanguage]] = relationship(cascade="all, delete-orphan", lazy="select")
    features: Mapped[list[UnitFeature]] = relationship(cascade="all, delete-orphan", lazy="select")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="(OpeningHours.weekday, OpeningHours.opens)")
    opening_exceptions: Mapped[list[OpeningException]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="OpeningException.day")
    queue_times: Mapped[list[QueueTime]] = relationship(
        cascade="all, delete-orphan", lazy="select", order_by="(QueueTime.profession, QueueTime.measured_on)")

    __mapper_args__ = {"version_id_col": version}

    def name(self, lang: str) -> str:
        return self.name_sv if lang == "sv" and self.name_sv else self.name_fi

    @property
    def service_codes(self) -> list[str]:
        return sorted(s.code for s in self.services)

    @property
    def language_codes(self) -> list[str]:
        return sorted(s.code for s in self.languages)

    @property
    def feature_codes(self) -> list[str]:
        return sorted(s.code for s in self.features)

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


COLLECTIONS = ("services", "languages", "features", "opening_hours", "opening_exceptions", "queue_times")


def with_collections(*names: str) -> list:
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


class UnitFeature(Base):
    __tablename__ = "unit_feature"
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(40), primary_key=True)


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


class QueueTime(Base):
    """T3: days to the third free non-urgent appointment, per profession; history is kept."""

    __tablename__ = "queue_time"
    __table_args__ = (UniqueConstraint("unit_id", "profession", "measured_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    profession: Mapped[str] = mapped_column(String(30))
    t3_days: Mapped[int] = mapped_column(Integer)
    measured_on: Mapped[date] = mapped_column(Date)
