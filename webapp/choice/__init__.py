"""Choice journey: choose, confirm, receipt, my choices."""
from flask import Blueprint

bp = Blueprint("choice", __name__, url_prefix="/<any(fi,sv):lang>", cli_group=None)
from webapp.choice import cli, views, views_messages, views_waiting  # noqa: E402,F401
