"""Staff workspace."""
from webapp.web.staff import (  # noqa: F401  (their routes register on bp)
    cli,
    paper,
    paper_waiting,
    view_helpers,
    views_accounts,
    views_import,
    views_queue,
    views_reports,
    views_session,
    views_units,
    views_waiting,
)
from webapp.web.staff.blueprint import bp

__all__ = ["bp"]
