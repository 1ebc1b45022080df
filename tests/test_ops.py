"""Health, readiness, metrics, the rate limiter (exact under concurrency, Retry-After), and the scheduled
activation of due choices."""
from __future__ import annotations

import secrets
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from tests.choice_helpers import confirm_form, free_unit, person, sign_in
from tests.test_index_follow import log_rows, search_ids
from webapp import create_app
from webapp.choice import use_cases as svc
from webapp.core.clock import helsinki_today
from webapp.identity.person import resident_key
from webapp.models import Choice, Resident, Unit
from webapp.web import db, security


def test_healthz_and_readyz(any_app):
    client = any_app.test_client()
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.get_json()
    assert body["database"] == "ok" and body["index_behind"] == 0 and body["index_head"] >= 1


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none", "INDEX_DIR": str(tmp_path),
                      "SECRET_KEY": "x" * 40, "RESIDENT_KEY_SECRET": "y" * 40, "TESTING": True})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process itself answers
    response = client.get("/readyz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_readyz_brings_a_lagging_index_to_the_head(app):
    unit_id = free_unit(app)
    with app.app_context():
        db.session().get(Unit, unit_id).is_hidden = True
        db.session().commit()
    body = app.test_client().get("/readyz").get_json()
    assert body["index_behind"] == 0 and body["index_head"] == log_rows(app)[-1][0]


def test_readyz_rebuilds_when_the_log_went_back_after_a_failover(app):
    """Asynchronous replication can lose the newest log rows: a head beyond the log's last id is stale."""
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        search.log_state().head += 5  # rows this node applied that the new primary never got
        assert search.check_sequence(sess)
    body = app.test_client().get("/readyz").get_json()
    assert body["status"] == "ok" and body["index_head"] == log_rows(app)[-1][0]


def test_metrics_count_requests_and_choices_without_personal_data(app):
    client = app.test_client()
    unit_id = free_unit(app)
    sign_in(client, "aino")
    response = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert response.status_code == 303
    client.get("/fi/search?q=terveys")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'valinta_choices_total{channel="web",outcome="created",reason=""}' in text
    assert 'valinta_http_requests_total{endpoint="public.search",method="GET",status="200"}' in text
    assert "valinta_http_request_duration_seconds_bucket" in text
    assert "valinta_index_lag_rows" in text and "valinta_index_log_head" in text
    assert person("aino").hetu not in text and "Aino" not in text and "/fi/choose/" not in text


def test_a_refused_choice_is_counted_by_reason(app):
    unit_id = free_unit(app)
    client = app.test_client()
    sign_in(client, "aino")
    form = confirm_form(client, "fi", unit_id)
    with app.app_context():  # the last place goes while Aino reads the confirmation page
        unit = db.session().get(Unit, unit_id)
        unit.capacity = unit.listed_count
        db.session().commit()
    assert client.post(f"/fi/choose/{unit_id}/confirm", data=form).status_code == 409
    text = client.get("/metrics").get_data(as_text=True)
    assert 'valinta_choices_total{channel="web",outcome="refused",reason="unit_full"}' in text


def test_429_answers_say_when_to_try_again(make_app):
    app = make_app("sqlite", RATE_LIMIT_ENABLED=True)
    client = app.test_client()
    from tests.test_staff_helpers import sign_in as staff_sign_in
    statuses = [staff_sign_in(client, "nobody@example.fi", password="wrong password") for _ in range(6)]
    limited = statuses[-1]
    assert limited.status_code == 429
    retry = int(limited.headers["Retry-After"])
    assert 0 < retry <= 15 * 60 + 1
    assert all("Retry-After" not in r.headers for r in statuses[:5])


def test_rate_limiter_counts_exactly_under_concurrency(make_app):
    app: Flask = make_app(RATE_LIMIT_ENABLED=True)
    results: list[bool] = []
    errors: list[BaseException] = []

    def hammer() -> None:
        with app.app_context():
            for _ in range(5):
                try:
                    results.append(security.rate_limited("test:concurrency", 12, 3600))
                except BaseException as exc:  # noqa: BLE001
                    errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 40
    assert results.count(False) == 12, "exactly the limit is let through"


def _liisa(app) -> int:
    with app.app_context():
        key = resident_key(app.config["RESIDENT_KEY_SECRET"], person("liisa").hetu)
        return db.session().scalar(select(Resident.id).where(Resident.key == key))


def test_activate_due_choices_on_the_day_before_of_and_after(app):
    """Liisa switches; the job activates the new choice on its effective day (not the day before), releases
    the old unit's place, records it for the search indexes, and does nothing when run again."""
    rid = _liisa(app)
    target = free_unit(app, skip=2)
    with app.app_context():
        sess = db.session()
        old = sess.scalar(select(Choice).where(Choice.resident_id == rid, Choice.status == "active"))
        old_id, old_unit, old_listed = old.id, old.unit_id, sess.get(Unit, old.unit_id).listed_count
        outcome = svc.submit_choice(sess, rid, target, secrets.token_urlsafe(24), helsinki_today())
        assert outcome.status == "created", outcome.reasons
        effective = outcome.choice.effective_from
        choice_id = outcome.choice.id
    runner = app.test_cli_runner()

    def run_on(day) -> str:
        app.config["TODAY"] = day.isoformat()
        with app.app_context():
            result = runner.invoke(args=["activate-due-choices"])
        assert result.exit_code == 0, result.output
        return result.output.strip()

    assert run_on(effective - timedelta(days=1)) == "Activated 0 choices."
    with app.app_context():
        due = len(db.session().scalars(select(Choice.id).where(Choice.status == "pending",
                                                               Choice.effective_from <= effective)).all())
    rows_before = log_rows(app)
    assert run_on(effective) == f"Activated {due} choices."  # Liisa's and any other seeded choice due that day
    assert run_on(effective) == "Activated 0 choices."  # idempotent
    assert run_on(effective + timedelta(days=1)) == "Activated 0 choices."
    with app.app_context():
        sess = db.session()
        assert sess.get(Choice, choice_id).status == "active"
        assert sess.get(Choice, old_id).status == "ended"
        assert sess.get(Unit, old_unit).listed_count == old_listed - 1
    new_rows = log_rows(app)[len(rows_before):]
    assert len(new_rows) == 1 and str(old_unit) in new_rows[0][1].split()  # one transaction, one row
    assert old_unit in search_ids(app.test_client())
