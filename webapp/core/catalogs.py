"""Message catalogues: extract, update and compile the three domains, and find untranslated messages.

Domains split the catalogue by area so that the public site, the choice journey and the staff
workspace each own a file: messages (public, api, shared), choice (choice, identity), staff.
"""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from webapp.core.config import ROOT

LOCALES = ("fi", "sv", "en")
TRANSLATIONS = ROOT / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None,
            "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3), "lazy_ngettext": (1, 2)}
OPTIONS = {"**.html": {"extensions": "jinja2.ext.do", "trimmed": "true"}}

# The first domain whose prefix a file's path starts with owns its messages.
DOMAIN_DIRS = {
    "staff": ("webapp/web/staff/", "webapp/imports/", "webapp/units/fields.py", "webapp/units/validation.py",
              "webapp/accounts/", "webapp/audit.py", "webapp/choice/figures.py", "webapp/web/cli_imports.py",
              "templates/staff/"),
    "choice": ("webapp/choice/", "webapp/identity/", "webapp/web/choice/", "webapp/web/identity/",
               "webapp/seeding/test_persons.py", "templates/choice/", "templates/identity/"),
    "search": ("webapp/search/", "webapp/web/api/", "webapp/web/search_params.py", "templates/search/",
               "webapp/web/public/search_views.py",
               "webapp/web/public/search_filters.py"),
}
DOMAINS = ("messages", "choice", "staff", "search")


def domain_of(path: str) -> str:
    for domain, prefixes in DOMAIN_DIRS.items():
        if path.startswith(prefixes):
            return domain
    return "messages"


def extract() -> dict[str, Catalog]:
    """Every message in webapp/ and templates/, sorted into its domain's template catalogue."""
    catalogs = {d: Catalog(project="valinta", charset="utf-8") for d in DOMAINS}
    for folder, method_map in (("webapp", [("**.py", "python")]), ("templates", [("**.html", "jinja2")])):
        for filename, lineno, message, comments, context in extract_from_dir(
                ROOT / folder, method_map, options_map=OPTIONS, keywords=KEYWORDS):
            domain = domain_of(f"{folder}/{filename}")
            catalogs[domain].add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments,
                                 context=context)
    return catalogs


def po_path(locale: str, domain: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def read(locale: str, domain: str) -> Catalog:
    path = po_path(locale, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain, charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain=domain)


def update(domains: tuple[str, ...] = DOMAINS) -> dict[str, int]:
    """Merge the extracted messages into each .po file of `domains`; returns the untranslated count per file."""
    missing = {}
    for domain, template in extract().items():
        if domain not in domains:
            continue
        for locale in LOCALES:
            catalog = read(locale, domain)
            created = catalog.creation_date
            catalog.update(template, no_fuzzy_matching=True)
            catalog.creation_date = created  # a fixed header: no merge conflict from the date alone
            path = po_path(locale, domain)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as fh:
                write_po(fh, catalog, width=100, omit_header=False, ignore_obsolete=True, sort_output=True,
                         include_lineno=False)
            missing[str(path.relative_to(ROOT))] = sum(1 for m in catalog if m.id and not m.string)
    return missing


def compile_all() -> int:
    count = 0
    for po in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"):
        locale, domain = po.parent.parent.name, po.stem
        catalog = read(locale, domain)
        buf = BytesIO()
        write_mo(buf, catalog, use_fuzzy=False)
        po.with_suffix(".mo").write_bytes(buf.getvalue())
        count += 1
    return count


def untranslated() -> list[str]:
    """Messages in the code with no Finnish, Swedish or English translation (or only a fuzzy one).

    The msgids are English, but an English page showing a msgid because its translation is missing does
    not count: the English catalogues must have every msgstr filled as well."""
    problems = []
    for domain, template in extract().items():
        for locale in LOCALES:
            catalog = read(locale, domain)
            for message in template:
                if not message.id:
                    continue
                found = catalog.get(message.id, context=message.context)
                strings = found.string if found else None
                if isinstance(strings, (tuple, list)):
                    ok = all(strings)
                else:
                    ok = bool(strings)
                if not ok or (found is not None and found.fuzzy):
                    where = message.locations[0] if message.locations else ("?", 0)
                    problems.append(f"{locale}/{domain}: {message.id!r} ({where[0]}:{where[1]})")
    return problems


def apply_translations(domain: str, mapping: dict[str, tuple[str, ...]]) -> int:
    """Write (fi, sv, en) translations for msgids into the domain's .po files (a tool for developers).

    A (fi, sv) pair leaves the English catalogue as it is, and None leaves that language as it is. For
    a plural message each item is itself a tuple (singular, plural)."""
    written = 0
    for index, locale in enumerate(LOCALES):
        catalog = read(locale, domain)
        for msgid, strings in mapping.items():
            message = catalog.get(msgid)
            if message is None or index >= len(strings) or strings[index] is None:
                continue
            message.string = strings[index]
            message.flags.discard("fuzzy")
            written += 1
        with po_path(locale, domain).open("wb") as fh:
            write_po(fh, catalog, width=100, ignore_obsolete=True, sort_output=True, include_lineno=False)
    return written
