"""Pilot figures: listed customers per unit and month, by age group, and the capitation basis,
against a small hand-computed fixture."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import delete, select

from tests.test_staff_helpers import prepare_accounts, sign_in
from webapp.choice.figures import pilot_figures
from webapp.models import Choice, Pilot, Resident, Unit
from webapp.web import db

M = lambda m: date(2026, m, 1)  # noqa: E731


@pytest.fixture
def fixture_units(app):
    """Unit A (sote-keskus, 42 €/month) and B (oral health, 11 €/month) in uusimaa, with six choices."""
    with app.app_context():
        sess = db.session()
        sess.execute(delete(Choice))
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == "uusimaa"))
        a = sess.scalar(select(Unit).where(Unit.pilot_id == pilot.id,
                                           Unit.element == "sote_centre").order_by(Unit.id).limit(1))
        b = sess.scalar(select(Unit).where(Unit.pilot_id == pilot.id,
                                           Unit.element == "oral_health").order_by(Unit.id).limit(1))
        people = [
            # (birth date, unit, status, effective_from, ended_on)
            (date(2000, 6, 15), a, "active", date(2026, 1, 1), None),            # Jan-Nov, 18-29
            (date(1961, 3, 10), a, "ended", date(2026, 2, 1), date(2026, 4, 1)),  # Feb-Mar, 45-64 (64)
            (date(1961, 3, 1), b, "active", date(2026, 3, 1), None),             # Mar-Nov, 65 on 1 Mar: 65-74
            (date(1940, 1, 1), a, "cancelled", date(2026, 1, 1), None),          # never counted
            (date(1990, 5, 5), a, "pending", date(2026, 12, 1), None),           # not before December
            (date(1980, 1, 15), a, "ended", date(2026, 3, 16), date(2026, 3, 20)),  # March only, 45-64
        ]
        for i, (born, unit, status, eff, ended) in enumerate(people):
            resident = Resident(key=f"figures-test-{i}", birth_date=born, home_municipality_code=unit.municipality_code)
            sess.add(resident)
            sess.flush()
            sess.add(Choice(resident_id=resident.id, unit_id=unit.id, pilot_id=pilot.id, element=unit.element,
                            status=status, channel="web", reference=f"FIGTEST{i:03d}", created_on=date(2025, 12, 1),
                            effective_from=eff, ended_on=ended))
        sess.commit()
        return a.id, b.id


def test_figures_per_unit_month_and_age_group(app, fixture_units):
    a_id, b_id = fixture_units
    with app.app_context():
        sess = db.session()
        pilot = sess.scalar(select(Pilot).where(Pilot.slug == "uusimaa"))
        result = pilot_figures(sess, pilot, 2026, date(2026, 11, 24))
        assert result.months == [M(m) for m in range(1, 12)]
        units = {f.unit.id: f for f in result.units}
        assert [units[a_id].listed.get(M(m), 0) for m in range(1, 12)] == [1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1]
        assert [units[b_id].listed.get(M(m), 0) for m in range(1, 12)] == [0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        assert result.month_by_age(M(3)) == {"0-17": 0, "18-29": 1, "30-44": 0, "45-64": 2, "65-74": 1, "75+": 0}
        assert result.month_by_age(M(2)) == {"0-17": 0, "18-29": 1, "30-44": 0, "45-64": 1, "65-74": 0, "75+": 0}
        assert result.month_total(M(3)) == 4
        assert result.month_basis(M(3)) == 3 * 42 + 11
        assert sum(units[a_id].basis.values()) == 14 * 42
        assert sum(units[b_id].basis.values()) == 9 * 11
        assert result.total_basis == 14 * 42 + 9 * 11
        assert result.rates["sote_centre"] == (42, True)  # a demo value, and the page says so


def test_figures_page_and_csv(app, fixture_units):
    a_id, _b = fixture_units
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["pilot_manager"].email)
    html = client.get("/fi/staff/figures?year=2026").get_data(as_text=True)
    assert "Esimerkkiarvo" in html  # the demo capitation rate is labelled
    response = client.get("/fi/staff/figures.csv?year=2026")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8").lstrip("\ufeff"))))
    march = next(r for r in rows if r["unit_id"] == str(a_id) and r["month"] == "2026-03")
    assert march["listed_customers"] == "3" and march["age_45-64"] == "2" and march["capitation_basis_eur"] == "126"
    assert march["capitation_is_demo_value"] == "yes"
    # a pilot manager sees only their own pilot, whatever the query says
    other = client.get("/fi/staff/figures?pilot=tampere&year=2026").get_data(as_text=True)
    assert "Uusimaa" in other or "uusimaa" in other
    assert client.get("/fi/staff/figures?year=abc").status_code == 400


def test_figures_csv_neutralises_formulas(app, fixture_units):
    a_id, _b = fixture_units
    with app.app_context():
        db.session().get(Unit, a_id).name_fi = "=cmd|' /C calc'!A0"
        db.session().commit()
    users = prepare_accounts(app)
    client = app.test_client()
    sign_in(client, users["admin"].email)
    text = client.get("/fi/staff/figures.csv?pilot=uusimaa&year=2026").get_data().decode("utf-8")
    assert "'=cmd|" in text and ",=cmd" not in text
