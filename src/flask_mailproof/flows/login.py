"""Check a password, slow down and lock guessing, and keep the hash up to date."""

from __future__ import annotations

from ..addresses import parse_address
from ..clock import utcnow
from ..errors import InvalidAddress, InvalidCredentials, RateLimited
from ..limits import FAILURES_PER_ADDRESS, attempt_key
from ..logs import auth_logger
from ..models import UserMixin
from ..signals import user_logged_in
from ..state import current_state
from .accounts import find_user

log = auth_logger("flask_mailproof.login")


def authenticate(email: str, password: str) -> UserMixin:
    """Return the account ``email`` and ``password`` name, recording the login.

    An unknown address costs one password hash too, so the time taken tells nothing. Failures
    count per typed address, known or not, so a lock tells nothing either; once the address
    is locked no password is checked until the lock ends. A hash made with older parameters
    is replaced. Logging in changes ``last_login_at``, which every outstanding reset link is
    bound to.

    :raises InvalidCredentials: for a wrong password, an unknown address and an account
        without a password alike.
    :raises RateLimited: too many failures for this address lately.
    """
    state = current_state()
    try:
        user = find_user(parse_address(email))
    except InvalidAddress:
        user = None
    who = f"user {user.id}" if user is not None else "no account"
    account = {"account_id": user.id} if user is not None else None
    key = attempt_key(email)
    wait = state.limits.test(FAILURES_PER_ADDRESS, key)
    if wait is not None:
        log.warning(
            "login refused for %s: locked for %ss after failed logins", who, wait, extra=account
        )
        raise RateLimited(wait)
    # No account, or one without a password (it signs in by mail): verify() spends a dummy
    # hash and says no, so the answer, its time and the failure it counts are a wrong
    # password's, and nobody learns which addresses have an account or a password.
    password_hash = user.password_hash if user is not None else None
    if not state.passwords.verify(password_hash, password) or user is None:
        log.info("failed login for %s", who, extra=account)
        state.limits.count_failure(FAILURES_PER_ADDRESS, key)
        if state.limits.is_locked(FAILURES_PER_ADDRESS, key):
            log.warning("login locked for %s after repeated failures", who, extra=account)
        raise InvalidCredentials()
    if state.passwords.needs_rehash(password_hash or ""):
        user.password_hash = state.passwords.hash(password)
    user.last_login_at = utcnow()
    state.db.session.commit()
    log.info("user %s logged in", user.id, extra={"account_id": user.id})
    user_logged_in.send(state.app, user=user, method="password")
    return user


def unlock_login(user: UserMixin) -> None:
    """Lift the failed-login lock on ``user``'s address; a completed password reset calls this.

    Proving control of the mailbox is what the lock waits for, so a reset ends it early.
    """
    current_state().limits.clear(FAILURES_PER_ADDRESS, user.email_key)
    log.info("login unlocked for user %s", user.id, extra={"account_id": user.id})
