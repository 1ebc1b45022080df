"""Waiting lists for full units, the residents' messages (inbox) and the e-mail outbox."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.core.db import Base

WAITING_STATUSES = ("waiting", "promoted", "left", "replaced", "expired", "removed")


class WaitingEntry(Base):
    """A resident's place in a unit's waiting list; first come, first served in `id` order
    (entries are only ever added under the unit's row lock, so ids follow arrival order)."""

    __tablename__ = "waiting_entry"
    __table_args__ = (
        Index("ix_waiting_entry_unit_status", "unit_id", "status", "id"),
        # One waiting list per resident, pilot and element at a time.
        Index("uq_waiting_entry_one_per_element", "resident_id", "pilot_id", "element", unique=True,
              sqlite_where=text("status = 'waiting'"), postgresql_where=text("status = 'waiting'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"))
    element: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10))  # see WAITING_STATUSES
    channel: Mapped[str] = mapped_column(String(8), default="web")  # web | paper
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    request_token: Mapped[str] = mapped_column(String(64), unique=True)
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    joined_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)  # the last day on the list
    ended_on: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(40))
    choice_id: Mapped[int | None] = mapped_column(ForeignKey("choice.id"))  # the switch it became
    last_skip: Mapped[str | None] = mapped_column(String(200))  # reason codes of the latest skip

    unit = relationship("Unit", lazy="joined")


class Message(Base):
    """A notice in the resident's inbox. Stored as a kind and parameters, written out in the
    reader's language when shown (or e-mailed)."""

    __tablename__ = "resident_message"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # promoted | skipped | expired | left | removed
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeAddress(Base):
    """The resident's optional e-mail address for notices, used only once verified by a link."""

    __tablename__ = "notice_address"
    resident_id: Mapped[int] = mapped_column(ForeignKey("resident.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OutboxMail(Base):
    """An e-mail waiting to be sent; a failed send is retried later (`flask send-notices`)."""

    __tablename__ = "outbox_mail"
    __table_args__ = (Index("ix_outbox_mail_due", "sent_at", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    # Either a message of the inbox (written out in `language` when sent) or a ready text (verification).
    message_id: Mapped[int | None] = mapped_column(ForeignKey("resident_message.id"))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    gave_up: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(String(300))
