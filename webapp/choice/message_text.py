"""A message of the inbox written out in the current language: a title and paragraphs.

Used by the Messages page and, under the address's language, by the e-mail sender, so that the
site and the e-mail say the same thing. Dates and unit names come from the message's parameters.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from webapp.choice.reasons import MESSAGE_FALLBACK, message_sentence
from webapp.core.translation import current_lang, format_date
from webapp.core.translation import gettext as _
from webapp.models import Message


@dataclass
class MessageText:
    title: str
    paragraphs: list[str]


def _d(value: str | None) -> str:
    return format_date(date.fromisoformat(value), "long") if value else ""


def _unit(params: dict[str, Any]) -> str:
    lang = current_lang()
    return str(params.get("unit_sv") if lang == "sv" and params.get("unit_sv") else params.get("unit_fi", ""))


def _reasons(params: dict[str, Any]) -> list[str]:
    """Why the resident was passed over, a sentence per reason (webapp/choice/reasons.py)."""
    out = []
    for r in params.get("reasons", []):
        text = message_sentence(r.get("code"))
        out.append(str(text) % {"date": _d(r.get("on"))} if text is not None else str(MESSAGE_FALLBACK))
    return out


def message_text(message: Message) -> MessageText:
    p, unit = message.params or {}, _unit(message.params or {})
    ref = _("Waiting list reference: %(reference)s", reference=p.get("entry", ""))
    if message.kind == "promoted":
        body = [_("A place became free at %(unit)s and you were next in its waiting list, so your choice was switched "
                  "to it.", unit=unit),
                _("The new choice takes effect on %(date)s. Its reference is %(reference)s.",
                  date=_d(p.get("effective_from")), reference=p.get("choice", ""))]
        body.append(_("It binds you until %(date)s.", date=_d(p.get("binding_until"))) if p.get("binding_until")
                    else _("The choice has no binding period."))
        body.append(_("You have left the waiting list. Until the choice takes effect you can cancel it in My choices."))
        return MessageText(_("You have been switched to %(unit)s", unit=unit), [*body, ref])
    if message.kind in ("skipped", "removed"):
        body = [_("On %(date)s a place became free at %(unit)s, but it could not be given to you:",
                  date=_d(p.get("on")), unit=unit), *_reasons(p)]
        if message.kind == "removed":
            body.append(_("Under the pilot's rules you have therefore been taken off the waiting list."))
            return MessageText(_("You have left the waiting list of %(unit)s", unit=unit), [*body, ref])
        body.append(_("You keep your place in the queue. The next free place can be yours when the reason has passed. "
                      "Your place in the queue is valid until %(date)s.", date=_d(p.get("expires_on"))))
        return MessageText(_("You were passed over in the queue of %(unit)s", unit=unit), [*body, ref])
    if message.kind == "expired":
        return MessageText(_("Your place in the queue of %(unit)s has expired", unit=unit), [
            _("You joined the waiting list on %(joined)s. Your place was valid until %(date)s and has now expired.",
              joined=_d(p.get("joined_on")), date=_d(p.get("expires_on"))),
            _("If you still want to switch to this unit, you can join its waiting list again."), ref])
    why = p.get("why")
    first = (_("You joined the waiting list of another unit, so you have left this one: a resident can wait for one "
               "unit at a time.") if why == "replaced"
             else _("You left the waiting list on %(date)s.", date=_d(p.get("on"))))
    return MessageText(_("You have left the waiting list of %(unit)s", unit=unit), [first, ref])
