"""`flask ptv-import` and `flask ptv-sync`: PTV service locations from a file or from the PTV Open API.

Both print the same dry-run report as the staff import (per location: create, update,
unchanged or error with the reason, and notes), then apply all locations or none. Exit status:
0 for a clean dry run or a completed import, 1 when something was wrong (nothing is saved then),
2 for bad options. Progress is a bar on a terminal and plain lines otherwise (logs of a nightly
job). Messages follow --language (fi, sv or en).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from webapp.core.clock import helsinki_today
from webapp.imports import pipeline
from webapp.imports import ptv as ptv_import
from webapp.imports.pipeline import RowError
from webapp.imports.ptv_client import PtvFetchError, fetch_service_locations
from webapp.models import Pilot, Provider
from webapp.units.fields import label, normalise_ytunnus
from webapp.units.vocab import ELEMENTS
from webapp.web import db

LANGUAGE = click.option("--language", default="fi", show_default=True, type=click.Choice(["fi", "sv", "en"]),
                        help="Language of the report.")
SCOPE = (click.option("--pilot", "pilot_slug", required=True, help="Pilot slug, e.g. uusimaa."),
         click.option("--provider", "provider_ytunnus", required=True, help="The provider's Y-tunnus, e.g. 0737546-2."),
         click.option("--element", required=True, type=click.Choice(list(ELEMENTS)), help="Type of unit."))


def _scope(func):  # noqa: ANN001, ANN202
    for option in reversed(SCOPE):
        func = option(func)
    return func


class Progress:
    """A bar on a terminal; plain lines ("label 3/10") otherwise, at most about ten of them."""

    def __init__(self, label_text: str, total: int) -> None:
        self.label, self.total, self.done = label_text, max(total, 1), 0
        self.bar = (click.progressbar(length=self.total, label=label_text, file=sys.stderr)
                    if sys.stderr.isatty() else None)
        if self.bar is not None:
            self.bar.__enter__()

    def step(self, done: int, total: int | None = None) -> None:
        if total is not None and total != self.total:
            self.total = max(total, 1)
            if self.bar is not None:
                self.bar.length = self.total
        if self.bar is not None:
            self.bar.update(done - self.done)
        elif done == self.total or done == 1 or done % max(self.total // 10, 1) == 0:
            click.echo(f"{self.label} {done}/{self.total}", err=True)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _resolve(pilot_slug: str, provider_ytunnus: str, element: str) -> tuple[Pilot, Provider]:
    sess = db.session()
    pilot = sess.scalar(select(Pilot).where(Pilot.slug == pilot_slug))
    if pilot is None:
        raise click.BadParameter(_("“%(value)s” is not a pilot.", value=pilot_slug), param_hint="--pilot")
    y = normalise_ytunnus(provider_ytunnus)
    provider = sess.scalar(select(Provider).where(Provider.y_tunnus == y)) if y else None
    if provider is None:
        raise click.BadParameter(_("No provider has the Y-tunnus %(value)s. Add the provider first.",
                                   value=provider_ytunnus),
                                 param_hint="--provider")
    if pilot.element(element) is None:
        raise click.BadParameter(_("This pilot has no element “%(value)s”.", value=element), param_hint="--element")
    return pilot, provider


def _notes(entry: dict[str, Any]) -> None:
    for note in entry.get("notes") or []:
        click.echo(f"      - {note}")


def print_report(result: ptv_import.PtvImport) -> None:
    """One entry per location, in the order of the file or of PTV's pages."""
    plan = result.plan
    entries: list[tuple[int, int, dict[str, Any] | RowError]] = [
        *((c["line"], 0, c) for c in plan.creates), *((c["line"], 1, c) for c in plan.changes),
        *((c["line"], 2, c) for c in plan.unchanged), *((e.line, 3, e) for e in plan.errors)]
    for line, kind, c in sorted(entries, key=lambda e: (e[0], e[1])):
        if isinstance(c, RowError):  # kind 3
            click.echo(_("error      %(n)d: %(name)s: %(field)s: %(message)s", n=line, name=c.label,
                         field=label(c.column), message=c.message))
            continue
        if kind == 0:
            click.echo(_("create     %(n)d: %(name)s", n=line, name=c["label"]))
        elif kind == 1:
            click.echo(_("update     %(n)d: %(name)s (unit %(id)d)", n=line, name=c["label"], id=c["unit_id"]))
            for key, (before, after) in c["diff"].items():
                click.echo(f"      {label(key)}: {before!s:.80} → {after!s:.80}")
        else:
            click.echo(_("unchanged  %(n)d: %(name)s (unit %(id)d)", n=line, name=c["label"], id=c["unit_id"]))
        _notes(c)
    for unit in result.missing:
        click.echo(_("not in PTV any more (kept, not deleted): unit %(id)d %(name)s (PTV id %(ptv)s)", id=unit.id,
                     name=unit.name_fi, ptv=unit.ptv_id))


def _summary(result: ptv_import.PtvImport, started: float, applied: bool) -> str:
    plan = result.plan
    counts = _("%(locations)d locations: %(created)d to create, %(changed)d to update, %(unchanged)d unchanged, "
               "%(errors)d problems; %(missing)d no longer in PTV.", locations=result.locations,
               created=len(plan.creates), changed=len(plan.changes), unchanged=len(plan.unchanged),
               errors=len(plan.errors), missing=len(result.missing))
    if not plan.ok:
        outcome = _("Nothing was imported: correct the problems and run again.")
    elif applied:
        outcome = _("Import done.")
    else:
        outcome = _("Dry run: nothing was saved.")
    return f"{outcome} {counts} " + _("Time taken: %(seconds)s s.", seconds=f"{time.monotonic() - started:.1f}")


def run_import(items: list[dict], pilot: Pilot, provider: Provider, element: str, *, apply: bool,
               report_missing: bool, started: float) -> None:
    """Plan, print, and apply when asked and clean; exits non-zero when the plan has problems."""
    sess = db.session()
    progress = Progress(_("Reading locations"), len(items))
    try:
        result = ptv_import.plan_import(sess, None, items, pilot, provider, element, helsinki_today(),
                                        report_missing=report_missing, progress=progress.step)
    finally:
        progress.close()
    print_report(result)
    if not result.plan.ok:
        sess.rollback()
        click.echo(_summary(result, started, False))
        sys.exit(1)
    if apply:
        try:
            with db.write_transaction(sess):
                pipeline.apply(sess, None, result.plan, ptv_import.PTV, pilot_id=pilot.id, provider_id=provider.id)
        except pipeline.CapacityTooLow as exc:
            click.echo(_("Nothing was imported: the capacity would now be below the listed customers in %(units)s.",
                         units=", ".join(exc.args[0])), err=True)
            sys.exit(1)
    else:
        sess.rollback()
    click.echo(_summary(result, started, apply))


@click.command("ptv-import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@_scope
@click.option("--dry-run", is_flag=True, help="Only show what would change.")
@LANGUAGE
def ptv_import_command(file: Path, pilot_slug: str, provider_ytunnus: str, element: str, dry_run: bool,
                       language: str) -> None:
    """Import PTV service locations from FILE (one location, a list, or a page {"itemList": [...]})."""
    started = time.monotonic()
    with force_locale(language):
        pilot, provider = _resolve(pilot_slug, provider_ytunnus, element)
        try:
            items = ptv_import.read_file_items(file.read_bytes())
        except ptv_import.PtvFileError as exc:
            raise click.ClickException(f"{file}: {exc}") from None
        run_import(items, pilot, provider, element, apply=not dry_run, report_missing=False, started=started)


@click.command("ptv-sync")
@with_appcontext
@click.option("--organization", required=True, help="The PTV organisation id (GUID) whose service locations to read.")
@_scope
@click.option("--apply", "apply_", is_flag=True, help="Import (all locations or none); without it, only a dry run.")
@click.option("--base-url", default=None, help="PTV Open API base URL [PTV_BASE_URL, else the production API].")
@click.option("--timeout", default=20.0, show_default=True, type=click.FloatRange(0.1, 300),
              help="Seconds per request.")
@click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 10),
              help="Retries per request, with backoff.")
@LANGUAGE
def ptv_sync_command(organization: str, pilot_slug: str, provider_ytunnus: str, element: str, apply_: bool,
                     base_url: str | None, timeout: float, retries: int, language: str) -> None:
    """Read the organisation's service locations from the PTV Open API: a dry run, or --apply to import.
    Locations that have disappeared from PTV are reported, never deleted."""
    from webapp.imports.ptv_client import session
    started = time.monotonic()
    with force_locale(language):
        pilot, provider = _resolve(pilot_slug, provider_ytunnus, element)
        progress = Progress(_("Fetching pages"), 1)
        try:
            items = fetch_service_locations(base_url or current_app.config["PTV_BASE_URL"], organization,
                                            timeout=timeout, http=session(retries=retries), progress=progress.step)
        except PtvFetchError as exc:
            raise click.ClickException(str(exc)) from None
        finally:
            progress.close()
        run_import(items, pilot, provider, element, apply=apply_, report_missing=True, started=started)


def init_app(app) -> None:  # noqa: ANN001
    app.cli.add_command(ptv_import_command)
    app.cli.add_command(ptv_sync_command)
