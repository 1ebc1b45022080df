"""Security headers on every response, and a rate limiter shared by all worker processes."""
from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from webapp.models import RateLimitHit
from webapp.units.vocab import LANGS
from webapp.web import db

CSP_PARTS = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
]
CSP = "; ".join(CSP_PARTS)


def content_security_policy(tile_url: str | None) -> str:
    """The CSP; with a map tile URL configured, images may also come from exactly that one origin."""
    if not tile_url:
        return CSP
    from webapp.core.config import tile_origin
    return "; ".join(f"{part} {tile_origin(tile_url)}" if part.startswith("img-src") else part
                     for part in CSP_PARTS)


PRIVATE_PATHS = ("/staff", "/identify", *(f"/{lang}/{area}" for lang in LANGS
                                           for area in ("choice", "choose", "my", "messages", "staff", "identify")))


def init_app(app: Flask) -> None:
    compress = _compression(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy",
                                    content_security_policy(current_app.config.get("MAP_TILE_URL")))
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        if request.path.startswith(PRIVATE_PATHS):
            response.headers["Cache-Control"] = "no-store"
        if compress is not None and "no-store" not in response.headers.get("Cache-Control", ""):
            response = compress.after_request(response)
        return response


def _compression(app: Flask):  # noqa: ANN202
    """Flask-Compress for public pages, the API and static files, when COMPRESS_RESPONSES is on.

    Pages marked no-store (identification, choices, the staff workspace) are never compressed: they carry
    CSRF tokens and personal data, and compressing a secret next to text an attacker can reflect into the
    page leaks it (BREACH). Turn it off where the TLS proxy compresses instead (docs/deployment.md)."""
    if not app.config.get("COMPRESS_RESPONSES"):
        return None
    from flask_compress import Compress
    app.config.setdefault("COMPRESS_REGISTER", False)  # called from _headers, after no-store is decided
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 1000)
    compress = Compress()
    compress.init_app(app)
    return compress


def client_address() -> str:
    return request.remote_addr or "unknown"


def _end_read_snapshot(request_session: Session) -> None:
    """End the request's read-only transaction before the count is written from a session of its own. On
    SQLite (WAL) a transaction that read before another connection wrote cannot write later: SQLite refuses
    at once (the snapshot is stale), and the request would answer 503. Loaded objects stay loaded
    (expire_on_commit is off); a transaction with changes of its own is left alone."""
    if request_session.in_transaction() and not (request_session.new or request_session.dirty
                                                  or request_session.deleted):
        request_session.commit()


def rate_limited(key: str, limit: int, window_seconds: int) -> bool:
    """Count one attempt for `key`; True when more than `limit` happened in the current window.
    When True, the 429 answer's Retry-After header says when the window ends (errors.py).

    Never put a henkilötunnus or other personal data in `key`.
    """
    if not current_app.config.get("RATE_LIMIT_ENABLED", True):
        return False
    _end_read_snapshot(db.session())
    now = time.time()
    window = int(now // window_seconds)
    ends = (window + 1) * window_seconds
    sess = db.new_session()
    try:
        for _attempt in range(10):
            try:
                with db.write_transaction(sess):  # BEGIN IMMEDIATE on SQLite: read-then-write without lock upgrades
                    row = sess.get(RateLimitHit, (key, window), with_for_update=True)
                    if row is None:
                        row = RateLimitHit(key=key, window_start=window, count=1, expires_at=ends)
                        sess.add(row)
                    else:
                        row.count += 1
                    count = row.count
                if count > limit:
                    g.retry_after = max(int(g.get("retry_after", 0)), int(ends - now) + 1)
                return count > limit
            except (IntegrityError, OperationalError):
                time.sleep(0.01)  # another process inserted the same window or held the lock: count again
        g.retry_after = max(int(g.get("retry_after", 0)), window_seconds)
        return True
    finally:
        sess.close()
