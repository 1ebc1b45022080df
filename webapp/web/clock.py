"""Today for a request: the TODAY setting pins a date (tests, demos); otherwise Helsinki's date."""
from __future__ import annotations

from datetime import date

from flask import current_app, has_app_context

from webapp.core.clock import helsinki_today


def today() -> date:
    """Today for a request: the TODAY setting when it pins a date (tests, demos), else Helsinki's date."""
    if has_app_context():
        value = current_app.config.get("TODAY")
        if isinstance(value, str) and value:
            return date.fromisoformat(value)
        if isinstance(value, date):
            return value
    return helsinki_today()
