"""Helpers for the staff tests: known passwords for the seeded demo accounts, sign-in, CSRF."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_from
from webapp.accounts.staff import hash_password
from webapp.models import StaffUser, Unit
from webapp.web import db

PASSWORD = "correct horse battery staple"


def prepare_accounts(app) -> dict[str, StaffUser]:
    """Give every seeded staff account the known test password; returns the accounts by role."""
    with app.app_context():
        sess = db.session()
        users = {}
        hashed = hash_password(PASSWORD)
        for user in sess.scalars(select(StaffUser)):
            user.password_hash = hashed
            users[user.role] = user
        sess.commit()
        return users


def sign_in(client, email: str, lang: str = "fi", password: str = PASSWORD):
    html = client.get(f"/{lang}/staff/sign-in").get_data(as_text=True)
    return client.post(f"/{lang}/staff/sign-in", data={"email": email, "password": password,
                                                      "csrf_token": csrf_from(html)})


def token(client, lang: str = "fi") -> str:
    """The session's CSRF token (the same for every form of the session)."""
    page = client.get(f"/{lang}/staff/sign-in")
    if page.status_code == 302:
        page = client.get(f"/{lang}/staff/")
    return csrf_from(page.get_data(as_text=True))


def editor_unit_ids(app, users) -> tuple[int, int]:
    """(a unit of the provider editor's provider in uusimaa, a unit of another provider in another pilot)."""
    with app.app_context():
        sess = db.session()
        editor = users["provider_editor"]
        own = sess.scalar(select(Unit.id).where(Unit.provider_id == editor.provider_id,
                                                Unit.pilot_id == users["pilot_manager"].pilot_id,
                                                Unit.element == "sote_centre").order_by(Unit.id).limit(1))
        other = sess.scalar(select(Unit.id).where(Unit.provider_id != editor.provider_id,
                                                  Unit.pilot_id != users["pilot_manager"].pilot_id,
                                                  Unit.element == "sote_centre").order_by(Unit.id).limit(1))
        return own, other
