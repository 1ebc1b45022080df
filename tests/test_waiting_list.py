"""Waiting lists end to end in the use cases, on SQLite and PostgreSQL: join, replace, leave, expire,
promotion through submit_choice (skips, first come first served), messages and the e-mail outbox."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update

from tests.waiting_helpers import TODAY, full_unit, make_residents, token, unit_row
from webapp.choice import inbox, waiting
from webapp.choice import use_cases as svc
from webapp.choice.choices import counted_places
from webapp.choice.promotion import promote_from_waiting_lists
from webapp.choice.references import is_reference
from webapp.models import AuditEvent, Choice, Message, NoticeAddress, OutboxMail, Resident, Unit, WaitingEntry
from webapp.web import db


def _join(sess, rid, unit_id, today=TODAY):
    return svc.join_waiting_list(sess, rid, unit_id, token(), today)


def _hold(sess, unit_id, count=2):
    """Before anyone queues: `count` residents take the unit's last places (pending choices)."""
    sess.execute(update(Unit).where(Unit.id == unit_id).values(capacity=Unit.capacity + count))
    sess.commit()
    held = []
    for holder in make_residents_in(sess, count):
        out = svc.submit_choice(sess, holder, unit_id, token(), TODAY)
        assert out.status == "created", out.decision.codes if out.decision else None
        held.append((holder, out.choice.reference))
    return held


def _free_one_place(sess, held):
    """A holder cancels the pending choice: a place frees the ordinary way (the web's cancel path)."""
    holder, reference = held.pop(0)
    return svc.cancel_choice(sess, holder, reference, TODAY)


def make_residents_in(sess, count, municipality="186"):
    import secrets
    people = [Resident(key=secrets.token_hex(32), birth_date=date(1980, 5, 5), home_municipality_code=municipality,
                       in_institutional_care=False) for _ in range(count)]
    sess.add_all(people)
    sess.commit()
    return [p.id for p in people]


def test_join_only_when_full_with_receipt_place_and_audit(any_app):
    unit = full_unit(any_app)
    a, b = make_residents(any_app, 2)
    with any_app.app_context():
        sess = db.session()
        first = _join(sess, a, unit)
        second = _join(sess, b, unit)
        assert first.status == second.status == "created"
        assert is_reference(first.entry.reference)
        assert first.entry.expires_on == date(2027, 5, 23)  # six months less a day
        assert waiting.place_of(sess, first.entry) == 1 and waiting.place_of(sess, second.entry) == 2
        assert unit_row(any_app, unit)[2] == 2
        joined = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "waiting_joined")
        assert sess.scalar(joined) == 2
        # Joining twice: refused (already waiting), nothing added.
        again = _join(sess, a, unit)
        assert again.status == "refused" and again.refusal == "already_waiting"
        assert unit_row(any_app, unit)[2] == 2


def test_same_token_twice_makes_one_entry(any_app):
    unit = full_unit(any_app)
    (a,) = make_residents(any_app, 1)
    with any_app.app_context():
        sess = db.session()
        t = token()
        one = svc.join_waiting_list(sess, a, unit, t, TODAY)
        two = svc.join_waiting_list(sess, a, unit, t, TODAY)
        assert (one.status, two.status) == ("created", "duplicate") and one.entry.id == two.entry.id
        assert unit_row(any_app, unit)[2] == 1


def test_a_unit_with_free_places_is_chosen_not_queued(any_app):
    unit = full_unit(any_app, free=1)
    (a,) = make_residents(any_app, 1)
    with any_app.app_context():
        out = _join(db.session(), a, unit)
        assert out.status == "refused" and out.refusal == "not_full"


def test_joining_another_list_replaces_the_first_and_says_so(any_app):
    one, two = full_unit(any_app), full_unit(any_app, skip=1)
    (a,) = make_residents(any_app, 1)
    with any_app.app_context():
        sess = db.session()
        first = _join(sess, a, one)
        je = waiting.evaluate_join(sess, a, two, TODAY)
        assert je.join.allowed and je.replaces is not None and je.replaces.id == first.entry.id
        second = _join(sess, a, two)
        assert second.replaced is not None and second.replaced.id == first.entry.id
        assert sess.get(WaitingEntry, first.entry.id).status == "replaced"
        assert unit_row(any_app, one)[2] == 0 and unit_row(any_app, two)[2] == 1
        kinds = [(m.kind, m.params.get("why")) for m in inbox.messages_of(sess, a)]
        assert kinds == [("left", "replaced")]


def test_leave_frees_the_place_in_the_queue_and_tells_the_resident(any_app):
    unit = full_unit(any_app)
    a, b = make_residents(any_app, 2)
    with any_app.app_context():
        sess = db.session()
        first, second = _join(sess, a, unit), _join(sess, b, unit)
        svc.leave_waiting_list(sess, a, first.entry.reference, TODAY)
        assert waiting.place_of(sess, sess.get(WaitingEntry, second.entry.id)) == 1
        assert unit_row(any_app, unit)[2] == 1
        assert [m.kind for m in inbox.messages_of(sess, a)] == ["left"]
        try:
            svc.leave_waiting_list(sess, a, first.entry.reference, TODAY)
        except svc.ChoiceConflict as exc:
            assert exc.code == "not_waiting"
        else:
            raise AssertionError("leaving twice must be refused")
        try:
            svc.leave_waiting_list(sess, b, first.entry.reference, TODAY)  # not b's entry
        except svc.ChoiceNotFound:
            pass
        else:
            raise AssertionError("another resident's entry")


def test_a_freed_place_goes_to_the_first_in_the_queue_through_submit_choice(any_app):
    unit = full_unit(any_app)
    a, b = make_residents(any_app, 2)
    with any_app.app_context():
        sess = db.session()
        held = _hold(sess, unit)
        ea, eb = _join(sess, a, unit).entry, _join(sess, b, unit).entry
        capacity, _listed, _w = unit_row(any_app, unit)
        _free_one_place(sess, held)
        sess.expire_all()
        promoted = sess.get(WaitingEntry, ea.id)
        assert promoted.status == "promoted" and promoted.choice_id is not None
        choice = sess.get(Choice, promoted.choice_id)
        assert (choice.resident_id, choice.unit_id, choice.status, choice.channel) == (a, unit, "pending", "queue")
        assert choice.effective_from == date(2026, 12, 1) and choice.binding_until == date(2027, 11, 30)
        assert sess.get(WaitingEntry, eb.id).status == "waiting"
        assert waiting.place_of(sess, sess.get(WaitingEntry, eb.id)) == 1
        assert unit_row(any_app, unit) == (capacity, capacity, 1)  # exact: the freed place, taken
        assert counted_places(sess, unit) == capacity
        msg = inbox.messages_of(sess, a)[0]
        assert msg.kind == "promoted" and msg.params["choice"] == choice.reference
        actions = set(sess.scalars(select(AuditEvent.action).where(AuditEvent.entity_id == ea.id,
                                                                     AuditEvent.entity_type == "choice")))
        assert {"waiting_joined", "waiting_promoted"} <= actions
        # Running again changes nothing: nobody is promoted twice.
        report = promote_from_waiting_lists(sess, [unit], TODAY)
        assert report.promoted == [] and sess.scalar(select(func.count()).select_from(Choice)
                                                     .where(Choice.resident_id == a)) == 1


def test_an_ineligible_first_resident_is_skipped_and_the_next_one_moves(any_app):
    unit = full_unit(any_app)
    moved, young, ok = make_residents(any_app, 3)
    with any_app.app_context():
        sess = db.session()
        held = _hold(sess, unit)
        e_moved, e_young, e_ok = (_join(sess, r, unit).entry for r in (moved, young, ok))
        # Since joining, one moved out of the pilot area and (data fix) the other turns out to be 17.
        sess.execute(update(Resident).where(Resident.id == moved).values(home_municipality_code="564"))
        sess.execute(update(Resident).where(Resident.id == young).values(birth_date=TODAY - timedelta(days=17 * 365)))
        sess.commit()
        _free_one_place(sess, held)
        sess.expire_all()
        assert sess.get(WaitingEntry, e_moved.id).status == "removed"  # moving out: off the list
        assert sess.get(WaitingEntry, e_young.id).status == "waiting"  # under age: keeps the place
        assert sess.get(WaitingEntry, e_ok.id).status == "promoted"
        assert [m.kind for m in inbox.messages_of(sess, moved)] == ["removed"]
        skipped = inbox.messages_of(sess, young)
        assert [m.kind for m in skipped] == ["skipped"] and skipped[0].params["reasons"][0]["code"] == "under_age"
        assert unit_row(any_app, unit)[2] == 1
        # The next free place: the young one is skipped again but not told twice.
        _free_one_place(sess, held)
        assert [m.kind for m in inbox.messages_of(sess, young)] == ["skipped"]
        skips = sess.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "waiting_skipped"))
        assert skips == 3


def test_a_free_place_held_for_the_queue_refuses_direct_choosers_until_the_queue_is_served(any_app):
    unit = full_unit(any_app)
    young, newcomer = make_residents(any_app, 2)
    with any_app.app_context():
        sess = db.session()
        held = _hold(sess, unit)
        _join(sess, young, unit)
        sess.execute(update(Resident).where(Resident.id == young).values(birth_date=TODAY - timedelta(days=17 * 365)))
        sess.commit()
        _free_one_place(sess, held)  # the young one is skipped and stays: the place stays free
        capacity, listed, waiting_count = unit_row(any_app, unit)
        assert listed == capacity - 1 and waiting_count == 1
        direct = svc.submit_choice(sess, newcomer, unit, token(), TODAY)
        assert direct.status == "refused" and direct.decision.codes == ("waiting_list_first",)
        # The newcomer joins the queue behind and gets the place at once: first eligible in the queue.
        joined = _join(sess, newcomer, unit)
        assert joined.status == "created" and joined.entry.status == "promoted"


def test_expiry_day_of_and_after(any_app):
    unit = full_unit(any_app)
    (a,) = make_residents(any_app, 1)
    with any_app.app_context():
        sess = db.session()
        entry = _join(sess, a, unit).entry
        last = entry.expires_on
        assert waiting.expire_entries(sess, last, [unit]) == 0
        assert sess.get(WaitingEntry, entry.id).status == "waiting"
        assert waiting.expire_entries(sess, last + timedelta(days=1), [unit]) == 1
        sess.expire_all()
        assert sess.get(WaitingEntry, entry.id).status == "expired" and unit_row(any_app, unit)[2] == 0
        assert [m.kind for m in inbox.messages_of(sess, a)] == ["expired"]
        expired = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "waiting_expired")
        assert sess.scalar(expired) == 1


def test_a_pilot_that_does_not_count_the_switch_gives_no_lock_in(any_app):
    from webapp.models import PilotElement
    unit = full_unit(any_app)
    (a,) = make_residents(any_app, 1)
    with any_app.app_context():
        sess = db.session()
        held = _hold(sess, unit)
        pilot_id = sess.get(Unit, unit).pilot_id
        sess.execute(update(PilotElement).where(PilotElement.pilot_id == pilot_id,
                                                PilotElement.element == "sote_centre")
                     .values(waiting_counts_as_switch=False))
        sess.commit()
        entry = _join(sess, a, unit).entry
        _free_one_place(sess, held)
        choice = sess.get(Choice, sess.get(WaitingEntry, entry.id).choice_id)
        assert choice.binding_until is None and choice.counts_as_switch is False


def test_messages_go_to_the_outbox_only_with_a_verified_address_and_a_failed_send_loses_nothing(any_app):
    from webapp.web.choice.mail import send_pending
    unit = full_unit(any_app)
    a, b = make_residents(any_app, 2)
    with any_app.app_context():
        sess = db.session()
        held = _hold(sess, unit)
        inbox.set_notice_address(sess, a, "aino@example.fi", "sv")
        inbox.set_notice_address(sess, b, "bertil@example.fi", "fi")
        sess.commit()
        assert inbox.verify_notice_address(sess, a, "AINO@example.fi")
        ea = _join(sess, a, unit).entry
        _join(sess, b, unit)
        calls = []

        def broken(mail):
            calls.append(mail)
            raise ConnectionRefusedError("smtp down")

        any_app.extensions["mail_transport"] = broken
        _free_one_place(sess, held)
        rows = sess.scalars(select(OutboxMail)).all()
        assert [r.to_address for r in rows] == ["aino@example.fi"]  # b's address is not verified
        assert sess.get(WaitingEntry, ea.id).status == "promoted"
        sent, failed = send_pending(sess)
        assert (sent, failed) == (0, 1)
        row = sess.scalars(select(OutboxMail)).one()
        assert row.attempts == 1 and row.sent_at is None and row.next_attempt_at is not None
        assert sess.get(WaitingEntry, ea.id).status == "promoted"  # the switch stands
        assert send_pending(sess) == (0, 0)  # not due again yet
        delivered = []
        any_app.extensions["mail_transport"] = delivered.append
        later = row.next_attempt_at + timedelta(seconds=1)
        assert send_pending(sess, now=later) == (1, 0)
        mail = delivered[0]
        assert mail["To"] == "aino@example.fi"
        assert "Du har bytts till" in mail["Subject"]  # in the language the address was given in
        assert sess.get(Message, row.message_id).resident_id == a


def test_file_transport_writes_the_outbox_folder(any_app, tmp_path):
    from webapp.web.choice.mail import send_pending
    any_app.config["MAIL_OUTBOX_DIR"] = str(tmp_path / "outbox")
    any_app.config["MAIL_TRANSPORT"] = "smtp"  # outside production this still goes to files
    with any_app.app_context():
        sess = db.session()
        (a,) = make_residents_in(sess, 1)
        sess.add(NoticeAddress(resident_id=a, email="x@example.fi", language="fi"))
        sess.add(OutboxMail(resident_id=a, to_address="x@example.fi", language="fi", subject="Testi", body="Hei",
                            attempts=0, gave_up=False))
        sess.commit()
        assert send_pending(sess) == (1, 0)
    files = list((tmp_path / "outbox").glob("*.eml"))
    assert len(files) == 1 and b"Subject: Testi" in files[0].read_bytes()
