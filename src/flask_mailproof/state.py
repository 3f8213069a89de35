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
    from .passwords import Passwords
    from .settings import Settings
    from .tokens import Tokens


@dataclasses.dataclass
class MailproofState:
    """Everything built once by ``init_app``; stored in ``app.extensions["mailproof"]``."""

    app: Flask
    settings: Settings
    db: SQLAlchemy
    models: Models
    tokens: Tokens
    passwords: Passwords
    outbox: Outbox
    transport: Transport
    delivery_thread: DeliveryThread | None
    limits: RateLimits


def current_state() -> MailproofState:
    """Return the state of the application in the current app context."""
    return t.cast("MailproofState", current_app.extensions["mailproof"])
