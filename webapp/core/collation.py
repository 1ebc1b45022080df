"""Alphabetical order for Finnish and Swedish names: å, ä, ö after z; w sorted with v; other accents folded."""
from __future__ import annotations

import unicodedata

_COLLATE = str.maketrans({"å": "{", "ä": "|", "æ": "|", "ö": "}", "ø": "}", "w": "v"})


def collation_key(text: str) -> str:
    text = text.lower().translate(_COLLATE)
    folded = unicodedata.normalize("NFKD", text)
    return "".join(c for c in folded if not unicodedata.combining(c))
