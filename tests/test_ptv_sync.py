"""`flask ptv-sync` against a local HTTP server that answers like the PTV Open API."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import ptv_fixtures as fx
from tests.test_ptv_import import PROVIDER, jarvenpaa_v7_location, ptv_units, unit_count
from webapp.imports.ptv_client import LIST_PATH, PtvFetchError, fetch_service_locations, session


class FakePtv:
    """Serves `pages` (lists of items) for ORGANIZATION; `mode` switches to an error or a slow answer."""

    def __init__(self) -> None:
        self.pages: list[list[dict]] = []
        self.mode = "ok"
        self.requests: list[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.requests.append(self.path)
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                if fake.mode == "slow":
                    time.sleep(1.5)
                if fake.mode == "error":
                    return self._send(500, b'{"message": "An error has occurred."}')
                if fake.mode == "html":
                    return self._send(200, b"<html>maintenance</html>", "text/html")
                if url.path != LIST_PATH or query.get("organizationId") != [fx.ORGANIZATION]:
                    return self._send(400, json.dumps({"organizationId": ["Not found."]}).encode())
                number = int(query.get("page", ["1"])[0])
                items = fake.pages[number - 1] if number <= len(fake.pages) else []
                self._send(200, json.dumps(fx.page(items, number, len(fake.pages))).encode())

            def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # a free port chosen by the OS
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ptv():
    fake = FakePtv()
    yield fake
    fake.close()


def sync(app, fake: FakePtv, *extra: str, organization: str = fx.ORGANIZATION):
    args = ["ptv-sync", "--organization", organization, "--pilot", "uusimaa", "--provider", PROVIDER,
            "--element", "sote_centre", "--base-url", fake.url, "--language", "en", "--retries", "0", *extra]
    return app.test_cli_runner().invoke(args=args, catch_exceptions=False)


def test_pages_through_the_organisation_dry_run_then_apply(app, ptv):
    ptv.pages = [[fx.v11_location(), {"id": "x", "serviceChannelType": "Phone"}], [jarvenpaa_v7_location()]]
    before = unit_count(app)
    dry = sync(app, ptv)
    assert dry.exit_code == 0, dry.output
    assert [q.split("page=")[1] for q in ptv.requests] == ["1", "2"]
    assert "Fetching pages 1/2" in dry.output and "Fetching pages 2/2" in dry.output  # plain lines: not a terminal
    assert dry.output.count("create ") == 2 and "Dry run: nothing was saved." in dry.output
    assert unit_count(app) == before

    done = sync(app, ptv, "--apply")
    assert done.exit_code == 0 and "Import done." in done.output
    assert set(ptv_units(app)) == {fx.HELSINKI_ID, fx.KERAVA_ID}

    # a location disappears from PTV: reported, never deleted
    ptv.pages = [[fx.v11_location()]]
    gone = sync(app, ptv, "--apply")
    assert gone.exit_code == 0, gone.output
    assert "not in PTV any more (kept, not deleted)" in gone.output and fx.KERAVA_ID in gone.output
    assert "1 no longer in PTV" in gone.output
    assert set(ptv_units(app)) == {fx.HELSINKI_ID, fx.KERAVA_ID}


def test_all_or_nothing_when_one_location_is_bad(app, ptv):
    bad = jarvenpaa_v7_location()
    bad["addresses"][0]["postalCode"] = "99999"
    ptv.pages = [[fx.v11_location()], [bad]]
    before = unit_count(app)
    result = sync(app, ptv, "--apply")
    assert result.exit_code == 1 and "99999" in result.output and "Nothing was imported" in result.output
    assert unit_count(app) == before and ptv_units(app) == {}


@pytest.mark.parametrize("mode, message", [
    ("error", "HTTP 500"),
    ("html", "is not a page of service channels"),
])
def test_an_error_answer_is_reported_and_nothing_changes(app, ptv, mode, message):
    ptv.pages = [[fx.v11_location()]]
    ptv.mode = mode
    before = unit_count(app)
    result = sync(app, ptv, "--apply")
    assert result.exit_code == 1 and message in result.output and "Nothing was imported" in result.output
    assert unit_count(app) == before


def test_a_slow_answer_times_out(app, ptv):
    ptv.pages = [[fx.v11_location()]]
    ptv.mode = "slow"
    result = sync(app, ptv, "--apply", "--timeout", "0.3")
    assert result.exit_code == 1 and "did not answer in 0.3 seconds" in result.output
    assert ptv_units(app) == {}


def test_an_unreachable_ptv_is_reported(app, ptv):
    url = ptv.url
    ptv.close()  # nothing listens on the port any more
    result = app.test_cli_runner().invoke(args=[
        "ptv-sync", "--organization", fx.ORGANIZATION, "--pilot", "uusimaa", "--provider", PROVIDER, "--element",
        "sote_centre", "--base-url", url, "--retries", "1", "--timeout", "1", "--language", "en"])
    assert result.exit_code == 1 and "cannot be reached" in result.output
    ptv.close = lambda: None


def test_a_wrong_organisation_id_is_refused_before_any_request(app, ptv):
    result = sync(app, ptv, organization="not-a-guid")
    assert result.exit_code == 1 and "is not a PTV organisation id" in result.output and ptv.requests == []


def test_server_errors_are_retried_with_backoff(ptv):
    ptv.pages = [[fx.v11_location()]]
    ptv.mode = "error"
    with pytest.raises(PtvFetchError):
        fetch_service_locations(ptv.url, fx.ORGANIZATION, timeout=2, http=session(retries=2, backoff=0.01))
    assert len(ptv.requests) == 3  # the first try and two retries
    ptv.mode = "ok"
    assert len(fetch_service_locations(ptv.url, fx.ORGANIZATION, timeout=2)) == 1
