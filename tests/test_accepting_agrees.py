""""Accepting new customers" means what a resident outside the queue can do (webapp.choice.rules.decide).

The search filter, the result card, the unit page, the API and the staff unit list all say a unit is
open to newcomers exactly when decide() lets a resident who is not in its waiting list choose it: a unit
whose free places are all held for its queue (waiting_list_first) is not, and says so in plain words.
A web choice that takes a unit's last place, and its cancel, move the unit out of the filter and back at once.
"""
from __future__ import annotations

import html as htmllib
import re
from datetime import date

import pytest
from sqlalchemy import select, update

from tests.choice_helpers import confirm_form, free_unit
from tests.choice_helpers import sign_in as sign_in_resident
from tests.conftest import csrf_from
from tests.test_staff_helpers import prepare_accounts, sign_in
from webapp.choice.rules import ChoiceRules, ResidentFacts, UnitFacts, decide
from webapp.models import IndexChange, Unit
from webapp.web import db

NAME = "Ksylofoniasema"  # a name no seeded unit has: the searches below find only the unit under test
TODAY = date(2026, 11, 24)

LABELS = {  # what each surface shows, per language
    "fi": {"open": "Ottaa uusia asiakkaita", "queue_first": "Vapaat paikat menevät jonossa oleville",
           "full": "Täynnä", "not_accepting": "Ei ota uusia asiakkaita", "hidden": "Piilotettu"},
    "sv": {"open": "Tar emot nya kunder", "queue_first": "De lediga platserna går till dem som står i kö",
           "full": "Fullt", "not_accepting": "Tar inte emot nya kunder", "hidden": "Dold"},
    "en": {"open": "Accepting new customers", "queue_first": "Free places go to those in the queue",
           "full": "Full", "not_accepting": "Not accepting new customers", "hidden": "Hidden"},
}

# (free places before the queue: None = no maximum, 0 = full; residents waiting; accepting_new; hidden; status)
CASES = {
    "queue one shorter than the free places": (3, 2, True, False, "open"),
    "queue as long as the free places": (3, 3, True, False, "queue_first"),
    "queue one longer than the free places": (3, 4, True, False, "queue_first"),
    "one free place, empty queue": (1, 0, True, False, "open"),
    "one free place, one waiting": (1, 1, True, False, "queue_first"),
    "no maximum, with a queue": (None, 5, True, False, "open"),
    "no maximum, not accepting": (None, 0, False, False, "not_accepting"),
    "no maximum, hidden": (None, 0, True, True, "hidden"),
    "free places, not accepting": (3, 0, False, False, "not_accepting"),
    "free places held for the queue, not accepting": (3, 3, False, False, "not_accepting"),
    "full": (0, 0, True, False, "full"),
    "full with a queue": (0, 2, True, False, "full"),
    "full, not accepting": (0, 0, False, False, "full"),
}


@pytest.fixture
def app(make_app):
    return make_app("sqlite", TODAY=TODAY.isoformat())


def set_unit(app, unit_id: int, free: int | None, waiting: int, accepting: bool = True,
             hidden: bool = False) -> None:
    with app.app_context():
        sess = db.session()
        unit = sess.get(Unit, unit_id)
        unit.name_fi = NAME
        unit.capacity = None if free is None else unit.listed_count + free
        unit.waiting_count = waiting
        unit.accepting_new = accepting
        unit.is_hidden = hidden
        sess.commit()


def newcomer_decision(app, unit_id: int):
    """decide() for a resident of the unit's municipality who is not in its queue and has no choices."""
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        facts = UnitFacts(id=unit.id, pilot_slug=unit.pilot.slug, element=unit.element,
                          municipality=unit.municipality_code, capacity=unit.capacity,
                          listed_count=unit.listed_count, accepting_new=unit.accepting_new,
                          is_visible=not unit.is_hidden, waiting_count=unit.waiting_count)
        resident = ResidentFacts(date(1980, 5, 5), unit.municipality_code, False)
        rules = ChoiceRules(unit.pilot.slug, unit.element, pilot_municipalities=frozenset({unit.municipality_code}))
        return decide(resident, facts, [], rules, TODAY)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def card_label(client, lang: str, unit_id: int) -> str | None:
    """The card's "New customers" tag in the search results; None when the unit is not in them."""
    page = client.get(f"/{lang}/search?q={NAME}").get_data(as_text=True)
    m = re.search(rf'<li class="card result-card" id="unit-{unit_id}".*?</li>', page, re.S)
    if m is None:
        return None
    tag = re.search(r'<span class="tag tag-(?:open|full)">([^<]+)</span>', m.group(0))
    return tag.group(1) if tag else None


def in_filter(client, lang: str, unit_id: int) -> bool:
    page = client.get(f"/{lang}/search?q={NAME}&accepting=1").get_data(as_text=True)
    return f'id="unit-{unit_id}"' in page


def unit_page(client, lang: str, unit_id: int) -> tuple[int, str | None, str]:
    """(status code, the tag under "Room for new customers", the page)."""
    response = client.get(f"/{lang}/units/{unit_id}")
    page = response.get_data(as_text=True)
    section = page[page.find('id="status"'):page.find('id="details"')]
    tag = re.search(r'<span class="tag tag-(?:open|full)">([^<]+)</span>', section)
    return response.status_code, tag.group(1) if tag else None, page


def api_items(client, unit_id: int, **args) -> list[dict]:
    body = client.get("/api/v1/units", query_string={"q": NAME, **args}).get_json()
    return [i for i in body["items"] if i["id"] == unit_id]


def staff_label(staff, lang: str, unit_id: int) -> str:
    page = staff.get(f"/{lang}/staff/units?q={NAME}").get_data(as_text=True)
    row = re.search(rf'<tr>\s*<th scope="row"><a href="/{lang}/staff/units/{unit_id}">.*?</tr>', page, re.S)
    assert row, "the unit is not in the staff list"
    return _text(re.findall(r"<td>(.*?)</td>", row.group(0), re.S)[-1])


@pytest.fixture
def staff(app):
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["admin"].email)
    return client


@pytest.mark.parametrize("case", list(CASES))
def test_every_surface_agrees_with_decide(app, client, staff, case):
    free, waiting, accepting, hidden, status = CASES[case]
    unit_id = free_unit(app)
    set_unit(app, unit_id, free, waiting, accepting, hidden)
    allowed = newcomer_decision(app, unit_id).allowed
    assert allowed == (status == "open"), "the case's expected status disagrees with decide()"
    labels = LABELS["fi"]

    # the search filter, in the page and in the API
    assert in_filter(client, "fi", unit_id) == allowed
    assert bool(api_items(client, unit_id, accepting="1")) == allowed
    # the staff list
    assert staff_label(staff, "fi", unit_id) == labels[status]
    if hidden:  # not in search, no page, not in the API
        assert card_label(client, "fi", unit_id) is None
        assert unit_page(client, "fi", unit_id)[0] == 404
        assert client.get(f"/api/v1/units/{unit_id}").status_code == 404
        return
    # the card
    assert card_label(client, "fi", unit_id) == labels[status]
    # the unit page: its label, and a choice only when one can be made
    code, tag, page = unit_page(client, "fi", unit_id)
    assert code == 200 and tag == labels[status]
    assert (f'href="/fi/choose/{unit_id}">Valitse tämä toimipiste</a>' in page) == allowed
    if status == "queue_first":  # what such a unit offers is its waiting list
        assert f'href="/fi/choose/{unit_id}">Liity jonoon</a>' in page
    # the API's one unit and its search item
    item = client.get(f"/api/v1/units/{unit_id}").get_json()
    assert item["open_to_newcomers"] is allowed
    assert item["accepting_new"] is accepting  # the provider's flag, as documented
    expected_places = None if free is None else max(free - waiting, 0)
    assert item["places_for_newcomers"] == expected_places
    listed = api_items(client, unit_id)
    assert listed and listed[0]["open_to_newcomers"] is allowed
    assert listed[0]["places_for_newcomers"] == expected_places


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_free_places_held_for_the_queue_say_so_in_every_language(app, client, staff, lang):
    unit_id = free_unit(app)
    set_unit(app, unit_id, 2, 2)
    text = LABELS[lang]["queue_first"]
    assert card_label(client, lang, unit_id) == text
    assert unit_page(client, lang, unit_id)[1] == text
    assert staff_label(staff, lang, unit_id) == text


def _log_rows_naming(app, unit_id: int) -> int:
    with app.app_context():
        rows = db.session().scalars(select(IndexChange.unit_ids)).all()
    return sum(1 for r in rows if r and str(unit_id) in r.split())


def test_a_change_of_waiting_count_alone_reindexes_the_unit_for_the_next_search(app, client):
    unit_id = free_unit(app)
    set_unit(app, unit_id, 2, 1)
    assert in_filter(client, "fi", unit_id)
    assert card_label(client, "fi", unit_id) == LABELS["fi"]["open"]
    logged = _log_rows_naming(app, unit_id)

    # one more resident joins the queue: the guarded UPDATE the waiting list makes, nothing else changes
    with app.app_context():
        sess = db.session()
        sess.execute(update(Unit).where(Unit.id == unit_id).values(waiting_count=Unit.waiting_count + 1))
        sess.commit()
    assert _log_rows_naming(app, unit_id) == logged + 1, "the change log names the unit"
    assert not in_filter(client, "fi", unit_id), "the next search leaves it out of the filter"
    assert not api_items(client, unit_id, accepting="1")
    assert card_label(client, "fi", unit_id) == LABELS["fi"]["queue_first"]
    assert unit_page(client, "fi", unit_id)[1] == LABELS["fi"]["queue_first"]

    # the queue shortens (an ORM change this time): open again at the next search
    with app.app_context():
        sess = db.session()
        sess.get(Unit, unit_id).waiting_count = 1
        sess.commit()
    assert _log_rows_naming(app, unit_id) == logged + 2
    assert in_filter(client, "fi", unit_id)
    assert api_items(client, unit_id, accepting="1")
    assert card_label(client, "fi", unit_id) == LABELS["fi"]["open"]


def _accepting_ids(client) -> set[int]:
    data = client.get("/api/v1/units?accepting=1&per_page=100&pilot=uusimaa&element=sote_centre").json
    ids = {item["id"] for item in data["items"]}
    page = 2
    while len(ids) < data["total"]:
        ids |= {item["id"] for item in client.get(f"/api/v1/units?accepting=1&pilot=uusimaa&element=sote_centre"
                                                  f"&page={page}").json["items"]}
        page += 1
    return ids


def test_search_stops_offering_a_unit_when_a_web_choice_takes_its_last_place(client, app):
    unit_id = free_unit(app)
    with app.app_context():
        unit = db.session().get(Unit, unit_id)
        unit.listed_count = unit.capacity - 1  # one place left
        db.session().commit()
        app.extensions["search"].catch_up(db.session())
    assert unit_id in _accepting_ids(client)
    sign_in_resident(client, "aino")
    response = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    assert response.status_code == 303
    assert unit_id not in _accepting_ids(client), "the full unit must leave the accepting filter at once"
    reference = response.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/fi/my-choices/{reference}/cancel")
    client.post(f"/fi/my-choices/{reference}/cancel", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert unit_id in _accepting_ids(client), "a cancelled choice frees the place in search too"


def test_the_openapi_document_describes_the_new_fields(client):
    unit = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["Unit"]
    assert {"open_to_newcomers", "places_for_newcomers"} <= set(unit["required"])
    assert unit["properties"]["open_to_newcomers"]["type"] == "boolean"
    assert unit["properties"]["places_for_newcomers"] == {
        "type": "integer", "minimum": 0, "nullable": True,
        "description": unit["properties"]["places_for_newcomers"]["description"]}
    assert "waiting list" in unit["properties"]["open_to_newcomers"]["description"]


# ---------------------------------------------------------------- the rule itself (pure)

def test_open_to_newcomers_is_what_decide_allows():
    from webapp.choice.rules import newcomer_status, open_to_newcomers, places_for_newcomers
    rules = ChoiceRules("p", "sote_centre", pilot_municipalities=frozenset({"091"}))
    resident = ResidentFacts(date(1980, 1, 1), "091", False)
    for capacity in (None, 0, 1, 5, 10):
        for listed in (0, 1, 4, 5, 6, 10, 11):
            for waiting in (0, 1, 2, 4, 5, 6):
                for accepting, visible in ((True, True), (False, True), (True, False), (False, False)):
                    args = (accepting, visible, capacity, listed, waiting)
                    facts = UnitFacts(id=1, pilot_slug="p", element="sote_centre", municipality="091",
                                      capacity=capacity, listed_count=listed, accepting_new=accepting,
                                      is_visible=visible, waiting_count=waiting)
                    decision = decide(resident, facts, [], rules, TODAY)
                    opened = open_to_newcomers(*args)
                    assert opened is decision.allowed, args
                    status = newcomer_status(*args)
                    assert (status == "open") is opened, args
                    places = places_for_newcomers(capacity, listed, waiting)
                    assert places == (None if capacity is None else max(capacity - listed - waiting, 0)), args
                    if accepting and visible:
                        assert opened is (places is None or places > 0), args
                    codes = set(decision.codes)
                    assert (status == "full") is (visible and capacity is not None and listed >= capacity), args
                    assert (status == "queue_first") is (visible and accepting and "waiting_list_first" in codes), args


def test_boundary_of_the_queue():
    from webapp.choice.rules import newcomer_status, open_to_newcomers, places_for_newcomers
    # 10 places, 7 listed: 3 free
    assert open_to_newcomers(True, True, 10, 7, 2) and places_for_newcomers(10, 7, 2) == 1
    assert not open_to_newcomers(True, True, 10, 7, 3) and places_for_newcomers(10, 7, 3) == 0
    assert not open_to_newcomers(True, True, 10, 7, 4) and places_for_newcomers(10, 7, 4) == 0
    assert newcomer_status(True, True, 10, 7, 3) == "queue_first"
    assert newcomer_status(True, True, 10, 10, 0) == "full"
    assert open_to_newcomers(True, True, None, 500, 40) and places_for_newcomers(None, 500, 40) is None
    assert not open_to_newcomers(False, True, None, 0, 0)
    assert not open_to_newcomers(True, False, None, 0, 0)
    assert newcomer_status(True, False, None, 0, 0) == "hidden"
