"""Keyboard only: the skip link, visible focus, and the whole journey from the home page to a receipt
with Tab, Shift+Tab, Enter and Space (no clicks, no page.goto after the start, no fill)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from browser_harness import SCREENSHOTS

pytestmark = pytest.mark.browser

DESCRIBE_ACTIVE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return {tag: 'body', type: '', id: '', name: '', href: '', text: '', cls: '', checked: false,
    required: false, inMain: false, formAction: '', formMethod: '', groupChecked: false, sameNameCount: 0};
  const form = el.form || el.closest('form');
  return {tag: el.tagName.toLowerCase(), type: el.type || '', id: el.id, name: el.getAttribute('name') || '',
          href: el.href || '', text: (el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 60),
          cls: el.className || '', checked: !!el.checked, required: !!el.required,
          inMain: !!el.closest('main'), formAction: form ? form.action : '',
          formMethod: form ? (form.getAttribute('method') || 'get').toLowerCase() : '',
          groupChecked: el.type === 'radio' && form ? !!form.querySelector(`input[type=radio][name="${CSS.escape(el.name)}"]:checked`) : false,
          sameNameCount: form && el.name ? form.querySelectorAll(`[name="${CSS.escape(el.name)}"]`).length : 0};
}"""


def active(page) -> dict:
    return page.evaluate(DESCRIBE_ACTIVE)


def label(a: dict) -> str:
    return f"<{a['tag']}{' type=' + a['type'] if a.get('type') else ''}{' #' + a['id'] if a.get('id') else ''}" \
           f"{' href=' + urlsplit(a['href']).path if a.get('href') else ''}> {a.get('text', '')!r}"


def tab_to(page, want, trail: list, max_steps: int = 150, key: str = "Tab") -> dict | None:
    """Press Tab (or Shift+Tab) until want(activeElement) holds; None when it never does."""
    for _ in range(max_steps):
        page.keyboard.press(key)
        a = active(page)
        if want(a):
            trail.append(f"{key} → {label(a)}")
            return a
    trail.append(f"{key} ×{max_steps}: not found")
    return None


def press_and_wait(page, key: str, trail: list) -> None:
    with page.expect_navigation(wait_until="load", timeout=15000):
        page.keyboard.press(key)
    trail.append(f"{key} → {urlsplit(page.url).path}{'?' + urlsplit(page.url).query if urlsplit(page.url).query else ''}")


def is_primary_submit(a: dict) -> bool:
    return ((a["tag"] == "button" and a["type"] in ("submit", "")) or (a["tag"] == "input" and a["type"] == "submit")) \
        and "secondary" not in a["cls"] and not re.search(r"cancel|peru|avbryt", a["name"] + a["text"], re.I)


# -- skip link ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
def test_skip_link_moves_focus_to_main(live_server, new_page, lang: str) -> None:
    page = new_page()
    problems = []
    for path in (f"/{lang}/", f"/{lang}/search", f"/{lang}/pilots"):
        page.goto(live_server.url + path)
        page.keyboard.press("Tab")
        a = page.evaluate("""() => { const el = document.activeElement; const r = el.getBoundingClientRect();
            return {skip: el.matches('a.skip-link[href="#main"]'), visible: r.left >= 0 && r.top >= 0 && r.width > 1 && r.right <= innerWidth,
                    html: el.outerHTML.slice(0, 120)}; }""")
        if not a["skip"]:
            problems.append(f"{path}: the first Tab reaches {a['html']}, not the skip link")
            continue
        if not a["visible"]:
            problems.append(f"{path}: the focused skip link is not visible on screen")
        page.keyboard.press("Enter")
        inside = page.evaluate("() => { const m = document.querySelector('main#main'); return !!m && (document.activeElement === m || m.contains(document.activeElement)); }")
        if not inside:
            problems.append(f"{path}: after Enter on the skip link focus is on {page.evaluate('() => document.activeElement.outerHTML.slice(0, 100)')}, not main#main")
        # The next Tab continues inside the main content, not back at the header.
        page.keyboard.press("Tab")
        if not page.evaluate("() => !!document.activeElement.closest('main, footer')"):
            problems.append(f"{path}: Tab after the skip link goes to {page.evaluate('() => document.activeElement.outerHTML.slice(0, 100)')}")
    assert not problems, "\n".join(problems)


# -- visible focus -----------------------------------------------------------------------------------
FOCUS_STYLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const pick = (s) => ({outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`, outlineStyle: s.outlineStyle,
                        outlineWidth: parseFloat(s.outlineWidth), shadow: s.boxShadow, bg: s.backgroundColor,
                        border: s.borderColor, deco: s.textDecorationLine});
  const focused = pick(getComputedStyle(el));
  el.blur();
  const plain = pick(getComputedStyle(el));
  el.focus();
  let sel = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '');
  if (el.getAttribute('href')) sel += `[href="${el.getAttribute('href')}"]`;
  if (el.name) sel += `[name="${el.name}"]`;
  return {sel, focused, plain, html: el.outerHTML.slice(0, 140)};
}"""


def _focus_pages(site) -> list[str]:
    crawled = [r for r in site.results if r.label == "crawl" and r.facts and not r.error]
    urls = []
    for pattern in (r"^/fi/?$", r"^/sv/search$", r"^/fi/units/\d+$", r"^/sv/pilots/[^/]+$", r"/identify$",
                    r"/staff/sign-in$"):
        match = next((r.url for r in crawled if re.search(pattern, urlsplit(r.url).path.rstrip("/") or "/")), None)
        if match:
            urls.append(match)
    return urls


TRANSPARENT = ("rgba(0, 0, 0, 0)", "transparent")


def _visible_indicator(f: dict, p: dict) -> bool:
    """A focus indicator: a non-transparent outline, a box-shadow, or a changed background."""
    outline = f["outlineStyle"] != "none" and f["outlineWidth"] > 0 and not f["outline"].endswith(TRANSPARENT)
    return outline or f["shadow"] != "none" or f["bg"] != p["bg"]


def test_focus_is_always_visible(site, new_page, sign_in_resident) -> None:
    page = new_page()
    problems = []
    checked = 0
    urls = _focus_pages(site)
    # Signed in (the header then has the resident's name and a sign-out button): my choices.
    signed_in = new_page()
    if sign_in_resident(signed_in, "fi") is None:
        mine = next((r.url for r in site.results if r.label == "signed-in crawl" and r.lang_in_url == "fi"), None)
        if mine:
            urls.append(("signed-in", mine))
    for url in urls:
        if isinstance(url, tuple):
            page, url = signed_in, url[1]
        page.goto(url)
        first = None
        for _ in range(80):
            page.keyboard.press("Tab")
            info = page.evaluate(FOCUS_STYLE)
            if info is None:
                break
            if info["sel"] == first:
                break  # wrapped around
            first = first or info["sel"]
            checked += 1
            f, p = info["focused"], info["plain"]
            indicator = _visible_indicator(f, p)
            differs = (f["outline"], f["shadow"], f["bg"]) != (p["outline"], p["shadow"], p["bg"])
            if not indicator or not differs:
                problems.append(f"{url}: {info['sel']} has no visible focus indicator "
                                f"(focused outline {f['outline']}, box-shadow {f['shadow']}; unfocused outline {p['outline']}, "
                                f"box-shadow {p['shadow']})\n    {info['html']}")
    print(f"\nfocus checked on {checked} elements of {[u[1] if isinstance(u, tuple) else u for u in urls]}")
    assert checked, "no focusable element reached by Tab on the key pages"
    assert not problems, f"Focus not visible ({len(problems)}):\n" + "\n".join(problems)


# -- the whole journey by keyboard ------------------------------------------------------------------------
def _complete_form_by_keyboard(page, trail: list) -> str | None:
    """Tab through the main form: Space on an unchecked radio group's first radio and on a lone/required
    checkbox, then Enter on the primary submit button. Returns a problem or None."""
    for _ in range(120):
        page.keyboard.press("Tab")
        a = active(page)
        if a["tag"] == "body":
            return "Tab left the page without reaching a submit button"
        if not a["inMain"] or a["formMethod"] != "post":
            continue
        if a["type"] == "radio" and not a["groupChecked"]:
            page.keyboard.press("Space")
            trail.append(f"Space on {label(a)}")
        elif a["type"] == "checkbox" and not a["checked"] and (a["required"] or a["sameNameCount"] == 1):
            page.keyboard.press("Space")
            trail.append(f"Space on {label(a)}")
        elif is_primary_submit(a):
            trail.append(f"Tab → {label(a)}")
            press_and_wait(page, "Enter", trail)
            return None
    return "no submit button reached by Tab"


def test_keyboard_only_journey_to_receipt(fresh_server, new_page) -> None:
    page = new_page()
    trail: list[str] = []
    base = fresh_server.url
    page.goto(base + "/fi/")
    trail.append("start /fi/")

    def fail(msg: str, exists_js: str | None = None) -> None:
        # When the control is not in the page at all, the flow is not built yet: skip and say what is missing.
        if exists_js and not page.evaluate(exists_js):
            pytest.skip(f"the journey is not there yet: {msg} (not in the page at all)\n  " + "\n  ".join(trail))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "keyboard-journey-failure.png"), full_page=True)
        pytest.fail(f"{msg}\nkeyboard trail:\n  " + "\n  ".join(trail), pytrace=False)

    # 1. Home → search (the navigation link, or a search field on the home page). Then a unit: when the
    #    test person may not choose it (another pilot), back to the search by keyboard and the next unit.
    a = tab_to(page, lambda a: a["href"].rstrip("/").endswith("/fi/search") or (
        a["inMain"] and a["type"] == "search"), trail)
    if not a:
        fail("no search link or field reachable by Tab from the home page",
             "() => !!document.querySelector('a[href$=\"/search\"], main input[type=search]')")
    press_and_wait(page, "Enter", trail)

    unit_re = re.compile(r"/fi/units/\d+$")
    search_url = page.url
    for attempt in range(10):
        # 2. Search → a unit: Tab to the attempt-th result; if the results are not listed before searching,
        #    submit the form first.
        seen: list[str] = []

        def nth_unit(a: dict, n: int = attempt, seen: list[str] = seen) -> bool:
            if a["tag"] == "body":
                return True
            if unit_re.search(urlsplit(a["href"]).path) and a["href"] not in seen:
                seen.append(a["href"])
                return len(seen) > n
            return False

        a = tab_to(page, nth_unit, trail)
        if not a or a["tag"] == "body":
            if attempt:
                fail(f"the search page lists fewer than {attempt + 1} units reachable by Tab")
            page.keyboard.press("Shift+Tab")  # back into the page from the end
            a = tab_to(page, lambda a: a["inMain"] and a["formMethod"] == "get" and is_primary_submit(a), trail,
                       key="Shift+Tab")
            if not a:
                fail("the search page shows no unit link and no search button reachable by keyboard",
                     "() => !!document.querySelector('main a[href*=\"/units/\"], main form button, main form input[type=submit]')")
            press_and_wait(page, "Enter", trail)
            seen.clear()
            a = tab_to(page, nth_unit, trail)
            if not a or a["tag"] == "body":
                fail("no link to a unit page in the search results reachable by Tab",
                     "() => !!document.querySelector('main a[href*=\"/units/\"]')")
        press_and_wait(page, "Enter", trail)

        # 3. Unit → choose.
        choose = tab_to(page, lambda a: a["inMain"] and (
            re.search(r"/choose|/choice", urlsplit(a["href"]).path) is not None
            or (is_primary_submit(a) and re.search(r"/choose|/choice", a["formAction"]) is not None)), trail)
        if not choose:
            pytest.skip("the choice journey is not there yet: the unit page has no link or button to /choose/ "
                        "reachable by Tab.\n  " + "\n  ".join(trail))
        press_and_wait(page, "Enter", trail)

        # 4. Identify as a test person, decide, confirm … until a receipt.
        for _step in range(8):
            path = urlsplit(page.url).path
            if re.search(r"receipt|kuitti|kvitto|/done|/confirmed", page.url, re.I) or page.evaluate(
                    "() => !!document.querySelector('[data-print]')"):
                SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SCREENSHOTS / "keyboard-journey-receipt.png"), full_page=True)
                trail.append(f"receipt at {path}")
                print("\n" + "\n".join(trail))
                return
            has_form = page.evaluate("() => !!document.querySelector('main form[method=post], main form[method=POST]')")
            if not has_form and "/identify" in path:
                # A choice of identification methods: Tab to the test identification link.
                a = tab_to(page, lambda a: a["inMain"] and re.search(r"/identify/.*test|/identify/test",
                                                                     urlsplit(a["href"]).path) is not None, trail)
                if not a:
                    fail(f"{path}: no link to the test identification reachable by Tab",
                         "() => !!document.querySelector('main a[href*=\"/identify/\"]')")
                press_and_wait(page, "Enter", trail)
                continue
            if has_form:
                problem = _complete_form_by_keyboard(page, trail)
                if problem:
                    fail(f"{path}: {problem}")
                continue
            # A decision page: a continue button (link), or a refusal.
            a = tab_to(page, lambda a: a["tag"] == "body" or (
                a["inMain"] and a["tag"] == "a" and "button" in a["cls"] and "secondary" not in a["cls"]
                and not re.search(r"/(search|units|pilots)(/|$)|/waiting-list$", urlsplit(a["href"]).path)), trail)
            if a and a["tag"] != "body":
                press_and_wait(page, "Enter", trail)
                continue
            trail.append(f"refused at {path}: back to the search by keyboard, next unit")
            a = tab_to(page,
                       lambda a: a["href"] and urlsplit(a["href"]).path.rstrip("/") == urlsplit(search_url).path.rstrip("/"), trail)
            if not a:
                fail("no link back to the search reachable by Tab")
            press_and_wait(page, "Enter", trail)
            break
        else:
            fail("no receipt after 8 steps")
    fail("no unit among the first 10 results could be chosen")


# -- a full unit to "you are first in the queue", by keyboard -----------------------------------------------
@pytest.mark.parametrize("lang", ["fi", "sv"])
def test_keyboard_journey_from_a_full_unit_to_first_in_the_queue(fresh_server, new_page, lang: str) -> None:
    """From the page of a full unit with an empty queue (the one page.goto), by Tab, Space and Enter only:
    join the waiting list → identify → the offer on the decision page → confirm → the receipt says first."""
    from browser_harness import full_units
    _queued, unit = full_units(fresh_server.db_path)
    assert unit is not None, "the seed has no full unit with an empty queue (webapp/seeding/waiting.py)"
    page = new_page()
    trail: list[str] = []
    page.goto(f"{fresh_server.url}/{lang}/units/{unit}")
    trail.append(f"start /{lang}/units/{unit}")

    def fail(msg: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"keyboard-queue-failure-{lang}.png"), full_page=True)
        pytest.fail(f"{msg}\nkeyboard trail:\n  " + "\n  ".join(trail), pytrace=False)

    join = tab_to(page, lambda a: a["inMain"] and re.search(rf"/{lang}/choose/{unit}$",
                                                            urlsplit(a["href"]).path) is not None,
                  trail)
    if not join:
        fail("the full unit's page has no 'join the waiting list' link reachable by Tab")
    press_and_wait(page, "Enter", trail)
    if "/identify" not in urlsplit(page.url).path:
        fail(f"expected the identification page, got {page.url}")
    if not page.evaluate("() => !!document.querySelector('main form[method=post], main form[method=POST]')"):
        a = tab_to(page, lambda a: a["inMain"] and re.search(r"/identify/test", urlsplit(a["href"]).path) is not None,
                   trail)
        if not a:
            fail("no link to the test identification reachable by Tab")
        press_and_wait(page, "Enter", trail)
    problem = _complete_form_by_keyboard(page, trail)  # the first test person (Aino: may choose in Uusimaa)
    if problem:
        fail(f"identification: {problem}")
    if not re.search(rf"/choose/{unit}$", urlsplit(page.url).path):
        fail(f"after identification expected the decision page, got {page.url}")
    offer = tab_to(page, lambda a: a["inMain"] and urlsplit(a["href"]).path.endswith(f"/choose/{unit}/waiting-list"),
                   trail)
    if not offer:
        fail("the decision page offers no waiting list reachable by Tab")
    press_and_wait(page, "Enter", trail)
    problem = _complete_form_by_keyboard(page, trail)
    if problem:
        fail(f"join page: {problem}")
    text = page.inner_text("main")
    first = {"fi": "Olet jonossa ensimmäisenä", "sv": "Du står först i kön"}[lang]
    if first not in text or "/my-choices/waiting/" not in page.url:
        fail(f"the receipt does not say '{first}' ({page.url})")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"keyboard-queue-first-{lang}.png"), full_page=True)
    print("\n" + "\n".join(trail))
