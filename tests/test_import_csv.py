"""CSV import and export of units: dry run, all-or-none apply, encodings, bad files, formulas, round trip."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from tests.test_staff_helpers import editor_unit_ids, prepare_accounts, sign_in, token
from webapp.imports.units_csv import COLUMNS
from webapp.models import AuditEvent, Unit
from webapp.web import db


@pytest.fixture
def pm(app):
    """A signed-in pilot manager (uusimaa)."""
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    client.users = users
    return client


def export(client) -> str:
    response = client.get("/fi/staff/export.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return response.get_data().decode("utf-8")


def upload(client, content: bytes, lang: str = "fi"):
    return client.post(f"/{lang}/staff/import", data={"csrf_token": token(client, lang),
                                                      "file": (io.BytesIO(content), "units.csv")},
                       content_type="multipart/form-data")


def apply(client):
    with client.session_transaction() as s:
        pending = s["staff_import"]["token"]
    return client.post("/fi/staff/import/apply", data={"csrf_token": token(client), "token": pending})


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def to_csv(rows: list[dict], delimiter: str = ",", bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buf.getvalue()).encode("utf-8")


def unit_state(app):
    with app.app_context():
        sess = db.session()
        return (sess.scalar(select(func.count(Unit.id))),
                sorted(sess.execute(select(Unit.id, Unit.version)).all()))


def test_export_then_import_changes_nothing(app, pm):
    text = export(pm)
    before = unit_state(app)
    response = upload(pm, text.encode("utf-8"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    n = len(rows_of(text))
    assert n > 10
    assert f"Koeajo: 0 toimipistettä luotaisiin, 0 muutettaisiin ja {n} jäisi ennalleen." in html
    assert "Tee tuonti" not in html  # nothing to apply
    assert unit_state(app) == before


def test_dry_run_shows_creates_and_field_diffs_then_apply_stores_exactly_that(app, pm):
    rows = rows_of(export(pm))
    rows[0]["name_fi"] = "Tuotu uusi nimi"
    rows[0]["capacity"] = str(int(rows[0]["capacity"] or 0) + 500)
    new = dict(rows[1], id="", name_fi="Aivan uusi asema", name_sv="")
    content = to_csv([rows[0], rows[2], new])
    before = unit_state(app)
    html = upload(pm, content).get_data(as_text=True)
    assert "Koeajo: 1 toimipistettä luotaisiin, 1 muutettaisiin ja 1 jäisi ennalleen." in html
    assert "Tuotu uusi nimi" in html and "Aivan uusi asema" in html
    assert unit_state(app) == before  # the dry run stored nothing
    response = apply(pm)
    assert response.status_code == 302
    with app.app_context():
        sess = db.session()
        assert sess.get(Unit, int(rows[0]["id"])).name_fi == "Tuotu uusi nimi"
        created = sess.scalar(select(Unit).where(Unit.name_fi == "Aivan uusi asema"))
        assert created is not None and created.provider.y_tunnus == rows[1]["provider_ytunnus"]
        event = sess.scalar(select(AuditEvent).where(AuditEvent.action == "unit.update",
                                                     AuditEvent.entity_id == int(rows[0]["id"])))
        assert set(event.after) == {"name_fi", "capacity", "version"}
    # the same token cannot be applied twice
    again = pm.post("/fi/staff/import/apply", data={"csrf_token": token(pm), "token": "0" * 32})
    assert again.status_code == 400


def test_one_bad_row_means_nothing_is_stored(app, pm):
    rows = rows_of(export(pm))
    rows[0]["name_fi"] = "Hyvä muutos"
    rows[1]["postcode"] = "99998"
    rows[2]["lat"] = "80.5"
    before = unit_state(app)
    response = upload(pm, to_csv(rows[:3]))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Tiedostossa on 2 ongelmaa. Mitään ei tuotu." in html
    assert "<td>3</td><td>postcode</td><td>Postinumeroa 99998 ei ole olemassa.</td>" in html
    assert "<td>4</td><td>lat</td>" in html
    assert "Tee tuonti" not in html
    with pm.session_transaction() as s:
        assert "staff_import" not in s
    assert unit_state(app) == before


def test_apply_refuses_when_units_changed_after_the_dry_run(app, pm):
    rows = rows_of(export(pm))
    rows[0]["name_fi"] = "Tuonnin nimi"
    upload(pm, to_csv(rows[:1]))
    with app.app_context():
        unit = db.session().get(Unit, int(rows[0]["id"]))
        unit.phone = "09 111 2222"
        db.session().commit()
    response = apply(pm)
    assert response.status_code == 409
    with app.app_context():
        assert db.session().get(Unit, int(rows[0]["id"])).name_fi != "Tuonnin nimi"


def test_bom_and_semicolons_are_read(app, pm):
    rows = rows_of(export(pm))
    rows[0]["name_fi"] = "Puolipiste; ja BOM"
    html = upload(pm, to_csv(rows[:2], delimiter=";", bom=True)).get_data(as_text=True)
    assert "1 muutettaisiin ja 1 jäisi ennalleen" in html
    assert "Puolipiste; ja BOM" in html


@pytest.mark.parametrize("content, fi, sv", [
    (b'id,pilot,provider_ytunnus,element,name_fi,street_fi,postcode,municipality_code\n,"uusimaa,x\n',
     "Tiedoston lainausmerkit ovat rikki", "Filen har trasiga citattecken"),
    ("id,pilot,name_fi\n1,uusimaa,Äiti\n".encode("latin-1"), "Tiedosto ei ole UTF-8-tekstiä",
     "Filen är inte UTF-8-text"),
    (b"id,pilot,name\n1,uusimaa,x\n", "Sarakkeet eivät ole oikein", "Kolumnerna är inte rätt"),
    (b"", "Tiedosto on tyhjä.", "Filen är tom."),
    (b"\xef\xbb\xbf\n\n", "Tiedosto on tyhjä.", "Filen är tom."),
])
def test_bad_files_get_a_clear_message_and_store_nothing(app, pm, content, fi, sv):
    before = unit_state(app)
    for lang, expected in (("fi", fi), ("sv", sv)):
        response = upload(pm, content, lang)
        assert response.status_code == 400
        assert expected in response.get_data(as_text=True)
    assert unit_state(app) == before


def test_no_file_chosen(app, pm):
    response = pm.post("/sv/staff/import", data={"csrf_token": token(pm, "sv")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Välj en CSV-fil." in response.get_data(as_text=True)


def test_formula_cells_are_neutralised_on_export_and_rejected_on_import(app, pm):
    unit_id = int(rows_of(export(pm))[0]["id"])
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        unit.name_fi = "=HYPERLINK(\"http://evil\")"
        unit.description_fi = "-lista"
        db.session().commit()
    rows = {r["id"]: r for r in rows_of(export(pm))}
    assert rows[str(unit_id)]["name_fi"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[str(unit_id)]["description_fi"] == "'-lista"
    # our own neutralised cells round-trip unchanged
    html = upload(pm, to_csv([rows[str(unit_id)]])).get_data(as_text=True)
    assert "0 muutettaisiin ja 1 jäisi ennalleen" in html
    # a raw formula in a text field is refused with a message
    raw = dict(rows[str(unit_id)], street_fi="@SUM(A1)")
    response = upload(pm, to_csv([raw]))
    assert response.status_code == 422
    assert "Teksti ei saa alkaa merkillä =, +, -, @ tai sarkaimella" in response.get_data(as_text=True)


def test_a_unit_of_another_provider_or_pilot_is_refused(app):
    users = prepare_accounts(app)
    own, other = editor_unit_ids(app, users)
    admin = app.test_client()
    sign_in(admin, users["admin"].email)
    all_rows = {r["id"]: r for r in rows_of(export(admin))}
    editor = app.test_client()
    sign_in(editor, users["provider_editor"].email)
    forged = dict(all_rows[str(other)], name_fi="Toisen tuottajan yksikkö")
    before = unit_state(app)
    response = upload(editor, to_csv([all_rows[str(own)], forged]))
    assert response.status_code == 422
    assert f"Toimipistettä {other}, jota saisit muokata, ei ole." in response.get_data(as_text=True)
    # a new unit for another provider is refused as well
    new = dict(all_rows[str(other)], id="")
    response = upload(editor, to_csv([new]))
    assert "Voit tuoda vain oman organisaatiosi toimipisteitä." in response.get_data(as_text=True)
    assert unit_state(app) == before


def test_forged_apply_token_is_refused(app, pm):
    rows = rows_of(export(pm))
    rows[0]["name_fi"] = "Väärennetty"
    upload(pm, to_csv(rows[:1]))
    for bad in ("../../etc/passwd", "f" * 32, ""):
        response = pm.post("/fi/staff/import/apply", data={"csrf_token": token(pm), "token": bad})
        assert response.status_code == 400
        assert "Tätä tuontia ei ole odottamassa." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session().get(Unit, int(rows[0]["id"])).name_fi != "Väärennetty"


def test_a_50_mb_upload_is_refused_with_413_and_nothing_stored(app, pm):
    rows = rows_of(export(pm))
    line = to_csv(rows[:1]).split(b"\n", 1)[1]
    content = to_csv(rows[:1]) + line * (50 * 1024 * 1024 // len(line) + 1)
    assert len(content) > 50 * 1024 * 1024
    before = unit_state(app)
    response = upload(pm, content)
    assert response.status_code == 413
    assert "<html lang=\"fi\">" in response.get_data(as_text=True)
    assert unit_state(app) == before


def test_export_is_scoped(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["provider_editor"].email)
    rows = rows_of(client.get("/fi/staff/export.csv").get_data().decode("utf-8"))
    with app.app_context():
        provider_y = db.session().get(Unit, int(rows[0]["id"])).provider.y_tunnus
    assert rows and {r["provider_ytunnus"] for r in rows} == {provider_y}


def test_round_trip_and_apply_on_both_databases(any_app):
    users = prepare_accounts(any_app)
    client = any_app.test_client()
    sign_in(client, users["pilot_manager"].email)
    text = export(client)
    assert "0 muutettaisiin" in upload(client, text.encode("utf-8")).get_data(as_text=True)
    rows = rows_of(text)
    rows[0]["opening_hours"] = "mon 09:00-12:00|mon 13:00-17:00"
    rows[0]["exceptions"] = "2026-12-24;closed;;"
    assert "1 muutettaisiin" in upload(client, to_csv(rows[:1])).get_data(as_text=True)
    assert apply(client).status_code == 302
    with any_app.app_context():
        unit = db.session().get(Unit, int(rows[0]["id"]))
        assert len(unit.opening_hours) == 2 and len(unit.opening_exceptions) == 1


PTV_LOCATION = {
    "id": "2f1c7c3e-0000-4000-8000-000000000001",
    "serviceChannelType": "ServiceLocation",
    "serviceChannelNames": [{"type": "Name", "language": "fi", "value": "PTV-testiasema"},
                            {"type": "Name", "language": "sv", "value": "PTV-teststationen"}],
    "serviceChannelDescriptions": [{"type": "Summary", "language": "fi", "value": "Lyhyt kuvaus."}],
    "addresses": [{"type": "Location", "subType": "Single", "streetAddress": {
        "street": [{"language": "fi", "value": "Asemakatu"}, {"language": "sv", "value": "Stationsgatan"}],
        "streetNumber": "3", "postalCode": "POSTCODE", "municipality": {"code": "MUNI"},
        "latitude": "6700000.1", "longitude": "390000.2"}}],
    "phoneNumbers": [{"prefixNumber": "+358", "number": "9 123 4567"}],
    "emails": [{"value": "ptv@example.fi", "language": "fi"}],
    "webPages": [{"url": "https://ptv.example.fi", "language": "fi"}],
    "languages": ["fi", "sv"],
    "serviceHours": [
        {"serviceHourType": "DaysOfTheWeek", "isClosed": False,
         "openingHour": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "08:00:00", "to": "16:00:00"}]},
        {"serviceHourType": "Exceptional", "validFrom": "2026-12-24T00:00:00", "isClosed": True,
         "additionalInformation": [{"language": "fi", "value": "Jouluaatto"}]}],
}


def test_ptv_service_locations_import(app, pm):
    import json
    with app.app_context():
        unit = db.session().scalar(select(Unit).where(Unit.pilot_id == pm.users["pilot_manager"].pilot_id,
                                                      Unit.element == "sote_centre").order_by(Unit.id).limit(1))
        postcode, muni, ytunnus = unit.postcode, unit.municipality_code, unit.provider.y_tunnus
    loc = json.loads(json.dumps(PTV_LOCATION).replace("POSTCODE", postcode).replace("MUNI", muni))
    content = json.dumps({"itemList": [loc]}).encode("utf-8")
    data = {"ptv-csrf_token": token(pm), "ptv-pilot": "uusimaa", "ptv-provider": ytunnus, "ptv-element": "sote_centre",
            "ptv-file": (io.BytesIO(content), "ptv.json")}
    html = pm.post("/fi/staff/import/ptv", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Koeajo: 1 toimipistettä luotaisiin, 0 muutettaisiin" in html, html
    assert apply(pm).status_code == 302
    with app.app_context():
        created = db.session().scalar(select(Unit).where(Unit.name_fi == "PTV-testiasema"))
        from webapp.units.fields import snapshot
        snap = snapshot(created)
        assert snap["street_sv"] == "Stationsgatan 3" and snap["phone"] == "+358 9 123 4567"
        assert snap["opening_hours"].startswith("mon 08:00-16:00|tue 08:00-16:00")
        assert snap["exceptions"] == "2026-12-24;closed;Jouluaatto;"
        assert 59.5 <= created.lat <= 70.1  # TM35FIN metres were not taken as degrees
    # the same file again matches the unit by its Finnish name: nothing new
    data["ptv-csrf_token"] = token(pm)
    data["ptv-file"] = (io.BytesIO(content), "ptv.json")
    html = pm.post("/fi/staff/import/ptv", data=data, content_type="multipart/form-data").get_data(as_text=True)
    assert "Koeajo: 0 toimipistettä luotaisiin, 0 muutettaisiin ja 1 jäisi ennalleen." in html
    bad = pm.post("/fi/staff/import/ptv", data={**data, "ptv-file": (io.BytesIO(b"not json"), "x.json"),
                                                "ptv-csrf_token": token(pm)}, content_type="multipart/form-data")
    assert bad.status_code == 400


def test_accessibility_facts_travel_in_csv_yes_no_and_not_known(app, pm):
    rows = rows_of(export(pm))
    assert {"a11y_lift", "a11y_step_free_entrance", "accessibility_note_en"} <= set(rows[0])
    assert {r["a11y_lift"] for r in rows} == {"yes", "no", ""}  # the demo has all three
    uid = int(rows[0]["id"])
    rows[0].update(a11y_lift="ei", a11y_ramp="kyllä", a11y_induction_loop="", a11y_wide_door="unknown",
                   accessibility_note_en="Step-free entrance at the back.")
    assert upload(pm, to_csv([rows[0]])).status_code == 200
    assert apply(pm).status_code == 302
    with app.app_context():
        unit = db.session().get(Unit, uid)
        facts = unit.accessibility
        assert facts["lift"] is False and facts["ramp"] is True
        assert "induction_loop" not in facts and "wide_door" not in facts
        assert unit.accessibility_note_en == "Step-free entrance at the back."
    again = rows_of(export(pm))
    mine = next(r for r in again if int(r["id"]) == uid)
    assert (mine["a11y_lift"], mine["a11y_ramp"], mine["a11y_wide_door"]) == ("no", "yes", "")


def test_a_bad_fact_value_is_refused_with_a_clear_message(app, pm):
    rows = rows_of(export(pm))
    rows[0]["a11y_lift"] = "maybe"
    before = unit_state(app)
    response = upload(pm, to_csv(rows[:1]))
    assert response.status_code == 422
    assert "<td>a11y_lift</td><td>Kirjoita kyllä tai ei, tai jätä tyhjäksi, jos ei tiedossa.</td>" in \
        response.get_data(as_text=True)
    assert unit_state(app) == before
