"""Migration 0013: the old feature list becomes accessibility facts (yes), the rest stays not known."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import _pg_admin, _pg_url, pg_unavailable_reason
from webapp.core.migrate import upgrade

UNIT_COLUMNS = ("id, provider_id, pilot_id, element, name_fi, name_sv, description_fi, description_sv, street_fi, "
                "street_sv, postcode, municipality_code, lat, lon, listed_count, accepting_new, is_hidden, is_demo, "
                "version")


def _fill_0001(conn) -> None:
    conn.execute(sa.text("INSERT INTO municipality (code, name_fi, name_sv, region_code, region_fi, region_sv, "
                         "language_ratio_code) VALUES ('186', 'Järvenpää', 'Träskända', 'MK01', 'Uusimaa', "
                         "'Nyland', 1)"))
    conn.execute(sa.text("INSERT INTO postcode (code, name_fi, name_sv, type_code, municipality_code) "
                         "VALUES ('04400', 'Järvenpää', 'Träskända', 1, '186')"))
    conn.execute(sa.text("INSERT INTO provider (id, name, y_tunnus, sector, is_demo) "
                         "VALUES (1, 'P', '0000000-0', 'public', true)"))
    conn.execute(sa.text("INSERT INTO pilot (id, slug, name_fi, name_sv, region_fi, region_sv, summary_fi, "
                         "summary_sv, source_document, source_title, demo_fields) "
                         "VALUES (1, 'p', 'P', 'P', 'U', 'N', '', '', '', '', '')"))
    for uid in (1, 2):
        conn.execute(sa.text(f"INSERT INTO unit ({UNIT_COLUMNS}) VALUES ({uid}, 1, 1, 'sote_centre', 'U{uid}', '', "
                             "'', '', 'Katu 1', '', '04400', '186', 60.4, 25.1, 0, true, false, true, 1)"))
    for code in ("lift", "tactile_guidance", "induction_loop"):
        conn.execute(sa.text("INSERT INTO unit_feature (unit_id, code) VALUES (1, :c)"), {"c": code})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'm.db'}"
        return
    reason = pg_unavailable_reason()
    if reason:
        pytest.skip(reason)
    name = f"valinta_m_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _pg_url(name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_features_become_yes_facts_and_the_rest_stays_unknown(database_url):
    upgrade(database_url, "0001")
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            _fill_0001(conn)
        upgrade(database_url, "0013")
        with engine.connect() as conn:
            facts = conn.execute(sa.text("SELECT unit_id, code, value FROM unit_accessibility_fact "
                                         "ORDER BY unit_id, code")).all()
            tables = sa.inspect(conn).get_table_names()
            notes = conn.execute(sa.text("SELECT accessibility_note_fi, accessibility_note_en FROM unit "
                                         "WHERE id = 2")).one()
    finally:
        engine.dispose()
    assert [tuple(f) for f in facts] == [(1, "induction_loop", True), (1, "lift", True), (1, "tactile_signage", True)]
    assert "unit_feature" not in tables
    assert tuple(notes) == ("", "")
