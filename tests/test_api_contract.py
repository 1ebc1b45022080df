"""The API keeps its OpenAPI contract: schemathesis with all its checks against a running server.

gunicorn serves a fresh seeded SQLite copy on SCHEMATHESIS_PORT [5112]; `schemathesis run --checks all`
reads /api/v1/openapi.json and tests every operation (coverage, fuzzing and stateful phases) with a fixed
seed and a bounded number of examples, so the run is repeatable and takes about half a minute.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("SCHEMATHESIS_PORT", "5112"))
MAX_EXAMPLES = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25")


def test_the_api_passes_every_schemathesis_check(app, tmp_path):
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "INDEX_DIR": app.config["INDEX_DIR"],
           "SECRET_KEY": app.config["SECRET_KEY"], "RESIDENT_KEY_SECRET": app.config["RESIDENT_KEY_SECRET"],
           "INSTANCE_DIR": str(tmp_path), "APP_ENV": "development"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    app.extensions["db_engine"].dispose()
    log = open(tmp_path / "gunicorn.log", "w")
    server = subprocess.Popen([str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{PORT}", "--workers", "2",
                               "--threads", "4", "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{PORT}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base + "/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        run = subprocess.run([str(bin_dir / "schemathesis"), "run", base + "/api/v1/openapi.json", "--checks", "all",
                              "--max-examples", MAX_EXAMPLES, "--seed", "20261130", "--workers", "2",
                              "--request-timeout", "30"],
                             cwd=tmp_path, env={**env, "NO_COLOR": "1"}, capture_output=True, text=True, timeout=400)
        assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
        assert "No issues found" in run.stdout
    finally:
        server.terminate()
        server.wait(20)
        log.close()
