"""The `identity` blueprint; its routes are in the modules that webapp/web/identity/__init__.py imports."""
import os

from flask import Blueprint

bp = Blueprint("identity", __name__, url_prefix="/<any(fi,sv,en):lang>/identify")


@bp.record_once
def _setup(state) -> None:  # noqa: ANN001
    app = state.app
    from webapp.web.clock import today
    from webapp.web.identity.signin import check_idle, header_context
    providers: dict[str, object] = {}  # name -> provider (None: the test page itself)
    if app.config.get("TEST_IDENTIFICATION") and app.config.get("APP_ENV") != "production":
        from webapp.seeding.test_persons import TestPersonRegister
        providers["test"] = None  # the test page itself is the provider
        app.extensions.setdefault("population_register", TestPersonRegister(today))
    issuer = app.config.get("OIDC_ISSUER") or os.environ.get("OIDC_ISSUER")
    client_id = app.config.get("OIDC_CLIENT_ID") or os.environ.get("OIDC_CLIENT_ID")
    client_secret = app.config.get("OIDC_CLIENT_SECRET") or os.environ.get("OIDC_CLIENT_SECRET")
    if issuer and client_id and client_secret:
        from webapp.web.identity.oidc import OidcProvider
        acr = app.config.get("OIDC_ACR_VALUES") or os.environ.get("OIDC_ACR_VALUES") or ""
        providers["oidc"] = OidcProvider(issuer, client_id, client_secret, acr_values=tuple(acr.split()))
    app.extensions["identity_providers"] = providers
    # Production: set app.extensions["population_register"] to a VTJ client (see README).
    app.before_request(check_idle)
    app.context_processor(header_context)


