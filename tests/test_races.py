"""Staged races on PostgreSQL: the same resident twice at once, a promotion against the resident's own
choice, expiry and skips against joins and leaves, a cancel against the choice's activation, staff capacity
against choices.

Each race is made deterministic with tests/racing.py: a second connection holds a row lock, the racing
calls queue for it in a known order, the lock is released (the cancel's race is staged by activating the
choice from another session right after the cancel has read it). Each asserts the invariant a resident relies
on and that no deadlock happened (no transaction had to be retried).
"""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from sqlalchemy import select, update

from tests import racing
from tests.choice_helpers import confirm_form, counts, free_unit
from tests.choice_helpers import sign_in as sign_in_resident
from tests.test_staff_helpers import prepare_accounts, sign_in
from tests.test_staff_units import form_data
from tests.waiting_helpers import TODAY, full_unit, make_residents, token, unit_row
from webapp.choice import own_choices, promotion, waiting
from webapp.choice import use_cases as svc
from webapp.choice.adapters import waiting_rules_for
from webapp.choice.rules import Decision, Reason
from webapp.choice.waiting_rules import skip_action
from webapp.core.clock import helsinki_today
from webapp.models import Choice, Message, Unit, WaitingEntry
from webapp.web import db

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(make_app):
    return make_app("postgres")


def _choices(app, resident_id: int, status: str = "pending") -> list[Choice]:
    with app.app_context():
        return list(db.session().scalars(select(Choice).where(Choice.resident_id == resident_id,
                                                              Choice.status == status)))


def _submit(resident_id: int, unit_id: int):
    return lambda sess: svc.submit_choice(sess, resident_id, unit_id, token(), TODAY)


def _no_errors(racers: list[racing.Racer]) -> None:
    errors = {r.name: repr(r.error) for r in racers if r.error is not None}
    assert not errors, errors


@pytest.mark.parametrize("same_unit", [False, True], ids=["two_units", "one_unit"])
def test_same_resident_submitting_twice_at_once_gets_one_place(pg_app, same_unit):
    app = pg_app
    (resident,) = make_residents(app, 1)
    first = free_unit(app)
    second = first if same_unit else free_unit(app, skip=1)
    listed_before = unit_row(app, first)[1] + (0 if same_unit else unit_row(app, second)[1])
    retries = racing.retries_counted()
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "resident", resident):
        racing.start_blocked(app, "tab 1", _submit(resident, first), racers)
        racing.start_blocked(app, "tab 2", _submit(resident, second), racers)
    racing.finish(racers)
    _no_errors(racers)
    assert sorted(r.result.status for r in racers) == ["created", "refused"]
    refused = next(r.result for r in racers if r.result.status == "refused")
    assert {"pending_choice_exists", "same_unit"} & set(refused.decision.codes)
    assert len(_choices(app, resident)) == 1
    listed_after = unit_row(app, first)[1] + (0 if same_unit else unit_row(app, second)[1])
    assert listed_after == listed_before + 1
    assert racing.retries_counted() == retries


def _queue_with_free_place(app):
    """A full unit with one resident in its queue, then one place freed without promoting anybody."""
    unit = full_unit(app, free=1)
    holder, queued = make_residents(app, 2)
    with app.app_context():
        sess = db.session()
        reference = svc.submit_choice(sess, holder, unit, token(), TODAY).choice.reference
        assert svc.join_waiting_list(sess, queued, unit, token(), TODAY).status == "created"
        with mock.patch("webapp.choice.use_cases.promote_freed"):
            svc.cancel_choice(sess, holder, reference, TODAY)
    return unit, queued


def test_promotion_racing_the_residents_own_choice_leaves_one_place(pg_app):
    app = pg_app
    unit, resident = _queue_with_free_place(app)
    elsewhere = free_unit(app, skip=1)
    retries = racing.retries_counted()
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "resident", resident):
        racing.start_blocked(app, "promotion", lambda s: promotion.promote_from_waiting_lists(s, [unit], TODAY),
                             racers)
        racing.start_blocked(app, "own choice", _submit(resident, elsewhere), racers)
    racing.finish(racers)
    _no_errors(racers)
    assert len(racers[0].result.promoted) == 1
    assert racers[1].result.status == "refused"
    assert "pending_choice_exists" in racers[1].result.decision.codes
    assert [c.unit_id for c in _choices(app, resident)] == [unit]
    assert racing.retries_counted() == retries


def _expired_entry(app, resident: int, unit: int) -> int:
    """The resident's entry in the unit's queue, made to have passed its last day."""
    with app.app_context():
        sess = db.session()
        entry = svc.join_waiting_list(sess, resident, unit, token(), TODAY).entry
        sess.execute(update(WaitingEntry).where(WaitingEntry.id == entry.id)
                     .values(expires_on=TODAY - timedelta(days=1)))
        sess.commit()
        return entry.id


def _entry(app, entry_id: int) -> WaitingEntry:
    with app.app_context():
        return db.session().get(WaitingEntry, entry_id)


def test_expiry_racing_a_join_that_replaces_the_entry_does_not_deadlock(pg_app):
    app = pg_app
    old, new = full_unit(app), full_unit(app, skip=1)
    (resident,) = make_residents(app, 1)
    entry_id = _expired_entry(app, resident, old)
    retries = racing.retries_counted()
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "unit", old):
        racing.start_blocked(app, "join", lambda s: svc.join_waiting_list(s, resident, new, token(), TODAY),
                             racers)
        racing.start_blocked(app, "expiry", lambda s: waiting.expire_entries(s, TODAY, [old]), racers)
    racing.finish(racers)
    _no_errors(racers)
    assert racers[0].result.status == "created"
    assert _entry(app, entry_id).status == "replaced"
    assert unit_row(app, old)[2] == 0 and unit_row(app, new)[2] == 1
    assert racing.retries_counted() == retries


def test_expiry_racing_a_leave_does_not_deadlock(pg_app):
    app = pg_app
    unit = full_unit(app)
    (resident,) = make_residents(app, 1)
    entry_id = _expired_entry(app, resident, unit)
    reference = _entry(app, entry_id).reference
    retries = racing.retries_counted()
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "resident", resident):
        racing.start_blocked(app, "leave", lambda s: svc.leave_waiting_list(s, resident, reference, TODAY),
                             racers)
        racing.start_blocked(app, "expiry", lambda s: waiting.expire_entries(s, TODAY, [unit]), racers)
    racing.finish(racers)
    _no_errors(racers)
    assert _entry(app, entry_id).status == "left"
    assert racers[1].result == 0
    assert unit_row(app, unit)[2] == 0
    with app.app_context():
        kinds = db.session().scalars(select(Message.kind).where(Message.resident_id == resident)).all()
    assert kinds == ["left"]  # told once, of what happened
    assert racing.retries_counted() == retries


def test_skip_racing_a_leave_does_not_deadlock(pg_app):
    app = pg_app
    unit = full_unit(app)
    (resident,) = make_residents(app, 1)
    with app.app_context():
        sess = db.session()
        entry = svc.join_waiting_list(sess, resident, unit, token(), TODAY).entry
        entry_id, reference = entry.id, entry.reference
        found = sess.get(Unit, unit)
        rules = waiting_rules_for(found.pilot, found.element)
    moved_away = Decision(False, "register", (Reason("not_resident"),), None, None, None, None)
    assert skip_action(moved_away, rules) == "leave"
    retries = racing.retries_counted()
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "unit", unit):
        racing.start_blocked(app, "skip", lambda s: promotion.skip_entry(s, entry_id, moved_away, rules, TODAY), racers)
        racing.start_blocked(app, "leave", lambda s: svc.leave_waiting_list(s, resident, reference, TODAY),
                             racers)
    racing.finish(racers)
    assert racers[0].error is None, repr(racers[0].error)
    # Whichever came first stands; the other is told it came too late (a 409), never a deadlock.
    status = _entry(app, entry_id).status
    assert status in ("removed", "left")
    if status == "removed":
        assert isinstance(racers[1].error, svc.ChoiceConflict) and racers[1].error.code == "not_waiting"
    assert unit_row(app, unit)[2] == 0
    assert racing.retries_counted() == retries


def test_cancel_that_loses_a_race_with_activation_changes_nothing(make_app, monkeypatch):
    app = make_app("postgres")
    client = app.test_client()
    unit_id = free_unit(app)
    sign_in_resident(client, "aino")
    response = client.post(f"/fi/choose/{unit_id}/confirm", data=confirm_form(client, "fi", unit_id))
    reference = response.headers["Location"].rsplit("/", 1)[1]
    rows_before, listed_before = counts(app, unit_id)
    original_snapshot = own_choices.snapshot

    def activate_meanwhile(choice):
        other = db.new_session()  # another transaction activates the choice after ours has read it
        other.execute(update(Choice).where(Choice.id == choice.id).values(status="active"))
        other.commit()
        other.close()
        return original_snapshot(choice)

    monkeypatch.setattr(own_choices, "snapshot", activate_meanwhile)
    with app.app_context():
        resident_id = db.session().query(Choice.resident_id).filter(Choice.reference == reference).scalar()
        with pytest.raises(svc.ChoiceConflict):
            svc.cancel_choice(db.session(), resident_id, reference, helsinki_today())
    assert counts(app, unit_id) == (rows_before, listed_before)
    with app.app_context():
        assert db.session().query(Choice.status).filter(Choice.reference == reference).scalar() == "active"


def test_staff_lowering_the_capacity_racing_a_choice_keeps_listed_within_capacity(pg_app):
    app = pg_app
    unit = free_unit(app)
    (resident,) = make_residents(app, 1)
    users = prepare_accounts(app)
    staff = app.test_client()
    sign_in(staff, users["admin"].email)
    capacity, listed, _w = unit_row(app, unit)
    data = form_data(staff, unit)
    data["capacity"] = str(listed)  # as low as it may go when the form is sent
    racers: list[racing.Racer] = []
    with racing.row_lock(app, "unit", unit):
        racing.start_blocked(app, "choice", _submit(resident, unit), racers)
        racing.start_blocked(app, "staff", lambda _s: staff.post(f"/fi/staff/units/{unit}", data=data), racers)
    racing.finish(racers)
    _no_errors(racers)
    assert racers[0].result.status == "created"
    capacity, listed_now, _w = unit_row(app, unit)
    assert listed_now == listed + 1
    assert capacity is None or listed_now <= capacity
    assert racers[1].result.status_code == 400  # told that the capacity is now below the listed customers
    assert str(listed + 1) in racers[1].result.get_data(as_text=True)


def test_a_random_mix_of_every_locking_use_case_keeps_every_invariant_without_deadlocks(pg_app):
    """Six residents' threads at once, 300 operations: choices, cancellations, joins, leaves, expiry,
    promotions and capacity raised by staff, on few units so that they collide."""
    app = pg_app
    units, residents = racing.prepare_mix(app, residents=30)
    retries = racing.retries_counted()
    report = racing.run_mix(app, units, residents, threads=6, per_thread=50)
    assert report.operations == 300
    assert not report.errors, (report.errors, report.examples)
    assert not racing.broken_invariants(app, units)
    assert report.outcomes.get("submit:created", 0) > 0 and report.outcomes.get("join:created", 0) > 0
    assert racing.retries_counted() == retries  # the lock order leaves the database nothing to break
