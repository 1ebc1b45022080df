"""The domain's words in the reader's language, without the web layer.

Domain modules mark and translate their messages with `gettext` (`_`), `ngettext`, `lazy_gettext` (`_l`)
and switch language with `force_locale`, all from here. Which catalogue and which language answer is the
web layer's business: `webapp.web.i18n` installs a translator backed by Flask-Babel when the app starts.
Until one is installed (pure tests, scripts) messages come back untranslated, with their variables filled in.
"""
from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Any, Protocol

from babel.dates import format_date as babel_format_date
from babel.support import LazyProxy


class Translator(Protocol):
    def gettext(self, message: str, **variables: Any) -> str: ...
    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str: ...
    def force_locale(self, locale: str) -> AbstractContextManager[None]: ...
    def format_date(self, value: date, fmt: str) -> str: ...
    def current_lang(self) -> str: ...


class Untranslated:
    """The messages as written (English), dates in Finnish: what a script without the app sees."""

    def gettext(self, message: str, **variables: Any) -> str:
        return message % variables if variables else message

    def ngettext(self, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        return (singular if num == 1 else plural) % variables

    def force_locale(self, locale: str) -> AbstractContextManager[None]:
        return nullcontext()

    def format_date(self, value: date, fmt: str) -> str:
        return babel_format_date(value, format=fmt, locale="fi")

    def current_lang(self) -> str:
        return "fi"


_translator: Translator = Untranslated()


def install(translator: Translator) -> None:
    """Called once by the web layer; every later call of the functions below goes through `translator`."""
    global _translator  # the one process-wide seam, set at start-up
    _translator = translator


def gettext(message: str, **variables: Any) -> str:
    return _translator.gettext(message, **variables)


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    return _translator.ngettext(singular, plural, num, **variables)


class LazyText(LazyProxy):
    """A message translated when it is shown, in the language of that moment (labels defined at import)."""

    def __html__(self) -> str:  # templates and JSON treat it as the text it becomes, as Flask-Babel's did
        return str(self)


def lazy_gettext(message: str, **variables: Any) -> LazyText:
    return LazyText(gettext, message, enable_cache=False, **variables)


def force_locale(locale: str) -> AbstractContextManager[None]:
    """Translate in `locale` for a while (e-mail to a resident in their own language)."""
    return _translator.force_locale(locale)


def format_date(value: date | None, fmt: str = "medium") -> str:
    """A date in the reader's language."""
    return "" if value is None else _translator.format_date(value, fmt)


def current_lang() -> str:
    """The reader's site language: fi, sv or en."""
    return _translator.current_lang()
