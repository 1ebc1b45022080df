"""JSON API v1."""
from webapp.web.api import views  # noqa: F401  (their routes register on bp)
from webapp.web.api.blueprint import bp

__all__ = ["bp"]
