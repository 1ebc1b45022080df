"""Application factory."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from flask_wtf import CSRFProtect
from werkzeug.routing import IntegerConverter, Map

from webapp.core.config import ROOT, load_settings

csrf = CSRFProtect()


class DatabaseId(IntegerConverter):
    """<int:...> in every route: 0..2**31-1, so an out-of-range id is a 404, not a database error."""

    def __init__(self, url_map: Map, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, **kwargs)


def create_app(overrides: dict | None = None) -> Flask:
    settings = load_settings(overrides)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        static_url_path="/static",
    )
    app.config.update(settings.to_flask())
    app.config.update({k: v for k, v in (overrides or {}).items() if k.isupper()})
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    app.url_map.strict_slashes = False
    app.url_map.converters["int"] = DatabaseId
    proxies = int(app.config.get("TRUSTED_PROXIES", 0))
    if proxies:
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* headers so HTTPS is recognised (HSTS).
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]  # Flask's documented way to wrap the WSGI app
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    logging.basicConfig(level=logging.INFO)
    from webapp.core import logredact
    logredact.install()

    from webapp.search import install_change_log
    from webapp.web import cli, db, errors, i18n, metrics, security
    install_change_log()
    metrics.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    csrf.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    _register_blueprints(app)
    from webapp.search import SearchIndex
    search = SearchIndex(app.config["INDEX_DIR"], int(app.config["INDEX_SYNC_INTERVAL_MS"]),
                         context=app.app_context, sessions=app.extensions["db_sessionmaker"])
    app.extensions["search"] = search
    app.before_request(search.start_building)  # a worker's first request starts building its index
    from webapp.choice.rules import newcomer_status_of
    # newcomer_status(unit): what the unit's "new customers" label says, the same rule as the choice itself.
    app.jinja_env.globals["newcomer_status"] = newcomer_status_of
    return app


def _register_blueprints(app: Flask) -> None:
    from webapp.web.api import bp as api_bp
    from webapp.web.choice import bp as choice_bp
    from webapp.web.identity import bp as identity_bp
    from webapp.web.ops import bp as ops_bp
    from webapp.web.public import bp as public_bp
    from webapp.web.staff import bp as staff_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(choice_bp)
    app.register_blueprint(identity_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ops_bp)
    csrf.exempt(api_bp)  # read-only JSON, no cookies used
