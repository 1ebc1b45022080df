"""Choice journey: choose, confirm, receipt, my choices."""
from webapp.web.choice import (  # noqa: F401  (their routes and template globals register on bp)
    cli,
    reasons,
    views,
    views_messages,
    views_waiting,
)
from webapp.web.choice.blueprint import bp

__all__ = ["bp"]
