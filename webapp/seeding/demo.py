"""Fictional demo providers and units, generated deterministically (same seed, same data).

Every provider and unit made here is flagged `is_demo` and labelled as demo data on its page.
Y-tunnus values are made with a valid check digit (python-stdnum validates them).
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.fi import ytunnus

from webapp.models import (
    Municipality,
    OpeningException,
    OpeningHours,
    Pilot,
    Postcode,
    Provider,
    QueueTime,
    Unit,
    UnitLanguage,
    UnitService,
)
from webapp.units.vocab import ACCESSIBILITY_FACTS, PROFESSIONS_BY_ELEMENT, SERVICES_BY_ELEMENT

# Kinds of premises: (weight, {fact: (probability of yes, of no)}; "*" for the other facts; the rest is
# not known).
BUILDING_ODDS = {
    "new": (35, {"*": (0.85, 0.05), "ramp": (0.3, 0.5), "visual_call_display": (0.7, 0.15)}),
    "renovated": (35, {"*": (0.55, 0.25), "ramp": (0.5, 0.3), "wide_door": (0.6, 0.2)}),
    "old": (20, {"*": (0.25, 0.5), "lift": (0.3, 0.5), "public_transport_near": (0.7, 0.2)}),
    "unsurveyed": (10, {"*": (0.05, 0.0), "public_transport_near": (0.5, 0.1)}),
}
ACCESSIBILITY_NOTES = (
    ("Esteetön sisäänkäynti on pihan puolella. Ovikello on matalalla.",
     "Den tillgängliga entrén finns på gårdssidan. Ringklockan sitter lågt.",
     "The step-free entrance is on the courtyard side. The doorbell is low."),
    ("Invapaikat ovat pääoven vieressä.", "Parkeringsplatserna för rörelsehindrade finns vid huvudentrén.",
     ""),
    ("Odotustilassa on tuoleja, joissa on käsinojat.", "I väntrummet finns stolar med armstöd.", ""),
    ("Bussipysäkki on kadun toisella puolella.", "Busshållplatsen finns på andra sidan gatan.",
     "The bus stop is across the street."),
)

# Street names with their Swedish forms; Swedish street names are used in bilingual municipalities.
STREETS = [("Asemakatu", "Stationsgatan"), ("Kirkkokatu", "Kyrkogatan"), ("Rantatie", "Strandvägen"),
           ("Koulukatu", "Skolgatan"), ("Puistotie", "Parkvägen"), ("Myllytie", "Kvarnvägen"),
           ("Torikatu", "Torggatan"), ("Sairaalakatu", "Sjukhusgatan"), ("Kauppakatu", "Handelsgatan"),
           ("Mäntytie", "Tallvägen"), ("Koivukuja", "Björkgränden"), ("Satamakatu", "Hamngatan"),
           ("Linnankatu", "Slottsgatan"), ("Myllärinkatu", "Mjölnargatan"), ("Tehtaankatu", "Fabriksgatan")]

PRIVATE_BRANDS = ["Sinivuokko Terveys Oy", "Kaislikko Lääkärit Oy", "Revontuli Klinikat Oy",
                  "Mäntykoski Terveyspalvelut Oy", "Pohjantuuli Lääkäriasemat Oy", "Hopeapaju Hoiva Oy",
                  "Kalliorinne Terveys Oy", "Lumme Suunterveys Oy", "Hammaskallio Oy", "Vaahtera Hammaslääkärit Oy"]
THIRD_SECTOR = ["Toivon Tupa ry", "Hyvinvoinnin Polku ry", "Kotilieden Säätiö sr", "Lähimmäisapu ry"]
DESCRIPTIONS = {
    "sote_centre": ("Sote-keskus, jossa saat lääkärin ja sairaanhoitajan vastaanoton sekä sosiaaliohjauksen "
                    "samasta paikasta. Ajanvaraus puhelimitse ja verkossa.",
                    "Social- och hälsocentral där du får läkar- och sjukskötarmottagning samt social handledning "
                    "på samma ställe. Tidsbokning per telefon och på nätet."),
    "oral_health": ("Suunhoidon yksikkö: hammastarkastukset, hammaslääkärin ja suuhygienistin vastaanotot. "
                    "Kiireettömän hoidon ajanvaraus arkisin.",
                    "Munhälsovårdsenhet: tandundersökningar, tandläkar- och munhygienistmottagning. "
                    "Tidsbokning för icke-brådskande vård på vardagar."),
    "client_voucher": ("Asiakassetelillä valittava palveluntuottaja. "
                       "Seteli myönnetään palvelutarpeen arvioinnin jälkeen.",
                       "Serviceproducent som väljs med kundsedel. "
                       "Sedeln beviljas efter en bedömning av servicebehovet."),
    "personal_budget": ("Henkilökohtaisen budjetin palveluntuottaja. "
                        "Budjetti myönnetään palvelutarpeen arvioinnin jälkeen.",
                        "Serviceproducent för personlig budget. "
                        "Budgeten beviljas efter en bedömning av servicebehovet."),
}
UNIT_WORD = {"sote_centre": ("sote-keskus", "social- och hälsocentral"),
             "oral_health": ("suunhoito", "munhälsovård"),
             "client_voucher": ("palvelut", "tjänster"), "personal_budget": ("palvelut", "tjänster")}
# Finnish public holidays around the demo date, as opening-hour exceptions.
HOLIDAYS = [(date(2026, 12, 6), "Itsenäisyyspäivä", "Självständighetsdagen"),
            (date(2026, 12, 24), "Jouluaatto", "Julafton"), (date(2026, 12, 25), "Joulupäivä", "Juldagen"),
            (date(2026, 12, 26), "Tapaninpäivä", "Annandag jul"), (date(2027, 1, 1), "Uudenvuodenpäivä", "Nyårsdagen"),
            (date(2027, 1, 6), "Loppiainen", "Trettondagen")]
MEASUREMENT_DAYS = [date(2026, m, 1) for m in range(6, 12)]

# Units per element and pilot for the standard demo seed (over 80 direct-choice units in all).
DemoPlan = dict[str, dict[str, int]]  # pilot slug -> element -> number of demo units
DEMO_PLAN: DemoPlan = {
    "uusimaa": {"sote_centre": 30, "oral_health": 12, "client_voucher": 4, "personal_budget": 2},
    "tampere": {"sote_centre": 12, "oral_health": 6, "personal_budget": 2},
    "jyvaskyla": {"sote_centre": 9},
    "hameenlinna": {"sote_centre": 6},
    "yla-savo": {"sote_centre": 5, "personal_budget": 1},
    "paijat-hame": {"sote_centre": 10},
    "etela-karjala": {"personal_budget": 2},
    "pohjanmaa": {"personal_budget": 2},
}


def make_ytunnus(rng: random.Random) -> str:
    while True:
        body = f"{rng.randint(1000000, 3299999):07d}"
        remainder = sum(w * int(n) for w, n in zip((7, 9, 10, 5, 8, 4, 2), body, strict=True)) % 11
        if remainder == 1:
            continue  # no valid check digit for this body
        candidate = f"{body}-{0 if remainder == 0 else 11 - remainder}"
        if ytunnus.is_valid(candidate):
            return candidate


@dataclass
class Place:
    municipality: Municipality
    postcodes: list[Postcode]


class DemoGenerator:
    def __init__(self, sess: Session, seed: int = 2026):
        self.sess = sess
        self.rng = random.Random(seed)
        self.providers: dict[str, Provider] = {p.name: p for p in sess.scalars(select(Provider))}
        self.places: dict[str, Place] = {}
        self.used_ytunnus = set(sess.scalars(select(Provider.y_tunnus)))

    def place(self, code: str) -> Place:
        if code not in self.places:
            muni = self.sess.get(Municipality, code)
            # `code` is one of a pilot's municipality codes, a foreign key to municipality.code
            assert muni is not None
            postcodes = list(self.sess.scalars(select(Postcode).where(
                Postcode.municipality_code == code, Postcode.type_code == 1).order_by(Postcode.code)))
            self.places[code] = Place(muni, postcodes)
        return self.places[code]

    def provider(self, name: str, sector: str) -> Provider:
        if name not in self.providers:
            y = make_ytunnus(self.rng)
            while y in self.used_ytunnus:
                y = make_ytunnus(self.rng)
            self.used_ytunnus.add(y)
            slug = name.split()[0].lower().replace("ä", "a").replace("ö", "o")
            website = None if sector == "public" else f"https://{slug}.example.fi"
            self.providers[name] = Provider(name=name, y_tunnus=y, sector=sector, website=website, is_demo=True)
            self.sess.add(self.providers[name])
        return self.providers[name]

    def pick_provider(self, pilot: Pilot, element: str, muni: Municipality) -> Provider:
        roll = self.rng.random()
        if roll < 0.35:
            if len(pilot.municipality_codes) == 1 and pilot.lead_organisation_fi:
                return self.provider(f"{pilot.lead_organisation_fi} (demo)", "public")
            return self.provider(f"{muni.name_fi}: julkiset sote-palvelut (demo)", "public")
        if roll < 0.85 or element == "oral_health":
            pool = PRIVATE_BRANDS[-3:] if element == "oral_health" else PRIVATE_BRANDS[:7]
            return self.provider(self.rng.choice(pool), "private")
        return self.provider(self.rng.choice(THIRD_SECTOR), "third")

    def unit(self, pilot: Pilot, element: str, muni_code: str, number: int) -> Unit:
        with self.sess.no_autoflush:
            return self._unit(pilot, element, muni_code, number)

    def _unit(self, pilot: Pilot, element: str, muni_code: str, number: int) -> Unit:
        rng = self.rng
        place = self.place(muni_code)
        muni = place.municipality
        postcode = rng.choice(place.postcodes) if place.postcodes else None
        provider = self.pick_provider(pilot, element, muni)
        bilingual = muni.language_ratio_code in (2, 4)
        street_fi, street_sv = rng.choice(STREETS)
        house = rng.randint(1, 60)
        base_lat = (postcode.lat if postcode and postcode.lat else muni.lat) or 60.2
        base_lon = (postcode.lon if postcode and postcode.lon else muni.lon) or 24.9
        brand = provider.name.split()[0] if provider.sector != "public" else None
        word_fi, word_sv = UNIT_WORD[element]
        area_fi = postcode.name_fi if postcode else muni.name_fi
        area_sv = postcode.name_sv if postcode else muni.name_sv
        if brand:
            name_fi, name_sv = f"{brand} {area_fi}", f"{brand} {area_sv}"
        else:
            name_fi, name_sv = f"{word_fi.capitalize()} {area_fi}", f"{word_sv.capitalize()} {area_sv}"
        if number > 1:
            name_fi, name_sv = f"{name_fi} {number}", f"{name_sv} {number}"
        desc_fi, desc_sv = DESCRIPTIONS[element]
        unit = Unit(
            provider=provider, pilot_id=pilot.id, element=element,
            name_fi=name_fi, name_sv=name_sv if (bilingual or rng.random() < 0.5) else "",
            description_fi=desc_fi, description_sv=desc_sv if rng.random() < 0.85 else "",
            street_fi=f"{street_fi} {house}", street_sv=f"{street_sv} {house}" if bilingual else "",
            postcode=postcode.code if postcode else "00100", municipality_code=muni.code,
            lat=round(base_lat + rng.uniform(-0.03, 0.03), 5), lon=round(base_lon + rng.uniform(-0.05, 0.05), 5),
            phone=f"0{rng.randint(10, 50)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            email=f"{element.replace('_', '-')}{rng.randint(1, 999)}@example.fi", is_demo=True,
        )
        self._services(unit, element)
        self._languages(unit, bilingual)
        self._accessibility(unit, random.Random(rng.random()))
        self._capacity(unit, element)
        self._hours(unit, element)
        self._queue_times(unit, element)
        return unit

    def _services(self, unit: Unit, element: str) -> None:
        offered = SERVICES_BY_ELEMENT[element]
        core = {"sote_centre": ("doctor", "nurse", "social_counselling"),
                "oral_health": ("dental_check", "dentist", "dental_hygienist")}.get(element, offered[:1])
        codes = set(core) | {c for c in offered if self.rng.random() < 0.45}
        unit.services = [UnitService(code=c) for c in sorted(codes)]

    def _accessibility(self, unit: Unit, rng: random.Random) -> None:
        """A realistic mix: new, renovated and old premises, and some that nobody has surveyed, so that
        every profile has units that meet it, fall short, and are partly not known."""
        kind = rng.choices(list(BUILDING_ODDS), weights=[w for w, _odds in BUILDING_ODDS.values()])[0]
        odds = BUILDING_ODDS[kind][1]
        facts: dict[str, bool | None] = {}
        for code in ACCESSIBILITY_FACTS:
            p_yes, p_no = odds.get(code, odds["*"])
            roll = rng.random()
            facts[code] = True if roll < p_yes else (False if roll < p_yes + p_no else None)
        if facts.get("step_free_entrance") is False:
            facts["ramp"] = False  # steps and no ramp: that is why the entrance is not step-free
        unit.set_accessibility(facts)
        if kind != "unsurveyed" and rng.random() < 0.4:
            unit.accessibility_note_fi, unit.accessibility_note_sv, unit.accessibility_note_en = \
                rng.choice(ACCESSIBILITY_NOTES)

    def _languages(self, unit: Unit, bilingual: bool) -> None:
        rng = self.rng
        codes = {"fi"}
        if bilingual and rng.random() < 0.75:
            codes.add("sv")
        elif rng.random() < 0.1:
            codes.add("sv")
        if rng.random() < 0.45:
            codes.add("en")
        for extra in ("ru", "et", "so", "ar", "fse"):
            if rng.random() < 0.08:
                codes.add(extra)
        unit.languages = [UnitLanguage(code=c) for c in sorted(codes)]

    def _capacity(self, unit: Unit, element: str) -> None:
        rng = self.rng
        if element not in PROFESSIONS_BY_ELEMENT:
            unit.capacity, unit.listed_count, unit.accepting_new = None, 0, True
            return
        unit.capacity = rng.choice([1500, 2000, 3000, 4000, 6000, 8000, 12000])
        roll = rng.random()
        if roll < 0.12:
            unit.listed_count, unit.accepting_new = unit.capacity, True  # full: no place, a queue can form
        elif roll < 0.18:
            unit.listed_count, unit.accepting_new = int(unit.capacity * 0.8), False  # paused by the provider
        else:
            unit.listed_count, unit.accepting_new = int(unit.capacity * rng.uniform(0.2, 0.95)), True

    def _hours(self, unit: Unit, element: str) -> None:
        rng = self.rng
        opens, closes = rng.choice([(time(8), time(16)), (time(7, 30), time(18)), (time(8), time(20)),
                                    (time(9), time(17))])
        unit.opening_hours = [OpeningHours(weekday=d, opens=opens, closes=closes) for d in range(5)]
        if element == "sote_centre" and rng.random() < 0.3:
            unit.opening_hours.append(OpeningHours(weekday=5, opens=time(9), closes=time(14)))
        unit.opening_exceptions = [OpeningException(day=d, note_fi=fi, note_sv=sv) for d, fi, sv in HOLIDAYS]
        unit.opening_exceptions.append(OpeningException(day=date(2026, 12, 31), opens=opens, closes=time(14),
                                                        note_fi="Uudenvuodenaatto", note_sv="Nyårsafton"))

    def _queue_times(self, unit: Unit, element: str) -> None:
        rng = self.rng
        rows = []
        for profession in PROFESSIONS_BY_ELEMENT.get(element, ()):
            level = rng.randint(1, 35) if profession in ("doctor", "dentist") else rng.randint(0, 10)
            for day in MEASUREMENT_DAYS:
                level = max(0, level + rng.randint(-3, 3))
                measured_on = day + timedelta(days=rng.randint(0, 4))
                rows.append(QueueTime(profession=profession, t3_days=level, measured_on=measured_on))
        unit.queue_times = rows

    def generate(self, pilot: Pilot, element: str, count: int) -> list[Unit]:
        codes = sorted(pilot.municipality_codes)
        units: list[Unit] = []
        per_place: dict[tuple[str, str], int] = {}
        for i in range(count):
            code = codes[i % len(codes)] if i < len(codes) else self.rng.choice(codes)
            per_place[(code, element)] = per_place.get((code, element), 0) + 1
            units.append(self.unit(pilot, element, code, per_place[(code, element)]))
        self.sess.add_all(units)
        return units


def seed_demo_units(sess: Session, plan: DemoPlan | None = None, seed: int = 2026) -> int:
    """The standard demo units; skipped when demo units already exist (idempotent)."""
    if sess.scalar(select(func.count(Unit.id)).where(Unit.is_demo.is_(True))):
        return 0
    return _generate(sess, plan or DEMO_PLAN, seed)


def _generate(sess: Session, plan: DemoPlan, seed: int, advance: Callable[[int], None] | None = None) -> int:
    gen = DemoGenerator(sess, seed)
    pilots = {p.slug: p for p in sess.scalars(select(Pilot))}
    made = 0
    for slug, elements in plan.items():
        for element, count in elements.items():
            made += len(gen.generate(pilots[slug], element, count))
            if advance is not None:
                sess.flush()  # the slow part: advance as the rows are written
                advance(count)
    sess.flush()
    return made


def generate_bulk_units(sess: Session, count: int, seed: int = 7, advance: Callable[[int], None] | None = None) -> int:
    """`count` extra demo units spread over the direct-choice pilots (benchmarks)."""
    pilots = [p for p in sess.scalars(select(Pilot).order_by(Pilot.slug)) if p.element("sote_centre")]
    rng = random.Random(seed)
    plan: dict[str, dict[str, int]] = {p.slug: {} for p in pilots}
    for _ in range(count):
        pilot = rng.choice(pilots)
        element = "oral_health" if pilot.element("oral_health") and rng.random() < 0.3 else "sote_centre"
        plan[pilot.slug][element] = plan[pilot.slug].get(element, 0) + 1
    return _generate(sess, plan, seed, advance)
