"""Signals: sent with the app as sender, with the documented arguments, at the right moment."""

from __future__ import annotations

import pytest

from flask_mailproof import (
    confirmation_sent,
    email_confirmed,
    user_logged_in,
    user_registered,
)
from flask_mailproof.mail.worker import drain
from flask_mailproof.signals import delivery_attempted, mail_queued
from helpers import csrf_token, queue_mails, register, submit


@pytest.fixture
def received(app):
    """Record every signal of the extension sent by ``app``: ``[(name, kwargs), ...]``."""
    log = []
    receivers = []
    for signal in (user_registered, confirmation_sent, email_confirmed, user_logged_in):

        def receive(sender, _name=signal.name, **kwargs):
            assert sender is app
            log.append((_name, kwargs))

        signal.connect(receive, sender=app)
        receivers.append((signal, receive))
    yield log
    for signal, receive in receivers:
        signal.disconnect(receive, sender=app)


def _names(received):
    return [name for name, _ in received]


def test_registration_sends_user_registered_and_confirmation_sent(client, received):
    register(client)

    assert _names(received) == ["user-registered", "confirmation-sent"]
    assert all(kwargs["user"].email == "alice@example.com" for _, kwargs in received)


def test_registering_an_existing_address_sends_no_user_registered(client, make_user, received):
    make_user("alice@example.com")

    register(client)

    assert "user-registered" not in _names(received)


def test_signing_up_again_for_an_unconfirmed_address_sends_confirmation_sent(
    app, received, time_machine
):
    """A new link went out, to the account signed up for: a host app counting or logging
    confirmation mails hears of it as of any other."""
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    register(app.test_client())
    received.clear()
    time_machine.shift(180)

    register(app.test_client(), password="another long passphrase here")

    assert _names(received) == ["confirmation-sent"]
    assert received[0][1]["user"].email == "alice@example.com"


def test_resend_sends_confirmation_sent(client, received, login, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    register(client)
    login("alice@example.com")
    received.clear()
    time_machine.shift(180)

    page = client.get("/unconfirmed")
    client.post("/resend", data={"csrf_token": csrf_token(page)})

    assert _names(received) == ["confirmation-sent"]


def test_confirmation_get_sends_nothing_and_post_sends_email_confirmed(client, outbox, received):
    register(client)
    link = outbox()[0].link("/confirm/")
    received.clear()

    client.get(link)
    assert received == []

    submit(client, link)
    assert _names(received) == ["email-confirmed"]
    assert received[0][1]["user"].confirmed_at is not None


def test_login_sends_user_logged_in(client, make_user, login, received):
    make_user("alice@example.com")

    login("alice@example.com")

    assert _names(received) == ["user-logged-in"]
    assert received[0][1]["user"].email == "alice@example.com"
    # A receiver tells a password login from one by mail (an audit log, a "new sign-in" mail).
    assert received[0][1]["method"] == "password"


def test_failed_login_sends_nothing(client, make_user, received):
    make_user("alice@example.com")

    submit(client, "/login", {"email": "alice@example.com", "password": "not it at all"})

    assert received == []


def test_mail_queued_is_sent_after_the_commit_with_the_kind(app, client):
    seen = []

    def receive(sender, **kwargs):
        seen.append((kwargs["kind"], kwargs["message_id"]))

    with mail_queued.connected_to(receive, sender=app):
        register(client)

    [(kind, message_id)] = seen
    assert kind == "confirm"
    assert message_id.startswith("<")


def test_delivery_attempted_tells_the_outcome_and_its_reason(smtp, app):
    smtp.replies.append("451 4.3.0 busy")
    queue_mails(app, 2)
    seen = []

    def receive(sender, **kwargs):
        seen.append((kwargs["message"].kind, kwargs["outcome"], kwargs["reason"]))

    with delivery_attempted.connected_to(receive, sender=app), app.app_context():
        drain()

    assert sorted(seen) == [
        ("account_exists", "retry", "temporary"),
        ("account_exists", "sent", None),
    ]
