"""Accessibility profiles: which facts a profile needs, and how a unit's facts measure up (pure).

A unit's facts are a mapping code -> True (yes) / False (no); a code that is absent is not known.
A profile's requirements are data (`PROFILE_REQUIREMENTS`): every listed fact must be yes. For each
chosen profile a unit's facts give what is missing (known to be no) and what is not known; a unit
meets a profile only when every required fact is known to be yes. Unknown is never counted as
missing nor as present.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from webapp.units.vocab import ACCESSIBILITY_FACTS

# profile -> the facts it needs (all must be yes). The order of the profiles is the order of the form.
PROFILE_REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "wheelchair": ("step_free_entrance", "wide_door", "automatic_door", "lift", "accessible_toilet",
                   "accessible_parking"),
    "reduced_mobility": ("step_free_entrance", "automatic_door", "lift", "public_transport_near"),
    "pushchair": ("step_free_entrance", "wide_door", "lift"),
    "visually_impaired": ("tactile_signage", "public_transport_near"),
    "hearing_impaired": ("induction_loop", "visual_call_display"),
}

Facts = Mapping[str, bool]


@dataclass(frozen=True)
class ProfileAssessment:
    """How one unit's facts measure up to one profile: codes known to be missing and codes not known."""
    profile: str
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def meets(self) -> bool:
        return not self.missing and not self.unknown


def _in_fact_order(codes: Iterable[str]) -> tuple[str, ...]:
    wanted = set(codes)
    return tuple(c for c in ACCESSIBILITY_FACTS if c in wanted)


def required_facts(profiles: Sequence[str]) -> tuple[str, ...]:
    """Every fact any of the profiles needs, once each, in the vocabulary's order."""
    return _in_fact_order(c for p in profiles for c in PROFILE_REQUIREMENTS.get(p, ()))


def assess(facts: Facts, profiles: Sequence[str]) -> list[ProfileAssessment]:
    """Per chosen profile (in the given order), what is missing and what is not known."""
    out = []
    for profile in profiles:
        needed = PROFILE_REQUIREMENTS[profile]
        missing = _in_fact_order(c for c in needed if facts.get(c) is False)
        unknown = _in_fact_order(c for c in needed if c not in facts)
        out.append(ProfileAssessment(profile, missing, unknown))
    return out


def rank_key(facts: Facts, required: Sequence[str]) -> tuple[int, int, int]:
    """Sort key for the profiles' needs: units meeting all come first, then fewer facts known to be
    missing, then fewer not known. The search's own order breaks ties (the sort is stable)."""
    missing = sum(1 for c in required if facts.get(c) is False)
    unknown = sum(1 for c in required if c not in facts)
    return (0 if not missing and not unknown else 1, missing, unknown)


def facts_from_sets(present: Iterable[str], absent: Iterable[str]) -> dict[str, bool]:
    """Facts from the codes known to be yes and those known to be no (e.g. from the search index)."""
    facts = {c: False for c in absent}
    facts.update({c: True for c in present})
    return facts
