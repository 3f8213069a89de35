"""Render a mail's subject, text and HTML parts from overridable Jinja templates.

A mail called ``name`` is made of ``mailproof/email/<name>_subject.txt``,
``<name>_message.txt`` and ``<name>_message.html``; put files of the same name in your
application's ``templates/`` folder to override them.
"""

from __future__ import annotations

import dataclasses
import typing as t

from flask import render_template


@dataclasses.dataclass(frozen=True)
class RenderedMail:
    """The three parts of a mail, as its templates produced them."""

    subject: str
    text: str
    html: str


def render_mail(name: str, context: dict[str, t.Any]) -> RenderedMail:
    """Render mail ``name`` with ``context``; the subject is folded onto one line."""
    prefix = f"mailproof/email/{name}"
    subject = render_template(f"{prefix}_subject.txt", **context)
    return RenderedMail(
        subject=" ".join(subject.split()),
        text=render_template(f"{prefix}_message.txt", **context),
        html=render_template(f"{prefix}_message.html", **context),
    )
