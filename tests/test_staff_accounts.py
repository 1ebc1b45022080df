"""Staff accounts: argon2 hashes, the create-staff command, demo accounts kept out of the repository."""
from __future__ import annotations

import json
import stat
from pathlib import Path

from sqlalchemy import select

from webapp.accounts.staff import authenticate, describe_demo_accounts
from webapp.models import Provider, StaffUser
from webapp.web import db


def test_create_staff_command(app, monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "a long enough password")
    runner = app.test_cli_runner()
    with app.app_context():
        y = db.session().scalar(select(Provider.y_tunnus).order_by(Provider.id).limit(1))
    result = runner.invoke(args=["create-staff", "--email", "Editor@Example.fi", "--name", "Eeva Editor",
                                 "--role", "provider_editor", "--provider", y])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session().scalar(select(StaffUser).where(StaffUser.email == "editor@example.fi"))
        assert user.password_hash.startswith("$argon2")
        assert authenticate(db.session(), "editor@example.fi", "a long enough password").id == user.id
        assert authenticate(db.session(), "editor@example.fi", "wrong") is None
    again = runner.invoke(args=["create-staff", "--email", "editor@example.fi", "--name", "X", "--role", "auditor"])
    assert again.exit_code != 0 and "exists already" in again.output
    no_pilot = runner.invoke(args=["create-staff", "--email", "pm@example.fi", "--name", "X", "--role",
                                   "pilot_manager"])
    assert no_pilot.exit_code != 0 and "--pilot" in no_pilot.output
    monkeypatch.setenv("STAFF_PASSWORD", "short")
    short = runner.invoke(args=["create-staff", "--email", "a@example.fi", "--name", "X", "--role", "auditor"])
    assert short.exit_code != 0 and "12 characters" in short.output


def test_demo_accounts_one_per_role_with_private_password_file(sqlite_template):
    path = Path(sqlite_template) / "dev-staff-accounts.json"
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    passwords = json.loads(path.read_text())
    assert len(passwords) == 4 and all(len(p) >= 12 for p in passwords.values())


def test_demo_accounts_roles_and_scope(app):
    with app.app_context():
        users = {u.role: u for u in db.session().scalars(select(StaffUser))}
        assert set(users) == {"admin", "pilot_manager", "provider_editor", "auditor"}
        assert users["pilot_manager"].pilot_id is not None and users["provider_editor"].provider_id is not None


def test_nothing_printed_in_production(app):
    app.config["APP_ENV"] = "production"
    with app.app_context():
        assert describe_demo_accounts(instance_dir=app.config.get("INSTANCE_DIR"), app_env=app.config["APP_ENV"]) == []
