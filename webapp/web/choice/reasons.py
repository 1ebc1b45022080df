"""The reasons of a decision as sentences on the pages: the template global `reason_text(r, today, home)`,
from the one reason table webapp/choice/reasons.py (the messages use the same table)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from webapp.choice.reasons import page_text
from webapp.choice.rules import Reason
from webapp.web.choice.blueprint import bp
from webapp.web.i18n import current_lang, fmt_date


@bp.app_template_global("reason_text")
def reason_text(reason: Reason, today: date | None, home: Any = None) -> Markup:
    """The sentence for `reason` on the decision page (`home`: the resident's home Municipality, if known).
    Like the templates' own `_()`: the translation is markup, the values put in it are escaped."""
    on = reason.on
    params = {"date": fmt_date(on, "long") if on else "",
              "next": fmt_date(on + timedelta(days=1), "long") if on else "",
              "municipality": home.name(current_lang()) if home else ""}
    return Markup(str(page_text(reason, today))) % params
