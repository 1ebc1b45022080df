"""Staff let a waiting list form at a unit that is not taking new customers (issue 12, point 2).
A toggle beside the unit's visibility, audited like every unit change."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from webapp.core.validation import is_whole_number
from webapp.units import use_cases
from webapp.web import db
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import VisibilityForm
from webapp.web.staff.view_helpers import WRITERS
from webapp.web.staff.views_units import _load_unit


@bp.post("/units/<int:unit_id>/waiting-list")
@staff_required(*WRITERS)
def unit_waiting_when_closed(unit_id: int) -> Response:
    user = signed_in_staff()
    sess = db.session()
    unit = _load_unit(unit_id, write=True)
    form = VisibilityForm()  # the same two fields: CSRF and the unit's version
    if not form.validate_on_submit() or not is_whole_number(form.version.data or ""):
        abort(400)
    outcome = use_cases.toggle_unit_flag(sess, user, unit, "waiting_when_closed", int(form.version.data))
    if outcome.status == "conflict":
        flash(_("Someone else changed the unit meanwhile. Check the current details and try again."), "error")
        return redirect(url_for("staff.unit_edit", unit_id=unit_id))
    flash(_("Residents can now join the unit's waiting list while it is not taking new customers.")
          if unit.waiting_when_closed else
          _("While the unit is not taking new customers, no new residents can join its waiting list."), "success")
    return redirect(url_for("staff.unit_edit", unit_id=unit.id))
