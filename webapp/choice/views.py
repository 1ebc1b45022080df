"""Placeholder: the choice work replaces this module."""
from flask import render_template_string

from webapp.choice import bp


@bp.get("/my-choices")
def my_choices():
    return render_template_string("{% extends 'base.html' %}{% block title %}My{% endblock %}{% block content %}<h1>My choices</h1>{% endblock %}")


@bp.get("/choose/<int:unit_id>")
def start(unit_id: int):
    return render_template_string("{% extends 'base.html' %}{% block title %}Choose{% endblock %}{% block content %}<h1>Choose</h1>{% endblock %}")
