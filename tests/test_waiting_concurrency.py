"""Many residents join a full unit's waiting list while places free concurrently, on SQLite and
PostgreSQL: first come first served, capacity exact, nobody promoted twice, no deadlock."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.waiting_helpers import TODAY, full_unit, make_residents, token, unit_row
from webapp.choice import use_cases as svc
from webapp.choice import waiting
from webapp.choice.choices import counted_places
from webapp.choice.promotion import promote_from_waiting_lists
from webapp.models import Choice, WaitingEntry
from webapp.web import db

JOINERS, FREED, EARLY = 16, 5, 6


def _run(app, jobs) -> list[str]:
    errors: list[str] = []
    barrier = threading.Barrier(len(jobs))

    def worker(job) -> None:
        with app.app_context():
            sess = db.new_session()
            try:
                barrier.wait()
                job(sess)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            finally:
                sess.close()

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return errors


def test_joining_while_places_free_is_first_come_first_served_and_exact(any_app):
    app = any_app
    unit = full_unit(app, free=FREED)
    holders = make_residents(app, FREED)
    joiners = make_residents(app, JOINERS)
    with app.app_context():
        sess = db.session()
        held = [(h, svc.submit_choice(sess, h, unit, token(), TODAY).choice.reference) for h in holders]
        # A queue longer than the places that will free, so that joining stays open throughout (with nobody
        # waiting, a free place is chosen directly, not queued for).
        for rid in joiners[:EARLY]:
            assert svc.join_waiting_list(sess, rid, unit, token(), TODAY).status == "created"
    capacity, listed, _w = unit_row(app, unit)
    assert listed == capacity  # full

    def join(rid):
        return lambda sess: svc.join_waiting_list(sess, rid, unit, token(), TODAY)

    def cancel(holder, reference):
        return lambda sess: svc.cancel_choice(sess, holder, reference, TODAY)

    def promoter(sess):
        promote_from_waiting_lists(sess, None, TODAY)

    jobs = [join(r) for r in joiners[EARLY:]] + [cancel(h, ref) for h, ref in held] + [promoter, promoter]
    errors = _run(app, jobs)
    assert not errors, errors
    with app.app_context():
        sess = db.session()
        promote_from_waiting_lists(sess, [unit], TODAY)  # settle: nothing may change if all went right
        entries = sess.scalars(select(WaitingEntry).where(WaitingEntry.unit_id == unit).order_by(WaitingEntry.id)).all()
        assert len(entries) == JOINERS and {e.resident_id for e in entries} == set(joiners)
        promoted = [e for e in entries if e.status == "promoted"]
        # Every freed place went to the queue, in order of arrival.
        assert [e.id for e in promoted] == [e.id for e in entries[:FREED]]
        assert all(e.status == "waiting" for e in entries[FREED:])
        # Nobody promoted twice: one choice per promoted resident, each entry its own choice.
        choices = sess.scalars(select(Choice).where(Choice.unit_id == unit, Choice.channel == "queue")).all()
        assert sorted(c.resident_id for c in choices) == sorted(e.resident_id for e in promoted)
        assert len({e.choice_id for e in promoted}) == FREED
        # Capacity exact, counters true.
        capacity, listed, waiting_count = unit_row(app, unit)
        assert listed == capacity == counted_places(sess, unit)
        assert waiting_count == JOINERS - FREED == sess.scalar(
            select(func.count()).select_from(WaitingEntry).where(WaitingEntry.unit_id == unit,
                                                                 WaitingEntry.status == "waiting"))
        places = [waiting.place_of(sess, e) for e in entries[FREED:]]
        assert places == list(range(1, JOINERS - FREED + 1))


def test_two_promoters_for_one_free_place_promote_one_resident(any_app):
    app = any_app
    unit = full_unit(app, free=1)
    (holder,) = make_residents(app, 1)
    queue = make_residents(app, 3)
    with app.app_context():
        sess = db.session()
        ref = svc.submit_choice(sess, holder, unit, token(), TODAY).choice.reference
        for rid in queue:
            assert svc.join_waiting_list(sess, rid, unit, token(), TODAY).status == "created"
        # Free the place without promoting (as if the process stopped right after the cancellation).
        from unittest import mock
        with mock.patch("webapp.choice.use_cases.promote_freed"):
            svc.cancel_choice(sess, holder, ref, TODAY)
    errors = _run(app, [lambda s: promote_from_waiting_lists(s, [unit], TODAY) for _ in range(6)])
    assert not errors, errors
    with app.app_context():
        sess = db.session()
        statuses = [e.status for e in sess.scalars(select(WaitingEntry).where(WaitingEntry.unit_id == unit)
                                                   .order_by(WaitingEntry.id))]
        assert statuses == ["promoted", "waiting", "waiting"]
        assert sess.scalar(select(func.count()).select_from(Choice).where(Choice.channel == "queue",
                                                                           Choice.unit_id == unit)) == 1
        capacity, listed, _w = unit_row(app, unit)
        assert listed == capacity
