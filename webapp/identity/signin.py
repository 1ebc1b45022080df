"""Who is signed in: the session holds the resident id, a display name and a last-seen time —
never the henkilötunnus. Also the return path of a journey interrupted by identification."""
from __future__ import annotations

import logging
import time

from flask import current_app, g, session
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from webapp import db
from webapp.identity.base import PopulationRegister, RegisterRecord, VerifiedPerson, resident_key
from webapp.models import Municipality, Resident

log = logging.getLogger(__name__)

SESSION_KEY = "resident"
RETURN_KEY = "return_to"


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
    return sess.get(Resident, resident_id), record


def put_resident(sess: Session, key: str, record: RegisterRecord) -> Resident:
    """Create or update the resident with `key` from the register record, in the caller's transaction.
    The register is the source of truth: a move or a care decision changes the rules."""
    resident = sess.scalar(select(Resident).where(Resident.key == key))
    if resident is None:
        resident = Resident(key=key)
        sess.add(resident)
    resident.birth_date = record.birth_date
    resident.home_municipality_code = record.home_municipality_code
    resident.in_institutional_care = record.in_institutional_care
    sess.flush()
    return resident


def _store_resident(sess: Session, key: str, record: RegisterRecord) -> int:
    with db.write_transaction(sess):
        return put_resident(sess, key, record).id


def sign_in(person: VerifiedPerson) -> tuple[Resident, str]:
    """Sign the verified person in; keeps only the return path of the old session.
    Returns the resident and the language of the register record (fi/sv)."""
    resident, record = upsert_resident(db.session(), person, population_register())
    language = record.language if record.language in ("fi", "sv") else "fi"
    return_to = session.get(RETURN_KEY)
    session.clear()
    if return_to:
        session[RETURN_KEY] = return_to
    now = time.time()
    session[SESSION_KEY] = {"id": resident.id, "name": person.display_name, "seen": now, "since": now}
    session.permanent = True
    return resident, language


def sign_out() -> None:
    session.clear()


def current_resident_id() -> int | None:
    data = session.get(SESSION_KEY)
    return int(data["id"]) if isinstance(data, dict) and "id" in data else None


def display_name() -> str | None:
    data = session.get(SESSION_KEY)
    return data.get("name") if isinstance(data, dict) else None


def check_idle() -> None:
    """Before each request: end a sign-in idle longer than SESSION_IDLE_MINUTES or older than SESSION_MAX_HOURS."""
    data = session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return
    now = time.time()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    max_age = current_app.config.get("SESSION_MAX_HOURS", 10) * 3600
    if now - float(data.get("seen", 0)) > idle or now - float(data.get("since", 0)) > max_age:
        for key in (SESSION_KEY, "choice_tokens"):
            session.pop(key, None)
        g.session_expired = True
        return
    data["seen"] = now
    session.modified = True


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


