"""Send signals once the database session that caused them commits, never before.

A receiver (a metric, a ticket system) must see what the database holds: a signal sent before
the commit could announce mail or a failure that a rollback then takes back.
"""

from __future__ import annotations

import typing as t

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

#: Key in ``Session.info`` of the signals to send once the session commits.
_SIGNALS_KEY = "mailproof.signals_after_commit"


def send_after_commit(session: Session, signal: t.Any, **kwargs: t.Any) -> None:
    """Send ``signal`` with the current app as sender after ``session`` commits; drop it on a
    rollback. Call inside an app context."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session.info.setdefault(_SIGNALS_KEY, []).append((signal, app, kwargs))


@event.listens_for(Session, "after_commit")
def _send_signals(session: Session) -> None:
    for signal, app, kwargs in session.info.pop(_SIGNALS_KEY, ()):
        signal.send(app, **kwargs)


@event.listens_for(Session, "after_rollback")
def _forget_signals(session: Session) -> None:
    session.info.pop(_SIGNALS_KEY, None)
