#!/usr/bin/env python3
"""Bootstrap for a fresh machine with only Python 3.11: `python3 dev.py serve` or `python3 dev.py test`.

`test` also audits the dependencies for known vulnerabilities (`python3 dev.py audit` does only that;
tools/dep_audit.py, docs/dependency-audit.md).

Both are idempotent: the virtual environment, npm packages and Chromium are installed only when
missing or when their manifest changed; the database is migrated and seeded without duplicates.
This file uses only the standard library, because it runs before anything is installed.

The Python packages come from pinned, hashed locks: requirements/runtime.txt (`serve`) and
requirements/test.txt (`test`, `audit`: the runtime pins plus the test extras). `python3 dev.py lock`
writes both again from pyproject.toml, keeping every pin that still fits; `python3 dev.py lock --upgrade`
or `--upgrade-package NAME` moves them (the options go to pip-compile).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools import dep_audit

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
CHROMIUM = Path("/usr/bin/chromium")


def run(*cmd: str | Path, env: dict | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, env=env)


def stamp_ok(name: str, *sources: Path) -> tuple[bool, Path, str]:
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources if p.exists())).hexdigest()
    stamp = VENV / f".{name}.stamp"
    return stamp.exists() and stamp.read_text() == digest, stamp, digest


REQUIREMENTS = ROOT / "requirements"
LOCKS = {"": REQUIREMENTS / "runtime.txt", "test": REQUIREMENTS / "test.txt"}


def ensure_venv(extras: str, check: bool = True) -> None:
    """Install the lock of `extras` ("" or "test") and then the project itself (editable, no dependencies).

    With `check`, a lock that no longer satisfies pyproject.toml (a dependency added or raised without
    `python3 dev.py lock`) stops here with pip check's list, before anything runs on a wrong set of packages.
    """
    lock = LOCKS[extras]
    if not PY.exists():
        run(sys.executable, "-m", "venv", VENV)
    ok, stamp, digest = stamp_ok(f"pip-{extras or 'base'}", lock, ROOT / "pyproject.toml")
    if not ok:
        # The lock pins pip and setuptools too: the ones `python -m venv` brings (setuptools 65.5.0 on 3.11) have
        # known vulnerabilities, and the pinned setuptools builds the project (no build isolation, no download).
        run(PY, "-m", "pip", "install", "-q", "--require-hashes", "-r", lock)
        run(PY, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e", ".")
        if not check:
            return  # not stamped, so the next ensure_venv checks
        found = subprocess.run([str(PY), "-m", "pip", "check"], cwd=ROOT, capture_output=True, text=True)
        if found.returncode:
            sys.exit(f"{lock.relative_to(ROOT)} does not satisfy pyproject.toml; run `python3 dev.py lock`:\n"
                     + found.stdout)
        stamp.write_text(digest)


def lock(options: list[str]) -> None:
    """Write requirements/runtime.txt and requirements/test.txt again with pip-compile (hashes, exact pins).

    The test lock is constrained by the runtime lock, so both always pin the same runtime versions.
    """
    ensure_venv("test", check=False)  # pip-compile itself comes from the test lock
    compile_ = [VENV / "bin" / "pip-compile", "--quiet", "--generate-hashes", "--allow-unsafe", "--strip-extras",
                "--no-emit-index-url", "--no-emit-find-links", "--no-emit-trusted-host",
                "--annotation-style=line", *options]
    sources = ("pyproject.toml", "requirements/installer.in")
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND="python3 dev.py lock")  # the command named in the locks' header
    run(*compile_, "--output-file", "requirements/runtime.txt", *sources, env=env)
    run(*compile_, "--extra", "test", "--constraint", "requirements/runtime.txt",
        "--output-file", "requirements/test.txt", *sources, env=env)
    ensure_venv("test")


def ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("Chromium is missing: install Debian's 'chromium' package (apt-get install chromium).")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run("apt-get", "update", "-qq", env=env)
    run("apt-get", "install", "-y", "-qq", "chromium", "fonts-dejavu-core", env=env)


def ensure_npm() -> None:
    """Leaflet (the map), axe-core and vnu-jar, pinned by package-lock.json."""
    ok, stamp, digest = stamp_ok("npm", ROOT / "package-lock.json", ROOT / "package.json")
    if ok and (ROOT / "node_modules").exists():
        return
    if not shutil.which("npm"):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            run("apt-get", "update", "-qq", env=env)
            run("apt-get", "install", "-y", "-qq", "npm", env=env)
        else:
            sys.exit("npm is missing: install Node.js and npm.")
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    stamp.write_text(digest)


VENDOR = ROOT / "static" / "vendor"


def build_assets() -> None:
    """Copy the map library (Leaflet, from npm) into static/vendor/: the site serves it itself, no CDN."""
    source = ROOT / "node_modules" / "leaflet" / "dist"
    if not source.exists():
        sys.exit("node_modules/leaflet is missing: npm ci did not run.")
    target = VENDOR / "leaflet"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copy2(source / name, target / name)
    shutil.copytree(source / "images", target / "images", dirs_exist_ok=True)


def flask(*args: str) -> None:
    run(PY, "-m", "flask", "--app", "wsgi", *args)


def prepare_site() -> None:
    flask("translations-compile")
    flask("db-upgrade")
    flask("seed")
    flask("index-rebuild")


def serve() -> None:
    ensure_venv("")
    ensure_npm()
    build_assets()
    prepare_site()
    flask("print-dev-accounts")
    print("Serving on http://127.0.0.1:5000  (Ctrl+C stops)", flush=True)
    os.chdir(ROOT)
    # Two workers: their metrics are added up through files in this folder (gunicorn.conf.py empties it).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(ROOT / "instance" / "prometheus"))
    os.execv(str(VENV / "bin" / "gunicorn"), [
        "gunicorn", "--bind", "127.0.0.1:5000", "--workers", "2", "--access-logfile", "-", "wsgi:app",
    ])


def audit_dependencies(use_cache: bool) -> dep_audit.Verdict:
    """pip-audit on .venv and npm audit on package-lock.json; exits at once on a malformed exceptions file."""
    try:
        return dep_audit.run(ROOT, VENV, in_ci=dep_audit.in_ci(), use_cache=use_cache)
    except dep_audit.ExceptionsError as exc:
        sys.exit(f"Dependency audit: {exc}")


def audit() -> None:
    ensure_venv("test")
    ensure_npm()
    sys.exit(1 if audit_dependencies(use_cache=False).failed else 0)


def test(extra: list[str]) -> None:
    ensure_venv("test")
    ensure_chromium()
    ensure_npm()
    build_assets()
    flask("translations-compile")
    linted = lint()
    # Locally a passing audit is reused for 12 hours while nothing changed; CI always audits.
    verdict = audit_dependencies(use_cache=not dep_audit.in_ci())
    env = dict(os.environ)
    code = subprocess.run([str(PY), "-m", "pytest", *extra], cwd=ROOT, env=env).returncode
    if verdict.failed:  # the tests still ran; the failures are repeated after their output
        print("\n" + dep_audit.render(verdict), flush=True)
        code = code or 1
    if linted:
        print(f"\nLinters failed: {', '.join(linted)} (their findings are above the tests' output).", flush=True)
        code = code or 1
    sys.exit(code)


def lint() -> list[str]:
    """ruff (ruff.toml: RUF100 makes an unneeded `# noqa` an error) and mypy (mypy.ini: strict on the domain
    packages). The names of those that found something; the tests run either way."""
    failed = []
    for name, cmd in (("ruff", [VENV / "bin" / "ruff", "check", "."]), ("mypy", [VENV / "bin" / "mypy"])):
        print("+", " ".join(str(c) for c in cmd), flush=True)
        if subprocess.run([str(c) for c in cmd], cwd=ROOT).returncode:
            failed.append(name)
    return failed


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "serve":
        serve()
    elif command == "test":
        test(sys.argv[2:])
    elif command == "audit":
        audit()
    elif command == "lint":
        ensure_venv("test")
        sys.exit(1 if lint() else 0)
    elif command == "lock":
        lock(sys.argv[2:])
    else:
        sys.exit("usage: python3 dev.py serve | python3 dev.py test [pytest args] | python3 dev.py audit"
                 " | python3 dev.py lint | python3 dev.py lock [--upgrade | --upgrade-package NAME]")


if __name__ == "__main__":
    main()
