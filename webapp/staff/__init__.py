"""Staff workspace."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/<any(fi,sv):lang>/staff", cli_group=None)
from webapp.staff import cli, paper, views  # noqa: E402,F401
