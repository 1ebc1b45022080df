"""Several app nodes on one database: each node's search index follows the change log.

Node A and node B are two apps on the same database with different INDEX_DIRs (as two servers would be);
the two-process version of these tests is in test_two_nodes.py.
"""
from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, insert, select, update

from tests.choice_helpers import confirm_form, free_unit, sign_in
from tests.conftest import csrf_from
from tests.query_counter import counting
from webapp import create_app
from webapp.models import IndexChange, Pilot, Provider, QueueTime, Unit
from webapp.search import purge
from webapp.search.changelog import EVERYTHING, ids_from_where
from webapp.web import db


def second_node(app, tmp_path, copy_index: bool = True, **config):
    """Another app on the same database with its own index folder (built at its first search)."""
    index = tmp_path / "node-b-index"
    if copy_index:
        shutil.copytree(app.config["INDEX_DIR"], index)
    overrides = {k: app.config[k] for k in ("DATABASE_URL", "SECRET_KEY", "RESIDENT_KEY_SECRET", "TESTING",
                                             "RATE_LIMIT_ENABLED", "INDEX_SYNC_INTERVAL_MS")}
    node = create_app({**overrides, "INDEX_DIR": str(index), **config})
    return node


def search_ids(client, **params) -> set[int]:
    """The ids of every unit a search through the API finds (all pages)."""
    ids: set[int] = set()
    page, pages = 1, 1
    while page <= pages:
        response = client.get("/api/v1/units", query_string={**params, "page": page})
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        ids.update(u["id"] for u in body["items"])
        page, pages = page + 1, body["pages"]
    return ids


def log_rows(app) -> list[tuple[int, str | None]]:
    with app.app_context():
        return [tuple(r) for r in db.session().execute(select(IndexChange.id, IndexChange.unit_ids)
                                                        .order_by(IndexChange.id))]


def staff_client(app, role: str = "admin"):
    from tests.test_staff_hardening import _sign_in
    client = app.test_client()
    _sign_in(client, app, role)
    return client


def test_a_staff_edit_through_node_a_is_in_node_bs_next_search(any_app, tmp_path):
    a, b = any_app, second_node(any_app, tmp_path)
    unit_id = free_unit(a)
    client_b = b.test_client()
    assert unit_id in search_ids(client_b, accepting=1)
    staff = staff_client(a)
    page = staff.get(f"/fi/staff/units/{unit_id}").get_data(as_text=True)
    import re
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page) or \
        re.search(r'id="version" name="version" type="hidden" value="(\d+)"', page)
    response = staff.post(f"/fi/staff/units/{unit_id}/visibility",
                          data={"csrf_token": csrf_from(page), "version": version.group(1)})
    assert response.status_code == 302
    assert unit_id not in search_ids(client_b), "hidden on A: gone from B's next search"
    assert unit_id not in search_ids(a.test_client())


def test_a_choice_through_node_a_that_fills_a_unit_leaves_node_bs_accepting_filter(any_app, tmp_path):
    a, b = any_app, second_node(any_app, tmp_path)
    unit_id = free_unit(a)
    with a.app_context():
        unit = db.session().get(Unit, unit_id)
        unit.capacity = unit.listed_count + 1
        db.session().commit()
    client_b = b.test_client()
    assert unit_id in search_ids(client_b, accepting=1)
    resident = a.test_client()
    sign_in(resident, "aino")
    response = resident.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(resident, "fi", unit_id))
    assert response.status_code == 303
    assert unit_id not in search_ids(client_b, accepting=1)
    assert unit_id in search_ids(client_b)  # still listed, only not accepting


def test_a_node_without_an_index_builds_it_by_itself(any_app, tmp_path):
    b = second_node(any_app, tmp_path, copy_index=False)
    assert len(search_ids(b.test_client())) > 10
    assert b.test_client().get("/readyz").status_code == 200


def test_a_workers_first_request_of_any_kind_starts_building_its_index(app, tmp_path):
    """As gunicorn starts workers: the health check's request starts the build in a thread; searches are
    answered once it is done, without building again."""
    import time
    b = second_node(app, tmp_path, copy_index=False, INDEX_SYNC_INTERVAL_MS=60_000)
    search = b.extensions["search"]
    assert search.log_state() is None
    assert b.test_client().get("/healthz").status_code == 200
    started = time.monotonic()
    while search.log_state() is None:
        assert time.monotonic() - started < 30
        time.sleep(0.02)
    with counting(b) as statements:
        assert len(search_ids(b.test_client(), q="tandläkaren")) > 0
    assert all("index_change" not in s for s in statements)  # built once, by the thread


def test_one_query_when_nothing_changed(app):
    with app.app_context():
        sess = db.session()
        search = app.extensions["search"]
        search.catch_up(sess)
        with counting(app) as statements:
            status = search.catch_up(sess)
        assert status.behind == 0
        assert len(statements) == 1 and "index_change" in statements[0]


def test_each_commit_writes_one_log_row_with_one_insert(any_app):
    unit_id = free_unit(any_app)
    before = log_rows(any_app)
    with any_app.app_context():
        sess = db.session()
        inserts: list[str] = []
        listener = lambda *args: inserts.append(args[2]) if "INSERT INTO index_change" in args[2] else None  # noqa
        event.listen(db.engine(), "before_cursor_execute", listener)
        try:
            unit = sess.get(Unit, unit_id)
            unit.name_fi = unit.name_fi + " (muutettu)"
            sess.add(QueueTime(unit_id=unit_id, profession="doctor", t3_days=4, measured_on=date(2026, 1, 5)))
            sess.execute(update(Unit).where(Unit.id == unit_id + 1).values(listed_count=Unit.listed_count + 0))
            sess.commit()
        finally:
            event.remove(db.engine(), "before_cursor_execute", listener)
        assert len(inserts) == 1
    rows = log_rows(any_app)
    assert len(rows) == len(before) + 1
    assert rows[-1][1] == f"{unit_id} {unit_id + 1}"


def test_rolled_back_and_unrelated_changes_write_nothing(app):
    unit_id = free_unit(app)
    before = log_rows(app)
    with app.app_context():
        sess = db.session()
        sess.get(Unit, unit_id).name_fi = "Ei tallennettu"
        sess.flush()
        sess.rollback()
        sess.scalar(select(Unit).where(Unit.id == unit_id))  # reading is not a change
        sess.commit()
    assert log_rows(app) == before


def test_provider_pilot_and_bulk_changes_name_the_right_units(app):
    with app.app_context():
        sess = db.session()
        provider = sess.scalar(select(Provider).order_by(Provider.id))
        unit_ids = sorted(sess.scalars(select(Unit.id).where(Unit.provider_id == provider.id)))
        provider.name = provider.name + " Oy"
        sess.commit()
        assert log_rows(app)[-1][1] == " ".join(map(str, unit_ids))
        sess.scalar(select(Pilot)).summary_fi += " "
        sess.commit()
        assert log_rows(app)[-1][1] is None  # a pilot change: every node rebuilds
        sess.execute(update(Unit).where(Unit.listed_count >= 0).values(accepting_new=True))
        sess.commit()
        assert log_rows(app)[-1][1] is None  # a bulk update without ids


def test_ids_are_read_from_the_where_clause():
    stmt = update(Unit).where(Unit.id == 7, Unit.listed_count < Unit.capacity)
    assert ids_from_where(stmt.whereclause, Unit.id) == [7]
    assert ids_from_where(update(Unit).where(Unit.id.in_([3, 4])).whereclause, Unit.id) == [3, 4]
    assert ids_from_where(update(Unit).where(Unit.capacity > 3).whereclause, Unit.id) is None
    assert EVERYTHING == "*"


def test_a_change_committed_out_of_order_is_not_skipped(app, tmp_path):
    """PostgreSQL can commit id 11 before id 10: the follower must come back for 10."""
    unit_a, unit_b = free_unit(app), free_unit(app, skip=1)
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        head = search.catch_up(sess).head
        # Row head+2 commits first (unit_b hidden); head+1 is still "in flight".
        sess.execute(update(Unit).where(Unit.id == unit_b).values(is_hidden=True))
        sess.info.pop("index_changes", None)
        sess.execute(insert(IndexChange).values(id=head + 2, unit_ids=str(unit_b)))
        sess.commit()
        assert search.catch_up(sess).head == head + 2
        assert head + 1 in search.log_state().gaps
        sess.execute(update(Unit).where(Unit.id == unit_a).values(is_hidden=True))
        sess.info.pop("index_changes", None)
        sess.execute(insert(IndexChange).values(id=head + 1, unit_ids=str(unit_a)))
        sess.commit()
        search.catch_up(sess)
        assert head + 1 not in search.log_state().gaps
    ids = search_ids(app.test_client())
    assert unit_a not in ids and unit_b not in ids


def test_a_row_for_everything_or_a_stale_node_rebuilds(app):
    from webapp.search.changes import STALE_SECONDS
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        search.catch_up(sess)
        sess.scalar(select(Pilot)).summary_fi += " "
        sess.commit()
        assert search.catch_up(sess).rebuilt
        assert not search.catch_up(sess).rebuilt
        search.log_state().checked_at -= STALE_SECONDS + 1  # unchecked longer than half the log's retention
        assert search.catch_up(sess).rebuilt


def test_purge_keeps_a_day_of_log(app):
    with app.app_context():
        sess = db.session()
        sess.execute(insert(IndexChange).values(unit_ids="1", at=datetime.now(UTC) - timedelta(days=2)))
        sess.commit()
        count = len(log_rows(app))
        assert purge(sess) >= 1
        assert len(log_rows(app)) < count
        assert all(r[0] for r in log_rows(app))


def test_seed_and_generated_units_are_in_the_log(app):
    assert log_rows(app)[0][1] is None  # the seed (municipalities, pilots, units): rebuild everything
    before = log_rows(app)
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        assert log_rows(app) == before  # nothing changed, nothing logged
        result = app.test_cli_runner().invoke(args=["generate-demo-units", "3"])
        assert result.exit_code == 0, result.output
        newest = db.session().scalars(select(Unit.id).order_by(Unit.id.desc()).limit(3)).all()
    rows = log_rows(app)[len(before):]
    assert len(rows) == 1 and set(rows[0][1].split()) == set(map(str, newest))
    assert set(newest) <= search_ids(app.test_client())


def test_an_index_of_an_older_format_is_rebuilt_before_new_documents_go_into_it(app, monkeypatch):
    """A release that changes the index's schema or a row's meaning must not apply changes to an index of the
    previous format (it would fail, or mix two formats): the index is rebuilt first."""
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        assert not search.catch_up(sess).rebuilt
        monkeypatch.setattr("webapp.search.service.index_format", lambda: "3:a newer release")
        assert search.catch_up(sess).rebuilt
        assert not search.catch_up(sess).rebuilt


def test_within_the_interval_a_search_makes_no_sql_and_a_local_commit_still_shows_at_once(make_app):
    """As deployed (INDEX_SYNC_INTERVAL_MS > 0): within the interval a search sends no SQL statement at all; a
    commit of this process is still in its very next search; another process's change (no local commit) is in
    the first search after the interval."""
    import time
    app = make_app("sqlite", INDEX_SYNC_INTERVAL_MS=1500)
    client = app.test_client()
    with app.app_context():
        uid = db.session().scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
    assert uid in search_ids(client)
    with counting(app) as statements:
        for params in ({}, {"q": "tandläkaren"}, {"postcode": "00100", "sort": "distance"}):
            search_ids(client, **params)
    assert list(statements) == []
    with app.app_context():  # a commit of this process (staff editing on this node)
        sess = db.session()
        sess.get(Unit, uid).name_fi = "Paikallinen muutos"
        sess.commit()
    assert search_ids(client, q="Paikallinen") == {uid}
    with app.app_context():  # another process: its own connection, no session of this process
        with db.engine().begin() as conn:
            conn.execute(update(Unit).where(Unit.id == uid).values(name_fi="Toisen prosessin muutos"))
            conn.execute(insert(IndexChange).values(unit_ids=str(uid)))
    committed = time.monotonic()
    assert search_ids(client, q="Toisen") == set()  # within the interval: the log is not read
    while not search_ids(client, q="Toisen"):
        assert time.monotonic() - committed < 3.0
        time.sleep(0.05)
    assert time.monotonic() - committed >= 1.0


def test_a_change_on_another_node_is_in_its_next_search_after_the_interval(any_app, tmp_path):
    """Two nodes with an interval, as deployed: a unit hidden on A is gone from B's first search after B's
    interval, never later."""
    import time
    a = any_app
    b = second_node(a, tmp_path, copy_index=False, INDEX_SYNC_INTERVAL_MS=400)
    unit_id = free_unit(a)
    client_b = b.test_client()
    assert unit_id in search_ids(client_b)
    with a.app_context():
        with db.engine().begin() as conn:  # as another process would: no local commit in this one
            conn.execute(update(Unit).where(Unit.id == unit_id).values(is_hidden=True))
            conn.execute(insert(IndexChange).values(unit_ids=str(unit_id)))
    time.sleep(0.45)
    assert unit_id not in search_ids(client_b)


def test_a_replaced_snapshots_searcher_stays_open_while_a_search_holds_it_and_closes_after(app):
    """A replaced snapshot's Whoosh searcher is closed as soon as the last search using it is done, never while
    one still is."""
    from whoosh.query import Every
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        unit = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
        held = search.current(sess)  # as a search in progress on another thread holds it
        searcher = held.text.searcher
        unit.name_fi = "Vaihtunut nimi"
        sess.commit()
        assert search.current(sess) is not held  # replaced
        assert not searcher.is_closed
        assert len(list(Every().docs(held.text.searcher))) > 0  # the search can still read
        del held  # the last reference: closed at once
        assert searcher.is_closed
