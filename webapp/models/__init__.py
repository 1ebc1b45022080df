"""All models, imported here so that metadata and Alembic see every table."""
from webapp.core.db import Base
from webapp.models.choice import Choice, Resident
from webapp.models.geo import Municipality, Postcode
from webapp.models.ops import IndexChange, LoginSession
from webapp.models.pilot import Pilot, PilotElement, PilotMunicipality
from webapp.models.staff import ROLES, AuditEvent, RateLimitHit, StaffUser
from webapp.models.unit import (
    AccessibilitySentence,
    OpeningException,
    OpeningHours,
    Provider,
    QueueTime,
    Unit,
    UnitAccessibilityFact,
    UnitLanguage,
    UnitService,
    with_collections,
)
from webapp.models.waiting import Message, NoticeAddress, OutboxMail, WaitingEntry

__all__ = [
    "ROLES",
    "AccessibilitySentence",
    "AuditEvent",
    "Base",
    "Choice",
    "IndexChange",
    "LoginSession",
    "Message",
    "Municipality",
    "NoticeAddress",
    "OpeningException",
    "OpeningHours",
    "OutboxMail",
    "Pilot",
    "PilotElement",
    "PilotMunicipality",
    "Postcode",
    "Provider",
    "QueueTime",
    "RateLimitHit",
    "Resident",
    "StaffUser",
    "Unit",
    "UnitAccessibilityFact",
    "UnitLanguage",
    "UnitService",
    "WaitingEntry",
    "with_collections",
]
