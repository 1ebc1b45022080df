"""What day it is. The rules' dates are Finnish calendar days, so "today" is the date in Helsinki."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


def helsinki_today() -> date:
    """Today in Finland, from the system clock (no Flask: for use cases and commands)."""
    return datetime.now(HELSINKI).date()
