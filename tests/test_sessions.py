"""Revocable sessions: a copied cookie stops working after sign-out, on every node."""
from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from tests.choice_helpers import sign_in as resident_sign_in
from tests.conftest import csrf_from
from tests.test_index_follow import second_node
from tests.test_staff_helpers import prepare_accounts, sign_in, token
from webapp.models import AuditEvent, LoginSession
from webapp.web import db


def copy_cookie(source, target) -> None:
    """What an attacker who copied the session cookie would do."""
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value)


def test_resident_sign_out_ends_a_copied_cookie_on_every_node(any_app, tmp_path):
    node_b = second_node(any_app, tmp_path)
    client = any_app.test_client()
    resident_sign_in(client, "aino")
    thief = node_b.test_client()
    copy_cookie(client, thief)
    assert thief.get("/fi/my-choices").status_code == 200  # the session is shared by the nodes
    page = client.get("/fi/my-choices").get_data(as_text=True)
    assert client.post("/fi/identify/sign-out", data={"csrf_token": csrf_from(page)}).status_code == 303
    response = thief.get("/fi/my-choices")
    assert response.status_code == 303 and response.headers["Location"].endswith("/fi/identify")
    with any_app.app_context():
        row = db.session().scalar(select(LoginSession).where(LoginSession.kind == "resident"))
        assert row.ended_at is not None


def test_the_cookie_holds_only_a_token(app):
    client = app.test_client()
    resident_sign_in(client, "aino")
    from itsdangerous import URLSafeTimedSerializer  # noqa: F401  (the cookie is signed, not encrypted)
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(client.get_cookie("session").value)
    assert set(data) <= {"resident_sid", "_permanent", "_flashes", "csrf_token", "return_to"}
    assert "Aino" not in repr(data) and "Testinen" not in repr(data)


def test_staff_sign_out_ends_a_copied_cookie(any_app):
    users = prepare_accounts(any_app)
    client = any_app.test_client()
    sign_in(client, users["admin"].email)
    thief = any_app.test_client()
    copy_cookie(client, thief)
    assert thief.get("/fi/staff/").status_code == 200
    assert client.post("/fi/staff/sign-out", data={"csrf_token": token(client)}).status_code == 302
    assert thief.get("/fi/staff/").status_code == 302


def test_staff_sign_out_everywhere(app):
    users = prepare_accounts(app)
    laptop, phone = app.test_client(), app.test_client()
    sign_in(laptop, users["pilot_manager"].email)
    sign_in(phone, users["pilot_manager"].email)
    assert phone.get("/fi/staff/").status_code == 200
    assert laptop.post("/fi/staff/sign-out-everywhere", data={}).status_code == 400  # CSRF
    response = laptop.post("/fi/staff/sign-out-everywhere", data={"csrf_token": token(laptop)})
    assert response.status_code == 302 and "/fi/staff/sign-in" in response.headers["Location"]
    assert phone.get("/fi/staff/").status_code == 302
    assert laptop.get("/fi/staff/").status_code == 302
    with app.app_context():
        event = db.session().scalar(select(AuditEvent).where(AuditEvent.action == "staff.sign_out_everywhere"))
        assert event.actor_id == users["pilot_manager"].id and event.after == {"sessions": 2}


def test_an_administrator_ends_a_staff_members_sessions(any_app):
    users = prepare_accounts(any_app)
    admin, editor = any_app.test_client(), any_app.test_client()
    sign_in(admin, users["admin"].email)
    sign_in(editor, users["provider_editor"].email)
    page = admin.get("/fi/staff/accounts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert users["provider_editor"].email in html
    url = f"/fi/staff/accounts/{users['provider_editor'].id}/end-sessions"
    assert admin.post(url, data={}).status_code == 400  # no CSRF token
    assert editor.get("/fi/staff/").status_code == 200
    response = admin.post(url, data={"csrf_token": csrf_from(html)})
    assert response.status_code == 302
    assert editor.get("/fi/staff/").status_code == 302  # signed out at once
    assert admin.get("/fi/staff/").status_code == 200  # the administrator's own session goes on
    assert admin.post("/fi/staff/accounts/999999/end-sessions", data={"csrf_token": csrf_from(html)}).status_code == 404
    with any_app.app_context():
        event = db.session().scalar(select(AuditEvent).where(AuditEvent.action == "staff.sessions_ended"))
        assert event.actor_id == users["admin"].id and event.entity_id == users["provider_editor"].id
        assert event.after == {"sessions": 1}


def test_only_an_administrator_may_end_sessions(app):
    users = prepare_accounts(app)
    for role in ("pilot_manager", "provider_editor", "auditor"):
        client = app.test_client()
        sign_in(client, users[role].email)
        assert client.get("/fi/staff/accounts").status_code == 403
        url = f"/fi/staff/accounts/{users['admin'].id}/end-sessions"
        assert client.post(url, data={"csrf_token": token(client)}).status_code == 403


def test_purge_expired_removes_ended_sessions_and_past_rate_limit_windows(app):
    from datetime import datetime

    from webapp.models import RateLimitHit
    client = app.test_client()
    resident_sign_in(client, "aino")
    page = client.get("/fi/my-choices").get_data(as_text=True)
    client.post("/fi/identify/sign-out", data={"csrf_token": csrf_from(page)})
    with app.app_context():
        sess = db.session()
        now = int(datetime.now(UTC).timestamp())
        sess.add_all([RateLimitHit(key="old", window_start=1, count=3, expires_at=now - 1),
                      RateLimitHit(key="current", window_start=2, count=3, expires_at=now + 60)])
        sess.commit()
        result = app.test_cli_runner().invoke(args=["purge-expired"])
        assert result.exit_code == 0, result.output
        assert "Deleted 1 rate-limit windows." in result.output
        assert sess.scalars(select(RateLimitHit.key)).all() == ["current"]
        assert sess.scalar(select(LoginSession)) is None
