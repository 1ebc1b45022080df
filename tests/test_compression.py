"""Responses are compressed where the app serves them itself, never when they carry secrets (BREACH)."""
from __future__ import annotations

import gzip


def test_public_pages_and_api_are_compressed_for_clients_that_accept_it(client):
    for path in ("/fi/search?q=hammaslääkäri", "/sv/", "/api/v1/units?element=sote_centre"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert plain.headers.get("Content-Encoding") is None
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.get_data()) == plain.get_data()
        assert len(packed.get_data()) < len(plain.get_data()) / 3


def test_pages_with_csrf_tokens_or_personal_data_are_never_compressed(client):
    for path in ("/fi/identify/test", "/fi/staff/sign-in"):
        response = client.get(path, headers={"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"]
        assert response.headers.get("Content-Encoding") is None


def test_compression_can_be_left_to_the_proxy(make_app):
    app = make_app(COMPRESS_RESPONSES=False)
    response = app.test_client().get("/fi/search", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers.get("Content-Encoding") is None
