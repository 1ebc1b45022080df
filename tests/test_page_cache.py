"""Whole public pages kept for visitors without a session (webapp/web/page_cache.py): served again without
rendering, and never older than the data: a change to a unit, made here or on another node, is on its page at
the next request; a visitor with a session always gets a page of their own."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, select

from tests.choice_helpers import free_unit, sign_in
from tests.test_index_follow import second_node
from webapp.models import OpeningException, Unit
from webapp.web import db


def statements_of(app, client, path: str) -> tuple[list[str], str]:
    """The SQL statements a GET made, and the page."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine()
    listener = lambda *args: seen.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200, response.status_code
    return seen, response.get_data(as_text=True)


def only_log_checks(statements: list[str]) -> bool:
    """Nothing but the change-log check that every request for a public page makes first."""
    return all("index_change" in s or s.strip() in ("BEGIN", "COMMIT", "ROLLBACK") for s in statements)


def add_exception(app, unit_id: int, note: str) -> None:
    with app.app_context():
        sess = db.session()
        sess.add(OpeningException(unit_id=unit_id, day=date.today() + timedelta(days=3), note_fi=note, note_sv=note))
        sess.commit()


def test_a_second_anonymous_visit_is_served_without_rendering_and_is_the_same_page(app):
    unit_id = free_unit(app)
    client = app.test_client()
    first, first_page = statements_of(app, client, f"/fi/units/{unit_id}")
    again, again_page = statements_of(app, client, f"/fi/units/{unit_id}")
    assert not only_log_checks(first)  # the first visit read the unit from the database
    assert only_log_checks(again), again
    assert again_page == first_page
    kept = app.extensions["page_cache"]
    for path in ("/sv/search?q=tandläkaren", "/fi/", f"/api/v1/units/{unit_id}", "/api/v1/units?element=oral_health",
                 f"/fi/compare?unit={unit_id}&unit={free_unit(app, skip=1)}"):
        before = len(kept)
        first_page = client.get(path).get_data()
        assert len(kept) == before + 1, path
        assert client.get(path).get_data() == first_page
        assert len(kept) == before + 1, path


def test_a_change_to_the_unit_is_on_its_page_at_the_next_request(any_app):
    """Opening-hour exceptions are not in the search index, but their change is in the change log."""
    app = any_app
    unit_id = free_unit(app)
    client = app.test_client()
    assert "Juhannusaatto suljettu" not in client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    add_exception(app, unit_id, "Juhannusaatto suljettu")
    assert "Juhannusaatto suljettu" in client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    with app.app_context():
        sess = db.session()
        sess.get(Unit, unit_id).name_sv = "Ny namn på enheten"
        sess.commit()
    assert "Ny namn på enheten" in client.get(f"/sv/units/{unit_id}").get_data(as_text=True)
    assert unit_id in [u["id"] for u in client.get("/api/v1/units?q=enheten&lang=sv").get_json()["items"]]


def test_a_change_to_another_unit_leaves_this_units_page_in_the_cache(app):
    unit_id, other = free_unit(app), free_unit(app, skip=1)
    client = app.test_client()
    statements_of(app, client, f"/fi/units/{unit_id}")
    add_exception(app, other, "Toisen yksikön poikkeus")
    client.get("/fi/search")  # this node's index takes the change in (re-indexing the other unit)
    again, _page = statements_of(app, client, f"/fi/units/{unit_id}")
    assert only_log_checks(again)
    assert "Toisen yksikön poikkeus" in client.get(f"/fi/units/{other}").get_data(as_text=True)


def test_a_change_through_another_node_is_on_this_nodes_cached_page(any_app, tmp_path):
    a, b = any_app, second_node(any_app, tmp_path)
    unit_id = free_unit(a)
    page_b = b.test_client().get(f"/fi/units/{unit_id}").get_data(as_text=True)
    assert "Kunnostustöiden vuoksi suljettu" not in page_b
    add_exception(a, unit_id, "Kunnostustöiden vuoksi suljettu")  # committed through node A's app
    assert "Kunnostustöiden vuoksi suljettu" in b.test_client().get(f"/fi/units/{unit_id}").get_data(as_text=True)


def test_a_signed_in_resident_gets_their_own_page_not_the_anonymous_one(app):
    unit_id = free_unit(app)
    anonymous = app.test_client().get(f"/fi/units/{unit_id}").get_data(as_text=True)
    assert "csrf_token" not in anonymous
    client = app.test_client()
    sign_in(client, "aino")
    page = client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    assert "csrf_token" in page and page != anonymous  # the header's sign-out form


def test_a_profile_remembered_for_the_visit_is_applied_to_a_page_cached_without_it(app):
    unit_id = free_unit(app)
    client = app.test_client()
    plain = client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    client.get("/fi/search?profile=wheelchair")  # remembered in the session
    with_profile = client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    assert with_profile != plain


def test_a_new_day_renders_the_page_again(app):
    """Exceptions in the past are not shown: the date is part of the key."""
    unit_id = free_unit(app)
    add_exception(app, unit_id, "Huomenna poikkeus")
    client = app.test_client()
    day = date.today() + timedelta(days=3)
    app.config["TODAY"] = (day - timedelta(days=1)).isoformat()  # the day before: still ahead
    assert "Huomenna poikkeus" in client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    app.config["TODAY"] = day.isoformat()  # the day of: still shown
    assert "Huomenna poikkeus" in client.get(f"/fi/units/{unit_id}").get_data(as_text=True)
    app.config["TODAY"] = (day + timedelta(days=1)).isoformat()  # the day after: gone
    assert "Huomenna poikkeus" not in client.get(f"/fi/units/{unit_id}").get_data(as_text=True)


def test_errors_and_a_disabled_cache_are_never_served_from_it(make_app):
    app = make_app("sqlite", PAGE_CACHE_MB=0)
    unit_id = free_unit(app)
    client = app.test_client()
    statements_of(app, client, f"/fi/units/{unit_id}")
    again, _page = statements_of(app, client, f"/fi/units/{unit_id}")
    assert not only_log_checks(again)
    with app.app_context():
        hidden = db.session().scalars(select(Unit.id).order_by(Unit.id.desc())).first() + 1000
    for _ in range(2):
        assert client.get(f"/fi/units/{hidden}").status_code == 404


def test_the_api_without_lang_answers_each_browser_in_its_language_from_the_cache(app):
    client = app.test_client()
    labels = {}
    for _round in range(2):
        for lang in ("sv", "fi", "en"):
            body = client.get("/api/v1/units?element=oral_health", headers={"Accept-Language": lang}).get_json()
            labels.setdefault(lang, set()).add(body["items"][0]["element"]["label"])
    assert all(len(found) == 1 for found in labels.values())
    assert len({next(iter(found)) for found in labels.values()}) == 3


def test_the_apis_addresses_follow_the_scheme_and_host_they_were_asked_on(app):
    """The API's unit addresses are absolute: a page kept for one scheme or host is not served on another."""
    client = app.test_client()
    unit_id = free_unit(app)
    for base in ("https://valinta.example.fi", "http://valinta.example.fi", "https://toinen.example.fi"):
        for _round in range(2):
            body = client.get(f"/api/v1/units/{unit_id}", base_url=base).get_json()
            assert body["url"]["fi"] == f"{base}/fi/units/{unit_id}"
