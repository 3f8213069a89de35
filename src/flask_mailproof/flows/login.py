"""Check a password and keep its hash up to date."""

from __future__ import annotations

import logging

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import InvalidAddress, InvalidCredentials
from ..models import UserMixin
from ..signals import user_logged_in
from ..state import current_state
from .accounts import find_user_by_address

log = logging.getLogger("flask_mailproof.login")


def authenticate(email: str, password: str) -> UserMixin:
    """Return the account ``email`` and ``password`` name, recording the login.

    An unknown address costs one password hash too, so the time taken tells nothing. A hash
    made with older parameters is replaced. Logging in changes ``last_login_at``, which every
    outstanding reset link is bound to.

    :raises InvalidCredentials: for a wrong password and for an unknown address alike.
    """
    state = current_state()
    try:
        user = find_user_by_address(parse_address(email).email)
    except InvalidAddress:
        user = None
    password_hash = user.password_hash if user is not None else None
    if not state.passwords.verify(password_hash, password) or user is None:
        log.info("failed login for %s", f"user {user.id}" if user is not None else "no account")
        raise InvalidCredentials()
    if state.passwords.needs_rehash(password_hash or ""):
        user.password_hash = state.passwords.hash(password)
    user.last_login_at = utcnow()
    state.db.session.commit()
    log.info("user %s logged in", user.id)
    user_logged_in.send(state.app, user=user)
    return user
