"""Load test (locust): residents search, read units, compare, identify with the test provider and choose;
staff edit. Run it headless against two nodes on PostgreSQL as docs/deployment.md ("Load test") shows:

    .venv/bin/locust -f locustfile.py --headless -u 40 -r 10 -t 60s \
        --host http://127.0.0.1:5110 --csv artifacts/load

Each virtual user picks node A or B (LOCUST_HOSTS, comma-separated; default: --host only), so both nodes
serve every kind of request. The nodes must run with TEST_IDENTIFICATION on and, because every virtual user
comes from one address, RATE_LIMIT_ENABLED=false. Staff users sign in as LOCUST_STAFF_EMAIL with
LOCUST_STAFF_PASSWORD (left out when unset). Every choice made is cancelled again, so places stay free.
"""
from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

WORDS = ["terveysasema", "hammashoitola", "Järvenpää", "lääkäri", "hälsocentral", "tandvård", "Kerava", "Sipoo",
         "neuvola", "Espoo", "terveys", "Helsinki"]
CHOOSERS = ["aino", "liisa", "astrid"]  # test persons who may choose in the Uusimaa pilot
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
REQUEST_TOKEN = re.compile(r'name="request_token" type="hidden" value="([^"]+)"')
HOSTS = [h for h in os.environ.get("LOCUST_HOSTS", "").split(",") if h]


def _csrf(html: str) -> str | None:
    match = CSRF.search(html)
    return match.group(1) if match else None


class Node(HttpUser):
    abstract = True

    units_query = "pilot=uusimaa&element=sote_centre&accepting=1"

    def on_start(self) -> None:
        if HOSTS:
            self.client.base_url = random.choice(HOSTS)
        self.unit_ids = self._unit_ids()

    def _unit_ids(self) -> list[int]:
        ids: list[int] = []
        with self.client.get(f"/api/v1/units?{self.units_query}", name="/api/v1/units [start]",
                             catch_response=True) as response:
            if response.status_code == 200:
                ids = [u["id"] for u in response.json()["items"]]
        return ids or [1]


class Resident(Node):
    weight = 8
    wait_time = between(1, 3)

    @task(5)
    def search(self) -> None:
        lang = random.choice(["fi", "sv"])
        self.client.get(f"/{lang}/search", params={"q": random.choice(WORDS)}, name="/[lang]/search?q")

    @task(2)
    def search_filters(self) -> None:
        self.client.get("/fi/search", params={"element": "sote_centre", "accepting": "1", "postcode": "04400",
                                              "sort": "distance"}, name="/fi/search?filters")

    @task(2)
    def api_search(self) -> None:
        self.client.get("/api/v1/units", params={"q": random.choice(WORDS)}, name="/api/v1/units?q")

    @task(4)
    def unit_page(self) -> None:
        self.client.get(f"/fi/units/{random.choice(self.unit_ids)}", name="/fi/units/[id]")

    @task(1)
    def compare(self) -> None:
        ids = random.sample(self.unit_ids, min(3, len(self.unit_ids)))
        self.client.get("/fi/compare", params=[("unit", i) for i in ids], name="/fi/compare")


class Chooser(Node):
    """Identifies with the test provider, chooses a unit, reads the receipt and cancels the choice."""
    weight = 2
    wait_time = between(2, 5)

    def on_start(self) -> None:
        super().on_start()
        page = self.client.get("/fi/identify/test", name="/fi/identify/test").text
        self.client.post("/fi/identify/test", data={"csrf_token": _csrf(page), "person": random.choice(CHOOSERS)},
                         name="/fi/identify/test [POST]")

    @task
    def choose_and_cancel(self) -> None:
        unit = random.choice(self.unit_ids)
        with self.client.get(f"/fi/choose/{unit}/confirm", name="/fi/choose/[id]/confirm",
                             catch_response=True) as page:
            if page.status_code in (200, 409):  # 409: the rules refuse (e.g. a choice is already pending)
                page.success()
            token = REQUEST_TOKEN.search(page.text)
        if not token:
            return
        with self.client.post(f"/fi/choose/{unit}/confirm", data={"csrf_token": _csrf(page.text),
                                                                   "request_token": token.group(1)},
                              name="/fi/choose/[id]/confirm [POST]", allow_redirects=False,
                              catch_response=True) as done:
            if done.status_code in (303, 409):  # created, or refused under the lock (full, pending)
                done.success()
        if done.status_code != 303:
            return
        reference = done.headers["Location"].rsplit("/", 1)[1]
        self.client.get(f"/fi/my-choices/{reference}", name="/fi/my-choices/[ref]")
        cancel = self.client.get(f"/fi/my-choices/{reference}/cancel", name="/fi/my-choices/[ref]/cancel").text
        self.client.post(f"/fi/my-choices/{reference}/cancel", data={"csrf_token": _csrf(cancel)},
                         name="/fi/my-choices/[ref]/cancel [POST]")


class StaffEditor(Node):
    """Hides a unit and shows it again (two writes that every node's index must follow). Its units are oral
    health units, which the residents here do not open, so their pages never meet a unit hidden a moment ago."""
    weight = 1 if os.environ.get("LOCUST_STAFF_EMAIL") else 0
    units_query = "pilot=uusimaa&element=oral_health"
    wait_time = between(3, 8)

    def on_start(self) -> None:
        super().on_start()
        page = self.client.get("/fi/staff/sign-in", name="/fi/staff/sign-in").text
        self.client.post("/fi/staff/sign-in", name="/fi/staff/sign-in [POST]",
                         data={"csrf_token": _csrf(page), "email": os.environ.get("LOCUST_STAFF_EMAIL", ""),
                               "password": os.environ.get("LOCUST_STAFF_PASSWORD", "")})

    @task
    def toggle_visibility(self) -> None:
        unit = random.choice(self.unit_ids)
        for _ in range(2):
            html = self.client.get(f"/fi/staff/units/{unit}", name="/fi/staff/units/[id]").text
            version = re.search(r'name="version" type="hidden" value="(\d+)"', html)
            if not version:
                return
            self.client.post(f"/fi/staff/units/{unit}/visibility", name="/fi/staff/units/[id]/visibility",
                             data={"csrf_token": _csrf(html), "version": version.group(1)})
