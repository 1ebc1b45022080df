"""Shared by the staff view modules: role groups, paging, the pilots and providers a user may pick, and the
blueprint-wide hooks (template context, no-store caching). The routes live in the views_*.py modules."""
from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.validation import is_whole_number
from webapp.models import ROLES, Pilot, Provider, StaffUser
from webapp.units.fields import label
from webapp.units.permissions import WRITE_ROLES
from webapp.units.vocab import ELEMENTS, PROFESSIONS
from webapp.web import db
from webapp.web.errors import UserError
from webapp.web.staff.blueprint import bp
from webapp.web.staff.forms import SignOutForm

ALL = ROLES
WRITERS = WRITE_ROLES
MANAGERS = ("admin", "pilot_manager")
PER_PAGE = 50


@bp.context_processor
def _staff_context() -> dict[str, Any]:
    user = g.get("staff_user")
    return {"staff_user": user, "sign_out_form": SignOutForm() if user else None, "label": label,
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


def page_number() -> int:
    value = request.args.get("page", "1")
    if not is_whole_number(value) or not 1 <= int(value) <= 100000:
        raise UserError(_("The page number is not valid."), 400)
    return int(value)


def scope_pilots(user: StaffUser) -> list[Pilot]:
    stmt = select(Pilot).order_by(Pilot.slug)
    if user.role == "pilot_manager":
        stmt = stmt.where(Pilot.id == user.pilot_id)
    return list(db.session().scalars(stmt).unique())


def scope_providers(user: StaffUser) -> list[Provider]:
    stmt = select(Provider).order_by(Provider.name)
    if user.role == "provider_editor":
        stmt = stmt.where(Provider.id == user.provider_id)
    return list(db.session().scalars(stmt))


def chosen_pilot(user: StaffUser) -> Pilot:
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


def fill_from_waiting_list(sess: Session, unit_id: int) -> None:
    """After a save that may have freed places (capacity raised, the unit shown again): webapp/choice moves
    the unit's waiting list and sends the notices. Called here, in the web layer, because webapp/units sits
    below webapp/choice."""
    from webapp.choice.promotion import promote_from_waiting_lists
    from webapp.web.choice.mail import send_soon
    from webapp.web.clock import today
    if promote_from_waiting_lists(sess, [unit_id], today()).promoted:
        send_soon(sess)
