"""Controlled vocabularies: codes stored in the database, labels shown through Flask-Babel."""
from __future__ import annotations

from collections.abc import Mapping

from webapp.core.translation import lazy_gettext as _l

LANGS = ("fi", "sv", "en")

ELEMENTS = {
    "sote_centre": _l("Health and social care centre"),
    "oral_health": _l("Oral health unit"),
    "client_voucher": _l("Client voucher"),
    "personal_budget": _l("Personal budget"),
}
DIRECT_CHOICE_ELEMENTS = ("sote_centre", "oral_health")

SECTORS = {
    "public": _l("Public"),
    "private": _l("Private"),
    "third": _l("Third sector"),
}

SERVICES = {
    "doctor": _l("Doctor's appointment"),
    "nurse": _l("Nurse's appointment"),
    "social_counselling": _l("Social counselling"),
    "mental_health": _l("Mental health services"),
    "substance_abuse": _l("Substance abuse services"),
    "physiotherapy": _l("Physiotherapy"),
    "laboratory": _l("Laboratory tests"),
    "vaccination": _l("Vaccinations"),
    "chronic_disease": _l("Care of long-term illnesses"),
    "remote_appointment": _l("Remote appointment"),
    "dental_check": _l("Dental check-up"),
    "dentist": _l("Dentist"),
    "dental_hygienist": _l("Dental hygienist"),
    "oral_surgery": _l("Oral surgery"),
    "dental_prosthetics": _l("Dental prosthetics"),
    "home_help": _l("Home help"),
    "home_nursing": _l("Home nursing"),
    "housing_services": _l("Housing services"),
    "social_rehabilitation": _l("Social rehabilitation"),
    "work_activity": _l("Work activity for disabled people"),
    "personal_assistance": _l("Personal assistance"),
}
SERVICES_BY_ELEMENT = {
    "sote_centre": ("doctor", "nurse", "social_counselling", "mental_health", "substance_abuse",
                    "physiotherapy", "laboratory", "vaccination", "chronic_disease", "remote_appointment"),
    "oral_health": ("dental_check", "dentist", "dental_hygienist", "oral_surgery", "dental_prosthetics"),
    "client_voucher": ("home_help", "home_nursing", "housing_services", "social_rehabilitation",
                       "work_activity", "dental_prosthetics"),
    "personal_budget": ("home_help", "personal_assistance", "housing_services", "social_rehabilitation"),
}

PROFESSIONS = {
    "doctor": _l("Doctor"),
    "nurse": _l("Nurse"),
    "dentist": _l("Dentist"),
    "dental_hygienist": _l("Dental hygienist"),
}

# Whose queue time (T3) each direct-choice element reports.
PROFESSIONS_BY_ELEMENT = {"sote_centre": ("doctor", "nurse"), "oral_health": ("dentist", "dental_hygienist")}

SERVICE_LANGUAGES = {
    "fi": _l("Finnish"),
    "sv": _l("Swedish"),
    "en": _l("English"),
    "ru": _l("Russian"),
    "et": _l("Estonian"),
    "so": _l("Somali"),
    "ar": _l("Arabic"),
    "fse": _l("Finnish Sign Language"),
}

# Structured accessibility facts: each is yes / no / not known per unit (models.UnitAccessibilityFact).
ACCESSIBILITY_FACTS = {
    "step_free_entrance": _l("Step-free entrance"),
    "ramp": _l("Ramp at the entrance"),
    "automatic_door": _l("Automatic door"),
    "wide_door": _l("Entrance door at least 90 cm wide"),
    "lift": _l("Lift"),
    "accessible_toilet": _l("Accessible toilet"),
    "accessible_parking": _l("Accessible parking"),
    "induction_loop": _l("Induction loop"),
    "tactile_signage": _l("Tactile guidance or high-contrast signage"),
    "visual_call_display": _l("Queue numbers and calls shown on a screen"),
    "public_transport_near": _l("Public transport stop within 200 m"),
}
# What a fact known to be absent ("no") means, said plainly.
FACT_MISSING = {
    "step_free_entrance": _l("Entrance has steps"),
    "ramp": _l("No ramp at the entrance"),
    "automatic_door": _l("No automatic door"),
    "wide_door": _l("Entrance door narrower than 90 cm"),
    "lift": _l("No lift"),
    "accessible_toilet": _l("No accessible toilet"),
    "accessible_parking": _l("No accessible parking"),
    "induction_loop": _l("No induction loop"),
    "tactile_signage": _l("No tactile guidance or high-contrast signage"),
    "visual_call_display": _l("Calls are not shown on a screen"),
    "public_transport_near": _l("No public transport stop within 200 m"),
}
# Accessibility profiles (what each needs is in webapp/units/accessibility.py).
ACCESSIBILITY_PROFILES = {
    "wheelchair": _l("Wheelchair user"),
    "reduced_mobility": _l("Walker or rollator user"),
    "pushchair": _l("With a pushchair"),
    "visually_impaired": _l("Visually impaired"),
    "hearing_impaired": _l("Hearing impaired"),
}
# The search filter "has all of these" works on the facts known to be present.
FEATURES = ACCESSIBILITY_FACTS
# Codes of the earlier feature list (table unit_feature) that were renamed when they became facts.
LEGACY_FEATURE_CODES = {"tactile_guidance": "tactile_signage"}

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))


def label(vocabulary: Mapping[str, object], code: str) -> str:
    """The label of a code; an unknown code (from old data) is shown as itself."""
    value = vocabulary.get(code)
    return str(value) if value is not None else code
