"""Dependency audit: known vulnerabilities in the Python environment (.venv) and the npm packages.

Run by `python3 dev.py test` (before pytest) and alone by `python3 dev.py audit`; see
docs/dependency-audit.md. Standard library only: dev.py imports this before anything is installed,
and runs the venv's pip-audit and npm as subprocesses.

The pure part (parsing pip-audit's, PyPI's and npm's JSON, the exceptions file, the verdict) is
kept apart from the part that runs tools and fetches, so tests/test_dependency_audit.py can test
it with recorded answers and no network.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

EXCEPTIONS_FILE = Path("security") / "audit-exceptions.toml"
SERVICES = ("pypi", "npm")
# npm gives a severity; Python advisories from PyPI have none and count as high (fail-safe).
BLOCKING = {"high", "critical", "unknown"}
MAX_EXCEPTION_DAYS = 366  # an exception may not be accepted for more than about a year ahead
CACHE_HOURS = 12


def canonical(name: str) -> str:
    """PEP 503 name (pip, PyPI); npm names are already lower case and pass through unchanged."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --------------------------------------------------------------------------------------------
# Findings


@dataclass(frozen=True)
class Finding:
    service: str  # "pypi" or "npm"
    package: str
    version: str
    advisory: str  # the id the service gives first (PYSEC-…, GHSA-…)
    aliases: tuple[str, ...] = ()
    severity: str = "unknown"  # npm: info/low/moderate/high/critical; PyPI: unknown (none given)
    fix: str = ""
    summary: str = ""

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING

    def ids(self) -> set[str]:
        return {self.advisory.upper(), *(a.upper() for a in self.aliases)}

    def line(self) -> str:
        aka = f" ({', '.join(self.aliases)})" if self.aliases else ""
        severity = "no severity given, counted as high" if self.severity == "unknown" else self.severity
        fix = f"fix: {self.fix}" if self.fix else "no fixed release known"
        summary = f" – {_one_line(self.summary, 140)}" if self.summary else ""
        return f"{self.service} {self.package} {self.version}: {self.advisory}{aka}, {severity}, {fix}{summary}"


@dataclass
class SourceResult:
    """What one service said about one set of packages."""
    service: str
    findings: list[Finding] = field(default_factory=list)
    reached: bool = True
    problem: str = ""  # why the service could not be reached (reached False)
    audited: int = 0
    not_audited: list[str] = field(default_factory=list)  # "name version (why)"
    notes: list[str] = field(default_factory=list)


def _one_line(text: str | None, limit: int = 0) -> str:
    text = " ".join((text or "").split())
    return text[:limit - 1] + "…" if limit and len(text) > limit else text


def parse_pip_audit(data: dict) -> tuple[list[Finding], set[str]]:
    """pip-audit's `--format json`: the findings and the canonical names of the packages it audited.

    Skipped packages (editable ones, or "Dependency not found on PyPI", which is what a mirror
    without PyPI's per-release JSON answers) are not in the audited set.
    """
    findings, audited = [], set()
    for dep in data["dependencies"]:
        if "version" not in dep:
            continue
        audited.add(canonical(dep["name"]))
        for vuln in dep.get("vulns", []):
            findings.append(Finding(
                "pypi", dep["name"], dep["version"], vuln["id"], tuple(vuln.get("aliases", ())),
                "unknown", ", ".join(vuln.get("fix_versions", [])), _one_line(vuln.get("description")),
            ))
    return findings, audited


def parse_pypi_project(name: str, version: str, data: dict) -> list[Finding] | None:
    """PyPI's project JSON (/pypi/NAME/json): its `vulnerabilities` are those of the latest release only.

    The findings when `version` is that release (the same data pip-audit reads per release), else
    None: nothing can be said about an older release from it.
    """
    if data["info"]["version"] != version:
        return None
    findings: list[Finding] = []
    for vuln in data.get("vulnerabilities") or []:
        finding = Finding(
            "pypi", name, version, vuln["id"], tuple(vuln.get("aliases") or ()), "unknown",
            ", ".join(vuln.get("fixed_in") or []), _one_line(vuln.get("summary") or vuln.get("details")),
        )
        # PyPI lists one vulnerability under each of its ids (PYSEC-… and GHSA-…, aliases of each other).
        if not vuln.get("withdrawn") and not any(finding.ids() & f.ids() for f in findings):
            findings.append(finding)
    return findings


def parse_npm_audit(data: dict, lock: dict) -> SourceResult:
    """`npm audit --json` (report version 2) with package-lock.json for the installed versions."""
    result = SourceResult("npm")
    if "auditReportVersion" not in data:
        error = data.get("error") if isinstance(data.get("error"), dict) else {}
        why = data.get("message") or error.get("summary") or error.get("code") or "no audit report"
        return SourceResult("npm", reached=False, problem=f"npm audit: {_one_line(str(why), 200)}")
    packages = lock.get("packages", {})
    result.audited = sum(1 for key in packages if key.startswith("node_modules/"))
    seen = set()
    for entry in data.get("vulnerabilities", {}).values():
        versions = sorted({packages.get(node, {}).get("version", "?") for node in entry.get("nodes", [])}) or ["?"]
        fix = entry.get("fixAvailable")
        if isinstance(fix, dict):
            major = " (semver major)" if fix.get("isSemVerMajor") else ""
            fix_text = f"{fix.get('name')}@{fix.get('version')}{major}"
        else:
            fix_text = "npm audit fix" if fix else ""
        for via in entry.get("via", []):
            if not isinstance(via, dict):  # the name of a vulnerable dependency, listed under its own entry
                continue
            url = via.get("url") or ""
            advisory = url.rstrip("/").rsplit("/", 1)[-1] if url else f"npm-{via.get('source')}"
            key = (via.get("name"), advisory)
            if key in seen:
                continue
            seen.add(key)
            severity = via.get("severity") or "unknown"
            if severity not in {"info", "low", "moderate", "high", "critical"}:
                severity = "unknown"
            result.findings.append(Finding(
                "npm", via.get("name") or entry["name"], "/".join(versions), advisory,
                (f"npm-{via['source']}",) if via.get("source") else (), severity, fix_text,
                _one_line(via.get("title")),
            ))
    return result


# --------------------------------------------------------------------------------------------
# Exceptions


class ExceptionsError(ValueError):
    pass


@dataclass(frozen=True)
class Accepted:
    """A reviewed exception: an advisory for a package, or a service that cannot be reached."""
    kind: str  # "advisory" or "unreachable"
    subject: str  # advisory id (or alias) / service
    package: str  # "" for unreachable
    reason: str
    reviewed_by: str
    expires: date

    def active(self, today: date) -> bool:
        """In force up to and including the `expires` day."""
        return today <= self.expires

    def matches(self, finding: Finding) -> bool:
        return (self.kind == "advisory" and canonical(self.package) == canonical(finding.package)
                and self.subject.upper() in finding.ids())


_FIELDS = {
    "advisory": {"id", "package", "reason", "reviewed_by", "expires"},
    "unreachable": {"service", "reason", "reviewed_by", "expires"},
}


def load_exceptions(text: str, today: date, where: str = str(EXCEPTIONS_FILE)) -> list[Accepted]:
    """Parse the exceptions file; anything malformed raises ExceptionsError saying what and where."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ExceptionsError(f"{where} is not valid TOML: {exc}") from None
    unknown = set(data) - set(_FIELDS)
    if unknown:
        raise ExceptionsError(f"{where}: unknown table(s) {sorted(unknown)}; only [[advisory]] and [[unreachable]]")
    accepted = []
    for kind, fields in _FIELDS.items():
        entries = data.get(kind, [])
        if not isinstance(entries, list):
            raise ExceptionsError(f"{where}: write each exception as [[{kind}]]")
        for n, entry in enumerate(entries, 1):
            at = f"{where}: [[{kind}]] number {n}"
            if not isinstance(entry, dict):
                raise ExceptionsError(f"{at}: write each exception as a [[{kind}]] table")
            missing, extra = fields - set(entry), set(entry) - fields
            if missing or extra:
                raise ExceptionsError(
                    f"{at}: " + "; ".join(filter(None, [
                        missing and f"missing {sorted(missing)}", extra and f"unknown {sorted(extra)}"]))
                    + f" (the fields are {sorted(fields)})")
            for key in fields - {"expires"}:
                if not isinstance(entry[key], str) or not entry[key].strip():
                    raise ExceptionsError(f"{at}: {key} must be a non-empty string")
            expires = entry["expires"]
            if isinstance(expires, datetime) or not isinstance(expires, date):
                raise ExceptionsError(f"{at}: expires must be a date without quotes, e.g. expires = 2027-03-31")
            if expires > today + timedelta(days=MAX_EXCEPTION_DAYS):
                raise ExceptionsError(f"{at}: expires {expires} is more than {MAX_EXCEPTION_DAYS} days ahead; "
                                      "review it again before then instead")
            if kind == "unreachable" and entry["service"] not in SERVICES:
                raise ExceptionsError(f"{at}: service must be one of {list(SERVICES)}")
            subject = entry["id"] if kind == "advisory" else entry["service"]
            accepted.append(Accepted(kind, subject.strip(), entry.get("package", "").strip(),
                                     _one_line(entry["reason"]), entry["reviewed_by"].strip(), expires))
    return accepted


# --------------------------------------------------------------------------------------------
# Verdict


@dataclass
class Verdict:
    failed: bool
    complete: bool  # every service was reached (or its absence accepted): a result worth caching
    lines: list[str]
    failures: list[str]


def decide(results: list[SourceResult], accepted: list[Accepted], today: date, in_ci: bool) -> Verdict:
    lines, failures, complete = [], [], True
    used = set()
    for res in results:
        if res.reached:
            lines.append(f"{res.service}: {res.audited} packages audited"
                         + (f", {len(res.not_audited)} not audited: " + "; ".join(res.not_audited)
                            if res.not_audited else ""))
            lines.extend(f"  {note}" for note in res.notes)
            continue
        exc = next((a for a in accepted if a.kind == "unreachable" and a.subject == res.service), None)
        used.add(exc)
        if exc and exc.active(today):
            lines.append(f"{res.service}: NOT AUDITED, the service cannot be reached ({res.problem}); accepted "
                         f"until {exc.expires}: {exc.reason} (reviewed by {exc.reviewed_by})")
        elif in_ci:
            complete = False
            lapsed = f" (its exception expired on {exc.expires})" if exc else ""
            failures.append(f"{res.service}: the audit service cannot be reached, and CI must audit{lapsed}: "
                            f"{res.problem}")
        else:
            complete = False
            lines.append(f"WARNING {res.service}: NOT AUDITED, the service cannot be reached ({res.problem}); "
                         "CI would fail on this")
    for finding in (f for res in results for f in res.findings):
        exc = next((a for a in accepted if a.matches(finding) and a.active(today)), None) or next(
            (a for a in accepted if a.matches(finding)), None)
        used.add(exc)
        if exc and exc.active(today):
            lines.append(f"accepted until {exc.expires}: {finding.line()} – {exc.reason} "
                         f"(reviewed by {exc.reviewed_by})")
        elif finding.blocking:
            lapsed = f" [its exception expired on {exc.expires}]" if exc else ""
            failures.append(finding.line() + lapsed)
        else:
            lines.append(f"below high severity, not failing: {finding.line()}")
    for exc in accepted:
        if exc not in used:
            state = "expired" if not exc.active(today) else "matches nothing now"
            lines.append(f"unused exception ({state}, remove it): {exc.kind} {exc.subject} {exc.package}".rstrip())
    return Verdict(bool(failures), complete, lines, failures)


def render(verdict: Verdict) -> str:
    out = ["Dependency audit:"] + [f"  {line}" for line in verdict.lines]
    if verdict.failed:
        out.append(f"Dependency audit FAILED ({len(verdict.failures)}):")
        out += [f"  {line}" for line in verdict.failures]
        out.append(f"  Upgrade the package (pyproject.toml; package.json and package-lock.json), or, once reviewed, "
                   f"accept an [[advisory]] or [[unreachable]] exception in {EXCEPTIONS_FILE} "
                   "(docs/dependency-audit.md).")
    elif not verdict.complete:
        out.append("Dependency audit INCOMPLETE (see WARNING): no known high-severity vulnerability in what it "
                   "could audit; not failing outside CI.")
    else:
        out.append("Dependency audit passed: no known high-severity vulnerability without an accepted exception.")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# Running the tools (not unit-tested: needs the venv, npm and the network)


def installed_packages(python: Path) -> list[dict]:
    """The venv's distributions as pip lists them, without the editable project itself."""
    out = subprocess.run([str(python), "-m", "pip", "list", "--format", "json", "--exclude-editable"],
                         capture_output=True, text=True, check=True).stdout
    return sorted(json.loads(out), key=lambda d: canonical(d["name"]))


def run_pip_audit(venv: Path) -> tuple[dict | None, str]:
    """pip-audit's JSON report of the venv, or None and why it gave none."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "pip-audit.json"
        try:
            proc = subprocess.run(
                [str(venv / "bin" / "pip-audit"), "--progress-spinner", "off", "--format", "json", "--desc", "on",
                 "--aliases", "on", "--skip-editable", "--local", "--timeout", "20", "--output", str(report)],
                capture_output=True, text=True)
        except FileNotFoundError:
            return None, "pip-audit is not installed in .venv (the test extras install it)"
        if report.exists() and report.stat().st_size:
            return json.loads(report.read_text()), ""
    tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return None, f"pip-audit gave no report: {_one_line(tail, 200)}"


def _fetch_project(name: str) -> tuple[str, dict | None, str]:
    url = f"https://pypi.org/pypi/{name}/json"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return name, json.load(response), ""
    except urllib.error.HTTPError as exc:
        return name, None, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return name, None, f"unreachable: {_one_line(str(getattr(exc, 'reason', exc)), 200)}"


def audit_python(venv: Path, packages: list[dict]) -> SourceResult:
    result = SourceResult("pypi")
    report, why = run_pip_audit(venv)
    audited: set[str] = set()
    if report is not None:
        result.findings, audited = parse_pip_audit(report)
    rest = [p for p in packages if canonical(p["name"]) not in audited]
    result.audited = len(packages) - len(rest)
    if not rest:
        return result
    # pip-audit reads PyPI's per-release JSON (/pypi/NAME/VERSION/json). Where that is not served (this
    # project's machines reach PyPI through a mirror that answers 404 to it), PyPI's project JSON still
    # carries the same advisory data for the latest release.
    result.notes.append((why or f"pip-audit could not audit {len(rest)} of {len(packages)} packages "
                         "(PyPI's per-release data not found)")
                        + "; those were checked against PyPI's project data, which covers the latest release only")
    reached = False
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        fetched = {name: (data, err) for name, data, err in pool.map(_fetch_project, [p["name"] for p in rest])}
    for package in rest:
        data, err = fetched[package["name"]]
        if data is None:
            reached = reached or err.startswith("HTTP")
            result.not_audited.append(f"{package['name']} {package['version']} ({err})")
            continue
        reached = True
        findings = parse_pypi_project(package["name"], package["version"], data)
        if findings is None:
            result.not_audited.append(f"{package['name']} {package['version']} "
                                      f"(not the latest release, {data['info']['version']})")
        else:
            result.audited += 1
            result.findings += findings
    if not reached and not audited:
        return SourceResult("pypi", reached=False, problem=f"{why or 'pip-audit audited nothing'}; "
                                                           f"PyPI's project data: {fetched[rest[0]['name']][1]}")
    return result


def audit_npm(root: Path) -> SourceResult:
    lock_file = root / "package-lock.json"
    if not lock_file.exists():
        return SourceResult("npm", audited=0, notes=["no package-lock.json"])
    try:
        proc = subprocess.run(["npm", "audit", "--json", "--package-lock-only"], cwd=root, capture_output=True,
                              text=True)
    except FileNotFoundError:
        return SourceResult("npm", reached=False, problem="npm is not installed")
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        tail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return SourceResult("npm", reached=False, problem=f"npm audit gave no report: {_one_line(tail, 200)}")
    return parse_npm_audit(data, json.loads(lock_file.read_text()))


def _cache_key(root: Path, packages: list[dict], today: date) -> str:
    parts = [json.dumps(packages).encode(), today.isoformat().encode()]
    for path in (root / "package-lock.json", root / EXCEPTIONS_FILE, Path(__file__)):
        parts.append(path.read_bytes() if path.exists() else b"-")
    return hashlib.sha256(b"\0".join(parts)).hexdigest()


def run(root: Path, venv: Path, *, in_ci: bool, use_cache: bool) -> Verdict:
    """Audit, print the report and return the verdict. A malformed exceptions file raises ExceptionsError."""
    today = date.today()
    exceptions_path = root / EXCEPTIONS_FILE
    text = exceptions_path.read_text(encoding="utf-8") if exceptions_path.exists() else ""
    accepted = load_exceptions(text, today)
    cache = venv / ".dep-audit.json"
    packages = installed_packages(venv / "bin" / "python")
    key = _cache_key(root, packages, today)
    if use_cache and cache.exists():
        try:
            cached = json.loads(cache.read_text())
        except ValueError:
            cached = {}
        age = time.time() - cached.get("at", 0)
        if cached.get("key") == key and age < CACHE_HOURS * 3600:
            print(f"Dependency audit: passed {age / 3600:.1f} h ago with the same packages and exceptions "
                  "(cached; `python3 dev.py audit` runs it again).", flush=True)
            print("\n".join(f"  {line}" for line in cached.get("lines", [])), flush=True)
            return Verdict(False, True, cached.get("lines", []), [])
    started = time.monotonic()
    print("+ dependency audit: pip-audit on .venv, npm audit on package-lock.json", flush=True)
    verdict = decide([audit_python(venv, packages), audit_npm(root)], accepted, today, in_ci)
    print(render(verdict) + f"\n  ({time.monotonic() - started:.0f} s)", flush=True)
    if not verdict.failed and verdict.complete:
        cache.write_text(json.dumps({"key": key, "at": time.time(), "lines": verdict.lines}))
    elif cache.exists():
        cache.unlink()
    return verdict


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
