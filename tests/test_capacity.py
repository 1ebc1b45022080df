"""Capacity is never exceeded, also under real concurrency, and nothing is ever half-written."""
from __future__ import annotations

import secrets
import threading
from datetime import date

import pytest
from sqlalchemy import func, select, update

from tests.choice_helpers import free_unit
from webapp.choice import choices
from webapp.choice import use_cases as svc
from webapp.choice.choices import counted_places
from webapp.choice.references import is_reference, new_reference
from webapp.models import AuditEvent, Choice, Resident, Unit
from webapp.web import db

TODAY = date(2026, 11, 24)


def make_residents(app, count: int, municipality: str = "186") -> list[int]:
    with app.app_context():
        sess = db.session()
        people = [Resident(key=secrets.token_hex(32), birth_date=date(1980, 5, 5), home_municipality_code=municipality,
                           in_institutional_care=False) for _ in range(count)]
        sess.add_all(people)
        sess.commit()
        return [p.id for p in people]


def set_places(app, unit_id: int, free: int) -> int:
    """Make listed_count equal to the unit's real active+pending choices and leave `free` places."""
    with app.app_context():
        sess = db.session()
        counted = counted_places(sess, unit_id)
        sess.execute(update(Unit).where(Unit.id == unit_id).values(listed_count=counted, capacity=counted + free,
                                                                   accepting_new=True))
        sess.commit()
        return counted


def unit_state(app, unit_id: int) -> tuple[int, int, int]:
    """(Choice rows of the unit, listed_count, active+pending choices)."""
    with app.app_context():
        sess = db.session()
        rows = sess.scalar(select(func.count()).select_from(Choice).where(Choice.unit_id == unit_id))
        return rows, sess.scalar(select(Unit.listed_count).where(Unit.id == unit_id)), counted_places(sess, unit_id)


def test_forty_residents_compete_for_the_last_five_places(any_app):
    app = any_app
    unit = free_unit(app)
    counted = set_places(app, unit, free=5)
    residents = make_residents(app, 40)
    outcomes: list = []
    errors: list = []
    barrier = threading.Barrier(len(residents))

    def worker(rid: int) -> None:
        with app.app_context():
            sess = db.new_session()
            try:
                barrier.wait()
                outcome = svc.submit_choice(sess, rid, unit, secrets.token_urlsafe(24), TODAY)
                outcomes.append((outcome.status, outcome.decision.codes if outcome.decision else ()))
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            finally:
                sess.close()

    threads = [threading.Thread(target=worker, args=(rid,)) for rid in residents]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    created = [o for o in outcomes if o[0] == "created"]
    refused = [o for o in outcomes if o[0] == "refused"]
    assert len(created) == 5
    assert len(refused) == 35 and all(codes == ("unit_full",) for _s, codes in refused)
    _rows, listed, places = unit_state(app, unit)
    assert listed == places == counted + 5
    with app.app_context():
        refusals = db.session().scalar(select(func.count()).select_from(AuditEvent)
                                       .where(AuditEvent.action == "choice_refused"))
        assert refusals == 35


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_failure_before_commit_leaves_nothing_half_written(make_app, monkeypatch, backend):
    app = make_app(backend)
    unit = free_unit(app)
    (rid,) = make_residents(app, 1)
    before = unit_state(app, unit)

    def boom(*_args, **_kwargs):
        raise RuntimeError("injected failure after the choice row was added")

    monkeypatch.setattr(choices, "record_choice_event", boom)
    with app.app_context():
        sess = db.new_session()
        with pytest.raises(RuntimeError):
            svc.submit_choice(sess, rid, unit, "tok-" + secrets.token_hex(8), TODAY)
        sess.close()
    assert unit_state(app, unit) == before
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(Choice).where(Choice.resident_id == rid)) == 0


def test_switch_releases_the_old_place_when_it_takes_effect(app):
    """Hämeenlinna: 6-month lock-in, effective 21 days after the notice."""
    old_unit, new_unit = free_unit(app, "hameenlinna"), free_unit(app, "hameenlinna", skip=1)
    (rid,) = make_residents(app, 1, municipality="109")
    with app.app_context():
        sess = db.session()
        first = svc.submit_choice(sess, rid, old_unit, "t1", date(2026, 1, 10))
        assert first.status == "created" and first.choice.effective_from == date(2026, 1, 31)
        assert first.choice.binding_until == date(2026, 7, 30)
    old_before = unit_state(app, old_unit)[1]
    new_before = unit_state(app, new_unit)[1]
    with app.app_context():
        sess = db.session()
        second = svc.submit_choice(sess, rid, new_unit, "t2", TODAY)
        assert second.status == "created", second.decision
        assert second.choice.previous_choice_id == first.choice.id
        assert second.choice.effective_from == date(2026, 12, 15)
    # The new place is reserved at once; the old one is still held until the switch takes effect.
    assert unit_state(app, new_unit)[1] == new_before + 1
    assert unit_state(app, old_unit)[1] == old_before
    with app.app_context():
        sess = db.session()
        assert svc.activate_due_choices(sess, date(2026, 12, 14), resident_id=rid) == 0
        assert svc.activate_due_choices(sess, date(2026, 12, 15), resident_id=rid) == 1
        assert svc.activate_due_choices(sess, date(2026, 12, 15), resident_id=rid) == 0  # idempotent
        old = sess.get(Choice, first.choice.id)
        new = sess.get(Choice, second.choice.id)
        assert (old.status, old.ended_on, new.status) == ("ended", date(2026, 12, 15), "active")
    assert unit_state(app, old_unit)[1] == old_before - 1
    assert unit_state(app, new_unit)[1] == new_before + 1
    assert unit_state(app, old_unit)[2] == 0 and unit_state(app, new_unit)[2] == 1


def test_pending_choice_that_has_come_due_counts_as_current(app):
    """Without activation having run, a due pending choice still blocks a second registration."""
    unit, other = free_unit(app), free_unit(app, skip=1)
    (rid,) = make_residents(app, 1)
    with app.app_context():
        sess = db.session()
        assert svc.submit_choice(sess, rid, unit, "a", date(2026, 10, 5)).status == "created"  # from 1 Nov
        later = svc.submit_choice(sess, rid, other, "b", date(2026, 11, 24))
        assert later.status == "refused" and "locked_in_until" in later.decision.codes


def test_cancel_releases_the_reserved_place(app):
    unit = free_unit(app)
    (rid,) = make_residents(app, 1)
    before = unit_state(app, unit)[1]
    with app.app_context():
        sess = db.session()
        made = svc.submit_choice(sess, rid, unit, "c", TODAY)
        ref = made.choice.reference
    assert unit_state(app, unit)[1] == before + 1
    with app.app_context():
        cancelled = svc.cancel_choice(db.session(), rid, ref, TODAY)
        assert cancelled.status == "cancelled"
        with pytest.raises(svc.ChoiceConflict):
            svc.cancel_choice(db.session(), rid, ref, TODAY)
    assert unit_state(app, unit)[1] == before


def test_paper_choice_by_staff(app):
    unit = free_unit(app)
    (rid,) = make_residents(app, 1)
    with app.app_context():
        sess = db.session()
        outcome = svc.submit_choice(sess, rid, unit, None, TODAY, channel="paper", actor_type="staff", actor_id=7)
        assert outcome.status == "created" and outcome.choice.channel == "paper"
        event = sess.scalars(select(AuditEvent).where(AuditEvent.action == "choice_created")).one()
        assert (event.actor_type, event.actor_id, event.after["resident_id"]) == ("staff", 7, rid)
        with pytest.raises(ValueError):
            svc.submit_choice(sess, rid, unit, None, TODAY, channel="fax")


def test_same_token_twice_is_one_choice_and_another_residents_token_is_refused(app):
    unit = free_unit(app)
    a, b = make_residents(app, 2)
    with app.app_context():
        sess = db.session()
        first = svc.submit_choice(sess, a, unit, "same-token", TODAY)
        again = svc.submit_choice(sess, a, unit, "same-token", TODAY)
        assert (first.status, again.status) == ("created", "duplicate")
        assert again.choice.id == first.choice.id
        with pytest.raises(svc.ChoiceConflict):
            svc.submit_choice(sess, b, unit, "same-token", TODAY)
    assert unit_state(app, unit)[0] == 1


def test_unknown_unit_or_resident(app):
    (rid,) = make_residents(app, 1)
    with app.app_context():
        with pytest.raises(svc.ChoiceNotFound):
            svc.submit_choice(db.session(), rid, 99999999, "x", TODAY)
        with pytest.raises(svc.ChoiceNotFound):
            svc.submit_choice(db.session(), 99999999, free_unit(app), "y", TODAY)


def test_reference_codes_are_unambiguous_and_unique():
    refs = {new_reference() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(is_reference(r) and not set(r) & set("01OI") for r in refs)
