"""Structured accessibility facts from PTV's accessibility sentences (a pure function, no database).

PTV's sentences are free text written by the accessibility survey (esteettömyyssovellus), e.g.
"Sisäänkäynnin yhteydessä on luiska." or "Rakennuksessa ei ole hissiä.". A fact is set only when
a sentence states it unambiguously: each rule below is a narrow pattern for a yes or a no, a
sentence that matches both a yes and a no of the same fact says nothing, and when sentences of
one location contradict each other the fact stays unknown. Everything else stays unknown.

Fact codes are those of the structured accessibility facts (vocab.ACCESSIBILITY_FACTS).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

NEAR_METRES = 200   # "Public transport stop within 200 m"
WIDE_DOOR_CM = 90   # "Entrance door at least 90 cm wide"

# A negation a few words before the thing: "ei ole hissiä", "det finns ingen hiss", "there is no lift".
_NO_FI = r"\b(?:ei|eikä)\b(?:\s+\S+){0,3}?\s+"
_NO_SV = r"\b(?:inte|ingen|inga|saknar|saknas)\b(?:\s+\S+){0,3}?\s+"
_NO_EN = r"\b(?:no|not|without)\b(?:\s+\S+){0,3}?\s+"

# (code, value, pattern); patterns are searched in the lower-cased sentence.
RULES: tuple[tuple[str, bool, str], ...] = (
    # entrance without steps
    ("step_free_entrance", True, r"sisäänkäynti on (?:kadun |maan |piha-alueen )?tasossa|portaaton sisäänkäynti|"
                                 r"sisäänkäynnissä ei ole (?:portaita|porrasta|tasoeroja)"),
    ("step_free_entrance", True, r"ingången är i (?:gatu|mark)nivå|steglös ingång|"
                                 r"vid ingången finns inga (?:trappor|trappsteg|nivåskillnader)"),
    ("step_free_entrance", True, r"step-free entrance|entrance is (?:at )?(?:street|ground) level|"
                                 r"no steps at the entrance"),
    ("step_free_entrance", False, r"sisäänkäynnissä on (?:\d+ )?(?:porras|portaat|portaita|porrasaskelma)|"
                                  r"sisäänkäynnille on portaat"),
    ("step_free_entrance", False, r"vid ingången finns (?:en )?(?:trappa|trappor|trappsteg)|"
                                  r"till ingången leder (?:en )?trappa"),
    ("step_free_entrance", False, r"there (?:is a step|are steps) at the entrance"),
    # ramp
    ("ramp", True, r"\bluiska\b|\bluiskan\b|\bluiskalla\b"),
    ("ramp", True, r"\bramp(?:en)?\b"),
    ("ramp", False, _NO_FI + r"luiska"),
    ("ramp", False, _NO_SV + r"ramp"),
    ("ramp", False, _NO_EN + r"ramp"),
    # automatic door
    ("automatic_door", True, r"automaattisesti avautuva|avautuu automaattisesti|automaattiov|painonapilla avautuva"),
    ("automatic_door", True, r"öppnas automatiskt|automatisk(?:t)? (?:öppnande |öppningsbar )?dörr|automatdörr"),
    ("automatic_door", True, r"opens automatically|automatic door"),
    ("automatic_door", False, _NO_FI + r"automaatti"),
    ("automatic_door", False, _NO_SV + r"automati"),
    ("automatic_door", False, _NO_EN + r"automatic"),
    # lift
    ("lift", True, r"\bhissi\b|\bhissillä\b|\bhissin\b|\bhissejä\b"),
    ("lift", True, r"\bhiss(?:en|ar)?\b"),
    ("lift", True, r"\b(?:lift|elevator)\b"),
    ("lift", False, _NO_FI + r"hissi"),
    ("lift", False, _NO_SV + r"hiss"),
    ("lift", False, _NO_EN + r"(?:lift|elevator)"),
    # toilet
    ("accessible_toilet", True, r"esteetön (?:wc|vessa|käymälä|wc-tila)|inva-?wc|"
                                r"liikuntaesteisille soveltuva (?:wc|vessa)"),
    ("accessible_toilet", True, r"tillgänglig(?:a|t)? (?:toalett|wc)|handikapptoalett|rullstolstoalett|invalidtoalett"),
    ("accessible_toilet", True, r"accessible (?:toilet|restroom|wc)"),
    ("accessible_toilet", False, _NO_FI + r"esteetön(?:tä)? (?:wc|vessa|käymälä)"),
    ("accessible_toilet", False, _NO_SV + r"(?:tillgänglig|handikapp|rullstol)\w* ?(?:toalett|wc)"),
    ("accessible_toilet", False, _NO_EN + r"accessible (?:toilet|restroom|wc)"),
    # parking
    ("accessible_parking", True, r"(?:liikuntaesteisten|liikkumisesteisten|invalidien|inva)\s?-?"
                                 r"(?:pysäköinti|paikka|paikko|parkki)|invapaikk"),
    ("accessible_parking", True, r"(?:handikapp|rörelsehindrade\w*|invalid)\s?-?(?:parkering|plats)|"
                                 r"parkeringsplats(?:er)? för rörelsehindrade"),
    ("accessible_parking", True, r"(?:accessible|disabled) parking"),
    ("accessible_parking", False, _NO_FI + r"(?:liikuntaesteisten|invalidien|inva)"),
    ("accessible_parking", False, _NO_SV + r"(?:handikapp|rörelsehindrade|invalid)"),
    ("accessible_parking", False, _NO_EN + r"(?:accessible|disabled) parking"),
    # induction loop
    ("induction_loop", True, r"induktiosilmuk"),
    ("induction_loop", True, r"induktionsslinga|hörslinga"),
    ("induction_loop", True, r"induction loop|hearing loop"),
    ("induction_loop", False, _NO_FI + r"induktiosilmuk"),
    ("induction_loop", False, _NO_SV + r"(?:induktions|hör)slinga"),
    ("induction_loop", False, _NO_EN + r"(?:induction|hearing) loop"),
    # tactile signage
    ("tactile_signage", True, r"pistekirjoitu|kohokirjoitu|kohokirjaim|taktiil"),
    ("tactile_signage", True, r"punktskrift|taktil"),
    ("tactile_signage", True, r"braille|tactile"),
    ("tactile_signage", False, _NO_FI + r"(?:pistekirjoitu|kohokirjoitu|kohokirjaim|taktiil)"),
    ("tactile_signage", False, _NO_SV + r"(?:punktskrift|taktil)"),
    ("tactile_signage", False, _NO_EN + r"(?:braille|tactile)"),
    # queue numbers on a screen
    ("visual_call_display", True, r"vuoronumeronäyt|kutsunäyt|vuoronumero näkyy näytöllä"),
    ("visual_call_display", True, r"könummer visas på (?:en )?(?:skärm|display)|kallelseskärm"),
    ("visual_call_display", True, r"queue numbers? (?:are |is )?shown on a (?:screen|display)"),
)

_COMPILED = tuple((code, value, re.compile(pattern)) for code, value, pattern in RULES)
_STOP = (r"(?:joukkoliikenteen |julkisen liikenteen |linja-auto|bussi|raitiovaunu|metro|"
         r"kollektivtrafikens |buss|spårvagn|public transport |bus |tram )\w*\s?(?:pysäk|hållplats|stop|asema|station)")
_DISTANCE = re.compile(_STOP + r"[^.]*?\b(alle|enintään|under|högst|within|less than|yli|över|over|more than)?"
                               r"\s*(\d+)\s*(?:m\b|metr)")
_OVER = {"yli", "över", "over", "more than"}
_DOOR = re.compile(r"(?:oviaukon|oven|dörr(?:öppning)?ens|door(?:way)?'?s?)[^.]*?(?:leveys|bredd|width)[^.]*?"
                   r"\b(vähintään|alle|minst|under|at least|less than)?\s*(\d+)\s*cm")


def _distance_fact(text: str) -> bool | None:
    m = _DISTANCE.search(text)
    if not m:
        return None
    word, metres = m.group(1), int(m.group(2))
    if word in _OVER:
        return False if metres >= NEAR_METRES else None
    return True if metres <= NEAR_METRES else None


def _door_fact(text: str) -> bool | None:
    m = _DOOR.search(text)
    if not m:
        return None
    word, cm = m.group(1), int(m.group(2))
    if word in ("alle", "under", "less than"):  # "alle 80 cm": narrower
        return False if cm <= WIDE_DOOR_CM else None
    if word in ("vähintään", "minst", "at least"):  # "vähintään 85 cm" may still be under 90
        return True if cm >= WIDE_DOOR_CM else None
    return cm >= WIDE_DOOR_CM  # an exact width


def sentence_facts(sentence: str) -> dict[str, bool]:
    """What one sentence states unambiguously, as {code: yes/no}."""
    text = " ".join(sentence.lower().split())
    found: dict[str, set[bool]] = {}
    negated: set[str] = set()
    for code, value, pattern in _COMPILED:
        if pattern.search(text):
            found.setdefault(code, set()).add(value)
            if not value:
                negated.add(code)
    for code, fact in (("public_transport_near", _distance_fact(text)), ("wide_door", _door_fact(text))):
        if fact is not None:
            found.setdefault(code, set()).add(fact)
    facts = {}
    for code, values in found.items():
        # A "no" pattern also contains the words of the "yes" one ("ei ole hissiä" has "hissi"):
        # when the no matched, it is the statement; two different yes/no rules that both match only
        # on their own words stay ambiguous.
        if code in negated:
            facts[code] = False
        elif len(values) == 1:
            facts[code] = next(iter(values))
    return facts


def facts_from_sentences(sentences: Iterable[str]) -> dict[str, bool]:
    """Facts for a location from all its sentences (all languages); contradictions stay unknown."""
    seen: dict[str, set[bool]] = {}
    for sentence in sentences:
        for code, value in sentence_facts(sentence).items():
            seen.setdefault(code, set()).add(value)
    return {code: next(iter(values)) for code, values in seen.items() if len(values) == 1}
