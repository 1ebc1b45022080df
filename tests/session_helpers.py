"""Move the clock of the server-side sign-in sessions (the cookie holds only a token)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from webapp.models import LoginSession
from webapp.web import db


def age_sessions(app, kind: str, *, seen_seconds_ago: float | None = None, ended: bool = False) -> None:
    """Pretend the `kind` sessions were last used `seen_seconds_ago` ago, or reached their maximum lifetime."""
    now = datetime.now(UTC)
    values: dict = {}
    if seen_seconds_ago is not None:
        values["last_seen_at"] = now - timedelta(seconds=seen_seconds_ago)
    if ended:
        values["ends_at"] = now - timedelta(seconds=1)
    with app.app_context():
        sess = db.session()
        sess.execute(update(LoginSession).where(LoginSession.kind == kind).values(**values))
        sess.commit()
