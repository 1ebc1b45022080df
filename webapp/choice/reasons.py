"""What each reason code of the rules (webapp/choice/rules.py, REASON_CODES) says to the resident: ONE table.

The decision pages show `page` (or `dated` when the reason carries a date, or `upcoming` when that date is
still to come), through the template global `reason_text` (webapp/web/choice/reasons.py); the messages of a
waiting list (webapp/choice/message_text.py) show `message`, why a resident was passed over in the queue.
A sentence may use %(date)s (the reason's date), %(next)s (the day after it) and %(municipality)s (the
resident's home municipality). A new rule adds its code to REASON_CODES and its row here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.choice.rules import Reason
from webapp.core.translation import LazyText
from webapp.core.translation import lazy_gettext as _l


@dataclass(frozen=True)
class ReasonText:
    page: LazyText  # the decision page
    dated: LazyText | None = None  # the decision page when the reason carries a date
    upcoming: LazyText | None = None  # the decision page when that date is after today
    message: LazyText | None = None  # a waiting-list message: why the resident was passed over


REASONS: dict[str, ReasonText] = {
    "element_not_choosable": ReasonText(
        _l("This service is granted after an assessment of your service needs, so it cannot be chosen here. "
           "Contact the social and health services of the pilot.")),
    "unit_not_in_pilot": ReasonText(
        _l("This unit does not take choices in this pilot."),
        message=_l("The unit no longer takes choices in this pilot.")),
    "choice_period_closed": ReasonText(
        _l("The choice period of this pilot ended on %(date)s."),
        upcoming=_l("Choices in this pilot can be made from %(date)s."),
        message=_l("The pilot does not take choices on this day.")),
    "under_age": ReasonText(
        _l("The pilot is for adults. You turn 18 on %(date)s and can choose from that day."),
        message=_l("You are not yet 18. You turn 18 on %(date)s.")),
    "institutional_care": ReasonText(
        _l("Residents in institutional care are not part of the pilot: the care unit arranges your health care."),
        message=_l("Residents in institutional care are not part of the pilot.")),
    "not_resident_of_pilot_area": ReasonText(
        _l("Your home municipality, %(municipality)s, is not one of the pilot's municipalities. Only residents of "
           "the pilot area can choose its units."),
        message=_l("Your home municipality is no longer one of the pilot's municipalities.")),
    "unit_outside_home_municipality": ReasonText(
        _l("In this pilot you can only choose a unit in your home municipality, %(municipality)s."),
        message=_l("In this pilot you can only choose a unit in your home municipality.")),
    "same_unit": ReasonText(
        _l("This unit is already your current choice."),
        dated=_l("You have already chosen this unit. The choice takes effect on %(date)s."),
        message=_l("The unit is already your choice.")),
    "pending_choice_exists": ReasonText(
        _l("You already have a choice that takes effect on %(date)s. To choose another unit, first cancel that "
           "choice in My choices."),
        message=_l("You have another choice that takes effect on %(date)s.")),
    "locked_in_until": ReasonText(
        _l("Your current choice binds you until %(date)s. You can switch to another unit from %(next)s."),
        message=_l("Your current choice binds you until %(date)s.")),
    "switch_limit_reached": ReasonText(
        _l("This pilot does not allow switching to another unit."),
        dated=_l("You have already switched as many times as the pilot allows in 12 months. You can switch again "
                 "from %(date)s."),
        message=_l("You have already switched as many times as the pilot allows in 12 months.")),
    "unit_not_accepting": ReasonText(
        _l("The unit is not taking new customers at the moment."),
        message=_l("The unit is not taking new customers at the moment.")),
    "unit_full": ReasonText(_l("The unit is full: it has no free places for new customers.")),
    "waiting_list_first": ReasonText(
        _l("The unit's free places go first to the residents in its waiting list, in the order they joined it.")),
}
PAGE_FALLBACK = _l("The choice is not possible under the pilot's rules.")
MESSAGE_FALLBACK = _l("The switch is not possible under the pilot's rules.")


def page_text(reason: Reason, today: date | None) -> LazyText:
    """The decision page's sentence for `reason` on `today` (its placeholders still to fill)."""
    texts = REASONS.get(reason.code)
    if texts is None:
        return PAGE_FALLBACK
    if texts.upcoming is not None and reason.on is not None and today is not None and reason.on > today:
        return texts.upcoming
    if texts.dated is not None and reason.on is not None:
        return texts.dated
    return texts.page


def message_sentence(code: str | None) -> LazyText | None:
    """A waiting-list message's sentence for the reason code (placeholder %(date)s), None: the fallback."""
    texts = REASONS.get(code or "")
    return texts.message if texts is not None else None
