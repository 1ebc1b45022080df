"""Keeping the index in step with the database after a committed change (staff edits, choices)."""
from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


def reindex(sess: Session, unit_ids: list[int]) -> None:
    """Update the search index synchronously, after the commit, so the next page load sees it.

    Anything that changes what the index holds about a unit calls this: its data, its visibility, and its
    listed count (the "accepting new customers" filter counts a full unit as not accepting)."""
    if not unit_ids:
        return
    try:
        from webapp.search import update_units
        update_units(sess, current_app.config["INDEX_DIR"], list(unit_ids))
    except Exception:  # noqa: BLE001  the change is committed; a broken index must not turn it into a 500
        log.exception("search index update failed for units %s; run flask index-rebuild", list(unit_ids)[:20])
