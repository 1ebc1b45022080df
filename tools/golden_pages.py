#!/usr/bin/env python3
"""Golden pages: what residents and staff are served, saved before a redesign and compared after it.

    python tools/golden_pages.py prepare --db DB.sqlite [--units 10000]
    python tools/golden_pages.py capture OUT --db DB.sqlite
    python tools/golden_pages.py compare BEFORE AFTER

Run it with the working directory at the code to measure (it imports `webapp` from there), so one
checkout of the old code and one of the new can capture the same database. `prepare` makes a seeded
SQLite database with COUNT generated units; `capture` copies it, rebuilds the index through the CLI and
saves the status, content type and body of several hundred addresses (public pages, search with text,
filters, distance and profiles, errors, unit pages, comparisons, pilot pages, the API, a signed-in
resident's pages and staff pages) in fi, sv and en; `compare` reports every address whose output differs
after normalising whitespace, CSRF and request tokens, CSP nonces and the times of day the seed left in the data.
Only the app factory, the CLI commands and HTTP are used, so it works across a reorganisation of the code.
"""
from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

LANGS = ("fi", "sv", "en")
TEXTS = ["hammaslääkäri", "Tampereella", "sote-keskus", "Hyvinkää", "tandläkare", "lääkäri Lahti",
         "munhälsovård", "hamaslääkäri", "Helsingfors", "terveysasema", "xyzzyq"]
FILTERS = ["element=sote_centre&accepting=1", "service=doctor&service=mental_health", "pilot=uusimaa&language=sv",
           "feature=lift&feature=induction_loop&sector=private", "max_t3_doctor=10&element=sote_centre",
           "municipality=837&sort=queue", "sector=public&sector=third&sort=name",
           "pilot=paijat-hame&service=laboratory&max_t3_nurse=5", "element=oral_health", "language=en&accepting=1"]
DISTANCE = ["postcode=00100&sort=distance", "postcode=05800&radius_km=25&sort=distance",
            "postcode=33100&radius_km=10&accepting=1", "postcode=40100&radius_km=50&service=doctor&sort=distance"]
PROFILES = ["profile=wheelchair", "profile=visually_impaired&profile=hearing_impaired&sort=name",
            "profile=pushchair&q=terveysasema"]
BAD = ["radius_km=abc&postcode=00100", "postcode=99999", "page=9999", "sort=nonsense", "element=dragon",
       "max_t3_doctor=-5", "q=" + "a" * 300, "municipality=%00"]
STAFF = ("golden-admin@example.fi", "golden-admin-password-1")
TODAY = "2026-12-04"


def _app(db_path: str, index_dir: str, instance: str):  # noqa: ANN202
    from webapp import create_app
    return create_app({"DATABASE_URL": f"sqlite:///{db_path}", "INDEX_DIR": index_dir, "INSTANCE_DIR": instance,
                       "TESTING": True, "RATE_LIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False, "TODAY": TODAY,
                       "SECRET_KEY": "golden-secret-" * 4, "RESIDENT_KEY_SECRET": "golden-resident-" * 4,
                       "APP_ENV": "development"})


def _cli(app, *args: str, env: dict | None = None) -> str:  # noqa: ANN001
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), env=env, catch_exceptions=False)
    if result.exit_code:
        raise SystemExit(f"flask {' '.join(args)} failed: {result.output}")
    return result.output


def prepare(db: Path, units: int) -> None:
    db.unlink(missing_ok=True)
    work = tempfile.mkdtemp()
    app = _app(str(db), f"{work}/index", work)
    _cli(app, "db-upgrade")
    _cli(app, "seed")
    _cli(app, "generate-demo-units", str(units))
    _cli(app, "create-staff", "--email", STAFF[0], "--name", "Golden Admin", "--role", "admin",
         env={"STAFF_PASSWORD": STAFF[1]})
    print(f"prepared {db}")


def _addresses(client) -> list[str]:  # noqa: ANN001
    api = json.loads(client.get("/api/v1/units?sort=name&page=1").data)
    ids = [u["id"] for u in api["items"]]
    total = api["pages"]
    more = json.loads(client.get("/api/v1/units?sort=name&page=37").data)
    ids += [u["id"] for u in more.get("items", [])][:6]
    pilots = [p["slug"] for p in json.loads(client.get("/api/v1/pilots").data)["items"]]
    paths = ["/", "/healthz", "/api/v1/openapi.json", "/api/v1/pilots", "/api/v1/units/999999", "/api/v1/units/abc",
             "/nowhere", "/xx/search", f"/api/v1/units?page={max(2, total)}"]
    for lang in LANGS:
        paths += [f"/{lang}/", f"/{lang}/about", f"/{lang}/accessibility", f"/{lang}/pilots", f"/{lang}/search",
                  f"/{lang}/units/999999", f"/{lang}/pilots/nowhere", f"/{lang}/compare", f"/{lang}/compare?unit=abc",
                  f"/{lang}/identify", f"/{lang}/identify/test", f"/{lang}/staff/sign-in"]
        paths += [f"/{lang}/pilots/{slug}" for slug in pilots]
        paths += [f"/{lang}/pilots/{slug}/client-voucher" for slug in pilots[:3]]
        paths += [f"/{lang}/units/{i}" for i in ids[:8]]
        paths += [f"/{lang}/compare?" + "&".join(f"unit={i}" for i in ids[k:k + n]) for k, n in ((0, 2), (3, 4))]
        for group in (TEXTS, FILTERS, DISTANCE, PROFILES, BAD):
            for qs in group:
                if not qs.startswith(("q=", "radius", "postcode", "page", "sort", "element", "max", "municipality",
                                      "service", "pilot", "feature", "sector", "language", "profile")):
                    qs = "q=" + quote(qs)
                paths.append(f"/{lang}/search?{qs}")
        paths += [f"/{lang}/search?q=hammasl%C3%A4%C3%A4k%C3%A4ri&page=2", f"/{lang}/search?element=sote_centre&page=3"]
    for qs in [*("q=" + quote(t) for t in TEXTS), *FILTERS, *DISTANCE, *PROFILES, *BAD]:
        paths.append(f"/api/v1/units?{qs}")
    paths += [f"/api/v1/units/{i}" for i in ids[:6]]
    return paths


def _signed_in(app, lang: str) -> list[tuple[str, bytes, str, int]]:  # noqa: ANN001
    """A test person's pages: sign in through the test identification page, then the resident's own pages."""
    out = []
    client = app.test_client()
    page = client.get(f"/{lang}/identify/test").get_data(as_text=True)
    persons = re.findall(r'name="person"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="person"', page)
    slugs = [a or b for a, b in persons]
    for slug in slugs[:9]:
        client = app.test_client()
        client.post(f"/{lang}/identify/test", data={"person": slug})
        for path in (f"/{lang}/my-choices", f"/{lang}/messages", f"/{lang}/messages/email", "/fi/choose/1",
                     "/fi/choose/1/confirm", f"/{lang}/choose/2/waiting-list"):
            resp = client.get(path)
            out.append((f"[{lang}] {path} as {slug}", resp.data, resp.content_type, resp.status_code))
    return out


def _staff(app, lang: str, unit_id: int) -> list[tuple[str, bytes, str, int]]:  # noqa: ANN001
    out = []
    client = app.test_client()
    resp = client.post(f"/{lang}/staff/sign-in", data={"email": STAFF[0], "password": STAFF[1]})
    out.append((f"POST /{lang}/staff/sign-in", resp.data, resp.content_type, resp.status_code))
    for path in ("/staff/", "/staff/units", "/staff/units?page=2", f"/staff/units/{unit_id}", "/staff/units/new",
                 "/staff/figures", "/staff/import", "/staff/queue-times", "/staff/paper-choice",
                 "/staff/paper-waiting-list", "/staff/accounts", "/staff/providers/new", "/staff/units/999999"):
        resp = client.get(f"/{lang}{path}")
        out.append((f"/{lang}{path} as staff", resp.data, resp.content_type, resp.status_code))
    resp = client.post(f"/{lang}/staff/units/{unit_id}", data={"name_fi": "", "version": "0"})
    out.append((f"POST /{lang}/staff/units/{unit_id} (invalid)", resp.data, resp.content_type, resp.status_code))
    return out


def capture(out: Path, db: Path) -> None:
    if not list(Path("translations").glob("*/LC_MESSAGES/*.mo")):
        raise SystemExit("translations are not compiled here: run flask translations-compile first")
    work = Path(tempfile.mkdtemp())
    copy = work / "db.sqlite"
    shutil.copy2(db, copy)
    app = _app(str(copy), str(work / "index"), str(work))
    _cli(app, "index-rebuild")
    client = app.test_client()
    results: list[tuple[str, bytes, str, int]] = []
    for path in _addresses(client):
        resp = client.get(path)
        results.append((path, resp.data, resp.content_type, resp.status_code))
    first_unit = json.loads(client.get("/api/v1/units?sort=name").data)["items"][0]["id"]
    for lang in LANGS:
        results += _signed_in(app, lang)
        results += _staff(app, lang, first_unit)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    index = []
    for n, (name, body, ctype, status) in enumerate(results):
        file = f"{n:04d}.txt"
        (out / file).write_text(normalise(body.decode("utf-8", "replace")))
        index.append({"address": name, "file": file, "status": status, "type": ctype})
    (out / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False))
    print(f"captured {len(results)} addresses into {out}")
    shutil.rmtree(work, ignore_errors=True)


_NORMALISE = [
    (re.compile(r'(name="csrf_token"[^>]*value=")[^"]*'), r"\1CSRF"),
    (re.compile(r'(value=")[^"]*("[^>]*name="csrf_token")'), r"\1CSRF\2"),
    (re.compile(r'(<meta name="csrf-token" content=")[^"]*'), r"\1CSRF"),
    (re.compile(r'(name="request_token"[^>]*value=")[^"]*'), r"\1TOKEN"),
    (re.compile(r'nonce="[^"]*"'), 'nonce="N"'),
    (re.compile(r"'nonce-[^']*'"), "'nonce-N'"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "DATETIME"),
    (re.compile(r"\b(klo|kl\.|at)\s+\d{1,2}[.:]\d{2}\b"), r"\1 TIME"),
    (re.compile(r"\s+"), " "),
    (re.compile(r">\s+<"), "><"),
]


def normalise(text: str) -> str:
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text.strip()


def compare(before: Path, after: Path) -> int:
    b = {e["address"]: e for e in json.loads((before / "index.json").read_text())}
    a = {e["address"]: e for e in json.loads((after / "index.json").read_text())}
    differ = 0
    for address, eb in b.items():
        ea = a.get(address)
        if ea is None:
            print(f"MISSING after: {address}")
            differ += 1
            continue
        tb, ta = normalise((before / eb["file"]).read_text()), normalise((after / ea["file"]).read_text())
        if (eb["status"], eb["type"], tb) != (ea["status"], ea["type"], ta):
            differ += 1
            print(f"DIFFERS: {address} (status {eb['status']} -> {ea['status']}, type {eb['type']} -> {ea['type']})")
            if differ <= 8:
                lines_b, lines_a = tb.replace("><", ">\n<").splitlines(), ta.replace("><", ">\n<").splitlines()
                for line in list(difflib.unified_diff(lines_b, lines_a, lineterm="", n=1))[:30]:
                    print("    " + line[:200])
    digest = hashlib.sha256("".join(sorted(b)).encode()).hexdigest()[:12]
    print(f"{len(b)} addresses compared (set {digest}); {differ} differ; {len(set(a) - set(b))} only after")
    return 1 if differ else 0


def main() -> None:
    sys.path.insert(0, os.getcwd())
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--units", type=int, default=10000)
    c = sub.add_parser("capture")
    c.add_argument("out", type=Path)
    c.add_argument("--db", type=Path, required=True)
    d = sub.add_parser("compare")
    d.add_argument("before", type=Path)
    d.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.db.resolve(), args.units)
    elif args.command == "capture":
        capture(args.out.resolve(), args.db.resolve())
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
