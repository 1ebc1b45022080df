"""Schema and seed data: migrations equal the models on both databases; seeding twice duplicates nothing."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from stdnum.fi import ytunnus

from webapp.models import Base, Choice, Municipality, Pilot, PilotElement, Postcode, Provider, QueueTime, Unit
from webapp.seeding import run_seed
from webapp.web import db


def test_migrations_match_models(any_app):
    """Every model change has its Alembic migration: autogenerate finds nothing to add."""
    with any_app.app_context():
        with db.engine().connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), Base.metadata)
    assert diff == []


def _counts(sess) -> dict[str, int]:
    return {model.__name__: sess.scalar(select(func.count()).select_from(model))
            for model in (Municipality, Postcode, Pilot, PilotElement, Provider, Unit, QueueTime, Choice)}


def test_seeding_again_duplicates_nothing(any_app):
    with any_app.app_context():
        sess = db.session()
        before = _counts(sess)
        run_seed(sess, resident_key_secret=any_app.config["RESIDENT_KEY_SECRET"],
                 instance_dir=any_app.config.get("INSTANCE_DIR"), app_env=any_app.config["APP_ENV"])
        assert _counts(sess) == before


def test_seed_has_the_demo_variety_residents_choose_by(app):
    with app.app_context():
        sess = db.session()
        units = sess.scalars(select(Unit)).all()
        direct = [u for u in units if u.element in ("sote_centre", "oral_health")]
        assert len(direct) >= 80
        assert {u.provider.sector for u in direct} == {"public", "private", "third"}
        assert {u.element for u in direct} == {"sote_centre", "oral_health"}
        assert any(u.is_full for u in direct) and any(not u.accepting_new and not u.is_full for u in direct)
        bilingual_sv = [u for u in direct if u.municipality.is_bilingual and "sv" in u.language_codes]
        assert bilingual_sv, "Swedish-speaking units in bilingual municipalities"
        assert all(u.is_demo and u.provider.is_demo for u in units)
        assert all(ytunnus.is_valid(p.y_tunnus) for p in sess.scalars(select(Provider)))
        history = [u for u in direct if len({q.measured_on for q in u.queue_times}) >= 3]
        assert len(history) == len(direct), "every direct-choice unit has a T3 history"


def test_pilots_come_from_the_sources(app):
    with app.app_context():
        sess = db.session()
        jkl = sess.scalar(select(Pilot).where(Pilot.slug == "jyvaskyla"))
        assert jkl.funding_eur == 800_000 and jkl.population_min == 133_000
        assert jkl.municipality_codes == {"179"}
        uusimaa = sess.scalar(select(Pilot).where(Pilot.slug == "uusimaa"))
        assert {e.element for e in uusimaa.elements} == {"sote_centre", "oral_health", "client_voucher",
                                                         "personal_budget"}
        assert {"106", "186", "505", "543", "611", "858"} <= uusimaa.municipality_codes
        sote = uusimaa.element("sote_centre")
        assert sote.is_demo("lock_in_months") and not sote.is_demo("min_age")
