"""Strong identification of residents: the test provider and the OIDC adapter.

Providers are registered per app from its configuration: the test identification page only when
TEST_IDENTIFICATION is on (never in production), the OIDC adapter only when OIDC_ISSUER,
OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are all set.
"""
from webapp.web.identity import views  # noqa: F401  (their routes register on bp)
from webapp.web.identity.blueprint import bp

__all__ = ["bp"]
