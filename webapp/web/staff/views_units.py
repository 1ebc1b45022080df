"""Staff views: the unit list, editing, creating and hiding units, and adding providers."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from webapp.web import db
from webapp.choice.locking import Locks
from webapp.core.collation import collation_key
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.models import AuditEvent, Municipality, Pilot, Provider, Unit, with_collections
from webapp.web.staff.blueprint import bp
from webapp.units import unit_data as ud
from webapp.web.staff.auth import current_staff, may_edit_unit, may_see_unit, staff_required, unit_scope
from webapp.audit import changed_only, record
from webapp.web.staff.forms import NewUnitForm, ProviderForm, UnitForm, VisibilityForm
from webapp.web.staff.view_helpers import ALL, MANAGERS, PER_PAGE, WRITERS, page_number, scope_pilots, scope_providers
from webapp.core.validation import is_whole_number
from webapp.units.vocab import ELEMENTS, SECTORS, SERVICE_LANGUAGES, SERVICES, SERVICES_BY_ELEMENT, WEEKDAYS


# --- units -----------------------------------------------------------------------------------------

@bp.get("/units")
@staff_required(*ALL)
def units():
    user = current_staff()
    sess = db.session()
    q = (request.args.get("q") or "").strip()[:100]
    page = page_number()
    stmt = select(Unit).where(unit_scope(user))
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Unit.name_fi).like(like), func.lower(Unit.name_sv).like(like)))
    total = sess.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = sess.scalars(stmt.order_by(Unit.name_fi, Unit.id).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).unique().all()
    return render_template("staff/units.html", units=rows, q=q, page=page, pages=max(1, -(-total // PER_PAGE)),
                           total=total, can_create=user.role in WRITERS)


def _load_unit(unit_id: int, write: bool) -> Unit:
    user = current_staff()
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
    form.municipality_code.choices = [("", _("Choose…"))] + [(m.code, m.name(lang)) for m in
                                                             sorted(municipalities, key=lambda m: collation_key(m.name(lang)))]
    service_codes = SERVICES_BY_ELEMENT.get(element, ()) if element else list(SERVICES)
    form.services.choices = [(c, str(SERVICES[c])) for c in service_codes]
    form.languages.choices = [(c, str(v)) for c, v in SERVICE_LANGUAGES.items()]


def _fill_form(form: UnitForm, unit: Unit) -> None:
    snap = ud.snapshot(unit)
    for f in (*ud.TEXT_FIELDS, "postcode", "municipality_code", "lat", "lon", "phone", "email", "website", "capacity"):
        form[f].data = snap[f]
    form.accepting_new.data = unit.accepting_new
    form.services.data = unit.service_codes
    form.languages.data = unit.language_codes
    for f in (*ud.FACT_FIELDS, *ud.NOTE_FIELDS):
        form[f].data = snap[f]
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
    for f in ("services", "languages"):
        raw[f] = "|".join(form[f].data or [])
    for f in (*ud.FACT_FIELDS, *ud.NOTE_FIELDS):
        raw[f] = form[f].data or ""
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


def _fill_from_waiting_list(sess, unit_id: int) -> None:  # noqa: ANN001
    from webapp.web.choice.mail import send_soon
    from webapp.choice.promotion import promote_from_waiting_lists
    from webapp.web.clock import today
    if promote_from_waiting_lists(sess, [unit_id], today()).promoted:
        send_soon(sess)


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
                _fill_from_waiting_list(sess, unit.id)  # capacity raised or the unit reopened: the queue moves
                flash(_("The changes were saved."), "success")
                return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        else:
            status = 400
    else:
        status = 400
    hidden_form = VisibilityForm()
    hidden_form.version.data = str(unit.version)
    return render_template("staff/unit_form.html", fact_fields=ud.FACT_FIELDS, form=form, unit=unit, readonly=readonly, conflict=conflict,
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
    if not unit.is_hidden:
        _fill_from_waiting_list(sess, unit.id)
    flash(_("The unit is now hidden from residents.") if unit.is_hidden else _("The unit is now shown to residents."),
          "success")
    return redirect(url_for("staff.unit_edit", unit_id=unit.id))


@bp.route("/units/new", methods=["GET", "POST"])
@staff_required(*WRITERS)
def unit_new():
    user = current_staff()
    sess = db.session()
    lang = current_lang()
    pilots = scope_pilots(user)
    providers = scope_providers(user)
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
            flash(_("The unit was created."), "success")
            return redirect(url_for("staff.unit_edit", unit_id=unit.id))
        status = 400
    else:
        status = 400
    return render_template("staff/unit_form.html", fact_fields=ud.FACT_FIELDS, form=form, unit=None, readonly=False, conflict=None,
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
