"""Sign-in, sessions and the role matrix of the staff workspace."""
from __future__ import annotations

import itertools
import time

import pytest
from sqlalchemy import select

from tests.session_helpers import age_sessions
from tests.test_staff_helpers import PASSWORD, editor_unit_ids, prepare_accounts, sign_in, token
from webapp.models import AuditEvent, Unit
from webapp.web import db

ALL = {"admin", "pilot_manager", "provider_editor", "auditor"}
WRITERS = {"admin", "pilot_manager", "provider_editor"}
MANAGERS = {"admin", "pilot_manager"}
READERS_OF_FIGURES = {"admin", "pilot_manager", "auditor"}


def matrix(unit_id: int) -> list[tuple[str, str, set[str]]]:
    return [
        ("GET", "/fi/staff/", ALL),
        ("GET", "/fi/staff/units", ALL),
        ("GET", f"/fi/staff/units/{unit_id}", ALL),
        ("POST", f"/fi/staff/units/{unit_id}", WRITERS),
        ("POST", f"/fi/staff/units/{unit_id}/visibility", WRITERS),
        ("GET", "/fi/staff/units/new", WRITERS),
        ("POST", "/fi/staff/units/new", WRITERS),
        ("GET", "/fi/staff/providers/new", MANAGERS),
        ("POST", "/fi/staff/providers/new", MANAGERS),
        ("GET", "/fi/staff/queue-times", MANAGERS),
        ("POST", "/fi/staff/queue-times", MANAGERS),
        ("GET", "/fi/staff/import", WRITERS),
        ("POST", "/fi/staff/import", WRITERS),
        ("POST", "/fi/staff/import/apply", WRITERS),
        ("POST", "/fi/staff/import/ptv", WRITERS),
        ("GET", "/fi/staff/export.csv", ALL),
        ("GET", "/fi/staff/audit", READERS_OF_FIGURES),
        ("GET", "/fi/staff/figures", READERS_OF_FIGURES),
        ("GET", "/fi/staff/figures.csv", READERS_OF_FIGURES),
        ("GET", "/fi/staff/paper-choice", MANAGERS),
        ("POST", "/fi/staff/paper-choice", MANAGERS),
    ]


def _call(client, method, url, csrf):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": csrf})


@pytest.mark.parametrize("role", ["anonymous", "admin", "pilot_manager", "provider_editor", "auditor"])
def test_role_matrix(app, role):
    users = prepare_accounts(app)
    unit_id, _other = editor_unit_ids(app, users)
    client = app.test_client()
    if role != "anonymous":
        assert sign_in(client, users[role].email).status_code == 302
    csrf = token(client)
    with app.app_context():
        before = db.session().get(Unit, unit_id).version
    for method, url, allowed in matrix(unit_id):
        if "paper-choice" in url and "staff.paper_choice" not in app.view_functions:
            continue
        response = _call(client, method, url, csrf)
        where = f"{role} {method} {url} -> {response.status_code}"
        if role == "anonymous":
            assert response.status_code == 302, where
            assert "/fi/staff/sign-in" in response.headers["Location"], where
        elif role in allowed:
            assert response.status_code not in (403, 500), where
            assert "/staff/sign-in" not in response.headers.get("Location", ""), where
        else:
            assert response.status_code == 403, where
    with app.app_context():
        assert db.session().get(Unit, unit_id).version == before  # empty forms changed nothing


def test_provider_editor_cannot_reach_another_providers_unit(app):
    users = prepare_accounts(app)
    own, other = editor_unit_ids(app, users)
    admin = app.test_client()
    sign_in(admin, users["admin"].email)
    from tests.test_staff_units import form_data
    data = form_data(admin, other)
    data["name_fi"] = "Kaapattu nimi"
    editor = app.test_client()
    sign_in(editor, users["provider_editor"].email)
    data["csrf_token"] = token(editor)
    assert editor.get(f"/fi/staff/units/{other}").status_code == 403
    assert editor.post(f"/fi/staff/units/{other}", data=data).status_code == 403
    assert editor.post(f"/fi/staff/units/{other}/visibility", data={"csrf_token": data["csrf_token"],
                                                                    "version": data["version"]}).status_code == 403
    with app.app_context():
        unit = db.session().get(Unit, other)
        assert unit.name_fi != "Kaapattu nimi" and not unit.is_hidden
    # and the same person can edit their own unit
    assert editor.get(f"/fi/staff/units/{own}").status_code == 200


def test_pilot_manager_cannot_edit_another_pilots_unit(app):
    users = prepare_accounts(app)
    _own, other = editor_unit_ids(app, users)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    assert client.get(f"/fi/staff/units/{other}").status_code == 403


def test_wrong_password_and_unknown_account_get_the_same_generic_message(app):
    users = prepare_accounts(app)
    client = app.test_client()
    wrong = sign_in(client, users["admin"].email, password="wrong password here")
    unknown = sign_in(client, "nobody@staff.example.fi")
    assert wrong.status_code == unknown.status_code == 400
    message = "Sähköpostiosoite tai salasana ei ole oikein, tai tunnus ei ole käytössä."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    sv = sign_in(client, "nobody@staff.example.fi", lang="sv")
    assert "E-postadressen eller lösenordet är fel, eller kontot används inte." in sv.get_data(as_text=True)
    assert client.get("/fi/staff/").status_code == 302  # still signed out


def test_sign_in_is_rate_limited_per_account(make_app):
    app = make_app(RATE_LIMIT_ENABLED=True)
    users = prepare_accounts(app)
    client = app.test_client()
    for _ in range(5):
        assert sign_in(client, users["admin"].email, password="wrong password here").status_code == 400
    blocked = sign_in(client, users["admin"].email)  # even the right password is refused now
    assert blocked.status_code == 429
    assert "Liian monta kirjautumisyritystä" in blocked.get_data(as_text=True)
    assert client.get("/fi/staff/").status_code == 302
    # another account from another address is not affected
    other = app.test_client()
    resp = other.post("/fi/staff/sign-in", environ_base={"REMOTE_ADDR": "10.0.0.9"},
                      data={"email": users["auditor"].email, "password": PASSWORD, "csrf_token": token(other)})
    assert resp.status_code == 302


def test_sign_in_is_rate_limited_per_address(make_app, monkeypatch):
    import types

    from webapp.web import security
    app = make_app(RATE_LIMIT_ENABLED=True)
    prepare_accounts(app)
    client = app.test_client()
    # The limit counts per fixed window: 21 sign-ins (password hashing, seconds on a slow machine) could
    # straddle a window's end and start counting again. The clock stands still here, as in one window.
    standing = time.time()
    monkeypatch.setattr(security, "time", types.SimpleNamespace(time=lambda: standing, sleep=time.sleep))
    statuses = [sign_in(client, f"user{i}@staff.example.fi", password="wrong password").status_code for i in range(21)]
    assert statuses[:20] == [400] * 20 and statuses[20] == 429


def test_session_expires_after_idle_time(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["admin"].email)
    assert client.get("/fi/staff/").status_code == 200
    age_sessions(app, "staff", seen_seconds_ago=app.config["SESSION_IDLE_MINUTES"] * 60 + 5)
    response = client.get("/fi/staff/units")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sinut kirjattiin ulos" in page
    assert client.get("/fi/staff/").status_code == 302


def test_sign_out_needs_post_with_csrf_and_ends_the_staff_session(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["admin"].email)
    with client.session_transaction() as s:
        s["resident_marker"] = "left behind"  # sign-out clears the whole session (shared workstations)
    assert client.get("/fi/staff/sign-out").status_code == 405
    assert client.post("/fi/staff/sign-out", data={}).status_code == 400
    assert client.get("/fi/staff/").status_code == 200
    assert client.post("/fi/staff/sign-out", data={"csrf_token": token(client)}).status_code == 302
    assert client.get("/fi/staff/").status_code == 302
    with client.session_transaction() as s:
        assert "resident_marker" not in s
        assert "staff_sid" not in s


def test_sign_in_redirects_only_to_local_staff_pages(app):
    users = prepare_accounts(app)
    client = app.test_client()
    html = client.get("/fi/staff/sign-in?next=https://evil.example/").get_data(as_text=True)
    from tests.conftest import csrf_from
    r = client.post("/fi/staff/sign-in", data={"email": users["admin"].email, "password": PASSWORD,
                                               "csrf_token": csrf_from(html), "next": "https://evil.example/"})
    assert r.headers["Location"].endswith("/fi/staff/")


def test_sign_in_is_audited(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["auditor"].email)
    with app.app_context():
        event = db.session().scalar(select(AuditEvent).where(AuditEvent.action == "staff.sign_in"))
        assert event.actor_id == users["auditor"].id


def test_pages_have_one_h1_unique_titles_unique_ids_and_no_inline_style_or_script(app):
    import re
    from collections import Counter
    users = prepare_accounts(app)
    unit_id, _other = editor_unit_ids(app, users)
    client = app.test_client()
    titles = {}
    anon = client.get("/fi/staff/sign-in").get_data(as_text=True)
    pages = {"/fi/staff/sign-in": anon}
    sign_in(client, users["admin"].email)
    for url in ("/fi/staff/", "/fi/staff/units", f"/fi/staff/units/{unit_id}", "/fi/staff/units/new",
                "/fi/staff/providers/new", "/fi/staff/queue-times", "/fi/staff/import", "/fi/staff/audit",
                "/fi/staff/figures", "/sv/staff/paper-choice"):
        response = client.get(url)
        assert response.status_code == 200, url
        pages[url] = response.get_data(as_text=True)
    for url, html in pages.items():
        assert html.count("<h1") == 1, url
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
        assert title not in titles, (url, titles.get(title))
        titles[title] = url
        ids = Counter(re.findall(r'\sid="([^"]+)"', html))
        assert not [i for i, n in ids.items() if n > 1], (url, [i for i, n in ids.items() if n > 1])
        assert " style=" not in html and not re.search(r"<script(?![^>]*\ssrc=)", html), url
        levels = [int(h) for h in re.findall(r"<h([1-6])", html)]
        assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), (url, levels)
