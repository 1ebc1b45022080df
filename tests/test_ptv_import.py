"""The PTV import with a database: `flask ptv-import`, identities, sentences, facts and the pages."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from tests import ptv_fixtures as fx
from webapp.models import AccessibilitySentence, AuditEvent, Unit
from webapp.web import db

PROVIDER = "3146740-4"   # Helsinki's public services in the seed (pilot uusimaa)
SCOPE = ["--pilot", "uusimaa", "--provider", PROVIDER, "--element", "sote_centre", "--language", "en"]


def sipoo_location(app) -> dict:
    with app.app_context():
        postcode = db.session().execute(
            text("select code from postcode where municipality_code = '753' and lat is not null "
                 "order by code limit 1")).scalar()
    return json.loads(json.dumps(fx.swedish_only_location()).replace("POSTCODE", postcode).replace("MUNI", "753"))


def jarvenpaa_v7_location() -> dict:
    doc = fx.v7_location()
    doc["addresses"][0].update(postalCode="04410", municipality="186", latitude="6711650.100", longitude="392962.200")
    return doc


def write(tmp_path: Path, data, name: str = "ptv.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def ptv_units(app) -> dict[str, Unit]:
    with app.app_context():
        units = db.session().scalars(select(Unit).where(Unit.ptv_id.is_not(None))).unique().all()
        return {u.ptv_id: u for u in units}


def unit_count(app) -> int:
    with app.app_context():
        return db.session().scalar(select(func.count()).select_from(Unit))


def test_import_dry_run_apply_rename_and_again(any_app, tmp_path):
    app = any_app
    items = [fx.v11_location(), sipoo_location(app), jarvenpaa_v7_location()]
    path = write(tmp_path, fx.page(items))
    before = unit_count(app)

    dry = cli(app, "ptv-import", path, *SCOPE, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("create ") == 3 and "Dry run: nothing was saved." in dry.output
    assert "centre of its postcode area" in dry.output  # Sipoo's 0/0 coordinates, said in the report
    assert "Time taken:" in dry.output and "3 locations: 3 to create" in dry.output
    assert unit_count(app) == before and ptv_units(app) == {}

    done = cli(app, "ptv-import", path, *SCOPE)
    assert done.exit_code == 0, done.output
    assert "Import done." in done.output
    units = ptv_units(app)
    assert unit_count(app) == before + 3 and set(units) == {fx.HELSINKI_ID, fx.SIPOO_ID, fx.KERAVA_ID}
    toolo = units[fx.HELSINKI_ID]
    assert toolo.lat == pytest.approx(60.189, abs=1e-5) and toolo.lon == pytest.approx(24.912, abs=1e-5)
    assert toolo.ptv_imported_at is not None and toolo.name_sv == "Tölö hälsostation"
    assert toolo.street_fi == "Sibeliuksenkatu 14" and toolo.phone == "+358 9 310 5015"
    sipoo = units[fx.SIPOO_ID]
    assert sipoo.name_fi == sipoo.name_sv == "Sibbo hälsocentral"
    with app.app_context():
        toolo = db.session().get(Unit, toolo.id)
        assert len(toolo.accessibility_sentences) == 6
        ramp = toolo.accessibility_sentences[1]
        assert (ramp.group_fi, ramp.sentence_sv, ramp.sentence_en) == (
            "Pääsisäänkäynti", "Vid ingången finns en ramp.", "There is a ramp at the entrance.")
        assert toolo.accessibility == {"ramp": True, "automatic_door": True, "lift": True, "induction_loop": False,
                                       "public_transport_near": True, "step_free_entrance": False}
        assert db.session().get(Unit, sipoo.id).accessibility == {"lift": False}
        postcode = db.session().execute(text("select lat, lon from postcode where code = :c"),
                                        {"c": sipoo.postcode}).one()
        assert (sipoo.lat, sipoo.lon) == pytest.approx(tuple(postcode))

    # renamed in PTV: the same unit is updated, no second unit
    items[0]["serviceChannelNames"][0]["value"] = "Töölön terveyskeskus"
    renamed = cli(app, "ptv-import", write(tmp_path, items, "renamed.json"), *SCOPE)
    assert renamed.exit_code == 0, renamed.output
    assert "1 to update, 2 unchanged" in renamed.output
    assert unit_count(app) == before + 3
    assert ptv_units(app)[fx.HELSINKI_ID].id == toolo.id
    assert ptv_units(app)[fx.HELSINKI_ID].name_fi == "Töölön terveyskeskus"

    again = cli(app, "ptv-import", write(tmp_path, items, "again.json"), *SCOPE, "--dry-run")
    assert again.exit_code == 0 and "0 to create, 0 to update, 3 unchanged" in again.output


def test_staff_edits_to_facts_the_sentences_do_not_state_are_kept(app, tmp_path):
    assert cli(app, "ptv-import", write(tmp_path, fx.v11_location()), *SCOPE).exit_code == 0
    with app.app_context():
        unit = db.session().scalar(select(Unit).where(Unit.ptv_id == fx.HELSINKI_ID))
        unit.set_accessibility({**unit.accessibility, "accessible_toilet": True, "lift": False})
        db.session().commit()
        version = unit.version
    result = cli(app, "ptv-import", write(tmp_path, fx.v11_location()), *SCOPE)
    assert result.exit_code == 0, result.output
    with app.app_context():
        unit = db.session().scalar(select(Unit).where(Unit.ptv_id == fx.HELSINKI_ID))
        # PTV says there is a lift, and says nothing of the toilet
        assert unit.accessibility["lift"] is True and unit.accessibility["accessible_toilet"] is True
        assert unit.version > version


def test_an_unchanged_import_records_the_time_without_a_new_version(app, tmp_path):
    path = write(tmp_path, fx.v11_location())
    assert cli(app, "ptv-import", path, *SCOPE).exit_code == 0
    first = ptv_units(app)[fx.HELSINKI_ID]
    assert cli(app, "ptv-import", path, *SCOPE).exit_code == 0
    second = ptv_units(app)[fx.HELSINKI_ID]
    assert second.version == first.version and second.ptv_imported_at > first.ptv_imported_at


def test_a_malformed_location_is_named_and_nothing_is_written(app, tmp_path):
    bad = fx.v11_location(fx.SIPOO_ID, "Rikkinäinen")
    bad["serviceHours"][0]["openingHour"][0]["from"] = 8
    before = unit_count(app)
    with app.app_context():
        events = db.session().scalar(select(func.count()).select_from(AuditEvent))
    result = cli(app, "ptv-import", write(tmp_path, [fx.v11_location(), bad]), *SCOPE)
    assert result.exit_code == 1
    assert f"2: {fx.SIPOO_ID}" in result.output and "serviceHours.from" in result.output
    assert "Nothing was imported" in result.output
    assert unit_count(app) == before and ptv_units(app) == {}
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEvent)) == events


def test_a_unit_of_another_pilot_is_not_moved(app, tmp_path):
    doc = fx.v11_location()
    doc["addresses"][1]["streetAddress"]["municipality"] = "564"  # Oulu: not in the Uusimaa pilot
    result = cli(app, "ptv-import", write(tmp_path, doc), *SCOPE)
    assert result.exit_code == 1 and "not in this pilot" in result.output


@pytest.mark.parametrize("args, code, text", [
    (["--pilot", "nowhere", "--provider", PROVIDER, "--element", "sote_centre"], 2, "is not a pilot"),
    (["--pilot", "uusimaa", "--provider", "1234567-8", "--element", "sote_centre"], 2, "business ID 1234567-8"),
    (["--pilot", "uusimaa", "--provider", PROVIDER, "--element", "spa"], 2, "spa"),
])
def test_bad_options_exit_non_zero(app, tmp_path, args, code, text):
    result = app.test_cli_runner().invoke(args=["ptv-import", write(tmp_path, fx.v11_location()), *args, "--language",
                                                "en"])
    assert result.exit_code == code and text in result.output


def test_a_file_that_is_not_ptv_json(app, tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes(b"<html>not json</html>")
    result = app.test_cli_runner().invoke(args=["ptv-import", str(path), *SCOPE])
    assert result.exit_code == 1 and "is not PTV service-location JSON" in result.output
    missing = app.test_cli_runner().invoke(args=["ptv-import", str(tmp_path / "none.json"), *SCOPE])
    assert missing.exit_code == 2


def test_report_in_finnish(app, tmp_path):
    result = cli(app, "ptv-import", write(tmp_path, fx.v11_location()), "--pilot", "uusimaa", "--provider", PROVIDER,
                 "--element", "sote_centre", "--dry-run")
    assert result.exit_code == 0 and "Koeajo" in result.output


def test_pages_show_the_ptv_identity_and_the_sentences(app, tmp_path):
    from tests.test_staff_hardening import _sign_in
    assert cli(app, "ptv-import", write(tmp_path, fx.v11_location()), *SCOPE).exit_code == 0
    unit_id = ptv_units(app)[fx.HELSINKI_ID].id
    client = app.test_client()
    fi = client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    assert '<h3>Pääsisäänkäynti</h3>' in fi and "<li>Sisäänkäynnin yhteydessä on luiska.</li>" in fi
    sv = client.get(f"/sv/units/{unit_id}").get_data(as_text=True)
    assert '<h3>Huvudingången</h3>' in sv and "<li>Vid ingången finns en ramp.</li>" in sv
    # no Swedish text for this group: the Finnish one, marked as Finnish
    assert '<h3 lang="fi">Sisätilat</h3>' in sv and '<li lang="fi">Rakennuksessa on hissi.</li>' in sv
    _sign_in(client, app, "admin")
    staff = client.get(f"/fi/staff/units/{unit_id}").get_data(as_text=True)
    assert f"<code>{fx.HELSINKI_ID}</code>" in staff and "PTV" in staff


def test_staff_upload_uses_the_same_import(app, tmp_path):
    from tests.conftest import csrf_from
    from tests.test_staff_hardening import _sign_in
    client = app.test_client()
    _sign_in(client, app, "admin")
    page = client.get("/fi/staff/import").get_data(as_text=True)
    data = {"ptv-csrf_token": csrf_from(page), "ptv-pilot": "uusimaa", "ptv-provider": PROVIDER,
            "ptv-element": "sote_centre",
            "ptv-file": (__import__("io").BytesIO(json.dumps(fx.page([fx.v11_location()])).encode()), "ptv.json")}
    html = client.post("/fi/staff/import/ptv", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Töölön terveysasema (" + fx.HELSINKI_ID + ")" in html
    response = client.post("/fi/staff/import/apply", data={"csrf_token": csrf_from(html), "token": html.split(
        'name="token" type="hidden" value="')[1].split('"')[0]})
    assert response.status_code == 302
    unit = ptv_units(app)[fx.HELSINKI_ID]
    with app.app_context():
        assert len(db.session().scalars(select(AccessibilitySentence).where(
            AccessibilitySentence.unit_id == unit.id)).all()) == 6


def test_a_unit_without_a_ptv_id_is_linked_once_by_its_finnish_name(app, tmp_path):
    with app.app_context():
        existing = db.session().scalar(select(Unit).join(Unit.provider).where(
            Unit.name_fi == "Sote-keskus Helsinki"))
        unit_id, services = existing.id, existing.service_codes
    before = unit_count(app)
    result = cli(app, "ptv-import", write(tmp_path, fx.v11_location(name_fi="Sote-keskus Helsinki")), *SCOPE)
    assert result.exit_code == 0, result.output
    assert f"Linked by its Finnish name to unit {unit_id}" in result.output
    assert unit_count(app) == before and ptv_units(app)[fx.HELSINKI_ID].id == unit_id
    with app.app_context():
        assert db.session().get(Unit, unit_id).service_codes == services  # PTV has no services: kept


def test_staff_apply_refuses_when_the_unit_changed_after_the_dry_run(app, tmp_path):
    import io

    from tests.conftest import csrf_from
    from tests.test_staff_hardening import _sign_in
    assert cli(app, "ptv-import", write(tmp_path, fx.v11_location()), *SCOPE).exit_code == 0
    client = app.test_client()
    _sign_in(client, app, "admin")
    renamed = fx.v11_location(name_fi="Töölön terveyskeskus")
    page = client.get("/fi/staff/import").get_data(as_text=True)
    html = client.post("/fi/staff/import/ptv", content_type="multipart/form-data", data={
        "ptv-csrf_token": csrf_from(page), "ptv-pilot": "uusimaa", "ptv-provider": PROVIDER,
        "ptv-element": "sote_centre",
        "ptv-file": (io.BytesIO(json.dumps(renamed).encode()), "ptv.json")}).get_data(as_text=True)
    token = html.split('name="token" type="hidden" value="')[1].split('"')[0]
    with app.app_context():  # someone edits the unit meanwhile
        unit = db.session().scalar(select(Unit).where(Unit.ptv_id == fx.HELSINKI_ID))
        unit.phone = "09 123 4567"
        db.session().commit()
    response = client.post("/fi/staff/import/apply", data={"csrf_token": csrf_from(html), "token": token})
    assert response.status_code == 409
    assert ptv_units(app)[fx.HELSINKI_ID].name_fi == "Töölön terveysasema"
