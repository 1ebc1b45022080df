"""Public pages for residents, under /fi/ and /sv/."""
from flask import Blueprint

bp = Blueprint("public", __name__, url_prefix="/<any(fi,sv,en):lang>")

from webapp.public import pages, pilots, search_views, units  # noqa: E402,F401  (routes register on import)
