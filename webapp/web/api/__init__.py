"""JSON API v1."""
from webapp.web.api.blueprint import bp
from webapp.web.api import views  # noqa: F401  (their routes register on bp)

__all__ = ["bp"]
