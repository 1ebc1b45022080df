"""Scheduled clean-up (`flask purge-expired`): idempotent, safe to run on every node at once."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, cast

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.orm import Session

from webapp.accounts import sessions as login_sessions
from webapp.models import RateLimitHit
from webapp.search import purge

if TYPE_CHECKING:
    from sqlalchemy import CursorResult


def purge_expired(sess: Session) -> dict[str, int]:
    """Delete past rate-limit windows, ended or expired sign-in sessions and change-log rows older than a day."""
    windows = cast("CursorResult[Any]", sess.execute(delete(RateLimitHit)
                                                     .where(RateLimitHit.expires_at < int(time.time()))))
    counts = {"rate-limit windows": windows.rowcount or 0,
              "sign-in sessions": login_sessions.purge(sess, current_app.config["SESSION_IDLE_MINUTES"])}
    sess.commit()
    counts["index change-log rows"] = purge(sess)
    return counts
