"""Prometheus metrics, counted from the extension's signals (needs ``prometheus-client``).

Every count comes from a signal sent after the commit that made it true, so the metrics agree
with the database; only the outbox's depth is read at scrape time, by two indexed queries.
Under a multi-process server (gunicorn) set ``PROMETHEUS_MULTIPROC_DIR``: each process then
writes its counts to files there, and a scrape of any process adds up every process's, as
``prometheus_client``'s multiprocess mode documents (``docs/deploy.md``).
"""

from __future__ import annotations

import logging
import os
import typing as t

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from ..clock import utcnow
from ..errors import ConfigurationError
from ..signals import (
    delivery_attempted,
    email_confirmed,
    mail_queued,
    rate_limited,
    user_registered,
)
from ..state import current_state
from .outbox_figures import end_read, outbox_depth, outbox_figures

if t.TYPE_CHECKING:
    import datetime as dt

    from flask import Flask
    from prometheus_client import Metric

    from ..models import OutboxMixin

log = logging.getLogger("flask_mailproof.metrics")

#: The environment variable ``prometheus_client`` reads to count across processes.
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"

#: Seconds from writing a mail to the server accepting it: most go within a second or two, a
#: slow relay takes tens of seconds, retries minutes to hours.
DELIVERY_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 6 * 3600, 86400)
#: Seconds from signing up to confirming: people click within minutes, or hours, or a day.
CONFIRMATION_BUCKETS = (10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400, 259200)


class MailproofMetrics:
    """The extension's metrics for ``app``, on ``registry`` (a private one if none is given).

    :param registry: the host's registry (``prometheus_client.REGISTRY``) for a host that
        exports its own metrics; one application per registry.
    """

    def __init__(self, app: Flask, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        on = self.registry
        self.mails_written = Counter(
            "mailproof_mails_written", "Mails written to the outbox.", ["kind"], registry=on
        )
        self.mails_sent = Counter(
            "mailproof_mails_sent", "Mails the SMTP server accepted.", ["kind"], registry=on
        )
        self.mails_retried = Counter(
            "mailproof_mails_retried",
            "Delivery attempts that failed temporarily; the mail is tried again.",
            ["kind", "reason"],
            registry=on,
        )
        self.mails_failed = Counter(
            "mailproof_mails_failed", "Mails failed for good.", ["kind", "reason"], registry=on
        )
        self.delivery_seconds = Histogram(
            "mailproof_mail_delivery_seconds",
            "Seconds from writing a mail to the SMTP server accepting it.",
            ["kind"],
            buckets=DELIVERY_BUCKETS,
            registry=on,
        )
        self.signups = Counter("mailproof_signups", "Accounts created.", registry=on)
        self.confirmations = Counter("mailproof_confirmations", "Addresses confirmed.", registry=on)
        self.confirmation_seconds = Histogram(
            "mailproof_confirmation_delay_seconds",
            "Seconds from signing up to confirming the address.",
            buckets=CONFIRMATION_BUCKETS,
            registry=on,
        )
        self.rate_limited = Counter(
            "mailproof_rate_limited",
            "Requests a rate limit refused (or whose mail it skipped), by limit.",
            ["limit"],
            registry=on,
        )
        self.outbox = OutboxCollector(app)
        self.registry.register(self.outbox)
        self._connect(app)

    def _connect(self, app: Flask) -> None:
        # Strong references: these bound methods would otherwise be collected at once.
        mail_queued.connect(self._mail_queued, sender=app, weak=False)
        delivery_attempted.connect(self._delivery_attempted, sender=app, weak=False)
        user_registered.connect(self._user_registered, sender=app, weak=False)
        email_confirmed.connect(self._email_confirmed, sender=app, weak=False)
        rate_limited.connect(self._rate_limited, sender=app, weak=False)

    def _mail_queued(self, sender: Flask, *, kind: str, **extra: t.Any) -> None:
        self.mails_written.labels(kind).inc()

    def _delivery_attempted(
        self,
        sender: Flask,
        *,
        message: OutboxMixin,
        outcome: str,
        reason: str | None,
        recorded_at: dt.datetime,
        **extra: t.Any,
    ) -> None:
        if outcome == "sent":
            self.mails_sent.labels(message.kind).inc()
            waited = (recorded_at - message.created_at).total_seconds()
            self.delivery_seconds.labels(message.kind).observe(max(waited, 0.0))
        elif outcome == "retry":
            self.mails_retried.labels(message.kind, reason or "other").inc()
        else:
            self.mails_failed.labels(message.kind, reason or "other").inc()

    def _user_registered(self, sender: Flask, **extra: t.Any) -> None:
        self.signups.inc()

    def _email_confirmed(self, sender: Flask, *, user: t.Any, **extra: t.Any) -> None:
        self.confirmations.inc()
        confirmed_at = user.confirmed_at or utcnow()
        delay = (confirmed_at - user.registered_at).total_seconds()
        self.confirmation_seconds.observe(max(delay, 0.0))

    def _rate_limited(self, sender: Flask, *, limit: str, **extra: t.Any) -> None:
        self.rate_limited.labels(limit).inc()

    def exposition(self) -> tuple[bytes, str]:
        """Return the text a scrape gets, and its content type.

        In multiprocess mode every process's counts, added up from the files, plus the outbox
        read now; otherwise this process's registry.
        """
        if not os.environ.get(MULTIPROC_DIR):
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(self.outbox)
        return generate_latest(registry), CONTENT_TYPE_LATEST


class OutboxCollector(Collector):
    """Read the outbox's depth by status, and how long its oldest due mail has waited, when
    scraped; a scrape while the database is away leaves them out."""

    def __init__(self, app: Flask) -> None:
        self._app = app

    def describe(self) -> list[Metric]:
        # Named without a query: registering must not need the database (or its tables).
        return [_depth_family(), _oldest_family()]

    def collect(self) -> list[Metric]:
        # An app context of its own: a host's exporter may scrape from another thread.
        with self._app.app_context():
            state = current_state()
            session = state.db.session()
            try:
                depth = outbox_depth(session, state.models.outbox)
                figures = outbox_figures(session, state.models.outbox, utcnow())
            except SQLAlchemyError:
                log.warning("outbox metrics left out: the database did not answer")
                return []
            finally:
                end_read(session)
        family = _depth_family()
        for status, count in depth.items():
            family.add_metric([status], count)
        oldest = _oldest_family()
        oldest.add_metric([], figures.oldest_due_seconds)
        return [family, oldest]


def _depth_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "mailproof_outbox_messages",
        "Outbox messages not yet sent, by status (pending, claimed, failed).",
        labels=["status"],
    )


def _oldest_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "mailproof_outbox_oldest_due_seconds",
        "Seconds the oldest due outbox message has waited; 0 when none is due.",
    )


def check_multiprocess_dir() -> None:
    """Refuse to start when ``PROMETHEUS_MULTIPROC_DIR`` names no directory.

    :raises ConfigurationError: ``prometheus_client`` would fail on the first count instead.
    """
    path = os.environ.get(MULTIPROC_DIR)
    if path and not os.path.isdir(path):
        raise ConfigurationError(
            f"{MULTIPROC_DIR}={path!r} is not a directory; create it (empty) before the "
            "server starts, as gunicorn.conf.py does."
        )
