"""Staff views: the unit list, editing, creating and hiding units, and adding providers."""
from __future__ import annotations

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from webapp.choice.locking import Locks
from webapp.core.collation import collation_key
from webapp.core.validation import is_whole_number
from webapp.models import Municipality, Pilot, Provider, Unit, with_collections
from webapp.units import fields as uf
from webapp.units import use_cases
from webapp.units.permissions import may_edit_unit, may_see_unit, unit_scope
from webapp.units.validation import municipality_in_pilot_error, validate
from webapp.units.vocab import ELEMENTS, SECTORS, SERVICE_LANGUAGES, SERVICES, SERVICES_BY_ELEMENT, WEEKDAYS
from webapp.web import db
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import NewUnitForm, ProviderForm, UnitForm, VisibilityForm
from webapp.web.staff.view_helpers import (
    ALL,
    MANAGERS,
    PER_PAGE,
    WRITERS,
    fill_from_waiting_list,
    page_number,
    scope_pilots,
    scope_providers,
)

# --- units -----------------------------------------------------------------------------------------

@bp.get("/units")
@staff_required(*ALL)
def units() -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    q = (request.args.get("q") or "").strip()[:100]
    page = page_number()
    stmt = select(Unit).where(unit_scope(user))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Unit.name_fi).like(like), func.lower(Unit.name_sv).like(like)))
    total = sess.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = sess.scalars(stmt.order_by(Unit.name_fi, Unit.id)
                        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).unique().all()
    return render_template("staff/units.html", units=rows, q=q, page=page, pages=max(1, -(-total // PER_PAGE)),
                           total=total, can_create=user.role in WRITERS)


def _load_unit(unit_id: int, write: bool) -> Unit:
    user = signed_in_staff()
    sess = db.session()
    if write:
        # A save decides on the unit's counters (the capacity may not go below the listed customers), which
        # choices change meanwhile: lock the row first (BEGIN IMMEDIATE on SQLite), then read it.
        if sess.in_transaction():
            sess.rollback()
        sess.connection(execution_options={"sqlite_immediate": True})
        Locks(sess).units([unit_id])
    unit = sess.get(Unit, unit_id, options=with_collections(), populate_existing=write)
    if unit is None:
        abort(404)
    allowed = may_edit_unit(user, unit) if write else may_see_unit(user, unit)
    if not allowed:
        abort(403)
    return unit


def _choices_for(form: UnitForm, element: str | None, municipalities: list[Municipality]) -> None:
    lang = current_lang()
    form.municipality_code.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(m.code, m.name(lang)) for m in sorted(municipalities, key=lambda m: collation_key(m.name(lang)))]
    service_codes = SERVICES_BY_ELEMENT.get(element, ()) if element else list(SERVICES)
    form.services.choices = [SelectChoice(c, str(SERVICES[c])) for c in service_codes]
    form.languages.choices = [SelectChoice(c, str(v)) for c, v in SERVICE_LANGUAGES.items()]


def _fill_form(form: UnitForm, unit: Unit) -> None:
    snap = uf.snapshot(unit)
    for f in (*uf.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone", "email", "website", "capacity"):
        form[f].data = snap[f]
    form.accepting_new.data = unit.accepting_new
    form.services.data = unit.service_codes
    form.languages.data = unit.language_codes
    for f in (*uf.FACT_FIELDS, *uf.NOTE_FIELDS):
        form[f].data = snap[f]
    for day in range(7):
        form[f"hours_{day}"].data = ", ".join(f"{uf.fmt_time(h.opens)}-{uf.fmt_time(h.closes)}"
                                              for h in unit.opening_hours if h.weekday == day)
    form.exceptions.data = "\n".join(snap["exceptions"].split("|")) if snap["exceptions"] else ""
    form.version.data = str(unit.version)


def _raw_from_form(form: UnitForm, unit: Unit | None) -> tuple[dict[str, str], dict[str, str]]:
    """The form as canonical-format strings, and errors of the per-weekday hour fields."""
    raw = {f: form[f].data or "" for f in (*uf.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone",
                                          "email", "website", "capacity")}
    raw["accepting_new"] = "yes" if form.accepting_new.data else "no"
    raw["hidden"] = "yes" if unit is not None and unit.is_hidden else "no"
    for f in ("services", "languages"):
        raw[f] = "|".join(form[f].data or [])
    for f in (*uf.FACT_FIELDS, *uf.NOTE_FIELDS):
        raw[f] = form[f].data or ""
    hour_errors: dict[str, str] = {}
    items = []
    for day in range(7):
        text = (form[f"hours_{day}"].data or "").strip()
        for part in [p.strip() for p in re.split(r"[,;]", text) if p.strip()]:
            if uf.parse_interval(part) is None:
                hour_errors[f"hours_{day}"] = _("“%(value)s” is not an interval such as 08:00-16:00.", value=part)
            else:
                items.append(f"{uf.WEEKDAY_CODES[day]} {part}")
    raw["opening_hours"] = "" if hour_errors else "|".join(items)
    lines = [line.strip() for line in (form.exceptions.data or "").splitlines() if line.strip()]
    if any("|" in line for line in lines):
        hour_errors["exceptions"] = _("A note may have at most 200 characters and no “|”.")
    raw["exceptions"] = "|".join(lines)
    return raw, hour_errors


def _validate_form(form: UnitForm, unit: Unit | None, element: str, pilot: Pilot | None) -> dict[str, str] | None:
    sess = db.session()
    raw, errors = _raw_from_form(form, unit)
    values, more = validate(sess, raw, element=element, unit=unit)
    for key, msg in more.items():
        if key == "opening_hours":
            key = next((f"hours_{d}" for d in range(7) if f"hours_{d}" not in errors), "hours_0")
        errors.setdefault(key, msg)
    if pilot is not None and "municipality_code" not in errors:
        outside = municipality_in_pilot_error(pilot, values["municipality_code"])
        if outside:
            errors["municipality_code"] = outside
    for key, msg in errors.items():
        if key in form:
            form[key].errors = [msg]
    return None if errors else values


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@staff_required(*ALL)
def unit_edit(unit_id: int) -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    unit = _load_unit(unit_id, write=request.method == "POST")
    form = UnitForm()
    _choices_for(form, unit.element, [m.municipality for m in unit.pilot.municipalities])
    readonly = not may_edit_unit(user, unit)
    conflict = None
    status = 200
    if request.method == "GET":
        _fill_form(form, unit)
    elif form.validate_on_submit():
        submitted_version = (form.version.data or "").strip()
        values = _validate_form(form, unit, unit.element, unit.pilot)
        if not is_whole_number(submitted_version):
            raise UserError(_("The form is missing the unit's version. Open the page again."), 400)
        outcome = use_cases.save_unit_edit(sess, user, unit, values, int(submitted_version))
        if outcome.status == "unchanged":
            flash(_("Nothing was changed."), "success")
            return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        if outcome.status == "saved":
            fill_from_waiting_list(sess, unit.id)  # capacity raised or the unit reopened: the queue moves
            flash(_("The changes were saved."), "success")
            return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        if outcome.status == "conflict":
            unit = _reload(sess, unit)
            conflict = _conflict_rows(sess, form, unit, int(submitted_version))
            form = UnitForm(formdata=None)
            _choices_for(form, unit.element, [m.municipality for m in unit.pilot.municipalities])
            _fill_form(form, unit)
            status = 409
        else:
            status = 400
    else:
        status = 400
    hidden_form = VisibilityForm()
    hidden_form.version.data = str(unit.version)
    return render_template("staff/unit_form.html", fact_fields=uf.FACT_FIELDS, form=form, unit=unit, readonly=readonly,
                           conflict=conflict, hidden_form=hidden_form, new=False, weekdays=WEEKDAYS), status


def _reload(sess: Session, unit: Unit) -> Unit:
    """The unit as saved now (after a conflict the session may have been rolled back)."""
    fresh = sess.get(Unit, unit.id)
    if fresh is None:
        abort(404)
    return fresh


def _conflict_rows(sess: Session, form: UnitForm, unit: Unit, submitted_version: int) -> list[tuple[str, str, str]]:
    """Fields that differ between what this editor sent and what is saved now (changed meanwhile)."""
    raw, _errors = _raw_from_form(form, unit)
    values, _more = validate(sess, raw, element=unit.element, unit=unit)
    return [(uf.label(key), sent, saved) for key, sent, saved in
            use_cases.conflicting_fields(sess, unit, values, submitted_version)]


@bp.post("/units/<int:unit_id>/visibility")
@staff_required(*WRITERS)
def unit_visibility(unit_id: int) -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    unit = _load_unit(unit_id, write=True)
    form = VisibilityForm()
    if not form.validate_on_submit() or not is_whole_number(form.version.data or ""):
        abort(400)
    outcome = use_cases.toggle_unit_flag(sess, user, unit, "hidden", int(form.version.data))
    if outcome.status == "conflict":
        flash(_("Someone else changed the unit meanwhile. Check the current details and try again."), "error")
        return redirect(url_for("staff.unit_edit", unit_id=unit_id))
    if outcome.queue_may_move:
        fill_from_waiting_list(sess, unit.id)
    flash(_("The unit is now hidden from residents.") if unit.is_hidden else _("The unit is now shown to residents."),
          "success")
    return redirect(url_for("staff.unit_edit", unit_id=unit.id))


@bp.route("/units/new", methods=["GET", "POST"])
@staff_required(*WRITERS)
def unit_new() -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    lang = current_lang()
    pilots = scope_pilots(user)
    providers = scope_providers(user)
    form = NewUnitForm()
    munis = {m.municipality.code: m.municipality for p in pilots for m in p.municipalities}
    _choices_for(form, None, list(munis.values()))
    form.pilot.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(p.slug, p.name(lang)) for p in pilots]
    form.provider.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(p.y_tunnus, f"{p.name} ({p.y_tunnus})") for p in providers]
    form.element.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(c, str(v)) for c, v in ELEMENTS.items()]
    status = 200
    if request.method == "GET":
        form.accepting_new.data = True
        form.languages.data = ["fi"]
    elif form.validate_on_submit():
        pilot = next((p for p in pilots if p.slug == form.pilot.data), None)
        provider = next((p for p in providers if p.y_tunnus == form.provider.data), None)
        errors = {}
        if pilot is None:
            errors["pilot"] = _("Choose the pilot.")
        if provider is None:
            errors["provider"] = _("Choose the provider.")
        element = form.element.data or ""
        if element not in ELEMENTS:
            errors["element"] = _("Choose the type of unit.")
        elif pilot is not None and pilot.element(element) is None:
            errors["element"] = _("This pilot has no element “%(value)s”.", value=str(ELEMENTS[element]))
        values = _validate_form(form, None, element if element in ELEMENTS else "sote_centre", pilot)
        for key, msg in errors.items():
            form[key].errors = [msg]
        # A missing pilot or provider has its entry in `errors`; naming them here narrows them for the call.
        if values is not None and not errors and pilot is not None and provider is not None:
            change = use_cases.create_unit_by_staff(sess, user, pilot, provider, element, values)
            flash(_("The unit was created."), "success")
            return redirect(url_for("staff.unit_edit", unit_id=change.unit.id))
        status = 400
    else:
        status = 400
    return render_template("staff/unit_form.html", fact_fields=uf.FACT_FIELDS, form=form, unit=None, readonly=False,
                           conflict=None, hidden_form=None, new=True, weekdays=WEEKDAYS), status


# --- providers --------------------------------------------------------------------------------------

@bp.route("/providers/new", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def provider_new() -> ResponseReturnValue:
    user = signed_in_staff()
    sess = db.session()
    form = ProviderForm()
    form.sector.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(c, str(v)) for c, v in SECTORS.items()]
    status = 200
    if request.method == "POST":
        ok = form.validate_on_submit()
        y = uf.normalise_ytunnus(form.y_tunnus.data or "")
        if form.y_tunnus.data and y is None:
            form.y_tunnus.errors = [_("Enter a valid Y-tunnus: seven digits, a hyphen and a check digit, "
                                      "e.g. 1234567-1.")]
            ok = False
        elif y and sess.scalar(select(Provider).where(Provider.y_tunnus == y)):
            form.y_tunnus.errors = [_("A provider with this Y-tunnus exists already.")]
            ok = False
        if form.sector.data not in SECTORS:
            form.sector.errors = [_("Choose the sector.")]
            ok = False
        website = (form.website.data or "").strip()
        if website and not uf.WEBSITE_RE.match(website):
            form.website.errors = [_("Enter a web address starting with https:// or http://.")]
            ok = False
        # y is None only with an error above (an empty field fails InputRequired, a malformed one the check).
        if ok and y is not None:
            try:
                provider = use_cases.create_provider(sess, user, name=form.name.data.strip(), y_tunnus=y,
                                                     sector=form.sector.data, website=website)
            except use_cases.SavedMeanwhile:
                raise UserError(_("A provider with this Y-tunnus exists already."), 409) from None
            flash(_("The provider %(name)s was added.", name=provider.name), "success")
            return redirect(url_for("staff.unit_new"))
        status = 400
    return render_template("staff/provider_form.html", form=form), status
