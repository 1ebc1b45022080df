"""Choice journey: decision, confirm, receipt, my choices, cancel. The rules and the use case
live in webapp/choice/rules.py and webapp/choice/use_cases.py; these views only translate HTTP."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import HiddenField

from webapp.choice import choices
from webapp.choice import use_cases as svc
from webapp.choice.references import is_reference
from webapp.models import Choice, Municipality, Unit
from webapp.units.vocab import ELEMENTS, SECTORS
from webapp.web import clock, db, metrics, security
from webapp.web.choice.blueprint import bp
from webapp.web.errors import UserError
from webapp.web.identity.signin import current_resident_id, display_name, remember_return, session_expired

SUBMIT_LIMIT = (5, 60)  # choice submissions per minute per resident
TOKENS_KEY = "choice_tokens"


class ConfirmForm(FlaskForm):
    request_token = HiddenField()


class CancelForm(FlaskForm):
    pass


def _require_resident(return_path: str):  # noqa: ANN202
    """The signed-in resident's id, or a redirect to identification that comes back here."""
    rid = current_resident_id()
    if rid is not None:
        return rid, None
    remember_return(return_path)
    if session_expired():
        flash(_("Your session expired because it was idle. Nothing was saved. Identify yourself again to continue."),
              "warning")
    else:
        flash(_("Identify yourself to continue."), "info")
    return None, redirect(url_for("identity.identify"), code=303)


def _evaluate(rid: int, unit_id: int):  # noqa: ANN202
    sess = db.session()
    today = clock.today()
    svc.activate_due_choices(sess, today, resident_id=rid)
    try:
        return choices.evaluate(sess, rid, unit_id, today), today
    except svc.ChoiceNotFound:
        abort(404)


def _home_municipality(resident) -> Municipality | None:  # noqa: ANN001
    return db.session().get(Municipality, resident.home_municipality_code)


def _render_decision(ev, today, status: int = 200):  # noqa: ANN001, ANN202
    from webapp.choice.waiting import join_offer
    return render_template("choice/decision.html", ev=ev, d=ev.decision, unit=ev.unit, today=today,
                           home=_home_municipality(ev.resident), je=join_offer(db.session(), ev, today)), status


@bp.get("/choose/<int:unit_id>")
def start(unit_id: int) -> ResponseReturnValue:
    sess = db.session()
    unit = sess.get(Unit, unit_id)
    if unit is None or unit.is_hidden:
        abort(404)
    rid, redirect_ = _require_resident(url_for("choice.start", unit_id=unit_id))
    if redirect_ is not None:
        return redirect_
    ev, today = _evaluate(rid, unit_id)
    if not ev.decision.allowed:
        choices.record_refusal(db.session(), ev)
    return _render_decision(ev, today)


def checked_submission(rid: int, form: FlaskForm, expected: str | None) -> str:
    """The rate limit, CSRF and the form's one-time token of a choice or queue submission; returns the token.
    Raises UserError (429, 400) with what the resident should do."""
    if security.rate_limited(f"choice:{rid}", *SUBMIT_LIMIT):
        raise UserError(_("You have sent too many choices in a short while. Wait a minute and try again."), 429)
    sent = form.request_token.data or ""
    if not form.validate() or not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise UserError(_("The form had been changed or was for another unit. Nothing was saved. "
                          "Open the unit's page and choose it again."), 400)
    return expected


def _token_for(unit_id: int, create: bool) -> str | None:
    tokens = session.get(TOKENS_KEY) or {}
    token = tokens.get(str(unit_id))
    if token is None and create:
        token = secrets.token_urlsafe(32)
        tokens = {**tokens, str(unit_id): token}
        session[TOKENS_KEY] = dict(list(tokens.items())[-10:])  # a few recent units only
    return token


def _forget_token(unit_id: int) -> None:
    tokens = dict(session.get(TOKENS_KEY) or {})
    if tokens.pop(str(unit_id), None) is not None:
        session[TOKENS_KEY] = tokens


def _existing_by_token(rid: int, unit_id: int, token: str | None):  # noqa: ANN202
    """The choice this unit's form token already made, if it is still in force or pending.
    A cancelled or ended one frees the token, so the resident can choose the unit again."""
    if not token:
        return None
    choice = db.session().scalar(select(Choice).where(Choice.request_token == token))
    if choice is None or choice.resident_id != rid:
        return None
    if choice.status not in ("pending", "active"):
        _forget_token(unit_id)
        return None
    return choice


@bp.get("/choose/<int:unit_id>/confirm")
def confirm(unit_id: int) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.start", unit_id=unit_id))
    if redirect_ is not None:
        return redirect_
    done = _existing_by_token(rid, unit_id, _token_for(unit_id, create=False))
    if done is not None:  # back button after submitting: show the receipt, never a second form
        return redirect(url_for("choice.receipt", reference=done.reference), code=303)
    ev, today = _evaluate(rid, unit_id)
    if not ev.decision.allowed:
        return redirect(url_for("choice.start", unit_id=unit_id), code=303)
    form = ConfirmForm(request_token=_token_for(unit_id, create=True))
    return render_template("choice/confirm.html", ev=ev, d=ev.decision, unit=ev.unit, form=form, today=today)


@bp.post("/choose/<int:unit_id>/confirm")
def submit(unit_id: int) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.start", unit_id=unit_id))
    if redirect_ is not None:
        return redirect_
    expected = checked_submission(rid, ConfirmForm(), _token_for(unit_id, create=False))
    today = clock.today()
    try:
        outcome = svc.submit_choice(db.session(), rid, unit_id, expected, today)
    except svc.ChoiceNotFound:
        abort(404)
    except svc.ChoiceConflict:
        raise UserError(_("The form had been changed or was for another unit. Nothing was saved. "
                          "Open the unit's page and choose it again."), 400) from None
    metrics.count_choice(outcome.status, outcome.reasons)
    if outcome.ok:
        if outcome.status == "duplicate":
            flash(_("Your choice had already been saved; here is its receipt."), "info")
        assert outcome.choice is not None  # an accepted or duplicate submission has its choice
        return redirect(url_for("choice.receipt", reference=outcome.choice.reference), code=303)
    ev, today = _evaluate(rid, unit_id)
    # Show the decision made under the lock (e.g. the last place went a moment ago).
    ev.decision = outcome.decision
    return _render_decision(ev, today, 409)


@bp.get("/my-choices")
def my_choices() -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.my_choices"))
    if redirect_ is not None:
        return redirect_
    today = clock.today()
    groups = svc.resident_choices(db.session(), rid, today)
    from webapp.choice.waiting import resident_standings
    return render_template("choice/my_choices.html", groups=groups, today=today,
                           standings=resident_standings(db.session(), rid))


def _own_choice(rid: int, reference: str):  # noqa: ANN202
    try:
        return svc.choice_of(db.session(), rid, reference)
    except svc.ChoiceNotFound:
        abort(404)


@bp.get("/my-choices/<reference>")
def receipt(reference: str) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.receipt", reference=reference) if is_reference(reference)
                                       else url_for("choice.my_choices"))
    if redirect_ is not None:
        return redirect_
    today = clock.today()
    svc.activate_due_choices(db.session(), today, resident_id=rid)
    choice = _own_choice(rid, reference)
    previous = db.session().get(Choice, choice.previous_choice_id) if choice.previous_choice_id else None
    return render_template("choice/receipt.html", choice=choice, previous=previous, today=today)


@bp.route("/my-choices/<reference>/cancel", methods=["GET", "POST"])
def cancel(reference: str) -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.my_choices"))
    if redirect_ is not None:
        return redirect_
    today = clock.today()
    choice = _own_choice(rid, reference)
    form = CancelForm()
    cancellable = choice.status == "pending" and choice.effective_from > today
    if request.method == "POST":
        if not form.validate():
            raise UserError(_("The form had expired or was sent twice. Nothing was saved. "
                              "Open the page again and resend the form."), 400)
        try:
            cancelled = svc.cancel_choice(db.session(), rid, reference, today)
            _forget_token(cancelled.unit_id)
            from webapp.web.choice.mail import send_soon
            send_soon(db.session())
        except svc.ChoiceNotFound:
            abort(404)
        except svc.ChoiceConflict:
            raise UserError(_("This choice can no longer be cancelled: it has already taken effect or been cancelled."),
                            409) from None
        flash(_("Your choice has been cancelled and the place at the unit released."), "success")
        return redirect(url_for("choice.my_choices"), code=303)
    if not cancellable:
        raise UserError(_("This choice can no longer be cancelled: it has already taken effect or been cancelled."),
                        409)
    return render_template("choice/cancel.html", choice=choice, form=form, today=today)



STATUS_LABELS = {"pending": _l("Waiting to take effect"), "active": _l("In force"), "ended": _l("Ended"),
                 "cancelled": _l("Cancelled")}
WAITING_LABELS = {"waiting": _l("In the queue"), "promoted": _l("Switched to the unit"), "left": _l("Left the queue"),
                  "replaced": _l("Left for another list"), "expired": _l("Expired"),
                  "removed": _l("Taken off the list under the rules")}
CHANNEL_LABELS = {"web": _l("Online"), "paper": _l("Paper form"), "queue": _l("Waiting list")}


@bp.context_processor
def _labels() -> dict:
    return {"ELEMENT_LABELS": ELEMENTS, "SECTOR_LABELS": SECTORS, "STATUS_LABELS": STATUS_LABELS,
            "WAITING_LABELS": WAITING_LABELS,
            "CHANNEL_LABELS": CHANNEL_LABELS, "resident_name": display_name(), "timedelta1": timedelta(days=1)}
