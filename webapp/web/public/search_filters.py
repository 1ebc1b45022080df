"""The search page's filter form as plain data, rendered by templates/search/_filters.html.

A search page may list hundreds of facet options. WTForms renders each option through a widget and a
translation call; here labels are translated once per language (vocabulary_labels) and the
options are joined as strings. The markup is the same as templates/_forms.html makes for WTForms fields
(the same ids, attributes in the same order), so the error summary and the browser checks see no change.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from webapp.core.collation import collation_key
from webapp.search import SORTS, Reference, SearchParams
from webapp.units.vocab import (
    ACCESSIBILITY_FACTS,
    ACCESSIBILITY_PROFILES,
    ELEMENTS,
    FACT_MISSING,
    FEATURES,
    PROFESSIONS,
    SECTORS,
    SERVICE_LANGUAGES,
    SERVICES,
)
from webapp.web.search_params import FIELD_LABELS, SORT_LABELS, ParamError

_labels: dict[str, dict[str, Any]] = {}  # per language: the vocabulary's labels (immutable while a process runs)


def vocabulary_labels(lang: str) -> dict[str, Any]:
    """Labels of codes (per group: code -> label) and fixed texts in `lang`; call in a request in that language."""
    labels = _labels.get(lang)
    if labels is None:
        vocabs = {"element": ELEMENTS, "sector": SECTORS, "service": SERVICES, "language": SERVICE_LANGUAGES,
                  "feature": FEATURES, "profile": ACCESSIBILITY_PROFILES, "fact": ACCESSIBILITY_FACTS,
                  "fact_missing": FACT_MISSING, "profession": PROFESSIONS}
        labels = {group: {c: str(v) for c, v in vocab.items()} for group, vocab in vocabs.items()}
        labels.update(all_pilots=_("All pilots"), all_types=_("All types"), all_municipalities=_("All municipalities"))
        _labels[lang] = labels
    return labels


def attributes(**attrs: object) -> Markup:
    """HTML attributes as WTForms' html_params writes them: sorted, True as a bare name, None/False left out."""
    parts = []
    for key in sorted(attrs):
        value = attrs[key]
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-") if key.startswith(("aria_", "data_")) else key.rstrip("_")
        parts.append(name if value is True else f'{name}="{escape(value)}"')
    return Markup(" ".join(parts))


@dataclass
class Field:
    """One form control: what the _filters.html macros and the error summary need."""
    name: str
    label_text: str
    kind: str  # text | select | checkboxes | checkbox
    value: str = ""
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # (value, label, selected)
    attrs: dict = field(default_factory=dict)
    groups: dict[str, str] = field(default_factory=dict)  # option value -> its group, for a long list

    @property
    def id(self) -> str:
        return self.name

    @property
    def label(self) -> SimpleNamespace:
        return SimpleNamespace(text=self.label_text)

    def describedby(self, hint: bool) -> str:
        return " ".join(p for p in ((f"{self.id}-hint" if hint else ""), (f"{self.id}-error" if self.errors else ""))
                        if p)

    def control(self, hint: bool = False) -> Markup:
        """The <input> or <select> of a text, select or single checkbox field."""
        desc = self.describedby(hint) or None
        invalid = "true" if self.errors else None
        if self.kind == "select":
            options = self._options()
            attrs = attributes(aria_describedby=desc, aria_invalid=invalid, id=self.id, name=self.name)
            return Markup(f"<select {attrs}>{options}</select>")
        if self.kind == "checkbox":
            checked = bool(self.value)
            attrs = attributes(aria_describedby=desc, checked=checked, id=self.id, name=self.name, type="checkbox",
                               value="1")
            return Markup(f"<input {attrs}>")
        attrs = attributes(aria_describedby=desc, aria_invalid=invalid, id=self.id, name=self.name, value=self.value,
                           **self.attrs)
        return Markup(f"<input {attrs}>")

    def _options(self) -> str:
        def option(v: str, text: str, sel: bool) -> str:
            return f'<option {"selected " if sel else ""}value="{escape(v)}">{escape(text)}</option>'
        if len(self.options) <= GROUP_OVER or not self.groups:
            return "".join(option(*o) for o in self.options)
        # A long list (a region's or the country's municipalities) in groups, as people look one up:
        # region first, then the municipality in alphabetical order.
        ungrouped = [o for o in self.options if o[0] not in self.groups]
        by_group: dict[str, list] = {}
        for o in self.options:
            if o[0] in self.groups:
                by_group.setdefault(self.groups[o[0]], []).append(o)
        out = [option(*o) for o in ungrouped]
        for name in sorted(by_group, key=collation_key):
            grouped = "".join(option(*o) for o in by_group[name])
            out.append(f'<optgroup label="{escape(name)}">{grouped}</optgroup>')
        return "".join(out)

    def checkboxes(self) -> Markup:
        """The options of a checkbox group, one <div class="choice"> each."""
        out = []
        for i, (v, text, sel) in enumerate(self.options):
            oid = f"{self.name}-{i}"
            out.append(f'<div class="choice"><input {"checked " if sel else ""}id="{oid}" name="{self.name}" '
                       f'type="checkbox" value="{escape(v)}"> <label for="{oid}">{escape(text)}</label></div>')
        return Markup("\n".join(out))


class Filters:
    """All the fields of the search form; form[name] as the error summary expects."""

    def __init__(self, fields: list[Field], errors: list[ParamError]):
        self.fields = {f.name: f for f in fields}
        self.errors = {e.parameter: [e.detail] for e in errors}
        for e in errors:
            if e.parameter in self.fields:
                self.fields[e.parameter].errors = [e.detail]

    def __getattr__(self, name: str) -> Field:
        try:
            return self.__dict__["fields"][name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str):  # noqa: ANN204
        if name in self.fields:
            return self.fields[name]
        return SimpleNamespace(id="filters-heading", label=SimpleNamespace(text=str(FIELD_LABELS.get(name, name))))


GROUP_OVER = 25  # a select with more options than this is grouped (municipalities by region)


def _counted(text: str, count: int | None) -> str:
    return text if count is None else f"{text} ({count})"


TEXT_ATTRS: dict[str, dict[str, object]] = {
    "q": {"type": "search", "maxlength": 200, "autocomplete": "off"},
    "postcode": {"type": "text", "inputmode": "numeric", "autocomplete": "postal-code", "maxlength": 5,
                 "class_": "input-short"},
    "radius_km": {"type": "text", "inputmode": "decimal", "class_": "input-short"},
    "max_t3_doctor": {"type": "text", "inputmode": "numeric", "class_": "input-short"},
    "max_t3_nurse": {"type": "text", "inputmode": "numeric", "class_": "input-short"},
}


def build_filters(args, params: SearchParams, facets: dict[str, dict[str, int]], ref: Reference,  # noqa: ANN001
                  errors: list[ParamError]) -> Filters:
    """The form for `args` (the raw query string, shown back as typed) with facet counts."""
    has_facets = bool(facets)
    labels = vocabulary_labels(ref.lang)

    def count(group: str, value: str) -> int | None:
        return facets.get(group, {}).get(value, 0) if has_facets else None

    def raw(name: str) -> str:
        values = args.getlist(name)
        return values[0] if values else ""

    fields = [Field(name, str(FIELD_LABELS[name]), "text", value=raw(name), attrs=attrs)
              for name, attrs in TEXT_ATTRS.items()]

    def select(name: str, empty: str, choices: list[tuple[str, str]]) -> Field:
        current = raw(name) if name in args else None  # WTForms: nothing selected when the parameter is absent
        options = [("", empty, current == "")] + [(v, text, v == current) for v, text in choices]
        return Field(name, str(FIELD_LABELS[name]), "select", options=options)

    fields.append(select("pilot", labels["all_pilots"],
                         [(slug, _counted(name, count("pilot", slug))) for slug, name in ref.pilots]))
    fields.append(select("element", labels["all_types"],
                         [(c, _counted(text, count("element", c))) for c, text in labels["element"].items()]))
    municipality = select("municipality", labels["all_municipalities"], [
        (code, _counted(name, count("municipality", code))) for code, name in ref.municipalities
        if not has_facets or count("municipality", code) or code == params.municipality])
    municipality.groups = {code: ref.regions[code] for code, _name in ref.municipalities if ref.regions.get(code)}
    fields.append(municipality)

    def multi(name: str, group: str, selected: tuple[str, ...]) -> Field:
        chosen = set(args.getlist(name))
        options = [(c, _counted(text, count(group, c)), c in chosen) for c, text in labels[group].items()
                   if not has_facets or count(group, c) or c in selected]
        return Field(name, str(FIELD_LABELS[name]), "checkboxes", options=options)

    fields += [multi("service", "service", params.services), multi("language", "language", params.languages),
               multi("feature", "feature", params.features), multi("sector", "sector", params.sectors)]
    fields.append(Field("accepting", _counted(str(FIELD_LABELS["accepting"]), count("accepting", "1")), "checkbox",
                        value="1" if params.accepting else ""))
    # Accessibility profiles rank rather than filter: every profile is always offered, without counts.
    chosen_profiles = set(params.profiles)
    fields.append(Field("profile", str(FIELD_LABELS["profile"]), "checkboxes",
                        options=[(c, text, c in chosen_profiles) for c, text in labels["profile"].items()]))
    fields.append(Field("profile_only", str(FIELD_LABELS["profile_only"]), "checkbox",
                        value="1" if params.profile_only else ""))
    sorts = [s for s in SORTS if s != "distance" or params.postcode]
    current_sort = params.sort if params.sort in sorts else raw("sort")
    fields.append(Field("sort", str(FIELD_LABELS["sort"]), "select",
                        options=[(s, str(SORT_LABELS[s]), s == current_sort) for s in sorts]))
    return Filters(fields, errors)
