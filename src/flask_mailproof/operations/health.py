"""The health check: is the database reachable, is mail going out, is Redis there.

Read-only and cheap (one indexed query and one Redis ``PING``), so a load balancer may call it
every second. Only what this process cannot serve without makes it unhealthy:

- the database unreachable: no page and no flow works;
- mail stuck: the oldest due message has waited longer than ``MAILPROOF_HEALTH_MAX_OUTBOX_AGE``
  (no worker is delivering, or the relay refuses everything), so nobody can sign up for real.

Redis down is reported but healthy: the rate limiter then does what Flask-Limiter is told
(``RATELIMIT_SWALLOW_ERRORS``, ``RATELIMIT_IN_MEMORY_FALLBACK``) and Celery's wake-up calls
are caught up by the sweep. Redis is shared by every web server, so failing them all for it
would turn a degraded site into a site that is down.
"""

from __future__ import annotations

import dataclasses
import typing as t

from sqlalchemy.exc import SQLAlchemyError

from ..clock import utcnow
from .outbox_figures import OutboxFigures, end_read, outbox_figures

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

    from ..models import OutboxMixin

#: Seconds the Redis probe waits to connect or for its answer: a health check must answer
#: quickly even when Redis is unreachable without an answer.
REDIS_TIMEOUT = 0.5


class RedisProbe:
    """Ping the Redis at ``url`` (none: not configured) over one pooled client."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self._client: t.Any = None

    def status(self) -> str:
        """Return ``"ok"``, ``"unreachable"`` or ``"not configured"``."""
        if not self.url:
            return "not configured"
        try:
            if self._client is None:
                self._client = _redis_client(self.url)
            self._client.ping()
        except Exception:  # redis's errors, a refused socket, a bad URL: all "unreachable"
            return "unreachable"
        return "ok"


def _redis_client(url: str) -> t.Any:
    # redis is an optional dependency (the ``redis`` and ``celery`` extras): only a site that
    # configured a Redis URL, and so installed it, imports it.
    import redis

    return redis.Redis.from_url(
        url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )


def redis_url(config: t.Mapping[str, t.Any]) -> str | None:
    """Return the Redis the site depends on: ``REDIS_URL``, else the rate limiter's storage
    when that is a Redis."""
    url = config.get("REDIS_URL")
    if url:
        return str(url)
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "")
    return storage if storage.startswith(("redis://", "rediss://", "unix://")) else None


@dataclasses.dataclass(frozen=True)
class HealthReport:
    """What one health check found; :meth:`as_json` is the endpoint's answer."""

    #: ``"ok"`` or ``"unreachable"``.
    database: str
    #: ``None`` when the database could not be read.
    outbox: OutboxFigures | None
    #: ``"ok"``, ``"unreachable"`` or ``"not configured"``.
    redis: str
    #: One sentence per problem found, for the person paged.
    problems: tuple[str, ...]
    #: Whether the site can serve: the database answers and mail is not stuck.
    healthy: bool

    @property
    def status(self) -> str:
        """``"ok"``; ``"degraded"`` (a problem that leaves the site serving); ``"failing"``."""
        if not self.healthy:
            return "failing"
        return "degraded" if self.problems else "ok"

    def as_json(self) -> dict[str, t.Any]:
        return {
            "status": self.status,
            "database": self.database,
            "outbox": None if self.outbox is None else dataclasses.asdict(self.outbox),
            "redis": self.redis,
            "problems": list(self.problems),
        }


class HealthCheck:
    """Check the database, the outbox and Redis of one application; writes nothing."""

    def __init__(
        self,
        db: SQLAlchemy,
        outbox_model: type[OutboxMixin],
        redis: RedisProbe,
        *,
        max_outbox_age: int,
    ) -> None:
        self._db = db
        self._outbox_model = outbox_model
        self._redis = redis
        self._max_outbox_age = max_outbox_age

    def run(self) -> HealthReport:
        """Check everything now (inside an app context)."""
        problems = []
        session = self._db.session()
        try:
            figures: OutboxFigures | None = outbox_figures(session, self._outbox_model, utcnow())
            database = "ok"
        except SQLAlchemyError as exc:
            # The class only: a driver's message can name hosts and users.
            figures, database = None, "unreachable"
            problems.append(f"database unreachable ({type(exc).__name__})")
        finally:
            # End the read now; it holds no lock, but a pooled connection should not idle in
            # a transaction until the request's teardown.
            end_read(session)
        stuck = False
        if figures is not None and figures.oldest_due_seconds > self._max_outbox_age:
            stuck = True
            problems.append(
                f"mail is stuck: the oldest due message has waited "
                f"{figures.oldest_due_seconds:.0f} s (more than {self._max_outbox_age} s)"
            )
        redis = self._redis.status()
        if redis == "unreachable":
            problems.append("redis unreachable: rate limits and Celery hand-offs degrade")
        return HealthReport(
            database=database,
            outbox=figures,
            redis=redis,
            problems=tuple(problems),
            healthy=database == "ok" and not stuck,
        )
