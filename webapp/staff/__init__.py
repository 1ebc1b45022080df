"""Staff workspace."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/<any(fi,sv,en):lang>/staff", cli_group=None)
from webapp.staff import (cli, paper, paper_waiting, view_helpers, views_accounts, views_import, views_queue,  # noqa: E402,F401
                          views_reports, views_session, views_units, views_waiting)
