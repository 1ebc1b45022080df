"""The map of the results in a real browser: markers reachable by keyboard, named, and linked to their
cards; no violations in three languages and at 320 px; no map without JavaScript or without a tile URL.

The browser has no network: tiles come from a tiny local tile server, whose origin is the configured
MAP_TILE_URL, so the page's real CSP (not bypassed here) must allow it.
"""
from __future__ import annotations

import base64
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_harness import Checker

ROOT = Path(__file__).resolve().parents[2]
# A 1x1 grey PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGO4DwABAQEAWk1v8QAAAABJRU5ErkJggg==")
SEARCH = "/{lang}/search?element=oral_health&pilot=uusimaa&profile=wheelchair"


def _tile_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "image/png"), ("Content-Length", str(len(PNG)))])
    return [PNG]


def _start(app):
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def map_server(sqlite_template: Path, tmp_path_factory):
    """The site with MAP_TILE_URL pointing at a local tile server: (site url, tile origin)."""
    if not (ROOT / "static" / "vendor" / "leaflet" / "leaflet.js").exists():
        import dev  # the same step `python3 dev.py test` runs
        dev.build_assets()
    from webapp import create_app
    work = tmp_path_factory.mktemp("map")
    shutil.copy(sqlite_template / "seeded.db", work / "live.db")
    shutil.copytree(sqlite_template / "index", work / "index")
    tiles, tiles_thread = _start(_tile_app)
    tile_origin = f"http://127.0.0.1:{tiles.server_port}"
    app = create_app({
        "DATABASE_URL": f"sqlite:///{work / 'live.db'}", "INDEX_DIR": str(work / "index"), "INSTANCE_DIR": str(work),
        "TESTING": True, "RATE_LIMIT_ENABLED": False, "SECRET_KEY": "map-test-secret-key-" * 3,
        "RESIDENT_KEY_SECRET": "map-test-resident-secret-" * 3,
        "MAP_TILE_URL": tile_origin + "/tiles/{z}/{x}/{y}.png", "MAP_ATTRIBUTION": "© Test tiles",
    })
    site, site_thread = _start(app)
    yield f"http://127.0.0.1:{site.server_port}", tile_origin
    for server, thread in ((site, site_thread), (tiles, tiles_thread)):
        server.shutdown()
        thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


def _requests(page) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    return seen


def _origins(urls: list[str]) -> set[str]:
    return {f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in urls if u.startswith("http")}


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_map_shows_the_results_and_is_axe_clean_also_at_320_px(map_server, new_page, lang: str) -> None:
    base, tile_origin = map_server
    page = new_page(bypass_csp=False)
    requests = _requests(page)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    checker = Checker(page, base, screenshots=lang != "en")
    response = checker.goto(base + SEARCH.format(lang=lang))
    page.wait_for_selector("#results-map:not([hidden]) .leaflet-marker-icon")
    page.wait_for_function("() => document.querySelectorAll('#results-map img.leaflet-tile-loaded').length > 0")
    cards = page.locator(".result-card").count()
    markers = page.locator("#results-map .leaflet-marker-icon")
    assert markers.count() == cards > 1
    assert _origins(requests) == {base, tile_origin}
    assert not [e for e in errors if "Content Security Policy" in e], errors
    # axe-core is injected as a script, which the real CSP rightly refuses: check in a page that bypasses it.
    page = new_page()
    checker = Checker(page, base, screenshots=lang != "en")
    response = checker.goto(base + SEARCH.format(lang=lang))
    page.wait_for_selector("#results-map:not([hidden]) .leaflet-marker-icon")
    res = checker.record("state: map of the results", response)
    checker.state_screenshots("search-map")
    assert res.error is None, res.error
    assert res.axe == [], res.axe
    narrow = res.reflow[320]
    assert narrow["scrollWidth"] <= narrow["innerWidth"] + 1, narrow["wide"]


def test_markers_are_named_buttons_reached_by_tab_and_enter_goes_to_the_card(map_server, new_page) -> None:
    base, _tiles = map_server
    page = new_page(bypass_csp=False)
    page.goto(base + SEARCH.format(lang="fi"))
    page.wait_for_selector("#results-map:not([hidden]) .leaflet-marker-icon")
    first_card = page.locator(".result-card").first
    first_name = first_card.locator("h3 a").inner_text().strip()
    # Keyboard only: from the map's heading onwards, Tab until a marker has the focus.
    page.locator("#map-heading").evaluate("h => { h.tabIndex = -1; h.focus(); }")
    focused = None
    for _ in range(12):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => { const el = document.activeElement;
            return {marker: el.classList.contains('leaflet-marker-icon'), role: el.getAttribute('role'),
                    name: el.getAttribute('aria-label'), title: el.getAttribute('title'), unit: el.dataset.unit,
                    shown: el.textContent.trim()}; }""")
        if focused["marker"]:
            break
    assert focused and focused["marker"], "no marker reached with Tab"
    assert focused["role"] == "button"
    assert focused["name"] == focused["title"]
    assert focused["name"].startswith(f"1. {first_name}")
    assert focused["shown"] == "1"  # the list's number, for the eye
    assert focused["unit"] == first_card.get_attribute("id")
    # The next Tab reaches the second marker, in the order of the list.
    page.keyboard.press("Tab")
    second = page.evaluate("() => document.activeElement.getAttribute('aria-label') || ''")
    assert second.startswith("2. ")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    landed = page.evaluate("""() => { const el = document.activeElement; const li = el.closest('li.result-card');
        return {tag: el.tagName, card: li ? li.id : null}; }""")
    assert landed == {"tag": "A", "card": first_card.get_attribute("id")}


def test_no_map_without_javascript(map_server, new_page) -> None:
    base, tile_origin = map_server
    page = new_page(java_script_enabled=False, bypass_csp=False)
    requests = _requests(page)
    page.goto(base + SEARCH.format(lang="sv"))
    assert page.locator("#results-map").count() == 1
    assert not page.locator("#results-map").is_visible()
    assert page.locator(".result-card").count() > 1  # the list is the complete view
    assert tile_origin not in _origins(requests)


def test_no_map_and_no_outside_request_without_a_tile_url(live_server, new_page) -> None:
    page = new_page(bypass_csp=False)
    requests = _requests(page)
    page.goto(live_server.url + SEARCH.format(lang="en"))
    page.wait_for_load_state("networkidle")
    assert page.locator("#results-map").count() == 0
    assert page.locator(".result-card").count() > 1
    assert _origins(requests) == {live_server.url}
