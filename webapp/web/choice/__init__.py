"""Choice journey: choose, confirm, receipt, my choices."""
from webapp.web.choice import cli, views, views_messages, views_waiting  # noqa: F401  (their routes register on bp)
from webapp.web.choice.blueprint import bp

__all__ = ["bp"]
