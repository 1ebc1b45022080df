"""Reading PTV JSON without a database: coordinates, hours, addresses, languages, sentences, facts."""
from __future__ import annotations

import json
from datetime import date

import pytest

from tests import ptv_fixtures as fx
from webapp.imports import ptv_coords
from webapp.imports.accessibility_facts import facts_from_sentences, sentence_facts
from webapp.imports.ptv_hours import HoursError, read_service_hours
from webapp.imports.ptv_read import PtvFileError, PtvShapeError, read_items, read_location

TODAY = date(2026, 11, 30)


# --- coordinates ------------------------------------------------------------------------------------

def test_tm35fin_known_answer_from_jhs_197():
    # The worked example of JHS 197 (EUREF-FIN coordinate systems), appendix 3:
    # N 6715706.37708, E 106256.35961 is 60.3851068722 N, 19.84813676944 E.
    lat, lon = ptv_coords.tm35fin_to_wgs84(6715706.37708, 106256.35961)
    assert lat == pytest.approx(60.3851068722, abs=1e-8)
    assert lon == pytest.approx(19.84813676944, abs=1e-8)


def test_ptv_strings_become_wgs84_degrees_inside_finland():
    (lat, lon), problem = ptv_coords.from_ptv("6839060.668", "514295.022")  # the example
    assert problem == "" and ptv_coords.in_finland(lat, lon)
    assert lat == pytest.approx(61.68447, abs=1e-5) and lon == pytest.approx(27.27014, abs=1e-5)


@pytest.mark.parametrize("north, east, problem", [
    ("0", "0", ptv_coords.MISSING), ("", "", ptv_coords.MISSING), (None, None, ptv_coords.MISSING),
    ("0.0", "0.000", ptv_coords.MISSING), ("abc", "1", ptv_coords.MISSING), ("NaN", "NaN", ptv_coords.MISSING),
    ("5000000", "300000", ptv_coords.OUTSIDE),   # TM35FIN-like but south of Finland
    ("6700000", "-90000", ptv_coords.OUTSIDE),   # in the projection's area, west of Finland's box
    ("48.85", "2.35", ptv_coords.OUTSIDE),       # degrees, but Paris
])
def test_unknown_and_outside_coordinates(north, east, problem):
    assert ptv_coords.from_ptv(north, east) == (None, problem)


def test_degrees_inside_finland_are_taken_as_they_are():
    assert ptv_coords.from_ptv("60.1699", "24.9384") == ((60.1699, 24.9384), "")


# --- service hours ---------------------------------------------------------------------------------------

def _weekly(entries, today=TODAY):
    return read_service_hours(entries, today)[0]


def test_days_of_the_week_with_a_lunch_break_and_over_midnight():
    weekly, exceptions, unknown = read_service_hours(fx.v11_location()["serviceHours"], TODAY)
    assert weekly == ("mon 08:00-16:00|tue 08:00-16:00|wed 08:00-12:00|wed 13:00-18:00|thu 08:00-16:00|"
                      "fri 08:00-15:00|fri 22:00-23:59|sat 00:00-06:00")
    assert exceptions == ("2026-12-24;closed;Joulu;Jul|2026-12-25;closed;Joulu;Jul|2026-12-26;closed;Joulu;Jul|"
                          "2026-12-31;08:00-14:00;Uudenvuodenaatto;")
    assert unknown == []


def test_old_spellings_standard_special_exception():
    weekly, exceptions, _ = read_service_hours(fx.v7_location()["serviceHours"], TODAY)
    # dayTo "Monday" is old PTV's meaningless default: Tuesday only, not Tuesday..Monday
    assert weekly == "mon 00:00-01:00|tue 08:00-16:00|tue 17:00-19:00|sun 23:00-23:59"
    assert exceptions == "2026-12-06;closed;Itsenäisyyspäivä;Självständighetsdagen"


def test_a_real_weekday_range_is_expanded():
    entry = {"serviceHourType": "DaysOfTheWeek", "openingHour": [{"dayFrom": "Monday", "dayTo": "Wednesday",
                                                                 "from": "09:00", "to": "15:00"}]}
    assert _weekly([entry]) == "mon 09:00-15:00|tue 09:00-15:00|wed 09:00-15:00"


@pytest.mark.parametrize("today, open_", [(date(2026, 5, 31), False), (date(2026, 6, 1), True),
                                          (date(2026, 8, 31), True), (date(2026, 9, 1), False)])
def test_regular_hours_apply_only_in_their_validity_period(today, open_):
    summer = {"serviceHourType": "DaysOfTheWeek", "validFrom": "2026-06-01T00:00:00", "validTo": "2026-08-31T00:00:00",
              "openingHour": [{"dayFrom": "Monday", "from": "10:00", "to": "14:00"}]}
    assert (_weekly([summer], today) == "mon 10:00-14:00") is open_


def test_closed_always_open_midnight_and_24_00():
    closed = {"serviceHourType": "DaysOfTheWeek", "isClosed": True,
              "openingHour": [{"dayFrom": "Monday", "from": "08:00", "to": "16:00"}]}
    always = {"serviceHourType": "DaysOfTheWeek", "isAlwaysOpen": True, "openingHour": []}
    late = {"serviceHourType": "DaysOfTheWeek", "openingHour": [{"dayFrom": "Sunday", "from": "20:00", "to": "02:00"},
                                                                {"dayFrom": "Tuesday", "from": "18:00", "to": "24:00"}]}
    assert _weekly([closed]) == ""
    assert _weekly([always]) == "|".join(f"{d} 00:00-23:59" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    assert _weekly([late]) == "mon 00:00-02:00|tue 18:00-23:59|sun 20:00-23:59"


def test_exceptional_hours_on_a_range_and_unknown_types():
    entries = [{"serviceHourType": "Exceptional", "validFrom": "2027-01-01", "validTo": "2027-01-02", "isClosed": False,
                "openingHour": [{"from": "10:00", "to": "12:00"}, {"from": "13:00", "to": "15:00"}]},
               {"serviceHourType": "Exceptional", "validFrom": "2027-01-01", "isClosed": True},
               {"serviceHourType": "Holiday", "openingHour": []}]
    _, exceptions, unknown = read_service_hours(entries, TODAY)
    assert exceptions == "2027-01-01;10:00-15:00;;|2027-01-02;10:00-15:00;;"
    assert unknown == ["Holiday"]


@pytest.mark.parametrize("entries", [
    "DaysOfTheWeek", [{"serviceHourType": "DaysOfTheWeek", "openingHour": [{"dayFrom": "Moonday", "from": "8:00",
                                                                            "to": "9:00"}]}],
    [{"serviceHourType": "DaysOfTheWeek", "openingHour": [{"dayFrom": "Monday", "from": 8, "to": 16}]}],
    [{"serviceHourType": "DaysOfTheWeek", "openingHour": [{"dayFrom": "Monday", "from": "25:00", "to": "26:00"}]}],
    [{"serviceHourType": "Exceptional", "validFrom": "yesterday"}],
])
def test_malformed_hours_are_refused(entries):
    with pytest.raises(HoursError):
        read_service_hours(entries, TODAY)


# --- whole locations ------------------------------------------------------------------------------------

def test_v11_location_reads_the_visiting_address_and_every_language():
    loc = read_location(1, fx.v11_location(), TODAY)
    assert loc.ptv_id == fx.HELSINKI_ID
    assert loc.names == {"fi": "Töölön terveysasema", "sv": "Tölö hälsostation", "en": "Töölö health station"}
    assert loc.descriptions["fi"] == "Lääkärin ja hoitajan vastaanotto Töölössä."  # Description before Summary
    assert loc.streets == {"fi": "Sibeliuksenkatu 14", "sv": "Sibeliusgatan 14"}  # not the postal box listed first
    assert (loc.postcode, loc.municipality_code) == ("00250", "091")
    assert loc.coordinates == pytest.approx((60.189, 24.912), abs=1e-5)
    assert loc.phone == "+358 9 310 5015"  # the fax skipped, the national 0 dropped after +358
    assert (loc.email, loc.website) == ("toolo@example.fi", "https://www.hel.fi/toolo")
    assert loc.languages == ["en", "fi", "sv"] and any("xx" in n for n in loc.notes)
    # main entrance first, groups and every language kept
    assert [s.group.get("fi") for s in loc.sentences] == ["Reitti pääsisäänkäynnille", "Pääsisäänkäynti",
                                                          "Pääsisäänkäynti",
                                                           "Sisätilat", "Sisätilat", "Sivusisäänkäynti"]
    assert loc.sentences[1].text == {"fi": "Sisäänkäynnin yhteydessä on luiska.", "sv": "Vid ingången finns en ramp.",
                                     "en": "There is a ramp at the entrance."}


def test_swedish_only_location_with_zero_coordinates():
    loc = read_location(2, fx.swedish_only_location(), TODAY)
    assert loc.names == {"sv": "Sibbo hälsocentral"} and loc.streets == {"sv": "Sibbovägen 5"}
    assert loc.coordinates is None and loc.coordinates_problem == ptv_coords.MISSING
    assert loc.opening_hours == "mon 09:00-15:00|tue 09:00-15:00|wed 09:00-15:00|thu 09:00-15:00|fri 09:00-15:00"
    assert loc.sentences[0].text == {"sv": "Det finns ingen hiss i byggnaden."}


def test_older_export_visiting_address_and_bare_municipality_code():
    loc = read_location(3, fx.v7_location(), TODAY)
    assert loc.ptv_id == fx.KERAVA_ID  # GUIDs compared in lower case
    assert loc.streets == {"fi": "Metsolantie 2", "sv": "Metsolavägen 2"}
    assert (loc.postcode, loc.municipality_code) == ("04200", "245")
    assert loc.coordinates == pytest.approx((60.4034, 25.1049), abs=1e-4)
    assert (loc.email, loc.phone) == ("kerava@example.fi", "09 2949 1")


def test_postal_address_used_only_without_a_visiting_one():
    doc = fx.v11_location()
    doc["addresses"][1]["type"] = "Postal"
    loc = read_location(1, doc, TODAY)
    assert loc.streets["fi"] == "Sibeliuksenkatu 14" and any("postal" in n for n in loc.notes)


def test_main_entrance_coordinates_when_the_address_has_none():
    doc = fx.v11_location()
    doc["addresses"][1]["streetAddress"]["latitude"] = "0"
    doc["addresses"][1]["streetAddress"]["longitude"] = "0"
    loc = read_location(1, doc, TODAY)
    assert loc.coordinates == pytest.approx((60.189, 24.912), abs=1e-5) and any("entrance" in n for n in loc.notes)


@pytest.mark.parametrize("mutate, field", [
    (lambda d: d.update(addresses="Sibeliuksenkatu 14"), "addresses"),
    (lambda d: d["addresses"][1].update(streetAddress=["x", 1]), "street"),
    (lambda d: d.update(serviceChannelNames={"fi": "x"}), "serviceChannelNames"),
    (lambda d: d["serviceHours"][0]["openingHour"].append({"dayFrom": "Monday", "from": 8, "to": 9}),
     "serviceHours.from"),
    (lambda d: d["addresses"][1]["entrances"][1].update(accessibilitySentences={"x": 1}), "accessibilitySentences"),
])
def test_a_malformed_location_names_the_field(mutate, field):
    doc = fx.v11_location()
    mutate(doc)
    with pytest.raises(PtvShapeError) as exc:
        read_location(1, doc, TODAY)
    assert exc.value.args[0] == field


def test_file_shapes_one_list_and_page():
    one = fx.v11_location()
    assert len(read_items(json.dumps(one).encode())) == 1
    assert len(read_items(json.dumps([one, fx.v7_location()]).encode())) == 2
    other = {"id": "x", "serviceChannelType": "Phone"}
    assert len(read_items(json.dumps(fx.page([one, other])).encode("utf-8-sig"))) == 1
    for bad in (b"not json", b"\xff\xfe", json.dumps({"itemList": [other]}).encode(), b"[]"):
        with pytest.raises(PtvFileError):
            read_items(bad)


# --- sentences to facts ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, facts", [
    ("Sisäänkäynnin yhteydessä on luiska.", {"ramp": True}),
    ("Vid ingången finns en ramp.", {"ramp": True}),
    ("Sisäänkäynnissä ei ole luiskaa.", {"ramp": False}),
    ("Sisäänkäynti on kadun tasossa.", {"step_free_entrance": True}),
    ("Sisäänkäynnissä on 3 porrasta.", {"step_free_entrance": False}),
    ("Ovi avautuu automaattisesti.", {"automatic_door": True}),
    ("Dörren öppnas inte automatiskt.", {"automatic_door": False}),
    ("Oviaukon vapaa leveys on vähintään 90 cm.", {"wide_door": True}),
    ("Oviaukon vapaa leveys on vähintään 85 cm.", {}),  # could still be under 90 cm: unknown
    ("Oven leveys on alle 80 cm.", {"wide_door": False}),
    ("Rakennuksessa on hissi.", {"lift": True}),
    ("Rakennuksessa ei ole hissiä.", {"lift": False}),
    ("Det finns ingen hiss i byggnaden.", {"lift": False}),
    ("Esteetön wc on toisessa kerroksessa.", {"accessible_toilet": True}),
    ("Pysäköintialueella on liikuntaesteisten pysäköintipaikkoja.", {"accessible_parking": True}),
    ("Asiakaspalvelussa on induktiosilmukka.", {"induction_loop": True}),
    ("Asiakaspalvelussa ei ole induktiosilmukkaa.", {"induction_loop": False}),
    ("Kerrosnumerot ovat myös pistekirjoituksella.", {"tactile_signage": True}),
    ("Lähin joukkoliikenteen pysäkki on alle 100 metrin päässä sisäänkäynnistä.", {"public_transport_near": True}),
    ("Lähin joukkoliikenteen pysäkki on yli 500 metrin päässä.", {"public_transport_near": False}),
    ("Lähin bussipysäkki on 300 metrin päässä.", {}),  # farther than 200 m, but "near" is not denied outright
    ("Odotustilassa on vuoronumeronäyttö.", {"visual_call_display": True}),
    ("Sisäänkäynti erottuu selkeästi.", {}),
    ("Ovessa on ovikello.", {}),
])
def test_sentence_facts(text, facts):
    assert sentence_facts(text) == facts


def test_contradicting_sentences_leave_the_fact_unknown():
    assert facts_from_sentences(["Rakennuksessa on hissi.", "Det finns ingen hiss i byggnaden.",
                                 "Sisäänkäynnin yhteydessä on luiska."]) == {"ramp": True}


def test_every_mapped_code_is_a_fact_of_the_model():
    from webapp.imports.accessibility_facts import RULES
    from webapp.units.vocab import ACCESSIBILITY_FACTS
    assert {code for code, _value, _pattern in RULES} | {"wide_door",
                                                         "public_transport_near"} <= set(ACCESSIBILITY_FACTS)
