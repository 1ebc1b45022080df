"""Who is signed in: the cookie holds only a random token; the resident id and the display name are in
the server-side session row (webapp.accounts.sessions) — never the henkilötunnus anywhere. Also the return path
of a journey interrupted by identification."""
from __future__ import annotations

import logging
from typing import Protocol

from flask import Request, Response, current_app, g, session
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp.accounts import sessions as login_sessions
from webapp.identity.person import PopulationRegister, RegisterRecord, VerifiedPerson, resident_key
from webapp.identity.residents import put_resident
from webapp.models import Municipality, Resident
from webapp.web import db

log = logging.getLogger(__name__)

SESSION_KEY = "resident_sid"
RETURN_KEY = "return_to"


class IdentityProvider(Protocol):
    """A way to identify a resident strongly (the test page, OIDC, ...)."""
    name: str

    def start(self, return_to: str) -> Response:
        """A response that starts identification (a redirect or a page)."""

    def complete(self, request: Request) -> VerifiedPerson:
        """Finish identification from the callback request; raises IdentificationFailed."""


class NotInRegister(Exception):
    """The population register has no usable record for the identified person."""


class RegisterUnavailable(Exception):
    """No population register is configured (production needs a VTJ client)."""


def population_register() -> PopulationRegister | None:
    return current_app.extensions.get("population_register")


def upsert_resident(sess: Session, person: VerifiedPerson,
                    register: PopulationRegister | None) -> tuple[Resident, RegisterRecord]:
    """The resident for a verified person, with today's facts from the population register
    (home municipality, birth date, institutional care). Commits."""
    if register is None:
        raise RegisterUnavailable()
    try:
        record = register.lookup(person.hetu)
    except Exception as exc:  # noqa: BLE001
        # A register client's error text may carry the henkilötunnus (e.g. in a URL): log the class only.
        log.warning("population register lookup failed: %s", exc.__class__.__name__)
        raise RegisterUnavailable() from None
    if record is None or sess.get(Municipality, record.home_municipality_code) is None:
        raise NotInRegister()
    key = resident_key(current_app.config["RESIDENT_KEY_SECRET"], person.hetu)
    try:
        resident_id = _store_resident(sess, key, record)
    except IntegrityError:  # the same person signed in twice at once: the other request created the row
        resident_id = _store_resident(sess, key, record)
    resident = sess.get(Resident, resident_id)
    assert resident is not None  # stored just above, in this transaction
    return resident, record


def _store_resident(sess: Session, key: str, record: RegisterRecord) -> int:
    with db.write_transaction(sess):
        return put_resident(sess, key, record).id


def sign_in(person: VerifiedPerson) -> tuple[Resident, str]:
    """Sign the verified person in; keeps only the return path of the old session.
    Returns the resident and the language of the register record (fi/sv)."""
    sess = db.session()
    resident, record = upsert_resident(sess, person, population_register())
    language = record.language if record.language in ("fi", "sv") else "fi"
    return_to = session.get(RETURN_KEY)
    end_session()  # a sign-in never continues an earlier one (fixation, shared computers)
    session.clear()
    if return_to:
        session[RETURN_KEY] = return_to
    session[SESSION_KEY] = login_sessions.start(sess, "resident", max_hours=current_app.config["SESSION_MAX_HOURS"],
                                                resident_id=resident.id, display_name=person.display_name)
    sess.commit()
    session.permanent = True
    g.pop("resident_session", None)
    return resident, language


def end_session() -> None:
    """End the resident's server-side session (every node, any copy of the cookie)."""
    token = session.get(SESSION_KEY)
    if token:
        sess = db.session()
        login_sessions.end(sess, "resident", token)
        sess.commit()


def sign_out() -> None:
    end_session()
    session.clear()


def _current() -> tuple[int, str] | None:
    """(resident id, display name) of this request's live session, looked up once per request; plain values,
    so that a commit or rollback in the request does not make them a query again."""
    if "resident_session" not in g:
        sess = db.session()
        row = login_sessions.lookup(sess, "resident", session.get(SESSION_KEY),
                                    current_app.config["SESSION_IDLE_MINUTES"])
        g.resident_session = (row.resident_id, row.display_name) if row is not None else None
        if sess.dirty:
            sess.commit()  # the visit was noted (at most once a minute)
    return g.resident_session


def current_resident_id() -> int | None:
    found = _current()
    return found[0] if found is not None else None


def display_name() -> str | None:
    found = _current()
    return found[1] if found is not None else None


def check_idle() -> None:
    """Before each request: a session ended elsewhere, idle longer than SESSION_IDLE_MINUTES or older than
    SESSION_MAX_HOURS is forgotten here, and the page says so."""
    if SESSION_KEY not in session:
        return
    if _current() is None:
        for key in (SESSION_KEY, "choice_tokens"):
            session.pop(key, None)
        g.session_expired = True


def header_context() -> dict:
    """The signed-in resident's name for the page header (read from the session row, not the cookie)."""
    return {"resident_display_name": display_name() if session.get(SESSION_KEY) else None}


def session_expired() -> bool:
    return bool(g.get("session_expired"))


def is_local_path(path: str | None) -> bool:
    """Only same-site absolute paths like /fi/choose/12: no scheme, host, // or backslash."""
    if not path or not isinstance(path, str) or len(path) > 300:
        return False
    return (path.startswith("/") and not path.startswith("//") and "\\" not in path
            and ":" not in path.split("?", 1)[0] and not any(ord(c) < 32 for c in path))


def remember_return(path: str) -> None:
    if is_local_path(path):
        session[RETURN_KEY] = path


def pop_return() -> str | None:
    path = session.pop(RETURN_KEY, None)
    return path if is_local_path(path) else None


