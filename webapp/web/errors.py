"""Error pages in the visitor's language; JSON errors for the API. Never a stack trace."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp.core.transactions import transient_reason
from webapp.units.vocab import LANGS

log = logging.getLogger(__name__)


def _messages(code: int) -> tuple[str, str]:
    return {
        400: (_("The request could not be handled"),
              _("Something in the request was not valid. Go back and check what you entered.")),
        403: (_("Access denied"), _("You do not have permission to see this page.")),
        404: (_("Page not found"),
              _("The page you were looking for does not exist. Check the address or start from the home page.")),
        405: (_("Method not allowed"), _("This page cannot be used in that way.")),
        413: (_("The file is too large"), _("The file you sent is larger than allowed.")),
        429: (_("Too many attempts"),
              _("You have tried too many times in a short while. Wait a few minutes and try again.")),
        500: (_("Something went wrong"), _("The service had a problem. Your data is safe. Try again in a moment.")),
        503: (_("The service is busy"),
              _("Very many people are using the service right now. Nothing was saved. Try again in a moment.")),
    }.get(code, (_("The request could not be handled"), _("Something in the request was not valid.")))


def _lang_from_path() -> None:
    """Error pages for /fi/... and /sv/... speak that language even if routing failed."""
    if "lang" not in g:
        first = request.path.strip("/").split("/", 1)[0]
        if first in LANGS:
            g.lang = first


def render_error(code: int, detail: str | None = None, headers: dict | None = None) -> ResponseReturnValue:
    _lang_from_path()
    title, message = _messages(code)
    headers = dict(headers or {})
    if code == 429:
        headers.setdefault("Retry-After", str(g.get("retry_after") or 60))
    if request.path.startswith("/api/"):
        return jsonify({"error": {"status": code, "message": detail or message}}), code, headers
    return render_template("errors/error.html", code=code, title=title, message=message, detail=detail), code, headers


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_err: CSRFError) -> ResponseReturnValue:
        _lang_from_path()
        return render_error(400, _("The form had expired or was sent twice. Nothing was saved. "
                                   "Open the page again and resend the form."))

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException) -> ResponseReturnValue:
        detail = getattr(err, "user_message", None)
        # Keep what the exception says about the answer, e.g. Allow on a 405 (RFC 9110).
        headers = {k: v for k, v in err.get_headers() if k.lower() in ("allow", "retry-after")}
        return render_error(err.code or 500, detail, headers)

    @app.errorhandler(Exception)
    def _unexpected(err: Exception) -> ResponseReturnValue:
        if transient_reason(err) is not None:
            # The database could not order this request against others even after running it again
            # (webapp/core/transactions.py): nothing was saved, and the same request may well go through later.
            log.warning("%s on %s %s after every retry", transient_reason(err), request.method, request.path)
            return render_error(503, headers={"Retry-After": "5"})
        log.exception("unhandled error on %s %s", request.method, request.path)
        if isinstance(err, HTTPException):
            return _http(err)
        return render_error(InternalServerError.code)


class UserError(HTTPException):
    """A 4xx whose text (already translated) is shown to the user."""

    def __init__(self, message: str, code: int = 400):
        super().__init__(description=message)
        self.code = code
        self.user_message = message
