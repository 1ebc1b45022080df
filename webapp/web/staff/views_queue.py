"""Staff views: the queue-time (T3) batch form of a pilot."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms import StringField

from webapp.core.validation import is_whole_number
from webapp.models import Unit, with_collections
from webapp.units import use_cases
from webapp.units.vocab import DIRECT_CHOICE_ELEMENTS, PROFESSIONS, PROFESSIONS_BY_ELEMENT
from webapp.web import db
from webapp.web.clock import today as clock_today
from webapp.web.errors import UserError
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import QueueTimesForm
from webapp.web.staff.view_helpers import MANAGERS, chosen_pilot, scope_pilots


@bp.route("/queue-times", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def queue_times() -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    pilot = chosen_pilot(user)
    units_ = sess.scalars(select(Unit).where(Unit.pilot_id == pilot.id, Unit.element.in_(DIRECT_CHOICE_ELEMENTS))
                          .order_by(Unit.element, Unit.name_fi)
                          .options(*with_collections("queue_times"))).unique().all()
    fields = {}
    for unit in units_:
        for prof in PROFESSIONS_BY_ELEMENT[unit.element]:
            fields[f"t3_{unit.id}_{prof}"] = StringField(str(PROFESSIONS[prof]))
    form_class = type("BatchQueueTimesForm", (QueueTimesForm,), fields)
    form = form_class()
    status = 200
    if request.method == "GET":
        form.measured_on.data = clock_today()
    elif form.validate_on_submit():
        entries = []
        for unit in units_:
            for prof in PROFESSIONS_BY_ELEMENT[unit.element]:
                fld = form[f"t3_{unit.id}_{prof}"]
                text = (fld.data or "").strip()
                if not text:
                    continue
                if not is_whole_number(text) or int(text) > 365:
                    fld.errors = [_("Enter the number of days as a whole number from 0 to 365.")]
                else:
                    entries.append((unit, prof, int(text)))
        day = form.measured_on.data
        if day > clock_today():
            form.measured_on.errors = [_("The date of the measurement cannot be in the future.")]
        if not form.errors and not entries:
            form.measured_on.errors = [_("Enter at least one queue time.")]
        if not form.errors:
            try:
                touched = use_cases.record_queue_times(sess, user, day, entries)
            except use_cases.SavedMeanwhile:  # the same figures were saved at the same moment in another request
                raise UserError(_("Someone saved queue times for the same day at the same moment. Nothing was "
                                  "saved from this form: reload the page and check the figures."), 409) from None
            flash(_("Queue times saved for %(n)d units.", n=touched), "success")
            return redirect(url_for("staff.queue_times", pilot=pilot.slug) if user.role == "admin"
                            else url_for("staff.queue_times"))
        status = 400
    else:
        status = 400
    rows = [(unit, [(prof, form[f"t3_{unit.id}_{prof}"], unit.latest_queue_times().get(prof))
                    for prof in PROFESSIONS_BY_ELEMENT[unit.element]]) for unit in units_]
    return render_template("staff/queue_times.html", form=form, rows=rows, pilot=pilot,
                           pilots=scope_pilots(user) if user.role == "admin" else None), status
