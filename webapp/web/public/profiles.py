"""The visitor's accessibility profiles: from the query string (a shared link keeps them), else
remembered in the session for the visit (no account needed)."""
from __future__ import annotations

from flask import request, session

from webapp.units.accessibility import PROFILE_REQUIREMENTS, assess

SESSION_KEY = "a11y_profiles"


def valid_profiles(values: list[str]) -> tuple[str, ...]:
    """Known profile codes, in the order of the profiles, once each (anything else is ignored)."""
    wanted = {v.strip() for v in values}
    return tuple(p for p in PROFILE_REQUIREMENTS if p in wanted)


def remembered_profiles() -> tuple[str, ...]:
    return valid_profiles(list(session.get(SESSION_KEY) or []))


def remember_profiles(profiles: tuple[str, ...]) -> None:
    if profiles:
        session[SESSION_KEY] = list(profiles)
    else:
        session.pop(SESSION_KEY, None)


def chosen_profiles() -> tuple[str, ...]:
    """For pages that show but do not choose profiles (unit page, comparison): the query string's
    `profile` values when given (and then remembered), else those remembered for the visit."""
    if "profile" in request.args:
        profiles = valid_profiles(request.args.getlist("profile"))
        remember_profiles(profiles)
        return profiles
    return remembered_profiles()


def assessments_for(facts: dict[str, bool], profiles: tuple[str, ...]):  # noqa: ANN201
    return assess(facts, profiles) if profiles else []
