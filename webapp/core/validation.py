"""Small input checks shared by forms, query strings and imports."""
from __future__ import annotations


def is_whole_number(text: str | None, max_digits: int = 9) -> bool:
    """ASCII digits only. str.isdigit() also accepts e.g. '²', which int() then rejects."""
    return text is not None and text.isascii() and text.isdigit() and 0 < len(text) <= max_digits
