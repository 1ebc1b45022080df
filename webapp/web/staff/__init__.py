"""Staff workspace."""
from webapp.web.staff.blueprint import bp
from webapp.web.staff import cli, paper, paper_waiting, view_helpers, views_accounts, views_import, views_queue, views_reports, views_session, views_units, views_waiting  # noqa: F401  (their routes register on bp)

__all__ = ["bp"]
