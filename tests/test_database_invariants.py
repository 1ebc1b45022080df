"""The database's own rules (migration 0015): one pending and one active choice per resident and element,
counters within range; the migration's report of rows that break them; retries of transient conflicts."""
from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from alembic import command
from sqlalchemy import inspect, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from tests.choice_helpers import confirm_form, free_unit, main_text, sign_in
from tests.waiting_helpers import TODAY, make_residents, token
from webapp.choice import choices
from webapp.choice import use_cases as svc
from webapp.choice.rules import decide
from webapp.core import transactions
from webapp.core.migrate import alembic_config, upgrade
from webapp.models import Choice, Unit
from webapp.web import db


def _pending_row(resident_id: int, unit: Unit, reference: str) -> Choice:
    return Choice(resident_id=resident_id, unit_id=unit.id, pilot_id=unit.pilot_id, element=unit.element,
                  status="pending", channel="web", reference=reference, request_token=reference,
                  created_on=TODAY, effective_from=TODAY + timedelta(days=30), counts_as_switch=True)


def test_the_database_refuses_a_second_pending_or_active_choice_per_element(any_app):
    (rid,) = make_residents(any_app, 1)
    a, b = free_unit(any_app), free_unit(any_app, skip=1)
    with any_app.app_context():
        sess = db.session()
        first, second = sess.get(Unit, a), sess.get(Unit, b)
        sess.add(_pending_row(rid, first, "AAAAAAAAAA"))
        sess.commit()
        sess.add(_pending_row(rid, second, "BBBBBBBBBB"))
        with pytest.raises(IntegrityError):
            sess.commit()
        sess.rollback()
        sess.execute(update(Choice).where(Choice.reference == "AAAAAAAAAA").values(status="active"))
        sess.commit()
        sess.add(_pending_row(rid, second, "CCCCCCCCCC"))  # active + pending: a switch, allowed
        sess.commit()
        with pytest.raises(IntegrityError):  # a second active one is not
            sess.execute(update(Choice).where(Choice.reference == "CCCCCCCCCC").values(status="active"))
        sess.rollback()


@pytest.mark.parametrize("values", [{"listed_count": -1}, {"waiting_count": -1}, {"capacity": -1},
                                    {"listed_count": 11, "capacity": 10}], ids=str)
def test_the_database_refuses_counters_out_of_range(any_app, values):
    unit_id = free_unit(any_app)
    with any_app.app_context():
        sess = db.session()
        sess.execute(update(Unit).where(Unit.id == unit_id).values(capacity=10, listed_count=10, waiting_count=0))
        sess.commit()  # at capacity: allowed
        with pytest.raises(IntegrityError):
            sess.execute(update(Unit).where(Unit.id == unit_id).values(**values))
        sess.rollback()


def test_a_second_choice_the_database_refuses_is_a_refusal_with_409(any_app):
    """If a future change let a second pending choice through the rules, the resident gets the refusal
    page in their language, not an error."""
    client = any_app.test_client()
    sign_in(client, "aino", "fi")
    first, second = free_unit(any_app), free_unit(any_app, skip=1)
    form = confirm_form(client, "fi", second)  # opened in another tab before the first choice
    assert client.post(f"/fi/choose/{first}/confirm", data=confirm_form(client, "fi", first)).status_code == 303

    def decide_ignoring_choices(resident, unit, _existing, rules, today):
        return decide(resident, unit, [], rules, today)

    with mock.patch("webapp.choice.choices.decide", decide_ignoring_choices):
        response = client.post(f"/fi/choose/{second}/confirm", data=form)
    assert response.status_code == 409
    assert "jo valinta" in main_text(response), main_text(response)
    with any_app.app_context():
        pending = db.session().scalars(select(Choice.unit_id).where(Choice.status == "pending")).all()
    assert first in pending and second not in pending


def _revision(app) -> str:
    with app.app_context(), db.engine().connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_the_upgrade_reports_rows_that_break_the_rules_and_changes_nothing(any_app):
    app = any_app
    url = app.config["DATABASE_URL"]
    (rid,) = make_residents(app, 1)
    a, b = free_unit(app), free_unit(app, skip=1)
    app.extensions["db_engine"].dispose()
    command.downgrade(alembic_config(url), "0011")
    with app.app_context():
        sess = db.session()
        sess.add_all([_pending_row(rid, sess.get(Unit, a), "DDDDDDDDDD"), _pending_row(rid, sess.get(Unit, b),
                                                                                       "EEEEEEEEEE")])
        sess.execute(update(Unit).where(Unit.id == a).values(capacity=5, listed_count=6))
        sess.commit()
        ids = sorted(sess.scalars(select(Choice.id).where(Choice.resident_id == rid)))
        sess.close()
    app.extensions["db_engine"].dispose()
    with pytest.raises(Exception) as raised:
        upgrade(url)
    report = str(raised.value)
    assert "Nothing was changed" in report
    assert f"uq_choice_one_pending: resident {rid}" in report and ", ".join(map(str, ids)) in report
    assert f"ck_unit_listed_count_within_capacity: unit {a} has capacity 5, listed_count 6" in report
    assert _revision(app) == "0011"
    with app.app_context():
        indexes = {i["name"] for i in inspect(db.engine()).get_indexes("choice")}
    assert "uq_choice_one_pending" not in indexes
    # Put right, the upgrade goes through.
    with app.app_context():
        sess = db.session()
        sess.execute(update(Choice).where(Choice.reference == "EEEEEEEEEE").values(status="cancelled"))
        sess.execute(update(Unit).where(Unit.id == a).values(capacity=6))
        sess.commit()
        sess.close()
    app.extensions["db_engine"].dispose()
    upgrade(url)
    assert _revision(app) == "0015"


class _Deadlock(Exception):
    sqlstate = "40P01"


def _transient() -> OperationalError:
    return OperationalError("UPDATE unit ...", {}, _Deadlock("deadlock detected"))


def _counted(counter, use_case: str) -> float:
    return sum(s.value for m in counter.collect() for s in m.samples
               if s.name.endswith("_total") and s.labels.get("use_case") == use_case)


def test_a_transient_conflict_runs_the_whole_transaction_again_and_is_counted(app):
    calls: list[int] = []

    def body() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _transient()
        return "done"

    before = _counted(transactions.RETRIES, "test_use_case")
    with app.app_context(), mock.patch("webapp.core.transactions.time.sleep") as slept:
        assert transactions.in_transaction(db.session(), body, use_case="test_use_case") == "done"
    assert len(calls) == 3
    assert _counted(transactions.RETRIES, "test_use_case") == before + 2
    assert all(0 <= c.args[0] <= transactions.BACKOFF_SECONDS * 2 for c in slept.call_args_list)
    metrics = app.test_client().get("/metrics").get_data(as_text=True)
    assert 'valinta_db_retries_total{reason="deadlock",use_case="test_use_case"}' in metrics


def test_retries_are_bounded_and_other_errors_are_not_retried(app):
    calls: list[int] = []

    def always() -> None:
        calls.append(1)
        raise _transient()

    gave_up = _counted(transactions.GAVE_UP, "bounded")
    with app.app_context(), mock.patch("webapp.core.transactions.time.sleep"):
        with pytest.raises(OperationalError):
            transactions.in_transaction(db.session(), always, use_case="bounded")
        assert len(calls) == transactions.MAX_ATTEMPTS
        assert _counted(transactions.GAVE_UP, "bounded") == gave_up + 1
        calls.clear()

        def broken() -> None:
            calls.append(1)
            raise IntegrityError("INSERT", {}, Exception("unique"))

        with pytest.raises(IntegrityError):
            transactions.in_transaction(db.session(), broken, use_case="bounded")
        assert len(calls) == 1


def test_a_retried_submission_creates_one_choice(app):
    """The first attempt's writes are rolled back with it; the second decides again from the start."""
    (rid,) = make_residents(app, 1)
    unit = free_unit(app)
    real = choices.submit_locked
    attempts: list[int] = []

    def flaky(*args, **kwargs):
        outcome = real(*args, **kwargs)
        attempts.append(1)
        if len(attempts) == 1:
            raise _transient()  # after the choice row was written, before the commit
        return outcome

    with app.app_context():
        sess = db.session()
        listed = sess.scalar(select(Unit.listed_count).where(Unit.id == unit))
        with (mock.patch("webapp.choice.choices.submit_locked", flaky),
              mock.patch("webapp.core.transactions.time.sleep")):
            outcome = svc.submit_choice(sess, rid, unit, token(), TODAY)
        assert outcome.status == "created" and len(attempts) == 2
        assert len(sess.scalars(select(Choice).where(Choice.resident_id == rid)).all()) == 1
        assert sess.scalar(select(Unit.listed_count).where(Unit.id == unit)) == listed + 1


@pytest.mark.parametrize("lang,text", [("fi", "Mitään ei tallennettu"), ("sv", "Ingenting sparades"),
                                       ("en", "Nothing was saved")])
def test_a_conflict_that_outlasts_every_retry_is_a_503_in_the_residents_language(app, lang, text):
    client = app.test_client()
    sign_in(client, "aino", lang)
    unit = free_unit(app)
    form = confirm_form(client, lang, unit)

    def always(*_args, **_kwargs):
        raise _transient()

    with mock.patch("webapp.choice.choices.submit_locked", always), mock.patch("webapp.core.transactions.time.sleep"):
        response = client.post(f"/{lang}/choose/{unit}/confirm", data=form)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert text in main_text(response)
    with app.app_context():
        assert not db.session().scalars(select(Choice).where(Choice.unit_id == unit)).all()
