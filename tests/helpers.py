"""Plain helpers and constants the tests share: configuration, form posts, CSRF tokens,
parsed mails. Tests import them (``from helpers import ...``); the fixtures stay in conftest.py."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import os
import re
import types
import typing as t
from typing import AnyStr
from urllib.parse import quote_from_bytes, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from demo.models import db, models
from flask_mailproof import JSONFormatter
from flask_mailproof.addresses import address_key
from flask_mailproof.flows.password_reset import reset_token
from flask_mailproof.state import current_state

#: The base URL every mailed link must start with in tests.
BASE_URL = "https://mailproof.test"
#: A password that passes the policy.
PASSWORD = "correct horse battery staple"

#: A form's CSRF field, as WTForms renders it (``id="csrf_token" name="csrf_token"
#: type="hidden" value=...``) or as a template writes a button's by hand (``type="hidden"
#: name="csrf_token" value=...``, the navigation's "Log out" among them).
_CSRF = re.compile(r'(name="csrf_token"(?: type="hidden")? value=")([^"]+)(")')
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


def _text(page: TestResponse | str | bytes) -> str:
    if isinstance(page, TestResponse):
        return page.get_data(as_text=True)
    return page.decode("utf-8") if isinstance(page, bytes) else page


def csrf_token(page: TestResponse | str | bytes) -> str:
    """Return the first CSRF token in ``page``, a response or its body (``str`` or ``bytes``).

    A page renders one token, whichever form (or button) it sits in."""
    text = _text(page)
    match = _CSRF.search(text)
    assert match, f"no CSRF token in the page:\n{text}"
    return match.group(2)


def without_csrf(page: AnyStr) -> AnyStr:
    """Return a page's body (``str`` or ``bytes``) with its CSRF tokens blanked, the only part
    that differs per session."""
    if isinstance(page, bytes):
        return _CSRF.sub(r"\1-\3", page.decode("utf-8")).encode("utf-8")
    return _CSRF.sub(r"\1-\3", page)


def submit(
    client: FlaskClient, url: str, data: dict[str, t.Any] | None = None, **kwargs: t.Any
) -> TestResponse:
    """GET the page at ``url`` for its CSRF token, then POST ``data`` to it, as a browser would."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page), **(data or {})}, **kwargs)


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


def logged_text(records: t.Iterable[logging.LogRecord]) -> str:
    """Return what ``records`` would put in a log: messages, tracebacks and the JSON lines.

    The JSON lines (flask_mailproof.JSONFormatter) carry fields the message does not
    (``account_id``...), so a token put there would show only in them.
    """
    json_lines = JSONFormatter()
    return "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.stack_info or ''} {json_lines.format(r)}"
        for r in records
    )


def secrets_in(text: str, secrets: t.Iterable[str]) -> list[str]:
    """Return the passwords, tokens and mailed links that appear in ``text``."""
    found = [secret for secret in secrets if secret in text]
    return found + _TOKEN_SHAPE.findall(text) + _TOKEN_LINK.findall(text)


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
