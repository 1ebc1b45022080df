"""Alembic environment: the URL comes from the app's settings (DATABASE_URL), or from the caller."""
from __future__ import annotations

from alembic import context

from webapp.core.config import load_settings
from webapp.core.db import make_engine
from webapp.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return (config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
            or load_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
