"""``flask mailproof suppressed``: the addresses that refused mail for good, and clearing one."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .flows.suppression import lift_suppression, suppressed_addresses


@click.group("suppressed", invoke_without_command=True)
@click.pass_context
def suppressed_cli(ctx: click.Context) -> None:
    """Addresses no mail is written to: they refused it for good (bounces, complaints)."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_command)


def _printable(text: str) -> str:
    # A remote server's reply reaches an operator's terminal: no escape sequences, one line.
    return "".join(c if c.isprintable() else " " for c in " ".join(text.split()))


@suppressed_cli.command("list")
@with_appcontext
def list_command() -> None:
    """List suppressed addresses, newest first, with the reply that put each there."""
    rows = suppressed_addresses()
    click.echo(f"{'since (UTC)':19}  {'source':7}  {'code':4}  address: reply")
    for row in rows:
        code = str(row.reply_code) if row.reply_code is not None else "-"
        click.echo(
            f"{row.suppressed_at:%Y-%m-%d %H:%M:%S}  {row.source:7}  {code:4}  "
            f"{_printable(row.email)}: {_printable(row.reason)}"
        )
    click.echo(f"{len(rows)} suppressed address(es)")


@suppressed_cli.command("clear")
@click.argument("address")
@with_appcontext
def clear_command(address: str) -> None:
    """Let mail go to ADDRESS again (any spelling of it: case does not matter)."""
    if not lift_suppression(address):
        raise click.ClickException(f"{address} is not on the suppression list.")
    click.echo(f"{address} is no longer suppressed; mail to it will be written again.")
