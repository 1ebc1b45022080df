"""Fixtures for the real-browser tests: a live server on a fresh seeded database, one Chromium, and a
session-wide crawl of the site whose results all the checks in this folder read.

Chromium is Debian's /usr/bin/chromium driven by Playwright's Python API. Without it the tests skip
with the reason, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import datetime
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from browser_harness import (
    ARTIFACTS,
    AXE_JS,
    DESKTOP,
    EMPTY_SUBMIT_JS,
    SCREENSHOTS,
    VALID_SUBMIT_JS,
    Checker,
    PageResult,
    fillable,
    form_key,
    full_units,
    now,
)

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
LANGS = ("fi", "sv", "en")
# The signed-in choice journey walks in the two official languages; English pages of it are reached by
# the signed-in crawl's language links and by the crawl of /en/.
JOURNEY_LANGS = ("fi", "sv")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI must run the browser tests: {reason}", pytrace=False)
    pytest.skip(reason)


# -- server ----------------------------------------------------------------------------------------
STAFF_TEST_PASSWORD = "browser-test-password-2026"


def _set_staff_password(app) -> str | None:
    """Give the first demo staff account a known password in this database copy; its e-mail, or None."""
    try:
        from sqlalchemy import func, select

        from webapp.accounts.staff import DEMO_ACCOUNTS, hash_password
        from webapp.models import StaffUser
        from webapp.web import db
    except Exception:  # noqa: BLE001  the staff area is not there (yet)
        return None
    with app.app_context():
        sess = db.session()
        try:
            for _role, email, _name in DEMO_ACCOUNTS:
                user = sess.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.lower()))
                if user is not None:
                    user.password_hash = hash_password(STAFF_TEST_PASSWORD)
                    sess.commit()
                    return email
        finally:
            sess.close()
    return None


@dataclass
class LiveServer:
    url: str
    staff_email: str | None
    db_path: Path | None = None
    ptv_unit: int | None = None  # a unit imported from PTV, with accessibility sentences

    def __str__(self) -> str:
        return self.url


def _import_ptv_unit(app) -> int | None:
    """Import one PTV-shaped service location (tests/ptv_fixtures.py) with the real import code."""
    from sqlalchemy import select

    from tests import ptv_fixtures
    from webapp.imports.ptv import apply_import, plan_import
    from webapp.models import Pilot, Provider
    from webapp.web import db
    with app.app_context():
        sess = db.session()
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == "uusimaa"))
        provider = sess.scalar(select(Provider).where(Provider.y_tunnus == "3146740-4"))
        if pilot is None or provider is None:
            return None
        result = plan_import(sess, None, [ptv_fixtures.v11_location()], pilot, provider, "sote_centre",
                             datetime.date(2026, 11, 30))
        if not result.plan.ok:
            return None
        with db.write_transaction(sess):
            ids = apply_import(sess, None, result.plan)
        return ids[0] if ids else None


def _serve(sqlite_template: Path, work: Path):
    """The app on a free localhost port on its own copy of the seeded SQLite database."""
    from werkzeug.serving import make_server

    from webapp import create_app

    shutil.copy(sqlite_template / "seeded.db", work / "live.db")
    shutil.copytree(sqlite_template / "index", work / "index")
    app = create_app({
        "DATABASE_URL": f"sqlite:///{work / 'live.db'}", "INDEX_DIR": str(work / "index"),
        "INSTANCE_DIR": str(work), "TESTING": True, "RATE_LIMIT_ENABLED": False,
        "SECRET_KEY": "browser-test-secret-key-" * 2,
        # The seed's secret (tests/conftest.py), so the test persons' seeded choices and waiting lists are theirs.
        "RESIDENT_KEY_SECRET": "test-resident-secret-" * 3,
    })
    staff_email = _set_staff_password(app)
    ptv_unit = _import_ptv_unit(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)
        app.extensions["db_engine"].dispose()

    return LiveServer(f"http://127.0.0.1:{server.server_port}", staff_email, work / "live.db", ptv_unit), stop


@pytest.fixture(scope="session")
def live_server(sqlite_template: Path, tmp_path_factory) -> LiveServer:
    """The app served for the whole session (the crawl and its states)."""
    server, stop = _serve(sqlite_template, tmp_path_factory.mktemp("live"))
    yield server
    stop()


@pytest.fixture
def fresh_server(sqlite_template: Path, tmp_path: Path) -> LiveServer:
    """Another server on an untouched database copy, for a test that must not see the crawl's choices."""
    server, stop = _serve(sqlite_template, tmp_path)
    yield server
    stop()


# -- browser ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is missing at {CHROMIUM}: install Debian's 'chromium' package "
                     "(python3 dev.py test does it) or set CHROMIUM_PATH")
    if not AXE_JS.exists():
        _unavailable(f"axe-core is missing at {AXE_JS}: run `npm ci` (python3 dev.py test does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    for old in SCREENSHOTS.glob("*.png"):  # this run's screenshots only
        old.unlink()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def new_page(browser):
    """new_page(**context_options) -> a page in a fresh context (own cookies) that can inject axe-core."""
    contexts = []

    def factory(**options):
        opts = {"bypass_csp": True, "viewport": DESKTOP, "locale": "fi-FI", "reduced_motion": "reduce", **options}
        ctx = browser.new_context(**opts)
        ctx.set_default_timeout(15000)
        contexts.append(ctx)
        return ctx.new_page()

    yield factory
    for ctx in contexts:
        ctx.close()


# -- the crawl -------------------------------------------------------------------------------------
@dataclass(repr=False)
class Site:
    base: str
    results: list[PageResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)   # flow -> why it could not be checked
    checked: dict[str, int] = field(default_factory=dict)   # flow -> states checked
    timings: dict[str, float] = field(default_factory=dict)
    screenshots: set = field(default_factory=set)

    def __repr__(self) -> str:
        return f"<Site {self.base}: {len(self.results)} page states>"

    def pages(self, label_prefix: str = "") -> list[PageResult]:
        return [r for r in self.results if r.label.startswith(label_prefix)]


def _main_forms(checker: Checker, res: PageResult) -> list[dict]:
    return [f for f in res.facts.get("forms", []) if f["inMain"]] if res.facts else []


def _submit_form(checker: Checker, index: int, js: str):
    try:
        return checker.submit_and_wait(js, index)
    except Exception as exc:  # noqa: BLE001
        return exc


def check_search_states(checker: Checker, site: Site) -> None:
    """Search with filters, and search with no results, in both languages."""
    for lang in LANGS:
        resp = checker.goto(f"{site.base}/{lang}/search")
        form_index = checker.page.evaluate("""() => {
            const forms = Array.from(document.querySelectorAll('main form'));
            const f = forms.find(f => (f.getAttribute('method') || 'get').toLowerCase() === 'get'
                                      && f.querySelector('input[type=search], input[type=text], input[name=q]'));
            return f ? Array.from(document.querySelectorAll('form')).indexOf(f) : -1;
        }""")
        if resp is None or resp.status >= 400 or form_index < 0:
            site.skipped["search states"] = f"no GET search form with a text field in main at /{lang}/search (status {resp.status if resp else None})"
            return
        # Filters: the first non-empty option of the first select and the first box of the first two
        # checkbox groups (a few filters, so that there are still results).
        filtered = _submit_form(checker, form_index, """(index) => {
            const form = document.querySelectorAll('form')[index];
            const seen = {};
            let groups = 0, selects = 0;
            for (const el of Array.from(form.elements)) {
              if (el.disabled) continue;
              if (el.type === 'checkbox' && !seen[el.name] && groups < 2) { seen[el.name] = 1; groups++; el.checked = true; }
              if (el.tagName === 'SELECT' && !el.value && selects < 1) {
                const o = Array.from(el.options).find(o => o.value); if (o) { el.value = o.value; selects++; } }
            }
            form.requestSubmit();
        }""")
        if isinstance(filtered, Exception):
            site.skipped["search with filters"] = f"/{lang}/search form did not navigate: {filtered}".splitlines()[0]
        else:
            checker.record("state: search with filters", filtered)
        checker.goto(f"{site.base}/{lang}/search")
        none = _submit_form(checker, form_index, """(index) => {
            const form = document.querySelectorAll('form')[index];
            const q = form.querySelector('input[type=search], input[name=q], input[type=text]');
            q.value = 'xqzzyvvk';
            form.requestSubmit();
        }""")
        if isinstance(none, Exception):
            site.skipped["search with no results"] = f"/{lang}/search form did not navigate: {none}".splitlines()[0]
        else:
            checker.record("state: search with no results", none)
            checker.state_screenshots("search-no-results")
        site.checked["search states"] = site.checked.get("search states", 0) + 2
        # Compare: a form in the results with several checkboxes of one name (tick two, submit).
        checker.goto(f"{site.base}/{lang}/search")
        compare_index = checker.page.evaluate("""() => {
            const forms = Array.from(document.querySelectorAll('form'));
            const f = forms.find(f => f.closest('main') && Array.from(f.querySelectorAll('input[type=checkbox]'))
                .some((c, _, all) => all.filter(o => o.name === c.name).length >= 2) && !f.querySelector('input[type=search], input[name=q]'));
            return f ? forms.indexOf(f) : -1; }""")
        if compare_index < 0:
            site.skipped["search states: compare"] = f"no form with a list of checkboxes (compare) in /{lang}/search"
            continue
        compared = _submit_form(checker, compare_index, """(index) => {
            const form = document.querySelectorAll('form')[index];
            const boxes = Array.from(form.querySelectorAll('input[type=checkbox]'));
            const name = boxes.find(c => boxes.filter(o => o.name === c.name).length >= 2).name;
            boxes.filter(c => c.name === name).slice(0, 2).forEach(c => { c.checked = true; });
            const b = form.querySelector('button:not([type]), button[type=submit], input[type=submit]');
            form.requestSubmit(b || undefined);
        }""")
        if isinstance(compared, Exception):
            site.skipped["search states: compare"] = f"the compare form on /{lang}/search did not navigate: {compared}".splitlines()[0]
        else:
            checker.record("state: compare two units", compared)
            checker.state_screenshots("compare")
            site.checked["search states"] += 1


def check_form_errors(checker: Checker, site: Site, pages: list[PageResult], label: str = "state: form errors") -> None:
    """Submit every distinct form that has fields, emptied, and check the page that shows the errors."""
    done: set[str] = set()
    for res in pages:
        if not res.facts or res.error:
            continue
        for form in _main_forms(checker, res):
            key = f"{res.lang_in_url} {form_key(form)}"
            if key in done or not fillable(form) or form["method"] != "post":
                continue
            done.add(key)
            checker.goto(res.url)
            resp = _submit_form(checker, form["index"], EMPTY_SUBMIT_JS)
            if isinstance(resp, Exception):
                site.skipped[f"form errors {key}"] = f"submitting the form on {res.url} empty did not navigate: {resp}".splitlines()[0]
                continue
            checker.record(f"{label} ({form_key(form)} from {urlsplit(res.url).path})", resp)
            site.checked["form error states"] = site.checked.get("form error states", 0) + 1


# -- signed-in flows -------------------------------------------------------------------------------
HAS_POST_FORM_JS = """() => Array.from(document.querySelectorAll('main form'))
    .some(f => (f.getAttribute('method') || '').toLowerCase() === 'post')"""

IDENTIFY_PICK_JS = """(person) => {
  const PREFERRED = ['aino', 'astrid'];  // seeded test persons who may choose (others are used if these are gone)
  // On the test identification page: choose test person number `person` (0 = the first) and submit.
  const forms = Array.from(document.querySelectorAll('main form')).filter(f => (f.getAttribute('method') || '').toLowerCase() === 'post');
  if (!forms.length) return 'no POST form in main';
  const form = forms[0];
  const radios = Array.from(form.querySelectorAll('input[type=radio]:not([disabled])'));
  // `person` is an index into PREFERRED, or a test person's slug (e.g. 'ville').
  const want = typeof person === 'string' ? person : PREFERRED[person];
  if (radios.length) (radios.find(r => r.value === want) || radios[(typeof person === 'number' ? person : 0) % radios.length]).checked = true;
  const select = form.querySelector('select');
  if (select) { const opts = Array.from(select.options).filter(o => o.value); if (opts.length) select.value = opts[person % opts.length].value; }
  const buttons = Array.from(form.querySelectorAll('button:not([type]), button[type=submit], input[type=submit]'))
     .filter(b => !b.classList.contains('secondary'));
  // One submit button per person, or one for the whole form.
  form.requestSubmit(buttons.length > 1 && !radios.length && !select ? buttons[person % buttons.length] : (buttons[0] || undefined));
  return '';
}"""


def identify(checker: Checker, site: Site, lang: str, record: bool = True, person: int = 0) -> str | None:
    """Sign in as the first test person on /<lang>/identify. Returns why it failed, or None."""
    page = checker.page
    if "/identify" not in urlsplit(page.url).path:
        resp = checker.goto(f"{site.base}/{lang}/identify")
        if resp is None or resp.status >= 400:
            return f"the test identification page /{lang}/identify answers {resp.status if resp else 'nothing'}"
        if record:
            checker.record("state: identify", resp)
    # The identification page may offer a choice of methods first: follow the one to the test persons.
    for _ in range(3):
        if page.evaluate(HAS_POST_FORM_JS):
            break
        link = page.evaluate("""() => {
            const links = Array.from(document.querySelectorAll('main a[href*="/identify/"]'));
            const a = links.find(x => /test/.test(x.getAttribute('href'))) || links.find(x => !/oidc/.test(x.getAttribute('href')));
            return a ? a.href : null; }""")
        if not link:
            return f"{page.url}: no POST form and no link to a test identification page in main"
        resp = checker.goto(link)
        if resp is None or resp.status >= 400:
            return f"{link} answers {resp.status if resp else 'nothing'}"
    else:
        return f"no form listing test persons found from /{lang}/identify"
    try:
        with page.expect_navigation(wait_until="load", timeout=15000) as nav:
            page.evaluate(IDENTIFY_PICK_JS, person)
        resp = nav.value
    except Exception as exc:  # noqa: BLE001
        return f"submitting /{lang}/identify did not navigate: {str(exc).splitlines()[0]}"
    if "/identify" in urlsplit(page.url).path:
        return f"still on {page.url} after choosing a test person (status {resp.status if resp else None})"
    return None


def find_choose_target(page) -> dict | None:
    return page.evaluate("""() => {
      const a = Array.from(document.querySelectorAll('main a[href]')).find(a => /\\/choose|\\/choice\\b|\\/valitse|\\/valj/.test(a.getAttribute('href')));
      if (a) return {kind: 'link', href: a.href};
      const forms = Array.from(document.querySelectorAll('form'));
      const f = forms.find(f => f.closest('main') && /\\/choose|\\/choice/.test(f.action));
      if (f) return {kind: 'form', index: forms.indexOf(f), action: f.action};
      return null;
    }""")


RECEIPT_RE = re.compile(r"receipt|kuitti|kvitto|/done|/confirmed", re.I)


class NotAllowed(Exception):
    """The decision page says this person cannot choose this unit: try another unit."""


CONTINUE_LINK_JS = """() => {
  const here = location.pathname;
  const a = Array.from(document.querySelectorAll('main a.button:not(.secondary)'))
    .find(a => a.origin === location.origin && a.pathname !== here && !/\\/(search|units|pilots)(\\/|$)/.test(a.pathname)
               && !/\\/waiting-list$/.test(a.pathname));  // a choice, not a place in a queue
  return a ? a.href : null;
}"""


def walk_choice_journey(checker: Checker, site: Site, lang: str, unit_url: str, person: int = 0,
                        record_refusal: bool = True) -> str | None:
    """Unit page -> choose -> (identify) -> decision -> confirm -> receipt, checking every page and
    every form's error state on the way. Returns why it stopped early, or None.
    Raises NotAllowed when the decision page refuses (no form and no continue button)."""
    page = checker.page
    checker.goto(unit_url)
    target = find_choose_target(page)
    if not target:
        return f"the unit page {urlsplit(unit_url).path} has no link or form to a /choose/ URL in main"
    if target["kind"] == "link":
        resp = checker.goto(target["href"])
    else:
        resp = _submit_form(checker, target["index"], VALID_SUBMIT_JS)
        if isinstance(resp, Exception):
            return f"the choose form on {unit_url} did not navigate: {resp}".splitlines()[0]
    recorded = 0
    for step in range(8):
        path = urlsplit(page.url).path
        if "/identify" in path:
            checker.record("state: choice journey (identify)", resp)
            checker.state_screenshots("identify")
            why = identify(checker, site, lang, record=False, person=person)
            if why:
                return why
            resp = None
            continue
        if resp is not None and resp.status >= 400:
            checker.record(f"state: choice journey step {step}", resp)
            return f"{page.url} answered {resp.status}"
        is_receipt = bool(RECEIPT_RE.search(page.url)) or page.evaluate("() => !!document.querySelector('[data-print]')")
        has_form = page.evaluate(HAS_POST_FORM_JS)
        link = None if (is_receipt or has_form) else page.evaluate(CONTINUE_LINK_JS)
        if not (is_receipt or has_form or link):
            if record_refusal:
                checker.record(f"state: choice journey refused at step {step}", resp)
                checker.state_screenshots("choice-refused")
            raise NotAllowed(page.url)
        res = checker.record(f"state: choice journey step {step}", resp)
        site.checked["choice journey states"] = site.checked.get("choice journey states", 0) + 1
        recorded += 1
        if is_receipt:
            checker.state_screenshots("choice-receipt")
            return None
        state = ("choice-decision", "choice-confirm")[recorded - 1] if recorded <= 2 else f"choice-step{recorded}"
        checker.state_screenshots(state)
        if link:
            resp = checker.goto(link)
            continue
        form = next(f for f in _main_forms(checker, res) if f["method"] == "post")
        here = page.url
        if fillable(form):
            err = _submit_form(checker, form["index"], EMPTY_SUBMIT_JS)
            if not isinstance(err, Exception):
                checker.record(f"state: choice journey step {step} errors", err)
                site.checked["form error states"] = site.checked.get("form error states", 0) + 1
            checker.goto(here)
        resp = _submit_form(checker, form["index"], VALID_SUBMIT_JS)
        if isinstance(resp, Exception):
            return f"submitting the form on {here} did not navigate: {resp}".splitlines()[0]
    return f"no receipt after 8 steps (last page {page.url})"


def staff_sign_in(checker: Checker, site: Site, lang: str, email: str | None) -> str | None:
    page = checker.page
    resp = checker.goto(f"{site.base}/{lang}/staff/sign-in")
    if resp is None or resp.status >= 400:
        return f"/{lang}/staff/sign-in answers {resp.status if resp else 'nothing'}"
    has_form = page.evaluate("() => !!document.querySelector('main form input[type=password]')")
    if not has_form:
        return f"/{lang}/staff/sign-in has no form with a password field yet"
    if not email:
        return "no demo staff account in the seeded database (webapp.accounts.staff.DEMO_ACCOUNTS)"
    user, pw = email, STAFF_TEST_PASSWORD
    try:
        with page.expect_navigation(wait_until="load", timeout=15000):
            page.evaluate("""([user, pw]) => {
              const form = document.querySelector('main form input[type=password]').form;
              const u = form.querySelector('input[type=email], input[autocomplete=username], input[type=text]');
              u.value = user; form.querySelector('input[type=password]').value = pw;
              form.requestSubmit();
            }""", [user, pw])
    except Exception as exc:  # noqa: BLE001
        return f"staff sign-in did not navigate: {str(exc).splitlines()[0]}"
    if "sign-in" in urlsplit(page.url).path or page.evaluate("() => !!document.querySelector('[aria-invalid=true], .error-summary')"):
        return f"staff sign-in as {user} did not succeed (still on {page.url}; a second factor may be needed)"
    return None


def check_paper_waiting_refusal(staff: Checker, site: Site) -> None:
    """The paper waiting-list form's refusal (a unit with free places), in both languages."""
    from datetime import date

    from webapp.seeding.test_persons import find_test_person
    hetu = find_test_person("aino", date.today()).hetu
    for lang in LANGS:
        resp = staff.goto(f"{site.base}/{lang}/staff/paper-waiting-list")
        if resp is None or resp.status >= 400:
            site.skipped[f"staff paper waiting list ({lang})"] = f"answers {resp.status if resp else 'nothing'}"
            continue
        sent = _submit_form(staff, staff.page.evaluate(
            "() => Array.from(document.querySelectorAll('form')).findIndex(f => f.closest('main') && f.querySelector('#hetu'))"),
            f"""(index) => {{ const f = document.querySelectorAll('form')[index];
                f.querySelector('#hetu').value = '{hetu}';
                const s = f.querySelector('#unit'); s.selectedIndex = 1; f.requestSubmit(); }}""")
        if isinstance(sent, Exception):
            site.skipped[f"staff paper waiting list ({lang})"] = str(sent).splitlines()[0]
            continue
        staff.record("state: staff paper waiting list answered", sent)
        site.checked["staff pages"] = site.checked.get("staff pages", 0) + 1


def check_waiting_lists(site: Site, new_page, anon: Checker, live_server) -> list[Checker]:
    """The waiting-list pages of the test person Ville Jonottaja (3rd in a queue, a message) in both
    languages: My choices, the receipt, leaving, Messages, the e-mail form and its errors, the offer
    and the join page at another full unit (with the warning that it replaces his list), and the
    error pages of a bad or expired verification link."""
    queued, empty = full_units(live_server.db_path)
    if queued is None or empty is None:
        site.skipped["waiting list states"] = "the seed has no full unit with a queue (webapp/seeding/waiting.py)"
        return []
    checkers = []
    for lang in LANGS:
        checker = Checker(new_page(), site.base, who=f"ville ({lang})")
        checker.shot_names = anon.shot_names
        checkers.append(checker)
        checker.goto(f"{site.base}/{lang}/identify/test")
        why = identify(checker, site, lang, record=False, person="ville")
        if why:
            site.skipped[f"waiting list states ({lang})"] = why
            continue
        mine = checker.crawl([f"/{lang}/my-choices", f"/{lang}/messages", f"/{lang}/messages/email"],
                             label="waiting-list crawl", max_pages=12,
                             allow=lambda p: any(w in p for w in ("/my-choices", "/messages")))
        checker.goto(f"{site.base}/{lang}/my-choices")
        checker.state_screenshots("waiting-my-choices")
        checker.goto(f"{site.base}/{lang}/messages")
        checker.state_screenshots("waiting-messages")
        for label, path in (("state: waiting-list offer (replaces a list)", f"/{lang}/choose/{empty}"),
                            ("state: waiting-list join (replaces a list)", f"/{lang}/choose/{empty}/waiting-list"),
                            ("state: unit page, resident in the queue", f"/{lang}/units/{queued}"),
                            ("state: verification link not valid", f"/{lang}/messages/email/verify/not-a-valid-token"),
                            ("state: waiting-list entry not found", f"/{lang}/my-choices/waiting/ABCDEFGHJK/leave")):
            checker.record(label, checker.goto(site.base + path))
            site.checked["waiting list states"] = site.checked.get("waiting list states", 0) + 1
        checker.goto(f"{site.base}/{lang}/choose/{empty}/waiting-list")
        checker.state_screenshots("waiting-join")
        check_form_errors(checker, site, mine, label="state: waiting-list form errors")
    return checkers


@pytest.fixture(scope="session")
def site(live_server, new_page) -> Site:
    """Crawl the site from /fi/, /sv/ and /en/, then the states a crawler cannot reach, checking each page."""
    base = live_server.url
    site = Site(base=base)
    t0 = now()
    anon = Checker(new_page(), base)
    anon.crawl(["/fi/", "/sv/", "/en/"])
    site.timings["crawl"] = now() - t0

    t = now()
    check_search_states(anon, site)
    for lang in LANGS:  # the error page (templates/errors/), which no link leads to
        anon.record("state: page not found (404)", anon.goto(f"{base}/{lang}/no-such-page-a11y"))
    for lang in LANGS:  # a unit imported from PTV: its accessibility sentences, partly in another language
        if live_server.ptv_unit is None:
            site.skipped["PTV unit"] = "the PTV fixture could not be imported"
            break
        anon.record("state: unit with PTV accessibility sentences",
                    anon.goto(f"{base}/{lang}/units/{live_server.ptv_unit}"))
    crawled = [r for r in anon.results if r.label == "crawl"]
    check_form_errors(anon, site, crawled)
    site.timings["search and form states"] = now() - t

    # The choice journey of a signed-in test person, in both languages (another person, own cookies, each).
    t = now()
    journeys = []
    for lang in JOURNEY_LANGS:
        journey = Checker(new_page(), base, who=f"test person {LANGS.index(lang)}")
        journey.shot_names = anon.shot_names
        journeys.append(journey)
        # Candidate units: every unit page linked from the crawled pages, in the order found.
        units: list[str] = []
        for r in crawled:
            for m in re.finditer(rf'href="(/{lang}/units/\d+)"', r.source or "") if r.lang_in_url == lang else ():
                if base + m.group(1) not in units:
                    units.append(base + m.group(1))
        if not units:
            site.skipped["choice journey"] = f"the crawl found no unit page (/{lang}/units/<id>) to start the journey from"
            break
        why = f"no unit among the first 12 could be chosen by test person {LANGS.index(lang)}"
        for attempt, unit_url in enumerate(units[:12]):
            try:
                why = walk_choice_journey(journey, site, lang, unit_url, person=LANGS.index(lang),
                                          record_refusal=attempt < 1)
                break
            except NotAllowed:
                continue
        if why:
            site.skipped[f"choice journey ({lang})"] = why
            continue
        # Signed in now: the resident's own pages (my choices and what they link to, not the public pages).
        public_paths = {urlsplit(r.url).path.rstrip("/") for r in crawled}
        mine = journey.crawl([f"/{lang}/my-choices"], label="signed-in crawl", max_pages=15,
                             allow=lambda p, public_paths=public_paths: p.rstrip("/") not in public_paths or "my" in p)
        check_form_errors(journey, site, mine, label="state: signed-in form errors")
    site.timings["choice journey"] = now() - t

    t = now()
    waiting_checkers = check_waiting_lists(site, new_page, anon, live_server)
    site.timings["waiting lists"] = now() - t

    # The staff workspace for a signed-in staff member.
    t = now()
    staff = Checker(new_page(), base, who="staff")
    staff.shot_names = anon.shot_names
    why = staff_sign_in(staff, site, "fi", live_server.staff_email)
    if why:
        site.skipped["staff workspace"] = why
    else:
        staff_pages = staff.crawl([staff.page.url, "/fi/staff/", "/sv/staff/", "/en/staff/"], label="staff crawl",
                                  max_pages=40,
                                  allow=lambda p: "/staff" in p)
        site.checked["staff pages"] = len(staff_pages)
        for lang in LANGS:
            edit = next((r.url for r in staff_pages if r.lang_in_url == lang and not r.error
                         and re.search(r"/staff/units/\d+(/edit)?$", urlsplit(r.url).path)), None)
            if edit:
                staff.goto(edit)
                staff.state_screenshots("staff-unit-edit")
        for lang in LANGS:  # the staff page of the unit imported from PTV (its PTV id and import time)
            if live_server.ptv_unit is not None:
                staff.record("state: staff page of a PTV unit",
                             staff.goto(f"{base}/{lang}/staff/units/{live_server.ptv_unit}"))
        check_form_errors(staff, site, staff_pages, label="state: staff form errors")
        check_paper_waiting_refusal(staff, site)
    site.timings["staff"] = now() - t

    site.results = anon.results + [r for j in journeys + waiting_checkers for r in j.results] + staff.results
    site.screenshots = anon.shot_names
    site.timings["total"] = now() - t0
    # A list of what was checked, for people reading the artifacts.
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lines = [f"{r.status or '-'}\t{r.label}\t{r.url}{'  ERROR ' + r.error if r.error else ''}" for r in site.results]
    lines += [f"skipped\t{k}\t{v}" for k, v in site.skipped.items()]
    lines += [f"timing\t{k}\t{v:.1f}s" for k, v in site.timings.items()]
    (ARTIFACTS / "checked-pages.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return site


@pytest.fixture(scope="session")
def sign_in_resident(live_server):
    """sign_in_resident(page, lang) -> None or why it failed: a test person signs in on `page`."""
    def do(page, lang: str = "fi") -> str | None:
        return identify(Checker(page, live_server.url, screenshots=False), Site(base=live_server.url), lang,
                        record=False)
    return do

