"""The suppression list: addresses that refused mail for good, and who hears of it.

A permanent refusal (a 5xx at RCPT or DATA, or a bounce the provider reports later) puts the
address here; :class:`~.outbox.Outbox` then writes nothing more to it, so a dead address does
not earn the sender a bad reputation one retry at a time. The signals go out after the commit
that recorded the failure, so a receiver sees what the database holds.
"""

from __future__ import annotations

import logging
import typing as t

from flask import has_app_context
from sqlalchemy import delete, select
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.orm import Session

from ..addresses import address_key
from ..clock import utcnow
from ..errors import PermanentDeliveryError
from ..models import SUPPRESSION_REASON_MAX_LENGTH, SuppressionSource
from ..signals import address_suppressed, delivery_failed
from ..state import current_state
from .commit_signals import send_after_commit

if t.TYPE_CHECKING:
    from ..models import OutboxMixin, SuppressionMixin

log = logging.getLogger("flask_mailproof.delivery")


def find_suppression(session: Session, model: type[SuppressionMixin], email: str) -> t.Any:
    """Return the suppression of ``email`` (any spelling of it), or ``None``."""
    return session.scalars(select(model).where(model.email_key == address_key(email))).first()


def cut_reason(text: str) -> str:
    """Return a server's reply or a provider's reason fit to store and show: one line, bounded.

    The text comes from a server we do not control; it may be long or hold control characters.
    """
    cleaned = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return cleaned[:SUPPRESSION_REASON_MAX_LENGTH]


def record_suppression(
    session: Session,
    model: type[SuppressionMixin],
    email: str,
    *,
    reason: str,
    reply_code: int | None,
    source: SuppressionSource,
) -> None:
    """Put ``email`` on the suppression list (or renew its entry) in ``session``; no commit.

    An upsert, so two workers refused at once for one address both succeed; the
    ``address_suppressed`` signal goes out after the commit.
    """
    values = {
        "email": email[:254],
        "email_key": address_key(email),
        "suppressed_at": utcnow(),
        "reply_code": reply_code,
        "reason": cut_reason(reason),
        "source": str(source),
    }
    session.execute(_upsert(session, model, values))
    log.warning("address of a mail suppressed (%s): %s", source, values["reason"])
    send_after_commit(session, address_suppressed, address=email, reason=values["reason"])


def _upsert(session: Session, model: type[SuppressionMixin], values: dict[str, t.Any]) -> t.Any:
    table: t.Any = model.__table__  # type: ignore[attr-defined]
    changed = {k: v for k, v in values.items() if k != "email_key"}
    dialect = session.get_bind().dialect.name
    if dialect in ("mysql", "mariadb"):
        return mysql.insert(table).values(values).on_duplicate_key_update(changed)
    if dialect == "postgresql":
        statement: t.Any = postgresql.insert(table)
    elif dialect == "sqlite":
        statement = sqlite.insert(table)
    else:  # pragma: no cover - the three backends above are the supported ones
        raise NotImplementedError(f"no upsert for {dialect}")
    return statement.values(values).on_conflict_do_update(
        index_elements=["email_key"], set_=changed
    )


def clear_suppression(session: Session, model: type[SuppressionMixin], email: str) -> bool:
    """Take ``email`` off the suppression list in ``session`` (no commit); tell if it was on."""
    result = session.execute(delete(model).where(model.email_key == address_key(email)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def note_failed_delivery(session: Session, row: OutboxMixin, outcome: Exception) -> None:
    """Record what a message's failure for good means; called where delivery marks it failed.

    A refusal of the recipient (a 5xx at RCPT or DATA) suppresses the address; any failure
    sends ``delivery_failed`` after the commit. Runs inside delivery's transaction.
    """
    permanent = isinstance(outcome, PermanentDeliveryError)
    if not has_app_context():
        # The suppression model and the signals' sender are the app's; say so, never stop.
        log.warning("no app context: the failure of mail %s suppressed nobody", row.id)
        return
    if isinstance(outcome, PermanentDeliveryError) and outcome.address_refused:
        # The message reads "550 5.1.1 ..."; the code has its own column.
        reason = str(outcome).removeprefix(str(outcome.reply_code)).strip()
        record_suppression(
            session,
            current_state().models.suppression,
            row.recipient,
            reason=reason,
            reply_code=outcome.reply_code,
            source=SuppressionSource.SMTP,
        )
    send_after_commit(session, delivery_failed, message=row, permanent=permanent)


def mark_undeliverable(address: str, reason: str, permanent: bool = True) -> bool:
    """Record that mail to ``address`` bounced or drew a complaint; commit; tell if suppressed.

    For bounces the mail provider reports after accepting a message (``POST
    /_mailproof/bounce`` does the same). A permanent failure puts the address on the
    suppression list, and its account's pages say so; a temporary one (a full mailbox) is only
    logged: the provider retries those itself.
    """
    return report_bounce(address, reason, permanent=permanent, source=SuppressionSource.API)


def report_bounce(
    address: str,
    reason: str,
    *,
    permanent: bool,
    source: SuppressionSource,
    reply_code: int | None = None,
) -> bool:
    """Do :func:`mark_undeliverable`'s work for ``source``; commit; tell if suppressed."""
    state = current_state()
    if not permanent:
        log.info("temporary bounce reported (%s), nothing suppressed", source)
        return False
    session = state.db.session()
    record_suppression(
        session,
        state.models.suppression,
        address,
        reason=reason,
        reply_code=reply_code,
        source=source,
    )
    session.commit()
    return True
