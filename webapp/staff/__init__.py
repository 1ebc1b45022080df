"""Staff workspace."""
from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/<any(fi,sv):lang>/staff", cli_group=None)
from webapp.staff import (cli, paper, view_helpers, views_accounts, views_import, views_queue, views_reports,  # noqa: E402,F401
                          views_session, views_units)
