"""Result cards and API items from the snapshot: what a search shows, without a database query.

Each row holds its unit's `Card` (documents.unit_card), made anew whenever the unit is read again, so the web
layer can cache a card's HTML per card object.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from webapp.choice.rules import newcomer_status, open_to_newcomers, places_for_newcomers
from webapp.units.vocab import PROFESSIONS_BY_ELEMENT


@dataclass(frozen=True, slots=True)
class LatestT3:
    t3_days: int
    measured_on: date


@dataclass(frozen=True, slots=True)
class Card:
    """The facts of one unit that results show. Attribute names follow the Unit model."""
    id: int
    name_fi: str
    name_sv: str
    element: str
    pilot_slug: str
    pilot_name_fi: str
    pilot_name_sv: str
    provider_name: str
    y_tunnus: str
    sector: str
    street_fi: str
    street_sv: str
    postcode: str
    postcode_name_fi: str
    postcode_name_sv: str
    municipality_code: str
    municipality_name_fi: str
    municipality_name_sv: str
    lat: float | None
    lon: float | None
    services: tuple[str, ...]
    languages: tuple[str, ...]
    features: tuple[str, ...]  # accessibility facts known to be present
    facts_no: tuple[str, ...]  # accessibility facts known to be absent (the rest are not known)
    accessibility_note_fi: str
    accessibility_note_sv: str
    accessibility_note_en: str
    capacity: int | None
    listed_count: int
    accepting_new: bool
    is_demo: bool
    t3: dict[str, LatestT3]
    waiting_count: int = 0  # residents on the unit's waiting list

    @property
    def accessibility(self) -> dict[str, bool]:
        """Accessibility facts: code -> yes/no; a code not in it is not known."""
        facts = {c: False for c in self.facts_no}
        facts.update({c: True for c in self.features})
        return facts

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.listed_count >= self.capacity

    # What a resident outside the queue can do (webapp.choice.rules); cards are of visible units only.
    @property
    def open_to_newcomers(self) -> bool:
        return open_to_newcomers(self.accepting_new, True, self.capacity, self.listed_count, self.waiting_count)

    @property
    def places_for_newcomers(self) -> int | None:
        return places_for_newcomers(self.capacity, self.listed_count, self.waiting_count)

    @property
    def newcomer_status(self) -> str:
        """'open', 'queue_first', 'full' or 'not_accepting' (rules.newcomer_status)."""
        return newcomer_status(self.accepting_new, True, self.capacity, self.listed_count, self.waiting_count)

    def municipality_name(self, lang: str) -> str:
        return self.municipality_name_sv if lang == "sv" else self.municipality_name_fi

    def place_name(self, lang: str) -> str | None:
        """The postcode's place name (None when the postcode is not in the register)."""
        if not self.postcode_name_fi:
            return None
        return self.postcode_name_sv if lang == "sv" else self.postcode_name_fi

    @property
    def professions(self) -> tuple[str, ...]:
        """The professions whose T3 is shown: the element's, and any others measured."""
        main = PROFESSIONS_BY_ELEMENT.get(self.element, ())
        return main + tuple(p for p in sorted(self.t3) if p not in main)

