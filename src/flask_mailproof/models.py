"""SQLAlchemy mixins for the user columns and the outbox, and the bundled default models.

A host application either lets :func:`define_models` create everything on its own
Flask-SQLAlchemy ``db``, or brings its own user model that mixes in :class:`UserMixin`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import secrets
import typing as t

import flask_login
from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from .clock import utcnow

if t.TYPE_CHECKING:
    from flask_sqlalchemy import SQLAlchemy

#: Naive UTC timestamps, with microseconds on MySQL/MariaDB too (their default is whole seconds).
UTCDateTime = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")

#: Longest uniqueness key stored: NFKC and case folding can lengthen an address.
EMAIL_KEY_LENGTH = 320

#: The uniqueness key, compared byte for byte everywhere. MySQL/MariaDB's default collations
#: ignore case and accents, so ``jose@x`` would find (and block) ``josé@x``; the key is folded
#: already, so a binary collation is exact. 320 characters of utf8mb4 fit InnoDB's index limit.
EmailKey = String(EMAIL_KEY_LENGTH).with_variant(
    mysql.VARCHAR(EMAIL_KEY_LENGTH, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


class OutboxStatus(enum.StrEnum):
    """Where an outbox message stands: waiting, held by a worker, or done one way or the other."""

    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class ContactStatus(enum.StrEnum):
    """Where a contact message stands: waiting for its sender's click, proven, or mailed on."""

    PENDING = "pending"
    VERIFIED = "verified"
    DELIVERED = "delivered"


def new_stamp() -> str:
    """Return a fresh session stamp; changing it ends every session of the account."""
    return secrets.token_hex(16)


#: Where a user object loaded for (or logged in with) one login keeps that login's secret. Not a
#: column and not declared on the class, so SQLAlchemy leaves it alone on every user model.
_BOUND_LOGIN = "_mailproof_bound_login"


class UserMixin(flask_login.UserMixin):
    """The columns an account needs; mix into your own Flask-SQLAlchemy user model.

    ``get_id`` returns ``"<id>:<stamp>:<login secret>"`` (Flask-Login's alternative id), which
    both the session cookie and the remember-me cookie carry: rotating :attr:`session_stamp`
    logs the account out everywhere, and deleting one :class:`LoginSessionMixin` row ends that
    one login, remember-me cookie included.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The address mail goes to, as the user typed it after normalisation.
    email: Mapped[str] = mapped_column(String(254))
    #: Case-folded NFKC form of :attr:`email`; its unique index makes addresses unique.
    email_key: Mapped[str] = mapped_column(EmailKey, unique=True)
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
    #: Bumped by every reset mail; only the latest reset link works.
    reset_counter: Mapped[int] = mapped_column(Integer, default=0)
    reset_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: Bumped by every sign-in mail and every sign-in by link or code: only the latest sign-in
    #: link works, and only once.
    login_counter: Mapped[int] = mapped_column(Integer, default=0)
    #: Bumped by every email-change mail and every change; only the latest link works.
    email_change_counter: Mapped[int] = mapped_column(Integer, default=0)
    #: When the last "someone tried to sign up with your address" notice was written; it is
    #: limited like confirmation mail, so the sign-up form cannot be used to flood an inbox.
    account_notice_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the address was signed up for again while unconfirmed. Nothing tells then who
    #: chose the password in force, so a confirmation that does not also prove knowing it
    #: removes it (see ``docs/security.md``, account pre-hijacking); confirming clears this.
    contested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_stamp}:{self.login_secret}"

    @property
    def login_secret(self) -> str:
        """The secret of the login this object was loaded for or logged in with; ``""`` if none."""
        return str(getattr(self, _BOUND_LOGIN, ""))

    def bind_login(self, secret: str) -> None:
        """Make :meth:`get_id` (and so the cookies Flask-Login writes) name the login ``secret``."""
        setattr(self, _BOUND_LOGIN, secret)

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class OutboxMixin:
    """A mail waiting to go, or gone: written in the transaction that caused it."""

    __tablename__ = "mailproof_outbox"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        return (
            Index("ix_mailproof_outbox_due", "status", "next_attempt_at"),
            # The last hour's sent mail, for the latency percentiles (mail/latency.py), is read
            # without scanning every mail ever sent.
            Index("ix_mailproof_outbox_sent", "status", "sent_at"),
        )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Assigned when written and re-sent unchanged by every retry, so duplicates are recognisable.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: The template the mail came from (``confirm``, ``reset``...), for listings.
    kind: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(998))
    #: The whole RFC 5322 message: ASCII (quoted-printable parts, encoded headers), or, when
    #: an address has a non-ASCII local part, with UTF-8 headers to be sent with SMTPUTF8.
    raw: Mapped[str] = mapped_column(Text)
    #: An :class:`OutboxStatus`.
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


#: Longest name a contact message keeps, in characters; longer is refused, never cut.
CONTACT_NAME_MAX_LENGTH = 100
#: Longest contact message, in characters (line breaks count one); longer is refused.
CONTACT_MESSAGE_MAX_LENGTH = 5000


class ContactMessageMixin:
    """A message sent through the contact form, held until its sender proves the address.

    ``status`` goes ``pending`` (waiting for the sender's click) -> ``verified`` (proven, kept
    here, announced by ``contact_verified``) -> ``delivered`` (also mailed to
    ``MAILPROOF_CONTACT_RECIPIENT``). Pending messages never verified are purged.
    """

    __tablename__ = "mailproof_contact_messages"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        return (
            # The pending cap counts one address's live pending messages.
            Index("ix_mailproof_contact_messages_address", "email_key", "status", "created_at"),
            # Purge and listings walk by status and age.
            Index("ix_mailproof_contact_messages_status", "status", "created_at"),
        )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(CONTACT_NAME_MAX_LENGTH))
    #: The sender's address, validated like a registration's; the owner's reply goes there.
    email: Mapped[str] = mapped_column(String(254))
    #: Case-folded NFKC form of :attr:`email`, for the per-address pending cap.
    email_key: Mapped[str] = mapped_column(String(EMAIL_KEY_LENGTH))
    message: Mapped[str] = mapped_column(Text)
    #: A :class:`ContactStatus`.
    status: Mapped[str] = mapped_column(String(16), default=ContactStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: When the mail to ``MAILPROOF_CONTACT_RECIPIENT`` was written to the outbox.
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The logged-in account that sent it, if any (no foreign key: the user table is the app's).
    user_id: Mapped[int | None] = mapped_column(Integer)


class VerificationCodeMixin:
    """A 6-digit code mailed with (or instead of) a link; stored only as a keyed hash.

    One live code per account and purpose: a new one replaces the old.
    """

    __tablename__ = "mailproof_verification_code"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[t.Any, ...]:
        return (UniqueConstraint("user_id", "purpose", name="uq_mailproof_code_user_purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    #: HMAC-SHA256 of account, purpose and code under SECRET_KEY: a leaked table gives nothing
    #: to brute-force offline without the key.
    code_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


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


class LoginSessionMixin:
    """One login of one browser: the server-side half of its session and remember-me cookies.

    The cookies carry a random secret; this row keeps only its SHA-256 digest, so a leaked
    table logs nobody in. A cookie is accepted only while its row exists and has not expired:
    logout deletes the row, a rotated session stamp deletes every row of the account.
    """

    __tablename__ = "mailproof_login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The account (no foreign key: the user table is the app's).
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    #: SHA-256 of the login secret, hex; the cookie's secret is looked up by it.
    secret_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: After this the cookies are refused and ``flask mailproof purge-logins`` deletes the row.
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


#: Longest server reply (or webhook reason) a suppression keeps: enough for any real
#: diagnostic, and a hostile server cannot fill the table or the page with it.
SUPPRESSION_REASON_MAX_LENGTH = 500


class SuppressionSource(enum.StrEnum):
    """Who said an address cannot take mail."""

    #: The receiving server refused it with a 5xx at RCPT or DATA.
    SMTP = "smtp"
    #: The mail provider reported a bounce or complaint through ``POST /_mailproof/bounce``.
    WEBHOOK = "webhook"
    #: The application called :func:`~flask_mailproof.mark_undeliverable`.
    API = "api"


class SuppressionMixin:
    """An address that refused mail for good: nothing more is written to it until cleared.

    One row per address (by its key). Cleared when the address is confirmed, by
    ``flask mailproof suppressed clear``, or by :func:`~flask_mailproof.clear_suppression`.
    """

    __tablename__ = "mailproof_suppression"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The address as mail was sent to it.
    email: Mapped[str] = mapped_column(String(254))
    #: Case-folded NFKC form of :attr:`email`, as :attr:`UserMixin.email_key`.
    email_key: Mapped[str] = mapped_column(EmailKey, unique=True)
    #: When the latest refusal was recorded.
    suppressed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The server's reply code (``550``), if a server replied.
    reply_code: Mapped[int | None] = mapped_column(Integer)
    #: The server's reply text or the provider's reason, cut to
    #: :data:`SUPPRESSION_REASON_MAX_LENGTH` characters.
    reason: Mapped[str] = mapped_column(String(SUPPRESSION_REASON_MAX_LENGTH))
    #: A :class:`SuppressionSource`.
    source: Mapped[str] = mapped_column(String(16))


@dataclasses.dataclass(frozen=True)
class Models:
    """The model classes the extension works with."""

    user: type[UserMixin]
    outbox: type[OutboxMixin]
    #: One row per delivery attempt of an outbox message.
    delivery_attempt: type[DeliveryAttemptMixin]
    contact_message: type[ContactMessageMixin]
    verification_code: type[VerificationCodeMixin]
    #: One row per live login (browser) of an account.
    login_session: type[LoginSessionMixin]
    #: Addresses that refused mail for good (the suppression list).
    suppression: type[SuppressionMixin]


def define_models(db: SQLAlchemy, *, user_model: type[UserMixin] | None = None) -> Models:
    """Create the extension's models on ``db``; call once, at import time of your models module.

    :param user_model: your own user model (a ``db.Model`` mixing in :class:`UserMixin`);
        without it a default ``User`` on table ``users`` is created.
    """
    base: t.Any = db.Model

    class OutboxMessage(base, OutboxMixin):
        pass

    class DeliveryAttempt(base, DeliveryAttemptMixin):
        pass

    class ContactMessage(base, ContactMessageMixin):
        pass

    class VerificationCode(base, VerificationCodeMixin):
        pass

    class LoginSession(base, LoginSessionMixin):
        pass

    class Suppression(base, SuppressionMixin):
        pass

    if user_model is None:

        class User(base, UserMixin):
            __tablename__ = "users"

        user_model = User
    return Models(
        user=user_model,
        outbox=OutboxMessage,
        delivery_attempt=DeliveryAttempt,
        contact_message=ContactMessage,
        verification_code=VerificationCode,
        login_session=LoginSession,
        suppression=Suppression,
    )
