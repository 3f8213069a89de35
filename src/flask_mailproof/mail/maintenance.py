"""Look after the outbox: counts, recent failures, re-queueing failed mail, purging old mail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

from sqlalchemy import delete, func, select, update

from ..clock import utcnow
from ..models import OutboxStatus
from ..state import current_state

if t.TYPE_CHECKING:
    from ..models import OutboxMixin

#: Rows changed per transaction by retry and purge, so a long run holds no long locks.
CHUNK_SIZE = 500
#: Every status an outbox row can have, in the order listings show them.
STATUSES = tuple(OutboxStatus)


@dataclasses.dataclass(frozen=True)
class OutboxFilter:
    """Which rows a command acts on; ``None`` fields match everything."""

    kind: str | None = None
    recipient: str | None = None
    #: Only rows created at least this many days ago.
    older_than_days: float | None = None
    #: Only these ids.
    ids: tuple[int, ...] = ()

    def apply(self, query: t.Any, model: type[OutboxMixin]) -> t.Any:
        if self.kind is not None:
            query = query.where(model.kind == self.kind)
        if self.recipient is not None:
            query = query.where(func.lower(model.recipient) == self.recipient.lower())
        if self.older_than_days is not None:
            cutoff = utcnow() - dt.timedelta(days=self.older_than_days)
            query = query.where(model.created_at < cutoff)
        if self.ids:
            query = query.where(model.id.in_(self.ids))
        return query


def outbox_counts() -> dict[str, int]:
    """Return how many messages have each status (every status present, zero or not)."""
    state = current_state()
    model = state.models.outbox
    rows = state.db.session.execute(select(model.status, func.count()).group_by(model.status))
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update({status: int(count) for status, count in rows})
    return counts


def latest_failures(limit: int) -> list[OutboxMixin]:
    """Return up to ``limit`` failed messages, newest first."""
    state = current_state()
    model = state.models.outbox
    query = (
        select(model)
        .where(model.status == OutboxStatus.FAILED)
        .order_by(model.id.desc())
        .limit(limit)
    )
    return list(state.db.session.scalars(query))


def matching_ids(statuses: t.Collection[str], selection: OutboxFilter) -> list[int]:
    """Return the ids of messages with one of ``statuses`` that ``selection`` matches."""
    state = current_state()
    model = state.models.outbox
    query = selection.apply(select(model.id).where(model.status.in_(list(statuses))), model)
    return list(state.db.session.scalars(query.order_by(model.id)))


def requeue_failed(ids: t.Sequence[int]) -> t.Iterator[int]:
    """Make these failed messages pending and due now, a chunk per commit; yield chunk sizes.

    The attempt count starts again from zero, so a re-queued message gets every retry; its age
    still counts from when it was written.
    """
    state = current_state()
    model = state.models.outbox
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = list(ids[start : start + CHUNK_SIZE])
        state.db.session.execute(
            update(model)
            .where(model.id.in_(chunk), model.status == OutboxStatus.FAILED)
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=utcnow())
        )
        state.db.session.commit()
        yield len(chunk)


def purge(ids: t.Sequence[int]) -> t.Iterator[int]:
    """Delete these messages and their attempts log, a chunk per commit; yield chunk sizes."""
    state = current_state()
    model = state.models.outbox
    attempts = state.models.delivery_attempt
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = list(ids[start : start + CHUNK_SIZE])
        if attempts is not None:
            state.db.session.execute(delete(attempts).where(attempts.message_id.in_(chunk)))
        state.db.session.execute(
            delete(model).where(
                model.id.in_(chunk), model.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED))
            )
        )
        state.db.session.commit()
        yield len(chunk)
