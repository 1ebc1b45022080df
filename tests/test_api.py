"""JSON API v1: units search, one unit, pilots, errors as JSON, and the OpenAPI document."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from webapp.models import Unit
from webapp.units.vocab import ELEMENTS, FEATURES, SECTORS, SERVICE_LANGUAGES, SERVICES
from webapp.web import db


def test_units_search_returns_items_and_facets(client):
    data = client.get("/api/v1/units?element=sote_centre&postcode=00100&radius_km=30&lang=sv").get_json()
    assert data["total"] > 0 and data["page"] == 1 and data["per_page"] == 20
    assert data["sort"] == "distance"
    item = data["items"][0]
    for key in ("id", "name", "element", "pilot", "provider", "address", "postcode", "municipality", "lat", "lon",
                "services", "languages", "features", "capacity", "listed_count", "accepting_new", "is_full",
                "queue_times", "distance_km", "is_demo"):
        assert key in item, key
    assert set(item["provider"]) >= {"name", "y_tunnus", "sector"}
    assert set(item["municipality"]) == {"code", "name_fi", "name_sv"}
    assert item["element"] == {"code": "sote_centre", "label": "Social- och hälsocentral"}
    distances = [i["distance_km"] for i in data["items"]]
    assert distances == sorted(distances) and distances[-1] <= 30
    professions = {q["profession"]["code"] for q in item["queue_times"]}
    assert professions == {"doctor", "nurse"}
    assert all(q["measured_on"] >= "2026-06-01" for q in item["queue_times"])
    assert sum(f["count"] for f in data["facets"]["element"] if f["value"] == "sote_centre") == data["total"]


def test_units_api_and_page_agree(client):
    api = client.get("/api/v1/units?service=doctor&language=sv&sort=name").get_json()
    html = client.get("/fi/search?service=doctor&language=sv&sort=name").get_data(as_text=True)
    for item in api["items"]:
        assert f'href="/fi/units/{item["id"]}"' in html


def test_no_distance_without_postcode(client):
    item = client.get("/api/v1/units").get_json()["items"][0]
    assert "distance_km" not in item


@pytest.mark.parametrize("query, parameter", [
    ("page=-1", "page"), ("page=0", "page"), ("q=" + "x" * 10_000, "q"), ("service=zzz", "service"),
    ("postcode=0009", "postcode"), ("municipality=1234", "municipality"), ("postcode=00100&radius_km=-1",
                                                                           "radius_km"), ("max_t3_nurse=abc",
                                                                                          "max_t3_nurse"),
    ("lang=de", "lang"), ("lang=", "lang"), ("profile=jetpack", "profile"), ("profile_only=maybe", "profile_only"),
])
def test_bad_parameters_give_400_json(client, query, parameter):
    response = client.get(f"/api/v1/units?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["parameter"] == parameter and error["message"]


def test_sort_by_distance_without_postcode_and_a_page_past_the_last_are_answered(client):
    """The OpenAPI document cannot make one parameter depend on another: the API answers both with 200."""
    body = client.get("/api/v1/units?sort=distance").get_json()
    assert body["sort"] == "name" and body["items"]
    past = client.get(f"/api/v1/units?page={body['pages'] + 1}")
    assert past.status_code == 200 and past.get_json()["items"] == [] and past.get_json()["pages"] == body["pages"]


@pytest.mark.parametrize("name", ["page", "max_t3_doctor", "max_t3_nurse", "radius_km"])
def test_an_empty_number_is_400_in_the_api(client, name):
    response = client.get(f"/api/v1/units?{name}=")
    assert response.status_code == 400 and response.get_json()["error"]["parameter"] == name


@pytest.mark.parametrize("query, parameter", [("postcode=00009", "postcode"), ("municipality=000", "municipality")])
def test_a_well_formed_place_that_does_not_exist_is_404(client, query, parameter):
    response = client.get(f"/api/v1/units?{query}")
    assert response.status_code == 404 and response.get_json()["error"]["parameter"] == parameter
    assert client.get(f"/api/v1/units?{query}&page=0").status_code == 400  # something else wrong too


def test_error_messages_follow_lang(client):
    fi = client.get("/api/v1/units?page=-1&lang=fi").get_json()["error"]["message"]
    sv = client.get("/api/v1/units?page=-1&lang=sv").get_json()["error"]["message"]
    assert fi == "Sivu: Anna sivunumero, joka on vähintään 1."
    assert sv == "Sida: Ange ett sidnummer som är 1 eller större."
    by_header = client.get("/api/v1/units?page=-1", headers={"Accept-Language": "sv-FI"}).get_json()
    assert by_header["error"]["message"] == sv


def test_several_errors_are_all_listed(client):
    error = client.get("/api/v1/units?page=-1&service=zzz").get_json()["error"]
    assert {e["parameter"] for e in error["errors"]} == {"page", "service"}


def test_one_unit_and_404s(app, client):
    with app.app_context():
        sess = db.session()
        uid = sess.scalars(select(Unit.id).order_by(Unit.id)).first()
    data = client.get(f"/api/v1/units/{uid}").get_json()
    assert data["id"] == uid and "name" in data and "distance_km" not in data
    for bad in ("999999", "abc"):
        response = client.get(f"/api/v1/units/{bad}")
        assert response.status_code == 404 and response.get_json()["error"]["status"] == 404
    with app.app_context():
        sess = db.session()
        sess.get(Unit, uid).is_hidden = True
        sess.commit()
    assert client.get(f"/api/v1/units/{uid}").status_code == 404


def test_pilots(client):
    data = client.get("/api/v1/pilots").get_json()
    pilots = {p["slug"]: p for p in data["items"]}
    uusimaa = pilots["uusimaa"]
    assert {m["code"] for m in uusimaa["municipalities"]} >= {"106", "091"}
    assert [e["code"] for e in uusimaa["elements"]][:2] == ["sote_centre", "oral_health"]
    rules = uusimaa["elements"][0]["rules"]
    assert {"min_age", "lock_in_months", "max_switches_per_12_months", "notice_days", "effective"} <= set(rules)


def test_openapi_document_is_valid_and_complete(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    validate(doc)
    assert set(doc["paths"]) == {"/units", "/units/{unit_id}", "/pilots", "/openapi.json"}
    params = {p["name"]: p for p in doc["paths"]["/units"]["get"]["parameters"]}
    assert set(params) == {"q", "pilot", "element", "service", "municipality", "postcode", "radius_km",
                           "max_t3_doctor", "max_t3_nurse", "language", "feature", "sector", "profile", "profile_only",
                           "accepting", "sort",
                           "page", "lang"}
    assert params["element"]["schema"]["enum"] == ["", *ELEMENTS]  # empty: no filter
    assert "uusimaa" in params["pilot"]["schema"]["enum"]
    assert "404" in doc["paths"]["/units"]["get"]["responses"]
    assert params["service"]["schema"]["items"]["enum"] == ["", *SERVICES]
    assert params["language"]["schema"]["items"]["enum"] == ["", *SERVICE_LANGUAGES]
    assert params["feature"]["schema"]["items"]["enum"] == ["", *FEATURES]
    assert params["sector"]["schema"]["items"]["enum"] == ["", *SECTORS]
    for path in ("/units", "/units/{unit_id}", "/pilots"):
        assert "400" in doc["paths"][path]["get"]["responses"]
    assert "404" in doc["paths"]["/units/{unit_id}"]["get"]["responses"]


def test_responses_match_the_documented_unit_schema(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    required = set(doc["components"]["schemas"]["Unit"]["required"])
    documented = set(doc["components"]["schemas"]["Unit"]["properties"])
    for item in client.get("/api/v1/units?postcode=00100").get_json()["items"]:
        assert required <= set(item) <= documented


def test_a_wrong_method_is_405_with_allow(client):
    response = client.post("/api/v1/units")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    assert response.get_json()["error"]["status"] == 405
    page = client.delete("/fi/")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
