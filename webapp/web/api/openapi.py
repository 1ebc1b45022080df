"""The OpenAPI 3.0 document of the JSON API, with enums taken from the vocabularies."""
from __future__ import annotations

from webapp.search import MAX_Q, MAX_RADIUS_KM, MAX_T3, PER_PAGE, SORTS
from webapp.units.accessibility import PROFILE_REQUIREMENTS
from webapp.units.vocab import (
    ACCESSIBILITY_FACTS,
    ELEMENTS,
    FEATURES,
    LANGS,
    PROFESSIONS,
    SECTORS,
    SERVICE_LANGUAGES,
    SERVICES,
)


def _enum(values) -> dict:  # noqa: ANN001
    return {"type": "string", "enum": list(values)}


def _filter(values) -> dict:  # noqa: ANN001
    """A filter value from a list; empty means "no filter" (as the search form sends it)."""
    return {"type": "string", "enum": ["", *values]}


def _array(name: str, values, description: str) -> dict:  # noqa: ANN001
    return {"name": name, "in": "query", "required": False, "description": description, "style": "form",
            "explode": True, "schema": {"type": "array", "items": _filter(values)}}


def _q(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


LANG_PARAM = _q("lang", _enum(LANGS), "Language of labels and error messages (default: from Accept-Language, else fi).")

def search_params(catalogue: dict) -> list[dict]:
    """`catalogue`: the pilot slugs the database knows (see openapi_document)."""
    return [
    _q("q", {"type": "string", "maxLength": MAX_Q},
       "Free text in Finnish or Swedish (stemmed; a typo-tolerant search runs when nothing matches exactly)."),
    _q("pilot", _filter(catalogue["pilots"]), "Pilot slug, see /pilots."),
    _q("element", _filter(ELEMENTS), "Type of unit."),
    _array("service", SERVICES, "Services; ALL given must be offered."),
    _q("municipality", {"type": "string", "pattern": "^([0-9]{3})?$"},
       "Municipality code (Statistics Finland). A code that does not exist: 404."),
    _q("postcode", {"type": "string", "pattern": "^([0-9]{5})?$"},
       "Postcode; distances are measured from it (its own coordinates, else its municipality's). "
       "A postcode that does not exist (or has no coordinates): 404."),
    _q("radius_km", {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": MAX_RADIUS_KM},
       "Only units within this distance of the postcode (ignored without a postcode)."),
    _q("max_t3_doctor", {"type": "integer", "minimum": 0, "maximum": MAX_T3},
       "Latest doctor T3 at most this many days (units without a measurement are left out)."),
    _q("max_t3_nurse", {"type": "integer", "minimum": 0, "maximum": MAX_T3},
       "Latest nurse T3 at most this many days (units without a measurement are left out)."),
    _array("language", SERVICE_LANGUAGES, "Service languages; ANY given matches."),
    _array("feature", FEATURES, "Accessibility features; ALL given must be present."),
    _array("sector", SECTORS, "Provider sectors; ANY given matches."),
    _array("profile", PROFILE_REQUIREMENTS,
           "Accessibility profiles: rank, not filter. Units whose facts meet every need of the chosen profiles "
           "come first, then those with fewer needs known to be missing, then fewer not known. Each item then "
           "has `profiles`: per profile what is missing and what is not known."),
    _q("profile_only", {"type": "string", "enum": ["1", "true", "on", "yes", "0", "false", "off", "no", ""]},
       "With profile: only units that meet every need (a need whose fact is not known is not met)."),
    _q("accepting", {"type": "string", "enum": ["1", "true", "on", "yes", "0", "false", "off", "no", ""]},
       "Only units open to new customers (`open_to_newcomers`): the provider accepts new customers, the unit is "
       "not full, and its free places are not all held for the residents already in its waiting list."),
    _q("sort", _filter(SORTS), "relevance (default with q), distance (default with postcode; needs postcode), "
                             "queue (doctor or dentist T3 ascending, unmeasured last), name (default otherwise). "
                             "distance without a postcode gives the default order; the answer's `sort` says which."),
    _q("page", {"type": "integer", "minimum": 1, "maximum": 999999, "default": 1},
       f"Page number; {PER_PAGE} items a page. A page past the last one has no items."),
    LANG_PARAM,
    ]


def _error_response(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _coded_schema(values) -> dict:  # noqa: ANN001
    return {"type": "object", "required": ["code", "label"],
            "properties": {"code": _enum(values), "label": {"type": "string"}}}


def _nullable_string() -> dict:
    return {"type": "string", "nullable": True}


def openapi_document(catalogue: dict) -> dict:
    """The document; `catalogue` = {"pilots": [...]}: the pilot slugs the API accepts, so that the document
    allows nothing the API refuses."""
    schemas = {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string", "description": "In the language of `lang` (or Accept-Language)."},
                    "parameter": {"type": "string", "description": "The query parameter that was not valid."},
                    "errors": {"type": "array", "items": {
                        "type": "object", "properties": {"parameter": {"type": "string"},
                                                         "message": {"type": "string"}}}},
                }}},
        },
        "Bilingual": {"type": "object", "required": ["fi", "sv"],
                      "properties": {"fi": {"type": "string"}, "sv": _nullable_string()}},
        "Municipality": {"type": "object", "required": ["code", "name_fi", "name_sv"],
                         "properties": {"code": {"type": "string"}, "name_fi": {"type": "string"},
                                        "name_sv": {"type": "string"}}},
        "QueueTime": {"type": "object", "required": ["profession", "t3_days", "measured_on"],
                      "properties": {"profession": _coded_schema(PROFESSIONS), "t3_days": {"type": "integer"},
                                     "measured_on": {"type": "string", "format": "date"}}},
        "Unit": {
            "type": "object",
            "required": ["id", "name", "element", "pilot", "provider", "address", "postcode", "municipality", "lat",
                         "lon", "services", "languages", "features", "capacity", "listed_count", "accepting_new",
                         "is_full", "open_to_newcomers", "places_for_newcomers", "waiting_list_length", "queue_times",
                         "is_demo"],
            "properties": {
                "id": {"type": "integer"},
                "name": {"$ref": "#/components/schemas/Bilingual"},
                "element": _coded_schema(ELEMENTS),
                "pilot": {"type": "object", "properties": {"slug": {"type": "string"}, "name_fi": {"type": "string"},
                                                           "name_sv": {"type": "string"}}},
                "provider": {"type": "object", "required": ["name", "y_tunnus", "sector"],
                             "properties": {"name": {"type": "string"}, "y_tunnus": {"type": "string"},
                                            "sector": _coded_schema(SECTORS)}},
                "address": {"$ref": "#/components/schemas/Bilingual"},
                "postcode": {"type": "string"},
                "municipality": {"$ref": "#/components/schemas/Municipality"},
                "lat": {"type": "number"}, "lon": {"type": "number"},
                "services": {"type": "array", "items": _coded_schema(SERVICES)},
                "languages": {"type": "array", "items": _coded_schema(SERVICE_LANGUAGES)},
                "features": {"type": "array", "items": _coded_schema(FEATURES),
                             "description": "The accessibility facts known to be present."},
                "accessibility": {"type": "array", "items": {"$ref": "#/components/schemas/AccessibilityFact"},
                                  "description": "Every accessibility fact: true, false or null (not known)."},
                "accessibility_note": {"type": "object", "properties": {
                    "fi": _nullable_string(), "sv": _nullable_string(), "en": _nullable_string()}},
                "profiles": {"type": "array", "items": {"$ref": "#/components/schemas/ProfileFit"},
                             "description": "Only when `profile` is given: per profile, in the given order."},
                "capacity": {"type": "integer", "nullable": True},
                "listed_count": {"type": "integer"},
                "accepting_new": {"type": "boolean",
                                  "description": "The provider's flag: the unit takes new customers. Whether a "
                                                 "resident can choose it now is `open_to_newcomers`."},
                "is_full": {"type": "boolean", "description": "listed_count has reached capacity."},
                "open_to_newcomers": {
                    "type": "boolean",
                    "description": "A resident who is not in the unit's waiting list can choose it now (as far as "
                                   "the unit goes): the provider accepts new customers, the unit is not full, and "
                                   "places_for_newcomers is not 0. The same rule as the `accepting` filter and the "
                                   "choice itself; a unit whose free places are all held for its queue is not open, "
                                   "what it offers is its waiting list."},
                "places_for_newcomers": {
                    "type": "integer", "minimum": 0, "nullable": True,
                    "description": "Free places not held for the waiting list: capacity − listed_count − "
                                   "waiting_list_length, at least 0; null when the unit has no maximum."},
                "waiting_list_length": {"type": "integer", "minimum": 0,
                                        "description": "Residents on the unit's waiting list (a number only)"},
                "queue_times": {"type": "array", "items": {"$ref": "#/components/schemas/QueueTime"},
                                "description": "The latest measurement per profession."},
                "distance_km": {"type": "number", "nullable": True,
                                "description": "Only when a postcode is given."},
                "is_demo": {"type": "boolean"},
                "url": {"type": "object", "properties": {"fi": {"type": "string"}, "sv": {"type": "string"},
                                                         "en": {"type": "string"}}},
            },
        },
        "AccessibilityFact": {"type": "object", "required": ["code", "label", "value"],
                              "properties": {"code": _enum(ACCESSIBILITY_FACTS), "label": {"type": "string"},
                                             "value": {"type": "boolean", "nullable": True}}},
        "ProfileFit": {"type": "object", "required": ["profile", "meets", "missing", "not_known"],
                       "properties": {"profile": _coded_schema(PROFILE_REQUIREMENTS), "meets": {"type": "boolean"},
                                      "missing": {"type": "array",
                                                  "description": "Needs whose fact is known to be absent.",
                                                  "items": {"type": "object", "required": ["code", "label", "text"],
                                                            "properties": {"code": _enum(ACCESSIBILITY_FACTS),
                                                                           "label": {"type": "string"},
                                                                           "text": {"type": "string"}}}},
                                      "not_known": {"type": "array", "items": _coded_schema(ACCESSIBILITY_FACTS),
                                                    "description": "Needs whose fact is not known."}}},
        "FacetValue": {"type": "object", "required": ["value", "count"],
                       "properties": {"value": {"type": "string"}, "count": {"type": "integer"},
                                      "label": {"type": "string"}}},
        "UnitPage": {
            "type": "object", "required": ["total", "page", "per_page", "items", "facets"],
            "properties": {
                "total": {"type": "integer"}, "page": {"type": "integer"}, "per_page": {"type": "integer"},
                "pages": {"type": "integer"}, "sort": _enum(SORTS), "fuzzy": {"type": "boolean"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Unit"}},
                "facets": {"type": "object", "description": "Per filter: how many units each value would give "
                                                             "with the other filters applied.",
                           "additionalProperties": {"type": "array",
                                                    "items": {"$ref": "#/components/schemas/FacetValue"}}},
            },
        },
        "Rules": {"type": "object", "properties": {
            "min_age": {"type": "integer"}, "excluded_in_institutional_care": {"type": "boolean"},
            "allow_other_pilot_municipality": {"type": "boolean"}, "lock_in_months": {"type": "integer"},
            "max_switches_per_12_months": {"type": "integer"}, "notice_days": {"type": "integer"},
            "effective": _enum(["next_month_start", "after_notice_days"]),
            "capitation_eur_per_month": {"type": "integer", "nullable": True},
            "demo_values": {"type": "array", "items": {"type": "string"},
                            "description": "Rule values not found in the source documents (demo values)."}}},
        "Pilot": {"type": "object", "required": ["slug", "name_fi", "name_sv", "municipalities", "elements"],
                  "properties": {
                      "slug": {"type": "string"}, "name_fi": {"type": "string"}, "name_sv": {"type": "string"},
                      "region_fi": {"type": "string"}, "region_sv": {"type": "string"},
                      "lead_municipality_code": _nullable_string(),
                      "starts_on": {"type": "string", "format": "date", "nullable": True},
                      "ends_on": {"type": "string", "format": "date", "nullable": True},
                      "choice_opens_on": {"type": "string", "format": "date", "nullable": True},
                      "choice_closes_on": {"type": "string", "format": "date", "nullable": True},
                      "population_min": {"type": "integer", "nullable": True},
                      "population_max": {"type": "integer", "nullable": True},
                      "funding_eur": {"type": "integer", "nullable": True},
                      "source_document": {"type": "string"},
                      "demo_values": {"type": "array", "items": {"type": "string"}},
                      "municipalities": {"type": "array", "items": {"$ref": "#/components/schemas/Municipality"}},
                      "elements": {"type": "array", "items": {"type": "object", "properties": {
                          "code": _enum(ELEMENTS), "label": {"type": "string"},
                          "rules": {"$ref": "#/components/schemas/Rules"}}}},
                  }},
    }
    bad = _error_response("A parameter is not valid; `parameter` names it.")
    too_long = {"description": "The address is too long (answered by the web server, not as JSON)."}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Freedom-of-choice pilots: units API", "version": "1.0.0",
                 "description": "Units (sote-keskus, oral health and other elements) of the Finnish freedom-of-choice "
                                "pilots, in Finnish and Swedish. Providers and units are demo data."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/units": {"get": {
                "operationId": "searchUnits", "summary": "Search units (the same parameters as the search page)",
                "parameters": search_params(catalogue),
                "responses": {"200": {"description": "A page of units with facet counts.",
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/UnitPage"}}}},
                              "400": bad, "414": too_long,
                              "404": _error_response("The municipality or postcode does not exist; `parameter` "
                                                     "names it.")}}},
            "/units/{unit_id}": {"get": {
                "operationId": "getUnit", "summary": "One unit",
                "parameters": [{"name": "unit_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                               _array("profile", PROFILE_REQUIREMENTS, "Accessibility profiles: the unit then "
                                      "has `profiles`, per profile what is missing and what is not known."),
                               LANG_PARAM],
                "responses": {"200": {"description": "The unit.",
                                      "content": {"application/json": {
                                          "schema": {"$ref": "#/components/schemas/Unit"}}}},
                              "400": bad, "414": too_long,
                              "404": _error_response("No such unit, or it is hidden.")}}},
            "/pilots": {"get": {
                "operationId": "listPilots", "summary": "Pilots with their municipalities, elements and choice rules",
                "parameters": [LANG_PARAM],
                "responses": {"200": {"description": "All pilots.", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"total": {"type": "integer"}, "items": {
                        "type": "array", "items": {"$ref": "#/components/schemas/Pilot"}}}}}}},
                              "400": bad, "414": too_long}}},
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.0 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": schemas},
    }
