"""Receipt references and request tokens of choices and waiting entries."""
from __future__ import annotations

import secrets

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read aloud
REFERENCE_LENGTH = 10


def new_reference() -> str:
    """An unguessable receipt reference: 10 characters from 32 (50 bits)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def is_reference(value: str) -> bool:
    return len(value) == REFERENCE_LENGTH and all(c in REFERENCE_ALPHABET for c in value)
