"""The rules both front ends apply at the door: limits per client, failure counting, the gate.

The HTML views and the JSON API answer differently (a page, a JSON error) but must refuse the
same requests; each rule lives here once, so a new endpoint cannot forget one::

    limit_ip("reset")                        # over MAILPROOF_LIMIT_RESET_PER_IP: RateLimited
    with counting_failures(user.email):      # a wrong password or code counts as a failed login
        change_password(user, current, new)

Silent per-address limits (resend, reset, email change), whose answer must not change, are
counted inside their flows, which read no request.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

from flask import request

from .clock import utcnow
from .errors import CodeInvalid, InvalidCredentials, RateLimited
from .limits import FAILURES_PER_ADDRESS, attempt_key
from .sessions import mailbox_proven_within
from .state import current_state

#: The rule counting failed logins (wrong passwords and codes) per client IP.
FAILURES_PER_IP = "login_failures_per_ip"


def client_ip() -> str:
    """Return the address limits count by: the peer, or what ProxyFix set from the proxy."""
    return request.remote_addr or "unknown"


def check_ip(name: str) -> None:
    """Count nothing, but refuse if ``<name>_per_ip`` is used up for this client.

    :raises RateLimited: with the seconds to wait.
    """
    wait = current_state().limits.test(f"{name}_per_ip", client_ip())
    if wait is not None:
        raise RateLimited(wait)


def limit_ip(name: str) -> None:
    """Count this request against ``<name>_per_ip``.

    :raises RateLimited: this request was one too many.
    """
    wait = current_state().limits.hit(f"{name}_per_ip", client_ip())
    if wait is not None:
        raise RateLimited(wait)


def limit_address(name: str, email: str) -> None:
    """Count this request against ``<name>_per_address``, where a refusal reveals nothing.

    :raises RateLimited: this request was one too many.
    """
    wait = current_state().limits.hit(f"{name}_per_address", attempt_key(email))
    if wait is not None:
        raise RateLimited(wait)


@contextlib.contextmanager
def counting_failures(email: str | None = None) -> t.Iterator[None]:
    """Refuse a client (or address) over its failed-login limit; count a wrong password or code.

    Every endpoint that checks a password or a code runs it inside this, in both front ends:
    a stolen session must not guess the current password on a form that forgets to count, and a
    6-digit code must not be guessable by asking for code after code from one client.

    :param email: the address whose lock applies too (the logged-in account's, or the one a
        code was asked for); login passes none, since :func:`.flows.login.authenticate`
        counts per typed address itself, before it checks the password.
    :raises RateLimited: the client or the address is locked; nothing was checked.
    """
    limits = current_state().limits
    ip = client_ip()
    key = attempt_key(email) if email is not None else None
    waits = [limits.test(FAILURES_PER_IP, ip)]
    if key is not None:
        waits.append(limits.test(FAILURES_PER_ADDRESS, key))
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        raise RateLimited(wait)
    try:
        yield
    except (InvalidCredentials, CodeInvalid):
        limits.count_failure(FAILURES_PER_IP, ip)
        if key is not None:
            limits.count_failure(FAILURES_PER_ADDRESS, key)
        raise


def fresh_mailbox_proof() -> bool:
    """Tell whether this login began by an emailed link or code within
    ``MAILPROOF_FRESH_LOGIN_MAX_AGE``: what an account without a password shows instead of one.
    """
    return mailbox_proven_within(current_state().settings.fresh_login_max_age)


def passes_confirmation_gate(user: t.Any) -> bool:
    """Tell whether a logged-in ``user`` may use confirmed-only views and endpoints now."""
    if user.confirmed_at is not None:
        return True
    grace = current_state().settings.unconfirmed_grace
    return grace > 0 and utcnow() < user.registered_at + dt.timedelta(seconds=grace)
