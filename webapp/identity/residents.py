"""The resident row behind a strongly identified person: created or updated from the population register."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.identity.person import RegisterRecord
from webapp.models import Resident


def put_resident(sess: Session, key: str, record: RegisterRecord) -> Resident:
    """Create or update the resident with `key` from the register record, in the caller's transaction.
    The register is the source of truth: a move or a care decision changes the rules."""
    resident = sess.scalar(select(Resident).where(Resident.key == key))
    if resident is None:
        resident = Resident(key=key)
        sess.add(resident)
    resident.birth_date = record.birth_date
    resident.home_municipality_code = record.home_municipality_code
    resident.in_institutional_care = record.in_institutional_care
    sess.flush()
    return resident
