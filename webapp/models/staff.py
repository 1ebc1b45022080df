"""Staff accounts, the audit log and rate-limit counters."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import Base

ROLES = ("admin", "pilot_manager", "provider_editor", "auditor")


class StaffUser(Base):
    __tablename__ = "staff_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    pilot_id: Mapped[int | None] = mapped_column(ForeignKey("pilot.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("provider.id"))
    language: Mapped[str] = mapped_column(String(2), default="fi")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEvent(Base):
    """Who did what and when, with values before and after. Never holds a henkilötunnus."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor_type: Mapped[str] = mapped_column(String(10))  # staff | resident | system
    actor_id: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    pilot_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reasons: Mapped[list[str] | None] = mapped_column(JSON)


class RateLimitHit(Base):
    """Fixed-window counters shared by all worker processes through the database."""

    __tablename__ = "rate_limit_hit"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    # When the window ends (Unix seconds): rows past it are purged by `flask purge-expired`.
    expires_at: Mapped[int] = mapped_column(Integer, default=0, server_default="0", index=True)
