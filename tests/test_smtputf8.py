"""Internationalised addresses (RFC 6531): mail to them goes with SMTPUTF8, to a real server."""

from __future__ import annotations

import contextlib
import email
import email.policy

import pytest
from sqlalchemy import select

from demo.models import db, models
from flask_mailproof.errors import PermanentDeliveryError
from flask_mailproof.mail.delivery import deliver_pending
from flask_mailproof.mail.transports import SMTPTransport
from flask_mailproof.state import current_state
from helpers import PASSWORD, queue_mails, submit

JOSE = "jos\u00e9@example.com"


def register(client, address):
    return submit(
        client, "/register", {"email": address, "password": PASSWORD, "password_confirm": PASSWORD}
    )


def deliver(app, transport=None):
    with app.app_context():
        state = current_state()
        return deliver_pending(
            db.session, models.outbox, transport or state.transport, state.settings
        )


def rows(app):
    with app.app_context():
        found = db.session.scalars(select(models.outbox).order_by(models.outbox.id)).all()
        db.session.expunge_all()
        return found


def header_lines(raw):
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


def test_confirmation_to_a_non_ascii_address_goes_with_smtputf8(smtputf8_smtp, app, client):
    register(client, JOSE)

    report = deliver(app)

    assert report.sent == 1
    [envelope] = smtputf8_smtp.envelopes
    assert "SMTPUTF8" in envelope.mail_options
    assert envelope.rcpt_tos == [JOSE]
    assert f"To: {JOSE}".encode() in header_lines(envelope.original_content)
    [message] = smtputf8_smtp.received
    assert message["To"] == JOSE
    assert message["Subject"] == "Confirm your email address"
    assert JOSE in message.get_body(preferencelist=("plain",)).get_content()


def test_a_non_ascii_address_is_never_an_encoded_word(smtputf8_smtp, app, client):
    register(client, JOSE)

    [row] = rows(app)

    assert f"To: {JOSE}\r\n" in row.raw
    assert "=?" not in row.raw.split("\r\n\r\n", 1)[0]


def test_a_server_without_smtputf8_fails_that_message_and_delivers_the_next(
    smtp, app, client, outbox
):
    register(client, JOSE)
    queue_mails(app, 1)

    report = deliver(app)

    assert (report.failed, report.sent) == (1, 1)
    first, second = rows(app)
    assert (first.recipient, first.status, first.attempts) == (JOSE, "failed", 1)
    assert "does not support SMTPUTF8" in first.last_error
    assert second.status == "sent"
    assert smtp.recipients == ["user0@example.com"]


def test_a_server_without_smtputf8_is_not_retried(smtp, app, client):
    register(client, JOSE)
    deliver(app)

    assert deliver(app).handled == 0
    assert smtp.attempts == []


def test_ascii_mail_stays_ascii_and_goes_without_smtputf8(smtputf8_smtp, app, client):
    register(client, "alice@example.com")

    deliver(app)

    [row] = rows(app)
    assert row.raw.isascii()
    [envelope] = smtputf8_smtp.envelopes
    assert "SMTPUTF8" not in envelope.mail_options
    assert envelope.original_content.isascii()
    assert "Content-Transfer-Encoding: quoted-printable" in row.raw


def test_a_non_ascii_reply_to_makes_the_mail_smtputf8(smtputf8_smtp, app):
    with app.test_request_context():
        context = {"user": None, "login_link": "https://x.test/login", "reset_link": None}
        current_state().outbox.queue("a@example.com", "account_exists", context, reply_to=JOSE)
        db.session.commit()

    deliver(app)

    [envelope] = smtputf8_smtp.envelopes
    assert "SMTPUTF8" in envelope.mail_options
    assert envelope.rcpt_tos == ["a@example.com"]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["Reply-To"] == JOSE


class _BrokenForOne:
    """A transport whose connection has a bug for one recipient: it raises what nobody expects."""

    name = "broken-for-one"

    def __init__(self, transport, recipient):
        self._transport = transport
        self._recipient = recipient

    @contextlib.contextmanager
    def connect(self):
        with self._transport.connect() as connection:
            yield self._Connection(connection, self._recipient)

    class _Connection:
        def __init__(self, connection, recipient):
            self._connection = connection
            self._recipient = recipient

        def send(self, envelope_from, recipient, raw, *, smtputf8=False):
            if recipient == self._recipient:
                raise KeyError("a bug in the transport")
            self._connection.send(envelope_from, recipient, raw, smtputf8=smtputf8)


def test_an_unexpected_error_fails_one_message_and_the_batch_goes_on(smtp, app, caplog):
    queue_mails(app, 3)
    transport = _BrokenForOne(SMTPTransport(smtp.host, smtp.port), "user1@example.com")

    report = deliver(app, transport)

    assert (report.sent, report.failed) == (2, 1)
    assert [row.status for row in rows(app)] == ["sent", "failed", "sent"]
    assert "a bug in the transport" in rows(app)[1].last_error
    assert smtp.recipients == ["user0@example.com", "user2@example.com"]
    assert "unexpected error while sending" in caplog.text


def test_an_error_half_way_through_a_transaction_leaves_the_connection_usable(smtp):
    ascii_mail = b"From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n"

    with SMTPTransport(smtp.host, smtp.port).connect() as connection:
        # Without SMTPUTF8, smtplib cannot write this RCPT TO: MAIL FROM is already sent.
        with pytest.raises(UnicodeEncodeError):
            connection.send("a@example.com", JOSE, b"x", smtputf8=False)
        connection.send("a@example.com", "b@example.com", ascii_mail)

    assert smtp.recipients == ["b@example.com"]


def test_the_smtputf8_refusal_is_a_permanent_error(smtp):
    transport = SMTPTransport(smtp.host, smtp.port)

    with transport.connect() as connection, pytest.raises(PermanentDeliveryError, match="SMTP"):
        connection.send("a@example.com", JOSE, b"x", smtputf8=True)


def test_the_dev_mailbox_shows_a_mail_to_a_non_ascii_address(app, client):
    register(client, JOSE)
    [row] = rows(app)

    page = client.get(f"/_mail/{row.id}").text

    assert JOSE in page
    assert "/confirm/" in page
