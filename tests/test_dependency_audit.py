"""The dependency audit's own logic (tools/dep_audit.py): parsing, exceptions with expiry, the verdict.

No network: the samples below were recorded on this project's machines (pip-audit 2.10.1, npm 11.19.1,
PyPI's project JSON, 2026-12-04; marked "recorded"), or are in the tools' real report shape with
published advisories (marked "shape").
"""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import dev
from tools import dep_audit as da

TODAY = date(2026, 12, 4)

# recorded: pip-audit where PyPI's per-release JSON is not served (every package skipped, exit 0)
PIP_AUDIT_MIRROR = {"dependencies": [
    {"name": "flask", "skip_reason": "Dependency not found on PyPI and could not be audited: flask (3.1.3)"},
    {"name": "setuptools", "skip_reason": "Dependency not found on PyPI and could not be audited: setuptools (65.5.0)"},
    {"name": "valinta", "skip_reason": "distribution marked as editable"},
], "fixes": []}

# shape: pip-audit --format json --desc on --aliases on, setuptools 65.5.0 (the one `python -m venv` brings)
PIP_AUDIT_VULNS = {"dependencies": [
    {"name": "flask", "version": "3.1.3", "vulns": []},
    {"name": "setuptools", "version": "65.5.0", "vulns": [
        {"id": "PYSEC-2022-43012", "fix_versions": ["65.5.1"], "aliases": ["CVE-2022-40897", "GHSA-r9hx-vwmv-q579"],
         "description": "Python Packaging Authority (PyPA) setuptools before 65.5.1 allows remote attackers to cause "
                        "a denial of service via HTML in a crafted package or custom PackageIndex page."},
        {"id": "GHSA-cx63-2mw6-8hw5", "fix_versions": ["70.0.0"], "aliases": ["CVE-2024-6345"],
         "description": "setuptools vulnerable to Command Injection via package URL"},
    ]},
    {"name": "valinta", "skip_reason": "distribution marked as editable"},
], "fixes": []}

# recorded (two of its four entries; the other two are the GHSA ids of the same vulnerabilities)
PYPI_PYCRYPTO = {"info": {"name": "pycrypto", "version": "2.6.1"}, "vulnerabilities": [
    {"aliases": ["CVE-2013-7459", "GHSA-cq27-v7xp-c356"], "details": "Heap-based buffer overflow in the ALGnew "
     "function in block_templace.c in Python Cryptography Toolkit (aka pycrypto) allows remote attackers to execute "
     "arbitrary code as demonstrated by a crafted iv parameter to cryptmsg.py.", "fixed_in": [], "id": "PYSEC-2017-94",
     "link": "https://osv.dev/vulnerability/PYSEC-2017-94", "source": "osv", "summary": None, "withdrawn": None},
    {"aliases": ["CVE-2013-7459", "PYSEC-2017-94"], "details": "Heap-based buffer overflow in the ALGnew function",
     "fixed_in": [], "id": "GHSA-cq27-v7xp-c356", "link": "https://osv.dev/vulnerability/GHSA-cq27-v7xp-c356",
     "source": "osv", "summary": None, "withdrawn": None},
    {"aliases": ["CVE-0000-0000"], "details": "withdrawn again", "fixed_in": ["2.7"], "id": "PYSEC-0000-0",
     "link": "", "source": "osv", "summary": None, "withdrawn": "2020-01-01T00:00:00Z"},
]}

# recorded: npm audit through a registry mirror that serves only GET and HEAD (exit 1)
NPM_405 = {"message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
           "method": "POST", "uri": "https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
           "headers": {"allow": ["GET,HEAD"], "content-length": ["0"], "x-fetch-attempts": ["1"]},
           "statusCode": 405, "body": "", "error": {"summary": "", "detail": ""}}

# shape: npm audit --json (report version 2) for lodash 4.17.20 pulled in by a direct dependency
NPM_LODASH = {"auditReportVersion": 2, "vulnerabilities": {
    "lodash": {"name": "lodash", "severity": "high", "isDirect": False, "via": [
        {"source": 1106913, "name": "lodash", "dependency": "lodash", "title": "Command Injection in lodash",
         "url": "https://github.com/advisories/GHSA-35jh-r3h4-6jhm", "severity": "high", "cwe": ["CWE-77", "CWE-94"],
         "cvss": {"score": 7.2, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H"}, "range": "<4.17.21"},
        {"source": 1106914, "name": "lodash", "dependency": "lodash",
         "title": "Regular Expression Denial of Service (ReDoS) in lodash",
         "url": "https://github.com/advisories/GHSA-29mw-wpgm-hmr9", "severity": "moderate", "cwe": ["CWE-400"],
         "cvss": {"score": 5.3, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"},
         "range": "<4.17.21"}],
        "effects": ["some-tool"], "range": "<=4.17.20", "nodes": ["node_modules/lodash"], "fixAvailable": True},
    "some-tool": {"name": "some-tool", "severity": "high", "isDirect": True, "via": ["lodash"], "effects": [],
                  "range": "1.0.0 - 1.2.0", "nodes": ["node_modules/some-tool"],
                  "fixAvailable": {"name": "some-tool", "version": "1.3.0", "isSemVerMajor": False}}},
    "metadata": {"vulnerabilities": {"info": 0, "low": 0, "moderate": 0, "high": 2, "critical": 0, "total": 2}}}
LOCK = {"lockfileVersion": 3, "packages": {
    "": {"name": "x"}, "node_modules/lodash": {"version": "4.17.20"}, "node_modules/some-tool": {"version": "1.2.0"}}}

SETUPTOOLS_EXCEPTION = """
[[advisory]]
id = "CVE-2024-6345"
package = "Setuptools"
reason = "package_index is never used at run time"
reviewed_by = "A. Reviewer"
expires = 2027-01-15
"""


def pypi_result(report=PIP_AUDIT_VULNS) -> da.SourceResult:
    findings, audited = da.parse_pip_audit(report)
    return da.SourceResult("pypi", findings, audited=len(audited))


def verdict(results, exceptions="", today=TODAY, in_ci=False) -> da.Verdict:
    return da.decide(results, da.load_exceptions(exceptions, today), today, in_ci)


# --- parsing -------------------------------------------------------------------------------------

def test_pip_audit_skips_are_not_counted_as_audited():
    findings, audited = da.parse_pip_audit(PIP_AUDIT_MIRROR)
    assert findings == [] and audited == set()


def test_pip_audit_findings_have_ids_fixes_and_no_severity():
    findings, audited = da.parse_pip_audit(PIP_AUDIT_VULNS)
    assert audited == {"flask", "setuptools"}
    assert [(f.package, f.version, f.advisory, f.fix) for f in findings] == [
        ("setuptools", "65.5.0", "PYSEC-2022-43012", "65.5.1"), ("setuptools", "65.5.0", "GHSA-cx63-2mw6-8hw5",
                                                                 "70.0.0")]
    assert all(f.severity == "unknown" and f.blocking for f in findings)  # PyPI gives none: counted as high
    assert "CVE-2024-6345" in findings[1].ids()


def test_pypi_project_data_counts_only_for_its_latest_release():
    findings = da.parse_pypi_project("pycrypto", "2.6.1", PYPI_PYCRYPTO)
    # one finding per vulnerability (its PYSEC and GHSA entries are aliases), the withdrawn one left out
    assert [(f.advisory, f.fix) for f in findings] == [("PYSEC-2017-94", "")]
    assert findings[0].summary.startswith("Heap-based buffer overflow")
    assert da.parse_pypi_project("pycrypto", "2.6", PYPI_PYCRYPTO) is None


def test_npm_report_gives_each_advisory_once_with_the_locked_version():
    result = da.parse_npm_audit(NPM_LODASH, LOCK)
    assert result.reached and result.audited == 2
    assert [(f.package, f.version, f.advisory, f.severity, f.blocking) for f in result.findings] == [
        ("lodash", "4.17.20", "GHSA-35jh-r3h4-6jhm", "high", True),
        ("lodash", "4.17.20", "GHSA-29mw-wpgm-hmr9", "moderate", False)]
    assert result.findings[0].fix == "npm audit fix" and result.findings[0].aliases == ("npm-1106913",)


def test_npm_error_answer_means_the_service_was_not_reached():
    result = da.parse_npm_audit(NPM_405, LOCK)
    assert not result.reached and "405 Method Not Allowed" in result.problem


# --- verdict -------------------------------------------------------------------------------------

def test_a_high_severity_finding_fails_with_package_version_advisory_and_fix():
    v = verdict([pypi_result(), da.parse_npm_audit(NPM_LODASH, LOCK)])
    assert v.failed and len(v.failures) == 3
    text = da.render(v)
    assert "FAILED (3)" in text
    assert "pypi setuptools 65.5.0: GHSA-cx63-2mw6-8hw5 (CVE-2024-6345), no severity given, counted as high, " \
           "fix: 70.0.0" in text
    assert "npm lodash 4.17.20: GHSA-35jh-r3h4-6jhm (npm-1106913), high, fix: npm audit fix" in text
    assert "below high severity, not failing: npm lodash 4.17.20: GHSA-29mw-wpgm-hmr9" in text


def test_nothing_known_passes():
    clean = da.SourceResult("pypi", audited=117, not_audited=["numpy 2.4.6 (not the latest release, 2.5.5)"])
    v = verdict([clean, da.SourceResult("npm", audited=3)])
    assert not v.failed and v.complete and "passed" in da.render(v)
    assert "pypi: 117 packages audited, 1 not audited: numpy 2.4.6" in v.lines[0]


@pytest.mark.parametrize("today, accepted", [
    (date(2027, 1, 14), True),   # the day before expires
    (date(2027, 1, 15), True),   # the day of expires: still in force
    (date(2027, 1, 16), False),  # the day after: the audit fails again
])
def test_an_exception_holds_through_its_expiry_day(today, accepted):
    only_cve = da.SourceResult("pypi", [f for f in pypi_result().findings if f.advisory.startswith("GHSA")])
    v = verdict([only_cve], SETUPTOOLS_EXCEPTION, today=today)
    assert v.failed is not accepted
    if accepted:
        assert any(line.startswith("accepted until 2027-01-15: pypi setuptools 65.5.0: GHSA-cx63-2mw6-8hw5")
                   and "package_index is never used" in line and "A. Reviewer" in line for line in v.lines)
    else:
        assert v.failures == [only_cve.findings[0].line() + " [its exception expired on 2027-01-15]"]


def test_an_exception_is_for_one_package_and_unused_ones_are_reported():
    other = da.Finding("pypi", "not-setuptools", "1.0", "GHSA-cx63-2mw6-8hw5", ("CVE-2024-6345",))
    v = verdict([da.SourceResult("pypi", [other])], SETUPTOOLS_EXCEPTION)
    assert v.failed
    assert "unused exception (matches nothing now, remove it): advisory CVE-2024-6345 Setuptools" in v.lines


def test_an_unreachable_service_warns_locally_and_fails_in_ci():
    npm = da.parse_npm_audit(NPM_405, LOCK)
    local = verdict([da.SourceResult("pypi", audited=1), npm])
    assert not local.failed and not local.complete and any(line.startswith("WARNING npm") for line in local.lines)
    assert "INCOMPLETE" in da.render(local)
    ci = verdict([npm], in_ci=True)
    assert ci.failed and "npm: the audit service cannot be reached, and CI must audit" in ci.failures[0]


def test_an_accepted_unreachable_service_passes_in_ci_until_it_expires():
    exception = ('[[unreachable]]\nservice = "npm"\nreason = "mirror answers 405"\nreviewed_by = "A. Reviewer"\n'
                 "expires = 2027-03-31\n")
    npm = da.parse_npm_audit(NPM_405, LOCK)
    v = verdict([npm], exception, in_ci=True)
    assert not v.failed and v.complete and "accepted until 2027-03-31: mirror answers 405" in v.lines[0]
    lapsed = verdict([npm], exception, today=date(2027, 4, 1), in_ci=True)
    assert lapsed.failed and "(its exception expired on 2027-03-31)" in lapsed.failures[0]


# --- the exceptions file -------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("[[advisory]\nid = 1", "is not valid TOML"),
    ('[[advisory]]\nid = "X"\npackage = "p"\nreason = "r"\nexpires = 2027-01-01', "missing ['reviewed_by']"),
    ('[[advisory]]\nid = "X"\npackage = "p"\nreason = "r"\nreviewed_by = "a"\nexpires = 2027-01-01\nexpire = 1',
     "unknown ['expire']"),
    ('[[advisory]]\nid = "X"\npackage = "p"\nreason = "r"\nreviewed_by = "a"\nexpires = "2027-01-01"',
     "expires must be a date without quotes"),
    ('[[advisory]]\nid = "X"\npackage = "p"\nreason = " "\nreviewed_by = "a"\nexpires = 2027-01-01',
     "reason must be a non-empty string"),
    ('[[advisory]]\nid = "X"\npackage = "p"\nreason = "r"\nreviewed_by = "a"\nexpires = 2099-01-01',
     "is more than 366 days ahead"),
    ('[[unreachable]]\nservice = "osv"\nreason = "r"\nreviewed_by = "a"\nexpires = 2027-01-01',
     "service must be one of"),
    ('[[ignore]]\nid = "X"', "unknown table(s) ['ignore']"),
    ('advisory = "GHSA-x"', "write each exception as [[advisory]]"),
])
def test_a_malformed_exceptions_file_is_refused_with_the_reason(text, message):
    with pytest.raises(da.ExceptionsError) as caught:
        da.load_exceptions(text, TODAY)
    assert message in str(caught.value) and "security/audit-exceptions.toml" in str(caught.value)


def test_the_committed_exceptions_file_is_well_formed():
    path = Path(__file__).resolve().parents[1] / da.EXCEPTIONS_FILE
    for exc in da.load_exceptions(path.read_text(encoding="utf-8"), date.today()):
        assert exc.reason and exc.reviewed_by and exc.expires


# --- caching and dev.py ---------------------------------------------------------------------------

@pytest.fixture
def fake_tools(tmp_path, monkeypatch):
    """A project folder whose audit sees the given results instead of running pip-audit and npm."""
    (tmp_path / ".venv").mkdir()
    (tmp_path / "package-lock.json").write_text(json.dumps(LOCK))
    monkeypatch.setattr(da, "installed_packages", lambda python: [{"name": "flask", "version": "3.1.3"}])
    calls = []

    def use(pypi: da.SourceResult, npm: da.SourceResult):
        monkeypatch.setattr(da, "audit_python", lambda venv, packages: calls.append("pypi") or pypi)
        monkeypatch.setattr(da, "audit_npm", lambda root: calls.append("npm") or npm)
        return calls
    return tmp_path, use


def test_a_passing_audit_is_reused_until_something_changes(fake_tools):
    root, use = fake_tools
    calls = use(da.SourceResult("pypi", audited=1), da.SourceResult("npm", audited=2))
    assert not da.run(root, root / ".venv", in_ci=False, use_cache=True).failed
    assert not da.run(root, root / ".venv", in_ci=False, use_cache=True).failed
    assert calls == ["pypi", "npm"]  # the second run used the cache
    (root / "package-lock.json").write_text(json.dumps(LOCK) + "\n")
    da.run(root, root / ".venv", in_ci=False, use_cache=True)
    da.run(root, root / ".venv", in_ci=True, use_cache=False)  # CI always audits
    assert calls == ["pypi", "npm"] * 3


def test_a_failing_or_incomplete_audit_is_not_cached(fake_tools):
    root, use = fake_tools
    calls = use(pypi_result(), da.SourceResult("npm", audited=2))
    assert da.run(root, root / ".venv", in_ci=False, use_cache=True).failed
    use(da.SourceResult("pypi", audited=1), da.parse_npm_audit(NPM_405, LOCK))
    assert not da.run(root, root / ".venv", in_ci=False, use_cache=True).failed
    da.run(root, root / ".venv", in_ci=False, use_cache=True)
    assert calls == ["pypi", "npm"] * 3 and not (root / ".venv" / ".dep-audit.json").exists()


def test_dev_audit_exits_non_zero_on_a_high_severity_finding(fake_tools, monkeypatch, capsys):
    root, use = fake_tools
    use(da.SourceResult("pypi", audited=1), da.parse_npm_audit(NPM_LODASH, LOCK))
    monkeypatch.setattr(dev, "ROOT", root)
    monkeypatch.setattr(dev, "VENV", root / ".venv")
    monkeypatch.setattr(dev, "ensure_venv", lambda extras: None)
    monkeypatch.setattr(dev, "ensure_npm", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        dev.audit()
    assert exit_.value.code == 1
    assert "npm lodash 4.17.20: GHSA-35jh-r3h4-6jhm" in capsys.readouterr().out


def test_dev_audit_stops_on_a_malformed_exceptions_file(fake_tools, monkeypatch):
    root, use = fake_tools
    use(da.SourceResult("pypi", audited=1), da.SourceResult("npm", audited=2))
    (root / "security").mkdir()
    (root / da.EXCEPTIONS_FILE).write_text("[[advisory]]\nid = 'X'\n")
    monkeypatch.setattr(dev, "ROOT", root)
    monkeypatch.setattr(dev, "VENV", root / ".venv")
    monkeypatch.setattr(dev, "ensure_venv", lambda extras: None)
    monkeypatch.setattr(dev, "ensure_npm", lambda: None)
    with pytest.raises(SystemExit) as exit_:
        dev.audit()
    assert str(exit_.value.code).startswith("Dependency audit: security/audit-exceptions.toml: [[advisory]] number 1: "
                                            "missing")
