"""The checks themselves find problems: a deliberately broken page must fail each of them
(so that a green crawl means something)."""
from __future__ import annotations

import pytest
from browser_harness import NARROW, Checker

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html><head><title>x</title>
<style>.clip { width: 4rem; height: 1.2rem; overflow: hidden; white-space: nowrap; }</style></head><body>
<h2>Starts at h2</h2><h4>skips h3</h4>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<input type="text" aria-invalid="true" aria-describedby="nowhere">
<p style="color:#aaa;background:#fff">low contrast text</p>
<div style="width:900px">wide</div>
<div class="clip">This text is far too long for its box</div>
</body></html>"""


def test_checks_catch_a_broken_page(new_page, live_server) -> None:
    page = new_page()
    page.goto(live_server.url + "/static/css/site.css")  # any same-origin document, then replace it
    page.set_content(BROKEN)
    checker = Checker(page, live_server.url, screenshots=False)
    rules = {v["id"] for v in checker.run_axe()}
    assert {"image-alt", "label", "html-has-lang", "color-contrast"} <= rules, rules
    facts = page.evaluate(__import__("browser_harness").PAGE_CHECKS_JS)
    assert facts["h1"] == 0
    assert [h["level"] for h in facts["headings"]] == [2, 4]
    assert facts["invalid"][0]["missing"] == ["nowhere"]
    page.set_viewport_size(NARROW)
    assert checker.layout()["scrollWidth"] > NARROW["width"]
    assert checker.layout()["wide"], "the wide element should be named"
    assert any("clip" in c["el"] for c in checker.layout()["clipped"])
