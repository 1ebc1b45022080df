"""Waiting lists in the choice journey: join from the decision page, the receipt, leaving.
The rules live in webapp/choice/waiting_rules.py and the use cases in webapp/choice/waiting.py."""
from __future__ import annotations

import secrets

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField

from webapp.choice import use_cases as svc
from webapp.choice import waiting
from webapp.models import Choice
from webapp.web import clock, db
from webapp.web.choice.blueprint import bp
from webapp.web.choice.mail import send_soon
from webapp.web.choice.views import _home_municipality, _require_resident, checked_submission
from webapp.web.errors import UserError

TOKENS_KEY = "waiting_tokens"


class JoinForm(FlaskForm):
    request_token = HiddenField()


class LeaveForm(FlaskForm):
    pass


def _token(unit_id: int, create: bool) -> str | None:
    tokens = session.get(TOKENS_KEY) or {}
    token = tokens.get(str(unit_id))
    if token is None and create:
        token = secrets.token_urlsafe(32)
        session[TOKENS_KEY] = dict(list({**tokens, str(unit_id): token}.items())[-10:])
    return token


def _forget(unit_id: int) -> None:
    tokens = dict(session.get(TOKENS_KEY) or {})
    if tokens.pop(str(unit_id), None) is not None:
        session[TOKENS_KEY] = tokens


def _join_evaluation(rid: int, unit_id: int):  # noqa: ANN202
    today = clock.today()
    try:
        return waiting.evaluate_join(db.session(), rid, unit_id, today), today
    except svc.ChoiceNotFound:
        abort(404)


@bp.get("/choose/<int:unit_id>/waiting-list")
def join_confirm(unit_id: int) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.start", unit_id=unit_id))
    if redirect_ is not None:
        return redirect_
    je, today = _join_evaluation(rid, unit_id)
    if je.current_entry is not None and je.current_entry.unit_id == unit_id:
        return redirect(url_for("choice.waiting_receipt", reference=je.current_entry.reference), code=303)
    if not je.join.allowed:
        return redirect(url_for("choice.start", unit_id=unit_id), code=303)
    form = JoinForm(request_token=_token(unit_id, create=True))
    return render_template("choice/waiting_join.html", je=je, unit=je.evaluation.unit, form=form, today=today)


@bp.post("/choose/<int:unit_id>/waiting-list")
def join_submit(unit_id: int) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.start", unit_id=unit_id))
    if redirect_ is not None:
        return redirect_
    expected = checked_submission(rid, JoinForm(), _token(unit_id, create=False))
    today = clock.today()
    try:
        outcome = svc.join_waiting_list(db.session(), rid, unit_id, expected, today)
    except svc.ChoiceNotFound:
        abort(404)
    except svc.ChoiceConflict:
        raise UserError(_("The form had been changed or was for another unit. Nothing was saved. "
                          "Open the unit's page and choose it again."), 400) from None
    if outcome.status == "refused":
        je, today = _join_evaluation(rid, unit_id)
        ev = je.evaluation
        return render_template("choice/decision.html", ev=ev, d=ev.decision, unit=ev.unit, today=today, je=je,
                               home=_home_municipality(ev.resident)), 409
    _forget(unit_id)
    send_soon(db.session())
    if outcome.status == "duplicate":
        flash(_("You were already on this waiting list; here is its receipt."), "info")
    assert outcome.entry is not None  # joined, or already on the list
    return redirect(url_for("choice.waiting_receipt", reference=outcome.entry.reference), code=303)


def _own_entry(rid: int, reference: str):  # noqa: ANN202
    try:
        return waiting.entry_of(db.session(), rid, reference)
    except svc.ChoiceNotFound:
        abort(404)


@bp.get("/my-choices/waiting/<reference>")
def waiting_receipt(reference: str) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.my_choices"))
    if redirect_ is not None:
        return redirect_
    entry = _own_entry(rid, reference)
    sess = db.session()
    place = waiting.place_of(sess, entry) if entry.status == "waiting" else None
    choice = sess.get(Choice, entry.choice_id) if entry.choice_id else None
    return render_template("choice/waiting_receipt.html", entry=entry, place=place, choice=choice,
                           today=clock.today())


@bp.route("/my-choices/waiting/<reference>/leave", methods=["GET", "POST"])
def waiting_leave(reference: str) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.my_choices"))
    if redirect_ is not None:
        return redirect_
    entry = _own_entry(rid, reference)
    form = LeaveForm()
    if entry.status != "waiting":
        raise UserError(_("You are no longer on this waiting list."), 409)
    if request.method == "POST":
        if not form.validate():
            raise UserError(_("The form had expired or was sent twice. Nothing was saved. Open the page again and "
                              "resend the form."), 400)
        try:
            svc.leave_waiting_list(db.session(), rid, reference, clock.today())
        except svc.ChoiceConflict:
            raise UserError(_("You are no longer on this waiting list."), 409) from None
        send_soon(db.session())
        flash(_("You have left the waiting list."), "success")
        return redirect(url_for("choice.my_choices"), code=303)
    return render_template("choice/waiting_leave.html", entry=entry, place=waiting.place_of(db.session(), entry),
                           form=form, today=clock.today())
