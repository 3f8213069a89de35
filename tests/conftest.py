"""Fixtures shared by every test: the app on a clean database, clients, mail, factories."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import os
import re
import types
import typing as t
from urllib.parse import quote_from_bytes, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from demo import create_app
from demo.models import db, models
from flask_mailproof import passwords as passwords_module
from flask_mailproof.addresses import address_key, parse_address
from flask_mailproof.clock import utcnow
from flask_mailproof.flows.password_reset import reset_token
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Tokens
from smtp import SMTPServer

#: The base URL every mailed link must start with in tests.
BASE_URL = "https://mailproof.test"
#: A password that passes the policy.
PASSWORD = "correct horse battery staple"

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_LINK = re.compile(r"https?://[^\s<>\"']+")


def database_url(tmp_path: t.Any) -> str:
    """Return ``TEST_DATABASE_URL`` (CI's PostgreSQL or MariaDB) or a fresh SQLite file."""
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


def test_config(tmp_path: t.Any) -> dict[str, t.Any]:
    """Return the configuration every test app starts from."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "MAILPROOF_BASE_URL": BASE_URL,
        "MAILPROOF_DELIVERY": "external",
        "MAILPROOF_DEV_MAILBOX": True,
        # Cheaper than production's argon2id, so the suite stays fast; the defaults have a test.
        "MAILPROOF_ARGON2_MEMORY_COST": 1024,
        "MAILPROOF_ARGON2_TIME_COST": 1,
        "MAIL_SERVER": None,
        # Each test app counts rate limits afresh, even where REDIS_URL is in the environment.
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture
def config(tmp_path: t.Any, request: pytest.FixtureRequest) -> dict[str, t.Any]:
    """The test app's configuration; override per module, per test with
    ``@pytest.mark.app_config(NAME=value, ...)``, or with
    ``@pytest.mark.parametrize("config", [{...}], indirect=True)``."""
    values = {**test_config(tmp_path), **getattr(request, "param", {})}
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        values.update(marker.kwargs)
    return values


@pytest.fixture
def app(config: dict[str, t.Any]) -> t.Iterator[Flask]:
    """The demo app on a clean schema."""
    application = create_app(config)
    with application.app_context():
        db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(response: TestResponse) -> str:
    """Return the CSRF token of the first form in ``response``."""
    match = _CSRF.search(response.get_data(as_text=True))
    assert match, "no CSRF token in the page"
    return match.group(1)


def submit(
    client: FlaskClient, url: str, data: dict[str, t.Any] | None = None, **kwargs: t.Any
) -> TestResponse:
    """GET the page at ``url`` for its CSRF token, then POST ``data`` to it, as a browser would."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page), **(data or {})}, **kwargs)


@dataclasses.dataclass
class Mail:
    """A mail from the outbox, parsed."""

    to: str
    subject: str
    text: str
    html: str
    headers: email.message.EmailMessage
    kind: str
    status: str

    @property
    def links(self) -> list[str]:
        return list(dict.fromkeys(_LINK.findall(self.text)))

    def link(self, path_prefix: str) -> str:
        """Return the path (and query) of the one link whose path starts with ``path_prefix``."""
        found = [u for u in self.links if urlsplit(u).path.startswith(path_prefix)]
        assert len(found) == 1, f"expected one {path_prefix} link, got {self.links}"
        parts = urlsplit(found[0])
        return parts.path + (f"?{parts.query}" if parts.query else "")


def parse_mail(raw: str, kind: str = "", status: str = "") -> Mail:
    message = email.message_from_string(raw, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return Mail(
        to=str(message["To"]),
        subject=str(message["Subject"]),
        text=text.get_content() if text is not None else "",
        html=html.get_content() if html is not None else "",
        headers=message,
        kind=kind,
        status=status,
    )


@pytest.fixture
def outbox(app: Flask) -> t.Callable[..., list[Mail]]:
    """Return a function listing the outbox's mails, oldest first, optionally for one address."""

    def read(to: str | None = None) -> list[Mail]:
        with app.app_context():
            query = select(models.outbox).order_by(models.outbox.id)
            rows = db.session.scalars(query).all()
            mails = [parse_mail(r.raw, r.kind, r.status) for r in rows]
        return [m for m in mails if to is None or m.to == to]

    return read


@pytest.fixture
def make_user(app: Flask) -> t.Callable[..., t.Any]:
    """Return a factory creating an account directly (no mail): ``make_user(email, ...)``."""
    counter = iter(range(1, 1_000_000))

    def make(
        email_address: str | None = None,
        *,
        password: str = PASSWORD,
        confirmed: bool = True,
        **columns: t.Any,
    ) -> t.Any:
        with app.app_context():
            address = parse_address(email_address or f"user{next(counter)}@example.com")
            now = utcnow()
            user = models.user(
                email=address.email,
                email_key=address.key,
                password_hash=current_state().passwords.hash(password),
                registered_at=columns.pop("registered_at", now),
                confirmed_at=now if confirmed else None,
                **columns,
            )
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


@pytest.fixture
def login(client: FlaskClient) -> t.Callable[..., TestResponse]:
    """Return a function logging ``client`` in through the login form."""

    def log_in(email_address: str, password: str = PASSWORD, **extra: t.Any) -> TestResponse:
        response = submit(client, "/login", {"email": email_address, "password": password, **extra})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response

    return log_in


@pytest.fixture
def get_user(app: Flask) -> t.Callable[[str], t.Any]:
    """Return a function that loads the account with an address, detached and fresh."""

    def load(email_address: str) -> t.Any:
        with app.app_context():
            user = db.session.scalars(
                select(models.user).where(models.user.email_key == address_key(email_address))
            ).first()
            if user is not None:
                db.session.expunge(user)
            return user

    return load


def register(
    client: FlaskClient,
    email_address: str = "alice@example.com",
    password: str = PASSWORD,
    confirm: str | None = None,
    **extra: t.Any,
) -> TestResponse:
    """Submit the registration form as a browser would."""
    data = {"email": email_address, "password": password, "password_confirm": confirm, **extra}
    if confirm is None:
        data["password_confirm"] = password
    return submit(client, "/register", data)


@pytest.fixture
def smtp(config: dict[str, t.Any]) -> t.Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 that the app sends to; ask for it before ``app``."""
    server = SMTPServer()
    server.start()
    config.update(server.config)
    yield server
    server.stop()


@pytest.fixture
def stop_delivery(app: Flask) -> t.Iterator[None]:
    """Stop the app's embedded delivery thread, if any, before the schema is dropped."""
    yield
    thread = app.extensions["mailproof"].delivery_thread
    if thread is not None:
        thread.stop(timeout=10)


def queue_mails(app, count, start=0):
    """Write ``count`` mails to the outbox in one committed transaction; return their ids."""
    with app.test_request_context():
        rows = [
            current_state().outbox.queue(
                f"user{n}@example.com",
                "account_exists",
                {
                    "user": types.SimpleNamespace(email=f"user{n}@example.com"),
                    "login_link": "https://mailproof.test/login",
                    "reset_link": None,
                },
            )
            for n in range(start, start + count)
        ]
        db.session.commit()
        return [row.id for row in rows]


#: What a signed token looks like (payload.timestamp.signature), and a mailed link with one.
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{16,}")
_TOKEN_LINK = re.compile(r"https?://\S+/(?:confirm|reset|change-email|contact/verify)/\S+")


def secrets_in(text: str, secrets: t.Iterable[str]) -> list[str]:
    """Return the passwords, tokens and mailed links that appear in ``text``."""
    found = [secret for secret in secrets if secret in text]
    return found + _TOKEN_SHAPE.findall(text) + _TOKEN_LINK.findall(text)


@pytest.fixture(autouse=True)
def seen_secrets(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> t.Iterator[set[str]]:
    """Fail any test whose logs show a password the app handled or a token it issued.

    Autouse, so the logs of the whole suite are checked; yields the set of secrets seen.
    """
    seen: set[str] = set()
    normalise, issue = passwords_module.normalise_password, Tokens.issue

    def recording_normalise(password: str) -> str:
        # Short or all-digit test values would match unrelated log text; real ones are long.
        if len(password.strip()) >= 10 and not password.isdigit():
            seen.add(password)
        return normalise(password)

    def recording_issue(self: Tokens, purpose: t.Any, payload: dict[str, t.Any]) -> str:
        token = issue(self, purpose, payload)
        seen.add(token)
        return token

    monkeypatch.setattr(passwords_module, "normalise_password", recording_normalise)
    monkeypatch.setattr(Tokens, "issue", recording_issue)
    caplog.set_level(logging.DEBUG, logger="flask_mailproof")
    yield seen
    records = [*caplog.get_records("setup"), *caplog.get_records("call")]
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}" for r in records)
    leaked = secrets_in(text, seen)
    assert not leaked, f"secrets reached the logs: {leaked}"


_CSRF_ANYWHERE = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]+(")')


def without_csrf(body: bytes) -> bytes:
    """Return a page with its CSRF tokens blanked, the only part that differs per session."""
    return _CSRF_ANYWHERE.sub(r"\1-\2", body.decode("utf-8")).encode("utf-8")


def session_of(app: Flask, response: TestResponse) -> dict[str, t.Any] | None:
    """Return what the session cookie set by ``response`` holds, or ``None`` if none is set."""
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        if name == app.config["SESSION_COOKIE_NAME"]:
            value = rest.split(";", 1)[0]
            return dict(serializer.loads(value)) if value else {}
    return None


def raw_post(client: FlaskClient, url: str, fields: dict[str, bytes]) -> TestResponse:
    """POST ``fields`` to the form at ``url``, urlencoded by hand so that any bytes get
    through (invalid UTF-8, lone surrogates), with the page's CSRF token."""
    token = csrf_token(client.get(url)).encode()
    pairs = [(b"csrf_token", token), *((name.encode(), value) for name, value in fields.items())]
    body = b"&".join(
        quote_from_bytes(k).encode() + b"=" + quote_from_bytes(v).encode() for k, v in pairs
    )
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def another_app(config: dict[str, t.Any]) -> t.Iterator[t.Callable[..., Flask]]:
    """Return a factory of more apps on the test's database (another process, a new key),
    ``another_app(SETTING=value)``; their connections are closed after the test."""
    made: list[Flask] = []

    def make(**overrides: t.Any) -> Flask:
        application = create_app({**config, **overrides})
        made.append(application)
        return application

    yield make
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def smtputf8_smtp(config: dict[str, t.Any]) -> t.Iterator[SMTPServer]:
    """Like ``smtp``, but the server advertises SMTPUTF8 (RFC 6531); ask for it before ``app``."""
    server = SMTPServer(smtputf8=True)
    server.start()
    config.update(server.config)
    yield server
    server.stop()


#: Forms a visitor reaches only logged in, or only through a reset link.
FORMS_NEEDING_A_LOGIN = ("/change-password", "/change-email")
FORM_OWNER = "owner@example.com"


def open_form(app: Flask, client: FlaskClient, url: str) -> None:
    """Put ``client`` where the form at ``url`` can be posted: logged in as ``FORM_OWNER``
    (who must exist) for the account forms, the reset token in the session for
    ``/reset/set-password``; nothing for the others."""
    if url in FORMS_NEEDING_A_LOGIN:
        response = submit(client, "/login", {"email": FORM_OWNER, "password": PASSWORD})
        assert response.status_code == 302
    elif url == "/reset/set-password":
        with app.app_context():
            user = db.session.scalars(
                select(models.user).where(models.user.email_key == address_key(FORM_OWNER))
            ).one()
            token = reset_token(user)
        client.get(f"/reset/{token}")
