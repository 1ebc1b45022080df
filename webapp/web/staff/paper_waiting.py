"""A pilot manager puts a resident on a unit's waiting list from a paper form: the paper channel,
with the same rules as online (webapp/choice/waiting.py). The henkilötunnus is handled exactly as
for a paper choice (webapp/web/staff/paper.py): POST body only, masked, never stored or logged."""
from __future__ import annotations

import secrets

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from webapp.web import db
from webapp.web.choice.mail import send_soon
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.paper import PaperResident, _units, paper_form, read_paper_form

TEMPLATE = "staff/paper_waiting.html"


@bp.route("/paper-waiting-list", methods=["GET", "POST"])
@staff_required("admin", "pilot_manager")
def paper_waiting() -> ResponseReturnValue:
    from webapp.choice import use_cases as svc
    from webapp.choice import waiting
    from webapp.choice.errors import ChoiceConflict, ChoiceNotFound
    from webapp.web.clock import today as clock_today

    user = signed_in_staff()
    form = paper_form(user)
    if request.method == "GET":
        form.request_token.data = secrets.token_urlsafe(24)
        return render_template(TEMPLATE, form=form, outcome=None)
    read = read_paper_form(form, _units(user), user, TEMPLATE)
    if not isinstance(read, PaperResident):
        return read
    sess = db.session()
    today = clock_today()
    try:
        outcome = svc.join_waiting_list(sess, read.resident.id, read.unit.id, form.request_token.data, today,
                                        channel="paper", actor_type="staff", actor_id=user.id)
    except (ChoiceNotFound, ChoiceConflict):
        abort(400)
    place = waiting.place_of(sess, outcome.entry) if outcome.entry is not None and outcome.entry.status == "waiting" \
        else None
    send_soon(sess)
    form.request_token.data = secrets.token_urlsafe(24)
    return render_template(TEMPLATE, form=form, outcome=outcome, unit=read.unit, masked=read.masked, place=place,
                           today=today), 200
