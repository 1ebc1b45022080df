"""Server-side sign-in sessions, shared by every node through the database.

The cookie carries only a random token (in Flask's signed session); the `login_session` row holds its
SHA-256, who is signed in and when the session ends. Ending the row (sign-out, "sign out everywhere",
an administrator) ends the session on every node at once, and a copied cookie stops working.
Plain functions of a SQLAlchemy session; the caller commits.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select, update
from sqlalchemy.orm import Session

from webapp.models import LoginSession

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)  # SQLite drops the zone


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(sess: Session, kind: str, *, max_hours: int, resident_id: int | None = None,
          staff_user_id: int | None = None, display_name: str = "") -> str:
    """A new session row; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    now = _now()
    sess.add(LoginSession(token_hash=token_hash(token), kind=kind, resident_id=resident_id,
                          staff_user_id=staff_user_id, display_name=display_name[:200], created_at=now,
                          last_seen_at=now, ends_at=now + timedelta(hours=max_hours)))
    return token


def lookup(sess: Session, kind: str, token: str | None, idle_minutes: int) -> LoginSession | None:
    """The live session for `token`, or None when there is none, it was ended, it idled longer than
    `idle_minutes` or it reached its end. Notes the visit (at most once a minute; the caller commits)."""
    if not token or not isinstance(token, str):
        return None
    row = sess.scalar(select(LoginSession).where(LoginSession.token_hash == token_hash(token),
                                                 LoginSession.kind == kind))
    if row is None or row.ended_at is not None:
        return None
    now = _now()
    if now >= _aware(row.ends_at) or now - _aware(row.last_seen_at) > timedelta(minutes=idle_minutes):
        return None
    if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end(sess: Session, kind: str, token: str | None) -> None:
    if token and isinstance(token, str):
        sess.execute(update(LoginSession).where(LoginSession.token_hash == token_hash(token), LoginSession.kind == kind,
                                                LoginSession.ended_at.is_(None)).values(ended_at=_now()))


def end_staff_sessions(sess: Session, staff_user_id: int) -> int:
    """End every session of a staff member (sign out everywhere; an administrator's action)."""
    result = sess.execute(update(LoginSession).where(LoginSession.staff_user_id == staff_user_id,
                                                     LoginSession.ended_at.is_(None)).values(ended_at=_now()))
    return cast(CursorResult[Any], result).rowcount or 0


def live_staff_sessions(sess: Session, idle_minutes: int) -> dict[int, int]:
    """Staff user id -> number of sessions still in use."""
    now = _now()
    rows = sess.execute(select(LoginSession.staff_user_id, func.count())
                        .where(LoginSession.kind == "staff", LoginSession.ended_at.is_(None),
                               LoginSession.ends_at > now,
                               LoginSession.last_seen_at > now - timedelta(minutes=idle_minutes))
                        .group_by(LoginSession.staff_user_id))
    return {uid: count for uid, count in rows if uid is not None}


def purge(sess: Session, idle_minutes: int) -> int:
    """Delete ended, expired and idle sessions (with the names they held)."""
    now = _now()
    result = sess.execute(delete(LoginSession).where(or_(
        LoginSession.ended_at.is_not(None), LoginSession.ends_at < now,
        LoginSession.last_seen_at < now - timedelta(minutes=idle_minutes))))
    return cast(CursorResult[Any], result).rowcount or 0
