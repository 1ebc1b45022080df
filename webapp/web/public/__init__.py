"""Public pages for residents, under /fi/ and /sv/."""
from webapp.web.public import pages, pilots, search_views, units  # noqa: F401  (their routes register on bp)
from webapp.web.public.blueprint import bp

__all__ = ["bp"]
