"""Controlled vocabularies: codes stored in the database, labels shown through Flask-Babel."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

LANGS = ("fi", "sv")

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

FEATURES = {
    "step_free_entrance": _l("Step-free entrance"),
    "lift": _l("Lift"),
    "accessible_toilet": _l("Accessible toilet"),
    "accessible_parking": _l("Accessible parking"),
    "induction_loop": _l("Induction loop"),
    "tactile_guidance": _l("Tactile guidance paths"),
    "automatic_door": _l("Automatic door"),
    "public_transport_near": _l("Public transport stop within 200 m"),
}

WEEKDAYS = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
            _l("Sunday"))


def label(vocabulary: dict, code: str) -> str:
    """The label of a code; an unknown code (from old data) is shown as itself."""
    value = vocabulary.get(code)
    return str(value) if value is not None else code
