"""The outbox: flows write mail here, in the transaction that caused it; nothing else.

A mail written by work that rolls back is gone with it; a mail written by work that commits is
stored and will be delivered by whatever drains the outbox (see :mod:`.delivery`).
"""

from __future__ import annotations

import logging
import typing as t
from urllib.parse import urlsplit

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import OutboxStatus
from ..signals import mail_queued
from .bounces import find_suppression
from .commit_signals import send_after_commit
from .message import OutgoingMail, build_mime, check_header_value, make_message_id
from .render import render_mail

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from ..models import OutboxMixin, SuppressionMixin

log = logging.getLogger("flask_mailproof.delivery")

#: Key in ``Session.info`` of the callbacks to run once a session that wrote mail commits.
_AFTER_COMMIT_KEY = "mailproof.after_commit"
#: Key in ``Session.info`` of the outbox rows written since the last commit or rollback.
_QUEUED_KEY = "mailproof.queued"

#: Called after a commit that wrote mail, with the ids of the messages it wrote.
CommitCallback = t.Callable[[list[int]], None]


class Outbox:
    """Render mails and store them as outbox rows in the current database session."""

    def __init__(
        self,
        db: SQLAlchemy,
        model: type[OutboxMixin],
        *,
        sender: str,
        subject_prefix: str,
        link_root: str,
        suppression_model: type[SuppressionMixin] | None = None,
    ) -> None:
        self._db = db
        self._model = model
        self._suppression_model = suppression_model
        self._sender = check_header_value("MAILPROOF_MAIL_SENDER", sender)
        self._subject_prefix = subject_prefix
        self._message_id_domain = urlsplit(link_root).hostname or "localhost"
        self._after_commit: list[CommitCallback] = []

    def on_commit(self, callback: CommitCallback) -> None:
        """Call ``callback(ids)`` after every commit that wrote mail (to wake delivery).

        The callback runs after the data is safe, outside any transaction; an exception it
        raises is the callback's problem (delivery falls back on its periodic sweep).
        """
        self._after_commit.append(callback)

    def queue(
        self,
        recipient: str,
        template: str,
        context: dict[str, t.Any],
        *,
        reply_to: str | None = None,
    ) -> OutboxMixin:
        """Render mail ``template`` for ``recipient`` and add it to the session; no commit.

        To an address on the suppression list nothing is added: the row is written and taken
        back (see :meth:`queue_decoy`), so the caller's answer, fixed where it must not tell
        who has an account, takes the time it always does.

        :raises HeaderInjection: the recipient or reply-to would break a header.
        """
        row = self._render(recipient, template, context, reply_to=reply_to)
        session = self._db.session
        session.add(row)
        session.info[_AFTER_COMMIT_KEY] = self._after_commit
        if self._suppressed(recipient):
            session.flush()
            session.delete(row)
            log.info("mail %s not written: its address is on the suppression list", template)
            return row
        session.info.setdefault(_QUEUED_KEY, []).append(row)
        send_after_commit(session(), mail_queued, kind=row.kind, message_id=row.message_id)
        return row

    def _suppressed(self, recipient: str) -> bool:
        if self._suppression_model is None:
            return False
        return find_suppression(self._db.session(), self._suppression_model, recipient) is not None

    def _render(
        self,
        recipient: str,
        template: str,
        context: dict[str, t.Any],
        *,
        reply_to: str | None = None,
    ) -> OutboxMixin:
        rendered = render_mail(template, context)
        mail = OutgoingMail(
            sender=self._sender,
            recipient=check_header_value("To", recipient),
            subject=self._subject_prefix + rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=make_message_id(self._message_id_domain),
            reply_to=reply_to,
        )
        raw = build_mime(mail).as_string()
        model: t.Any = self._model
        row: OutboxMixin = model(
            message_id=mail.message_id,
            kind=template,
            recipient=mail.recipient,
            subject=mail.subject[:998],
            raw=raw,
            status=OutboxStatus.PENDING,
            created_at=utcnow(),
            next_attempt_at=utcnow(),
            attempts=0,
        )
        return row

    def queue_decoy(self, recipient: str, template: str, context: dict[str, t.Any]) -> None:
        """Do all the work of :meth:`queue`, take the mail back, and commit; nothing is sent.

        Where not sending would answer measurably faster than sending (an address without an
        account, a notice sent moments ago), the time taken would tell who has an account.
        Rendering, the INSERT, its DELETE and a commit that writes cost what a real mail does.
        """
        row = self._render(recipient, template, context)
        session = self._db.session
        session.add(row)
        session.info[_AFTER_COMMIT_KEY] = self._after_commit
        # The suppression lookup a real mail makes, so the two cost the same here too.
        self._suppressed(recipient)
        session.flush()
        session.delete(row)
        session.commit()  # no worker is woken: the row is not in the queued list


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    callbacks = session.info.pop(_AFTER_COMMIT_KEY, None)
    rows = session.info.pop(_QUEUED_KEY, ())
    if not callbacks:
        return
    # The identity key is known without a query (no SQL may run here, after the commit).
    identities = (inspect(row).identity for row in rows)
    ids = [int(identity[0]) for identity in identities if identity]
    for callback in callbacks:
        callback(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)
    session.info.pop(_QUEUED_KEY, None)
