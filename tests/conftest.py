"""Shared fixtures.

A seeded database (migrations + seed + search index) is built once per run for each backend and
copied for every test that asks for an app, so tests never see each other's changes:
SQLite by copying the file, PostgreSQL with CREATE DATABASE ... TEMPLATE.
PostgreSQL at 127.0.0.1:5432 (database `test`, or PG_ADMIN_URL) is required in CI (CI=true);
elsewhere its tests skip with the reason when it is unreachable.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest

from webapp import create_app
from webapp.core.migrate import upgrade
from webapp.web import db

PG_ADMIN_URL = os.environ.get("PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _pg_admin(sql: str) -> None:
    import psycopg
    url = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


def pg_unavailable_reason() -> str | None:
    try:
        _pg_admin("SELECT 1")
        return None
    except Exception as exc:  # noqa: BLE001  any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}".splitlines()[0]


def _seed(app) -> None:
    from webapp.seeding import run_seed
    with app.app_context():
        run_seed(db.session(), resident_key_secret=app.config["RESIDENT_KEY_SECRET"],
                 instance_dir=app.config.get("INSTANCE_DIR"), app_env=app.config["APP_ENV"])
        Path(app.config["INDEX_DIR"]).mkdir(parents=True, exist_ok=True)  # each app builds its own index in it
        db.session().close()
        db.engine().dispose()


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("template")


@pytest.fixture(scope="session")
def sqlite_template(template_dir: Path) -> Path:
    """A migrated and seeded SQLite file and its built index."""
    path = template_dir / "seeded.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "INDEX_DIR": str(template_dir / "index"), "INSTANCE_DIR": str(template_dir),
                      **_base_overrides(template_dir)})  # same RESIDENT_KEY_SECRET as the test apps
    _seed(app)
    return template_dir


@pytest.fixture(scope="session")
def pg_template(template_dir: Path) -> str:
    reason = pg_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    name = f"valinta_tpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _pg_admin(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    index = template_dir / "pg-index"
    app = create_app({"DATABASE_URL": _pg_url(name), "INDEX_DIR": str(index), **_base_overrides(template_dir)})
    _seed(app)
    yield name
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _base_overrides(tmp_path: Path) -> dict:
    # INDEX_SYNC_INTERVAL_MS=0: every search checks the change log, so "the next search" is exact in tests.
    return {"TESTING": True, "RATE_LIMIT_ENABLED": False, "INDEX_SYNC_INTERVAL_MS": 0,
            "SECRET_KEY": "test-secret-key-" * 3,
            "RESIDENT_KEY_SECRET": "test-resident-secret-" * 3}


@pytest.fixture
def make_app(tmp_path: Path, request):
    """make_app(backend="sqlite"|"postgres", **config) -> a Flask app on a fresh seeded copy."""
    created: list = []
    dropped: list[str] = []

    def factory(backend: str = "sqlite", **config):
        index = tmp_path / f"index-{len(created)}"
        if backend == "sqlite":
            tpl: Path = request.getfixturevalue("sqlite_template")
            dbfile = tmp_path / f"db-{len(created)}.db"
            shutil.copy(tpl / "seeded.db", dbfile)
            shutil.copytree(tpl / "index", index)
            url = f"sqlite:///{dbfile}"
        elif backend == "postgres":
            tpl_name: str = request.getfixturevalue("pg_template")
            name = f"valinta_t_{uuid.uuid4().hex[:10]}"
            _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{tpl_name}"')
            dropped.append(name)
            shutil.copytree(Path(request.getfixturevalue("template_dir")) / "pg-index", index)
            url = _pg_url(name)
        else:
            raise ValueError(backend)
        overrides = {"DATABASE_URL": url, "INDEX_DIR": str(index), **_base_overrides(tmp_path), **config}
        app = create_app(overrides)
        with app.app_context():  # as a copy of a built index was: the app's first request does not build it
            app.extensions["search"].rebuild(db.session())
        created.append(app)
        return app

    yield factory
    for app in created:
        app.extensions["db_engine"].dispose()
    for name in dropped:
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def app(make_app):
    return make_app("sqlite")


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_app(request, make_app):
    """The same test on SQLite and on PostgreSQL."""
    return make_app(request.param)


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1) or match.group(2)
