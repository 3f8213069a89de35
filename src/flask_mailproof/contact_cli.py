"""``flask mailproof contact``: see what the contact form holds, purge what was never verified."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .cli_options import dry_run, older_than
from .flows.contact_admin import (
    count_contact_messages,
    list_contact_messages,
    purge_contact_messages,
)
from .models import ContactStatus


@click.group("contact")
def contact_cli() -> None:
    """Messages sent through the contact form."""


def _printable(text: str, width: int) -> str:
    # What senders typed reaches an operator's terminal: no escape sequences, one line.
    flat = "".join(c if c.isprintable() else " " for c in " ".join(text.split()))
    return flat if len(flat) <= width else flat[: width - 1] + "…"


@contact_cli.command("list")
@click.option("--limit", type=click.IntRange(min=0), default=10, show_default=True)
# The values as stored and printed (click would offer an enum's member names instead).
@click.option("--status", type=click.Choice([s.value for s in ContactStatus]), default=None)
@with_appcontext
def list_command(limit: int, status: str | None) -> None:
    """Count messages by status and show the latest ones."""
    counts = count_contact_messages()
    click.echo(
        f"pending: {counts.pending} ({counts.pending_expired} with an expired link)  "
        f"verified: {counts.verified}  delivered: {counts.delivered}"
    )
    if limit == 0:
        return
    click.echo(f"{'id':>6}  {'written (UTC)':19}  {'status':9}  {'from':40}  message")
    for row in list_contact_messages(limit, status):
        sender = _printable(f"{row.name} <{row.email}>", 40)
        click.echo(
            f"{row.id:>6}  {row.created_at:%Y-%m-%d %H:%M:%S}  {row.status:9}  "
            f"{sender:40}  {_printable(row.message, 60)}"
        )


@contact_cli.command("purge")
@older_than("messages written", default_setting="MAILPROOF_CONTACT_PURGE_DAYS")
@dry_run()
@with_appcontext
def purge_command(days: int | None, dry_run: bool) -> None:
    """Delete contact messages never verified by their sender."""
    purged = purge_contact_messages(days, dry_run=dry_run)
    for message in purged:
        click.echo(
            f"{message.id:>6}  {message.created_at:%Y-%m-%d}  {_printable(message.email, 60)}"
        )
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{len(purged)} never-verified contact message(s) {verb}.")
