"""Read every ``MAILPROOF_*`` setting once into one frozen, typed object."""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import enum
import types
import typing as t
from email.utils import formataddr
from urllib.parse import urlsplit

from flask_login.config import COOKIE_DURATION
from limits import parse_many

from .claims import Purpose
from .errors import ConfigurationError


class DeliveryMode(enum.StrEnum):
    """How mail leaves the outbox (``MAILPROOF_DELIVERY``)."""

    THREAD = "thread"
    CELERY = "celery"
    EXTERNAL = "external"


class CodeMode(enum.StrEnum):
    """Whether mails carry a 6-digit code (``MAILPROOF_VERIFICATION_CODES``)."""

    OFF = "off"
    WITH_LINK = "with_link"
    ONLY = "only"


class PasswordlessMode(enum.StrEnum):
    """Whether people may sign in by an emailed link or code (``MAILPROOF_PASSWORDLESS``)."""

    OFF = "off"
    #: Besides passwords.
    ON = "on"
    #: Instead of passwords: registration asks only for the address, the password pages are gone.
    ONLY = "only"


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
    #: Sign in by an emailed link (and code, where codes are on): ``"off"``, ``"on"`` (besides
    #: passwords) or ``"only"`` (no passwords anywhere).
    passwordless: PasswordlessMode = PasswordlessMode.OFF
    #: Seconds a sign-in link (and its code) lives.
    login_link_max_age: int = 900
    #: A sign-in request for an address without an account mails a link whose button creates
    #: the account, already confirmed and without a password. The requester's answer is the same.
    passwordless_signup: bool = False
    #: Seconds after a sign-in by emailed link or code during which an account without a
    #: password (or any account, with ``passwordless = "only"``) may change its password or
    #: address: the fresh proof of the mailbox stands in for the current password others type.
    #: Ten minutes: long enough to open the mail and fill in a form, short enough that a session
    #: left open on a shared computer cannot take the account over later.
    fresh_login_max_age: int = 600
    #: Without ``passwordless_signup``, a sign-in request for an address without an account
    #: mails it a notice that no account uses it (as ``reset_notify_unknown`` does for reset);
    #: by default nothing is mailed. The requester's answer is the same either way.
    login_notify_unknown: bool = False
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
    #: Serve the development mailbox to any client, not only to loopback addresses and to
    #: Flask's development server: every mailed link, readable by whoever reaches ``/_mail``.
    dev_mailbox_any_client: bool = False
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
    delivery: DeliveryMode = DeliveryMode.THREAD
    #: Seconds between the embedded worker's sweeps for due retries.
    delivery_interval: float = 5.0
    #: Attempts before a message that keeps failing temporarily is marked failed.
    delivery_max_attempts: int = 8
    #: Seconds after which a message still failing temporarily is marked failed.
    delivery_max_age: int = 2 * 86400
    #: Seconds a worker's claim on a message lasts. A live worker renews its claims every third
    #: of this while it sends them, so only a dead worker's claims expire: its mail goes out
    #: this long (at most) plus one sweep after it died.
    delivery_lease: int = 15
    #: Most messages one delivery run claims at a time (a Celery task sends its batch over one
    #: SMTP connection).
    delivery_batch_size: int = 50
    #: SMTP sessions in flight at once per delivering process (the embedded thread, ``flask
    #: mailproof outbox worker`` and ``deliver``), each a thread with its own connection that
    #: carries message after message. With a server taking ``L`` seconds per message, a process
    #: delivers at most this many divided by ``L`` messages per second. Celery workers get
    #: theirs from ``--concurrency`` instead.
    delivery_concurrency: int = 8
    #: Seconds before the first retry; each later one doubles it (with jitter) up to the cap.
    delivery_retry_base: float = 30.0
    #: Longest wait in seconds between two attempts.
    delivery_retry_cap: float = 3600.0
    #: Shared secret that signs the mail provider's calls of ``POST /_mailproof/bounce``
    #: (HMAC-SHA256, see ``docs/delivery.md``); empty: the endpoint is off and answers 404.
    #: At least 32 characters when set.
    bounce_webhook_secret: str = ""
    #: Seconds a signed bounce report stays acceptable after its timestamp; older ones (a
    #: recorded call played again) are refused.
    bounce_webhook_max_age: int = 300
    #: Path of the health check (``GET``, JSON: database, outbox, Redis) a load balancer or a
    #: monitor calls; empty: not served. See "The operator's view" in ``docs/delivery.md``.
    health_path: str = "/_mailproof/health"
    #: Seconds the oldest due message may wait before the health check answers 503: mail that
    #: should have gone by now and has not means delivery is stuck (no worker, a dead relay).
    health_max_outbox_age: int = 300
    #: Path of the Prometheus metrics (needs the ``metrics`` extra, ``prometheus-client``);
    #: empty: not served. Behind a proxy, let only the monitoring network reach it.
    metrics_path: str = ""
    #: Celery queue the delivery tasks go to (and the workers of :func:`make_celery` read).
    celery_queue: str = "mailproof"
    #: Mail a "you have no account here" notice when a reset is asked for an unknown address.
    reset_notify_unknown: bool = False
    #: Put a 6-digit code in confirmation and reset mails, for apps where a link opens the
    #: wrong place: ``"off"``, ``"with_link"`` (code and link) or ``"only"`` (code, no link).
    verification_codes: CodeMode = CodeMode.OFF
    #: Wrong tries a code allows before a new one must be requested.
    code_max_attempts: int = 5
    #: Links in mail that point at a front end instead of these pages, by link name
    #: (``confirm``, ``reset``, ``email_change``, ``email_revert``, ``contact_verify``, ``login``),
    #: each a
    #: pattern with ``{token}``, e.g. ``{"confirm": "https://app.example/confirm?token={token}"}``.
    frontend_urls: t.Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: Seconds a login lasts server-side, for its session and remember-me cookies alike; after
    #: it both are refused and ``flask mailproof purge-logins`` deletes its record. Defaults to
    #: Flask-Login's ``REMEMBER_COOKIE_DURATION`` (365 days unless set).
    login_max_age: int = int(COOKIE_DURATION.total_seconds())
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
    #: Sign-in link requests (``/login/email``) per client IP, as for reset.
    limit_login_link_per_ip: str = "20 per minute"
    #: Sign-in mails per address; over it the answer stays the same and no mail goes.
    limit_login_link_per_address: str = "5 per 15 minutes"
    limit_resend_per_ip: str = "20 per minute"
    limit_resend_per_address: str = "1 per 3 minutes"
    limit_contact_per_ip: str = "20 per minute"
    limit_contact_per_address: str = "1 per 3 minutes"
    #: Address-change requests per client IP; over it, 429.
    limit_email_change_per_ip: str = "20 per minute"
    #: Address-change mails per new address: one account must not flood a stranger's inbox;
    #: over it the answer is the same and no mail goes (the answer must not reveal an account).
    limit_email_change_per_address: str = "1 per 3 minutes"
    #: Address-change requests per account, whatever the new address: an account switching
    #: between addresses must not mail each of them; over it, 429.
    limit_email_change_per_account: str = "3 per 15 minutes; 10 per day"
    #: Send ``Strict-Transport-Security: max-age=31536000; includeSubDomains`` when
    #: ``base_url`` is https, so browsers never again reach the site (or its subdomains) over
    #: plain http, where a session cookie or a token in a link could be read on the way.
    hsts: bool = True
    #: ``Content-Security-Policy``, ``X-Content-Type-Options``, ``X-Frame-Options``,
    #: ``Referrer-Policy`` and ``Strict-Transport-Security`` go on every response of the
    #: application, not only on the extension's pages and API answers (the default): the
    #: policy below allows no inline script or style, which a host's own pages may need.
    security_headers_app_wide: bool = False
    #: ``Content-Security-Policy`` added to each response above that has none; empty: none.
    content_security_policy: str = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any], *, debug: bool) -> Settings:
        """Build the settings from ``app.config``, checking what must be right to start.

        :raises ConfigurationError: a setting is unsafe, or a ``MAILPROOF_*`` key is none of
            ours (a typo in a security setting must not leave its default on in silence).
        """
        _refuse_unknown_keys(config, {PREFIX + f.name.upper() for f in dataclasses.fields(cls)})
        values: dict[str, t.Any] = {}
        for field in dataclasses.fields(cls):
            key = PREFIX + field.name.upper()
            if key in config:
                values[field.name] = config[key]
        _read_choices(values, t.get_type_hints(cls))
        if values.get("mail_sender") is None:
            values["mail_sender"] = _sender_from_flask_mail(config.get("MAIL_DEFAULT_SENDER"))
        if "login_max_age" not in values and "REMEMBER_COOKIE_DURATION" in config:
            values["login_max_age"] = _seconds(config["REMEMBER_COOKIE_DURATION"])
        settings = cls(**values)
        settings._check(debug=debug)
        return settings

    def _check(self, *, debug: bool) -> None:
        _check_types(self)
        self._check_base_url(debug=debug)
        self._check_features()
        self._check_passwordless()
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

    @property
    def passwords_enabled(self) -> bool:
        """Whether passwords exist at all (every mode but ``MAILPROOF_PASSWORDLESS = "only"``)."""
        return self.passwordless is not PasswordlessMode.ONLY

    def _check_passwordless(self) -> None:
        """Refuse the combinations of the sign-in settings that could only be a mistake."""
        if self.passwordless_signup and self.passwordless is PasswordlessMode.OFF:
            raise ConfigurationError(
                "MAILPROOF_PASSWORDLESS_SIGNUP needs sign-in by emailed link: set "
                'MAILPROOF_PASSWORDLESS to "on" or "only".'
            )
        if self.passwords_enabled:
            return
        # Each of these only shapes a password page or a reset mail, which "only" removes.
        if self.reset_notify_unknown:
            raise ConfigurationError(
                'MAILPROOF_RESET_NOTIFY_UNKNOWN does nothing with MAILPROOF_PASSWORDLESS = "only": '
                "there is no password to reset. Remove it."
            )
        if "reset" in self.frontend_urls:
            raise ConfigurationError(
                'MAILPROOF_FRONTEND_URLS["reset"] does nothing with MAILPROOF_PASSWORDLESS = '
                '"only": no reset link is ever mailed. Remove it.'
            )

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
        for name, pattern in self.frontend_urls.items():
            if "{token}" not in pattern or urlsplit(pattern).scheme not in ("http", "https"):
                raise ConfigurationError(
                    f"MAILPROOF_FRONTEND_URLS[{name!r}] must be an http(s) URL with {{token}}."
                )
        if 0 < len(self.bounce_webhook_secret) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"MAILPROOF_BOUNCE_WEBHOOK_SECRET must have at least {MIN_SECRET_KEY_LENGTH} "
                "characters: whoever guesses it can stop mail to any address."
            )
        self._check_operations_paths()
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

    def _check_operations_paths(self) -> None:
        for name in ("health_path", "metrics_path"):
            path = getattr(self, name)
            if path and (not path.startswith("/") or any(c.isspace() for c in path)):
                raise ConfigurationError(
                    f"{PREFIX}{name.upper()} must be a path like /_mailproof/health, or empty "
                    f"to turn it off, not {path!r}."
                )
        if self.health_path and self.health_path == self.metrics_path:
            raise ConfigurationError(
                "MAILPROOF_HEALTH_PATH and MAILPROOF_METRICS_PATH must differ."
            )

    def rate_limits(self) -> dict[str, str]:
        """Return every ``limit_*`` setting by its name without the prefix."""
        return {
            field.name.removeprefix("limit_"): getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name.startswith("limit_")
        }

    def token_lifetimes(self) -> dict[Purpose, int]:
        """Return how many seconds each purpose's links live: the one place pairing them."""
        return {
            Purpose.CONFIRM: self.confirm_max_age,
            Purpose.RESET: self.reset_max_age,
            Purpose.EMAIL_CHANGE: self.email_change_max_age,
            # The undo link lives as long as the change link that caused it.
            Purpose.EMAIL_REVERT: self.email_change_max_age,
            Purpose.CONTACT: self.contact_max_age,
            Purpose.LOGIN: self.login_link_max_age,
            Purpose.LOGIN_SIGNUP: self.login_link_max_age,
        }

    def dev_mailbox_enabled(self, *, debug: bool) -> bool:
        """Tell whether ``/_mail`` is served."""
        return debug if self.dev_mailbox is None else self.dev_mailbox

    def link_root(self, *, development_root: str) -> str:
        """Return the root every mailed link starts with, without a trailing slash.

        :param development_root: the development server's address, used without a base URL
            (which only debug allows, checked at start).
        """
        if self.base_url is not None:
            return self.base_url.rstrip("/")
        return development_root


def _read_choices(values: dict[str, t.Any], hints: dict[str, t.Any]) -> None:
    """Turn each closed-set setting's text into its enum member, refusing anything else."""
    for name, value in values.items():
        kind = hints[name]
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            try:
                values[name] = kind(value)
            except ValueError:
                choices = ", ".join(repr(member.value) for member in kind)
                raise ConfigurationError(
                    f"{PREFIX}{name.upper()} must be one of {choices}, not {value!r}."
                ) from None


def _refuse_unknown_keys(config: t.Mapping[str, t.Any], known: set[str]) -> None:
    for key in sorted(k for k in config if isinstance(k, str) and k.startswith(PREFIX)):
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]}?" if close else ""
            raise ConfigurationError(f"{key} is not a Flask-Mailproof setting.{hint}")


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
    "login_max_age",
    "bounce_webhook_max_age",
    "delivery_lease",
    "delivery_batch_size",
    "delivery_concurrency",
    "health_max_outbox_age",
    "fresh_login_max_age",
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


def _seconds(duration: t.Any) -> t.Any:
    """Accept Flask-Login's ``REMEMBER_COOKIE_DURATION``: seconds or a ``timedelta``."""
    if isinstance(duration, dt.timedelta):
        return int(duration.total_seconds())
    return duration
