"""The web side's rate limits, answered in the API's shape (429 ``rate_limited``)."""

from __future__ import annotations

import contextlib
import typing as t

from ..errors import CodeInvalid, InvalidCredentials, RateLimited
from ..web.limits import address_allowed, address_wait, check_ip, count_ip

__all__ = ["address_allowed", "counting_failures", "limit_address", "limit_ip"]


def limit_ip(name: str) -> None:
    """Count this request against ``<name>_per_ip``.

    :raises RateLimited: over the limit.
    """
    wait = count_ip(name)
    if wait is not None:
        raise RateLimited(wait)


def limit_address(name: str, email: str) -> None:
    """Count this request against ``<name>_per_address`` where a 429 reveals nothing.

    :raises RateLimited: over the limit.
    """
    wait = address_wait(name, email)
    if wait is not None:
        raise RateLimited(wait)


@contextlib.contextmanager
def counting_failures() -> t.Iterator[None]:
    """Refuse a client over its failed-login limit, and count a wrong password or code.

    Wrong codes count like wrong passwords: a 6-digit code must not be guessable by asking
    for code after code from one client.
    """
    check_ip("login_failures")
    try:
        yield
    except (InvalidCredentials, CodeInvalid):
        count_ip("login_failures")
        raise
