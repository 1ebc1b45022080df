"""Staff sessions: sign out everywhere, and the administrator's list of accounts whose sessions they can end."""
from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from webapp.accounts import sessions as login_sessions
from webapp.audit import record_staff_change
from webapp.models import StaffUser
from webapp.web import db
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import SignOutForm
from webapp.web.staff.view_helpers import ALL


@bp.post("/sign-out-everywhere")
@staff_required(*ALL)
def sign_out_everywhere() -> ResponseReturnValue:
    if not SignOutForm().validate_on_submit():
        abort(400)
    user = signed_in_staff()
    sess = db.session()
    ended = login_sessions.end_staff_sessions(sess, user.id)
    record_staff_change(sess, user, "staff.sign_out_everywhere", "staff_user", user.id, after={"sessions": ended},
                        pilot_id=user.pilot_id, provider_id=user.provider_id)
    sess.commit()
    session.clear()
    flash(_("You have signed out on every device."), "success")
    return redirect(url_for("staff.sign_in"))


@bp.get("/accounts")
@staff_required("admin")
def accounts() -> ResponseReturnValue:
    sess = db.session()
    users = sess.scalars(select(StaffUser).order_by(StaffUser.display_name, StaffUser.id)).all()
    live = login_sessions.live_staff_sessions(sess, current_app.config.get("SESSION_IDLE_MINUTES", 20))
    return render_template("staff/accounts.html", users=users, live=live, form=SignOutForm())


@bp.post("/accounts/<int:user_id>/end-sessions")
@staff_required("admin")
def end_sessions(user_id: int) -> ResponseReturnValue:
    if not SignOutForm().validate_on_submit():
        abort(400)
    sess = db.session()
    target = sess.get(StaffUser, user_id)
    if target is None:
        abort(404)
    admin = signed_in_staff()
    ended = login_sessions.end_staff_sessions(sess, target.id)
    record_staff_change(sess, admin, "staff.sessions_ended", "staff_user", target.id, after={"sessions": ended},
                        pilot_id=target.pilot_id, provider_id=target.provider_id)
    sess.commit()
    if target.id == admin.id:
        session.clear()
        flash(_("You have signed out on every device."), "success")
        return redirect(url_for("staff.sign_in"))
    flash(ngettext("Ended %(num)d session of %(name)s.", "Ended %(num)d sessions of %(name)s.", ended,
                   name=target.display_name), "success")
    return redirect(url_for("staff.accounts"))

