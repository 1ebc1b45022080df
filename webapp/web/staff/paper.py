"""A choice made on a paper form, entered by staff through the same rules as the web journey.

The henkilötunnus comes only in a POST body; it is validated with python-stdnum, turned into the
resident key with the identity area's HMAC (`upsert_resident` → `resident_key`), and never shown
back in full, logged, put in a URL or stored in an audit event.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import HiddenField
from wtforms.fields.choices import SelectChoice

from webapp.models import Municipality, Resident, StaffUser, Unit
from webapp.units.vocab import DIRECT_CHOICE_ELEMENTS
from webapp.web import db, metrics
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.web.security import rate_limited
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import PaperChoiceForm

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class PaperForm(PaperChoiceForm):
    request_token = HiddenField()


def _units(user: StaffUser) -> list[Unit]:
    stmt = select(Unit).where(Unit.element.in_(DIRECT_CHOICE_ELEMENTS), Unit.is_hidden.is_(False))
    if user.role == "pilot_manager":
        stmt = stmt.where(Unit.pilot_id == user.pilot_id)
    return list(db.session().scalars(stmt.order_by(Unit.pilot_id, Unit.element, Unit.name_fi)).unique())


@dataclass
class PaperResident:
    resident: Resident
    unit: Unit
    masked: str


def read_paper_form(form: PaperForm, units: list[Unit], user: StaffUser,
                    template: str) -> PaperResident | ResponseReturnValue:
    """Validate a posted paper form: a PaperResident, or the response to send (errors, never the code back)."""
    from webapp.identity.person import VerifiedPerson, mask_hetu, normalise_hetu
    from webapp.web.identity.signin import NotInRegister, RegisterUnavailable, population_register, upsert_resident

    if not form.validate_on_submit():
        abort(400)
    if rate_limited(f"staff-paper-choice:{user.id}", 120, 3600):
        raise UserError(_("Too many paper choices in a short while. Wait a moment and try again."), 429)
    if not TOKEN_RE.match(form.request_token.data or ""):
        raise UserError(_("The form is not valid. Open the page again."), 400)
    entered = form.hetu.data or ""
    form.hetu.data = ""  # never shown back
    hetu = None
    try:
        hetu = normalise_hetu(entered)
    except ValueError:
        form.hetu.errors = [_("Enter a valid personal identity code, e.g. 010190-123A.")]
    unit = next((u for u in units if str(u.id) == (form.unit.data or "")), None)
    if unit is None:
        form.unit.errors = [_("Choose the unit.")]
    if hetu is None or unit is None:
        return render_template(template, form=form, outcome=None), 400
    try:
        resident, _record = upsert_resident(db.session(), VerifiedPerson(hetu, "", ""), population_register())
    except NotInRegister:
        form.hetu.errors = [_("The population register has no usable record for this personal identity code.")]
        return render_template(template, form=form, outcome=None), 422
    except RegisterUnavailable:
        raise UserError(_("The population register is not available. Try again later."), 503) from None
    return PaperResident(resident, unit, mask_hetu(hetu))


def paper_form(user: StaffUser) -> PaperForm:
    lang = current_lang()
    form = PaperForm()
    form.unit.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(u.id), f"{u.name(lang)} – {u.pilot.name(lang)}") for u in _units(user)]
    return form


@bp.route("/paper-choice", methods=["GET", "POST"])
@staff_required("admin", "pilot_manager")
def paper_choice() -> ResponseReturnValue:
    from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
    from webapp.choice.use_cases import submit_choice
    from webapp.web.clock import today as clock_today

    user = signed_in_staff()
    sess = db.session()
    form = paper_form(user)
    if request.method == "GET":
        form.request_token.data = secrets.token_urlsafe(24)
        return render_template("staff/paper_choice.html", form=form, outcome=None)
    read = read_paper_form(form, _units(user), user, "staff/paper_choice.html")
    if not isinstance(read, PaperResident):
        return read
    resident, unit, masked = read.resident, read.unit, read.masked
    token = form.request_token.data
    today = clock_today()
    try:
        outcome = submit_choice(sess, resident.id, unit.id, token, today, channel="paper", actor_type="staff",
                                actor_id=user.id)
    except ChoiceNotFound:
        abort(404)
    except ChoiceConflict:
        raise UserError(_("The form is not valid. Open the page again."), 400) from None
    metrics.count_choice(outcome.status, outcome.reasons, channel="paper")
    home = sess.get(Municipality, resident.home_municipality_code)
    form.request_token.data = secrets.token_urlsafe(24)
    return render_template("staff/paper_choice.html", form=form, outcome=outcome, unit=unit, masked=masked,
                           home=home, today=today, timedelta1=timedelta(days=1)), 200
