"""Staff views: the audit log and the pilot figures (page and CSV)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import false, func, select

from webapp.choice import figures as figures_mod
from webapp.core.validation import is_whole_number
from webapp.imports import units_csv
from webapp.models import AuditEvent, Pilot, StaffUser
from webapp.web import db
from webapp.web.clock import today as clock_today
from webapp.web.errors import UserError
from webapp.web.staff.auth import signed_in_staff, staff_required
from webapp.web.staff.blueprint import bp
from webapp.web.staff.view_helpers import PER_PAGE, chosen_pilot, page_number, scope_pilots

# --- audit log -------------------------------------------------------------------------------------------

@bp.get("/audit")
@staff_required("admin", "auditor", "pilot_manager")
def audit() -> ResponseReturnValue:
    user = signed_in_staff()
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
                stmt = stmt.where(AuditEvent.at >= datetime.combine(day, dtime.min, tzinfo=UTC))
            else:
                stmt = stmt.where(AuditEvent.at < datetime.combine(day + timedelta(days=1), dtime.min, tzinfo=UTC))
    page = page_number()
    total = sess.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
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
    pilot = chosen_pilot(user)
    year_text = request.args.get("year") or str(clock_today().year)
    if not is_whole_number(year_text) or not 2000 <= int(year_text) <= 2100:
        raise UserError(_("The year is not valid."), 400)
    return pilot, int(year_text)


@bp.get("/figures")
@staff_required("admin", "auditor", "pilot_manager")
def figures() -> ResponseReturnValue:
    user = signed_in_staff()
    pilot, year = _figures_args(user)
    result = figures_mod.pilot_figures(db.session(), pilot, year, clock_today())
    return render_template("staff/figures.html", pilot=pilot, year=year, result=result,
                           pilots=scope_pilots(user) if user.role != "pilot_manager" else None,
                           age_groups=figures_mod.AGE_GROUPS)


@bp.get("/figures.csv")
@staff_required("admin", "auditor", "pilot_manager")
def figures_csv() -> ResponseReturnValue:
    user = signed_in_staff()
    pilot, year = _figures_args(user)
    result = figures_mod.pilot_figures(db.session(), pilot, year, clock_today())
    text = units_csv.csv_text(figures_mod.csv_rows(result))
    return Response(text.encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="figures-{pilot.slug}-{year}.csv"',
                             "Cache-Control": "no-store"})
