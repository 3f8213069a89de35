"""The ``flask mailproof`` command group."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from .cli_options import dry_run, older_than
from .contact_cli import contact_cli
from .errors import InvalidAddress, PasswordRejected
from .flows.administration import create_admin, list_users, purge_unconfirmed
from .flows.login_sessions import purge_expired_login_sessions
from .flows.statistics import confirmation_stats
from .mail.cli import outbox_cli
from .schema import missing_tables
from .state import current_state
from .suppression_cli import suppressed_cli


@click.group("mailproof")
def mailproof_cli() -> None:
    """Manage accounts and mail of Flask-Mailproof."""


mailproof_cli.add_command(contact_cli)
mailproof_cli.add_command(outbox_cli)
mailproof_cli.add_command(suppressed_cli)


def mailproof_group() -> AppGroup:
    """Return a ``flask mailproof`` group of its own for one app, holding every command above.

    Each app gets a copy, so a command another extension adds to its app's group (the JSON
    API's ``api-reference``) is not added to every app in the process.
    """
    group = AppGroup("mailproof", help=mailproof_cli.help)
    for command in mailproof_cli.commands.values():
        group.add_command(command)
    return group


@mailproof_cli.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the tables of every model on db, the extension's and yours, that do not exist.

    For applications without migrations; with Flask-Migrate, migrate instead (docs/deploy.md).
    Existing tables are left as they are.
    """
    state = current_state()
    missing = missing_tables(state.db, state.models)
    state.db.create_all()
    if missing:
        click.echo(f"Created the tables of Flask-Mailproof ({', '.join(missing)}).")
    else:
        click.echo("Flask-Mailproof's tables exist already; nothing changed for them.")


@mailproof_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.password_option("--password", confirmation_prompt=True)
@with_appcontext
def create_admin_command(email: str, password: str) -> None:
    """Create a confirmed administrator (or promote an existing account)."""
    try:
        user = create_admin(email, password)
    except (InvalidAddress, PasswordRejected) as error:
        raise click.BadParameter(error.reason) from None
    click.echo(f"{user.email} is an administrator (id {user.id}).")


@mailproof_cli.command("users")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Newest N only.")
@with_appcontext
def users_command(limit: int | None) -> None:
    """List accounts with their confirmation state and dates."""
    rows = list_users(limit)
    click.echo(f"{'id':>6}  {'registered (UTC)':19}  {'confirmed (UTC)':19}  admin  email")
    for user in rows:
        confirmed = user.confirmed_at.strftime("%Y-%m-%d %H:%M:%S") if user.confirmed_at else "-"
        click.echo(
            f"{user.id:>6}  {user.registered_at:%Y-%m-%d %H:%M:%S}  {confirmed:19}  "
            f"{'yes' if user.is_admin else 'no ':5}  {user.email}"
        )
    click.echo(f"{len(rows)} account(s)")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


@mailproof_cli.command("stats")
@with_appcontext
def stats_command() -> None:
    """Show how many accounts confirm and how fast, per registration week."""
    total, weeks = confirmation_stats()
    click.echo(
        f"{'week':9}  {'registered':>10}  {'confirmed':>9}  {'share':>6}  {'median':>7}  {'p90':>7}"
    )
    for row in [*weeks, total]:
        click.echo(
            f"{row.week:9}  {row.registered:>10}  {row.confirmed:>9}  "
            f"{row.share_confirmed:>6.1%}  {_duration(row.median_seconds):>7}  "
            f"{_duration(row.p90_seconds):>7}"
        )


@mailproof_cli.command("purge-unconfirmed")
@older_than("accounts registered")
@dry_run()
@with_appcontext
def purge_unconfirmed_command(days: int, dry_run: bool) -> None:
    """Delete accounts never confirmed, freeing their addresses."""
    purged = purge_unconfirmed(days, dry_run=dry_run)
    for account in purged:
        click.echo(f"{account.user_id:>6}  {account.registered_at:%Y-%m-%d}  {account.email}")
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{len(purged)} never-confirmed account(s) {verb}.")


@mailproof_cli.command("purge-logins")
@dry_run("Count")
@with_appcontext
def purge_logins_command(dry_run: bool) -> None:
    """Delete the records of logins past MAILPROOF_LOGIN_MAX_AGE (their cookies are refused)."""
    count = purge_expired_login_sessions(dry_run=dry_run)
    verb = "would be deleted" if dry_run else "deleted"
    click.echo(f"{count} expired login(s) {verb}.")
