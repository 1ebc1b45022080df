"""The resident's messages (inbox) and optional e-mail for notices: use cases without Flask.

A message is stored as a kind and its parameters and written out in the reader's language when shown
(webapp/choice/message_text.py). When the resident has a verified notice address, the same message
is put in the e-mail outbox in the same transaction, so a notice is never lost and a failed send
never undoes what it tells about; webapp/choice/mail.py sends the outbox.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from webapp.models import Message, NoticeAddress, OutboxMail

MESSAGE_KINDS = ("promoted", "skipped", "removed", "expired", "left")


def notify(sess: Session, resident_id: int, kind: str, params: dict[str, Any]) -> Message:
    """Add a message to the resident's inbox and, with a verified address, to the outbox.
    Runs inside the caller's transaction."""
    if kind not in MESSAGE_KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    message = Message(resident_id=resident_id, kind=kind, params=params)
    sess.add(message)
    sess.flush()
    address = sess.get(NoticeAddress, resident_id)
    if address is not None and address.verified_at is not None:
        sess.add(OutboxMail(resident_id=resident_id, to_address=address.email, language=address.language,
                            message_id=message.id, attempts=0, gave_up=False))
    return message


def messages_of(sess: Session, resident_id: int) -> list[Message]:
    return list(sess.scalars(select(Message).where(Message.resident_id == resident_id)
                             .order_by(Message.created_at.desc(), Message.id.desc())))


def unread_count(sess: Session, resident_id: int) -> int:
    return sess.scalar(select(func.count()).select_from(Message)
                       .where(Message.resident_id == resident_id, Message.read_at.is_(None))) or 0


def mark_read(sess: Session, resident_id: int) -> None:
    sess.execute(update(Message).where(Message.resident_id == resident_id, Message.read_at.is_(None))
                 .values(read_at=datetime.now(UTC)))
    sess.commit()


def notice_address(sess: Session, resident_id: int) -> NoticeAddress | None:
    return sess.get(NoticeAddress, resident_id)


def set_notice_address(sess: Session, resident_id: int, email: str, language: str) -> NoticeAddress:
    """Store a new address, unverified until the link is followed (the old one stops at once)."""
    address = sess.get(NoticeAddress, resident_id)
    if address is None:
        address = NoticeAddress(resident_id=resident_id, email=email, language=language)
        sess.add(address)
    else:
        address.email, address.language, address.verified_at = email, language, None
    sess.flush()
    return address


def verify_notice_address(sess: Session, resident_id: int, email: str) -> bool:
    """Mark the address verified when the link was made for the address now stored."""
    address = sess.get(NoticeAddress, resident_id)
    if address is None or address.email.lower() != email.lower():
        return False
    if address.verified_at is None:
        address.verified_at = datetime.now(UTC)
    sess.commit()
    return True


def remove_notice_address(sess: Session, resident_id: int) -> None:
    address = sess.get(NoticeAddress, resident_id)
    if address is not None:
        sess.delete(address)
    sess.commit()
