"""Staff sign-in state, idle timeout and the role a view needs.

The staff session uses its own keys (prefix `staff_`), separate from the resident session keys.
Which units a role may see and edit is the domain's rule: webapp/units/permissions.py.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, redirect, request, session, url_for

from webapp.accounts import sessions as login_sessions
from webapp.models import StaffUser
from webapp.units.vocab import LANGS
from webapp.web import db

SESSION_KEY = "staff_sid"  # a random token; the session itself is a login_session row


def sign_in_user(user: StaffUser) -> None:
    """Start a server-side session for `user` (the caller commits)."""
    _end_own()
    session.clear()  # nothing from before the sign-in survives it (fixation, shared workstations)
    session.permanent = True
    session[SESSION_KEY] = login_sessions.start(db.session(), "staff", staff_user_id=user.id,
                                                max_hours=current_app.config.get("SESSION_MAX_HOURS", 10))
    g.staff_user = user


def _end_own() -> None:
    token = session.get(SESSION_KEY)
    if token:
        login_sessions.end(db.session(), "staff", token)


def sign_out_user() -> None:
    """End this session on every node, then forget the cookie's contents. Commits."""
    _end_own()
    db.session().commit()
    session.clear()


def current_staff() -> StaffUser | None:
    """The signed-in staff user, or None; a session that was ended, idled or grew too old is forgotten here."""
    if "staff_user" in g:
        return g.staff_user
    user = None
    token = session.get(SESSION_KEY)
    if token is not None:
        sess = db.session()
        row = login_sessions.lookup(sess, "staff", token, current_app.config.get("SESSION_IDLE_MINUTES", 20))
        user = sess.get(StaffUser, row.staff_user_id) if row is not None else None
        if row is not None and sess.dirty:
            sess.commit()  # the visit was noted (at most once a minute)
        if user is None or not user.is_active:
            g.staff_session_expired = row is None
            session.clear()
            user = None
    g.staff_user = user
    return user


def signed_in_staff() -> StaffUser:
    """The signed-in staff user, for a view behind `staff_required`."""
    user = current_staff()
    # staff_required has already redirected an anonymous request to sign-in, and current_staff() keeps its
    # answer in `g` for the rest of the request: the view runs only with a user.
    assert user is not None, "signed_in_staff() is for views behind staff_required"
    return user


def staff_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Anonymous → redirect to sign-in; a signed-in user without one of `roles` → 403."""
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                target = request.full_path if request.method == "GET" else None
                params: dict[str, Any] = {"expired": "1"} if g.get("staff_session_expired") else {}
                if target:
                    params["next"] = target.rstrip("?")
                return redirect(url_for("staff.sign_in", **params))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorator


def safe_next(target: str | None) -> str | None:
    """Only a local staff path may be a redirect target after sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = target.split("/")
    if len(parts) < 3 or parts[1] not in LANGS or parts[2].split("?")[0] != "staff":
        return None
    return target
