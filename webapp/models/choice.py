"""Residents (pseudonymous) and their choices."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base


class Resident(Base):
    """Only what the rules need. `key` is an HMAC of the henkilötunnus with a secret; the
    henkilötunnus itself is never stored."""

    __tablename__ = "resident"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    birth_date: Mapped[date] = mapped_column(Date)
    home_municipality_code: Mapped[str] = mapped_column(ForeignKey("municipality.code"))
    in_institutional_care: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Choice(Base):
    __tablename__ = "choice"
    __table_args__ = (
        Index("ix_choice_resident_element", "resident_id", "pilot_id", "element"),
        # At most one pending and one active choice per resident, pilot and element (migration 0015).
        Index("uq_choice_one_pending", "resident_id", "pilot_id", "element", unique=True,
              sqlite_where=text("status = 'pending'"), postgresql_where=text("status = 'pending'")),
        Index("uq_choice_one_active", "resident_id", "pilot_id", "element", unique=True,
              sqlite_where=text("status = 'active'"), postgresql_where=text("status = 'active'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    element: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # pending | active | ended | cancelled
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web | paper | queue
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # One submitted confirmation form creates at most one choice (double submit, reload).
    request_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_on: Mapped[date] = mapped_column(Date)
    effective_from: Mapped[date] = mapped_column(Date)
    binding_until: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    previous_choice_id: Mapped[int | None] = mapped_column(ForeignKey("choice.id"))
    # False for a switch from a waiting list when the pilot says such a switch neither counts against
    # the switch limit nor starts a lock-in (PilotElement.waiting_counts_as_switch).
    counts_as_switch: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    unit = relationship("Unit", lazy="joined")
    resident = relationship("Resident")
