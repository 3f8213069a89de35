"""Named rate limits, counted in Flask-Limiter's storage: per client IP and per address.

The extension sets up Flask-Limiter (or reuses the application's), so its settings hold here
too: ``RATELIMIT_ENABLED``, ``RATELIMIT_STORAGE_URI`` (else ``REDIS_URL``, else memory),
``RATELIMIT_STRATEGY``, ``RATELIMIT_KEY_PREFIX``. The rules themselves are the
``MAILPROOF_LIMIT_*`` settings; nothing here reads the request, so flows may count too.
"""

from __future__ import annotations

import logging
import math
import time
import typing as t

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many

from .addresses import address_key, parse_address
from .errors import InvalidAddress
from .signals import rate_limited

if t.TYPE_CHECKING:
    from flask import Flask

    from .settings import Settings

log = logging.getLogger("flask_mailproof.limits")

#: Prefix of every key this extension counts under, inside Flask-Limiter's own prefix.
_NAMESPACE = "mailproof"

#: The rule counting failed logins per typed address (``MAILPROOF_LIMIT_LOGIN_FAILURES_...``).
FAILURES_PER_ADDRESS = "login_failures_per_address"


def limiter_for(app: Flask) -> Limiter:
    """Return the application's Flask-Limiter, setting one up if it has none."""
    existing: set[Limiter] = app.extensions.get("limiter") or set()
    if existing:
        return next(iter(existing))
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL")
    return Limiter(get_remote_address, app=app, storage_uri=storage or "memory://")


def attempt_key(email: str) -> str:
    """Return what one address counts under: its uniqueness key, so case and width variants
    of one address share a count; input that is no address at all counts as typed."""
    try:
        return parse_address(email).key
    except InvalidAddress:
        return address_key(email.strip())


class RateLimits:
    """Count events against the named rules and say how long to wait once one is used up.

    :param limiter: the application's Flask-Limiter; its storage and strategy are used.
    :param rules: rule name (``"resend_per_address"``) to Flask-Limiter notation.
    :param key_prefix: ``RATELIMIT_KEY_PREFIX``, so several sites can share one Redis.
    :param swallow_errors: ``RATELIMIT_SWALLOW_ERRORS``: when the storage fails, log and let
        the request pass instead of failing it.
    """

    def __init__(
        self,
        limiter: Limiter,
        rules: t.Mapping[str, str],
        key_prefix: str = "",
        *,
        swallow_errors: bool = False,
    ) -> None:
        self._limiter = limiter
        self._rules = {name: parse_many(rule) if rule else [] for name, rule in rules.items()}
        self._prefix = key_prefix
        self._swallow_errors = swallow_errors

    @classmethod
    def for_app(cls, app: Flask, settings: Settings) -> RateLimits:
        """Build the limits of ``app`` from its settings and Flask-Limiter."""
        return cls(
            limiter_for(app),
            settings.rate_limits(),
            str(app.config.get("RATELIMIT_KEY_PREFIX") or ""),
            swallow_errors=bool(app.config.get("RATELIMIT_SWALLOW_ERRORS", False)),
        )

    @property
    def enabled(self) -> bool:
        """Whether limits apply (``RATELIMIT_ENABLED``, on by default)."""
        return bool(self._limiter.enabled and self._limiter.initialized)

    def _items(self, name: str) -> list[RateLimitItem]:
        return self._rules[name] if self.enabled else []

    def _identifiers(self, name: str, key: str) -> tuple[str, ...]:
        return (self._prefix, _NAMESPACE, name, key)

    def _wait(self, ids: tuple[str, ...], spent: list[RateLimitItem]) -> int | None:
        if not spent:
            return None
        strategy = self._limiter.limiter
        reset_at = max(strategy.get_window_stats(item, *ids).reset_time for item in spent)
        return max(1, math.ceil(reset_at - time.time()))

    def test(self, name: str, key: str) -> int | None:
        """Return the seconds to wait if rule ``name`` is used up for ``key``; count nothing.

        A wait means the caller refuses the request: ``rate_limited`` is sent.
        """
        return self._reported(name, self._check(name, key, count=False))

    def hit(self, name: str, key: str) -> int | None:
        """Count one event for ``key``; return the seconds to wait if that was one too many.

        A wait means the caller refuses the request: ``rate_limited`` is sent.
        """
        return self._reported(name, self._check(name, key, count=True))

    def count_failure(self, name: str, key: str) -> None:
        """Count a failure (a wrong password) for ``key`` against rule ``name``.

        The failed request was refused for its failure, not by the limit, so nothing is
        reported here; the next request that the lock refuses is.
        """
        self._check(name, key, count=True)

    def is_locked(self, name: str, key: str) -> bool:
        """Tell whether rule ``name`` is used up for ``key``, without reporting a refusal."""
        return self._check(name, key, count=False) is not None

    def _reported(self, name: str, wait: int | None) -> int | None:
        if wait is not None:
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            rate_limited.send(app, limit=name, retry_after=wait)
        return wait

    def _check(self, name: str, key: str, *, count: bool) -> int | None:
        items = self._items(name)
        if not items:
            return None
        ids = self._identifiers(name, key)
        strategy = self._limiter.limiter
        check = strategy.hit if count else strategy.test
        try:
            # Every rule counts the event, even once one of them refuses it.
            return self._wait(ids, [item for item in items if not check(item, *ids)])
        except Exception:
            # Flask-Limiter's choice when its storage fails: an error, or let the request pass.
            if not self._swallow_errors:
                raise
            log.exception("rate-limit storage failed; %s not limited", name)
            return None

    def allow_address(self, name: str, email: str) -> bool:
        """Count a request about ``email`` against ``<name>_per_address``; tell if it may go on.

        For flows whose answer must not reveal an account (resend, reset, email change): over
        the limit they give the usual answer and skip the work, so no mail goes out.
        """
        return self.hit(f"{name}_per_address", attempt_key(email)) is None

    def clear(self, name: str, key: str) -> None:
        """Forget what rule ``name`` counted for ``key``."""
        for item in self._items(name):
            self._limiter.limiter.clear(item, *self._identifiers(name, key))
