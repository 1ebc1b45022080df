"""Home, about, accessibility statement, and the language redirect at /."""
from __future__ import annotations

from flask import current_app, redirect, render_template, url_for
from sqlalchemy import select

from webapp import db
from webapp.i18n import preferred_lang
from webapp.models import Pilot
from webapp.public import bp


def _root():
    return redirect(url_for("public.home", lang=preferred_lang()), code=302)


@bp.record_once
def _add_root(state) -> None:  # noqa: ANN001
    state.app.add_url_rule("/", "root", _root)


@bp.get("/")
def home():
    pilots = db.session().scalars(select(Pilot).order_by(Pilot.name_fi)).all()
    return render_template("public/home.html", pilots=pilots)


@bp.get("/about")
def about():
    return render_template("public/about.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("public/accessibility.html", app_env=current_app.config["APP_ENV"])
