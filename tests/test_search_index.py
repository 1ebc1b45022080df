"""The search index and query layer against the seeded database: filters, facets, text, sorts, updates."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.core.collation import collation_key
from webapp.models import Municipality, Postcode, QueueTime, Unit, with_collections
from webapp.web import db
from webapp.web.search_params import parse_params


def _search(app, args: dict, lang: str = "fi", paginate: bool = False):
    with app.test_request_context(f"/{lang}/search"):
        from flask import g
        g.lang = lang
        sess = db.session()
        search = app.extensions["search"]
        params, errors = parse_params(MultiDict(args), search.reference.known(sess))
        assert not errors, errors
        return search.search(sess, params, lang=lang, paginate=paginate)


def _ids(app, args: dict) -> set[int]:
    return {h.id for h in _search(app, args).hits}


# ---------------------------------------------------------------- reference filter over the database

def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(a))


def _origin(sess, code: str):
    pc = sess.get(Postcode, code)
    if pc.lat is not None:
        return pc.lat, pc.lon
    muni = sess.get(Municipality, pc.municipality_code)
    return muni.lat, muni.lon


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def db_expected(sess, args: dict) -> set[int]:
    """The same filters as plain Python over the ORM objects."""
    origin = _origin(sess, args["postcode"]) if "postcode" in args else None
    out = set()
    for u in sess.scalars(select(Unit).where(Unit.is_hidden.is_(False))).unique():
        latest = {}
        for qt in u.queue_times:
            if qt.profession not in latest or qt.measured_on > latest[qt.profession].measured_on:
                latest[qt.profession] = qt
        if "pilot" in args and u.pilot.slug != args["pilot"]:
            continue
        if "element" in args and u.element != args["element"]:
            continue
        if "municipality" in args and u.municipality_code != args["municipality"]:
            continue
        if "service" in args and not set(_as_list(args["service"])) <= {s.code for s in u.services}:
            continue
        if "feature" in args and not set(_as_list(args["feature"])) <= set(u.feature_codes):
            continue
        if "language" in args and not set(_as_list(args["language"])) & {lg.code for lg in u.languages}:
            continue
        if "sector" in args and u.provider.sector not in _as_list(args["sector"]):
            continue
        # open to a resident outside the queue: a free place left once the queue has had its share
        if args.get("accepting") and not (u.accepting_new and (u.capacity is None
                                                               or u.capacity - u.listed_count - u.waiting_count > 0)):
            continue
        if "max_t3_doctor" in args and not ("doctor" in latest
                                            and latest["doctor"].t3_days <= int(args["max_t3_doctor"])):
            continue
        if "max_t3_nurse" in args and not ("nurse" in latest and latest["nurse"].t3_days <= int(args["max_t3_nurse"])):
            continue
        if "radius_km" in args and _km(*origin, u.lat, u.lon) > float(args["radius_km"]):
            continue
        out.add(u.id)
    return out


COMBINATIONS = [
    {},
    {"pilot": "uusimaa"},
    {"pilot": "tampere", "element": "oral_health"},
    {"element": "sote_centre"},
    {"service": ["doctor", "mental_health"]},
    {"service": ["dentist", "oral_surgery", "dental_prosthetics"]},
    {"language": "sv"},
    {"language": ["sv", "en"]},
    {"feature": ["lift", "induction_loop"]},
    {"sector": ["private", "third"]},
    {"sector": "public", "accepting": "1"},
    {"accepting": "1"},
    {"max_t3_doctor": "10"},
    {"max_t3_nurse": "3", "max_t3_doctor": "20"},
    {"municipality": "837"},
    {"postcode": "00100", "radius_km": "25"},
    {"postcode": "05800", "radius_km": "40", "service": "doctor", "accepting": "1"},
    {"pilot": "uusimaa", "language": "sv", "feature": "step_free_entrance", "sector": ["private", "public"]},
    {"element": "sote_centre", "max_t3_doctor": "15", "service": "physiotherapy", "language": ["en", "ru"]},
]


def test_index_matches_database_for_filter_combinations(any_app):
    app = any_app
    checked_nonempty = 0
    with app.app_context():
        sess = db.session()
        for args in COMBINATIONS:
            expected = db_expected(sess, args)
            got = _ids(app, args)
            assert got == expected, f"{args}: only in index {got - expected}, only in db {expected - got}"
            checked_nonempty += bool(expected)
    # The combinations must actually select something, or the check proves little.
    assert checked_nonempty >= len(COMBINATIONS) - 2


def test_filters_narrow_results(app):
    everything = _ids(app, {})
    assert _ids(app, {"service": ["doctor", "mental_health"]}) < _ids(app, {"service": "doctor"}) < everything


# ---------------------------------------------------------------- text

def _first_unit(app, **where) -> Unit:
    with app.app_context():
        stmt = select(Unit)
        for key, value in where.items():
            stmt = stmt.where(getattr(Unit, key) == value)
        return db.session().scalars(stmt.order_by(Unit.id)).first()


@pytest.mark.parametrize("q", ["hammaslääkärille", "hammaslääkärin", "suunhoidon yksikkö"])
def test_finnish_inflections_find_oral_health_units(app, q):
    ids = _ids(app, {"q": q})
    oral = _ids(app, {"element": "oral_health"})
    assert oral and oral <= ids


def test_finnish_locative_finds_units_in_hyvinkaa(app):
    ids = _ids(app, {"q": "Hyvinkäällä"})
    assert ids and ids == _ids(app, {"municipality": "106"})


def test_swedish_inflection_finds_dentists(app):
    ids = _ids(app, {"q": "tandläkaren"})
    assert _ids(app, {"element": "oral_health"}) <= ids


def test_swedish_street_name_finds_unit_with_finnish_street(app):
    with app.app_context():
        unit = db.session().scalars(select(Unit).where(Unit.street_fi.like("Asemakatu%"), Unit.street_sv != "")).first()
        assert unit is not None, "the demo data has a bilingual unit on Asemakatu"
        assert unit.street_sv.startswith("Stationsgatan")
    assert unit.id in _ids(app, {"q": "Stationsgatan"})
    assert unit.id in _ids(app, {"q": "Asemakatu"})


def test_swedish_municipality_name_finds_units(app):
    assert _ids(app, {"q": "Helsingfors"}) >= _ids(app, {"municipality": "091"}) != set()


def test_typo_falls_back_to_fuzzy_search(app):
    exact = _search(app, {"q": "hammaslääkäri"})
    typo = _search(app, {"q": "hamaslääkäri"})
    assert not exact.fuzzy and typo.fuzzy
    assert {h.id for h in typo.hits} == {h.id for h in exact.hits}


def test_nonsense_finds_nothing(app):
    assert _search(app, {"q": "xqzvw"}).total == 0


def test_words_are_combined_with_and(app):
    both = _ids(app, {"q": "hammaslääkäri Tampere"})
    assert both and both == _ids(app, {"element": "oral_health", "municipality": "837"})


# ---------------------------------------------------------------- facets

def test_facet_counts_equal_database_counts(app):
    args = {"pilot": "uusimaa", "sector": "private", "service": "doctor"}
    facets = _search(app, args).facets
    with app.app_context():
        sess = db.session()
        # "any" group: its own selection is ignored
        for sector in ("public", "private", "third"):
            expected = len(db_expected(sess, {**args, "sector": sector}))
            assert facets["sector"].get(sector, 0) == expected, sector
        for slug in ("uusimaa", "tampere"):
            assert facets["pilot"].get(slug, 0) == len(db_expected(sess, {**args, "pilot": slug}))
        # "all" group: counted within the current results (what adding the value would leave)
        for code in ("mental_health", "laboratory", "doctor"):
            assert facets["service"].get(code, 0) == len(db_expected(sess, {**args, "service": ["doctor", code]}))
        for lang_code in ("sv", "en"):
            assert facets["language"].get(lang_code, 0) == len(db_expected(sess, {**args, "language": lang_code}))
        assert facets["accepting"].get("1", 0) == len(db_expected(sess, {**args, "accepting": "1"}))
        assert sum(facets["element"].values()) == len(db_expected(sess, args))


# ---------------------------------------------------------------- sorts and pages

def test_sort_by_distance_is_ascending(app):
    hits = _search(app, {"postcode": "00100", "sort": "distance"}).hits
    distances = [h.distance_km for h in hits]
    assert len(distances) > 50 and distances == sorted(distances)


def test_sort_by_queue_puts_unmeasured_last(app):
    hits = _search(app, {"sort": "queue"}).hits
    with app.app_context():
        units = {u.id: u for u in db.session().scalars(select(Unit).options(*with_collections("queue_times"))).unique()}

    def t3(unit_id: int):
        latest = units[unit_id].latest_queue_times()
        qt = latest.get("doctor") or latest.get("dentist")
        return qt.t3_days if qt else None

    values = [t3(h.id) for h in hits]
    measured = [v for v in values if v is not None]
    assert measured == sorted(measured)
    assert values.index(None) == len(measured), "unmeasured units come after all measured ones"


def test_sort_by_name_is_finnish_alphabetical(app):
    hits = _search(app, {"sort": "name"}).hits
    with app.app_context():
        names = {u.id: u.name_fi for u in db.session().scalars(select(Unit)).unique()}
    ordered = [names[h.id] for h in hits]
    assert ordered == sorted(ordered, key=collation_key)
    assert sorted(["Öljy", "Äijä", "Zeta", "Åland", "Aalto"], key=collation_key) == [
        "Aalto", "Zeta", "Åland", "Äijä", "Öljy"]


def test_relevance_puts_name_match_first(app):
    unit = _first_unit(app, element="sote_centre")
    hits = _search(app, {"q": unit.name_fi}).hits
    assert hits[0].id == unit.id


@pytest.mark.parametrize("args", [{}, {"q": "sote-keskus"}, {"postcode": "00100"}, {"sort": "queue"}])
def test_pages_cover_all_results_once(app, args):
    total = _search(app, args).total
    assert total > 40
    seen: list[int] = []
    page = 1
    while True:
        result = _search(app, {**args, "page": str(page)}, paginate=True)
        if not result.hits:
            break
        assert len(result.hits) <= 20
        seen += [h.id for h in result.hits]
        page += 1
    assert len(seen) == len(set(seen)) == total and page - 1 == math.ceil(total / 20)


# ---------------------------------------------------------------- keeping the index current

def test_a_committed_change_is_in_the_next_search(app):
    with app.app_context():
        sess = db.session()
        unit = sess.scalars(select(Unit).where(Unit.element == "sote_centre", Unit.accepting_new.is_(True),
                                               Unit.listed_count < Unit.capacity)  # a full unit is not accepting
                            .order_by(Unit.id)).first()
        uid = unit.id
        assert uid in _ids(app, {"accepting": "1"})
        assert uid not in _ids(app, {"q": "Kuutamokeskus"})
        unit.name_fi = "Kuutamokeskus"
        unit.accepting_new = False
        measured = unit.queue_times[-1].measured_on.replace(year=2027)
        unit.queue_times.append(QueueTime(profession="doctor", t3_days=0, measured_on=measured))
        sess.commit()
        app.extensions["search"].catch_up(sess)
    assert uid in _ids(app, {"q": "Kuutamokeskus"})
    assert uid not in _ids(app, {"accepting": "1"})
    assert uid in _ids(app, {"max_t3_doctor": "0"})
    with app.app_context():
        sess = db.session()
        sess.get(Unit, uid).is_hidden = True
        sess.commit()
        app.extensions["search"].catch_up(sess)
    assert uid not in _ids(app, {})


def test_a_rebuild_counts_visible_units_and_starts_a_new_version(app):
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        visible = len(sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False))).all())
        first = search.current(sess).version
        assert search.rebuild(sess) == visible
        second = search.current(sess).version
    assert first != second
    folders = [p for p in Path(app.config["INDEX_DIR"]).glob("proc-*/*") if p.is_dir()]
    assert len(folders) <= 2  # the replaced build's folder goes when no search uses it any more


QUERIES = [{}, {"q": "tandläkaren"}, {"q": "Hyvinkäällä"}, {"q": "Kuunsilta"},
           {"element": "oral_health", "sort": "name"},
           {"service": "doctor", "sort": "queue"}, {"postcode": "00100", "sort": "distance"}, {"q": "hamaslääkäri"},
           {"q": "hammaslääkäri", "sort": "relevance"}, {"accepting": "1", "language": "sv"}]


def answers(app, lang: str = "fi") -> list:
    """What the queries find, in order, with scores, distances, cards and facet counts."""
    out = []
    for q in QUERIES:
        result = _search(app, q, lang=lang)
        out.append(([(h.id, h.score, h.distance_km, h.card) for h in result.hits], result.total, result.fuzzy,
                    {g: dict(v) for g, v in result.facets.items()}))
    return out


def test_a_snapshot_followed_by_difference_answers_as_one_built_from_scratch(app):
    """Renames, new services, hidden and shown again, moved, and a new unit: the snapshot made change by
    change answers every query exactly as a fresh build does."""
    from webapp.models import UnitService
    from webapp.seeding.demo import generate_bulk_units
    search = app.extensions["search"]
    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).unique().all()
        version = search.current(sess).version
        for round_no, unit in enumerate(units[:12]):
            if round_no % 4 == 0:
                unit.name_fi = f"Aakkosissa ensin Kuunsilta {round_no}"
            elif round_no % 4 == 1:
                unit.services.append(UnitService(code="oral_surgery"))
            elif round_no % 4 == 2:
                unit.is_hidden = True
            else:
                unit.lat, unit.lon = 60.17, 24.94
            sess.commit()
            _ids(app, {"q": "Kuunsilta"})
        units[2].is_hidden = False
        sess.commit()
        generate_bulk_units(sess, 3)
        sess.commit()
        followed = answers(app), answers(app, "sv")
        assert search.current(sess).version == version  # all of it followed, no rebuild
        search.rebuild(sess)
        assert search.current(sess).version != version
        assert (answers(app), answers(app, "sv")) == followed


def test_a_rebuild_while_searching_answers_every_search(app):
    """Other threads answer from the snapshot there is while one rebuilds; afterwards from the new one."""
    import threading
    search = app.extensions["search"]
    expected = answers(app)
    failures: list[BaseException] = []
    done = threading.Event()

    def searching() -> None:
        try:
            while not done.is_set():
                assert answers(app) == expected
        except BaseException as exc:  # noqa: BLE001  reported below
            failures.append(exc)

    threads = [threading.Thread(target=searching) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        with app.app_context():
            for _ in range(3):
                search.rebuild(db.session())
    finally:
        done.set()
        for t in threads:
            t.join(60)
    assert not failures, failures[0]
    assert answers(app) == expected


def test_whoosh_is_the_version_pyproject_pins():
    """The text index uses Whoosh's public API only; the pin keeps what it was tested with."""
    import re
    from importlib.metadata import version
    pin = re.search(r'"whoosh-reloaded==([^"]+)"', (Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert pin and version("whoosh-reloaded") == pin.group(1)


def test_index_still_matches_database_after_several_updates(app):
    """Each change makes the next snapshot by difference; its masks must follow the database."""
    from webapp.models import UnitService
    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit).where(Unit.element == "sote_centre").order_by(Unit.id)).unique().all()[:6]
        for round_no, unit in enumerate(units):
            if round_no % 3 == 0:
                unit.services = [s for s in unit.services if s.code != "doctor"]
                if unit.capacity is not None:  # every free place held for the queue: out of the accepting filter
                    unit.waiting_count = max(unit.capacity - unit.listed_count, 0)
            elif round_no % 3 == 1:
                unit.services.append(UnitService(code="oral_surgery"))
                unit.accepting_new = not unit.accepting_new
            else:
                unit.is_hidden = True
            sess.commit()
            _ids(app, {"service": "doctor"})  # a search between updates follows each change
        for args in ({}, {"service": "doctor"}, {"service": "oral_surgery"}, {"accepting": "1"},
                     {"element": "sote_centre", "language": "sv"}):
            assert _ids(app, args) == db_expected(sess, args), args
