"""Deliver over several SMTP sessions at once: one claiming loop feeding a bounded set of senders.

A mail server that takes a second per message caps a single session at one message per second
whatever the load. :class:`SenderPool` keeps up to ``MAILPROOF_DELIVERY_CONCURRENCY`` sessions
in flight: the calling thread claims due messages (a few at a time, as senders run short) and
puts them in one line; each sender thread takes message after message from the line over its
own connection, and records each outcome with its own database session (sessions are not
thread-safe). Claims and records stay the conditional UPDATEs of :mod:`.delivery`, so each
message is still claimed once and recorded once; a :class:`~.leases.LeaseKeeper` renews what the
pool holds until it is recorded.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import threading
import typing as t

from sqlalchemy.exc import SQLAlchemyError

from ..state import current_state
from .delivery import DeliveryReport, claim_due, load_claimed, release_claims, send_and_record
from .leases import LeaseKeeper

if t.TYPE_CHECKING:
    from flask import Flask

    from ..models import OutboxMixin

log = logging.getLogger("flask_mailproof.delivery")

#: Seconds between looks for new mail while every claimed message is in flight.
_POLL = 0.25


class SenderPool:
    """Claim and send due messages with ``concurrency`` senders until nothing is due.

    Make and run it in an app context (the claims use its session); each sender pushes one
    of its own.
    """

    def __init__(
        self,
        app: Flask,
        *,
        worker: str,
        concurrency: int,
        progress: t.Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self._app = app
        self._worker = worker
        self._concurrency = concurrency
        self._progress = progress
        self._changed = threading.Condition()
        #: Claimed messages no sender has taken yet.
        self._line: collections.deque[OutboxMixin] = collections.deque()
        #: Messages claimed and not yet recorded: in the line or being sent.
        self._unrecorded = 0
        #: Outcomes in a row that were "try again later": the server is down or refusing.
        self._retry_streak = 0
        self._closed = False
        #: Set once the run must claim no more.
        self._stopping = False
        #: Every message this run claimed.
        self._claimed: set[int] = set()
        self._total = DeliveryReport()
        self._senders: list[threading.Thread] = []
        state = current_state()
        self._leases = LeaseKeeper(
            state.db.engine,
            state.models.outbox,
            worker=worker,
            lease=state.settings.delivery_lease,
        )

    def run(self) -> DeliveryReport:
        """Deliver until nothing is due (or the server refuses a whole round); return totals."""
        with self._leases:
            try:
                self._claim_while_due()
            except BaseException:
                # Stopped (Ctrl+C) or the database failed: what no sender took yet goes back.
                self._abandon_line()
                raise
            finally:
                with self._changed:
                    self._closed = True
                    self._changed.notify_all()
                for sender in self._senders:
                    sender.join()
        return self._total

    def _claim_while_due(self) -> None:
        state = current_state()
        session = state.db.session()
        settings = state.settings
        wanted = self._concurrency
        # Once a claim took all that was due, look again after a sender has recorded one (or
        # a poll has passed), not at once, where the claim would find nothing: the messages
        # in flight then, counted when the claim was handed over.
        in_flight_after_all: int | None = None
        while True:
            if in_flight_after_all is not None:
                self._wait_for_a_record(in_flight_after_all)
            with self._changed:
                # Claim again once the line is half empty: senders never wait on a claim, and a
                # claim takes several messages at once, yet the pool never holds more than two
                # rounds (claims held for long only wait, and a dead process holds few).
                self._changed.wait_for(lambda: len(self._line) <= wanted // 2)
                if self._retry_streak >= wanted:
                    return
                room = min(settings.delivery_batch_size, 2 * wanted - self._unrecorded)
                in_flight = self._unrecorded
            ids = claim_due(
                session,
                state.models.outbox,
                worker=self._worker,
                limit=room,
                lease=settings.delivery_lease,
            )
            if not ids:
                if not in_flight:
                    return
                # Mail written while messages are in flight is claimed as a sender frees up or
                # within a poll: a slow server must not hold new mail back a whole message.
                self._wait_for_a_record(in_flight)
                continue
            again = self._claimed.intersection(ids)
            if again:
                # A retry came due within this run: like a whole batch that must wait, it ends
                # the run rather than hammer a server that just refused (the next run sends it).
                release_claims(session, state.models.outbox, again, worker=self._worker)
                ids = [message_id for message_id in ids if message_id not in again]
                self._stopping = True
            self._claimed.update(ids)
            self._leases.hold(ids)
            rows = load_claimed(session, state.models.outbox, ids)
            session.commit()  # end the read; the senders record in transactions of their own
            with self._changed:
                self._line.extend(rows)
                self._unrecorded += len(rows)
                in_flight_after_all = self._unrecorded if len(ids) < room else None
                self._changed.notify_all()
            self._add_senders(min(wanted, len(self._senders) + len(rows)))
            if self._stopping:
                return

    def _abandon_line(self) -> None:
        with self._changed:
            ids = [row.id for row in self._line]
            self._line.clear()
            self._unrecorded -= len(ids)
        if not ids:
            return
        session = current_state().db.session()
        try:
            session.rollback()
            release_claims(session, current_state().models.outbox, ids, worker=self._worker)
        except SQLAlchemyError:
            log.warning("could not put %d claimed mail(s) back; their claims expire", len(ids))
        for message_id in ids:
            self._leases.release(message_id)

    def _wait_for_a_record(self, unrecorded: int) -> None:
        with self._changed:
            self._changed.wait_for(lambda: self._unrecorded < unrecorded, timeout=_POLL)

    def _add_senders(self, count: int) -> None:
        """Start senders up to ``count``: as many as there were messages, at most the bound."""
        while len(self._senders) < count:
            sender = threading.Thread(
                target=self._send, name=f"mailproof-sender-{len(self._senders)}", daemon=True
            )
            sender.start()
            self._senders.append(sender)

    def _next(self) -> OutboxMixin | None:
        with self._changed:
            self._changed.wait_for(lambda: self._line or self._closed)
            if not self._line:
                return None
            row = self._line.popleft()
            self._changed.notify_all()
            return row

    def _send(self) -> None:
        with self._app.app_context():
            state = current_state()
            session = state.db.session()
            try:
                with state.transport.connect() as connection:
                    while (row := self._next()) is not None:
                        report = DeliveryReport()
                        try:
                            send_and_record(
                                session,
                                state.models.outbox,
                                connection,
                                row,
                                self._worker,
                                state.settings,
                                state.models.delivery_attempt,
                                report,
                            )
                        except Exception:
                            # Unrecorded, the message stays claimed; no longer renewed, its
                            # claim expires and it is sent again (at least once, as ever).
                            log.exception("mail %s: could not record the outcome", row.id)
                            with contextlib.suppress(SQLAlchemyError):
                                session.rollback()
                        finally:
                            self._leases.release(row.id)
                            self._recorded(report)
            finally:
                state.db.session.remove()

    def _recorded(self, report: DeliveryReport) -> None:
        with self._changed:
            self._unrecorded -= 1
            self._total.add(report)
            if report.sent or report.failed:
                self._retry_streak = 0
            elif report.retried:
                self._retry_streak += 1
            if self._progress is not None:
                self._progress(report)
            self._changed.notify_all()
