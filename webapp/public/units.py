"""Placeholder: the pages work replaces this module."""
from flask import render_template_string

from webapp.public import bp


@bp.get("/units/<int:unit_id>")
def unit(unit_id: int):
    return render_template_string("{% extends 'base.html' %}{% block title %}Unit{% endblock %}{% block content %}<h1>Unit</h1>{% endblock %}")
