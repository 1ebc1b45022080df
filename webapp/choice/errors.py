"""The two ways a choice or waiting-list use case says no, besides a refusal by the rules."""
from __future__ import annotations


class ChoiceNotFound(LookupError):
    """No such unit or choice (or not this resident's): shown as 404."""


class ChoiceConflict(Exception):
    """The request cannot be carried out in the current state; `code` says why."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
