"""The audit log: who changed what and when, filters, paging and scope."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.test_staff_helpers import prepare_accounts, sign_in
from webapp.models import AuditEvent, Pilot
from webapp.web import db


def _events(app, users):
    with app.app_context():
        sess = db.session()
        uusimaa = users["pilot_manager"].pilot_id
        tampere = sess.scalar(select(Pilot.id).where(Pilot.slug == "tampere"))
        old = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
        sess.add_all([
            AuditEvent(actor_type="staff", actor_id=users["admin"].id, action="unit.update", entity_type="unit",
                       entity_id=1, pilot_id=uusimaa, before={"name_fi": "Vanha"}, after={"name_fi": "Uusi"}),
            AuditEvent(actor_type="staff", actor_id=users["admin"].id, action="unit.update", entity_type="unit",
                       entity_id=2, pilot_id=tampere, before={"phone": "09 1"}, after={"phone": "09 2"}),
            AuditEvent(at=old, actor_type="staff", actor_id=users["pilot_manager"].id, action="queue_time.set",
                       entity_type="unit", entity_id=3, pilot_id=uusimaa, after={"doctor 2026-01-10": 5}),
        ])
        sess.add_all([AuditEvent(actor_type="system", action="bulk.test", entity_type="unit", entity_id=i,
                                 pilot_id=tampere) for i in range(60)])
        sess.commit()


def test_auditor_lists_and_filters(app):
    users = prepare_accounts(app)
    _events(app, users)
    client = app.test_client()
    sign_in(client, users["auditor"].email)
    html = client.get("/fi/staff/audit?action=unit.update").get_data(as_text=True)
    assert "Vanha" in html and "Uusi" in html and "09 2" in html
    assert "bulk.test</td>" not in html
    html = client.get("/fi/staff/audit?actor=pilot.manager").get_data(as_text=True)
    assert "queue_time.set" in html and "Vanha" not in html
    html = client.get("/fi/staff/audit?from=2026-01-01&to=2026-01-31").get_data(as_text=True)
    assert "queue_time.set</td>" in html and "unit.update</td>" not in html
    first = client.get("/fi/staff/audit?action=bulk.test").get_data(as_text=True)
    assert "Tapahtumia: 60" in first and "Sivu 1/2" in first
    second = client.get("/fi/staff/audit?action=bulk.test&page=2").get_data(as_text=True)
    assert second.count("bulk.test</td>") == 10
    bad = client.get("/sv/staff/audit?from=31.1.2026")
    assert bad.status_code == 400 and "Ange datumet i formen 2026-11-24." in bad.get_data(as_text=True)
    assert client.get("/fi/staff/audit?page=x").status_code == 400


def test_pilot_manager_sees_only_their_pilots_events(app):
    users = prepare_accounts(app)
    _events(app, users)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    html = client.get("/fi/staff/audit").get_data(as_text=True)
    assert "Vanha" in html and "queue_time.set" in html
    assert "09 2" not in html and "bulk.test</td>" not in html


def test_provider_editor_cannot_read_the_audit_log(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["provider_editor"].email)
    assert client.get("/fi/staff/audit").status_code == 403
