"""The search page: form, results, facets, errors in the visitor's language, empty results, pagination."""
from __future__ import annotations

import itertools
import re
from html.parser import HTMLParser

import pytest


class Outline(HTMLParser):
    """Headings, ids, and controls with their labels."""

    def __init__(self):
        super().__init__()
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.controls: list[tuple[str, str | None]] = []
        self.label_for: set[str] = set()
        self._label_depth = 0
        self.wrapped: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "label":
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append((a.get("name"), a.get("id")))


def _outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_page_structure_is_accessible(client):
    html = client.get("/fi/search?q=hammaslääkäri&service=dentist&postcode=00100").get_data(as_text=True)
    o = _outline(html)
    assert o.headings.count(1) == 1
    for previous, current in itertools.pairwise(o.headings):
        assert current <= previous + 1, f"skipped heading level in {o.headings}"
    assert len(o.ids) == len(set(o.ids)), "duplicate ids"
    for name, control_id in o.controls:
        assert control_id and control_id in o.label_for, f"control {name} {control_id} has no label"
    assert "<legend" in html and "<fieldset" in html
    assert 'style="' not in html and "<script>" not in html


def test_titles_are_distinct(client):
    t1 = re.search(r"<title>(.*?)</title>", client.get("/fi/search").get_data(as_text=True), re.S).group(1)
    t2 = re.search(r"<title>(.*?)</title>", client.get("/fi/search?q=Tampere").get_data(as_text=True), re.S).group(1)
    t3 = re.search(r"<title>(.*?)</title>", client.get("/fi/search?page=2").get_data(as_text=True), re.S).group(1)
    assert len({t1, t2, t3}) == 3 and "Tampere" in t2


def test_results_show_key_facts_and_compare_checkboxes(client):
    html = client.get("/fi/search?element=sote_centre&postcode=00100&sort=distance").get_data(as_text=True)
    assert "toimipistettä" in html
    first = html.split('class="card result-card"')[1]
    assert re.search(r'href="/fi/units/\d+"', first)
    assert "Hoitoonpääsy: lääkäri (T3)" in first and "mitattu" in first
    assert "\u00a0km" in first and "postinumerosta 00100" in first
    assert "Palvelukielet" in first and "Esittelydataa" in first
    assert re.search(r'<input type="checkbox" name="unit" value="\d+"', first)
    assert 'action="/fi/compare"' in html


def test_facet_counts_beside_values(client):
    html = client.get("/fi/search?pilot=tampere").get_data(as_text=True)
    # All pilots keep their counts although one is selected (the other filters apply).
    assert re.search(r'<option[^>]*value="jyvaskyla"[^>]*>[^<]*\(9\)</option>', html)
    assert re.search(r'<option selected value="tampere">[^<]*\(20\)</option>'
                     r'|<option[^>]*value="tampere"[^>]*selected[^>]*>[^<]*\(20\)', html)


def test_form_keeps_state_in_query_string(client):
    html = client.get("/sv/search?service=doctor&language=sv&accepting=1&sort=queue").get_data(as_text=True)
    assert re.search(r'<input checked id="service-\d+" name="service" type="checkbox" value="doctor">', html)
    assert re.search(r'<input checked id="language-\d+" name="language" type="checkbox" value="sv">', html)
    assert re.search(r'<input checked id="accepting" name="accepting" type="checkbox" value="1">', html)
    assert re.search(r'<option selected value="queue">', html)


@pytest.mark.parametrize("query, parameter", [
    ("page=-1", "page"), ("page=abc", "page"), ("page=999", "page"), ("q=" + "a" * 10_000, "q"),
    ("service=zzz", "service"), ("element=castle", "element"), ("pilot=atlantis", "pilot"),
    ("municipality=999", "municipality"), ("postcode=12", "postcode"), ("postcode=00009", "postcode"),
    ("postcode=00100&radius_km=0", "radius_km"), ("postcode=00100&radius_km=-5", "radius_km"),
    ("postcode=00100&radius_km=501", "radius_km"), ("postcode=00100&radius_km=far", "radius_km"),
("max_t3_doctor=-1", "max_t3_doctor"), ("max_t3_nurse=366", "max_t3_nurse"),
    ("max_t3_doctor=1.5", "max_t3_doctor"), ("language=xx", "language"), ("feature=moat", "feature"),
    ("sector=royal", "sector"), ("sort=random", "sort"), ("sort=distance", "sort"), ("accepting=maybe", "accepting"),
])
def test_bad_input_gives_400_with_error_summary(client, query, parameter):
    response = client.get(f"/fi/search?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html and "Tiedoissa on korjattavaa" in html
    assert "card result-card" not in html


def test_error_messages_in_finnish_and_swedish(client):
    fi = client.get("/fi/search?max_t3_doctor=abc").get_data(as_text=True)
    sv = client.get("/sv/search?max_t3_doctor=abc").get_data(as_text=True)
    assert "Lääkärille pääsyn enimmäisaika (päivää): Anna kokonaisluku." in fi
    assert "Längsta väntetid till läkare (dagar): Ange ett heltal." in sv
    # The field carries its error and is tied to it.
    assert 'aria-describedby="max_t3_doctor-error"' in fi and 'aria-invalid="true"' in fi
    assert '<a href="#max_t3_doctor">' in fi


def test_unknown_postcode_is_named(client):
    html = client.get("/sv/search?postcode=00009").get_data(as_text=True)
    assert "Postnumret 00009 finns inte." in html


def test_empty_result_offers_to_remove_each_filter(client):
    html = client.get("/fi/search?q=hammaslääkäri&municipality=179&accepting=1").get_data(as_text=True)
    assert "Haullasi ei löytynyt toimipisteitä." in html
    links = re.findall(r'<li><a href="([^"]+)">Poista rajaus ([^<]+)</a></li>', html)
    assert len(links) == 3
    hrefs = [h.replace("&amp;", "&") for h, _ in links]
    assert "/fi/search?municipality=179&accepting=1" in hrefs
    assert "/fi/search?q=hammasl%C3%A4%C3%A4k%C3%A4ri&accepting=1" in hrefs
    assert "/fi/search?q=hammasl%C3%A4%C3%A4k%C3%A4ri&municipality=179" in hrefs
    assert any("Jyväskylä" in text for _, text in links)


def test_pagination_nav(client):
    html = client.get("/fi/search?page=2").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Tulossivut">(.*?)</nav>', html, re.S).group(1)
    assert re.search(r'<a href="/fi/search\?page=2" aria-current="page">', nav)
    assert 'href="/fi/search" rel="prev"' in nav or 'href="/fi/search?page=1" rel="prev"' in nav
    assert 'href="/fi/search?page=3" rel="next"' in nav
    assert html.count('class="card result-card"') == 20


def test_pagination_keeps_filters(client):
    html = client.get("/fi/search?element=sote_centre&sort=queue").get_data(as_text=True)
    assert 'href="/fi/search?element=sote_centre&amp;sort=queue&amp;page=2"' in html


def test_distance_without_postcode_is_ignored(client):
    """The home page's form always sends a default distance; a search without a postcode still works."""
    response = client.get("/fi/search?q=hammaslääkäri&radius_km=10")
    assert response.status_code == 200
    all_dentists = client.get("/fi/search?q=hammaslääkäri").get_data(as_text=True)
    count = re.search(r"Löytyi (\d+) toimipistettä", all_dentists).group(1)
    assert f"Löytyi {count} toimipistettä" in response.get_data(as_text=True)


def test_home_page_search_form_reaches_results(client):
    html = client.get("/fi/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="/fi/search"[^>]*>(.*?)</form>', html, re.S)
    if form is None:
        pytest.skip("the home page has no search form yet")
    fields = {}
    for name, body in re.findall(r'<select[^>]*name="(\w+)"[^>]*>(.*?)</select>', form.group(1), re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body)
        if chosen:
            fields[name] = chosen.group(1)
    assert "radius_km" in fields
    fields["q"] = "hammaslääkäri"
    response = client.get("/fi/search", query_string=fields)
    assert response.status_code == 200, fields
