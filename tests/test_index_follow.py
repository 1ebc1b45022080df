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
from webapp import create_app
from webapp.models import IndexChange, Pilot, Provider, QueueTime, Unit
from webapp.search import follow
from webapp.search.changelog import EVERYTHING, ids_from_where
from webapp.web import db


def second_node(app, tmp_path, copy_index: bool = True):
    """Another app on the same database with its own index folder."""
    index = tmp_path / "node-b-index"
    if copy_index:
        shutil.copytree(app.config["INDEX_DIR"], index)
    overrides = {k: app.config[k] for k in ("DATABASE_URL", "SECRET_KEY", "RESIDENT_KEY_SECRET", "TESTING",
                                             "RATE_LIMIT_ENABLED", "INDEX_SYNC_INTERVAL_MS")}
    node = create_app({**overrides, "INDEX_DIR": str(index)})
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
    from tests.test_staff_review_fixes import _sign_in
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


def test_one_query_when_nothing_changed(app):
    with app.app_context():
        sess = db.session()
        follow.catch_up(sess, app.config["INDEX_DIR"])
        statements: list[str] = []
        engine = db.engine()
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            status = follow.catch_up(sess, app.config["INDEX_DIR"])
        finally:
            event.remove(engine, "before_cursor_execute", listener)
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
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        head = follow.catch_up(sess, index_dir).head
        # Row head+2 commits first (unit_b hidden); head+1 is still "in flight".
        sess.execute(update(Unit).where(Unit.id == unit_b).values(is_hidden=True))
        sess.info.pop("index_changes", None)
        sess.execute(insert(IndexChange).values(id=head + 2, unit_ids=str(unit_b)))
        sess.commit()
        assert follow.catch_up(sess, index_dir).head == head + 2
        state = follow.read_state(follow.current_version(index_dir))
        assert head + 1 in state.gaps
        sess.execute(update(Unit).where(Unit.id == unit_a).values(is_hidden=True))
        sess.info.pop("index_changes", None)
        sess.execute(insert(IndexChange).values(id=head + 1, unit_ids=str(unit_a)))
        sess.commit()
        follow.catch_up(sess, index_dir)
        assert head + 1 not in follow.read_state(follow.current_version(index_dir)).gaps
    ids = search_ids(app.test_client())
    assert unit_a not in ids and unit_b not in ids


def test_a_row_for_everything_or_a_stale_node_rebuilds(app):
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        follow.catch_up(sess, index_dir)
        sess.scalar(select(Pilot)).summary_fi += " "
        sess.commit()
        assert follow.catch_up(sess, index_dir).rebuilt
        assert not follow.catch_up(sess, index_dir).rebuilt
        version = follow.current_version(index_dir)
        state = follow.read_state(version)
        state.checked_at -= follow.STALE_SECONDS + 1  # down longer than half the log's retention
        follow.write_state(version, state)
        assert follow.catch_up(sess, index_dir).rebuilt


def test_purge_keeps_a_day_of_log(app):
    with app.app_context():
        sess = db.session()
        sess.execute(insert(IndexChange).values(unit_ids="1", at=datetime.now(UTC) - timedelta(days=2)))
        sess.commit()
        count = len(log_rows(app))
        assert follow.purge(sess) >= 1
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
    """A release that changes the index's schema or stored card must not write its documents into an index
    built by the previous release (it would fail, or mix two formats): every node rebuilds first."""
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        assert not follow.catch_up(sess, index_dir).rebuilt
        monkeypatch.setattr(follow, "index_format", lambda: "3:a newer release")
        assert follow.catch_up(sess, index_dir).rebuilt
        assert follow.read_state(follow.current_version(index_dir)).index_format == "3:a newer release"
        assert not follow.catch_up(sess, index_dir).rebuilt


def test_a_text_search_on_an_open_snapshot_does_not_reread_the_index_files(app):
    """Under load another worker's writer deletes the previous generation's TOC file while searches are
    still answered from the snapshot that read it; a search must not go back to the files for the schema
    (it did: FileNotFoundError, a 500 on the search page)."""
    from webapp.search import snapshots
    from webapp.search.params import SearchParams
    from webapp.search.query import execute

    with app.app_context():
        snap = snapshots.snapshot(app.config["INDEX_DIR"])
        tocs = list(snap.path.glob("_MAIN_*.toc"))
        assert tocs
        for toc in tocs:
            toc.rename(toc.with_suffix(".gone"))
        try:
            result = execute(snap, SearchParams(q="tandläkaren"), lang="fi", facets=False)
        finally:
            for toc in tocs:
                toc.with_suffix(".gone").rename(toc)
        assert result.total > 0


def test_small_segments_left_by_changes_are_merged(app):
    """Each applied change writes a small segment; the change that makes a merge due folds the small segments
    into its own (webapp/search/index.py), so none stays due, and searches stay right throughout."""
    from whoosh import index as windex

    from webapp.search.index import current_version
    from webapp.search.merging import MERGE_FACTOR, merge_start, tier
    client = app.test_client()
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(10)).all()
    for round_no, unit_id in enumerate(ids):
        with app.app_context():
            sess = db.session()
            sess.get(Unit, unit_id).name_fi = f"Taustayhdistys kierros{round_no}"
            sess.commit()
        assert search_ids(client, q=f"kierros{round_no}") == {unit_id}
    ix = windex.open_dir(str(current_version(app.config["INDEX_DIR"])))
    try:
        counts = [seg.doc_count() for seg in ix._segments()]
        assert merge_start(counts) is None  # nothing left to merge
        assert len(counts) < 1 + len(ids)  # the ten one-unit segments did not all stay
        assert all(sum(1 for n in counts[1:] if tier(n) == t) < MERGE_FACTOR for t in range(3))
    finally:
        ix.close()
    assert search_ids(client, q="Taustayhdistys") == set(ids)


def test_a_replaced_snapshots_searcher_stays_open_while_a_search_holds_it_and_closes_after(app):
    """Each open Whoosh searcher holds megabytes; a replaced snapshot's is closed as soon as the last search
    using the snapshot is done, never while one still is (its files are memory-mapped)."""
    from whoosh.query import Every

    from webapp.search.index import update_units
    from webapp.search.snapshots import snapshot
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        unit = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
        held = snapshot(index_dir)  # as a search in progress on another thread holds it
        searcher = held.searcher
        unit.name_fi = "Vaihtunut nimi"
        sess.commit()
        update_units(sess, index_dir, [unit.id])
        assert snapshot(index_dir) is not held  # replaced
        assert not searcher.is_closed
        assert len(list(Every().docs(held.searcher))) > 0  # the search can still read its files
        del held  # the last reference: closed at once, not a minute later
        assert searcher.is_closed


def test_within_the_sync_interval_a_search_reads_no_index_file_and_a_local_commit_still_shows_at_once(
        make_app, monkeypatch):
    """As deployed (INDEX_SYNC_INTERVAL_MS > 0): within the interval a search neither asks the change log nor
    reads the index's files; a commit of this process is still in the very next search, and a write by
    another process (no local commit) is seen once the interval has passed."""
    import time

    from webapp.search import index as search_index
    from webapp.search import snapshots
    app = make_app("sqlite", INDEX_SYNC_INTERVAL_MS=1500)
    client = app.test_client()
    with app.app_context():
        uid = db.session().scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
    assert uid in search_ids(client)
    reads: list[str] = []
    real = search_index.current_version
    for module in (follow, snapshots):
        monkeypatch.setattr(module, "current_version", lambda d: reads.append(d) or real(d))
    assert uid in search_ids(client)
    assert reads == []  # a throttled search: no file read
    with app.app_context():  # a commit of this process (staff editing on this node)
        sess = db.session()
        sess.get(Unit, uid).name_fi = "Paikallinen muutos"
        sess.commit()
    assert search_ids(client, q="Paikallinen") == {uid}
    # Another process's write: the database changed without this process's session (no local commit event),
    # and the index written as that process's follower would (its note of the change is not ours).
    with app.app_context():
        with db.engine().begin() as conn:
            conn.execute(update(Unit).where(Unit.id == uid).values(name_fi="Toisen prosessin muutos"))
        noted = dict(search_index.changed_at)
        search_index.update_units(db.session(), app.config["INDEX_DIR"], [uid])
        search_index.changed_at.clear()
        search_index.changed_at.update(noted)
    assert search_ids(client, q="Toisen") == set()  # within the interval: the snapshot is not looked at again
    time.sleep(1.6)
    assert search_ids(client, q="Toisen") == {uid}


def test_rows_another_worker_applied_while_this_one_waited_for_the_lock_are_not_applied_twice(app, monkeypatch):
    """catch_up reads the log, then waits for the node's lock: rows read before are applied as read only when
    the index's state did not move meanwhile; otherwise the log is read again (and here finds nothing)."""
    from webapp.search import follow as follow_module
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        unit = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
        unit.name_fi = "Kahden työntekijän yksikkö"
        sess.commit()
        version = follow_module.current_version(index_dir)
        seen = follow_module.read_state(version)
        rows = follow_module._unapplied(sess, seen, 0.0)  # this worker read the log...
        assert rows
        follow.catch_up(sess, index_dir, force=True)  # ...and another applied it first
        applied = []
        monkeypatch.setattr(follow_module, "update_units", lambda *args, **kwargs: applied.append(args))
        follow_module._apply_locked(sess, index_dir, rows, (version, seen))
        assert applied == []
        unchanged = follow_module.read_state(version)
        unit.name_fi = "Kahden työntekijän yksikkö, uusi nimi"
        sess.commit()
        rows = follow_module._unapplied(sess, unchanged, 0.0)
        follow_module._apply_locked(sess, index_dir, rows, (version, unchanged))
        assert len(applied) == 1 and set(applied[0][2]) == {unit.id}  # state as seen: the rows read are applied
