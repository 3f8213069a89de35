"""Fixtures shared by every test: the app on a clean database, clients, mail, factories.

Plain helpers and constants (no fixtures) are in helpers.py; tests import them from there."""

from __future__ import annotations

import logging
import typing as t

import pytest
from flask import Flask
from flask import session as flask_session
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from demo import create_app
from demo.models import db, models
from flask_mailproof import passwords as passwords_module
from flask_mailproof.addresses import address_key, parse_address
from flask_mailproof.clock import utcnow
from flask_mailproof.sessions import begin_session
from flask_mailproof.state import current_state
from flask_mailproof.tokens import Tokens
from helpers import PASSWORD, Mail, logged_text, parse_mail, secrets_in, submit, test_config
from smtp import SMTPServer


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
    """Return a factory creating an account directly (no mail): ``make_user(email, ...)``;
    ``password=None`` makes an account without a password (it signs in by mail)."""
    counter = iter(range(1, 1_000_000))

    def make(
        email_address: str | None = None,
        *,
        password: str | None = PASSWORD,
        confirmed: bool = True,
        **columns: t.Any,
    ) -> t.Any:
        with app.app_context():
            address = parse_address(email_address or f"user{next(counter)}@example.com")
            now = utcnow()
            user = models.user(
                email=address.email,
                email_key=address.key,
                password_hash=None
                if password is None
                else current_state().passwords.hash(password),
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
def login_by_mail(app: Flask, client: FlaskClient) -> t.Callable[..., None]:
    """Return a function logging ``client`` in as if by an emailed link or code.

    The real :func:`~flask_mailproof.sessions.begin_session` runs in a request context of the
    app, and ``client`` gets the session cookie it set; freeze or move time around it to make
    the login fresh or stale.
    """

    def log_in(email_address: str, method: str = "email_link") -> None:
        with app.test_request_context():
            user = db.session.scalars(
                select(models.user).where(models.user.email_key == address_key(email_address))
            ).one()
            begin_session(user, remember=False, method=method)  # type: ignore[arg-type]
            response = app.response_class()
            app.session_interface.save_session(app, flask_session, response)
        for header in response.headers.getlist("Set-Cookie"):
            name, _, rest = header.partition("=")
            client.set_cookie(name, rest.split(";", 1)[0])

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


@pytest.fixture(autouse=True)
def closed_database_pools() -> t.Iterator[None]:
    """Close the connection pool of every app the test made, once it ends.

    Many tests build apps of their own (``create_app(config)``) and drop them; since the
    extension checks for its tables on the first request, their pools hold a connection. Left
    to the garbage collector, a pooled PostgreSQL connection warns that it was never closed,
    in whatever test runs then, and the suite treats warnings as errors. Flask-SQLAlchemy
    keeps its engines per app in ``_app_engines``; disposing one only empties its pool.
    """
    yield
    for engines in list(db._app_engines.values()):
        for engine in engines.values():
            engine.dispose()


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
    text = logged_text(records)
    leaked = secrets_in(text, seen)
    assert not leaked, f"secrets reached the logs: {leaked}"


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
