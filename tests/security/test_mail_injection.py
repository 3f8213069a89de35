"""Mail headers: one recipient per mail, no header smuggled in, checked at a real SMTP server."""

from __future__ import annotations

import email
import email.policy
import types

import pytest
from sqlalchemy import func, select

from demo.models import db, models
from flask_mailproof.errors import HeaderInjection
from flask_mailproof.mail.delivery import deliver_pending
from flask_mailproof.state import current_state
from helpers import PASSWORD, submit

LONG_LOCAL = "a" * 64 + "@example.com"


def deliver(app):
    with app.app_context():
        state = current_state()
        return deliver_pending(db.session, models.outbox, state.transport, state.settings)


def parsed(caught):
    return email.message_from_bytes(caught.original_content, policy=email.policy.default)


def register(client, address):
    return submit(
        client,
        "/register",
        {"email": address, "password": PASSWORD, "password_confirm": PASSWORD},
    )


def rows(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(models.outbox))


def queue(reply_to):
    context = {
        "user": types.SimpleNamespace(email="a@example.com"),
        "link": "https://mailproof.test/confirm/x",
        "expires_in": "24 hours",
    }
    current_state().outbox.queue("a@example.com", "confirm", context, reply_to=reply_to)


@pytest.mark.parametrize("address", [LONG_LOCAL, "Bob@EXAMPLE.com", "x+y@b\u00fccher.de"])
def test_the_smtp_server_sees_one_recipient_and_one_to_header(smtp, app, client, address):
    register(client, address)

    report = deliver(app)

    [caught] = smtp.envelopes
    stored = current_address(app)
    assert report.sent == 1
    assert caught.rcpt_tos == [stored]
    message = parsed(caught)
    assert message.get_all("To") == [stored]
    for name in ("Cc", "Bcc", "Reply-To"):
        assert message.get_all(name) is None


def current_address(app):
    with app.app_context():
        return db.session.scalars(select(models.user.email)).one()


@pytest.mark.parametrize(
    "address",
    ["a@example.com\r\nBcc: evil@x.example", "a@example.com\nRCPT TO:<evil@x.example>"],
)
def test_a_line_break_in_the_address_never_reaches_the_smtp_server(smtp, app, client, address):
    response = register(client, address)
    deliver(app)

    assert response.status_code == 422
    assert smtp.envelopes == []


@pytest.mark.parametrize(
    "reply_to",
    [
        "Eve <eve@x.example>\r\nBcc: victim@x.example",
        "Eve\n <eve@x.example>",
        "=?utf-8?q?Eve=0D=0ABcc=3A_victim=40x.example?= <eve@x.example>",
        "=?utf-8?b?RXZlDQpCY2M6IHZpY3RpbUB4LmV4YW1wbGU=?= <eve@x.example>",
        "Eve\u2028Bcc: victim@x.example <eve@x.example>",
    ],
    ids=["CRLF", "LF", "encoded CRLF (q)", "encoded CRLF (b)", "line separator"],
)
def test_a_line_break_in_reply_to_is_refused_before_anything_is_written(app, reply_to):
    with app.app_context():
        with pytest.raises(HeaderInjection):
            queue(reply_to)
        db.session.commit()

    assert rows(app) == 0


def test_a_header_injection_in_a_request_answers_400_and_writes_nothing(app, client):
    @app.post("/leaky-form")
    def leaky_form():
        queue("Eve <eve@x.example>\r\nBcc: victim@x.example")
        db.session.commit()
        return "sent"

    app.config["WTF_CSRF_CHECK_DEFAULT"] = False

    response = client.post("/leaky-form")

    assert response.status_code == 400
    assert rows(app) == 0


def test_a_safe_reply_to_arrives_as_one_header(smtp, app):
    with app.app_context():
        queue("Zo\u00eb Example <zoe@example.com>")
        db.session.commit()

    deliver(app)

    [caught] = smtp.envelopes
    message = parsed(caught)
    assert caught.rcpt_tos == ["a@example.com"]
    assert [str(v) for v in message.get_all("Reply-To")] == ["Zo\u00eb Example <zoe@example.com>"]
    assert message.get_all("Bcc") is None


CONTACT_INJECTION = "Ada\r\nBcc: victim@example.net\r\nSubject: pwned\nX-Evil: 1\r\n\r\nbody"


@pytest.mark.parametrize("field", ["name", "message"])
def test_a_line_break_in_a_contact_field_never_reaches_a_header(smtp, app, client, outbox, field):
    fields = {"name": "Ada", "email": "ada@example.com", "message": "Hello"}
    submit(client, "/contact", {**fields, field: CONTACT_INJECTION})
    submit(client, outbox("ada@example.com")[0].link("/contact/verify/"))

    report = deliver(app)

    assert report.sent == len(smtp.envelopes) == 2  # the verification mail and the message
    for caught in smtp.envelopes:
        assert "victim@example.net" not in caught.rcpt_tos
        headers = caught.original_content.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
        for smuggled in (b"victim@example.net", b"pwned", b"X-Evil"):
            assert smuggled not in headers
        assert parsed(caught).get_all("Bcc") is None
