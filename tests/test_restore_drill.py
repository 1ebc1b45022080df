"""The restore drill (scripts/restore_drill.py) on PostgreSQL: a seeded database with choices and waiting-list
entries made through the use cases is dumped with pg_dump -Fc and restored into a new database, and the data
and the pages compare the same; a choice deleted from the restored copy is reported; a pg_dump of another
major version is refused with a clear error."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import func, select

from scripts import restore_drill
from tests.choice_helpers import free_unit
from tests.conftest import _pg_admin, _pg_url
from tests.waiting_helpers import TODAY, full_unit, make_residents, token
from webapp.choice import use_cases as svc
from webapp.models import WaitingEntry
from webapp.web import db


def _with_choices_and_queues(app) -> dict:
    """Two residents take a unit's last places, three join its waiting list, one chooses a unit with room
    and one cancels: choices pending and cancelled, entries waiting, the unit's counters moved."""
    unit = full_unit(app, free=2)
    holders = make_residents(app, 2)
    queue = make_residents(app, 3)
    (switcher,) = make_residents(app, 1)
    with app.app_context():
        sess = db.session()
        held = [svc.submit_choice(sess, h, unit, token(), TODAY) for h in holders]
        assert [o.status for o in held] == ["created", "created"]
        assert all(svc.join_waiting_list(sess, r, unit, token(), TODAY).status == "created" for r in queue)
        other = free_unit(app)
        chosen = svc.submit_choice(sess, switcher, other, token(), TODAY)
        assert chosen.status == "created"
        svc.cancel_choice(sess, switcher, chosen.choice.reference, TODAY)
        again = svc.submit_choice(sess, switcher, other, token(), TODAY)
        assert again.status == "created"
    return {"unit": unit, "holders": holders, "queue": queue, "last_choice": held[-1].choice.id}


def _target() -> str:
    return _pg_url(f"valinta_drill_{uuid.uuid4().hex[:10]}")


def _drop(url: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{restore_drill.database_name(url)}" WITH (FORCE)')


@pytest.mark.postgres
def test_a_restored_dump_answers_the_same_data_and_pages(make_app):
    app = make_app("postgres")
    made = _with_choices_and_queues(app)
    target = _target()
    (late,) = make_residents(app, 1)

    def the_source_moves_on(_restored_url: str) -> None:
        """While the drill runs, another resident joins the queue in the source: the drill compares the
        snapshot it dumped, so this is not a difference."""
        with app.app_context():
            assert svc.join_waiting_list(db.session(), late, made["unit"], token(), TODAY).status == "created"

    lines: list[str] = []
    try:
        report = restore_drill.drill(app.config["DATABASE_URL"], target, out=lines.append,
                                     before_compare=the_source_moves_on)
    finally:
        _drop(target)
    assert report.differences == [], "\n".join(lines)
    with app.app_context():  # the join did happen in the source
        assert db.session().scalar(select(func.count()).select_from(WaitingEntry)
                                   .where(WaitingEntry.resident_id == late)) == 1
    text = "\n".join(lines)
    # Everything the brief asks for was compared, and the copy was dropped.
    for compared in ("row counts of", "choice: ", "waiting_entry: ", "unit counters: ", "audit events: ",
                     "Alembic revision: ", "sequences: ", "db-upgrade on the restored copy: nothing to do"):
        assert compared in text, (compared, text)
    assert "restored copy dropped" in text
    # Pages of residents with a place in the queue and of residents with a new choice were served.
    pages = next(line for line in lines if line.startswith("pages: "))
    residents = pages.split("signed-in residents: ", 1)[1].split(")", 1)[0].split(", ")
    assert str(made["queue"][-1]) in residents and str(made["holders"][-1]) in residents, pages


@pytest.mark.postgres
def test_the_drill_reports_a_choice_missing_from_the_restored_copy(make_app):
    app = make_app("postgres")
    made = _with_choices_and_queues(app)
    target = _target()

    def lose_a_choice(url: str) -> None:
        conninfo, env = restore_drill.libpq(url)
        with psycopg.connect(conninfo, password=env.get("PGPASSWORD"), autocommit=True) as conn:
            conn.execute("DELETE FROM choice WHERE id = %s", (made["last_choice"],))

    lines: list[str] = []
    try:
        report = restore_drill.drill(app.config["DATABASE_URL"], target, out=lines.append,
                                     before_compare=lose_a_choice)
        assert report.kept  # kept for inspection
    finally:
        _drop(target)
    found = "\n".join(report.differences)
    assert "table choice: " in found and " rows in the source, " in found, found
    assert f"choice id={made['last_choice']}: missing in the restored copy" in found, found
    # The resident whose choice is gone sees it gone: their pages differ.
    assert f"(resident {made['holders'][-1]}): " in found, found
    assert "status 200 in the source, 404 restored" in found, found
    assert lines[-1] == f"{len(report.differences)} differences"


def test_a_pg_dump_of_another_major_version_is_refused(tmp_path):
    for name in ("pg_dump", "pg_restore"):
        fake = tmp_path / name
        fake.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) 14.9'\n")
        fake.chmod(0o755)
    with pytest.raises(restore_drill.DrillError) as raised:
        restore_drill.check_tools(15, str(tmp_path))
    message = str(raised.value)
    assert "pg_dump" in message and "PostgreSQL 14" in message and "PostgreSQL 15" in message
    assert "postgresql-client-15" in message and "--pg-bin" in message
    assert restore_drill.check_tools(14, str(tmp_path)) == {"pg_dump": str(tmp_path / "pg_dump"),
                                                            "pg_restore": str(tmp_path / "pg_restore")}


def test_page_comparison_ignores_only_the_random_tokens():
    a = ('<input id="csrf_token" name="csrf_token" type="hidden" value="abc"><script nonce="n1" src="x.js">'
         '<input name="request_token" type="hidden" value="r1"><p>3 residents ahead of you</p>')
    b = a.replace("abc", "def").replace("n1", "n2").replace("r1", "r2")
    assert restore_drill.normalise(a) == restore_drill.normalise(b)
    assert restore_drill.normalise(a) != restore_drill.normalise(b.replace("3 residents", "2 residents"))
