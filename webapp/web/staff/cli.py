"""`flask create-staff` and `flask set-staff-password` (registered on the staff blueprint, no group)."""
from __future__ import annotations

import os

import click

from webapp.accounts.staff import AccountError, create_staff, set_password
from webapp.units.vocab import LANGS
from webapp.web import db
from webapp.web.staff.blueprint import bp


def _password() -> str:
    value = os.environ.get("STAFF_PASSWORD")
    if value:
        return value
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@bp.cli.command("create-staff")
@click.option("--email", required=True, help="Sign-in e-mail address.")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", required=True, type=click.Choice(["admin", "pilot_manager", "provider_editor", "auditor"]))
@click.option("--pilot", "pilot_slug", default=None, help="Pilot slug (pilot_manager only), e.g. uusimaa.")
@click.option("--provider", "provider_ytunnus", default=None, help="Provider's Y-tunnus (provider_editor only).")
@click.option("--language", default="fi", type=click.Choice(list(LANGS)))
def create_staff_command(email: str, name: str, role: str, pilot_slug: str | None, provider_ytunnus: str | None,
                         language: str) -> None:
    """Create a staff account. The password is read from STAFF_PASSWORD or prompted (min. 12 characters)."""
    sess = db.session()
    try:
        user = create_staff(sess, email=email, name=name, role=role, password=_password(), pilot_slug=pilot_slug,
                            provider_ytunnus=provider_ytunnus, language=language)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    sess.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@bp.cli.command("set-staff-password")
@click.option("--email", required=True)
def set_staff_password_command(email: str) -> None:
    """Set a new password for a staff account (STAFF_PASSWORD or prompted)."""
    sess = db.session()
    try:
        set_password(sess, email, _password())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None
    sess.commit()
    click.echo(f"Password changed for {email}.")
