"""What every search needs besides the index: read once, kept by the SearchIndex (ReferenceData).

- Pilots and pilot-area municipalities with their names in collation order, and the sets of valid
  pilot slugs and municipality codes: reference data, read again after REFERENCE_TTL seconds so that a
  pilot added by `flask seed` shows up without a restart.
- Postcode coordinates: reference data, cached per postcode.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.core.collation import collation_key
from webapp.models import Municipality, Pilot, PilotMunicipality, Postcode
from webapp.search.params import Known

REFERENCE_TTL = 60.0


@dataclass(frozen=True)
class Reference:
    """Pilot and municipality names in one language."""
    lang: str
    pilots: list[tuple[str, str]]          # (slug, name), collation order
    municipalities: list[tuple[str, str]]  # (code, name), collation order, pilot areas only
    regions: dict[str, str]  # municipality code -> its region's name
    pilot_names: dict[str, str]
    municipality_names: dict[str, str]


@dataclass
class _Data:
    loaded_at: float
    pilots: list[tuple[str, str, str]]  # (slug, name_fi, name_sv)
    municipalities: list[tuple[str, str, str, str, str]]  # (code, name_fi, name_sv, region_fi, region_sv)
    pilot_slugs: frozenset[str]
    municipality_codes: frozenset[str]
    by_lang: dict[str, Reference]
    origins: dict[str, tuple[float, float]]  # postcode -> its coordinates, else its municipality's


def _load(sess: Session) -> _Data:
    pilots = [(r[0], r[1], r[2]) for r in sess.execute(select(Pilot.slug, Pilot.name_fi, Pilot.name_sv))]
    area = select(PilotMunicipality.municipality_code)
    cols = (Municipality.code, Municipality.name_fi, Municipality.name_sv, Municipality.region_fi,
            Municipality.region_sv)
    munis = [(r[0], r[1], r[2], r[3], r[4]) for r in sess.execute(select(*cols).where(Municipality.code.in_(area)))]
    codes = frozenset(sess.scalars(select(Municipality.code)))
    return _Data(time.monotonic(), pilots, munis, frozenset(p[0] for p in pilots), codes, {}, _all_origins(sess))


def _all_origins(sess: Session) -> dict[str, tuple[float, float]]:
    """Every postcode's coordinates, else its municipality's (about 3,000 rows: one statement, instead of one
    per new postcode searched)."""
    origins: dict[str, tuple[float, float]] = {}
    for code, plat, plon, mlat, mlon in sess.execute(
            select(Postcode.code, Postcode.lat, Postcode.lon, Municipality.lat, Municipality.lon)
            .join(Municipality, Municipality.code == Postcode.municipality_code)):
        if plat is not None and plon is not None:
            origins[code] = (plat, plon)
        elif mlat is not None and mlon is not None:
            origins[code] = (mlat, mlon)
    return origins


class ReferenceData:
    """The reference data of one database, read again after REFERENCE_TTL seconds."""

    def __init__(self) -> None:
        self._data: _Data | None = None

    def _current(self, sess: Session) -> _Data:
        data = self._data
        if data is None or time.monotonic() - data.loaded_at > REFERENCE_TTL:
            data = self._data = _load(sess)  # (two threads may both read it: the same rows)
        return data

    def loaded_at(self, sess: Session) -> float:
        """When the reference data in use was read (part of the page cache's key, webapp/page_cache.py)."""
        return self._current(sess).loaded_at

    def reference(self, sess: Session, lang: str) -> Reference:
        data = self._current(sess)
        ref = data.by_lang.get(lang)
        if ref is None:
            i = 2 if lang == "sv" else 1
            pilots = sorted(((p[0], p[i] or p[1]) for p in data.pilots), key=lambda p: collation_key(p[1]))
            munis = sorted(((m[0], m[i]) for m in data.municipalities), key=lambda m: collation_key(m[1]))
            regions = {m[0]: (m[4] if lang == "sv" else m[3]) or "" for m in data.municipalities}
            ref = Reference(lang, pilots, munis, regions, dict(pilots), dict(munis))
            data.by_lang[lang] = ref
        return ref

    def known(self, sess: Session) -> Known:
        """Valid pilot slugs and municipality codes, and a postcode lookup."""
        data = self._current(sess)
        return Known(pilots=data.pilot_slugs, municipalities=data.municipality_codes,
                     postcode_origin=data.origins.get)
