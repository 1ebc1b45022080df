"""Regressions found in review: re-choosing after cancel, cancel racing activation, rate limiter under
concurrency, ids outside the database's integer range, APP_ENV typos."""
from __future__ import annotations

import threading

import pytest
from flask import Flask

from tests.choice_helpers import confirm_form, counts, free_unit, sign_in
from webapp import db, security
from webapp.choice import service as svc
from webapp.config import ConfigError, load_settings
from webapp.models import Choice


def test_unit_can_be_chosen_again_after_its_pending_choice_was_cancelled(client, app):
    unit_id = free_unit(app)
    sign_in(client, "aino")
    first = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert first.status_code == 303
    reference = first.headers["Location"].rsplit("/", 1)[1]
    cancel_page = client.get(f"/fi/my-choices/{reference}/cancel")
    from tests.conftest import csrf_from
    done = client.post(f"/fi/my-choices/{reference}/cancel", data={"csrf_token": csrf_from(cancel_page.get_data(as_text=True))})
    assert done.status_code == 303
    again = client.get(f"/fi/choose/{unit_id}/confirm")
    assert again.status_code == 200, "a cancelled choice must not block a new confirmation form"
    second = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert second.status_code == 303
    assert second.headers["Location"].rsplit("/", 1)[1] != reference
    with app.app_context():
        statuses = sorted(c.status for c in db.session().query(Choice).filter(Choice.unit_id == unit_id))
    assert statuses == ["cancelled", "pending"]


@pytest.mark.postgres
def test_cancel_that_loses_a_race_with_activation_changes_nothing(make_app, monkeypatch):
    app = make_app("postgres")
    client = app.test_client()
    unit_id = free_unit(app)
    sign_in(client, "aino")
    response = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    reference = response.headers["Location"].rsplit("/", 1)[1]
    rows_before, listed_before = counts(app, unit_id)
    original_snapshot = svc._snapshot

    def activate_meanwhile(choice):  # noqa: ANN001
        other = db.new_session()  # another transaction activates the choice after ours has read it
        other.execute(svc.update(Choice).where(Choice.id == choice.id).values(status="active"))
        other.commit()
        other.close()
        return original_snapshot(choice)

    monkeypatch.setattr(svc, "_snapshot", activate_meanwhile)
    with app.app_context():
        resident_id = db.session().query(Choice.resident_id).filter(Choice.reference == reference).scalar()
        with pytest.raises(svc.ChoiceConflict):
            svc.cancel_choice(db.session(), resident_id, reference, svc.helsinki_today())
    assert counts(app, unit_id) == (rows_before, listed_before)
    with app.app_context():
        assert db.session().query(Choice.status).filter(Choice.reference == reference).scalar() == "active"


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


@pytest.mark.parametrize("path", ["/fi/units/3000000000", "/fi/choose/99999999999999999999999",
                                  "/sv/units/2147483648", "/api/v1/units/3000000000"])
def test_ids_outside_the_integer_range_are_not_found(any_app, path):
    response = any_app.test_client().get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("env", ["prod", "Production", "staging"])
def test_unknown_app_env_is_refused(env):
    with pytest.raises(ConfigError, match="APP_ENV"):
        load_settings({"APP_ENV": env})


@pytest.mark.parametrize("path", ["/fi/compare?unit=²&unit=1", "/api/v1/units/²", "/sv/search?page=²",
                                  "/api/v1/units?page=٣"])
def test_non_ascii_digits_are_a_clear_4xx(client, path):
    response = client.get(path)
    assert 400 <= response.status_code < 500


def _accepting_ids(client) -> set[int]:
    data = client.get("/api/v1/units?accepting=1&per_page=100&pilot=uusimaa&element=sote_centre").json
    ids = {item["id"] for item in data["items"]}
    page = 2
    while len(ids) < data["total"]:
        ids |= {item["id"] for item in client.get(f"/api/v1/units?accepting=1&pilot=uusimaa&element=sote_centre"
                                                  f"&page={page}").json["items"]}
        page += 1
    return ids


def test_search_stops_offering_a_unit_when_a_web_choice_takes_its_last_place(client, app):
    from webapp.models import Unit
    unit_id = free_unit(app)
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        unit.listed_count = unit.capacity - 1  # one place left
        db.session().commit()
        app.extensions["search"].catch_up(db.session())
    assert unit_id in _accepting_ids(client)
    sign_in(client, "aino")
    response = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert response.status_code == 303
    assert unit_id not in _accepting_ids(client), "the full unit must leave the accepting filter at once"
    reference = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/fi/my-choices/{reference}/cancel")
    from tests.conftest import csrf_from
    client.post(f"/fi/my-choices/{reference}/cancel", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert unit_id in _accepting_ids(client), "a cancelled choice frees the place in search too"
