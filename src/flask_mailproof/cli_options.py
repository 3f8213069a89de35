"""Options that the purge commands share, spelled once so that they read alike."""

from __future__ import annotations

import typing as t

import click


def older_than(
    what: str, *, default_setting: str | None = None, fractions: bool = False
) -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    """``--older-than DAYS``, passed as ``days``: "Only ``what`` more than DAYS days ago".

    :param default_setting: the setting that gives the default; without it the option is
        required, since a purge must not guess its age.
    :param fractions: accept fractions of a day.
    """
    help = f"Only {what} more than DAYS days ago."
    # No default given at all when required: click reads an explicit default=None as one.
    optional: dict[str, t.Any] = {"required": True}
    if default_setting is not None:
        help = f"{help[:-1]} [default: {default_setting}]."
        optional = {"default": None}
    return click.option(
        "--older-than",
        "days",
        type=click.FloatRange(min=0) if fractions else click.IntRange(min=0),
        help=help,
        metavar="DAYS",
        **optional,
    )


def dry_run(does: str = "List") -> t.Callable[[t.Callable[..., t.Any]], t.Callable[..., t.Any]]:
    """``--dry-run``: say what would go and delete nothing."""
    return click.option("--dry-run", is_flag=True, help=f"{does} what would go; delete nothing.")
