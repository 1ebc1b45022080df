"""Messages (the resident's inbox) and the optional e-mail address for notices, verified by a
signed link that expires (itsdangerous, which Flask itself uses for its session cookie)."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from webapp.choice import inbox
from webapp.choice.mail import queue_verification
from webapp.choice.message_text import message_text
from webapp.web import db, security
from webapp.web.choice.blueprint import bp
from webapp.web.choice.mail import send_soon
from webapp.web.choice.views import _require_resident
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang

VERIFY_MAX_AGE = 2 * 24 * 3600  # the link works for two days
EMAIL_LIMIT = (5, 3600)  # verification mails per hour per resident


class EmailForm(FlaskForm):
    email = EmailField(_l("E-mail address for notices"), validators=[
        DataRequired(message=_l("Enter your e-mail address.")),
        Email(message=_l("Enter an e-mail address in the form name@example.fi."), check_deliverability=False),
        Length(max=254, message=_l("The e-mail address is too long."))])
    submit = SubmitField(_l("Send the confirmation link"))


class RemoveForm(FlaskForm):
    remove = SubmitField(_l("Stop notices by e-mail"))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="notice-email")


@bp.get("/messages")
def messages() -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.messages"))
    if redirect_ is not None:
        return redirect_
    sess = db.session()
    items = [(m, message_text(m)) for m in inbox.messages_of(sess, rid)]
    address = inbox.notice_address(sess, rid)
    page = render_template("choice/messages.html", items=items, address=address)
    inbox.mark_read(sess, rid)
    return page


@bp.route("/messages/email", methods=["GET", "POST"])
def notice_email() -> ResponseReturnValue:
    rid, redirect_ = _require_resident(url_for("choice.notice_email"))
    if redirect_ is not None:
        return redirect_
    sess = db.session()
    form, remove = EmailForm(), RemoveForm()
    if request.method == "POST" and "remove" in request.form:
        if not remove.validate():
            raise UserError(_("The form had expired or was sent twice. Nothing was saved. Open the page again and "
                              "resend the form."), 400)
        inbox.remove_notice_address(sess, rid)
        flash(_("Notices are no longer sent by e-mail. You will still find them on the Messages page."), "success")
        return redirect(url_for("choice.messages"), code=303)
    if request.method == "POST" and form.validate():
        if security.rate_limited(f"notice-email:{rid}", *EMAIL_LIMIT):
            raise UserError(_("Too many confirmation links in a short while. Wait an hour and try again."), 429)
        email = form.email.data.strip()
        inbox.set_notice_address(sess, rid, email, current_lang())
        sess.commit()
        token = _serializer().dumps({"r": rid, "e": email})
        queue_verification(sess, rid, email, current_lang(), url_for("choice.verify_email", token=token,
                                                                     _external=True))
        send_soon(sess)
        flash(_("We sent a confirmation link to %(email)s. Notices are sent by e-mail once you have opened the link.",
                email=email), "success")
        return redirect(url_for("choice.messages"), code=303)
    status = 400 if request.method == "POST" else 200
    return render_template("choice/notice_email.html", form=form, remove=remove,
                           address=inbox.notice_address(sess, rid)), status


@bp.get("/messages/email/verify/<token>")
def verify_email(token: str) -> ResponseReturnValue:
    try:
        data = _serializer().loads(token, max_age=VERIFY_MAX_AGE)
    except SignatureExpired:
        raise UserError(_("The confirmation link has expired. Give your e-mail address again to get a new link."),
                        410) from None
    except BadSignature:
        raise UserError(_("The confirmation link is not valid. Give your e-mail address again to get a new link."),
                        400) from None
    if not isinstance(data, dict) or not inbox.verify_notice_address(db.session(), int(data.get("r", 0)),
                                                                        str(data.get("e", ""))):
        raise UserError(_("The confirmation link is for an address that is no longer in use. Give your e-mail "
                          "address again to get a new link."), 409)
    return render_template("choice/email_verified.html", email=data["e"])
