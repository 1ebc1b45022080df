"""Operational tables: the search-index change log and the server-side sign-in sessions."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from webapp.core.db import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
LogId = BigInteger().with_variant(Integer(), "sqlite")


class IndexChange(Base):
    """One committed transaction that changed what search shows. `id` increases with every row (the log's
    sequence); `unit_ids` is a space-separated list of the changed units, or NULL for "everything"
    (seed, pilots, providers, municipalities: every node rebuilds its index)."""

    __tablename__ = "index_change"
    id: Mapped[int] = mapped_column(LogId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    unit_ids: Mapped[str | None] = mapped_column(Text)


class LoginSession(Base):
    """A signed-in resident or staff member. The cookie holds only a random token; this row holds its
    SHA-256, so a copied cookie stops working on every node as soon as the row is ended."""

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # resident | staff
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("resident.id", ondelete="CASCADE"), index=True)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    # The name from the identification, shown in the header; deleted with the row when the session is purged.
    display_name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
