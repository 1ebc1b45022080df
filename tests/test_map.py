"""The map of the results: offered only with a configured tile URL; the CSP then allows exactly that host.
(Its keyboard use and absence without JavaScript are in tests/browser/test_browser_map.py.)"""
from __future__ import annotations

import re

import pytest

from webapp.core.config import ConfigError, load_settings

TILES = "https://tiles.example.test/osm/{z}/{x}/{y}.png"
CREDIT = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'


def test_without_a_tile_url_no_map_is_offered_and_nothing_leaves_the_site(client):
    response = client.get("/fi/search?element=oral_health")
    html = response.get_data(as_text=True)
    assert 'id="results-map"' not in html and "leaflet" not in html and "map.js" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp
    assert not re.search(r"https?://", csp)


def test_with_a_tile_url_the_map_markup_and_exactly_that_host(make_app):
    app = make_app(MAP_TILE_URL=TILES, MAP_ATTRIBUTION=CREDIT)
    response = app.test_client().get("/sv/search?element=oral_health&profile=wheelchair")
    html = response.get_data(as_text=True)
    assert '/static/vendor/leaflet/leaflet.js' in html and '/static/js/map.js' in html
    section = re.search(r'<section id="results-map"[^>]*>', html).group(0)
    assert " hidden" in section  # shown by the script only: no JavaScript, no map
    assert f'data-tile-url="{TILES}"' in section
    assert ('data-attribution="© &lt;a href=&#34;https://www.openstreetmap.org/copyright&#34;&gt;OpenStreetMap'
            in section)
    assert 'data-zoom-in="Zooma in"' in section
    assert '<h3 id="map-heading">Resultaten på den här sidan på en karta</h3>' in html
    assert 'role="region" aria-label="Karta"' in html
    cards = re.findall(r'<li class="card result-card" id="unit-(\d+)" data-lat="([\d.]+)" data-lon="([\d.]+)"', html)
    assert len(cards) == html.count('class="card result-card"') > 1
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.test;" in csp
    assert csp.count("https://") == 1  # the tile host, in img-src only


def test_no_map_when_there_are_no_results(make_app):
    app = make_app(MAP_TILE_URL=TILES, MAP_ATTRIBUTION=CREDIT)
    html = app.test_client().get("/fi/search?q=xqzzyvvk").get_data(as_text=True)
    assert 'id="results-map"' not in html and "leaflet.js" not in html


@pytest.mark.parametrize("url, attribution, message", [
    ("http://tiles.example.test/{z}/{x}/{y}.png", CREDIT, "https://"),
    ("https://{s}.tile.example.test/{z}/{x}/{y}.png", CREDIT, "one host"),
    ("https://tiles.example.test/tiles.png", CREDIT, "{z}, {x} and {y}"),
    (TILES, "", "MAP_ATTRIBUTION"),
])
def test_a_bad_map_configuration_refuses_to_start(url, attribution, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings({"MAP_TILE_URL": url, "MAP_ATTRIBUTION": attribution})


def test_a_local_tile_server_may_use_http():
    url = "http://127.0.0.1:5131/tiles/{z}/{x}/{y}.png"
    assert load_settings({"MAP_TILE_URL": url, "MAP_ATTRIBUTION": "test"}).map_tile_url == url
