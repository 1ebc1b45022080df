"""Two app servers as separate gunicorn processes on one PostgreSQL database, each with its own index.

Node A (two workers, Prometheus multiprocess mode) and node B (one worker, starting without an index)
listen on TWO_NODE_PORTS [5110,5111]. A change through A is in B's next search; residents choosing
through both nodes at once never overfill a unit.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from tests.choice_helpers import free_unit
from tests.test_capacity import make_residents, set_places, unit_state
from tests.test_staff_helpers import PASSWORD, prepare_accounts
from webapp.accounts import sessions as login_sessions
from webapp.models import Unit
from webapp.web import db

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
PORTS = [int(p) for p in os.environ.get("TWO_NODE_PORTS", "5110,5111").split(",")]


class Node:
    def __init__(self, name: str, port: int, env: dict, workers: int, logs: Path):
        self.name, self.url = name, f"http://127.0.0.1:{port}"
        self.log = open(logs / f"{name}.log", "w")
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen([str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                                      "--threads", "4", "--timeout", "60", "wsgi:app"],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"{self.name} not ready: {Path(self.log.name).read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture
def two_nodes(make_app, tmp_path):
    app = make_app("postgres")
    users = prepare_accounts(app)
    app.extensions["db_engine"].dispose()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "INDEX_DIR", "PROMETHEUS"))}
    base.update({"DATABASE_URL": app.config["DATABASE_URL"], "SECRET_KEY": app.config["SECRET_KEY"],
                 "RESIDENT_KEY_SECRET": app.config["RESIDENT_KEY_SECRET"], "RATE_LIMIT_ENABLED": "false",
                 "INDEX_SYNC_INTERVAL_MS": "0", "APP_ENV": "development", "INSTANCE_DIR": str(tmp_path / "instance")})
    index_a = tmp_path / "node-a-index"
    shutil.copytree(app.config["INDEX_DIR"], index_a)
    node_a = Node("node-a", PORTS[0], {**base, "INDEX_DIR": str(index_a),
                                       "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom-a")}, 2, tmp_path)
    node_b = Node("node-b", PORTS[1], {**base, "INDEX_DIR": str(tmp_path / "node-b-index")}, 1, tmp_path)
    try:
        node_a.wait_ready()
        node_b.wait_ready()  # B had no index: it built one by itself
        yield app, users, node_a, node_b
    finally:
        node_a.stop()
        node_b.stop()


def csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def api_ids(node: Node, **params) -> set[int]:
    ids: set[int] = set()
    page, pages = 1, 1
    while page <= pages:
        body = requests.get(node.url + "/api/v1/units", params={**params, "page": page}, timeout=30).json()
        ids.update(u["id"] for u in body["items"])
        page, pages = page + 1, body["pages"]
    return ids


def test_a_staff_change_through_a_is_in_bs_next_search(two_nodes):
    app, users, node_a, node_b = two_nodes
    unit_id = free_unit(app)
    assert unit_id in api_ids(node_b)
    staff = requests.Session()
    page = staff.get(node_a.url + "/fi/staff/sign-in", timeout=30).text
    signed = staff.post(node_a.url + "/fi/staff/sign-in", timeout=30, allow_redirects=False,
                        data={"csrf_token": csrf(page), "email": users["admin"].email, "password": PASSWORD})
    assert signed.status_code == 302
    html = staff.get(f"{node_a.url}/fi/staff/units/{unit_id}", timeout=30).text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    hidden = staff.post(f"{node_a.url}/fi/staff/units/{unit_id}/visibility", allow_redirects=False, timeout=30,
                        data={"csrf_token": csrf(html), "version": version})
    assert hidden.status_code == 302
    assert unit_id not in api_ids(node_b), "hidden through A: not in B's next search"
    # The staff session is in the database: the same cookie works on B, and signing out on A ends it on B.
    assert staff.get(f"{node_b.url}/fi/staff/", allow_redirects=False, timeout=30).status_code == 200
    out = staff.post(f"{node_a.url}/fi/staff/sign-out", data={"csrf_token": csrf(html)}, allow_redirects=False,
                     timeout=30)
    assert out.status_code == 302
    assert staff.get(f"{node_b.url}/fi/staff/", allow_redirects=False, timeout=30).status_code == 302


def _resident_cookie(app, resident_id: int) -> str:
    """A signed-in resident's cookie: a session row and the token in Flask's signed cookie."""
    with app.app_context():
        sess = db.session()
        token = login_sessions.start(sess, "resident", max_hours=1, resident_id=resident_id, display_name="Testi")
        sess.commit()
        return app.session_interface.get_signing_serializer(app).dumps({"resident_sid": token, "_permanent": True})


def test_residents_choosing_through_both_nodes_never_overfill_a_unit(two_nodes):
    app, _users, node_a, node_b = two_nodes
    unit_id = free_unit(app)
    counted = set_places(app, unit_id, free=5)
    residents = make_residents(app, 24)
    assert unit_id in api_ids(node_b, accepting=1) and unit_id in api_ids(node_a, accepting=1)
    results: list[tuple[str, int]] = []
    barrier = threading.Barrier(len(residents))

    def choose(index: int, rid: int) -> None:
        node = (node_a, node_b)[index % 2]
        client = requests.Session()
        client.cookies.set("session", _resident_cookie(app, rid), domain="127.0.0.1")
        try:
            html = client.get(f"{node.url}/fi/choose/{unit_id}/confirm", timeout=60).text
            data = {"csrf_token": csrf(html),
                    "request_token": re.search(r'name="request_token" type="hidden" value="([^"]+)"', html).group(1)}
        finally:
            barrier.wait()
        response = client.post(f"{node.url}/fi/choose/{unit_id}/confirm", data=data, allow_redirects=False, timeout=120)
        results.append((node.name, response.status_code))

    threads = [threading.Thread(target=choose, args=(i, rid)) for i, rid in enumerate(residents)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    statuses = [s for _n, s in results]
    assert len(statuses) == len(residents) and not [s for s in statuses if s >= 500]
    assert statuses.count(303) == 5 and statuses.count(409) == len(residents) - 5
    assert {n for n, s in results if s == 303} <= {"node-a", "node-b"}
    _rows, listed, places = unit_state(app, unit_id)
    assert listed == places == counted + 5
    with app.app_context():
        assert db.session().scalar(select(Unit.capacity).where(Unit.id == unit_id)) == listed
    # Full now: out of the accepting filter on both nodes at their next search.
    assert unit_id not in api_ids(node_b, accepting=1)
    assert unit_id not in api_ids(node_a, accepting=1)
    # Node A's two workers report their choices together (Prometheus multiprocess mode).
    text = requests.get(node_a.url + "/metrics", timeout=30).text
    posts_to_a = sum(1 for n, _s in results if n == "node-a")
    answered = sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                   if s.name == "valinta_http_requests_total" and s.labels.get("endpoint") == "choice.submit")
    assert answered == posts_to_a
    created = sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
                  if s.name == "valinta_choices_total" and s.labels.get("outcome") == "created")
    assert created == sum(1 for n, s in results if n == "node-a" and s == 303)
