"""Operator actions behind ``flask mailproof``: admins, listings, purging stale accounts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import select

from ..addresses import parse_address
from ..clock import utcnow
from ..models import UserMixin
from ..signals import unconfirmed_user_purged
from ..state import current_state
from .accounts import find_user, rotate_session_stamp

log = logging.getLogger("flask_mailproof.administration")


def create_admin(email: str, password: str) -> UserMixin:
    """Create a confirmed administrator, or promote and re-password the existing account.

    An existing account's sessions and remember-me cookies end, as after a password change or
    a reset: an operator who re-passwords an account may be taking it back from someone.

    :raises InvalidAddress, PasswordRejected: as for registration.
    """
    state = current_state()
    address = parse_address(email)
    state.passwords.check_policy(password, user_inputs=(address.email,))
    user = find_user(address)
    now = utcnow()
    if user is None:
        # Registered and confirmed in one instant; the stamp and counters start as any
        # account's do (the model's defaults).
        user = state.models.user(email=address.email, email_key=address.key, registered_at=now)
        state.db.session.add(user)
    else:
        rotate_session_stamp(user)
    user.password_hash = state.passwords.hash(password)
    user.is_admin = True
    user.confirmed_at = user.confirmed_at or now
    state.db.session.commit()
    log.info("user %s is an administrator", user.id, extra={"account_id": user.id})
    return user


def list_users(limit: int | None) -> list[UserMixin]:
    """Return the newest ``limit`` accounts (all of them for None), newest first."""
    state = current_state()
    model = state.models.user
    query = select(model).order_by(model.registered_at.desc(), model.id.desc()).limit(limit)
    return list(state.db.session.scalars(query))


@dataclasses.dataclass(frozen=True)
class PurgedAccount:
    user_id: int
    email: str
    registered_at: dt.datetime


def purge_unconfirmed(older_than_days: int, *, dry_run: bool) -> list[PurgedAccount]:
    """Delete accounts never confirmed and registered more than ``older_than_days`` ago.

    Their addresses become free to register again; ``unconfirmed_user_purged`` is sent for
    each deleted account.
    """
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    state = current_state()
    model = state.models.user
    cutoff = utcnow() - dt.timedelta(days=older_than_days)
    query = select(model).where(model.confirmed_at.is_(None), model.registered_at < cutoff)
    users = list(state.db.session.scalars(query.order_by(model.id)))
    purged = [PurgedAccount(u.id, u.email, u.registered_at) for u in users]
    if dry_run:
        return purged
    for user in users:
        state.db.session.delete(user)
    state.db.session.commit()
    for account in purged:
        log.info(
            "purged never-confirmed user %s", account.user_id, extra={"account_id": account.user_id}
        )
        unconfirmed_user_purged.send(state.app, user_id=account.user_id, email=account.email)
    return purged
