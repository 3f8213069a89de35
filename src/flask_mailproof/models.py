"""SQLAlchemy mixins for the user columns and the outbox, and the bundled default models.

A host application either lets :func:`define_models` create everything on its own
Flask-SQLAlchemy ``db``, or brings its own user model that mixes in :class:`UserMixin`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import typing as t

import flask_login
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .clock import utcnow

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

#: Naive UTC timestamps, with microseconds on MySQL/MariaDB too (their default is whole seconds).
UTCDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

#: Longest uniqueness key stored: NFKC and case folding can lengthen an address.
EMAIL_KEY_LENGTH = 320


def new_stamp() -> str:
    """Return a fresh session stamp; changing it ends every session of the account."""
    return secrets.token_hex(16)


class UserMixin(flask_login.UserMixin):
    """The columns an account needs; mix into your own Flask-SQLAlchemy user model.

    ``get_id`` returns ``"<id>:<stamp>"`` (Flask-Login's alternative id), so rotating
    :attr:`session_stamp` logs the account out everywhere, remember-me cookies included.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The address mail goes to, as the user typed it after normalisation.
    email: Mapped[str] = mapped_column(String(254))
    #: Case-folded NFKC form of :attr:`email`; its unique index makes addresses unique.
    email_key: Mapped[str] = mapped_column(String(EMAIL_KEY_LENGTH), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the address was proven; kept for time-to-confirm statistics.
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    session_stamp: Mapped[str] = mapped_column(String(32), default=new_stamp)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    is_admin: Mapped[bool] = mapped_column(default=False)
    #: Bumped by every confirmation mail; only a token carrying the latest value works.
    confirm_counter: Mapped[int] = mapped_column(Integer, default=0)
    confirmation_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_stamp}"

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class OutboxMixin:
    """A mail waiting to go, or gone: written in the transaction that caused it."""

    __tablename__ = "mailproof_outbox"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        return (Index("ix_mailproof_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Assigned when written and re-sent unchanged by every retry, so duplicates are recognisable.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The template the mail came from (``confirm``, ``reset``...), for listings.
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(998))
    #: The whole RFC 5322 message, ASCII-only (quoted-printable parts, encoded headers).
    raw: Mapped[str] = mapped_column(Text)
    #: ``pending``, ``claimed``, ``sent`` or ``failed``.
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttemptMixin:
    """One attempt to deliver an outbox message: when, by which worker, and what came of it."""

    __tablename__ = "mailproof_delivery_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The outbox row's id; no foreign key, so purging old mail can keep or drop its history.
    message_id: Mapped[int] = mapped_column(Integer, index=True)
    attempted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: ``host:pid:random`` of the process that made the attempt.
    worker: Mapped[str] = mapped_column(String(64))
    #: ``sent``, ``retry`` (a temporary failure) or ``failed`` (permanent, or out of attempts).
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


@dataclasses.dataclass(frozen=True)
class Models:
    """The model classes the extension works with."""

    user: type[UserMixin]
    outbox: type[OutboxMixin]
    #: The attempts log; ``None`` for models built before it existed (attempts go unrecorded).
    delivery_attempt: type[DeliveryAttemptMixin] | None = None


def define_models(db: SQLAlchemy, *, user_model: type[UserMixin] | None = None) -> Models:
    """Create the extension's models on ``db``; call once, at import time of your models module.

    :param user_model: your own user model (a ``db.Model`` mixing in :class:`UserMixin`);
        without it a default ``User`` on table ``users`` is created.
    """
    base: t.Any = db.Model

    class OutboxMessage(base, OutboxMixin):
        pass

    if user_model is None:

        class User(base, UserMixin):
            __tablename__ = "users"

        user_model = User

    class DeliveryAttempt(base, DeliveryAttemptMixin):
        pass

    return Models(user=user_model, outbox=OutboxMessage, delivery_attempt=DeliveryAttempt)
