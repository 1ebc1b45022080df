"""Choice journey: choose, confirm, receipt, my choices."""
from flask import Blueprint

bp = Blueprint("choice", __name__, url_prefix="/<any(fi,sv,en):lang>")
from webapp.choice import views  # noqa: E402,F401
