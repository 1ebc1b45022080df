"""All models, imported here so that metadata and Alembic see every table."""
from webapp.core.db import Base
from webapp.models.choice import Choice, Resident
from webapp.models.geo import Municipality, Postcode
from webapp.models.ops import IndexChange, LoginSession
from webapp.models.pilot import Pilot, PilotElement, PilotMunicipality
from webapp.models.staff import ROLES, AuditEvent, RateLimitHit, StaffUser
from webapp.models.waiting import Message, NoticeAddress, OutboxMail, WaitingEntry
from webapp.models.unit import AccessibilitySentence, OpeningException, OpeningHours, Provider, QueueTime, Unit, UnitAccessibilityFact, UnitLanguage, UnitService, with_collections

__all__ = [
    "Base", "IndexChange", "LoginSession", "Choice", "Resident", "Municipality", "Postcode", "Pilot", "PilotElement", "PilotMunicipality",
    "ROLES", "AuditEvent", "RateLimitHit", "StaffUser", "OpeningException", "OpeningHours", "Provider",
    "QueueTime", "Unit", "AccessibilitySentence", "UnitAccessibilityFact", "UnitLanguage", "UnitService", "with_collections",
    "Message", "NoticeAddress", "OutboxMail", "WaitingEntry",
]
