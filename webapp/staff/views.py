"""Placeholder: the staff work replaces this module."""
from flask import render_template_string

from webapp.staff import bp


@bp.get("/sign-in")
def sign_in():
    return render_template_string("{% extends 'base.html' %}{% block title %}Staff{% endblock %}{% block content %}<h1>Staff</h1>{% endblock %}")
