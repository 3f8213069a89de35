"""What the outbox looks like right now, in queries the outbox's indexes answer.

Called every second by a load balancer's health check and on every Prometheus scrape, so each
figure is read through an index that leads with ``status`` (``ix_mailproof_outbox_due``,
``status, next_attempt_at``, gives the due ranges): the rows of one status, never a scan of the
sent mail, which grows with every mail ever written.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import typing as t

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..models import OutboxStatus

if t.TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..models import OutboxMixin

#: The statuses counted as the outbox's depth: mail not yet gone. Sent mail is history (and
#: counting it would read the whole of it); failed mail waits for ``outbox retry``.
DEPTH_STATUSES = (OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.FAILED)


@dataclasses.dataclass(frozen=True)
class OutboxFigures:
    """The outbox's health: how much is due, for how long the oldest has been, recent failures."""

    #: Messages due now: pending and due, or claimed by a worker whose lease ran out.
    due: int
    #: Seconds since the oldest due message became due (its attempt time, or its lapsed
    #: lease); 0 when nothing is due.
    oldest_due_seconds: float
    #: Messages marked failed in the last hour.
    failed_last_hour: int


def outbox_figures(session: Session, model: type[OutboxMixin], now: dt.datetime) -> OutboxFigures:
    """Return the outbox's figures at ``now`` (naive UTC), in one round trip."""
    pending_due = (model.status == OutboxStatus.PENDING, model.next_attempt_at <= now)
    # Claims are few (what workers hold right now), so their range is short.
    lapsed = (model.status == OutboxStatus.CLAIMED, model.claimed_until < now)
    # due_condition's two halves, counted apart: the pending half is then read from the index
    # alone (on SQLite a backlog of 20,000 counts in about half the time of one OR).
    figures = (
        _count(model, *pending_due),
        _count(model, *lapsed),
        select(func.min(model.next_attempt_at)).where(*pending_due).scalar_subquery(),
        select(func.min(model.claimed_until)).where(*lapsed).scalar_subquery(),
        # A failed message's next_attempt_at is when it failed (see delivery's _record).
        _count(
            model,
            model.status == OutboxStatus.FAILED,
            model.next_attempt_at >= now - dt.timedelta(hours=1),
        ),
    )
    pending, claimed, *since, failed_count = session.execute(select(*figures)).one()
    oldest = min((_naive(s) for s in since if s is not None), default=None)
    waited = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return OutboxFigures(
        due=pending + claimed, oldest_due_seconds=waited, failed_last_hour=failed_count
    )


def _count(model: type[OutboxMixin], *conditions: t.Any) -> t.Any:
    return select(func.count()).select_from(model).where(*conditions).scalar_subquery()


def outbox_depth(session: Session, model: type[OutboxMixin]) -> dict[str, int]:
    """Return how many messages have each status of :data:`DEPTH_STATUSES` (0 for none)."""
    rows = session.execute(
        select(model.status, func.count())
        .where(model.status.in_([str(s) for s in DEPTH_STATUSES]))
        .group_by(model.status)
    ).all()
    counts = {str(status): 0 for status in DEPTH_STATUSES}
    counts.update((str(status), int(count)) for status, count in rows)
    return counts


def _naive(value: t.Any) -> dt.datetime:
    # SQLite hands a scalar subquery's MIN back as text; the other databases as a datetime.
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value)
    return t.cast("dt.datetime", value).replace(tzinfo=None)


def end_read(session: Session) -> None:
    """End a read's transaction at once: a pooled connection should not idle in one until the
    request's teardown. A connection already gone is the pool's to replace."""
    with contextlib.suppress(SQLAlchemyError):
        session.rollback()
