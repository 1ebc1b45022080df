"""E-mail for notices: the outbox is sent by `flask send-notices` (and tried once right after a change).

Transports (MAIL_TRANSPORT): `smtp` (production only; SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD,
SMTP_SECURITY = starttls | ssl | none, MAIL_FROM), `file` (each mail an .eml file in MAIL_OUTBOX_DIR,
default instance/outbox) or `log`. Outside production mail never leaves the machine: `smtp` is
replaced by `file`. A failed send stays in the outbox and is tried again later with a growing delay;
it never touches the choice or message it tells about. Standard library only (smtplib, email).

No Flask here: the caller passes the settings (`settings_from(app.config)`) and, in tests, a transport that
replaces the configured one (webapp/web/choice/mail.py does both for the web layer and the CLI).
"""
from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from webapp.choice.message_text import message_text
from webapp.core.config import INSTANCE
from webapp.core.translation import force_locale
from webapp.core.translation import gettext as _
from webapp.models import Message, OutboxMail

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
# Sends one e-mail or raises: stands in for the configured transport (tests put a failing one in).
Transport = Callable[[EmailMessage], None]


def retry_delay(attempts: int) -> timedelta:
    """5 minutes after the first failure, doubling, at most 6 hours."""
    factor: int = 2 ** max(attempts - 1, 0)  # typeshed types int ** int as Any (a negative power is a float)
    return min(timedelta(minutes=5) * factor, timedelta(hours=6))


@dataclass
class MailSettings:
    transport: str
    sender: str
    outbox_dir: Path
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"


def settings_from(cfg: Mapping[str, Any]) -> MailSettings:
    """The mail settings from the app's configuration (`cfg`), then the environment, then the defaults."""

    def get(name: str, default: str | None = None) -> str | None:
        return cfg.get(name) or os.environ.get(name) or default

    default = "smtp" if cfg.get("APP_ENV") == "production" else (
        "log" if cfg.get("TESTING") and not get("MAIL_OUTBOX_DIR") else "file")  # tests: no files unless asked
    transport = (get("MAIL_TRANSPORT") or default).lower()
    if transport not in ("smtp", "file", "log"):
        transport = "file"
    if transport == "smtp" and cfg.get("APP_ENV") != "production":
        transport = "file"  # development and tests: never out
    instance = Path(cfg.get("INSTANCE_DIR") or INSTANCE)
    return MailSettings(transport=transport, sender=get("MAIL_FROM", "valinta@example.fi") or "valinta@example.fi",
                        outbox_dir=Path(get("MAIL_OUTBOX_DIR") or instance / "outbox"),
                        smtp_host=get("SMTP_HOST"), smtp_port=int(get("SMTP_PORT", "587") or "587"),
                        smtp_user=get("SMTP_USER"), smtp_password=get("SMTP_PASSWORD"),
                        smtp_security=(get("SMTP_SECURITY", "starttls") or "starttls").lower())


def deliver(mail: EmailMessage, s: MailSettings, transport: Transport | None = None) -> None:
    """Send one e-mail through `transport` when given, else as `s` says; raises on failure."""
    if transport is not None:
        transport(mail)
        return
    if s.transport == "log":
        log.info("e-mail to %s: %s", mail["To"], mail["Subject"])
        return
    if s.transport == "file":
        s.outbox_dir.mkdir(parents=True, exist_ok=True)
        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + ".eml"
        (s.outbox_dir / name).write_bytes(bytes(mail))
        return
    if not s.smtp_host:
        raise RuntimeError("SMTP_HOST is not set")
    context = ssl.create_default_context()
    client: smtplib.SMTP  # SMTP_SSL is an SMTP
    if s.smtp_security == "ssl":
        client = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=20, context=context)
    else:
        client = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=20)
    with client:
        if s.smtp_security == "starttls":
            client.starttls(context=context)
        if s.smtp_user:
            client.login(s.smtp_user, s.smtp_password or "")
        client.send_message(mail)


def compose(sess: Session, row: OutboxMail, s: MailSettings) -> EmailMessage:
    subject, body = row.subject, row.body
    if row.message_id is not None:
        message = sess.get(Message, row.message_id)
        assert message is not None  # an outbox row's message is never deleted before it
        with force_locale(row.language):
            text = message_text(message)
            subject = text.title
            body = "\n\n".join([text.title, *text.paragraphs, _(
                "You can read all your messages on the service's Messages page. You receive this e-mail because "
                "you asked for notices by e-mail; you can stop them on the same page.")]) + "\n"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = s.sender, row.to_address, subject
    mail["Message-ID"] = make_msgid(domain=s.sender.rsplit("@", 1)[-1])
    mail.set_content(body)
    return mail


def send_pending(sess: Session, s: MailSettings, *, transport: Transport | None = None, now: datetime | None = None,
                 limit: int = 200) -> tuple[int, int]:
    """Try every due mail once; returns (sent, failed). Each result is committed on its own."""
    now = now or datetime.now(UTC)
    due = list(sess.scalars(select(OutboxMail).where(
        OutboxMail.sent_at.is_(None), OutboxMail.gave_up.is_(False),
        or_(OutboxMail.next_attempt_at.is_(None), OutboxMail.next_attempt_at <= now))
        .order_by(OutboxMail.id).limit(limit)))
    sent = failed = 0
    for row in due:
        try:
            deliver(compose(sess, row, s), s, transport)
        except Exception as exc:  # noqa: BLE001  # any failure: keep it for a later try
            row.attempts += 1
            row.last_error = f"{exc.__class__.__name__}: {exc}"[:300]
            row.next_attempt_at = now + retry_delay(row.attempts)
            row.gave_up = row.attempts >= MAX_ATTEMPTS
            failed += 1
            log.warning("e-mail %s not sent (attempt %s): %s", row.id, row.attempts, row.last_error)
        else:
            row.attempts += 1
            row.sent_at = now
            sent += 1
        sess.commit()
    return sent, failed


def send_soon(sess: Session, s: MailSettings, *, transport: Transport | None = None) -> None:
    """Best effort right after a change; whatever fails waits for `flask send-notices`."""
    try:
        send_pending(sess, s, transport=transport, limit=20)
    except Exception:  # never turn a committed change into an error page
        sess.rollback()
        log.exception("sending the outbox failed; run flask send-notices")


def queue_verification(sess: Session, resident_id: int, email: str, lang: str, link: str) -> None:
    with force_locale(lang):
        subject = _("Confirm your e-mail address for notices")
        body = "\n\n".join([
            _("You gave this address for notices about your choices and waiting lists."),
            _("Confirm the address by opening this link within two days:") + "\n" + link,
            _("If you did not ask for this, you can ignore this e-mail: no notices will be sent to you.")]) + "\n"
    sess.add(OutboxMail(resident_id=resident_id, to_address=email, language=lang, subject=subject, body=body,
                        attempts=0, gave_up=False))
    sess.commit()
