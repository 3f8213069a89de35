"""What an operator does with stored contact messages: count, list, purge the never verified."""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import delete, func, select

from ..claims import Purpose
from ..clock import utcnow
from ..logs import auth_logger
from ..models import ContactMessageMixin, ContactStatus
from ..state import current_state

log = auth_logger("flask_mailproof.contact")


@dataclasses.dataclass(frozen=True)
class ContactCounts:
    """How many contact messages are in each state."""

    pending: int
    #: Of :attr:`pending`, those whose link has expired: they wait for the purge only.
    pending_expired: int
    verified: int
    delivered: int


def count_contact_messages() -> ContactCounts:
    """Count the stored contact messages by status."""
    state = current_state()
    model = state.models.contact_message
    counted = select(model.status, func.count()).group_by(model.status)
    by_status: dict[str, int] = dict(state.db.session.execute(counted).all())
    live_since = utcnow() - dt.timedelta(seconds=state.tokens.max_age(Purpose.CONTACT))
    # A link works up to its max_age and dies after it (itsdangerous: age > max_age).
    expired = state.db.session.scalar(
        select(func.count()).where(
            model.status == ContactStatus.PENDING, model.created_at < live_since
        )
    )
    return ContactCounts(
        pending=by_status.get(ContactStatus.PENDING, 0),
        pending_expired=expired or 0,
        verified=by_status.get(ContactStatus.VERIFIED, 0),
        delivered=by_status.get(ContactStatus.DELIVERED, 0),
    )


def list_contact_messages(limit: int, status: str | None) -> list[ContactMessageMixin]:
    """Return the newest ``limit`` contact messages, of one ``status`` unless it is None."""
    state = current_state()
    model = state.models.contact_message
    query = select(model).order_by(model.created_at.desc(), model.id.desc()).limit(limit)
    if status is not None:
        query = query.where(model.status == status)
    return list(state.db.session.scalars(query))


@dataclasses.dataclass(frozen=True)
class PurgedContactMessage:
    id: int
    email: str
    created_at: dt.datetime


def purge_contact_messages(
    older_than_days: int | None, *, dry_run: bool
) -> list[PurgedContactMessage]:
    """Delete messages never verified and written more than ``older_than_days`` ago.

    :param older_than_days: defaults to ``MAILPROOF_CONTACT_PURGE_DAYS``.
    """
    state = current_state()
    days = state.settings.contact_purge_days if older_than_days is None else older_than_days
    if days < 0:
        raise ValueError("older_than_days must not be negative")
    model = state.models.contact_message
    cutoff = utcnow() - dt.timedelta(days=days)
    stale = (model.status == ContactStatus.PENDING, model.created_at < cutoff)
    rows = state.db.session.scalars(select(model).where(*stale).order_by(model.id))
    purged = [PurgedContactMessage(r.id, r.email, r.created_at) for r in rows]
    if dry_run or not purged:
        return purged
    # The same condition again: a message released meanwhile is not deleted.
    state.db.session.execute(
        delete(model).where(*stale), execution_options={"synchronize_session": False}
    )
    state.db.session.commit()
    log.info("purged %d never-verified contact message(s)", len(purged))
    return purged
