"""Drain the outbox: claim due messages atomically, send them, record what happened.

Delivery is at-least-once: a worker that dies after the server accepted a message but before it
recorded that will see the message sent again when its claim expires, with the same
``Message-ID``, so providers and people can recognise the duplicate. The other choice,
at-most-once, would lose mail on every crash.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import random
import socket
import typing as t
import uuid

from sqlalchemy import and_, or_, select, update

from ..clock import utcnow
from ..errors import PermanentDeliveryError, TemporaryDeliveryError
from .message import envelope_sender

if t.TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..models import OutboxMixin
    from ..settings import Settings
    from .transports import Transport

log = logging.getLogger("flask_mailproof.delivery")

#: First retry delay in seconds; it doubles each attempt, with jitter, up to the cap.
RETRY_BASE_SECONDS = 30.0
RETRY_CAP_SECONDS = 3600.0


@dataclasses.dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed


def worker_name() -> str:
    """Return a name for this process's claims: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _due(model: type[OutboxMixin], now: dt.datetime) -> t.Any:
    return or_(
        and_(model.status == "pending", model.next_attempt_at <= now),
        # A claim past its lease belongs to a worker that died; take the message over.
        and_(model.status == "claimed", model.claimed_until < now),
    )


def claim_due(
    session: Session, model: type[OutboxMixin], *, worker: str, limit: int, lease: int
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker`` and commit; return their ids.

    Each claim is a conditional UPDATE, so two workers never hold one message; where the
    database has ``FOR UPDATE SKIP LOCKED``, workers also skip each other's candidates.
    """
    now = utcnow()
    candidates = select(model.id).where(_due(model, now)).order_by(model.id).limit(limit)
    if session.get_bind().dialect.name in ("postgresql", "mysql", "mariadb"):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates))
    claimed = []
    until = now + dt.timedelta(seconds=lease)
    for message_id in ids:
        result = session.execute(
            update(model)
            .where(model.id == message_id, _due(model, now))
            .values(status="claimed", claimed_by=worker, claimed_until=until)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(message_id)
    session.commit()
    return claimed


def retry_delay(attempts: int) -> float:
    """Return seconds before attempt ``attempts + 1``: exponential, capped, with full jitter."""
    ceiling = min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading retries, not secrets


def deliver_pending(
    session: Session,
    model: type[OutboxMixin],
    transport: Transport,
    settings: Settings,
    *,
    worker: str | None = None,
) -> DeliveryReport:
    """Claim one batch of due messages and send them over one connection."""
    worker = worker or worker_name()
    ids = claim_due(
        session,
        model,
        worker=worker,
        limit=settings.delivery_batch_size,
        lease=settings.delivery_lease,
    )
    report = DeliveryReport()
    if not ids:
        return report
    rows = list(session.scalars(select(model).where(model.id.in_(ids)).order_by(model.id)))
    with transport.connect() as connection:
        for row in rows:
            outcome = _send_one(connection, row)
            _record(session, model, row, worker, outcome, settings, report)
            # One commit per message: a crash now re-sends at most the message in flight.
            session.commit()
    return report


def _send_one(connection: t.Any, row: OutboxMixin) -> Exception | None:
    envelope_from = envelope_sender(_header(row.raw, "From"))
    try:
        connection.send(envelope_from, row.recipient, row.raw.encode("ascii"))
    except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
        return exc
    return None


def _header(raw: str, name: str) -> str:
    prefix = f"{name.lower()}:"
    for line in raw.split("\n"):
        if not line.strip():
            break
        if line.lower().startswith(prefix):
            return line[len(prefix) :].strip()
    return ""


def _record(
    session: Session,
    model: type[OutboxMixin],
    row: OutboxMixin,
    worker: str,
    outcome: Exception | None,
    settings: Settings,
    report: DeliveryReport,
) -> None:
    now = utcnow()
    attempts = row.attempts + 1
    values: dict[str, t.Any] = {"attempts": attempts, "claimed_by": None, "claimed_until": None}
    if outcome is None:
        values.update(status="sent", sent_at=now, last_error=None)
        report.sent += 1
        log.info("mail %s (%s) sent after %d attempt(s)", row.id, row.kind, attempts)
    elif isinstance(outcome, TemporaryDeliveryError) and not _exhausted(row, attempts, settings):
        delay = retry_delay(attempts)
        values.update(
            status="pending",
            last_error=str(outcome)[:2000],
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        report.retried += 1
        log.warning("mail %s (%s) will be retried in %.0fs: %s", row.id, row.kind, delay, outcome)
    else:
        values.update(status="failed", last_error=str(outcome)[:2000])
        report.failed += 1
        log.error("mail %s (%s) failed: %s", row.id, row.kind, outcome)
    # Only the worker holding the claim records the outcome; an expired claim taken over by
    # another worker is that worker's to record.
    session.execute(
        update(model).where(model.id == row.id, model.claimed_by == worker).values(**values)
    )


def _exhausted(row: OutboxMixin, attempts: int, settings: Settings) -> bool:
    age = (utcnow() - row.created_at).total_seconds()
    return attempts >= settings.delivery_max_attempts or age >= settings.delivery_max_age
