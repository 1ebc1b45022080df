"""Staff views: CSV and PTV import (dry run, then apply) and the CSV export of units."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms.fields.choices import SelectChoice

from webapp.imports import pipeline, units_csv
from webapp.imports import ptv as ptv_import
from webapp.imports.pipeline import ImportFileError, Plan
from webapp.imports.ptv import PtvFileError
from webapp.models import Pilot, StaffUser, Unit, with_collections
from webapp.units.permissions import unit_scope
from webapp.units.vocab import ELEMENTS
from webapp.web import db
from webapp.web.clock import today as clock_today
from webapp.web.errors import UserError
from webapp.web.i18n import current_lang
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import ApplyImportForm, ImportForm, PtvImportForm
from webapp.web.staff.view_helpers import ALL, WRITERS, scope_pilots, scope_providers


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
    form.pilot.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(p.slug, p.name(lang)) for p in scope_pilots(user)]
    form.provider.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(p.y_tunnus, f"{p.name} ({p.y_tunnus})") for p in scope_providers(user)]
    form.element.choices = [SelectChoice("", _("Choose…"))] + [SelectChoice(c, str(v)) for c, v in ELEMENTS.items()]
    return form


def _render_import(form: ImportForm, ptv_form: PtvImportForm, plan: Plan | None = None,
                   apply_form: ApplyImportForm | None = None, status: int = 200,
                   ptv: bool = False) -> ResponseReturnValue:
    return render_template("staff/import.html", form=form, ptv_form=ptv_form, plan=plan, apply_form=apply_form,
                           ptv=ptv), status


def _read_upload(form_field: FileField, missing: str) -> bytes | None:
    upload = request.files.get(form_field.name)
    if upload is None or not upload.filename:
        form_field.errors = [missing]
        return None
    content = upload.read(current_app.config["MAX_CONTENT_LENGTH"] + 1)
    if len(content) > current_app.config["MAX_CONTENT_LENGTH"]:
        raise RequestEntityTooLarge()
    return content


def _plan(sess: Session, user: StaffUser, content: bytes, ptv: dict[str, str] | None) -> Plan:
    """The dry run of a CSV file, or of a PTV file for the pilot, provider and type in `ptv`.
    Raises ImportFileError or PtvFileError."""
    if ptv is None:
        return units_csv.plan(sess, user, content)
    pilot = next((p for p in scope_pilots(user) if p.slug == ptv["pilot"]), None)
    provider = next((p for p in scope_providers(user) if p.y_tunnus == ptv["provider"]), None)
    if pilot is None or provider is None or ptv["element"] not in ELEMENTS:
        raise ImportFileError(_("Choose the pilot, the provider and the type of unit."))
    items = ptv_import.read_file_items(content)
    return ptv_import.plan_import(sess, user, items, pilot, provider, ptv["element"], clock_today()).plan


def _dry_run(user: StaffUser, content: bytes, form: ImportForm, ptv_form: PtvImportForm, error_field: FileField,
             ptv: dict[str, str] | None = None) -> ResponseReturnValue:
    """Plan the import; keep the file server-side under a random token when it can be applied."""
    try:
        plan = _plan(db.session(), user, content, ptv)
    except (ImportFileError, PtvFileError) as exc:
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
        session["staff_import"] = {"token": token, "digest": plan.digest(), "user": user.id, "ptv": ptv}
        apply_form = ApplyImportForm()
        apply_form.token.data = token
    return _render_import(form, ptv_form, plan, apply_form, 200 if plan.ok else 422, ptv=ptv is not None)


@bp.route("/import", methods=["GET", "POST"])
@staff_required(*WRITERS)
def import_units() -> ResponseReturnValue:
    user = signed_in_staff()
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
def import_ptv() -> ResponseReturnValue:
    user = signed_in_staff()
    form = ImportForm()
    ptv_form = _ptv_form(user)
    if not ptv_form.validate_on_submit():
        abort(400)
    pilot = next((p for p in scope_pilots(user) if p.slug == ptv_form.pilot.data), None)
    provider = next((p for p in scope_providers(user) if p.y_tunnus == ptv_form.provider.data), None)
    element = ptv_form.element.data if ptv_form.element.data in ELEMENTS else None
    if pilot is None:
        ptv_form.pilot.errors = [_("Choose the pilot.")]
    if provider is None:
        ptv_form.provider.errors = [_("Choose the provider.")]
    if element is None:
        ptv_form.element.errors = [_("Choose the type of unit.")]
    content = _read_upload(ptv_form.file, _("Choose a JSON file."))
    # A missing pilot, provider or type has its error above; testing them here too narrows them for the call below.
    if content is None or pilot is None or provider is None or element is None or ptv_form.errors:
        return _render_import(form, ptv_form, status=400)
    return _dry_run(user, content, form, ptv_form, ptv_form.file,
                    {"pilot": pilot.slug, "provider": provider.y_tunnus, "element": element})


@bp.post("/import/apply")
@staff_required(*WRITERS)
def import_apply() -> ResponseReturnValue:
    user = signed_in_staff()
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
    ptv = pending.get("ptv")
    try:
        with db.write_transaction(sess):
            try:
                plan = _plan(sess, user, content, ptv)
            except (ImportFileError, PtvFileError):
                raise _PlanChanged() from None
            if not plan.ok or plan.digest() != pending.get("digest"):
                raise _PlanChanged()
            pipeline.apply(sess, user, plan, ptv_import.PTV if ptv else units_csv.CSV, pilot_id=user.pilot_id,
                           provider_id=user.provider_id)
    except (_PlanChanged, pipeline.CapacityTooLow):
        raise UserError(_("The units changed after the dry run, so nothing was imported. "
                          "Upload the file again for a new dry run."), 409) from None
    except StaleDataError:
        raise UserError(_("The units changed after the dry run, so nothing was imported. "
                          "Upload the file again for a new dry run."), 409) from None
    path.unlink(missing_ok=True)
    session.pop("staff_import", None)
    flash(_("Import done: %(created)d units created and %(changed)d changed.", created=len(plan.creates),
            changed=len(plan.changes)), "success")
    return redirect(url_for("staff.units"))


class _PlanChanged(Exception):
    pass


@bp.get("/export.csv")
@staff_required(*ALL)
def export_units() -> ResponseReturnValue:
    user = signed_in_staff()
    stmt = select(Unit).where(unit_scope(user)).order_by(Unit.id).options(*with_collections())
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
