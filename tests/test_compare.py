"""The compare page: 2-4 units side by side in an accessible table; clear errors otherwise."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.models import Unit
from webapp.web import db


def _unit_ids(app, count: int, **where) -> list[int]:
    with app.app_context():
        stmt = select(Unit.id).where(Unit.is_hidden.is_(False)).order_by(Unit.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Unit, key) == value)
        return list(db.session().scalars(stmt.limit(count)))


def test_compare_table_is_accessible(app, client):
    ids = _unit_ids(app, 3, element="sote_centre")
    response = client.get("/fi/compare?" + "&".join(f"unit={i}" for i in ids))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert re.search(r'<div class="table-wrap compare-wrap" role="region" aria-labelledby="compare-caption" '
                     r'tabindex="0">', html)
    assert '<caption id="compare-caption">' in html
    assert len(re.findall(r'<th scope="col">', html)) == 3
    for fact in ("Palveluntuottaja", "Tuottajan tyyppi", "Osoite", "Hoitoonpääsy: lääkäri (T3)", "Palvelukielet",
                 "Esteetön sisäänkäynti", "Hissi", "Uudet asiakkaat", "Aukioloajat"):
        assert f'<th scope="row">{fact}</th>' in html, fact
    for i in ids:
        assert f'href="/fi/units/{i}"' in html
    # Services say yes/no in words, not only with symbols.
    assert '<span aria-hidden="true">✓</span> Kyllä' in html
    assert "ma–pe" in html.lower() or "maanantai–perjantai" in html.lower()


def test_compare_in_swedish(app, client):
    ids = _unit_ids(app, 2, element="oral_health")
    html = client.get(f"/sv/compare?unit={ids[0]}&unit={ids[1]}").get_data(as_text=True)
    assert "Jämför verksamhetsställen" in html and "Väntetid: tandläkare (T3)" in html


def test_duplicate_ids_count_once(app, client):
    ids = _unit_ids(app, 2)
    response = client.get(f"/fi/compare?unit={ids[0]}&unit={ids[0]}")
    assert response.status_code == 400
    assert "Valitse vertailuun vähintään kaksi toimipistettä. Valitsit 1." in response.get_data(as_text=True)


@pytest.mark.parametrize("query, status, text", [
    ("", 400, "Valitsit 0."),
    ("unit=1", 400, "Valitsit 1."),
    ("unit=1&unit=2&unit=3&unit=4&unit=5", 400, "Voit vertailla enintään 4 toimipistettä kerrallaan. Valitsit 5."),
    ("unit=1&unit=abc", 400, "”abc” ei ole toimipisteen numero."),
    ("unit=1&unit=-2", 400, "”-2” ei ole toimipisteen numero."),
    ("unit=1&unit=999999", 404, "Toimipistettä numerolla 999999 ei ole."),
])
def test_compare_errors(client, query, status, text):
    response = client.get(f"/fi/compare?{query}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert text in html and 'class="error-summary"' in html and 'href="/fi/search"' in html


def test_compare_links_back_to_the_search(app, client):
    ids = _unit_ids(app, 5)
    search = client.get("/fi/search?q=sote-keskus&accepting=1").get_data(as_text=True)
    assert '<input type="hidden" name="back" value="q=sote-keskus&amp;accepting=1">' in search
    back = "q=sote-keskus&accepting=1&evil=https://example.com"
    ok = client.get("/fi/compare", query_string=[("unit", ids[0]), ("unit", ids[1]), ("back", back)])
    assert 'href="/fi/search?q=sote-keskus&amp;accepting=1"' in ok.get_data(as_text=True)
    too_many = client.get("/fi/compare", query_string=[*[("unit", i) for i in ids], ("back", back)])
    assert too_many.status_code == 400
    assert 'href="/fi/search?q=sote-keskus&amp;accepting=1"' in too_many.get_data(as_text=True)


def test_compare_error_in_swedish(client):
    html = client.get("/sv/compare?unit=1&unit=2&unit=3&unit=4&unit=5").get_data(as_text=True)
    assert "Du kan jämföra högst 4 verksamhetsställen åt gången." in html


def test_hidden_unit_cannot_be_compared(app, client):
    ids = _unit_ids(app, 2)
    with app.app_context():
        sess = db.session()
        sess.get(Unit, ids[1]).is_hidden = True
        sess.commit()
    assert client.get(f"/fi/compare?unit={ids[0]}&unit={ids[1]}").status_code == 404
