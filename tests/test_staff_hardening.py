"""The staff workspace holds up against odd input and stale state: non-ASCII digits in queries and versions, odd or
deeply nested PTV JSON and CSV formulas hidden behind white space are refused; sessions are rotated at sign-in and
sign-out and end after their maximum lifetime; a pilot manager without a pilot sees no audit events."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from tests.conftest import csrf_from
from tests.session_helpers import age_sessions
from webapp.accounts.staff import hash_password
from webapp.models import AuditEvent, StaffUser, Unit
from webapp.web import db


def _sign_in(client, app, role: str):
    with app.app_context():
        user = db.session().scalar(select(StaffUser).where(StaffUser.role == role))
        user.password_hash = hash_password("correct horse battery")
        db.session().commit()
        email = user.email
    page = client.get("/fi/staff/sign-in")
    response = client.post("/fi/staff/sign-in", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                      "email": email, "password": "correct horse battery"})
    assert response.status_code in (302, 303), response.status_code
    return email


@pytest.mark.parametrize("path", ["/fi/staff/units?page=²", "/fi/staff/audit?page=²", "/fi/staff/figures?year=²",
                                  "/fi/staff/units?page=٣"])
def test_non_ascii_digits_in_query_are_a_clear_4xx(client, app, path):
    _sign_in(client, app, "admin")
    assert client.get(path).status_code == 400


def test_non_ascii_digit_as_version_changes_nothing(client, app):
    _sign_in(client, app, "admin")
    with app.app_context():
        unit = db.session().scalar(select(Unit).order_by(Unit.id))
        unit_id, version = unit.id, unit.version
    page = client.get(f"/fi/staff/units/{unit_id}")
    response = client.post(f"/fi/staff/units/{unit_id}/visibility",
                           data={"csrf_token": csrf_from(page.get_data(as_text=True)), "version": "²"})
    assert 400 <= response.status_code < 500
    with app.app_context():
        assert db.session().get(Unit, unit_id).version == version


@pytest.mark.parametrize("payload", [
    {"serviceChannelType": "ServiceLocation", "serviceHours": [{"serviceHourType": "DaysOfTheWeek",
                                                                "openingHour": ["x"]}]},
    {"serviceChannelType": "ServiceLocation", "serviceHours": [{"serviceHourType": "DaysOfTheWeek",
                                                                "openingHour": [{"dayFrom": "Monday", "from": 8,
                                                                                 "to": 16}]}]},
    {"serviceChannelType": "ServiceLocation", "addresses": [{"type": "Location", "streetAddress": "foo"}]},
])
def test_odd_ptv_json_shapes_are_refused_not_crashed(app, payload):
    from datetime import date

    from webapp.imports.ptv import plan_import
    from webapp.models import Pilot, Provider
    with app.app_context():
        sess = db.session()
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == "uusimaa"))
        user = sess.scalar(select(StaffUser).where(StaffUser.role == "admin"))
        result = plan_import(sess, user, [payload], pilot, sess.scalar(select(Provider)), "sote_centre", date(2026, 11,
                                                                                                              30))
        # refused with a message naming the location and the field, nothing planned
        assert not result.plan.ok and not result.plan.creates and "PTV" in result.plan.errors[0].message


def test_deeply_nested_ptv_json_is_refused(app):
    from webapp.imports.ptv import PtvFileError, read_file_items
    with pytest.raises(PtvFileError):
        read_file_items(b"[" * 100000 + b"]" * 100000)


def test_staff_sign_in_and_out_clear_the_session(client, app):
    with client.session_transaction() as s:
        s["planted"] = "from the previous user"
    _sign_in(client, app, "admin")
    with client.session_transaction() as s:
        assert "planted" not in s
        s["planted"] = "again"
    page = client.get("/fi/staff/")
    client.post("/fi/staff/sign-out", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    with client.session_transaction() as s:
        assert "planted" not in s and "staff_sid" not in s


def test_staff_session_ends_after_the_maximum_lifetime(client, app):
    _sign_in(client, app, "admin")
    assert client.get("/fi/staff/").status_code == 200
    age_sessions(app, "staff", ended=True)
    response = client.get("/fi/staff/")
    assert response.status_code in (302, 303) and "/staff/sign-in" in response.headers["Location"]


def test_pilot_manager_without_a_pilot_sees_no_audit_events(client, app):
    _sign_in(client, app, "admin")  # creates a sign-in audit event without a pilot
    client2 = app.test_client()
    with app.app_context():
        manager = db.session().scalar(select(StaffUser).where(StaffUser.role == "pilot_manager"))
        manager.pilot_id = None
        db.session().commit()
        assert db.session().scalar(select(AuditEvent).where(AuditEvent.pilot_id.is_(None))) is not None
    _sign_in(client2, app, "pilot_manager")
    html = client2.get("/fi/staff/audit").get_data(as_text=True)
    assert "Hakuehtoja vastaavia tapahtumia ei ole." in html  # the empty state: no rows at all


@pytest.mark.parametrize("cell", ["\u3000=HYPERLINK(\"http://x\")", "\n=1+2"])
def test_csv_formula_hidden_behind_white_space_is_refused(client, app, cell):
    _sign_in(client, app, "admin")
    export = client.get("/fi/staff/export.csv").get_data(as_text=True).lstrip("\ufeff")
    lines = export.splitlines()
    header = lines[0].split(",")
    import csv
    rows = list(csv.reader(io.StringIO(export)))
    row = rows[1]
    row[header.index("name_fi")] = cell
    out = io.StringIO()
    csv.writer(out).writerows([rows[0], row])
    page = client.get("/fi/staff/import")
    response = client.post("/fi/staff/import", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "file": (io.BytesIO(out.getvalue().encode()), "units.csv")}, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "spreadsheet formula" in html or "taulukkolaskennan kaava" in html or response.status_code in (400, 422)
    assert response.status_code in (400, 422)


def test_staff_can_sign_in_in_a_browser_where_a_resident_is_signed_in(make_app):
    """With the rate limits on (as served), a resident's session in the same browser made the staff sign-in a
    503 on SQLite: the request's session read the resident's session first, the rate limit then wrote
    from a session of its own, and the request's later write met a snapshot that was no longer the latest."""
    from tests.choice_helpers import sign_in
    app = make_app("sqlite", RATE_LIMIT_ENABLED=True)
    client = app.test_client()
    sign_in(client, "aino")
    assert client.get("/fi/my-choices").status_code == 200
    _sign_in(client, app, "admin")
    assert client.get("/fi/staff/units").status_code == 200
