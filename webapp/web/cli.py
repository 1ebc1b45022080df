"""`flask` commands: database, seed data, search index, translations, demo data."""
from __future__ import annotations

import click
from flask import Flask, current_app

from webapp.web import db


def init_app(app: Flask) -> None:
    for command in (db_upgrade, seed, index_rebuild, translations_update, translations_compile,
                    generate_demo_units, print_dev_accounts, activate_due_choices, purge_expired):
        app.cli.add_command(command)
    from webapp.web.cli_imports import init_app as init_import_commands
    init_import_commands(app)


@click.command("db-upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Create or upgrade the database schema (Alembic migrations)."""
    from webapp.core.migrate import upgrade
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database at revision {revision}.")


@click.command("seed")
@click.option("--no-demo", is_flag=True, help="Only reference data: municipalities, postcodes, pilots.")
def seed(no_demo: bool) -> None:
    """Load municipalities, postcodes and pilots, and the demo units, test persons and staff accounts.
    Safe to run again: nothing is duplicated and edited units are left alone."""
    from webapp.seeding import run_seed
    summary = run_seed(db.session(), demo=not no_demo, resident_key_secret=current_app.config["RESIDENT_KEY_SECRET"],
                       instance_dir=current_app.config.get("INSTANCE_DIR"), app_env=current_app.config["APP_ENV"])
    click.echo(summary)


@click.command("index-rebuild")
@click.option("--procs", type=click.IntRange(1, 16), default=None, hidden=True,
              help="Not used: each process builds its own index.")
def index_rebuild(procs: int | None) -> None:
    """Make every process of every node rebuild its search index from the database (a change-log row for
    everything); builds one here too, to show that it builds and how long it takes."""
    import time

    from webapp.models import IndexChange
    sess = db.session()
    sess.add(IndexChange(unit_ids=None))
    sess.commit()
    start = time.perf_counter()
    count = current_app.extensions["search"].rebuild(sess)
    click.echo(f"Indexed {count} units in {time.perf_counter() - start:.1f} s; every node rebuilds at its next search.")


@click.command("translations-update")
@click.option("--domain", "domains", multiple=True, help="Only these domains (messages, choice, staff, search).")
def translations_update(domains: tuple[str, ...]) -> None:
    """Extract messages from code and templates and merge them into translations/*/LC_MESSAGES/*.po."""
    from webapp.core.catalogs import DOMAINS, update
    for path, missing in update(domains or DOMAINS).items():
        click.echo(f"{path}: {missing} untranslated")


@click.command("translations-compile")
def translations_compile() -> None:
    """Compile the .po files to .mo."""
    from webapp.core.catalogs import compile_all
    click.echo(f"Compiled {compile_all()} catalogues.")


@click.command("generate-demo-units")
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.option("--seed", "seed_value", default=7, show_default=True)
def generate_demo_units(count: int, seed_value: int) -> None:
    """Add COUNT generated demo units (for benchmarks); every node's index follows by itself."""
    from webapp.core.progress import progress
    from webapp.seeding.demo import generate_bulk_units
    with progress("Generating units", count) as advance:
        made = generate_bulk_units(db.session(), count, seed_value, advance)
        db.session().commit()
    click.echo(f"Generated {made} demo units.")


@click.command("print-dev-accounts")
def print_dev_accounts() -> None:
    """Development only: print the demo staff accounts and test persons."""
    if current_app.config["APP_ENV"] == "production":
        raise click.ClickException("Not available in production.")
    from webapp.seeding import dev_account_lines
    for line in dev_account_lines(current_app.config.get("INSTANCE_DIR"), current_app.config["APP_ENV"]):
        click.echo(line)


@click.command("activate-due-choices")
def activate_due_choices() -> None:
    """Scheduled job: make due pending choices active and release the places they free. Idempotent and
    safe to run on every node at once; the search indexes follow through the change log."""
    from webapp.choice.use_cases import activate_due_choices as activate
    from webapp.web.clock import today
    click.echo(f"Activated {activate(db.session(), today())} choices.")


@click.command("purge-expired")
def purge_expired() -> None:
    """Scheduled job: delete past rate-limit windows, ended sign-in sessions and old index change-log rows."""
    from webapp.web.ops.maintenance import purge_expired as purge
    for name, count in purge(db.session()).items():
        click.echo(f"Deleted {count} {name}.")
