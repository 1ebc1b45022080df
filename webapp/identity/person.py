"""What the rest of the site knows about identification: a verified person and the interfaces.

The choice code only ever sees :class:`VerifiedPerson` (through :func:`webapp.identity.session`)
and the resident id it leads to. A provider (test page, OIDC, ...) implements
webapp.web.identity.signin.IdentityProvider; the resident's facts for the rules come from a
:class:`PopulationRegister` (development: the seeded test persons; production: the Population
Information System, VTJ, through the Digital and Population Data Services Agency's interface).

The henkilötunnus is never shown in full, logged, put in a URL or stored in clear: residents are
keyed by HMAC-SHA256(RESIDENT_KEY_SECRET, normalised henkilötunnus).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as stdnum_hetu

_CENTURIES = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


class IdentificationFailed(Exception):
    """Identification could not be completed (cancelled, tampered, expired). The message is a
    code for logs, never personal data."""


@dataclass(frozen=True)
class VerifiedPerson:
    hetu: str = field(repr=False)  # never in repr, so never in a log line by accident
    given_name: str
    family_name: str
    home_municipality_code: str | None = None

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class RegisterRecord:
    """The facts the choice rules need, from the population register."""
    birth_date: date
    home_municipality_code: str
    in_institutional_care: bool = False
    language: str = "fi"  # fi | sv: the language of the register's record (äidinkieli/asiointikieli)


class PopulationRegister(Protocol):
    def lookup(self, hetu: str) -> RegisterRecord | None:
        """The person's register record, or None if the register has no such person."""


def normalise_hetu(value: str) -> str:
    """Upper-case, no whitespace, validated (test identities 900-999 allowed); raises ValueError."""
    try:
        return stdnum_hetu.validate(value, allow_temporary=True)
    except ValidationError:  # InvalidFormat, InvalidChecksum, …; the value itself is never echoed
        raise ValueError("invalid henkilötunnus") from None


def birth_date_of(hetu: str) -> date:
    h = normalise_hetu(hetu)
    return date(_CENTURIES[h[6]] + int(h[4:6]), int(h[2:4]), int(h[0:2]))


def mask_hetu(hetu: str) -> str:
    """'150190-902C' -> '150190-9***': the birth date and the sign of a test identity stay visible;
    the individual number and the check character are hidden, so that the mask cannot be turned
    back into the code (with the check character shown, only about three codes would fit)."""
    h = normalise_hetu(hetu)
    return f"{h[:8]}***"


def resident_key(secret: str, hetu: str) -> str:
    return hmac.new(secret.encode(), normalise_hetu(hetu).encode(), hashlib.sha256).hexdigest()


def hetu_for(birth: date, individual: int) -> str:
    """A valid henkilötunnus for `birth` and the individual number (900-999 for test identities)."""
    sign = {1800: "+", 1900: "-", 2000: "A"}[birth.year // 100 * 100]
    digits = f"{birth:%d%m}{birth.year % 100:02d}{individual:03d}"
    check = "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(digits) % 31]
    return normalise_hetu(f"{digits[:6]}{sign}{digits[6:]}{check}")
