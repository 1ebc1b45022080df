"""Migrations: a database of the previous release upgrades to head with its data kept and the head's rules
in force (SQLite and PostgreSQL); the files' numbers follow the chain, and the revision ids never change.

The previous release's head is revision 0011 (file 0005_change_log_sessions): the rows below are written
with plain SQL in that schema, as the release left them, not through today's models.
"""
from __future__ import annotations

import re
import uuid
from itertools import pairwise
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import IN_CI, _pg_admin, _pg_url, pg_unavailable_reason

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "migrations" / "versions"
PREVIOUS_RELEASE = "0011"

# File name -> revision id of every migration released so far. Deployed databases store the ids in
# alembic_version, so a file may be renamed (its number is its place in the chain) but its id must stay.
RELEASED = {
    "0001_initial_schema": "0001",
    "0002_accessibility_facts": "0013",
    "0003_ptv_identity_and_accessibility_sentences": "0014",
    "0004_waiting_lists": "0012",
    "0005_change_log_sessions": "0011",
    "0006_one_choice_and_counter_constraints": "0015",
}


def _config(database_url: str | None = None) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def _chain() -> list:
    """The revisions from the first to the head."""
    return list(reversed(list(ScriptDirectory.from_config(_config()).walk_revisions("base", "heads"))))


# --- the file names -------------------------------------------------------------------------------------------

def test_the_chain_is_one_line_from_the_first_migration_to_one_head():
    script = ScriptDirectory.from_config(_config())
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()} (merge or re-point them)"
    chain = _chain()
    assert chain[0].down_revision is None
    for before, after in pairwise(chain):
        assert after.down_revision == before.revision, f"{Path(after.path).name} is a merge or a branch"


def test_every_migration_file_is_numbered_by_its_place_in_the_chain():
    chain = _chain()
    expected = [f"{place:04d}_" for place in range(1, len(chain) + 1)]
    names = [Path(rev.path).name for rev in chain]
    wrong = [f"{name}: revision {rev.revision} is migration number {want[:4]} in the chain, so its file must be "
             f"named {want}…"
             for name, rev, want in zip(names, chain, expected, strict=True) if not name.startswith(want)]
    assert not wrong, ("rename the file (git mv), never its revision id:\n  " + "\n  ".join(wrong))
    on_disk = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert on_disk == sorted(names), "a file in migrations/versions is not in the chain"
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", name) for name in names), names


def test_the_released_revision_ids_are_unchanged():
    ids = {Path(rev.path).name.removesuffix(".py"): rev.revision for rev in _chain()}
    assert {name: ids.get(name) for name in RELEASED} == RELEASED
    assert ids[next(n for n in ids if n.startswith("0005_"))] == PREVIOUS_RELEASE


# --- the upgrade from the previous release ---------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """An empty database of its own: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'previous-release.db'}"
        return
    reason = pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name = f"valinta_upg_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


UNIT_COLUMNS = ("id, provider_id, pilot_id, element, name_fi, name_sv, description_fi, description_sv, street_fi, "
                "street_sv, postcode, municipality_code, lat, lon, phone, capacity, listed_count, waiting_count, "
                "accepting_new, waiting_when_closed, is_hidden, is_demo, version, accessibility_note_fi")

# Rows as the previous release wrote them: a pilot with its municipality and rules, a provider with two
# sote-keskus units (one full, with a queue), two residents, one with an ended and an active choice and a
# place in the full unit's queue, the other with a pending choice.
PREVIOUS_RELEASE_ROWS = [
    "INSERT INTO municipality (code, name_fi, name_sv, region_code, region_fi, region_sv, language_ratio_code, "
    "lat, lon) VALUES ('186', 'Järvenpää', 'Träskända', 'MK01', 'Uusimaa', 'Nyland', 1, 60.47, 25.09)",
    "INSERT INTO postcode (code, name_fi, name_sv, type_code, municipality_code, lat, lon) "
    "VALUES ('04400', 'Järvenpää', 'Träskända', 1, '186', 60.47, 25.09)",
    "INSERT INTO pilot (id, slug, name_fi, name_sv, region_fi, region_sv, lead_municipality_code, summary_fi, "
    "summary_sv, starts_on, ends_on, choice_opens_on, source_document, source_title, demo_fields) "
    "VALUES (1, 'uusimaa', 'Uudenmaan valinnanvapauskokeilu', 'Nylands valfrihetsförsök', 'Uusimaa', 'Nyland', "
    "'186', 'Kokeilu.', 'Försök.', '2018-01-01', '2022-12-31', '2018-01-01', 'uusimaa.pdf', 'Päätös', '')",
    "INSERT INTO pilot_municipality (pilot_id, municipality_code) VALUES (1, '186')",
    "INSERT INTO pilot_element (id, pilot_id, element, position, min_age, excluded_in_institutional_care, "
    "allow_other_pilot_municipality, lock_in_months, max_switches_per_12_months, notice_days, effective, "
    "capitation_eur_per_month, demo_fields, waiting_list_enabled, waiting_months, waiting_counts_as_switch, "
    "waiting_when_not_accepting, waiting_keep_when_skipped) "
    "VALUES (1, 1, 'sote_centre', 1, 18, true, true, 6, 1, 0, 'next_month_start', 55, '', true, 6, true, false, true)",
    "INSERT INTO provider (id, name, y_tunnus, sector, website, is_demo) "
    "VALUES (1, 'Terveyspalvelu Oy', '1234567-1', 'private', 'https://terveys.example', true)",
    f"INSERT INTO unit ({UNIT_COLUMNS}) VALUES (1, 1, 1, 'sote_centre', 'Sote-keskus Keskusta', "
    "'Social- och hälsocentral Centrum', 'Kuvaus', 'Beskrivning', 'Sibeliuksenkatu 1', 'Sibeliusgatan 1', "
    "'04400', '186', 60.47, 25.09, '09 123 4567', 100, 1, 0, true, false, false, true, 3, 'Luiska')",
    f"INSERT INTO unit ({UNIT_COLUMNS}) VALUES (2, 1, 1, 'sote_centre', 'Sote-keskus Täysi', "
    "'Social- och hälsocentral Full', 'Kuvaus', 'Beskrivning', 'Asematie 2', 'Stationsvägen 2', "
    "'04400', '186', 60.46, 25.10, NULL, 1, 1, 1, false, true, false, true, 7, '')",
    "INSERT INTO unit_service (unit_id, code) VALUES (1, 'doctor')",
    "INSERT INTO resident (id, key, birth_date, home_municipality_code, in_institutional_care) "
    f"VALUES (1, '{'a1' * 32}', '1990-01-15', '186', false)",
    "INSERT INTO resident (id, key, birth_date, home_municipality_code, in_institutional_care) "
    f"VALUES (2, '{'b2' * 32}', '1975-06-03', '186', false)",
    # resident 1: was at the full unit, switched to unit 1 (active), and queues for the full unit again
    "INSERT INTO choice (id, resident_id, unit_id, pilot_id, element, status, channel, reference, request_token, "
    "created_on, effective_from, binding_until, ended_on, previous_choice_id, counts_as_switch) "
    "VALUES (1, 1, 2, 1, 'sote_centre', 'ended', 'web', 'REF0000001', 'tok-1', '2019-01-10', '2019-02-01', "
    "'2019-08-01', '2020-03-01', NULL, true)",
    "INSERT INTO choice (id, resident_id, unit_id, pilot_id, element, status, channel, reference, request_token, "
    "created_on, effective_from, binding_until, ended_on, previous_choice_id, counts_as_switch) "
    "VALUES (2, 1, 1, 1, 'sote_centre', 'active', 'paper', 'REF0000002', NULL, '2020-02-10', '2020-03-01', "
    "'2020-09-01', NULL, 1, true)",
    # resident 2: a pending choice of the full unit's last place, from the queue
    "INSERT INTO choice (id, resident_id, unit_id, pilot_id, element, status, channel, reference, request_token, "
    "created_on, effective_from, binding_until, ended_on, previous_choice_id, counts_as_switch) "
    "VALUES (3, 2, 2, 1, 'sote_centre', 'pending', 'queue', 'REF0000003', 'tok-3', '2020-05-20', '2020-06-01', "
    "NULL, NULL, NULL, true)",
    "INSERT INTO waiting_entry (id, resident_id, unit_id, pilot_id, element, status, channel, reference, "
    "request_token, joined_on, expires_on, ended_on, end_reason, choice_id, last_skip) "
    "VALUES (1, 1, 2, 1, 'sote_centre', 'waiting', 'web', 'JON0000001', 'wtok-1', '2020-04-01', '2020-10-01', "
    "NULL, NULL, NULL, NULL)",
    "INSERT INTO waiting_entry (id, resident_id, unit_id, pilot_id, element, status, channel, reference, "
    "request_token, joined_on, expires_on, ended_on, end_reason, choice_id, last_skip) "
    "VALUES (2, 2, 2, 1, 'sote_centre', 'promoted', 'web', 'JON0000002', 'wtok-2', '2020-03-01', '2020-09-01', "
    "'2020-05-20', 'promoted', 3, NULL)",
]
KEPT_TABLES = {"municipality": "code", "postcode": "code", "pilot": "id", "pilot_municipality": "pilot_id",
               "pilot_element": "id", "provider": "id", "unit": "id", "unit_service": "unit_id", "resident": "id",
               "choice": "id", "waiting_entry": "id"}


def _rows(conn: sa.Connection, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple]]:
    """Every row of the kept tables: all columns, or the given ones."""
    found = {}
    for table, key in KEPT_TABLES.items():
        cols = ", ".join(f'"{c}"' for c in columns[table]) if columns else "*"
        found[table] = [tuple(r) for r in conn.execute(sa.text(f"SELECT {cols} FROM {table} ORDER BY {key}"))]
    return found


def _refused(engine: sa.Engine, statement: str) -> bool:
    """True when the database refuses the statement (the transaction is rolled back either way)."""
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(statement))
    except sa.exc.IntegrityError:
        return True
    return False


def _choice(choice_id: int, resident_id: int, unit_id: int, status: str) -> str:
    return ("INSERT INTO choice (id, resident_id, unit_id, pilot_id, element, status, channel, reference, "
            "created_on, effective_from, counts_as_switch) "
            f"VALUES ({choice_id}, {resident_id}, {unit_id}, 1, 'sote_centre', '{status}', 'web', "
            f"'NEW{choice_id:07d}', '2020-06-01', '2020-07-01', true)")


def test_a_previous_release_database_upgrades_to_head_keeping_its_data(database_url):
    head = ScriptDirectory.from_config(_config()).get_current_head()
    command.upgrade(_config(database_url), PREVIOUS_RELEASE)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == PREVIOUS_RELEASE
            for statement in PREVIOUS_RELEASE_ROWS:
                conn.execute(sa.text(statement))
            before = _rows(conn)
            columns = {t: list(conn.execute(sa.text(f"SELECT * FROM {t}")).keys()) for t in KEPT_TABLES}
        engine.dispose()

        command.upgrade(_config(database_url), "head")

        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == head
            assert _rows(conn, columns) == before, "the upgrade changed or lost rows"
        # The head's rules now hold: one active and one pending choice per resident and element ...
        assert _refused(engine, _choice(10, 1, 2, "active")), "a second active choice was accepted"
        assert _refused(engine, _choice(11, 2, 1, "pending")), "a second pending choice was accepted"
        assert not _refused(engine, _choice(12, 2, 1, "cancelled"))  # the rules leave other statuses alone
        # ... one waiting entry per resident and element ...
        assert _refused(engine, "INSERT INTO waiting_entry (id, resident_id, unit_id, pilot_id, element, status, "
                                "channel, reference, request_token, joined_on, expires_on) VALUES (3, 1, 1, 1, "
                                "'sote_centre', 'waiting', 'web', 'JON0000003', 'wtok-3', '2020-06-01', '2020-12-01')")
        # ... and the unit counters within range.
        assert _refused(engine, "UPDATE unit SET listed_count = 2 WHERE id = 2"), "listed_count above capacity"
        assert _refused(engine, "UPDATE unit SET waiting_count = -1 WHERE id = 1"), "a negative waiting_count"
        assert _refused(engine, "UPDATE unit SET capacity = -1, listed_count = 0 WHERE id = 1")
        assert not _refused(engine, "UPDATE unit SET listed_count = 100 WHERE id = 1")  # full is allowed
        with engine.connect() as conn:  # and nothing refused was written
            assert conn.execute(sa.text("SELECT id FROM choice ORDER BY id")).scalars().all() == [1, 2, 3, 12]
            assert conn.execute(sa.text("SELECT listed_count, waiting_count, capacity FROM unit ORDER BY id")).all() \
                == [(100, 0, 100), (1, 1, 1)]
    finally:
        engine.dispose()
