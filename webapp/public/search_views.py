"""Placeholder: the search work replaces this module."""
from flask import render_template_string

from webapp.public import bp


@bp.get("/search")
def search():
    return render_template_string("{% extends 'base.html' %}{% block title %}Search{% endblock %}{% block content %}<h1>Search</h1>{% endblock %}")
