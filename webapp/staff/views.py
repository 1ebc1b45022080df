"""Staff workspace: sign-in, units, providers, queue times, CSV import/export, audit log, figures."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path

from flask import (Response, abort, current_app, flash, g, redirect, render_template, request, session, url_for)
from flask_babel import gettext as _
from sqlalchemy import false, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge

from webapp import db
from webapp.clock import today as clock_today
from webapp.errors import UserError
from webapp.i18n import current_lang
from webapp.imports import units_csv
from webapp.models import (AuditEvent, Municipality, Pilot, Provider, QueueTime, StaffUser, Unit)
from webapp.security import client_address, rate_limited
from webapp.staff import bp, figures as figures_mod, unit_data as ud
from webapp.staff.accounts import authenticate, normalise_email
from webapp.staff.auth import (current_staff, may_edit_unit, may_see_unit, safe_next, sign_in_user, sign_out_user,
                               staff_required, unit_scope)
from webapp.staff.changes import changed_only, record, reindex
from webapp.validation import is_whole_number
from webapp.staff.forms import (ApplyImportForm, ImportForm, NewUnitForm, ProviderForm, PtvImportForm, QueueTimesForm,
                                SignInForm, SignOutForm, UnitForm, VisibilityForm)
from webapp.vocab import (DIRECT_CHOICE_ELEMENTS, ELEMENTS, FEATURES, PROFESSIONS, SECTORS, SERVICE_LANGUAGES,
                          SERVICES, SERVICES_BY_ELEMENT, WEEKDAYS)

ALL = ("admin", "pilot_manager", "provider_editor", "auditor")
WRITERS = ("admin", "pilot_manager", "provider_editor")
MANAGERS = ("admin", "pilot_manager")
PER_PAGE = 50
SIGN_IN_LIMIT_ACCOUNT = (5, 15 * 60)   # attempts per account per 15 minutes
SIGN_IN_LIMIT_ADDRESS = (20, 15 * 60)  # attempts per address per 15 minutes
PROFESSIONS_BY_ELEMENT = {"sote_centre": ("doctor", "nurse"), "oral_health": ("dentist", "dental_hygienist")}


@bp.context_processor
def _staff_context() -> dict:
    user = g.get("staff_user")
    return {"staff_user": user, "sign_out_form": SignOutForm() if user else None, "label": ud.label,
            "ROLE_LABELS": role_labels(), "ELEMENT_LABELS": {c: str(v) for c, v in ELEMENTS.items()},
            "PROFESSION_LABELS": {c: str(v) for c, v in PROFESSIONS.items()},
            "has_paper_choice": "staff.paper_choice" in current_app.view_functions}


@bp.after_request
def _no_store(response: Response) -> Response:
    """Staff pages and downloads hold data that must not stay in shared caches or the back button."""
    response.headers["Cache-Control"] = "no-store"
    return response


def role_labels() -> dict[str, str]:
    return {"admin": _("Administrator"), "pilot_manager": _("Pilot manager"), "provider_editor": _("Provider editor"),
            "auditor": _("Auditor")}


# --- sign-in ---------------------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
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
            record(db.session(), user, "staff.sign_in", "staff_user", user.id, None, None,
                   pilot_id=user.pilot_id, provider_id=user.provider_id)
            db.session().commit()
            return redirect(safe_next(form.next.data) or url_for("staff.home"))
        failed = True
    return render_template("staff/sign_in.html", form=form, expired=False, failed=failed), 400


@bp.post("/sign-out")
def sign_out():
    form = SignOutForm()
    if not form.validate_on_submit():
        abort(400)
    sign_out_user()
    flash(_("You have signed out."), "success")
    return redirect(url_for("staff.sign_in"))


@bp.get("/")
@staff_required(*ALL)
def home():
    user = current_staff()
    sess = db.session()
    unit_count = sess.scalar(select(func.count(Unit.id)).where(unit_scope(user)))
    pilot = sess.get(Pilot, user.pilot_id) if user.pilot_id else None
    provider = sess.get(Provider, user.provider_id) if user.provider_id else None
    return render_template("staff/home.html", unit_count=unit_count, pilot=pilot, provider=provider)


# --- units -----------------------------------------------------------------------------------------

@bp.get("/units")
@staff_required(*ALL)
def units():
    user = current_staff()
    sess = db.session()
    q = (request.args.get("q") or "").strip()[:100]
    page = _page()
    stmt = select(Unit).where(unit_scope(user))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Unit.name_fi).like(like), func.lower(Unit.name_sv).like(like)))
    total = sess.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = sess.scalars(stmt.order_by(Unit.name_fi, Unit.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).unique().all()
    return render_template("staff/units.html", units=rows, q=q, page=page, pages=max(1, -(-total // PER_PAGE)),
                           total=total, can_create=user.role in WRITERS)


def _page() -> int:
    value = request.args.get("page", "1")
    if not is_whole_number(value) or not 1 <= int(value) <= 100000:
        raise UserError(_("The page number is not valid."), 400)
    return int(value)


def _load_unit(unit_id: int, write: bool) -> Unit:
    user = current_staff()
    unit = db.session().get(Unit, unit_id)
    if unit is None:
        abort(404)
    allowed = may_edit_unit(user, unit) if write else may_see_unit(user, unit)
    if not allowed:
        abort(403)
    return unit


def _choices_for(form: UnitForm, element: str | None, municipalities: list[Municipality]) -> None:
    lang = current_lang()
    form.municipality_code.choices = [("", _("Choose…"))] + [(m.code, m.name(lang)) for m in
                                                             sorted(municipalities, key=lambda m: m.name(lang))]
    service_codes = SERVICES_BY_ELEMENT.get(element, ()) if element else list(SERVICES)
    form.services.choices = [(c, str(SERVICES[c])) for c in service_codes]
    form.languages.choices = [(c, str(v)) for c, v in SERVICE_LANGUAGES.items()]
    form.features.choices = [(c, str(v)) for c, v in FEATURES.items()]


def _fill_form(form: UnitForm, unit: Unit) -> None:
    snap = ud.snapshot(unit)
    for f in (*ud.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone", "email", "website", "capacity"):
        form[f].data = snap[f]
    form.accepting_new.data = unit.accepting_new
    form.services.data = unit.service_codes
    form.languages.data = unit.language_codes
    form.features.data = unit.feature_codes
    for day in range(7):
        form[f"hours_{day}"].data = ", ".join(f"{ud.fmt_time(h.opens)}-{ud.fmt_time(h.closes)}"
                                              for h in unit.opening_hours if h.weekday == day)
    form.exceptions.data = "\n".join(snap["exceptions"].split("|")) if snap["exceptions"] else ""
    form.version.data = str(unit.version)


def _raw_from_form(form: UnitForm, unit: Unit | None) -> tuple[dict[str, str], dict[str, str]]:
    """The form as canonical-format strings, and errors of the per-weekday hour fields."""
    raw = {f: form[f].data or "" for f in (*ud.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone",
                                          "email", "website", "capacity")}
    raw["accepting_new"] = "yes" if form.accepting_new.data else "no"
    raw["hidden"] = "yes" if unit is not None and unit.is_hidden else "no"
    for f in ("services", "languages", "features"):
        raw[f] = "|".join(form[f].data or [])
    hour_errors: dict[str, str] = {}
    items = []
    for day in range(7):
        text = (form[f"hours_{day}"].data or "").strip()
        for part in [p.strip() for p in re.split(r"[,;]", text) if p.strip()]:
            if ud.parse_interval(part) is None:
                hour_errors[f"hours_{day}"] = _("“%(value)s” is not an interval such as 08:00-16:00.", value=part)
            else:
                items.append(f"{ud.WEEKDAY_CODES[day]} {part}")
    raw["opening_hours"] = "" if hour_errors else "|".join(items)
    lines = [line.strip() for line in (form.exceptions.data or "").splitlines() if line.strip()]
    if any("|" in line for line in lines):
        hour_errors["exceptions"] = _("A note may have at most 200 characters and no “|”.")
    raw["exceptions"] = "|".join(lines)
    return raw, hour_errors


def _validate_form(form: UnitForm, unit: Unit | None, element: str, pilot: Pilot | None) -> dict[str, str] | None:
    sess = db.session()
    raw, errors = _raw_from_form(form, unit)
    values, more = ud.validate(sess, raw, element=element, unit=unit)
    for key, msg in more.items():
        if key == "opening_hours":
            key = next((f"hours_{d}" for d in range(7) if f"hours_{d}" not in errors), "hours_0")
        errors.setdefault(key, msg)
    if pilot is not None and "municipality_code" not in errors:
        msg = ud.municipality_in_pilot_error(pilot, values["municipality_code"])
        if msg:
            errors["municipality_code"] = msg
    for key, msg in errors.items():
        if key in form:
            form[key].errors = [msg]
    return None if errors else values


@bp.route("/units/<int:unit_id>", methods=["GET", "POST"])
@staff_required(*ALL)
def unit_edit(unit_id: int):
    user = current_staff()
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
        if int(submitted_version) != unit.version:
            conflict = _conflict_rows(form, unit, int(submitted_version))
            form = UnitForm(formdata=None)
            _choices_for(form, unit.element, [m.municipality for m in unit.pilot.municipalities])
            _fill_form(form, unit)
            status = 409
        elif values is not None:
            before_snap = ud.snapshot(unit)
            d = ud.diff(before_snap, values)
            if not d:
                flash(_("Nothing was changed."), "success")
                return redirect(url_for("staff.unit_edit", unit_id=unit.id))
            before, after = changed_only(d)
            before["version"] = unit.version
            try:
                ud.apply(unit, values)
                sess.flush()
                after["version"] = unit.version
                record(sess, user, "unit.update", "unit", unit.id, before, after, pilot_id=unit.pilot_id,
                       provider_id=unit.provider_id)
                sess.commit()
            except StaleDataError:
                sess.rollback()
                unit = sess.get(Unit, unit_id)
                conflict = _conflict_rows(form, unit, int(submitted_version))
                form = UnitForm(formdata=None)
                _choices_for(form, unit.element, [m.municipality for m in unit.pilot.municipalities])
                _fill_form(form, unit)
                status = 409
            else:
                reindex(sess, [unit.id])
                flash(_("The changes were saved."), "success")
                return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        else:
            status = 400
    else:
        status = 400
    hidden_form = VisibilityForm()
    hidden_form.version.data = str(unit.version)
    return render_template("staff/unit_form.html", form=form, unit=unit, readonly=readonly, conflict=conflict,
                           hidden_form=hidden_form, new=False, weekdays=WEEKDAYS), status


def _conflict_rows(form: UnitForm, unit: Unit, submitted_version: int) -> list[tuple[str, str, str]]:
    """Fields that differ between what this editor sent and what is saved now (changed meanwhile)."""
    raw, _errors = _raw_from_form(form, unit)
    values, _more = ud.validate(db.session(), raw, element=unit.element, unit=unit)
    current = ud.snapshot(unit)
    changed_meanwhile: set[str] = set()
    events = db.session().scalars(select(AuditEvent).where(AuditEvent.entity_type == "unit",
                                                           AuditEvent.entity_id == unit.id)).all()
    for event in events:
        version_before = (event.before or {}).get("version")
        if isinstance(version_before, int) and version_before >= submitted_version:
            changed_meanwhile.update(k for k in (event.after or {}) if k != "version")
    rows = []
    for key in ud.DATA_FIELDS:
        if key == "hidden":
            continue
        if values.get(key, "") != current.get(key, "") or key in changed_meanwhile:
            rows.append((ud.label(key), values.get(key, ""), current.get(key, "")))
    return rows


@bp.post("/units/<int:unit_id>/visibility")
@staff_required(*WRITERS)
def unit_visibility(unit_id: int):
    user = current_staff()
    sess = db.session()
    unit = _load_unit(unit_id, write=True)
    form = VisibilityForm()
    if not form.validate_on_submit() or not is_whole_number(form.version.data or ""):
        abort(400)
    if int(form.version.data) != unit.version:
        flash(_("Someone else changed the unit meanwhile. Check the current details and try again."), "error")
        return redirect(url_for("staff.unit_edit", unit_id=unit.id))
    before = {"hidden": "yes" if unit.is_hidden else "no", "version": unit.version}
    unit.is_hidden = not unit.is_hidden
    unit.updated_at = datetime.now(timezone.utc)
    try:
        sess.flush()
    except StaleDataError:
        sess.rollback()
        flash(_("Someone else changed the unit meanwhile. Check the current details and try again."), "error")
        return redirect(url_for("staff.unit_edit", unit_id=unit_id))
    record(sess, user, "unit.hide" if unit.is_hidden else "unit.show", "unit", unit.id, before,
           {"hidden": "yes" if unit.is_hidden else "no", "version": unit.version},
           pilot_id=unit.pilot_id, provider_id=unit.provider_id)
    sess.commit()
    reindex(sess, [unit.id])
    flash(_("The unit is now hidden from residents.") if unit.is_hidden else _("The unit is now shown to residents."),
          "success")
    return redirect(url_for("staff.unit_edit", unit_id=unit.id))


def _scope_pilots(user: StaffUser) -> list[Pilot]:
    stmt = select(Pilot).order_by(Pilot.slug)
    if user.role == "pilot_manager":
        stmt = stmt.where(Pilot.id == user.pilot_id)
    return list(db.session().scalars(stmt).unique())


def _scope_providers(user: StaffUser) -> list[Provider]:
    stmt = select(Provider).order_by(Provider.name)
    if user.role == "provider_editor":
        stmt = stmt.where(Provider.id == user.provider_id)
    return list(db.session().scalars(stmt))


@bp.route("/units/new", methods=["GET", "POST"])
@staff_required(*WRITERS)
def unit_new():
    user = current_staff()
    sess = db.session()
    lang = current_lang()
    pilots = _scope_pilots(user)
    providers = _scope_providers(user)
    form = NewUnitForm()
    munis = {m.municipality.code: m.municipality for p in pilots for m in p.municipalities}
    _choices_for(form, None, list(munis.values()))
    form.pilot.choices = [("", _("Choose…"))] + [(p.slug, p.name(lang)) for p in pilots]
    form.provider.choices = [("", _("Choose…"))] + [(p.y_tunnus, f"{p.name} ({p.y_tunnus})") for p in providers]
    form.element.choices = [("", _("Choose…"))] + [(c, str(v)) for c, v in ELEMENTS.items()]
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
        if values is not None and not errors:
            unit = Unit(pilot_id=pilot.id, provider_id=provider.id, element=element, is_demo=False, listed_count=0)
            sess.add(unit)
            with sess.no_autoflush:
                ud.apply(unit, values)
            sess.flush()
            record(sess, user, "unit.create", "unit", unit.id, None,
                   {**values, "pilot": pilot.slug, "provider_ytunnus": provider.y_tunnus, "element": element},
                   pilot_id=pilot.id, provider_id=provider.id)
            sess.commit()
            reindex(sess, [unit.id])
            flash(_("The unit was created."), "success")
            return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        status = 400
    else:
        status = 400
    return render_template("staff/unit_form.html", form=form, unit=None, readonly=False, conflict=None,
                           hidden_form=None, new=True, weekdays=WEEKDAYS), status


# --- providers --------------------------------------------------------------------------------------

@bp.route("/providers/new", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def provider_new():
    user = current_staff()
    sess = db.session()
    form = ProviderForm()
    form.sector.choices = [("", _("Choose…"))] + [(c, str(v)) for c, v in SECTORS.items()]
    status = 200
    if request.method == "POST":
        ok = form.validate_on_submit()
        y = ud.normalise_ytunnus(form.y_tunnus.data or "")
        if form.y_tunnus.data and y is None:
            form.y_tunnus.errors = [_("Enter a valid Y-tunnus: seven digits, a hyphen and a check digit, e.g. 1234567-1.")]
            ok = False
        elif y and sess.scalar(select(Provider).where(Provider.y_tunnus == y)):
            form.y_tunnus.errors = [_("A provider with this Y-tunnus exists already.")]
            ok = False
        if form.sector.data not in SECTORS:
            form.sector.errors = [_("Choose the sector.")]
            ok = False
        website = (form.website.data or "").strip()
        if website and not ud.WEBSITE_RE.match(website):
            form.website.errors = [_("Enter a web address starting with https:// or http://.")]
            ok = False
        if ok:
            provider = Provider(name=form.name.data.strip(), y_tunnus=y, sector=form.sector.data,
                                website=website or None, is_demo=False)
            sess.add(provider)
            try:
                sess.flush()
            except IntegrityError:
                sess.rollback()
                raise UserError(_("A provider with this Y-tunnus exists already."), 409) from None
            record(sess, user, "provider.create", "provider", provider.id, None,
                   {"name": provider.name, "y_tunnus": y, "sector": provider.sector, "website": website},
                   pilot_id=user.pilot_id, provider_id=provider.id)
            sess.commit()
            flash(_("The provider %(name)s was added.", name=provider.name), "success")
            return redirect(url_for("staff.unit_new"))
        status = 400
    return render_template("staff/provider_form.html", form=form), status


# --- queue times --------------------------------------------------------------------------------------

def _chosen_pilot(user: StaffUser) -> Pilot:
    sess = db.session()
    if user.role == "pilot_manager":
        pilot = sess.get(Pilot, user.pilot_id) if user.pilot_id else None
        if pilot is None:
            abort(403)
        return pilot
    slug = request.values.get("pilot") or "uusimaa"
    pilot = sess.scalar(select(Pilot).where(Pilot.slug == slug))
    if pilot is None:
        raise UserError(_("There is no such pilot."), 404)
    return pilot


@bp.route("/queue-times", methods=["GET", "POST"])
@staff_required(*MANAGERS)
def queue_times():
    user = current_staff()
    sess = db.session()
    pilot = _chosen_pilot(user)
    units_ = sess.scalars(select(Unit).where(Unit.pilot_id == pilot.id, Unit.element.in_(DIRECT_CHOICE_ELEMENTS))
                          .order_by(Unit.element, Unit.name_fi)).unique().all()
    from wtforms import StringField
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
            touched = set()
            for unit, prof, days in entries:
                row = sess.scalar(select(QueueTime).where(QueueTime.unit_id == unit.id, QueueTime.profession == prof,
                                                          QueueTime.measured_on == day))
                before = {f"{prof} {day.isoformat()}": row.t3_days} if row else None
                if row is None:
                    sess.add(QueueTime(unit_id=unit.id, profession=prof, t3_days=days, measured_on=day))
                elif row.t3_days == days:
                    continue
                else:
                    row.t3_days = days
                record(sess, user, "queue_time.set", "unit", unit.id, before, {f"{prof} {day.isoformat()}": days},
                       pilot_id=unit.pilot_id, provider_id=unit.provider_id)
                touched.add(unit.id)
            try:
                sess.commit()
            except IntegrityError:  # the same figures were saved at the same moment in another request
                sess.rollback()
                raise UserError(_("Someone saved queue times for the same day at the same moment. Nothing was "
                                  "saved from this form: reload the page and check the figures."), 409) from None
            reindex(sess, sorted(touched))
            flash(_("Queue times saved for %(n)d units.", n=len(touched)), "success")
            return redirect(url_for("staff.queue_times", pilot=pilot.slug) if user.role == "admin"
                            else url_for("staff.queue_times"))
        status = 400
    else:
        status = 400
    rows = [(unit, [(prof, form[f"t3_{unit.id}_{prof}"], unit.latest_queue_times().get(prof))
                    for prof in PROFESSIONS_BY_ELEMENT[unit.element]]) for unit in units_]
    return render_template("staff/queue_times.html", form=form, rows=rows, pilot=pilot,
                           pilots=_scope_pilots(user) if user.role == "admin" else None), status


# --- import and export ------------------------------------------------------------------------------------

def _import_dir() -> Path:
    path = Path(current_app.config.get("IMPORT_DIR") or Path(current_app.config["INDEX_DIR"]).parent / "imports")
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _remove_stale_uploads(folder: Path, max_age_seconds: int = 24 * 3600) -> None:
    """Uploads waiting for an apply are kept a day at most."""
    import time
    limit = time.time() - max_age_seconds
    for old in folder.glob("*.csv"):
        try:
            if old.stat().st_mtime < limit:
                old.unlink()
        except OSError:
            pass


TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _ptv_form(user: StaffUser) -> PtvImportForm:
    lang = current_lang()
    form = PtvImportForm(prefix="ptv")
    form.pilot.choices = [("", _("Choose…"))] + [(p.slug, p.name(lang)) for p in _scope_pilots(user)]
    form.provider.choices = [("", _("Choose…"))] + [(p.y_tunnus, f"{p.name} ({p.y_tunnus})") for p in _scope_providers(user)]
    form.element.choices = [("", _("Choose…"))] + [(c, str(v)) for c, v in ELEMENTS.items()]
    return form


def _render_import(form: ImportForm, ptv_form: PtvImportForm, plan=None, apply_form=None, status: int = 200):  # noqa: ANN001
    return render_template("staff/import.html", form=form, ptv_form=ptv_form, plan=plan, apply_form=apply_form), status


def _read_upload(form_field, missing: str) -> bytes | None:  # noqa: ANN001
    upload = request.files.get(form_field.name)
    if upload is None or not upload.filename:
        form_field.errors = [missing]
        return None
    content = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    if len(content) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()
    return content


def _dry_run(user: StaffUser, content: bytes, form: ImportForm, ptv_form: PtvImportForm, error_field):  # noqa: ANN001
    """Plan the import; keep the file server-side under a random token when it can be applied."""
    try:
        plan = units_csv.plan(db.session(), user, content)
    except units_csv.ImportFileError as exc:
        error_field.errors = [str(exc)]
        return _render_import(form, ptv_form, status=400)
    finally:
        db.session().rollback()
    apply_form = None
    if plan.ok and (plan.creates or plan.changes):
        token = secrets.token_hex(16)
        _remove_stale_uploads(_import_dir())
        path = _import_dir() / f"{token}.csv"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        old = session.get("staff_import")
        if old and TOKEN_RE.match(old.get("token", "")):
            (_import_dir() / f"{old['token']}.csv").unlink(missing_ok=True)
        session["staff_import"] = {"token": token, "digest": plan.digest(), "user": user.id}
        apply_form = ApplyImportForm()
        apply_form.token.data = token
    return _render_import(form, ptv_form, plan, apply_form, 200 if plan.ok else 422)


@bp.route("/import", methods=["GET", "POST"])
@staff_required(*WRITERS)
def import_units():
    user = current_staff()
    form = ImportForm()
    ptv_form = _ptv_form(user)
    if request.method == "GET":
        return _render_import(form, ptv_form)
    if not form.validate_on_submit():
        abort(400)
    content = _read_upload(form.file, _("Choose a CSV file."))
    if content is None:
        return _render_import(form, ptv_form, status=400)
    return _dry_run(user, content, form, ptv_form, form.file)


@bp.post("/import/ptv")
@staff_required(*WRITERS)
def import_ptv():
    from webapp.imports.ptv import ptv_to_csv
    user = current_staff()
    form = ImportForm()
    ptv_form = _ptv_form(user)
    if not ptv_form.validate_on_submit():
        abort(400)
    pilot = next((p for p in _scope_pilots(user) if p.slug == ptv_form.pilot.data), None)
    provider = next((p for p in _scope_providers(user) if p.y_tunnus == ptv_form.provider.data), None)
    element = ptv_form.element.data if ptv_form.element.data in ELEMENTS else None
    if pilot is None:
        ptv_form.pilot.errors = [_("Choose the pilot.")]
    if provider is None:
        ptv_form.provider.errors = [_("Choose the provider.")]
    if element is None:
        ptv_form.element.errors = [_("Choose the type of unit.")]
    content = _read_upload(ptv_form.file, _("Choose a JSON file."))
    if content is None or ptv_form.errors:
        return _render_import(form, ptv_form, status=400)
    try:
        csv_content = ptv_to_csv(db.session(), content, pilot, provider, element)
    except units_csv.ImportFileError as exc:
        ptv_form.file.errors = [str(exc)]
        return _render_import(form, ptv_form, status=400)
    return _dry_run(user, csv_content, form, ptv_form, ptv_form.file)


@bp.post("/import/apply")
@staff_required(*WRITERS)
def import_apply():
    user = current_staff()
    sess = db.session()
    form = ApplyImportForm()
    if not form.validate_on_submit():
        abort(400)
    pending = session.get("staff_import") or {}
    token = form.token.data or ""
    if not TOKEN_RE.match(token) or pending.get("token") != token or pending.get("user") != user.id:
        raise UserError(_("This import is not waiting to be applied. Upload the file again for a new dry run."), 400)
    path = _import_dir() / f"{token}.csv"
    if not path.exists():
        raise UserError(_("This import is not waiting to be applied. Upload the file again for a new dry run."), 400)
    content = path.read_bytes()
    try:
        with db.write_transaction(sess):
            plan = units_csv.plan(sess, user, content)
            if not plan.ok or plan.digest() != pending.get("digest"):
                raise _PlanChanged()
            touched = units_csv.apply_plan(sess, user, plan)
            record(sess, user, "import.apply", "import", None, None,
                   {"created": len(plan.creates), "changed": len(plan.changes), "unchanged": len(plan.unchanged)},
                   pilot_id=user.pilot_id, provider_id=user.provider_id)
    except _PlanChanged:
        raise UserError(_("The units changed after the dry run, so nothing was imported. Upload the file again for a new dry run."), 409) from None
    except StaleDataError:
        raise UserError(_("The units changed after the dry run, so nothing was imported. Upload the file again for a new dry run."), 409) from None
    path.unlink(missing_ok=True)
    session.pop("staff_import", None)
    reindex(sess, touched)
    flash(_("Import done: %(created)d units created and %(changed)d changed.", created=len(plan.creates),
            changed=len(plan.changes)), "success")
    return redirect(url_for("staff.units"))


class _PlanChanged(Exception):
    pass


@bp.get("/export.csv")
@staff_required(*ALL)
def export_units():
    user = current_staff()
    stmt = select(Unit).where(unit_scope(user)).order_by(Unit.id)
    slug = request.args.get("pilot")
    if slug:
        pilot = db.session().scalar(select(Pilot).where(Pilot.slug == slug))
        if pilot is None:
            raise UserError(_("There is no such pilot."), 404)
        stmt = stmt.where(Unit.pilot_id == pilot.id)
    text = units_csv.export_csv(list(db.session().scalars(stmt).unique()))
    name = f"units-{slug or 'all'}-{clock_today().isoformat()}.csv"
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# --- audit log -------------------------------------------------------------------------------------------

@bp.get("/audit")
@staff_required("admin", "auditor", "pilot_manager")
def audit():
    user = current_staff()
    sess = db.session()
    args = request.args
    stmt = select(AuditEvent)
    if user.role == "pilot_manager":  # fail closed: a manager without a pilot sees nothing
        stmt = stmt.where(AuditEvent.pilot_id == user.pilot_id if user.pilot_id else false())
    action = (args.get("action") or "").strip()[:40]
    entity = (args.get("entity") or "").strip()[:30]
    actor = (args.get("actor") or "").strip()[:200]
    errors = {}
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if entity:
        stmt = stmt.where(AuditEvent.entity_type == entity)
    if actor:
        ids = list(sess.scalars(select(StaffUser.id).where(func.lower(StaffUser.email).like(f"%{actor.lower()}%"))))
        stmt = stmt.where(AuditEvent.actor_type == "staff", AuditEvent.actor_id.in_(ids or [-1]))
    for key, op in (("from", "ge"), ("to", "le")):
        value = (args.get(key) or "").strip()
        if value:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                errors[key] = _("Enter the date in the form 2026-11-24.")
                continue
            if op == "ge":
                stmt = stmt.where(AuditEvent.at >= datetime.combine(day, dtime.min, tzinfo=timezone.utc))
            else:
                stmt = stmt.where(AuditEvent.at < datetime.combine(day + timedelta(days=1), dtime.min, tzinfo=timezone.utc))
    page = _page()
    total = sess.scalar(select(func.count()).select_from(stmt.subquery()))
    events = sess.scalars(stmt.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                          .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    actor_ids = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id}
    actors = {u.id: u for u in sess.scalars(select(StaffUser).where(StaffUser.id.in_(actor_ids or [-1])))}
    actions = sorted(sess.scalars(select(AuditEvent.action).distinct()))
    entities = sorted(sess.scalars(select(AuditEvent.entity_type).distinct()))
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("staff/audit.html", events=events, actors=actors, page=page,
                           pages=max(1, -(-total // PER_PAGE)), total=total, actions=actions, entities=entities,
                           filters={"action": action, "entity": entity, "actor": actor,
                                    "from": args.get("from", ""), "to": args.get("to", "")},
                           errors=errors, query=query), 400 if errors else 200


# --- figures ---------------------------------------------------------------------------------------------

def _figures_args(user: StaffUser) -> tuple[Pilot, int]:
    pilot = _chosen_pilot(user)
    year_text = request.args.get("year") or str(clock_today().year)
    if not is_whole_number(year_text) or not 2000 <= int(year_text) <= 2100:
        raise UserError(_("The year is not valid."), 400)
    return pilot, int(year_text)


@bp.get("/figures")
@staff_required("admin", "auditor", "pilot_manager")
def figures():
    user = current_staff()
    pilot, year = _figures_args(user)
    result = figures_mod.pilot_figures(db.session(), pilot, year, clock_today())
    return render_template("staff/figures.html", pilot=pilot, year=year, result=result,
                           pilots=_scope_pilots(user) if user.role != "pilot_manager" else None,
                           age_groups=figures_mod.AGE_GROUPS)


@bp.get("/figures.csv")
@staff_required("admin", "auditor", "pilot_manager")
def figures_csv():
    user = current_staff()
    pilot, year = _figures_args(user)
    result = figures_mod.pilot_figures(db.session(), pilot, year, clock_today())
    text = units_csv.csv_text(figures_mod.csv_rows(result))
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="figures-{pilot.slug}-{year}.csv"',
                             "Cache-Control": "no-store"})
