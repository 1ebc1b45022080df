"""Sending the e-mail outbox from the web layer and the CLI: the app's mail settings and, when tests put one
in `app.extensions["mail_transport"]`, the transport that replaces them (webapp/choice/mail.py sends)."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from webapp.choice import mail
from webapp.choice.mail import MailSettings, Transport


def mail_settings() -> MailSettings:
    return mail.settings_from(current_app.config)


def mail_transport() -> Transport | None:
    """A transport tests put in place of the configured one (a failing one, a list's append)."""
    transport: Transport | None = current_app.extensions.get("mail_transport")
    return transport


def send_pending(sess: Session, now: datetime | None = None, limit: int = 200) -> tuple[int, int]:
    """Try every due mail once; returns (sent, failed)."""
    return mail.send_pending(sess, mail_settings(), transport=mail_transport(), now=now, limit=limit)


def send_soon(sess: Session) -> None:
    """Best effort right after a change; whatever fails waits for `flask send-notices`."""
    mail.send_soon(sess, mail_settings(), transport=mail_transport())
