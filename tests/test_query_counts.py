"""SQL statements per page and per choice: a fixed number that does not grow with units, results or rows.

Query counts are deterministic (timings are not: those are measured by bench/). A page that starts making a
query per unit, per result or per import row fails here. The limits are today's counts: raise one only with
a reason in the commit.
"""
from __future__ import annotations

import pytest

from tests.choice_helpers import confirm_form, free_unit
from tests.choice_helpers import sign_in as resident_sign_in
from tests.query_counter import counting
from tests.test_import_csv import export, rows_of, to_csv, upload
from tests.test_staff_helpers import prepare_accounts
from tests.test_staff_helpers import sign_in as staff_sign_in
from webapp.choice import use_cases as svc
from webapp.seeding.demo import generate_bulk_units
from webapp.web import db
from webapp.web.clock import today as clock_today

PUBLIC = [  # (path, most statements); {unit} is a free sote-keskus unit
    ("/fi/", 5),
    ("/sv/pilots", 3),
    ("/fi/pilots/uusimaa", 4),
    ("/fi/pilots/uusimaa/client-voucher", 4),
    ("/fi/search?q=hammaslääkäri", 0),
    ("/sv/search?element=sote_centre&accepting=1&service=doctor&language=sv", 0),
    ("/fi/search?postcode=00100&radius_km=30&sort=distance", 0),
    ("/fi/units/{unit}", 9),  # the unit, its 7 collections (with PTV accessibility sentences), the postcode
    ("/sv/compare?unit={unit}&unit=2&unit=3", 7),
    ("/api/v1/units?q=lääkäri&page=2", 0),
    ("/api/v1/units/{unit}", 3),
]


@pytest.fixture
def app(make_app):
    """As deployed: a process checks the index change log at most once per INDEX_SYNC_INTERVAL_MS; here
    long enough that the counted request comes within it (the check itself is one indexed query)."""
    return make_app("sqlite", INDEX_SYNC_INTERVAL_MS=60_000)


def statements(app, client, path: str) -> int:
    with counting(app) as seen:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(seen)


def test_search_reads_reference_data_once_then_nothing(app, client):
    first = statements(app, client, "/fi/search?postcode=00100&sort=distance")
    assert 0 < first <= 5  # the change log's head, pilots, municipalities, codes and the postcode
    assert statements(app, client, "/fi/search?postcode=00100&sort=distance") == 0


@pytest.mark.parametrize("path, most", PUBLIC)
def test_public_pages_make_few_statements(app, client, path, most):
    path = path.format(unit=free_unit(app))
    client.get(path)  # reference data (kept per process) is read by the first search only
    with counting(app) as seen:
        response = client.get(path)
    assert response.status_code == 200
    assert len(seen) <= most, f"{path}: {len(seen)} statements\n{seen}"


def test_counts_do_not_grow_with_the_number_of_units(app, client):
    unit = free_unit(app)
    paths = [p.format(unit=unit) for p, _most in PUBLIC]
    for p in paths:
        client.get(p)
    before = {p: statements(app, client, p) for p in paths}
    with app.app_context():
        generate_bulk_units(db.session(), 60)
        db.session().commit()
        app.extensions["search"].rebuild(db.session())
    for p in paths:
        client.get(p)
    after = {p: statements(app, client, p) for p in paths}
    assert after == before


# Every signed-in request reads its server-side session row once (webapp.accounts.sessions): +1 below.
def test_choice_journey_pages(app, client):
    unit = free_unit(app)
    resident_sign_in(client, "aino", "fi")
    assert statements(app, client, f"/fi/choose/{unit}") <= 8
    assert statements(app, client, f"/fi/choose/{unit}/confirm") <= 7
    form = confirm_form(client, "fi", unit)
    response = client.post(f"/fi/choose/{unit}/confirm", data=form)
    assert response.status_code == 303
    assert statements(app, client, response.headers["Location"]) <= 5  # the receipt
    assert statements(app, client, "/fi/my-choices") <= 4  # choices, and waiting lists with their places


def test_a_choice_submission_is_at_most_eight_statements(any_app):
    """The use case alone: lock the resident, read them with their choices, lock the unit, read it with its
    rules and the pilot's municipalities, reserve the place, the choice, the audit event, the change-log row.
    (Each lock is a statement of its own: webapp/choice/locking.py says why.)"""
    from tests.test_capacity import make_residents
    unit = free_unit(any_app)
    (rid,) = make_residents(any_app, 1)
    with any_app.app_context():
        with counting(any_app) as seen:
            outcome = svc.submit_choice(db.session(), rid, unit, "count-token", clock_today())
        assert outcome.status == "created"
        assert len(seen) <= 8, str(seen)
        with counting(any_app) as seen:
            again = svc.submit_choice(db.session(), rid, unit, "count-token", clock_today())
        assert again.status == "duplicate" and len(seen) <= 3, str(seen)


@pytest.fixture
def manager(app):
    users = prepare_accounts(app)
    client = app.test_client()
    staff_sign_in(client, users["pilot_manager"].email)
    return client


def test_staff_pages_make_few_statements(app, manager):
    unit = free_unit(app)
    assert statements(app, manager, "/fi/staff/units") <= 4
    assert statements(app, manager, "/fi/staff/units?page=2") <= 4
    assert statements(app, manager, f"/fi/staff/units/{unit}") <= 11  # the unit and its 7 collections
    assert statements(app, manager, "/fi/staff/queue-times") <= 5
    assert statements(app, manager, "/fi/staff/export.csv") <= 10  # the units and their 7 collections


def test_import_dry_run_does_not_grow_with_rows(app, manager):
    rows = rows_of(export(manager))
    assert len(rows) > 30

    def dry_run(count: int) -> int:
        with counting(app) as seen:
            response = upload(manager, to_csv(rows[:count]))
        assert response.status_code == 200
        return len(seen)

    few, many = dry_run(3), dry_run(len(rows))
    assert few == many <= 25  # three requests, each +1 for the session row
