"""Identification pages: choose a method, the test identification page, OIDC, sign-out."""
from __future__ import annotations

import logging

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice

from webapp.identity.person import IdentificationFailed, VerifiedPerson
from webapp.seeding.test_persons import find_test_person, test_persons
from webapp.web import security
from webapp.web.clock import today
from webapp.web.errors import UserError
from webapp.web.identity.blueprint import bp
from webapp.web.identity.signin import NotInRegister, RegisterUnavailable, pop_return, sign_in, sign_out

log = logging.getLogger(__name__)
IDENTIFY_LIMIT = (10, 60)  # attempts per minute per address


class TestIdentifyForm(FlaskForm):
    person = RadioField(_l("Test person"), choices=[])


class SignOutForm(FlaskForm):
    pass


def _providers() -> dict:
    return current_app.extensions.get("identity_providers", {})


def _limit_identification() -> None:
    if security.rate_limited(f"identify:{security.client_address()}", *IDENTIFY_LIMIT):
        raise UserError(_("Too many identification attempts from your address. Wait a minute and try again."), 429)


def _finish(person: VerifiedPerson):  # noqa: ANN202
    try:
        _resident, language = sign_in(person)
    except RegisterUnavailable:
        log.error("identification: no population register configured")
        raise UserError(_("Identification is not available at the moment. Try again later."), 503) from None
    except NotInRegister:
        log.info("identification: person not found in the population register")
        raise UserError(_("Your details could not be found in the population register, so you cannot make a "
                          "choice in this service. Contact the social and health services of your area."),
                        403) from None
    log.info("identification: resident signed in")
    flash(_("You have identified yourself."), "success")
    # Back to the interrupted step; otherwise My choices in the language of the register record.
    return redirect(pop_return() or url_for("choice.my_choices", lang=language), code=303)


@bp.get("")
def identify() -> ResponseReturnValue:
    providers = _providers()
    return render_template("identity/identify.html", has_test="test" in providers, has_oidc="oidc" in providers)


@bp.route("/test", methods=["GET", "POST"])
def test_page() -> ResponseReturnValue:
    if "test" not in _providers():
        abort(404)
    persons = test_persons(today())
    form = TestIdentifyForm()
    form.person.choices = [SelectChoice(p.slug, f"{p.given_name} {p.family_name} ({p.masked}): {p.shows}")
                           for p in persons]
    if request.method == "POST":
        _limit_identification()
        if form.validate():
            person = find_test_person(form.person.data, today())
            if person is not None:
                return _finish(person.verified())
        form.person.errors = [_("Select a test person.")]
        return render_template("identity/test.html", form=form, persons=persons), 400
    return render_template("identity/test.html", form=form, persons=persons)


@bp.get("/oidc")
def oidc_start() -> ResponseReturnValue:
    provider = _providers().get("oidc")
    if provider is None:
        abort(404)
    _limit_identification()
    try:
        return provider.start(url_for("choice.my_choices"))
    except Exception:  # noqa: BLE001  identity provider unreachable
        log.warning("identification: OIDC provider metadata not available")
        raise UserError(_("Identification is not available at the moment. Try again later."), 503) from None


@bp.get("/oidc/callback")
def oidc_callback() -> ResponseReturnValue:
    provider = _providers().get("oidc")
    if provider is None:
        abort(404)
    _limit_identification()
    try:
        person = provider.complete(request)
    except IdentificationFailed as exc:
        log.info("identification failed: %s", exc)  # a code, never personal data
        raise UserError(_("Identification was not completed. Nothing was saved. Start the identification again."),
                        400) from None
    return _finish(person)


@bp.post("/sign-out", endpoint="sign_out")
def sign_out_view() -> ResponseReturnValue:
    SignOutForm()  # CSRF is checked for every POST by CSRFProtect
    sign_out()
    flash(_("You have signed out."), "success")
    return redirect(url_for("public.home"), code=303)
