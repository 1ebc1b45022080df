"""Accessibility profiles: requirements as data, what is missing and what is not known, ranking — at the
function level, through the search page, the unit page, the comparison and the API."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.models import Unit
from webapp.units.accessibility import PROFILE_REQUIREMENTS, ProfileAssessment, assess, rank_key, required_facts
from webapp.units.vocab import ACCESSIBILITY_FACTS, ACCESSIBILITY_PROFILES, FACT_MISSING
from webapp.web import db

WHEELCHAIR = PROFILE_REQUIREMENTS["wheelchair"]


# ---------------------------------------------------------------- functions

def test_every_profile_needs_known_facts_and_has_a_label():
    assert set(PROFILE_REQUIREMENTS) == set(ACCESSIBILITY_PROFILES)
    assert {"wheelchair", "reduced_mobility", "pushchair", "visually_impaired", "hearing_impaired"} <= set(
        PROFILE_REQUIREMENTS)
    for needs in PROFILE_REQUIREMENTS.values():
        assert needs and set(needs) <= set(ACCESSIBILITY_FACTS)
    assert set(FACT_MISSING) == set(ACCESSIBILITY_FACTS)


def test_all_yes_meets_the_profile():
    [a] = assess({c: True for c in WHEELCHAIR}, ["wheelchair"])
    assert a == ProfileAssessment("wheelchair", (), ()) and a.meets


def test_no_is_missing_and_absent_is_not_known_never_the_other_way():
    facts = {c: True for c in WHEELCHAIR}
    facts["lift"] = False
    del facts["accessible_toilet"]
    [a] = assess(facts, ["wheelchair"])
    assert a.missing == ("lift",)
    assert a.unknown == ("accessible_toilet",)
    assert not a.meets


def test_only_unknown_facts_do_not_meet_and_are_not_missing():
    [a] = assess({}, ["hearing_impaired"])
    assert a.missing == () and a.unknown == PROFILE_REQUIREMENTS["hearing_impaired"] and not a.meets


def test_a_fact_no_profile_needs_does_not_matter():
    facts = {c: True for c in PROFILE_REQUIREMENTS["hearing_impaired"]} | {"lift": False, "ramp": False}
    [a] = assess(facts, ["hearing_impaired"])
    assert a.meets


def test_each_chosen_profile_is_assessed_in_the_given_order():
    facts = {"induction_loop": True, "visual_call_display": True, "step_free_entrance": False}
    result = assess(facts, ["hearing_impaired", "pushchair"])
    assert [a.profile for a in result] == ["hearing_impaired", "pushchair"]
    assert result[0].meets
    assert result[1].missing == ("step_free_entrance",) and result[1].unknown == ("wide_door", "lift")


def test_required_facts_are_the_union_once_each():
    need = required_facts(["pushchair", "wheelchair"])
    assert set(need) == set(WHEELCHAIR) and len(need) == len(set(need))
    assert required_facts([]) == ()


def test_rank_meets_first_then_fewer_missing_then_fewer_unknown():
    need = PROFILE_REQUIREMENTS["pushchair"]  # step_free_entrance, wide_door, lift
    meets = {c: True for c in need}
    one_unknown = {"step_free_entrance": True, "wide_door": True}
    one_missing = {"step_free_entrance": True, "wide_door": True, "lift": False}
    all_unknown: dict = {}
    two_missing = {"step_free_entrance": False, "wide_door": True, "lift": False}
    order = sorted([two_missing, all_unknown, one_missing, one_unknown, meets], key=lambda f: rank_key(f, need))
    assert order == [meets, one_unknown, all_unknown, one_missing, two_missing]


# ---------------------------------------------------------------- pages and API

def _set_facts(app, facts_by_unit: dict[int, dict]) -> None:
    with app.app_context():
        sess = db.session()
        for uid, facts in facts_by_unit.items():
            sess.get(Unit, uid).set_accessibility({c: facts.get(c) for c in ACCESSIBILITY_FACTS})
        sess.commit()  # the index follows the change log (webapp.search.changelog) at the next search


def _units(app, n: int = 3) -> list[int]:
    with app.app_context():
        return list(db.session().scalars(select(Unit.id).where(Unit.is_hidden.is_(False), Unit.element == "oral_health",
                                                               Unit.pilot.has(slug="uusimaa"))
                                         .order_by(Unit.name_fi).limit(n)))


@pytest.fixture
def three(app):
    """Three oral-health units: one meets the wheelchair profile, one has no lift, one has unknowns."""
    meets, no_lift, unknown = _units(app)
    everything = {c: True for c in ACCESSIBILITY_FACTS}
    _set_facts(app, {meets: everything, no_lift: everything | {"lift": False, "step_free_entrance": False},
                     unknown: {c: True for c in WHEELCHAIR if c not in ("accessible_toilet", "lift")}})
    return meets, no_lift, unknown


def _card_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'id="compare-(\d+)"', html)]


def _card(html: str, uid: int) -> str:
    start = html.index(f'id="unit-{uid}"')
    return html[start:html.index("</li>\n", html.index('class="choice compare-choice"', start))]


def test_search_ranks_units_that_meet_the_profile_first_without_hiding_others(app, three):
    meets, no_lift, unknown = three
    base = "/fi/search?element=oral_health&pilot=uusimaa"
    plain = app.test_client().get(base + "&profile=").get_data(as_text=True)
    ranked = app.test_client().get(base + "&profile=wheelchair").get_data(as_text=True)
    assert plain.count('class="card result-card') == ranked.count('class="card result-card')
    order = _card_ids(ranked)
    assert order[0] == meets
    assert order.index(unknown) < order.index(no_lift)  # nothing known missing before something known missing
    assert "Ensin ovat yksiköt, jotka täyttävät kaikki valitut esteettömyystarpeet." in ranked


def test_cards_say_what_is_missing_and_what_is_not_known(app, three):
    meets, no_lift, unknown = three
    html = app.test_client().get("/fi/search?element=oral_health&pilot=uusimaa&profile=wheelchair").get_data(
        as_text=True)
    assert "Pyörätuolin käyttäjä:</strong>\n    täyttää kaikki tarpeet" in _card(html, meets)
    short = _card(html, no_lift)
    assert "Ei hissiä" in short and "Sisäänkäynnillä on portaita" in short and "ei tiedossa" not in short
    unsure = _card(html, unknown)
    assert "Hissi: ei tiedossa" in unsure and "Esteetön WC: ei tiedossa" in unsure
    assert "Ei hissiä" not in unsure and "täyttää kaikki tarpeet" not in unsure


def test_card_in_swedish(app, three):
    _meets, no_lift, unknown = three
    html = app.test_client().get("/sv/search?element=oral_health&pilot=uusimaa&profile=wheelchair").get_data(
        as_text=True)
    assert "Ingen hiss" in _card(html, no_lift)
    assert "Hiss: inte känt" in _card(html, unknown)


def test_profile_only_shows_only_units_that_meet_every_need(app, three):
    meets, _no_lift, unknown = three
    html = app.test_client().get("/fi/search?element=oral_health&pilot=uusimaa&profile=wheelchair"
                                 "&profile_only=1").get_data(as_text=True)
    ids = _card_ids(html)
    assert meets in ids and unknown not in ids
    with app.app_context():
        for uid in ids:
            facts = db.session().get(Unit, uid).accessibility
            assert all(facts.get(c) is True for c in WHEELCHAIR)


def test_an_unknown_profile_is_a_clear_400(client):
    response = client.get("/fi/search?profile=jetpack")
    assert response.status_code == 400
    assert '<a href="#profile">Esteettömyystarpeet: ”jetpack” ei ole mikään vaihtoehdoista.</a>' in \
        response.get_data(as_text=True)


def test_profiles_are_remembered_for_the_visit_and_put_in_the_address(client):
    client.get("/fi/search?profile=pushchair&profile=hearing_impaired")
    response = client.get("/fi/search?q=hammas")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/fi/search?q=hammas&profile=pushchair&profile=hearing_impaired")
    followed = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<input checked id="profile-\d" name="profile" type="checkbox" value="pushchair">', followed)
    # choosing none (the form always sends an empty profile) forgets them
    client.get("/fi/search?profile=")
    assert client.get("/fi/search").status_code == 200


def test_a_shared_link_keeps_the_profile_without_a_session(app):
    html = app.test_client().get("/fi/search?profile=visually_impaired").get_data(as_text=True)
    assert "Näkövammainen:" in html


def test_unit_page_and_comparison_follow_the_chosen_profile(app, three):
    meets, no_lift, unknown = three
    client = app.test_client()
    page = client.get(f"/fi/units/{no_lift}?profile=wheelchair").get_data(as_text=True)
    assert "Ei hissiä" in page and "Sisäänkäynnillä on portaita" in page
    # remembered: the next pages show it without the parameter
    unit_page = client.get(f"/fi/units/{unknown}").get_data(as_text=True)
    assert "Hissi: ei tiedossa" in unit_page and "Ei hissiä" not in unit_page
    compare = client.get(f"/fi/compare?unit={meets}&unit={no_lift}&unit={unknown}").get_data(as_text=True)
    assert "täyttää kaikki tarpeet" in compare and "Ei hissiä" in compare and "Hissi: ei tiedossa" in compare
    plain = app.test_client().get(f"/fi/units/{no_lift}").get_data(as_text=True)
    assert "Ei hissiä" not in plain  # no profile chosen: the facts table only


def test_api_ranks_and_explains_per_profile(app, three):
    meets, no_lift, unknown = three
    client = app.test_client()
    body = client.get("/api/v1/units?element=oral_health&pilot=uusimaa&profile=wheelchair&lang=fi").get_json()
    ids = [i["id"] for i in body["items"]]
    assert ids[0] == meets and ids.index(unknown) < ids.index(no_lift)
    items = {i["id"]: i for i in body["items"]}
    assert items[meets]["profiles"][0]["meets"] is True
    fit = items[no_lift]["profiles"][0]
    assert fit["profile"]["code"] == "wheelchair" and not fit["meets"]
    assert [m["code"] for m in fit["missing"]] == ["step_free_entrance", "lift"] and fit["not_known"] == []
    assert fit["missing"][1]["text"] == "Ei hissiä"
    fit = items[unknown]["profiles"][0]
    assert fit["missing"] == [] and [m["code"] for m in fit["not_known"]] == ["lift", "accessible_toilet"]
    facts = {f["code"]: f["value"] for f in items[unknown]["accessibility"]}
    assert facts["lift"] is None and facts["step_free_entrance"] is True
    assert "profiles" not in client.get("/api/v1/units?element=oral_health").get_json()["items"][0]


def test_api_unit_with_profile_and_bad_profile(app, three):
    _meets, no_lift, _unknown = three
    client = app.test_client()
    body = client.get(f"/api/v1/units/{no_lift}?profile=pushchair&lang=sv").get_json()
    assert body["profiles"][0]["missing"][0]["label"] == "Trappfri entré"
    bad = client.get(f"/api/v1/units/{no_lift}?profile=nope")
    assert bad.status_code == 400 and bad.get_json()["error"]["parameter"] == "profile"
    assert client.get("/api/v1/units?profile=nope").status_code == 400


def test_api_profile_ranking_on_postgres_too(any_app):
    ids = _units(any_app)
    _set_facts(any_app, {ids[0]: {}, ids[1]: {c: True for c in WHEELCHAIR}})
    body = any_app.test_client().get("/api/v1/units?element=oral_health&pilot=uusimaa&profile=wheelchair").get_json()
    order = [i["id"] for i in body["items"]]
    assert order.index(ids[1]) < order.index(ids[0])


def test_the_index_ranks_exactly_as_rank_key_for_every_unit(app):
    """The search ranks over bitmasks (query.profile_ranks); it must order as accessibility.rank_key."""
    from webapp.search.query import profile_ranks
    with app.app_context():
        snap = app.extensions["search"].current(db.session())
    for profiles in (["wheelchair"], ["hearing_impaired", "pushchair"], list(PROFILE_REQUIREMENTS)):
        need = required_facts(profiles)
        ranks = profile_ranks(snap, need)
        seen = set()
        for row in snap.rows():
            tier, missing, unknown = rank_key(row.card.accessibility, need)
            assert ranks[row.slot] == tier * 10_000 + missing * 100 + unknown
            seen.add((tier, missing > 0, unknown > 0))
        assert {(0, False, False), (1, True, False), (1, False, True)} <= seen  # the demo has every kind


def test_a_fact_set_back_to_not_known_reaches_the_search(app):
    """Deleting fact rows only (yes -> not known) must still re-index the unit (webapp.search.changelog)."""
    uid = _units(app, 1)[0]
    _set_facts(app, {uid: {c: True for c in WHEELCHAIR}})
    client = app.test_client()
    url = "/api/v1/units?element=oral_health&pilot=uusimaa&profile=wheelchair&profile_only=1"
    assert uid in [i["id"] for i in client.get(url).get_json()["items"]]
    _set_facts(app, {uid: {}})
    assert uid not in [i["id"] for i in client.get(url).get_json()["items"]]
