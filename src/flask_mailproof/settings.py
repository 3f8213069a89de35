"""Read every ``MAILPROOF_*`` setting once into one frozen, typed object."""

from __future__ import annotations

import dataclasses
import typing as t
from urllib.parse import urlsplit

from limits import parse_many

from .errors import ConfigurationError

#: Prefix of every setting this extension reads from ``app.config``.
PREFIX = "MAILPROOF_"


@dataclasses.dataclass(frozen=True)
class Settings:
    """The extension's settings; each field is ``MAILPROOF_<FIELD NAME IN CAPITALS>``."""

    #: ``scheme://host[:port]`` that every link in a mail starts with. Never taken from the
    #: request, so a forged ``Host`` header cannot put an attacker's host into a mail.
    #: Required outside debug.
    base_url: str | None = None
    #: Seconds a confirmation link lives.
    confirm_max_age: int = 86400
    #: Seconds a password-reset link lives.
    reset_max_age: int = 3600
    #: Seconds an email-change link (and the old address's undo link) lives.
    email_change_max_age: int = 86400
    #: Seconds a contact-verification link lives.
    contact_max_age: int = 900
    #: Where verified contact messages are delivered.
    contact_recipient: str | None = None
    #: Serve the development mailbox at ``/_mail``; ``None`` means "only in debug".
    dev_mailbox: bool | None = None
    #: Seconds before a second confirmation mail can go to one address.
    resend_interval: int = 180
    #: Minimum password length in characters (NIST SP 800-63B rev. 4, single factor).
    password_min_length: int = 15
    #: Longest password accepted, in UTF-8 bytes; checked before any hashing.
    password_max_bytes: int = 4096
    #: Lowest zxcvbn score (0-4) a new password needs.
    password_min_score: int = 3
    #: argon2id time cost; OWASP's minimum is 2 with 19 MiB.
    argon2_time_cost: int = 2
    #: argon2id memory cost in KiB.
    argon2_memory_cost: int = 19456
    #: argon2id parallelism.
    argon2_parallelism: int = 1
    #: Seconds after registration during which an unconfirmed user passes ``confirmed_required``.
    unconfirmed_grace: int = 0
    #: Look up the address's domain in DNS when validating (off: it is slow and fails offline).
    check_deliverability: bool = False
    #: ``From`` of every mail; falls back to ``MAIL_DEFAULT_SENDER``.
    mail_sender: str | None = None
    #: Text put before every mail's subject, e.g. ``"[Example] "``.
    subject_prefix: str = ""
    #: How mail leaves the outbox: ``"thread"`` (a worker thread in each web process),
    #: ``"celery"`` (tasks on ``REDIS_URL``), or ``"external"`` (only ``flask mailproof outbox
    #: deliver`` or a worker you run yourself).
    delivery: str = "thread"
    #: Seconds between the embedded worker's sweeps for due retries.
    delivery_interval: float = 5.0
    #: Attempts before a message that keeps failing temporarily is marked failed.
    delivery_max_attempts: int = 8
    #: Seconds after which a message still failing temporarily is marked failed.
    delivery_max_age: int = 2 * 86400
    #: Seconds a worker's claim on a message lasts; a crashed worker's claims expire.
    delivery_lease: int = 120
    #: Messages one delivery run claims (and sends over one SMTP connection).
    delivery_batch_size: int = 50
    #: Mail a "you have no account here" notice when a reset is asked for an unknown address.
    reset_notify_unknown: bool = False
    #: Where ``/login`` sends a user when no ``next`` is given.
    post_login_endpoint: str = "mailproof.profile"
    #: Where ``/logout`` sends the user.
    post_logout_url: str = "/"
    #: Rate limits, in Flask-Limiter's notation (``"5 per minute"``, ``"5/5 minutes; 20/hour"``);
    #: an empty string turns one off. Defaults follow django-allauth's. Per IP counts by
    #: ``request.remote_addr`` (put ProxyFix in front behind a proxy); per address counts by the
    #: normalised address, so ``Bob@x`` and ``bob@x`` are one.
    limit_signup_per_ip: str = "20 per minute"
    #: Failed logins per client IP; a successful login does not reset the count.
    limit_login_failures_per_ip: str = "10 per minute"
    #: Failed logins per typed address (known or not, so a lock tells nothing): five tries per
    #: five minutes slow guessing down, twenty in an hour lock the address for the hour.
    limit_login_failures_per_address: str = "5 per 5 minutes; 20 per hour"
    limit_reset_per_ip: str = "20 per minute"
    limit_reset_per_address: str = "5 per minute"
    limit_resend_per_ip: str = "20 per minute"
    limit_resend_per_address: str = "1 per 3 minutes"
    limit_contact_per_ip: str = "20 per minute"
    limit_contact_per_address: str = "1 per 3 minutes"
    #: ``Content-Security-Policy`` added to every response that has none; empty: none added.
    content_security_policy: str = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any], *, debug: bool) -> Settings:
        """Build the settings from ``app.config``, checking what must be right to start."""
        values: dict[str, t.Any] = {}
        for field in dataclasses.fields(cls):
            key = PREFIX + field.name.upper()
            if key in config:
                values[field.name] = config[key]
        if values.get("mail_sender") is None:
            values["mail_sender"] = _sender_from_flask_mail(config.get("MAIL_DEFAULT_SENDER"))
        settings = cls(**values)
        settings._check(debug=debug)
        return settings

    def _check(self, *, debug: bool) -> None:
        if self.base_url is None:
            if not debug:
                raise ConfigurationError(
                    "MAILPROOF_BASE_URL is required outside debug: every link in a mail starts "
                    "with it (e.g. https://example.com)."
                )
        else:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
                raise ConfigurationError(
                    f"MAILPROOF_BASE_URL must look like https://host[:port], not {self.base_url!r}."
                )
        if self.delivery not in ("thread", "celery", "external"):
            raise ConfigurationError("MAILPROOF_DELIVERY must be 'thread', 'celery' or 'external'.")
        if self.password_min_length < 8:
            raise ConfigurationError("MAILPROOF_PASSWORD_MIN_LENGTH below 8 is never safe.")
        for name, rule in self.rate_limits().items():
            try:
                if rule:
                    parse_many(rule)
            except ValueError:
                raise ConfigurationError(
                    f"MAILPROOF_LIMIT_{name.upper()} is not a rate limit: {rule!r}."
                ) from None

    def rate_limits(self) -> dict[str, str]:
        """Return every ``limit_*`` setting by its name without the prefix."""
        return {
            field.name.removeprefix("limit_"): getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name.startswith("limit_")
        }

    def dev_mailbox_enabled(self, *, debug: bool) -> bool:
        """Tell whether ``/_mail`` is served."""
        return debug if self.dev_mailbox is None else self.dev_mailbox

    def link_root(self, *, debug: bool) -> str:
        """Return the root every mailed link starts with, without a trailing slash."""
        if self.base_url is not None:
            return self.base_url.rstrip("/")
        # Only reachable in debug (checked at start): the development server's default address.
        return "http://127.0.0.1:5000"


def _sender_from_flask_mail(value: t.Any) -> str | None:
    """Accept Flask-Mail's ``MAIL_DEFAULT_SENDER``: a string or a ``(name, address)`` pair."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        from email.utils import formataddr

        return formataddr((str(value[0]), str(value[1])))
    return str(value)
