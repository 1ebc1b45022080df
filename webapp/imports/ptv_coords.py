"""PTV coordinates: ETRS-TM35FIN metres (EPSG:3067) to WGS84 degrees, checked to lie in Finland.

PTV's service locations carry `latitude` and `longitude` as strings, in ETRS-TM35FIN: the
"latitude" is the northing (e.g. "6839060.668") and the "longitude" the easting ("514295.022").
"0"/"0" or empty strings mean that PTV does not know the place. pyproj does the conversion
(EUREF-FIN and WGS84 differ by less than a metre, well below what a unit page shows).
"""
from __future__ import annotations

import math
from functools import lru_cache

from pyproj import Transformer

# The same box the unit form accepts (webapp.units.fields.LAT_RANGE / LON_RANGE).
FINLAND_LAT = (59.5, 70.1)
FINLAND_LON = (19.0, 31.6)
# ETRS-TM35FIN's area of use (EPSG:3067), a little wider than Finland itself.
TM35_NORTH = (6_500_000.0, 7_900_000.0)
TM35_EAST = (-100_000.0, 900_000.0)

MISSING, OUTSIDE = "missing", "outside"


@lru_cache(maxsize=1)
def _transformer() -> Transformer:
    # always_xy: input (easting, northing), output (longitude, latitude).
    return Transformer.from_crs("EPSG:3067", "EPSG:4326", always_xy=True)


def tm35fin_to_wgs84(northing: float, easting: float) -> tuple[float, float]:
    """(latitude, longitude) in degrees for an ETRS-TM35FIN point."""
    lon, lat = _transformer().transform(easting, northing)
    return lat, lon


def in_finland(lat: float, lon: float) -> bool:
    return FINLAND_LAT[0] <= lat <= FINLAND_LAT[1] and FINLAND_LON[0] <= lon <= FINLAND_LON[1]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str) and value.strip():
        try:
            number = float(value.strip().replace(",", "."))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def from_ptv(latitude: object, longitude: object) -> tuple[tuple[float, float] | None, str]:
    """PTV's latitude/longitude strings as ((lat, lon), "") or (None, MISSING | OUTSIDE).

    Metres in the TM35FIN range are converted; values that already are WGS84 degrees inside
    Finland (seen in hand-made exports) are taken as they are; 0/0 and empty values are unknown.
    """
    north, east = _number(latitude), _number(longitude)
    if north is None or east is None or (north == 0 and east == 0):
        return None, MISSING
    if TM35_NORTH[0] <= north <= TM35_NORTH[1] and TM35_EAST[0] <= east <= TM35_EAST[1]:
        lat, lon = tm35fin_to_wgs84(north, east)
    elif in_finland(north, east):
        lat, lon = north, east
    else:
        return None, OUTSIDE
    if not in_finland(lat, lon):
        return None, OUTSIDE
    return (round(lat, 6), round(lon, 6)), ""
