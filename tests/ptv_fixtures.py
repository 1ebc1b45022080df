"""Service locations in PTV's published JSON shapes, for the PTV import tests.

v11: `V11VmOpenApiServiceLocationChannel` (addresses `V9VmOpenApiAddressLocation` with
`streetAddress` `VmOpenApiAddressStreetWithCoordinates` and `entrances` `V9VmOpenApiEntrance`,
`serviceHours` `V11VmOpenApiServiceHour` with `V8VmOpenApiDailyOpeningTime`), pages
`V11VmOpenApiServiceChannelsWithPaging`. The "v7" location uses the older spellings still found
in exports: serviceHourType Standard/Exception/Special, address type Visiting with the street
fields on the address itself, municipality as a bare code, `emails` instead of `supportEmails`.
Coordinates are ETRS-TM35FIN metres as strings, as PTV publishes them.
"""
from __future__ import annotations

import copy

HELSINKI_ID = "0c7f5d39-3b7e-4a5c-9e3d-6a1b2c3d4e5f"
SIPOO_ID = "5b8a1d2e-7c44-4f0e-8a65-2d9c1e0b7a11"
KERAVA_ID = "9e4c3b2a-1d0f-4e8b-b7a6-c5d4e3f2a1b0"
ORGANIZATION = "7fdd7f84-e52a-4c17-a59a-d7c2a3095ed5"


def _lang(**values: str) -> list[dict]:
    return [{"language": lang, "value": value} for lang, value in values.items()]


def sentence(group: dict[str, str], **texts: str) -> dict:
    return {"sentenceGroup": _lang(**group), "sentences": [{"sentence": _lang(**texts)}]}


def v11_location(ptv_id: str = HELSINKI_ID, name_fi: str = "Töölön terveysasema", *, postcode: str = "00250",
                 municipality: str = "091", north: str = "6674290.873", east: str = "384214.090") -> dict:
    return {
        "id": ptv_id,
        "sourceId": None,
        "serviceChannelType": "ServiceLocation",
        "organizationId": ORGANIZATION,
        "serviceChannelNames": [
            {"type": "Name", "language": "fi", "value": name_fi},
            {"type": "Name", "language": "sv", "value": "Tölö hälsostation"},
            {"type": "Name", "language": "en", "value": "Töölö health station"},
        ],
        "displayNameType": [{"type": "Name", "language": "fi"}, {"type": "Name", "language": "sv"}],
        "serviceChannelDescriptions": [
            {"type": "Summary", "language": "fi", "value": "Terveysaseman vastaanotto."},
            {"type": "Description", "language": "fi", "value": "Lääkärin ja hoitajan vastaanotto Töölössä."},
            {"type": "Description", "language": "sv", "value": "Läkar- och skötarmottagning i Tölö."},
        ],
        "areaType": "LimitedType",
        "languages": ["fi", "sv", "en", "xx"],
        "webPages": [{"url": "https://www.hel.fi/toolo", "value": "Töölön terveysasema", "language": "fi",
                      "orderNumber": 1}],
        "supportEmails": [{"language": "fi", "value": "toolo@example.fi"}],
        "phoneNumbers": [
            {"type": "Fax", "prefixNumber": "+358", "number": "9 000 0000", "language": "fi",
             "isFinnishServiceNumber": False},
            {"type": "Phone", "prefixNumber": "+358", "number": "09 310 5015", "language": "fi",
             "isFinnishServiceNumber": False, "serviceChargeType": "Chargeable"},
        ],
        "addresses": [
            {"type": "Postal", "subType": "PostOfficeBox", "country": "FI",
             "postOfficeBoxAddress": {"postOfficeBox": _lang(fi="PL 6000"), "postalCode": "00099",
                                      "postOffice": _lang(fi="HELSINGIN KAUPUNKI"), "municipality": {"code": "091"}}},
            {"type": "Location", "subType": "Single", "country": "FI",
             "streetAddress": {
                 "street": _lang(fi="Sibeliuksenkatu", sv="Sibeliusgatan"),
                 "streetNumber": "14",
                 "postalCode": postcode,
                 "postOffice": _lang(fi="HELSINKI", sv="HELSINGFORS"),
                 "municipality": {"code": municipality, "name": _lang(fi="Helsinki", sv="Helsingfors")},
                 "additionalInformation": [],
                 "latitude": north, "longitude": east, "coordinateState": "Ok"},
             "entrances": [
                 {"name": _lang(fi="Sivuovi"), "isMainEntrance": False,
                  "coordinates": {"latitude": "6674301.000", "longitude": "384220.000"},
                  "accessibilitySentences": [
                      sentence({"fi": "Sivusisäänkäynti"}, fi="Sisäänkäynnissä on 3 porrasta.")]},
                 {"name": _lang(fi="Pääsisäänkäynti"), "isMainEntrance": True,
                  "coordinates": {"latitude": north, "longitude": east},
                  "accessibilitySentences": [
                      sentence({"fi": "Reitti pääsisäänkäynnille", "sv": "Rutten till huvudingången"},
                               fi="Lähin joukkoliikenteen pysäkki on alle 100 metrin päässä sisäänkäynnistä.",
                               sv="Närmaste kollektivtrafikens hållplats är under 100 meter från ingången."),
                      sentence({"fi": "Pääsisäänkäynti", "sv": "Huvudingången"},
                               fi="Sisäänkäynnin yhteydessä on luiska.", sv="Vid ingången finns en ramp.",
                               en="There is a ramp at the entrance."),
                      sentence({"fi": "Pääsisäänkäynti", "sv": "Huvudingången"},
                               fi="Ovi avautuu automaattisesti.", sv="Dörren öppnas automatiskt."),
                      sentence({"fi": "Sisätilat"}, fi="Rakennuksessa on hissi."),
                      sentence({"fi": "Sisätilat"}, fi="Asiakaspalvelussa ei ole induktiosilmukkaa."),
                  ]},
             ]},
        ],
        "serviceHours": [
            {"serviceHourType": "DaysOfTheWeek", "validFrom": None, "validTo": None, "isClosed": False,
             "validForNow": True, "isAlwaysOpen": False, "isReservation": False, "additionalInformation": [],
             "openingHour": [{"dayFrom": "Monday", "dayTo": "", "from": "08:00:00", "to": "16:00:00"},
                             {"dayFrom": "Tuesday", "dayTo": "", "from": "08:00:00", "to": "16:00:00"},
                             {"dayFrom": "Wednesday", "dayTo": "", "from": "08:00:00", "to": "12:00:00"},
                             {"dayFrom": "Wednesday", "dayTo": "", "from": "13:00:00", "to": "18:00:00"},
                             {"dayFrom": "Thursday", "dayTo": "", "from": "08:00:00", "to": "16:00:00"},
                             {"dayFrom": "Friday", "dayTo": "", "from": "08:00:00", "to": "15:00:00"}],
             "orderNumber": 1},
            {"serviceHourType": "OverMidnight", "validForNow": True, "isClosed": False,
             "openingHour": [{"dayFrom": "Friday", "dayTo": "Saturday", "from": "22:00:00", "to": "06:00:00"}],
             "orderNumber": 2},
            {"serviceHourType": "Exceptional", "validFrom": "2026-12-24T00:00:00", "validTo": "2026-12-26T00:00:00",
             "isClosed": True, "validForNow": False, "additionalInformation": _lang(fi="Joulu", sv="Jul"),
             "openingHour": [], "orderNumber": 3},
            {"serviceHourType": "Exceptional", "validFrom": "2026-12-31T00:00:00", "validTo": None,
             "isClosed": False, "additionalInformation": _lang(fi="Uudenvuodenaatto"),
             "openingHour": [{"dayFrom": None, "dayTo": None, "from": "08:00:00", "to": "14:00:00"}], "orderNumber": 4},
        ],
        "publishingStatus": "Published",
        "modified": "2026-11-20T10:15:00",
    }


def swedish_only_location() -> dict:
    """A location described only in Swedish (Sipoo is bilingual), with 0/0 coordinates."""
    return {
        "id": SIPOO_ID,
        "serviceChannelType": "ServiceLocation",
        "serviceChannelNames": [{"type": "Name", "language": "sv", "value": "Sibbo hälsocentral"}],
        "serviceChannelDescriptions": [{"type": "Description", "language": "sv", "value": "Mottagning i Nickby."}],
        "languages": ["sv"],
        "addresses": [{"type": "Location", "subType": "Single", "country": "FI", "streetAddress": {
            "street": _lang(sv="Sibbovägen"), "streetNumber": "5", "postalCode": "POSTCODE",
            "municipality": {"code": "MUNI"}, "latitude": "0", "longitude": "0", "coordinateState": "NotReceived"},
            "entrances": [{"isMainEntrance": True, "coordinates": {"latitude": "0", "longitude": "0"},
                           "accessibilitySentences": [sentence({"sv": "Huvudingången"},
                                                               sv="Det finns ingen hiss i byggnaden.")]}]}],
        "serviceHours": [{"serviceHourType": "DaysOfTheWeek", "validForNow": True,
                          "openingHour": [{"dayFrom": "Monday", "dayTo": "Friday", "from": "09:00", "to": "15:00"}]}],
    }


def v7_location() -> dict:
    """Older export: Standard/Exception/Special hours, a Visiting address with the street fields on
    the address, municipality as a bare code, `emails`; DayTo "Monday" as stored by old PTV."""
    return {
        "id": KERAVA_ID.upper(),
        "serviceChannelType": "ServiceLocation",
        "serviceChannelNames": [{"type": "Name", "language": "fi", "value": "Keravan terveysasema"},
                                {"type": "Name", "language": "sv", "value": "Kervo hälsostation"}],
        "addresses": [{"type": "Visiting", "streetAddress": _lang(fi="Metsolantie", sv="Metsolavägen"),
                       "streetNumber": "2", "postalCode": "04200", "municipality": "245",
                       "latitude": "6697839.864", "longitude": "395594.977"}],
        "emails": [{"value": "kerava@example.fi", "language": "fi"}],
        "phoneNumbers": [{"number": "09 2949 1", "prefixNumber": None, "isFinnishServiceNumber": False}],
        "serviceHours": [
            {"serviceHourType": "Standard", "validFrom": "2026-01-01T00:00:00", "validTo": None,
             "openingHour": [{"dayFrom": "Tuesday", "dayTo": "Monday", "from": "08:00", "to": "16:00",
                              "isExtra": False},
                             {"dayFrom": "Tuesday", "dayTo": "Monday", "from": "17:00", "to": "19:00",
                              "isExtra": True}]},
            {"serviceHourType": "Special", "validForNow": True,
             "openingHour": [{"dayFrom": "Sunday", "dayTo": "Monday", "from": "23:00", "to": "01:00"}]},
            {"serviceHourType": "Exception", "validFrom": "2026-12-06T00:00:00", "isClosed": True,
             "additionalInformation": _lang(fi="Itsenäisyyspäivä", sv="Självständighetsdagen")},
        ],
    }


def page(items: list[dict], number: int = 1, count: int = 1) -> dict:
    return {"pageNumber": number, "pageSize": 100, "pageCount": count, "itemList": copy.deepcopy(items)}
