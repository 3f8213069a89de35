"""``flask mailproof outbox``: see, retry, purge and deliver the outbox from a shell."""

from __future__ import annotations

import time
import typing as t

import click
from flask.cli import with_appcontext

from ..cli_options import dry_run, older_than
from ..clock import utcnow
from ..models import OutboxStatus
from ..state import current_state
from .delivery import DeliveryReport, count_due, worker_name
from .latency import Latency, delivery_latency
from .maintenance import (
    STATUSES,
    OutboxFilter,
    latest_failures,
    matching_ids,
    outbox_counts,
    purge,
    requeue_failed,
)
from .worker import drain

#: Runs longer than this many messages get a progress bar.
_PROGRESS_FROM = 100


def _filter_options(function: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    function = click.option("--kind", help="Only mail from this template (confirm, reset...).")(
        function
    )
    function = click.option("--to", "recipient", help="Only mail to this address.")(function)
    return click.option(
        "--id", "ids", type=int, multiple=True, help="Only this message (repeatable)."
    )(function)


@click.group("outbox", invoke_without_command=True)
@click.option(
    "--failures",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many of the latest failed messages to list.",
)
@click.option("--watch", is_flag=True, help="Show the outbox again and again until Ctrl+C.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds between two views with --watch.",
)
@click.option(
    "--refreshes",
    type=click.IntRange(min=1),
    default=None,
    help="With --watch, stop after this many views [default: until Ctrl+C].",
)
@click.pass_context
@with_appcontext
def outbox_cli(
    ctx: click.Context, failures: int, watch: bool, interval: float, refreshes: int | None
) -> None:
    """Count the outbox by status, show delivery latency, list the latest failures."""
    if ctx.invoked_subcommand is not None:
        return
    if not watch:
        _echo_outbox(failures)
        return
    shown = 0
    try:
        while True:
            click.clear()
            click.echo(f"outbox at {utcnow():%Y-%m-%d %H:%M:%S} UTC, every {interval:g}s")
            _echo_outbox(failures)
            shown += 1
            if refreshes is not None and shown >= refreshes:
                return
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("stopped")


def _echo_outbox(failures: int) -> None:
    session = current_state().db.session()
    model = current_state().models.outbox
    counts = outbox_counts()
    for status in STATUSES:
        click.echo(f"{status:8} {counts[status]:>8}")
    click.echo(f"{'due now':8} {count_due(session, model):>8}")
    _echo_latency(delivery_latency(session, model))
    rows = latest_failures(failures)
    if rows:
        click.echo("\nlatest failures:")
        click.echo(f"{'id':>8}  {'created (UTC)':19}  {'tries':>5}  {'kind':12}  recipient: error")
    for row in rows:
        click.echo(
            f"{row.id:>8}  {row.created_at:%Y-%m-%d %H:%M:%S}  {row.attempts:>5}  "
            f"{row.kind:12}  {row.recipient}: {(row.last_error or '').strip()[:200]}"
        )
    # End the read's transaction: a watcher's next view must see what was sent since (on
    # MariaDB's repeatable read, an open transaction would show this view again).
    session.rollback()


def _echo_latency(latency: Latency) -> None:
    if not latency.count:
        click.echo("\nno mail sent in the last hour")
        return
    figures = "  ".join(f"p{p} {seconds:.1f}s" for p, seconds in latency.percentiles.items())
    click.echo(f"\nlatency, written to sent, of {latency.count} mail(s) in the last hour:")
    click.echo(f"  {figures}")


@outbox_cli.command("retry")
@_filter_options
@with_appcontext
def retry_command(kind: str | None, recipient: str | None, ids: tuple[int, ...]) -> None:
    """Put failed messages back in line (all of them, or those the options select)."""
    selected = matching_ids(
        (OutboxStatus.FAILED,), OutboxFilter(kind=kind, recipient=recipient, ids=ids)
    )
    _run("Re-queueing", selected, requeue_failed)
    click.echo(f"{len(selected)} failed message(s) re-queued.")


@outbox_cli.command("purge")
@older_than("messages written", fractions=True)
@click.option(
    "--status",
    "statuses",
    type=click.Choice([OutboxStatus.SENT, OutboxStatus.FAILED]),
    multiple=True,
    help="Only this status (repeatable; default: sent and failed).",
)
@dry_run("Count")
@with_appcontext
def purge_command(days: float, statuses: tuple[str, ...], dry_run: bool) -> None:
    """Delete sent and failed messages (and their attempts) older than DAYS days."""
    selection = OutboxFilter(older_than_days=days)
    selected = matching_ids(statuses or (OutboxStatus.SENT, OutboxStatus.FAILED), selection)
    if dry_run:
        click.echo(f"{len(selected)} message(s) would be deleted.")
        return
    _run("Purging", selected, purge)
    click.echo(f"{len(selected)} message(s) deleted.")


@outbox_cli.command("deliver")
@with_appcontext
def deliver_command() -> None:
    """Deliver every message due now, once (for MAILPROOF_DELIVERY=external or cron)."""
    state = current_state()
    due = count_due(state.db.session(), state.models.outbox)
    with click.progressbar(length=due, label="Delivering", hidden=due < _PROGRESS_FROM) as bar:
        total = drain(progress=lambda report: bar.update(report.handled))
    _echo_report(total)


@outbox_cli.command("worker")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds between sweeps [default: MAILPROOF_DELIVERY_INTERVAL].",
)
@with_appcontext
def worker_command(interval: float | None) -> None:
    """Deliver in the foreground until interrupted (a worker for MAILPROOF_DELIVERY=external)."""
    pause = interval or current_state().settings.delivery_interval
    worker = worker_name()
    concurrency = current_state().settings.delivery_concurrency
    click.echo(
        f"delivering as {worker} every {pause:g}s, up to {concurrency} at once; Ctrl+C stops"
    )
    try:
        while True:
            report = drain(worker)
            if report.handled:
                _echo_report(report)
            time.sleep(pause)
    except KeyboardInterrupt:
        click.echo("stopped")


def _run(label: str, ids: list[int], action: t.Callable[[list[int]], t.Iterator[int]]) -> None:
    with click.progressbar(length=len(ids), label=label, hidden=len(ids) < _PROGRESS_FROM) as bar:
        for done in action(ids):
            bar.update(done)


def _echo_report(report: DeliveryReport) -> None:
    click.echo(f"{report.sent} sent, {report.retried} to retry, {report.failed} failed.")
