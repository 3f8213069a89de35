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

from flask import has_app_context
from sqlalchemy import Select, Update, and_, bindparam, func, or_, select, update

from ..clock import utcnow
from ..errors import PermanentDeliveryError, TemporaryDeliveryError
from ..models import OutboxStatus
from ..signals import delivery_attempted
from .bounces import note_failed_delivery
from .commit_signals import send_after_commit
from .leases import LeaseKeeper
from .message import envelope_sender, is_smtputf8

if t.TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..models import DeliveryAttemptMixin, OutboxMixin
    from ..settings import Settings
    from .transports import Connection, Transport

log = logging.getLogger("flask_mailproof.delivery")


@dataclasses.dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    #: ``sent``, ``retry`` or ``failed``: what became of the last message handled.
    last_outcome: str = ""

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed

    def add(self, other: DeliveryReport) -> None:
        """Count what ``other`` did in this report too."""
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.last_outcome = other.last_outcome or self.last_outcome


#: The longest worker name a claim (``claimed_by``) and the attempt log (``worker``) keep.
WORKER_NAME_LENGTH = 64


def worker_name() -> str:
    """Return a name for this process's claims: host, pid and a random part."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def claimant(worker: str | None) -> str:
    """Return the name a run claims under: ``worker`` (or a new name) cut to what is kept.

    Cut once, where a run starts: the claim, its renewals, the owner check when recording and
    the attempt log all then use the very name the claim stored. A longer name would be refused
    by a strict database, and elsewhere kept whole in one column and cut in another.
    """
    return (worker or worker_name())[:WORKER_NAME_LENGTH]


def due_condition(model: type[OutboxMixin], now: dt.datetime, grace: float = 0) -> t.Any:
    """Return the condition of a message due at ``now``: every reader of "due" uses this one."""
    return _due(model, now, now - dt.timedelta(seconds=grace))


def _due(model: type[OutboxMixin], now: t.Any, pending_due_by: t.Any) -> t.Any:
    """Return the due condition; its times are values or bound parameters."""
    return or_(
        and_(model.status == OutboxStatus.PENDING, model.next_attempt_at <= pending_due_by),
        # A claim past its lease belongs to a worker that died; take the message over.
        and_(model.status == OutboxStatus.CLAIMED, model.claimed_until < now),
    )


def due_ids(
    session: Session, model: type[OutboxMixin], *, limit: int | None = None, grace: float = 0
) -> list[int]:
    """Return the ids of messages due now (pending and due, or claimed past their lease).

    :param grace: leave out pending messages due for less than this many seconds (their
        delivery may be under way already).
    """
    query = (
        select(model.id)
        .where(due_condition(model, utcnow(), grace))
        .order_by(model.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def count_due(session: Session, model: type[OutboxMixin]) -> int:
    """Return how many messages are due now."""
    return session.scalar(select(func.count()).where(due_condition(model, utcnow()))) or 0


def claim_due(
    session: Session,
    model: type[OutboxMixin],
    *,
    worker: str,
    limit: int,
    lease: int,
    only: t.Collection[int] | None = None,
) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker`` and commit; return their ids.

    Each claim is a conditional UPDATE, so two workers never hold one message; where the
    database has ``FOR UPDATE SKIP LOCKED``, workers also skip each other's candidates.

    :param only: claim among these ids only (a task queued for given messages).
    """
    # Without SKIP LOCKED, a worker can lose every candidate it saw to a faster one; look
    # again rather than report "nothing due" while the outbox is full.
    for _ in range(_CLAIM_ROUNDS):
        found, claimed = _claim_round(session, model, worker, limit, lease, only)
        if claimed or not found:
            return claimed
    return []


#: Times :func:`claim_due` looks again after losing every candidate to other workers.
_CLAIM_ROUNDS = 5


def _claim_round(
    session: Session,
    model: type[OutboxMixin],
    worker: str,
    limit: int,
    lease: int,
    only: t.Collection[int] | None,
) -> tuple[int, list[int]]:
    now = utcnow()
    candidates = _statements(model).candidates.limit(limit)
    if only is not None:
        candidates = candidates.where(model.id.in_(list(only)))
    if session.get_bind().dialect.name in ("postgresql", "mysql", "mariadb"):
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(session.scalars(candidates, {"claim_now": now}))
    claimed = []
    if ids:
        claim = _statements(model).claim
        until = now + dt.timedelta(seconds=lease)
        for message_id in ids:
            result = session.execute(
                claim,
                {"claim_id": message_id, "claim_now": now, "claimer": worker, "claim_until": until},
                execution_options=_UNSYNCHRONIZED,
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(message_id)
    session.commit()
    return len(ids), claimed


#: Delivery's UPDATEs match rows by id and never read loaded objects before the commit
#: that expires them (claimed rows are detached), so the ORM need not look through the
#: session for objects to update alike, work that showed in a one-message run's profile.
_UNSYNCHRONIZED = {"synchronize_session": False}


@dataclasses.dataclass(frozen=True)
class _ClaimStatements:
    """The statements of a claim, with their values bound at execution.

    Built once per outbox model: the expression tree of the due condition took longer to
    build than the statements to run. The parameters are not named as columns are (SQLAlchemy
    reserves those names in an UPDATE).
    """

    #: Ids of due messages at ``claim_now``, oldest first (the caller adds the limit).
    candidates: Select[int]
    #: Claim message ``claim_id`` for ``claimer`` until ``claim_until`` if it is still due.
    claim: Update


_CLAIM_STATEMENTS: dict[type[OutboxMixin], _ClaimStatements] = {}


def _statements(model: type[OutboxMixin]) -> _ClaimStatements:
    statements = _CLAIM_STATEMENTS.get(model)
    if statements is None:
        due = _due(model, bindparam("claim_now"), bindparam("claim_now"))
        statements = _CLAIM_STATEMENTS[model] = _ClaimStatements(
            candidates=select(model.id).where(due).order_by(model.id),
            claim=update(model)
            .where(model.id == bindparam("claim_id"), due)
            .values(
                status=OutboxStatus.CLAIMED,
                claimed_by=bindparam("claimer"),
                claimed_until=bindparam("claim_until"),
            ),
        )
    return statements


def release_claims(
    session: Session, model: type[OutboxMixin], ids: t.Collection[int], *, worker: str
) -> None:
    """Put messages ``worker`` claimed but will not send back in line, due as before; commit."""
    session.execute(
        update(model)
        .where(
            model.id.in_(list(ids)),
            model.claimed_by == worker,
            model.status == OutboxStatus.CLAIMED,
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_until=None)
    )
    session.commit()


def retry_delay(attempts: int, *, base: float, cap: float) -> float:
    """Return seconds before attempt ``attempts + 1``: exponential, capped, with jitter.

    The delay is drawn between half and all of ``base * 2**(attempts - 1)`` (at most ``cap``),
    so messages that failed together do not all come back at the same moment.
    """
    ceiling = min(base * 2 ** max(attempts - 1, 0), cap)
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - spreading retries, not secrets


def deliver_pending(
    session: Session,
    model: type[OutboxMixin],
    transport: Transport,
    settings: Settings,
    *,
    worker: str | None = None,
    attempt_model: type[DeliveryAttemptMixin] | None = None,
    only: t.Collection[int] | None = None,
) -> DeliveryReport:
    """Claim one batch of due messages and send them over one connection.

    The claims are renewed while the batch is sent, so however slow the server, no other
    worker takes a message over from this live one.

    :param attempt_model: where to log each attempt (``Models.delivery_attempt``).
    :param only: deliver among these ids only, if they are still due.
    """
    worker = claimant(worker)
    ids = claim_due(
        session,
        model,
        worker=worker,
        limit=settings.delivery_batch_size,
        lease=settings.delivery_lease,
        only=only,
    )
    report = DeliveryReport()
    if not ids:
        return report
    engine = session.get_bind().engine
    leases = LeaseKeeper(engine, model, worker=worker, lease=settings.delivery_lease)
    leases.hold(ids)
    with leases, transport.connect() as connection:
        for row in load_claimed(session, model, ids):
            send_and_record(
                session, model, connection, row, worker, settings, attempt_model, report
            )
            leases.release(row.id)
    return report


def load_claimed(session: Session, model: type[OutboxMixin], ids: list[int]) -> list[OutboxMixin]:
    """Return the claimed rows, detached: they keep what was loaded across later commits."""
    rows = list(session.scalars(select(model).where(model.id.in_(ids)).order_by(model.id)))
    for row in rows:
        session.expunge(row)
    return rows


def send_and_record(
    session: Session,
    model: type[OutboxMixin],
    connection: Connection,
    row: OutboxMixin,
    worker: str,
    settings: Settings,
    attempt_model: type[DeliveryAttemptMixin] | None,
    report: DeliveryReport,
) -> None:
    """Send one claimed message over ``connection``, record the outcome and commit it."""
    outcome = _send_one(connection, row)
    _record(session, model, row, worker, outcome, settings, report)
    if attempt_model is not None:
        session.add(_attempt(attempt_model, row, worker, outcome, report))
    # One commit per message: a crash now re-sends at most the message in flight.
    session.commit()


def _attempt(
    attempt_model: type[DeliveryAttemptMixin],
    row: OutboxMixin,
    worker: str,
    outcome: Exception | None,
    report: DeliveryReport,
) -> DeliveryAttemptMixin:
    model: t.Any = attempt_model
    result: DeliveryAttemptMixin = model(
        message_id=row.id,
        attempted_at=utcnow(),
        worker=worker,
        outcome=report.last_outcome,
        error=None if outcome is None else str(outcome)[:2000],
    )
    return result


def _send_one(connection: Connection, row: OutboxMixin) -> Exception | None:
    try:
        envelope_from = envelope_sender(_header(row.raw, "From"))
        smtputf8 = is_smtputf8(row.raw, row.recipient)
        raw = row.raw.encode("utf-8" if smtputf8 else "ascii")
        connection.send(envelope_from, row.recipient, raw, smtputf8=smtputf8)
    except (TemporaryDeliveryError, PermanentDeliveryError) as exc:
        return exc
    except Exception as exc:
        # One bad row must never stop the batch (nor every later run, which would meet it
        # first again). An error nobody foresaw would recur on every retry: the message fails
        # and stays in the outbox, for `flask mailproof outbox retry` once the cause is fixed.
        log.exception("mail %s (%s): unexpected error while sending", row.id, row.kind)
        return PermanentDeliveryError(f"unexpected error: {exc!r}")
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
    exhausted = _exhausted(row, attempts, settings)
    if outcome is None:
        values.update(status=OutboxStatus.SENT, sent_at=now, last_error=None)
        report.sent += 1
        report.last_outcome = "sent"
        log.info("mail %s (%s) sent after %d attempt(s)", row.id, row.kind, attempts)
    elif isinstance(outcome, TemporaryDeliveryError) and not exhausted:
        delay = retry_delay(
            attempts, base=settings.delivery_retry_base, cap=settings.delivery_retry_cap
        )
        values.update(
            status=OutboxStatus.PENDING,
            last_error=str(outcome)[:2000],
            next_attempt_at=now + dt.timedelta(seconds=delay),
        )
        report.retried += 1
        report.last_outcome = "retry"
        log.warning("mail %s (%s) will be retried in %.0fs: %s", row.id, row.kind, delay, outcome)
    else:
        # A failed message's next_attempt_at says when it failed: the health check counts
        # recent failures on the outbox's (status, next_attempt_at) index.
        values.update(status="failed", last_error=str(outcome)[:2000], next_attempt_at=now)
        report.failed += 1
        report.last_outcome = "failed"
        log.error("mail %s (%s) failed: %s", row.id, row.kind, outcome)
        note_failed_delivery(session, row, outcome)
    # Only the worker holding the claim records the outcome; an expired claim taken over by
    # another worker is that worker's to record.
    session.execute(
        update(model).where(model.id == row.id, model.claimed_by == worker).values(**values),
        execution_options=_UNSYNCHRONIZED,
    )
    if has_app_context():  # the signal's sender is the app (delivery always runs in its context)
        send_after_commit(
            session,
            delivery_attempted,
            message=row,
            outcome=report.last_outcome,
            reason=failure_reason(outcome, exhausted=exhausted),
            recorded_at=now,
        )


def failure_reason(outcome: Exception | None, *, exhausted: bool) -> str | None:
    """Return the class of a delivery failure, few enough to count by; ``None`` if it was sent.

    ``connection`` (no session with the server), ``temporary`` (a 4xx), ``exhausted`` (a
    temporary failure out of attempts), ``recipient_refused`` (a 5xx about the recipient),
    ``refused`` (another 5xx), ``other`` (no SMTPUTF8, an error nobody foresaw).
    """
    if outcome is None:
        return None
    if isinstance(outcome, TemporaryDeliveryError):
        if exhausted:
            return "exhausted"
        # Replies read "451 4.3.0 ..."; without a code, the session itself failed.
        return "temporary" if str(outcome)[:3].isdigit() else "connection"
    if isinstance(outcome, PermanentDeliveryError) and outcome.address_refused:
        return "recipient_refused"
    if isinstance(outcome, PermanentDeliveryError) and outcome.reply_code is not None:
        return "refused"
    return "other"


def _exhausted(row: OutboxMixin, attempts: int, settings: Settings) -> bool:
    age = (utcnow() - row.created_at).total_seconds()
    return attempts >= settings.delivery_max_attempts or age >= settings.delivery_max_age
