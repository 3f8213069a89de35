"""Start-up warnings for mail settings that send a password in the clear."""

from __future__ import annotations

import logging

import pytest

from demo import create_app

SMTP = {"MAIL_SERVER": "smtp.example.com", "MAIL_PORT": 587, "MAIL_USERNAME": "site"}


def startup_warnings(caplog, config):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_mailproof"):
        create_app(config)
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "flask_mailproof.startup" and "MAIL_USERNAME" in r.getMessage()
    ]


def test_smtp_auth_without_tls_or_ssl_is_warned_about(caplog, config):
    config.update(SMTP, MAIL_PASSWORD="secret-smtp-password")

    [warning] = startup_warnings(caplog, config)

    assert "MAIL_USE_TLS" in warning
    assert "smtp.example.com" in warning
    assert "secret-smtp-password" not in warning


@pytest.mark.parametrize("secure", [{"MAIL_USE_TLS": True}, {"MAIL_USE_SSL": True}])
def test_smtp_auth_over_tls_or_ssl_is_not(caplog, config, secure):
    config.update(SMTP, **secure)

    assert startup_warnings(caplog, config) == []


def test_smtp_without_auth_is_not(caplog, config):
    config.update(SMTP, MAIL_USERNAME=None)

    assert startup_warnings(caplog, config) == []
