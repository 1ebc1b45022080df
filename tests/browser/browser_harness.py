"""Crawler and per-page checks for the browser tests (used by tests/browser/conftest.py).

One Chromium, one page per browser context, reused: each page state is loaded once at 1280 px and then
checked in place (axe-core, structure, 320 px and 640 px reflow, 200 % text size), so a full crawl stays
within a few minutes on two cores.
"""
from __future__ import annotations

import importlib.util
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _load_exclusions():
    spec = importlib.util.spec_from_file_location("a11y_exclusions", HERE.parent / "a11y_exclusions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


X = _load_exclusions()
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PAGE_CHECKS_JS = (HERE / "page_checks.js").read_text()
LAYOUT_CHECKS_JS = (HERE / "layout_checks.js").read_text()
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 800}
MEDIUM = {"width": 640, "height": 800}

MAX_PAGES = 330            # total cap on crawled URLs (three languages)
MAX_QUERY_VARIANTS = 3     # distinct query strings per path
MAX_PER_ROUTE_SHAPE = 6    # distinct paths per route shape, e.g. /fi/units/{n} (same template, other data)
SKIP_EXTENSIONS = (".csv", ".pdf", ".json", ".xml", ".zip", ".xlsx", ".txt", ".ics", ".svg", ".png", ".jpg")
SKIP_PATH_WORDS = ("sign-out", "signout", "logout", "log-out", "/static/", "/api/")


def route_shape(path: str) -> str:
    return re.sub(r"/\d+(?=/|$)", "/{n}", path)


@dataclass
class PageResult:
    label: str                 # "crawl", "state: search with filters", ...
    url: str
    lang_in_url: str | None
    status: int | None
    source: str | None = None  # the HTML as served (for the Nu HTML Checker)
    axe: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    reflow: dict = field(default_factory=dict)   # width -> layout result
    zoom: dict = field(default_factory=dict)
    spacing: dict = field(default_factory=dict)  # layout with WCAG 1.4.12 text spacing
    error: str | None = None
    who: str = "anonymous"     # whose browser session (titles are unique per visitor)

    @property
    def where(self) -> str:
        return self.url if self.label == "crawl" else f"{self.url}  [{self.label}]"


def url_lang(url: str) -> str | None:
    first = urlsplit(url).path.strip("/").split("/", 1)[0]
    return first if first in ("fi", "sv", "en") else None


# WCAG 1.4.12 Text spacing: the user style sheet of the success criterion's test.
TEXT_SPACING_ON = """() => {
  const s = document.createElement('style');
  s.id = 'a11y-text-spacing';
  s.textContent = '* { line-height: 1.5 !important; letter-spacing: 0.12em !important; word-spacing: 0.16em !important; }'
                + ' p { margin-bottom: 2em !important; }';
  document.head.appendChild(s);
}"""
TEXT_SPACING_OFF = "() => { const s = document.getElementById('a11y-text-spacing'); if (s) s.remove(); }"

KEY_PAGES = [  # (screenshot name, predicate on the path+query)
    ("home", lambda p, q: re.fullmatch(r"/(fi|sv|en)/?", p) is not None),
    ("search-results", lambda p, q: p.endswith("/search") and bool(q)),
    ("unit", lambda p, q: re.search(r"/units/\d+$", p) is not None),
    ("compare", lambda p, q: "compare" in p or "vertaa" in p or "jamfor" in p),
    ("pilot", lambda p, q: re.search(r"/pilots/[^/]+$", p) is not None),
]


class Checker:
    """Loads pages in one reusable browser page and records a PageResult for each."""

    def __init__(self, page, base_url: str, screenshots: bool = True, who: str = "anonymous"):
        self.page = page
        self.who = who
        self.base = base_url.rstrip("/")
        self.results: list[PageResult] = []
        self.shot_names: set[str] = set()
        self.screenshots = screenshots

    # -- loading ---------------------------------------------------------------------------------
    def goto(self, url: str):
        return self.page.goto(url, wait_until="load")

    def submit_and_wait(self, js_submit: str, arg=None):
        """Run `js_submit` (which submits a form) and return the navigation's response."""
        with self.page.expect_navigation(wait_until="load", timeout=15000) as nav:
            self.page.evaluate(js_submit, arg)
        return nav.value

    # -- checks ----------------------------------------------------------------------------------
    def run_axe(self) -> list:
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            self.page.add_script_tag(path=str(AXE_JS))
        rules = {r: {"enabled": False} for r in X.AXE_DISABLED_RULES}
        result = self.page.evaluate(
            """async ([tags, rules]) => {
                 const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, rules, resultTypes: ['violations']});
                 return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 300),
                                             summary: (n.failureSummary || '').slice(0, 400)}))}));
               }""",
            [X.AXE_TAGS, rules],
        )
        url = self.page.url
        kept = []
        for v in result:
            nodes = [n for n in v["nodes"] if not any(
                re.search(u, url) and rule == v["id"] and re.search(sel, n["target"])
                for (u, rule, sel) in X.AXE_IGNORED_NODES)]
            if nodes:
                kept.append({**v, "nodes": nodes})
        return kept

    def layout(self) -> dict:
        return self.page.evaluate(LAYOUT_CHECKS_JS, {"clipAllowed": list(X.CLIP_ALLOWED_SELECTORS),
                                                     "reflowAllowed": list(X.REFLOW_ALLOWED_SELECTORS)})

    def record(self, label: str, response, full: bool = True) -> PageResult:
        page = self.page
        url = page.url
        res = PageResult(label=label, url=url, lang_in_url=url_lang(url),
                         status=response.status if response else None, who=self.who)
        try:
            ctype = (response.headers.get("content-type", "") if response else "text/html")
            if "text/html" not in ctype:
                res.error = f"not HTML ({ctype})"
                return res
            try:
                res.source = response.text() if response else page.content()
            except Exception:  # noqa: BLE001  (e.g. body unavailable after a redirect chain)
                res.source = page.content()
            res.facts = page.evaluate(PAGE_CHECKS_JS)
            res.axe = self.run_axe()
            if full:
                for size in (NARROW, MEDIUM):
                    page.set_viewport_size(size)
                    res.reflow[size["width"]] = self.layout()
                    if size is NARROW:
                        self.maybe_screenshot(url, "320")
                page.set_viewport_size(DESKTOP)
                self.maybe_screenshot(url, "1280")
                page.evaluate("() => { document.documentElement.style.fontSize = '200%'; }")
                res.zoom = self.layout()
                page.evaluate("() => { document.documentElement.style.fontSize = ''; }")
                page.evaluate(TEXT_SPACING_ON)
                res.spacing = self.layout()
                page.evaluate(TEXT_SPACING_OFF)
        except Exception as exc:  # noqa: BLE001  record and go on: one broken page must not hide the others
            res.error = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:300]}"
        finally:
            if page.viewport_size != DESKTOP:
                page.set_viewport_size(DESKTOP)
            self.results.append(res)
        return res

    def shoot(self, name: str, width: str) -> None:
        """A full-page screenshot of the current page at the current viewport."""
        if not self.screenshots:
            return
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)

    def maybe_screenshot(self, url: str, width: str, name: str | None = None) -> None:
        lang = url_lang(url) or "xx"
        parts = urlsplit(url)
        if name is None:
            for key, pred in KEY_PAGES:
                if pred(parts.path.rstrip("/") or "/", parts.query) or (key == "home" and pred(parts.path,
                                                                                               parts.query)):
                    name = key
                    break
        if not name:
            return
        full = f"{lang}-{name}"
        if (full, width) in self.shot_names:
            return
        self.shot_names.add((full, width))
        self.shoot(full, width)

    def state_screenshots(self, name: str) -> None:
        """Screenshots at both widths of a state that the crawler does not reach (choice journey, staff)."""
        lang = url_lang(self.page.url) or "xx"
        full = f"{lang}-{name}"
        if (full, "1280") in self.shot_names:
            return
        self.page.set_viewport_size(NARROW)
        self.shot_names.add((full, "320"))
        self.shoot(full, "320")
        self.page.set_viewport_size(DESKTOP)
        self.shot_names.add((full, "1280"))
        self.shoot(full, "1280")

    # -- crawling --------------------------------------------------------------------------------
    def links(self) -> list[str]:
        return self.page.eval_on_selector_all(
            "a[href]", "els => els.filter(a => !a.hasAttribute('download')).map(a => a.href)")

    def crawl(self, starts: list[str], label: str = "crawl", max_pages: int = MAX_PAGES,
              allow=lambda path: True) -> list[PageResult]:
        queue = [urljoin(self.base + "/", s.lstrip("/")) for s in starts]
        seen: set[str] = set()
        queries_per_path: dict[str, set[str]] = {}
        paths_per_shape: dict[str, set[str]] = {}
        done: list[PageResult] = []
        while queue and len(done) < max_pages:
            url = urldefrag(queue.pop(0))[0]
            if url in seen:
                continue
            seen.add(url)
            parts = urlsplit(url)
            if f"{parts.scheme}://{parts.netloc}" != self.base or not allow(parts.path):
                continue
            if parts.path.lower().endswith(SKIP_EXTENSIONS) or any(w in parts.path.lower() for w in SKIP_PATH_WORDS):
                continue
            qs = queries_per_path.setdefault(parts.path.rstrip("/"), set())
            if parts.query not in qs and len(qs) >= MAX_QUERY_VARIANTS:
                continue
            shape = paths_per_shape.setdefault(route_shape(parts.path.rstrip("/")), set())
            if parts.path.rstrip("/") not in shape and len(shape) >= MAX_PER_ROUTE_SHAPE:
                continue
            qs.add(parts.query)
            shape.add(parts.path.rstrip("/"))
            try:
                response = self.goto(url)
            except Exception as exc:  # noqa: BLE001
                res = PageResult(label=label, url=url, lang_in_url=url_lang(url), status=None,
                                 error=f"could not load: {str(exc).splitlines()[0][:200]}")
                if "Download is starting" in str(exc):
                    continue
                self.results.append(res)
                done.append(res)
                continue
            final = urldefrag(self.page.url)[0]
            if final != url:  # redirected: apply the same limits to where it landed
                fparts = urlsplit(final)
                fqs = queries_per_path.setdefault(fparts.path.rstrip("/"), set())
                if final in seen or (fparts.query not in fqs and len(fqs) >= MAX_QUERY_VARIANTS):
                    continue
                seen.add(final)
                fqs.add(fparts.query)
            res = self.record(label, response)
            done.append(res)
            if res.source is not None:
                for link in self.links():
                    link = urldefrag(link)[0]
                    if link not in seen:
                        queue.append(link)
        return done


# -- forms ---------------------------------------------------------------------------------------
EMPTY_SUBMIT_JS = """
(index) => {
  const form = document.querySelectorAll('form')[index];
  form.noValidate = true;
  for (const el of Array.from(form.elements)) {
    if (el.type === 'hidden' || el.disabled) continue;
    if (el.type === 'checkbox' || el.type === 'radio') { el.checked = false; continue; }
    if (el.tagName === 'SELECT') {
      const empty = Array.from(el.options).findIndex(o => o.value === '');
      if (empty >= 0) el.selectedIndex = empty;
      continue;
    }
    if (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && !['submit', 'button', 'reset', 'image', 'file'].includes(el.type))) el.value = '';
  }
  const submitter = Array.from(form.querySelectorAll('button:not([type]), button[type=submit], input[type=submit]'))
    .find(b => !b.classList.contains('secondary') && !/cancel|peru|avbryt/i.test(b.name + b.value));
  form.requestSubmit(submitter || undefined);
}
"""

VALID_SUBMIT_JS = """
(index) => {
  // A plausible valid answer: the first enabled option of each radio group, every checkbox that is
  // required or the only one of its name, the first non-empty option of each select.
  const form = document.querySelectorAll('form')[index];
  const groups = {};
  for (const el of Array.from(form.elements)) {
    if (el.disabled) continue;
    if (el.type === 'radio') { if (!groups[el.name]) { groups[el.name] = true; el.checked = true; } }
    else if (el.type === 'checkbox') {
      if (el.required || form.querySelectorAll(`input[type=checkbox][name="${CSS.escape(el.name)}"]`).length === 1) el.checked = true;
    } else if (el.tagName === 'SELECT' && !el.value) {
      const opt = Array.from(el.options).find(o => o.value);
      if (opt) el.value = opt.value;
    }
  }
  const submitter = Array.from(form.querySelectorAll('button:not([type]), button[type=submit], input[type=submit]'))
    .find(b => !b.classList.contains('secondary') && !/cancel|peru|avbryt/i.test(b.name + b.value + b.textContent));
  form.requestSubmit(submitter || undefined);
}
"""


def form_key(form: dict) -> str:
    return f"{form['method']} {route_shape(urlsplit(form['action']).path)}"


def fillable(form: dict) -> bool:
    return any(f["type"] not in ("checkbox",) or f["required"] for f in form["fields"]) and bool(form["fields"])


def now() -> float:
    return time.monotonic()


def full_units(db_path) -> tuple[int | None, int | None]:
    """(the seeded full unit with a queue of three, a full Uusimaa sote-keskus with an empty queue)."""
    import sqlite3
    if db_path is None:
        return None, None
    with sqlite3.connect(db_path) as conn:
        queued = conn.execute("SELECT id FROM unit WHERE waiting_count = 3").fetchone()
        empty = conn.execute(
            "SELECT u.id FROM unit u JOIN pilot p ON p.id = u.pilot_id WHERE p.slug = 'uusimaa' AND u.element = "
            "'sote_centre' AND u.is_hidden = 0 AND u.accepting_new = 1 AND u.capacity = u.listed_count "
            "AND u.waiting_count = 0 ORDER BY u.id DESC").fetchone()
    return (queued[0] if queued else None), (empty[0] if empty else None)
