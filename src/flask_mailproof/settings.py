"""Read every ``MAILPROOF_*`` setting once into one frozen, typed object."""

from __future__ import annotations

import dataclasses
import types
import typing as t
from email.utils import formataddr
from urllib.parse import urlsplit

from limits import parse_many

from .errors import ConfigurationError

#: Prefix of every setting this extension reads from ``app.config``.
PREFIX = "MAILPROOF_"

#: Shortest ``SECRET_KEY`` accepted outside debug: 32 random characters are beyond guessing.
MIN_SECRET_KEY_LENGTH = 32
#: Fewest distinct characters in a ``SECRET_KEY``; fewer is a pattern, not a random string.
MIN_SECRET_KEY_DISTINCT = 10
#: Words that mark a key copied from an example (compared lower-cased, letters and digits only).
PLACEHOLDER_MARKERS = (
    "changeme",
    "changethis",
    "replaceme",
    "yoursecret",
    "mysecret",
    "supersecret",
    "notsecret",
    "insecure",
    "placeholder",
    "example",
)


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
    #: Where verified contact messages are delivered (a bare address). Without one, verified
    #: messages are only kept in the database and announced by the ``contact_verified`` signal.
    contact_recipient: str | None = None
    #: Contact messages from one address that may wait for verification at once; beyond it the
    #: form asks the sender to verify the earlier ones first. Expired links do not count.
    contact_max_pending: int = 3
    #: Deliver a logged-in, confirmed user's message sent from their own address at once: that
    #: address is proven already.
    contact_skip_confirmed: bool = True
    #: Days after which ``flask mailproof contact purge`` deletes messages never verified.
    contact_purge_days: int = 7
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
    #: Seconds before the first retry; each later one doubles it (with jitter) up to the cap.
    delivery_retry_base: float = 30.0
    #: Longest wait in seconds between two attempts.
    delivery_retry_cap: float = 3600.0
    #: Celery queue the delivery tasks go to (and the workers of :func:`make_celery` read).
    celery_queue: str = "mailproof"
    #: Mail a "you have no account here" notice when a reset is asked for an unknown address.
    reset_notify_unknown: bool = False
    #: Put a 6-digit code in confirmation and reset mails, for apps where a link opens the
    #: wrong place: ``"off"``, ``"with_link"`` (code and link) or ``"only"`` (code, no link).
    verification_codes: str = "off"
    #: Wrong tries a code allows before a new one must be requested.
    code_max_attempts: int = 5
    #: Links in mail that point at a front end instead of these pages, by link name
    #: (``confirm``, ``reset``, ``email_change``, ``email_revert``, ``contact_verify``), each a
    #: pattern with ``{token}``, e.g. ``{"confirm": "https://app.example/confirm?token={token}"}``.
    frontend_urls: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Where ``/login`` sends a user when no ``next`` is given.
    post_login_endpoint: str = "mailproof.profile"
    #: Where ``/logout`` sends the user.
    post_logout_url: str = "/"
    #: Languages offered to browsers (``Accept-Language``) when the application has no
    #: Flask-Babel locale selector of its own; the first is the fallback.
    locales: t.Sequence[str] = ("en", "de")
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
        _check_types(self)
        self._check_base_url(debug=debug)
        self._check_features()
        if self.delivery not in ("thread", "celery", "external"):
            raise ConfigurationError("MAILPROOF_DELIVERY must be 'thread', 'celery' or 'external'.")
        if self.password_min_length < 8:
            raise ConfigurationError("MAILPROOF_PASSWORD_MIN_LENGTH below 8 is never safe.")
        # 64 characters of up to 4 UTF-8 bytes each must always fit (NIST SP 800-63B).
        if self.password_max_bytes < 256:
            raise ConfigurationError("MAILPROOF_PASSWORD_MAX_BYTES must be at least 256.")
        if not 0 <= self.password_min_score <= 4:
            raise ConfigurationError("MAILPROOF_PASSWORD_MIN_SCORE must be between 0 and 4.")
        for name in _POSITIVE:
            if getattr(self, name) <= 0:
                raise ConfigurationError(f"{PREFIX}{name.upper()} must be more than 0.")
        for name in _NOT_NEGATIVE:
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{PREFIX}{name.upper()} must not be negative.")

    def _check_base_url(self, *, debug: bool) -> None:
        if self.base_url is None:
            if not debug:
                raise ConfigurationError(
                    "MAILPROOF_BASE_URL is required outside debug: every link in a mail starts "
                    "with it (e.g. https://example.com)."
                )
        else:
            parts = urlsplit(self.base_url)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or "@" in parts.netloc
                or parts.query
                or parts.fragment
            ):
                raise ConfigurationError(
                    f"MAILPROOF_BASE_URL must look like https://host[:port], not {self.base_url!r}."
                )

    def _check_features(self) -> None:
        if self.contact_recipient is not None and (
            "@" not in self.contact_recipient
            or any(c.isspace() or not c.isprintable() for c in self.contact_recipient)
        ):
            raise ConfigurationError(
                "MAILPROOF_CONTACT_RECIPIENT must be one bare address, like owner@example.com."
            )
        if self.verification_codes not in ("off", "with_link", "only"):
            raise ConfigurationError(
                "MAILPROOF_VERIFICATION_CODES must be 'off', 'with_link' or 'only'."
            )
        for name, pattern in self.frontend_urls.items():
            if "{token}" not in pattern or urlsplit(pattern).scheme not in ("http", "https"):
                raise ConfigurationError(
                    f"MAILPROOF_FRONTEND_URLS[{name!r}] must be an http(s) URL with {{token}}."
                )
        if not self.locales or isinstance(self.locales, str):
            raise ConfigurationError('MAILPROOF_LOCALES must be a list of locales, e.g. ["en"].')
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


def check_signing_keys(
    secret_key: str | bytes | None,
    fallbacks: t.Iterable[str | bytes] = (),
    *,
    debug: bool,
) -> str | bytes:
    """Return ``secret_key`` if it may sign links: always set, and outside debug unguessable.

    Every mailed link is signed with it: whoever guesses it can confirm any address and reset
    any password. The keys in ``SECRET_KEY_FALLBACKS`` still verify links, so they are held to
    the same rule.

    :raises ConfigurationError: naming the problem and how to make a good key.
    """
    if not secret_key:
        raise ConfigurationError("Mailproof signs every link with SECRET_KEY; set it.")
    if isinstance(fallbacks, (str, bytes)):
        raise ConfigurationError('SECRET_KEY_FALLBACKS must be a list of keys: ["old key"].')
    if debug:
        return secret_key
    for name, key in [
        ("SECRET_KEY", secret_key),
        *(("SECRET_KEY_FALLBACKS", k) for k in fallbacks),
    ]:
        problem = _weakness(key.decode("latin-1") if isinstance(key, bytes) else key)
        if problem is not None:
            raise ConfigurationError(
                f"{name} {problem}; outside debug it must be a long random string. Make one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
    return secret_key


def _weakness(key: str) -> str | None:
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"has {len(key)} characters, fewer than {MIN_SECRET_KEY_LENGTH}"
    letters = "".join(c for c in key.lower() if c.isalnum())
    if any(marker in letters for marker in PLACEHOLDER_MARKERS):
        return "is a placeholder from an example"
    if len(set(key)) < MIN_SECRET_KEY_DISTINCT:
        return "repeats a few characters"
    return None


#: Settings that must be more than zero: a link that lives 0 seconds, or argon2 with no cost.
_POSITIVE = (
    "confirm_max_age",
    "reset_max_age",
    "email_change_max_age",
    "contact_max_age",
    "argon2_time_cost",
    "argon2_memory_cost",
    "argon2_parallelism",
)
#: Settings where 0 means "none" (no wait, no grace).
_NOT_NEGATIVE = ("resend_interval", "unconfirmed_grace")
#: The types :func:`_check_types` knows how to check.
_SIMPLE_TYPES: dict[t.Any, t.Callable[[t.Any], bool]] = {
    type(None): lambda v: v is None,
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def _alternatives(hint: t.Any) -> tuple[t.Any, ...]:
    """Return the types a hint allows: ``int | None`` -> (int, None); a generic -> itself."""
    if t.get_origin(hint) in (t.Union, types.UnionType):
        return t.get_args(hint)
    return (hint,)


def _check_types(settings: Settings) -> None:
    """Refuse values of the wrong type at start-up (``"3600"`` for seconds, ``1`` for a flag).

    A wrong type would otherwise surface as a 500 on the first request that uses it.
    """
    hints = t.get_type_hints(type(settings))
    for field in dataclasses.fields(settings):
        allowed = _alternatives(hints[field.name])
        if not all(kind in _SIMPLE_TYPES for kind in allowed):
            continue
        value = getattr(settings, field.name)
        if not any(_SIMPLE_TYPES[kind](value) for kind in allowed):
            names = " or ".join("None" if k is type(None) else k.__name__ for k in allowed)
            raise ConfigurationError(
                f"{PREFIX}{field.name.upper()} must be {names}, not {value!r}."
            )


def _sender_from_flask_mail(value: t.Any) -> str | None:
    """Accept Flask-Mail's ``MAIL_DEFAULT_SENDER``: a string or a ``(name, address)`` pair."""
    if value is None:
        return None
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return formataddr((str(value[0]), str(value[1])))
    return str(value)
