"""What the extension keeps per application, and how flows reach it."""

from __future__ import annotations

import dataclasses
import typing as t

from flask import current_app

if t.TYPE_CHECKING:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    from .limits import RateLimits
    from .mail.outbox import Outbox
    from .mail.transports import Transport
    from .mail.worker import DeliveryThread
    from .models import Models
    from .operations.health import HealthCheck
    from .operations.metrics import MailproofMetrics
    from .passwords import Passwords
    from .schema import SchemaCheck
    from .settings import Settings
    from .tokens import Tokens


@dataclasses.dataclass
class MailproofState:
    """Everything built once by ``init_app``; stored in ``app.extensions["mailproof"]``."""

    app: Flask
    settings: Settings
    #: What every mailed link starts with: ``MAILPROOF_BASE_URL``, or in debug without one the
    #: development server's address, found once at start-up.
    link_root: str
    db: SQLAlchemy
    models: Models
    tokens: Tokens
    passwords: Passwords
    outbox: Outbox
    transport: Transport
    delivery_thread: DeliveryThread | None
    limits: RateLimits
    #: Whether the tables exist; the pages and the delivery thread wait for them.
    schema: SchemaCheck
    #: What ``GET /_mailproof/health`` (``MAILPROOF_HEALTH_PATH``) reports.
    health: HealthCheck
    #: The Prometheus metrics, when ``MAILPROOF_METRICS_PATH`` or a registry turned them on.
    metrics: MailproofMetrics | None = None


def current_state() -> MailproofState:
    """Return the state of the application in the current app context."""
    return t.cast("MailproofState", current_app.extensions["mailproof"])
