"""What day it is. The rules' dates are Finnish calendar days, so "today" is the date in Helsinki."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki_today() -> date:
    """Today in Finland, from the system clock (no Flask: for use cases and commands)."""
    return datetime.now(HELSINKI).date()


def today() -> date:
    """Today for a request: the TODAY setting when it pins a date (tests, demos), else Helsinki's date."""
    if has_app_context():
        value = current_app.config.get("TODAY")
        if isinstance(value, str) and value:
            return date.fromisoformat(value)
        if isinstance(value, date):
            return value
    return helsinki_today()
