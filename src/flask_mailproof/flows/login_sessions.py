"""The server-side record of each login: start one, find the account a cookie names, end one.

The session cookie and the remember-me cookie both carry the Flask-Login id
``"<id>:<stamp>:<secret>"``. The secret is random per login and the database keeps only its
digest, so a cookie works only while its login's row exists: logout deletes that row, and a
rotated stamp (with :func:`~.accounts.rotate_session_stamp`) deletes every row of the account.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import secrets
import typing as t

from sqlalchemy import Select, bindparam, delete, func, select

from ..clock import utcnow
from ..models import Models, UserMixin
from ..state import current_state
from ..tokens import same
from .accounts import rotate_session_stamp

log = logging.getLogger("flask_mailproof.login_sessions")


def secret_digest(secret: str) -> str:
    """Return what the database keeps of a login secret: its SHA-256, hex.

    The secret is 256 random bits, so a plain hash cannot be reversed; a leaked table names
    no cookie.
    """
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def start_login_session(user: UserMixin) -> None:
    """Record a new login of ``user`` and bind its secret to ``user.get_id()``; commits.

    The account's expired records go on the way, so an account that keeps logging in does not
    pile up dead rows (``flask mailproof purge-logins`` clears the rest). They are found by a
    plain read and deleted by primary key: a ``DELETE ... WHERE user_id = ...`` takes gap locks
    on InnoDB, and concurrent logins of one account, each inserting its row into that gap,
    deadlocked (MariaDB answered 1213 to most of them).
    """
    state = current_state()
    model: t.Any = state.models.login_session
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    is_expired = model.expires_at <= now
    expired = state.db.session.scalars(
        select(model.id).where(model.user_id == user.id, is_expired)
    ).all()
    if expired:
        # Checked again: another login may have deleted these rows, and SQLite gives a freed
        # id to the next row, which may be that login's own.
        state.db.session.execute(delete(model).where(model.id.in_(sorted(expired)), is_expired))
    state.db.session.add(
        model(
            user_id=user.id,
            secret_digest=secret_digest(secret),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=state.settings.login_max_age),
        )
    )
    state.db.session.commit()
    user.bind_login(secret)


def find_logged_in_user(session_id: str) -> UserMixin | None:
    """Return the account a cookie's Flask-Login id names, if that login is still live.

    One query finds the account and its login record together; the stamp is then compared in
    constant time. Ids without a secret (from before login records) are refused.
    """
    parts = session_id.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1] or not parts[2]:
        return None
    user_id, stamp, secret = parts
    state = current_state()
    query = _live_login_query(state.models)
    values = {"user_id": int(user_id), "digest": secret_digest(secret), "now": utcnow()}
    user = state.db.session.scalars(query, values).first()
    if user is None or not same(user.session_stamp, stamp):
        return None
    user.bind_login(secret)
    return user


@functools.cache
def _live_login_query(models: Models) -> Select[UserMixin]:
    """Build the loader's query once per set of models: every authenticated request runs it,
    and building the expression cost about as much as running it (measured on SQLite)."""
    user_model, model = models.user, models.login_session
    return (
        select(user_model)
        .join(model, model.user_id == user_model.id)
        .where(
            user_model.id == bindparam("user_id"),
            model.secret_digest == bindparam("digest"),
            model.expires_at > bindparam("now"),
        )
    )


def end_login_session(user: UserMixin) -> None:
    """Delete the record of the login ``user`` was loaded for; its cookies die with it. Commits."""
    if not user.login_secret:
        return
    state = current_state()
    model = state.models.login_session
    state.db.session.execute(
        delete(model).where(
            model.user_id == user.id, model.secret_digest == secret_digest(user.login_secret)
        )
    )
    state.db.session.commit()


def end_every_login_session(user: UserMixin) -> None:
    """Log ``user`` out on every device: rotate the stamp, delete every login record. Commits."""
    rotate_session_stamp(user)
    current_state().db.session.commit()
    log.info("every login of user %s ended", user.id, extra={"account_id": user.id})


def purge_expired_login_sessions(*, dry_run: bool) -> int:
    """Delete the records of logins past their lifetime; return how many there were."""
    state = current_state()
    model = state.models.login_session
    expired = model.expires_at <= utcnow()
    if dry_run:
        return int(state.db.session.scalar(select(func.count()).where(expired)) or 0)
    result = state.db.session.execute(delete(model).where(expired))
    state.db.session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]
