"""The search index and query layer against the seeded database: filters, facets, text, sorts, updates."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from webapp.core.collation import collation_key
from webapp.models import Municipality, Postcode, QueueTime, Unit, with_collections
from webapp.search import known_from_db, parse_params, rebuild_index, run_search, update_units
from webapp.web import db


def _search(app, args: dict, lang: str = "fi", paginate: bool = False):
    with app.test_request_context(f"/{lang}/search"):
        from flask import g
        g.lang = lang
        sess = db.session()
        params, errors = parse_params(MultiDict(args), known_from_db(sess))
        assert not errors, errors
        return run_search(sess, app.config["INDEX_DIR"], params, lang=lang, paginate=paginate)


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
    assert sorted(["Öljy", "Äijä", "Zeta", "Åland", "Aalto"], key=collation_key) == ["Aalto", "Zeta", "Åland", "Äijä",
                                                                                     "Öljy"]


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

def test_update_units_reflects_changes(app):
    index_dir = app.config["INDEX_DIR"]
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
        unit.queue_times.append(QueueTime(profession="doctor", t3_days=0,
                                          measured_on=unit.queue_times[-1].measured_on.replace(year=2027)))
        sess.commit()
        update_units(sess, index_dir, [uid])
    assert uid in _ids(app, {"q": "Kuutamokeskus"})
    assert uid not in _ids(app, {"accepting": "1"})
    assert uid in _ids(app, {"max_t3_doctor": "0"})
    with app.app_context():
        sess = db.session()
        sess.get(Unit, uid).is_hidden = True
        sess.commit()
        update_units(sess, index_dir, [uid])
    assert uid not in _ids(app, {})


def test_rebuild_switches_atomically_and_counts_visible_units(app, tmp_path: Path):
    with app.app_context():
        sess = db.session()
        visible = len(sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False))).all())
        target = tmp_path / "fresh-index"
        assert rebuild_index(sess, str(target)) == visible
        first = (target / "CURRENT").read_text()
        assert rebuild_index(sess, str(target)) == visible
        second = (target / "CURRENT").read_text()
    assert first != second and (target / second).is_dir()
    assert not any(p.name.startswith(".build") for p in target.iterdir())


def test_index_still_matches_database_after_several_updates(app):
    """Updates add segments and delete documents; the cached rows of old segments must follow."""
    from webapp.models import UnitService
    index_dir = app.config["INDEX_DIR"]
    _ids(app, {})  # open the snapshot first, so that later ones reuse its segments
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
            update_units(sess, index_dir, [unit.id])
            _ids(app, {"service": "doctor"})  # a search between updates builds an intermediate snapshot
        for args in ({}, {"service": "doctor"}, {"service": "oral_surgery"}, {"accepting": "1"},
                     {"element": "sote_centre", "language": "sv"}):
            assert _ids(app, args) == db_expected(sess, args), args


def test_an_index_built_by_two_processes_answers_exactly_as_one_built_by_one(app):
    """`flask index-rebuild` writes with two processes (two segments, no merge): the same units must be
    found, counted and ordered for text, filters, facets, sorts and distance, then after an update."""
    import shutil
    queries = [{}, {"q": "tandläkaren"}, {"q": "Hyvinkäällä"}, {"element": "oral_health", "sort": "name"},
               {"service": "doctor", "sort": "queue"}, {"postcode": "00100", "sort": "distance"},
               {"q": "hamaslääkäri"}]

    def answers() -> list:
        out = []
        for q in queries:
            result = _search(app, q)
            out.append(([h.id for h in result.hits], result.total,
                        {g: dict(v) for g, v in result.facets.items()}))
        return out

    index_dir = Path(app.config["INDEX_DIR"])
    with app.app_context():
        sess = db.session()
        rebuild_index(sess, str(index_dir), procs=1)
        one = answers()
        shutil.rmtree(index_dir)
        rebuild_index(sess, str(index_dir), procs=2)
        version = index_dir / (index_dir / "CURRENT").read_text()
        assert len(list(version.glob("*.seg"))) >= 2  # really written by two processes
        assert answers() == one
        unit = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
        unit.is_hidden = True
        sess.commit()
        update_units(sess, str(index_dir), [unit.id])
    assert unit.id not in _ids(app, {})


def assert_same_snapshot(a, b) -> None:
    """The rows, masks, sort orders and arrays of two snapshots are the same."""
    import numpy as np
    assert [(r.docnum, r.id, r.stamp, r.card) for r in a.rows] == [(r.docnum, r.id, r.stamp, r.card) for r in b.rows]
    assert a.all_mask == b.all_mask and a.masks == b.masks
    assert a.docnum_by_id() == b.docnum_by_id() and a.docnum_by_id() is not None  # carried over or built
    for lang in ("fi", "sv"):
        assert a.order[lang].tolist() == b.order[lang].tolist()
        assert np.array_equal(a.rank[lang], b.rank[lang])
    assert np.array_equal(a.queue_t3, b.queue_t3)
    assert np.array_equal(a.lat, b.lat, equal_nan=True) and np.array_equal(a.lon, b.lon, equal_nan=True)


def test_a_snapshot_followed_by_difference_equals_one_loaded_from_scratch(app):
    """After updates, deletions and merges of small segments, the snapshot built from the previous one
    (only the changes applied) has the same rows, masks and sort orders as one read from disk anew."""

    from webapp.models import UnitService
    from webapp.search.snapshot_diff import follow
    from webapp.search.snapshots import Snapshot, snapshot
    index_dir = app.config["INDEX_DIR"]

    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).unique().all()
        followed = merged = 0
        segments = len(snapshot(index_dir).segment_rows)
        for round_no, unit in enumerate(units[:12]):  # enough updates for Whoosh to merge small segments
            previous = snapshot(index_dir)
            if round_no % 4 == 0:
                unit.name_fi = f"Aakkosissa ensin {round_no}"
            elif round_no % 4 == 1:
                unit.services.append(UnitService(code="oral_surgery"))
            elif round_no % 4 == 2:
                unit.is_hidden = True
            else:
                unit.lat, unit.lon = 60.17, 24.94
            sess.commit()
            update_units(sess, index_dir, [unit.id])
            current = snapshot(index_dir)
            merged += len(current.segment_rows) < segments  # the update folded small segments into its own
            segments = len(current.segment_rows)
            followed += follow(Snapshot, previous, current.ix, current.searcher, _subs(current),
                               current.generation) is not None
            assert_same_snapshot(current, Snapshot.load(current.path))
        assert followed >= 10  # most generations really were followed by difference
        assert merged >= 1  # and some of them after a merge


def _subs(snap) -> list:
    reader = snap.searcher.reader()
    return list(zip(reader.readers, reader.doc_offsets, strict=True)) if hasattr(reader, "readers") else [(reader, 0)]


def _postings(index_dir: Path) -> list:
    """Every text posting (term, document, weight, its block's length bounds) and every field length."""
    from whoosh import index as windex

    from webapp.search.index import current_version
    out = []
    with windex.open_dir(str(current_version(str(index_dir)))).searcher() as searcher:
        reader = searcher.reader()
        for field, term in reader.all_terms():
            if field.startswith("text_"):
                m = reader.postings(field, term)
                while m.is_active():
                    out.append((field, term, m.id(), m.weight(), m.block_min_length(), m.block_max_length()))
                    m.next()
        out += [(n, f, reader.doc_field_length(n, f)) for n in range(reader.doc_count_all())
                for f in ("text_fi", "text_sv", "text_plain")]
    return out


def test_the_field_length_fix_writes_the_same_postings_as_whoosh_itself(app, tmp_path: Path, monkeypatch):
    """webapp/search/whoosh_fixes.py asks each document's field length once while postings are written; the
    postings, their length bounds (used in scoring) and the lengths must be those Whoosh writes unpatched."""
    from whoosh.codec import base

    from webapp.search import whoosh_fixes
    assert base.FieldWriter.add_postings is whoosh_fixes._add_postings  # the fix is in place
    with app.app_context():
        sess = db.session()
        rebuild_index(sess, str(tmp_path / "fixed"))
        monkeypatch.setattr(base.FieldWriter, "add_postings", whoosh_fixes._original_add_postings)
        rebuild_index(sess, str(tmp_path / "plain"))
    fixed, plain = _postings(tmp_path / "fixed"), _postings(tmp_path / "plain")
    assert len(fixed) > 1000
    assert fixed == plain


def _live_documents_of(index_dir: str, unit_id: int) -> int:
    from whoosh import index as windex

    from webapp.search.index import current_version
    with windex.open_dir(str(current_version(index_dir))).searcher() as searcher:
        return len(list(searcher.document_numbers(id=str(unit_id))))


def test_an_update_replaces_documents_by_the_snapshots_numbers_without_a_searcher(app, monkeypatch):
    """When this process's snapshot is of the generation being written, update_units deletes the old
    documents by their numbers instead of opening a searcher over every segment (update_document): each
    changed unit then has exactly one live document, a hidden one none, and search sees the change. (The
    search follows the change log, as in production: it calls update_units, then loads the new generation.)"""
    from whoosh.writing import SegmentWriter

    def no_searcher(*_args, **_kwargs):
        raise AssertionError("update_document opens a searcher: the snapshot's numbers were not used")

    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        first, second = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(2)).all()
        assert first.id in _ids(app, {})  # this process's snapshot is now of the live generation
        monkeypatch.setattr(SegmentWriter, "update_document", no_searcher)
        for round_no in range(3):  # each update leaves a new generation that the next search follows
            first.name_fi = f"Kuutamokeskus{round_no}"
            second.is_hidden = round_no == 1
            sess.commit()
            assert _ids(app, {"q": f"Kuutamokeskus{round_no}"}) == {first.id}
            assert _live_documents_of(index_dir, first.id) == 1
            assert _live_documents_of(index_dir, second.id) == (0 if round_no == 1 else 1)
            assert (second.id in _ids(app, {})) == (round_no != 1)


def test_an_update_from_a_stale_snapshot_follows_the_index_first(app):
    """A snapshot older than the index (a merge or another process wrote meanwhile) is brought up to the
    generation the writer starts from before its document numbers are used; numbers of any other generation,
    or of another version, are not used at all."""
    from webapp.search.index import _docnums_at, current_version
    from webapp.search.snapshots import cached_snapshot
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        unit = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).first()
        _ids(app, {})
        snap = cached_snapshot(index_dir)
        path = current_version(index_dir)
        old_number = _docnums_at(index_dir, path, snap.generation)[unit.id]
        update_units(sess, index_dir, [unit.id])  # a new generation the snapshot has not followed yet
        assert cached_snapshot(index_dir) is snap
        numbers = _docnums_at(index_dir, path, snap.generation + 1)
        assert cached_snapshot(index_dir).generation == snap.generation + 1  # followed first
        assert numbers[unit.id] != old_number and numbers == cached_snapshot(index_dir).docnum_by_id()
        assert _docnums_at(index_dir, path, snap.generation + 5) is None  # not a generation it can be at
        assert _docnums_at(index_dir, path.with_name("v0-other"), snap.generation + 1) is None
        assert _live_documents_of(index_dir, unit.id) == 1


def test_updates_fold_the_small_segments_into_their_own_write_and_answer_as_a_fresh_build(app):
    """When a one-unit update makes a merge due (merging.py), the small segments are folded into the update's
    own segment: their other units are read anew from the database. The index never stays with a merge due,
    keeps one live document per unit, and answers exactly as an index built from scratch."""
    from whoosh import index as windex

    from webapp.search.index import current_version
    from webapp.search.merging import MERGE_FACTOR, merge_start
    index_dir = app.config["INDEX_DIR"]
    queries = [{}, {"q": "Kuunsilta"}, {"q": "tandläkaren"}, {"element": "oral_health", "sort": "name"},
               {"service": "doctor", "sort": "queue"}, {"postcode": "00100", "sort": "distance"}]

    def live_counts() -> list[int]:
        ix = windex.open_dir(str(current_version(index_dir)))
        try:
            return [seg.doc_count() for seg in ix._segments()]
        finally:
            ix.close()

    def answers() -> list:
        return [([h.id for h in r.hits], r.total, {g: dict(v) for g, v in r.facets.items()})
                for r in (_search(app, q) for q in queries)]

    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).all()
        changed = units[:2 * MERGE_FACTOR + 1]
        for round_no, unit in enumerate(changed):
            unit.name_fi = f"Kuunsilta {round_no}"
            sess.commit()
            update_units(sess, index_dir, [unit.id])
            assert merge_start(live_counts()) is None
        assert len(live_counts()) < 1 + len(changed)  # merges happened
        assert all(_live_documents_of(index_dir, unit.id) == 1 for unit in changed)
        after_updates = answers()
        rebuild_index(sess, index_dir)
        assert answers() == after_updates
