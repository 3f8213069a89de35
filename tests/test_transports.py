"""Transports: Flask-Mail's settings, TLS/SSL choices, and which replies are worth a retry."""

from __future__ import annotations

import pytest

from flask_mailproof.errors import PermanentDeliveryError, TemporaryDeliveryError
from flask_mailproof.mail.transports import (
    DevMailboxTransport,
    SMTPTransport,
    transport_from_config,
)


def test_without_mail_server_mail_stays_in_the_dev_mailbox():
    assert isinstance(transport_from_config({"MAIL_SERVER": None}), DevMailboxTransport)


def test_plain_smtp_defaults_to_port_25_without_tls():
    transport = transport_from_config({"MAIL_SERVER": "mail.example.com"})

    assert transport == SMTPTransport(host="mail.example.com", port=25)


def test_starttls_keeps_the_given_port_and_credentials():
    transport = SMTPTransport.from_config(
        {
            "MAIL_SERVER": "mail.example.com",
            "MAIL_PORT": 587,
            "MAIL_USE_TLS": True,
            "MAIL_USERNAME": "app",
            "MAIL_PASSWORD": "secret",
        }
    )

    assert (transport.port, transport.use_tls, transport.use_ssl) == (587, True, False)
    assert (transport.username, transport.password) == ("app", "secret")


def test_implicit_ssl_defaults_to_port_465():
    transport = SMTPTransport.from_config({"MAIL_SERVER": "mail.example.com", "MAIL_USE_SSL": True})

    assert (transport.port, transport.use_ssl, transport.use_tls) == (465, True, False)


def test_timeout_is_set_by_default_and_configurable():
    assert SMTPTransport.from_config({"MAIL_SERVER": "m"}).timeout == 10.0
    assert SMTPTransport.from_config({"MAIL_SERVER": "m", "MAIL_TIMEOUT": 3}).timeout == 3.0


def test_starttls_against_a_server_without_it_is_a_temporary_error(smtp):
    transport = SMTPTransport(host=smtp.host, port=smtp.port, use_tls=True, timeout=5)

    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        transport.open_client()


def test_ssl_against_a_plain_server_is_a_temporary_error(smtp):
    transport = SMTPTransport(host=smtp.host, port=smtp.port, use_ssl=True, timeout=5)

    with pytest.raises(TemporaryDeliveryError, match="cannot connect"):
        transport.open_client()


def test_one_connection_carries_a_whole_batch(smtp):
    transport = SMTPTransport(host=smtp.host, port=smtp.port, timeout=5)
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n"

    with transport.connect() as connection:
        connection.send("a@example.com", "b@example.com", raw)
        connection.send("a@example.com", "b@example.com", raw)

    assert len(smtp.received) == 2


def test_refusal_mid_batch_leaves_the_connection_usable(smtp):
    transport = SMTPTransport(host=smtp.host, port=smtp.port, timeout=5)
    raw = b"From: a@example.com\r\nTo: b@example.com\r\nMessage-ID: <1@x>\r\n\r\nhi\r\n"
    smtp.replies.append("550 5.7.1 refused")

    with transport.connect() as connection:
        with pytest.raises(PermanentDeliveryError, match="550"):
            connection.send("a@example.com", "b@example.com", raw)
        connection.send("a@example.com", "b@example.com", raw)

    assert len(smtp.received) == 1
