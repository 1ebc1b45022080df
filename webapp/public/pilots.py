"""Placeholder: the pages work replaces this module."""
from flask import render_template_string

from webapp.public import bp


@bp.get("/pilots")
def pilots():
    return render_template_string("{% extends 'base.html' %}{% block title %}Pilots{% endblock %}{% block content %}<h1>Pilots</h1>{% endblock %}")


@bp.get("/pilots/<slug>")
def pilot(slug: str):
    return render_template_string("{% extends 'base.html' %}{% block title %}Pilot{% endblock %}{% block content %}<h1>Pilot</h1>{% endblock %}")
