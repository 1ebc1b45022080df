"""Choice journey: choose, confirm, receipt, my choices."""
from flask import Blueprint

bp = Blueprint("choice", __name__, url_prefix="/<any(fi,sv):lang>")
from webapp.choice import views  # noqa: E402,F401
