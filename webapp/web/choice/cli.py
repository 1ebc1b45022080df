"""`flask send-notices` and `flask run-waiting-lists`: jobs to schedule (e.g. every 10 minutes and daily)."""
from __future__ import annotations

from datetime import date

import click

from webapp.web import clock, db
from webapp.web.choice.blueprint import bp


@bp.cli.command("send-notices")
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 10000))
def send_notices(limit: int) -> None:
    """Send the e-mail outbox; a failed send is tried again later (5 min, doubling, at most 6 h; 8 tries)."""
    from webapp.web.choice.mail import send_pending
    sent, failed = send_pending(db.session(), limit=limit)
    click.echo(f"Sent {sent} e-mails; {failed} failed and wait for a later try.")


@bp.cli.command("run-waiting-lists")
@click.option("--today", "day", default=None, help="The day to run for (YYYY-MM-DD); default: today in Helsinki.")
def run_waiting_lists(day: str | None) -> None:
    """Expire old waiting-list entries and fill every free place from the waiting lists."""
    from webapp.choice.promotion import promote_from_waiting_lists
    try:
        today = date.fromisoformat(day) if day else clock.today()
    except ValueError:
        raise click.BadParameter("give the day as YYYY-MM-DD, e.g. 2026-12-01", param_hint="--today") from None
    report = promote_from_waiting_lists(db.session(), None, today)
    click.echo(f"{len(report.promoted)} switched from waiting lists, {len(report.skipped)} skipped, "
               f"{report.expired} expired.")
