"""The search package's one seam to the web layer: every translation call in search/ goes through here."""
from __future__ import annotations

from flask_babel import force_locale, gettext, lazy_gettext

__all__ = ["force_locale", "gettext", "lazy_gettext"]
