"""Staff views: sign-in, sign-out and the staff home page."""
from __future__ import annotations

import hashlib

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, select

from webapp.accounts.staff import authenticate, normalise_email
from webapp.audit import record_staff_change
from webapp.models import Pilot, Provider, Unit
from webapp.units.permissions import unit_scope
from webapp.web import db
from webapp.web.errors import UserError
from webapp.web.security import client_address, rate_limited
from webapp.web.staff.auth import (
    current_staff,
    safe_next,
    sign_in_user,
    sign_out_user,
    signed_in_staff,
    staff_required,
)
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import SignInForm, SignOutForm
from webapp.web.staff.view_helpers import ALL

SIGN_IN_LIMIT_ACCOUNT = (5, 15 * 60)   # attempts per account per 15 minutes
SIGN_IN_LIMIT_ADDRESS = (20, 15 * 60)  # attempts per address per 15 minutes


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    form = SignInForm()
    user = current_staff()
    if request.method == "GET":
        if user is not None:
            return redirect(url_for("staff.home"))
        form.next.data = request.args.get("next", "")
        expired = request.args.get("expired") == "1"
        return render_template("staff/sign_in.html", form=form, expired=expired, failed=False)
    failed = False
    if form.validate_on_submit():
        email = normalise_email(form.email.data)
        account_key = "staff-sign-in:" + hashlib.sha256(email.encode()).hexdigest()[:32]
        too_many = rate_limited("staff-sign-in-addr:" + client_address(), *SIGN_IN_LIMIT_ADDRESS)
        too_many = rate_limited(account_key, *SIGN_IN_LIMIT_ACCOUNT) or too_many
        if too_many:
            raise UserError(_("Too many sign-in attempts. Wait 15 minutes and try again."), 429)
        user = authenticate(db.session(), email, form.password.data)
        if user is not None:
            sign_in_user(user)
            g.staff_user = user
            record_staff_change(db.session(), user, "staff.sign_in", "staff_user", user.id,
                                pilot_id=user.pilot_id, provider_id=user.provider_id)
            db.session().commit()
            return redirect(safe_next(form.next.data) or url_for("staff.home"))
        failed = True
    return render_template("staff/sign_in.html", form=form, expired=False, failed=failed), 400


@bp.post("/sign-out")
def sign_out() -> ResponseReturnValue:
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("staff.sign_in"))


@bp.get("/")
@staff_required(*ALL)
def home() -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    unit_count = sess.scalar(select(func.count(Unit.id)).where(unit_scope(user)))
    pilot = sess.get(Pilot, user.pilot_id) if user.pilot_id else None
    provider = sess.get(Provider, user.provider_id) if user.provider_id else None
    return render_template("staff/home.html", unit_count=unit_count, pilot=pilot, provider=provider)
