"""Staff accounts: argon2 password hashes, creation (flask create-staff) and the demo accounts.

Demo accounts (one per role) get random passwords when the seed creates them. In development the
passwords are kept in the instance folder (file mode 0600, never in the repository) so that
`flask print-dev-accounts` can show them; in production no demo account is created.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.fi import ytunnus

from webapp.models import ROLES, Pilot, Provider, StaffUser
from webapp.units.vocab import LANGS

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that a missing account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
MIN_PASSWORD_LENGTH = 12
DEV_FILE_NAME = "dev-staff-accounts.json"

DEMO_ACCOUNTS = (
    ("admin", "admin@staff.example.fi", "Demo Administrator"),
    ("pilot_manager", "pilot.manager@staff.example.fi", "Demo Pilot Manager (Uusimaa)"),
    ("provider_editor", "provider.editor@staff.example.fi", "Demo Provider Editor"),
    ("auditor", "auditor@staff.example.fi", "Demo Auditor"),
)
DEMO_PILOT_SLUG = "uusimaa"


class AccountError(ValueError):
    """A staff account cannot be created as asked; the message says why (English, for the CLI)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def authenticate(sess: Session, email: str, password: str) -> StaffUser | None:
    """The active account with this e-mail and password, or None (same work either way)."""
    user = sess.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email)))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        sess.commit()
    return user


def create_staff(sess: Session, *, email: str, name: str, role: str, password: str,
                 pilot_slug: str | None = None, provider_ytunnus: str | None = None,
                 language: str = "fi") -> StaffUser:
    email = normalise_email(email)
    if "@" not in email:
        raise AccountError("--email must be an e-mail address.")
    if not name.strip():
        raise AccountError("--name must not be empty.")
    if role not in ROLES:
        raise AccountError(f"--role must be one of {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if sess.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)):
        raise AccountError(f"An account with the e-mail {email} exists already.")
    pilot = provider = None
    if role == "pilot_manager":
        if not pilot_slug:
            raise AccountError("A pilot_manager needs --pilot SLUG.")
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == pilot_slug))
        if pilot is None:
            raise AccountError(f"No pilot with the slug {pilot_slug!r}.")
    elif pilot_slug:
        raise AccountError("--pilot is only for the pilot_manager role.")
    if role == "provider_editor":
        if not provider_ytunnus or not ytunnus.is_valid(provider_ytunnus):
            raise AccountError("A provider_editor needs --provider with a valid Y-tunnus, e.g. 1234567-1.")
        provider = sess.scalar(select(Provider).where(Provider.y_tunnus == ytunnus.format(provider_ytunnus)))
        if provider is None:
            raise AccountError(f"No provider with the Y-tunnus {provider_ytunnus}.")
    elif provider_ytunnus:
        raise AccountError("--provider is only for the provider_editor role.")
    user = StaffUser(email=email, display_name=name.strip(), password_hash=hash_password(password), role=role,
                     pilot_id=pilot.id if pilot else None, provider_id=provider.id if provider else None,
                     language=language if language in LANGS else "fi", is_active=True)
    sess.add(user)
    sess.flush()
    return user


def set_password(sess: Session, email: str, password: str) -> StaffUser:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = sess.scalar(select(StaffUser).where(func.lower(StaffUser.email) == normalise_email(email)))
    if user is None:
        raise AccountError(f"No account with the e-mail {email}.")
    user.password_hash = hash_password(password)
    return user


def _is_production(app_env: str) -> bool:
    return app_env == "production"


def _demo_provider(sess: Session) -> Provider | None:
    """A private provider with units in the demo pilot (stable: the lowest id)."""
    from webapp.models import Unit
    return sess.scalar(select(Provider).join(Unit, Unit.provider_id == Provider.id)
                       .join(Pilot, Pilot.id == Unit.pilot_id)
                       .where(Pilot.slug == DEMO_PILOT_SLUG, Provider.sector == "private")
                       .order_by(Provider.id).limit(1))


def seed_demo_accounts(sess: Session, *, instance_dir: Path | str, app_env: str) -> str:
    """One demo account per role, with random passwords; idempotent. Nothing in production. `instance_dir` and
    `app_env`: the app's INSTANCE_DIR and APP_ENV (the passwords file is kept in the instance folder)."""
    if _is_production(app_env):
        return "no demo staff accounts in production (use flask create-staff)"
    made: dict[str, str] = {}
    provider = _demo_provider(sess)
    for role, email, name in DEMO_ACCOUNTS:
        if sess.scalar(select(StaffUser).where(StaffUser.email == email)):
            continue
        if role == "provider_editor" and provider is None:
            continue
        provider_ytunnus = provider.y_tunnus if role == "provider_editor" and provider is not None else None
        password = secrets.token_urlsafe(12)
        create_staff(sess, email=email, name=name, role=role, password=password,
                     pilot_slug=DEMO_PILOT_SLUG if role == "pilot_manager" else None,
                     provider_ytunnus=provider_ytunnus)
        made[email] = password
    if made:
        path = Path(instance_dir) / DEV_FILE_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        known: dict[str, str] = {}
        if path.exists():
            try:
                known = json.loads(path.read_text())
            except ValueError:
                known = {}
        known.update(made)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(known, fh, indent=1)
        path.chmod(0o600)
    return f"{len(made)} demo staff accounts" if made else ""


def describe_demo_accounts(*, instance_dir: Path | str, app_env: str) -> list[str]:
    """Lines for `flask print-dev-accounts` (development only); the arguments as for seed_demo_accounts."""
    if _is_production(app_env):
        return []
    path = Path(instance_dir) / DEV_FILE_NAME
    if not path.exists():
        return []
    try:
        known = json.loads(path.read_text())
    except ValueError:
        return []
    lines = ["Demo staff accounts (sign in at /fi/staff/sign-in):"]
    for role, email, _name in DEMO_ACCOUNTS:
        if email in known:
            lines.append(f"  {role:16} {email:36} password: {known[email]}")
    return lines
