"""The small segments that changes write: inlined postings, readers shared between index generations, and
merges in a pause of the changes (webapp/search/whoosh_fixes.py, readers.py, merger.py)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from whoosh import index as windex
from whoosh.qparser import QueryParser
from whoosh.writing import NO_MERGE

from webapp.models import Unit
from webapp.search import merger, whoosh_fixes
from webapp.search.documents import _load_units, make_schema, unit_document
from webapp.search.index import current_version, merge_due, update_units
from webapp.search.merging import merge_start
from webapp.web import db


def _write(directory: Path, documents: list[dict], codec) -> None:
    directory.mkdir()
    ix = windex.create_in(str(directory), make_schema())
    writer = ix.writer(codec=codec)
    for document in documents:
        writer.add_document(**document)
    writer.commit()


def _terms_and_scores(directory: Path) -> tuple[list, list]:
    ix = windex.open_dir(str(directory))
    with ix.searcher() as searcher:
        reader = searcher.reader()
        postings = []
        for field, term in reader.all_terms():
            if not field.startswith("text_"):
                continue
            info = reader.term_info(field, term)
            postings.append((field, term, info.doc_frequency(), info.weight(), info.max_weight(),
                             info.min_length(), info.max_length(), list(reader.postings(field,
                                                                                        term).items_as("weight"))))
        scores = []
        for text in ("hammaslääkäri", "lääkäri", "terveysasema", "tandläkare", "Helsinki", "Espoo"):
            query = QueryParser("text_fi", searcher.schema).parse(text)
            scores.append([(hit.docnum, round(hit.score, 9)) for hit in searcher.search(query, limit=None)])
    return postings, scores


def test_inlined_postings_read_and_score_as_postings_in_blocks(app, tmp_path: Path):
    """Fix 3 in whoosh_fixes: a term with one posting is stored inline in the term table. What a search reads
    back (postings, their statistics, scores) must be what the default codec's blocks give."""
    with app.app_context():
        units, ctx = _load_units(db.session())
    documents = [unit_document(unit, ctx, stamp="s") for unit in units]
    _write(tmp_path / "inline", documents, whoosh_fixes.inline_codec())
    _write(tmp_path / "blocks", documents, None)
    inline, blocks = _terms_and_scores(tmp_path / "inline"), _terms_and_scores(tmp_path / "blocks")
    singles = [p for p in blocks[0] if p[2] == 1]
    assert len(singles) > 100  # terms with one posting: the ones inlined
    ix = windex.open_dir(str(tmp_path / "inline"))
    with ix.reader() as reader:
        field, term = singles[0][:2]
        assert reader.term_info(field, term).is_inlined()  # the codec did inline them
    assert inline == blocks
    assert any(inline[1])  # the queries found something to score


def test_a_new_generation_shares_the_readers_of_segments_that_did_not_change(app):
    """readers.open_searcher: a segment whose documents and deletions are unchanged keeps its reader; the
    segment that lost a document (the unit's old version) gets a copy that shares the files and reads the new
    deletion; files close only when the last searcher using them is closed."""
    from webapp.search.readers import close_searcher, open_searcher
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        first, second = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(2))
        update_units(sess, index_dir, [first])  # a second segment; the first loses first's old document
        ix = windex.open_dir(str(current_version(index_dir)))
        old, _generation = open_searcher(ix)
        old_readers = [r for r, _ in old.reader().leaf_readers()]
        assert len(list(old.document_numbers(id=str(second)))) == 1  # (Whoosh caches the deletions it filtered)
        update_units(sess, index_dir, [second])  # a third segment; the first loses second's old document
        new, _generation = open_searcher(windex.open_dir(str(current_version(index_dir))), previous=old)
        new_readers = [r for r, _ in new.reader().leaf_readers()]
    assert len(old_readers) == 2 and len(new_readers) == 3
    assert new_readers[1] is old_readers[1]       # the one-unit segment of the first update: shared
    assert new_readers[0] is not old_readers[0]   # the build's segment has a new deletion: a copy
    assert new_readers[0]._terms is old_readers[0]._terms  # sharing the open term table
    assert old.reader().doc_count() == new.reader().doc_count()  # one live document per unit, in both
    assert len(list(old.document_numbers(id=str(second)))) == 1  # each reads its own deletions
    assert len(list(new.document_numbers(id=str(second)))) == 1
    close_searcher(old)
    assert not old_readers[0].is_closed and not old_readers[1].is_closed  # their files serve the new searcher
    assert new.document(id=str(first)) is not None and new.document(id=str(second))["name_fi"]
    close_searcher(new)
    assert all(r.is_closed for r in new_readers + old_readers)


def _rename(app, unit_id: int, name: str) -> None:
    with app.app_context():
        sess = db.session()
        sess.get(Unit, unit_id).name_fi = name
        sess.commit()


def _segment_counts(index_dir: str) -> list[int]:
    ix = windex.open_dir(str(current_version(index_dir)))
    try:
        return [seg.doc_count() for seg in ix._segments()]
    finally:
        ix.close()


def _found(client, word: str) -> set[int]:
    return {item["id"] for item in client.get(f"/api/v1/units?q={word}&per_page=50").get_json()["items"]}


def test_merges_wait_for_a_pause_in_the_changes_and_then_change_no_answer(make_app):
    """As deployed (INDEX_MERGE_IDLE_MS > 0): no change waits for a merge. Changes that come one after another
    leave their one-unit segments, even past the point where a merge is due; a change during the pause starts
    it again; once the changes pause that long, a thread merges and searches answer as before."""
    idle_ms = 1500
    app = make_app(INDEX_MERGE_IDLE_MS=idle_ms)
    index_dir = app.config["INDEX_DIR"]
    client = app.test_client()
    with app.app_context():
        ids = db.session().scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(7)).all()
    for n, unit_id in enumerate(ids[:6]):
        _rename(app, unit_id, f"Taukoasema kierros{n}")
        assert _found(client, f"kierros{n}") == {unit_id}  # each change in the next search
    counts = _segment_counts(index_dir)
    assert merge_start(counts) is not None and merge_due[index_dir]  # the sixth made a merge due: not done
    time.sleep(idle_ms / 2000)
    _rename(app, ids[6], "Taukoasema kierros6")
    last_change = time.monotonic()
    assert _found(client, "kierros6") == {ids[6]}
    assert merge_start(_segment_counts(index_dir)) is not None  # half a pause after the sixth: still waiting
    deadline = time.monotonic() + 30
    while not merger.idle(index_dir) and time.monotonic() < deadline:
        time.sleep(0.02)
    merged_after = time.monotonic() - last_change
    assert merger.idle(index_dir)
    assert merged_after >= idle_ms / 1000 - 0.05  # not before the pause after the last change
    counts = _segment_counts(index_dir)
    assert merge_start(counts) is None and len(counts) < 1 + len(ids)
    assert _found(client, "Taukoasema") == set(ids)
    for n, unit_id in enumerate(ids):
        assert _found(client, f"kierros{n}") == {unit_id}


def _live_documents(index_dir: str, unit_id: int) -> int:
    with windex.open_dir(str(current_version(index_dir))).searcher() as searcher:
        return len(list(searcher.document_numbers(id=str(unit_id))))


def test_a_merge_written_while_changes_come_keeps_them_and_the_snapshot_follows_it(app):
    """segment_merge: the merged segment is written without the write lock; a change to a unit of the run
    that comes meanwhile wins (one document per unit, the new name found, the old one not), a change after
    the run moves to a new place, and the snapshot follows by difference to what a fresh load reads."""
    from tests.test_search_index import assert_same_snapshot
    from webapp.search import segment_merge
    from webapp.search.snapshot_diff import follow
    from webapp.search.snapshots import Snapshot, snapshot
    index_dir = app.config["INDEX_DIR"]
    client = app.test_client()
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(8)).all()
        for unit_id in [ids[0], *ids[:6]]:  # the first twice: its first segment is left with no live document
            update_units(sess, index_dir, [unit_id], merge=False)
        planned = segment_merge.plan(index_dir)
        assert planned is not None and len(planned.segment_ids) == 7
        merged = segment_merge.build(sess, planned)
        sess.get(Unit, ids[2]).name_fi = "Kesken yhdistyksen uusi"  # a unit of the run, changed meanwhile
        sess.get(Unit, ids[7]).name_fi = "Kesken yhdistyksen toinen"  # a unit outside it
        sess.commit()
        update_units(sess, index_dir, [ids[2]], merge=False)
        update_units(sess, index_dir, [ids[7]], merge=False)
        middle = snapshot(index_dir)
        assert segment_merge.swap(index_dir, planned, merged)
        assert not merged.scratch.exists()
        after = snapshot(index_dir)
        reader = after.searcher.reader()
        assert follow(Snapshot, middle, after.ix, after.searcher, list(zip(reader.readers, reader.doc_offsets,
                                                                           strict=True)),
                      after.generation)
        assert_same_snapshot(after, Snapshot.load(after.path))
        assert len(after.segment_rows) == len(middle.segment_rows) - 6  # seven segments are one now
        last = list(middle.segment_rows)[-1]  # ids[7]'s segment, written while the merge was
        assert after.segment_rows[last][0] < middle.segment_rows[last][0]  # moved to a lower document number
        for unit_id in ids:
            assert _live_documents(index_dir, unit_id) == 1
    assert _found(client, "yhdistyksen") == {ids[2], ids[7]}
    assert merge_start(_segment_counts(index_dir)) is None


def test_a_merge_whose_run_went_meanwhile_changes_nothing(app):
    """When a rebuild (or a change merging by itself) came first, the merged segment is thrown away."""
    from webapp.search import segment_merge
    from webapp.search.follow import rebuild
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(6)).all()
        for unit_id in ids:
            update_units(sess, index_dir, [unit_id], merge=False)
        planned = segment_merge.plan(index_dir)
        merged = segment_merge.build(sess, planned)
        rebuild(sess, index_dir)
        counts = _segment_counts(index_dir)
        assert not segment_merge.swap(index_dir, planned, merged)
        assert not merged.scratch.exists() and _segment_counts(index_dir) == counts
        for unit_id in ids:
            assert _live_documents(index_dir, unit_id) == 1


@pytest.mark.parametrize(("changes", "merged"), [(6, False), (7, True)])
def test_too_many_small_segments_are_merged_by_the_change_itself(app, monkeypatch, changes, merged):
    """Without a pause, merges wait until more than MAX_PENDING small segments have piled up: the change
    after that merges them itself (here MAX_PENDING is 6: the sixth change leaves six, the seventh merges)."""
    from webapp.search import merging
    monkeypatch.setattr(merging, "MAX_PENDING", 6)
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(changes)).all()
        for unit_id in ids:
            update_units(sess, index_dir, [unit_id], merge=False)
    counts = _segment_counts(index_dir)
    assert (len(counts) == 2) is merged and (len(counts) == 1 + changes) is not merged


def test_a_snapshot_still_searches_segments_a_merge_deleted_from_disk(app):
    """Another worker's snapshot keeps reading the small segments a merge replaced (their files are deleted):
    a text search with scores (field lengths) and the stored fields of their documents still work. (A plain,
    not compound, segment opens its column files only when first asked for: it would fail here.)"""
    from webapp.search import segment_merge
    from webapp.search.snapshots import Snapshot
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(6)).all()
        for n, unit_id in enumerate(ids):
            sess.get(Unit, unit_id).name_fi = f"Vanhan tilannekuvan asema{n}"
            sess.commit()
            update_units(sess, index_dir, [unit_id], merge=False)
        old = Snapshot.load(current_version(index_dir))  # as another worker has it open, not yet searched
        twin = Snapshot.load(current_version(index_dir))  # the same generation, searched before the merge
        query = QueryParser("text_fi", old.searcher.schema).parse("asema3 OR asema4 OR vanhan")

        def answer(snap: Snapshot) -> list:
            hits = snap.searcher.search(query, limit=None)
            return [(snap.searcher.stored_fields(hit.docnum)["id"], round(hit.score, 9)) for hit in hits]
        expected = answer(twin)
        run_files = set(os.listdir(current_version(index_dir)))
        assert segment_merge.merge_all(sess, index_dir) == 1
        assert run_files - set(os.listdir(current_version(index_dir)))  # the run's files are gone
        assert answer(old) == expected  # the same documents, with the same scores
        assert {unit_id for unit_id, _score in expected} >= {str(unit_id) for unit_id in ids}


def test_scratch_indexes_a_dead_merger_left_are_removed_and_fresh_ones_kept(app, tmp_path: Path):
    from webapp.search import segment_merge
    old, fresh = tmp_path / ".merge-old", tmp_path / ".merge-fresh"
    old.mkdir()
    fresh.mkdir()
    stale = time.time() - segment_merge.STALE_SCRATCH_S - 1
    os.utime(old, (stale, stale))
    segment_merge.remove_stale_scratch(str(tmp_path))
    assert not old.exists() and fresh.exists()


def test_the_merger_thread_writes_the_labels_in_finnish_and_swedish(make_app):
    """The merger's thread re-indexes units with the service labels of the app's translations, not with the
    English that lazy strings give outside an app."""
    from flask_babel import force_locale

    from webapp.models import UnitService
    from webapp.search.documents import make_analyzers
    from webapp.units.vocab import SERVICES
    app = make_app(INDEX_MERGE_IDLE_MS=50)
    index_dir = app.config["INDEX_DIR"]
    client = app.test_client()
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(6)).all()
        code = sess.scalars(select(UnitService.code).where(UnitService.unit_id == ids[0])).first()
        words = {}
        for lang in ("fi", "sv", "en"):
            with force_locale(lang):
                words[lang] = {t.text for t in make_analyzers()[2](str(SERVICES[code]))}
    assert words["fi"] - words["en"] and words["sv"] - words["en"]
    for n, unit_id in enumerate(ids):
        _rename(app, unit_id, f"Käännöstesti {n}")
        assert _found(client, "Käännöstesti") >= {unit_id}
    deadline = time.monotonic() + 20
    while (merge_due.get(index_dir) or not merger.idle(index_dir)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert merge_start(_segment_counts(index_dir)) is None  # the thread merged the six
    with windex.open_dir(str(current_version(index_dir))).searcher() as searcher:
        docnum = next(iter(searcher.document_numbers(id=str(ids[0]))))
        plain = {text.decode() for text in searcher.reader().expand_prefix("text_plain", "")}
        for lang in ("fi", "sv"):
            for word in words[lang] - words["en"]:
                assert word in plain
                assert docnum in list(searcher.document_numbers(text_plain=word)), (lang, word)


def test_a_snapshot_is_labelled_with_the_generation_it_read_not_a_newer_one(app, monkeypatch):
    """A commit that lands while a snapshot is being loaded (the merger's, another worker's) makes a newer
    generation: the snapshot must not claim it, or it would be taken as current and its document numbers
    used to delete the wrong documents."""
    from webapp.search import snapshots
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        first, second = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id).limit(2))
        before = snapshots.snapshot(index_dir)
        update_units(sess, index_dir, [first])
        original = snapshots.open_searcher

        def then_a_commit(*args, **kwargs):
            opened = original(*args, **kwargs)
            other = windex.open_dir(str(current_version(index_dir)))  # another process's commit lands now
            other.writer().commit(mergetype=NO_MERGE)
            other.close()
            return opened
        monkeypatch.setattr(snapshots, "open_searcher", then_a_commit)
        loaded = snapshots.snapshot(index_dir)
        monkeypatch.setattr(snapshots, "open_searcher", original)
        assert loaded.generation == before.generation + 1  # what it read, not the newer one
        current = snapshots.snapshot(index_dir)
        assert current is not loaded and current.generation == before.generation + 2
        assert current.docnum_by_id() is not None
        update_units(sess, index_dir, [second])  # by the snapshot's document numbers: the right ones
        for unit_id in (first, second):
            assert _live_documents(index_dir, unit_id) == 1


def test_a_file_gone_while_a_searcher_opens_is_read_again_and_nothing_stays_counted(app, monkeypatch):
    """Another process may commit and delete a file between reading the table of contents and opening a
    segment: the table is read again (as Whoosh does), and no reader is left counted or open."""
    from whoosh.reading import SegmentReader

    from webapp.search import readers
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        update_units(db.session(), index_dir, [db.session().scalars(select(Unit.id).order_by(Unit.id)).first()])
    ix = windex.open_dir(str(current_version(index_dir)))
    opened: list = []
    failures = iter([True])

    class Flaky(SegmentReader):
        def __init__(self, *args, **kwargs):
            if next(failures, False):
                raise FileNotFoundError("a segment file went meanwhile")
            super().__init__(*args, **kwargs)
            opened.append(self)
    monkeypatch.setattr(readers, "SegmentReader", Flaky)
    uses, files = dict(readers._uses), dict(readers._files_users)
    searcher, _generation = readers.open_searcher(ix)
    assert len(opened) == 2  # two segments, opened after the table was read again
    assert searcher.reader().doc_count() > 0
    readers.close_searcher(searcher)
    assert all(r.is_closed for r in opened)
    assert readers._uses == uses and readers._files_users == files


def test_a_replaced_snapshot_still_gives_its_own_stamps_after_handing_its_map_over(app):
    """The unit -> document map moves to the next generation (snapshot_diff, not copied); the replaced
    snapshot, still used by a search in progress, answers stamp_of with its own documents' stamps."""
    from webapp.search.snapshots import snapshot
    index_dir = app.config["INDEX_DIR"]
    with app.app_context():
        sess = db.session()
        ids = sess.scalars(select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id)).all()
        old = snapshot(index_dir)
        expected = {row.id: row.stamp for row in old.rows}
        assert old.docnum_by_id() is not None
        update_units(sess, index_dir, ids[:2])
        new = snapshot(index_dir)
        assert new is not old and new.docnum_by_id() is not None
        assert {unit_id: old.stamp_of(unit_id) for unit_id in ids} == expected
        assert new.stamp_of(ids[0]) != expected[ids[0]] and new.stamp_of(ids[5]) == expected[ids[5]]
