"""The development mailbox shows every live link: only this machine and ``flask run`` see it."""

from __future__ import annotations

import logging

import pytest

from demo import create_app
from helpers import register


@pytest.fixture
def config(config):
    # As under gunicorn with FLASK_DEBUG=1 left on: debug, and no explicit setting.
    config["DEBUG"] = True
    del config["MAILPROOF_DEV_MAILBOX"]
    return config


def mailbox_status(client, **environ):
    """Return the status of ``/_mail`` and of one mail's page, asked with ``environ``."""
    return (
        client.get("/_mail", environ_base=environ).status_code,
        client.get("/_mail/1", environ_base=environ).status_code,
    )


@pytest.mark.parametrize("address", ["203.0.113.9", "10.0.0.2", "2001:db8::1", "::ffff:10.0.0.2"])
def test_a_client_elsewhere_gets_a_404(client, address):
    register(client)

    assert mailbox_status(client, REMOTE_ADDR=address) == (404, 404)


@pytest.mark.parametrize("address", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_client_reads_it(client, address):
    register(client)

    assert mailbox_status(client, REMOTE_ADDR=address) == (200, 200)


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_a_proxy_on_this_machine_does_not_pass_for_a_local_client(client, header):
    # A reverse proxy on the same host connects from 127.0.0.1 for every visitor.
    register(client)

    assert mailbox_status(
        client,
        REMOTE_ADDR="127.0.0.1",
        **{f"HTTP_{header.upper().replace('-', '_')}": "203.0.113.9"},
    ) == (404, 404)


@pytest.mark.app_config(PROXY_FIX_X_FOR=1)
def test_behind_proxy_fix_the_forwarded_client_decides(client):
    register(client)

    assert mailbox_status(client, HTTP_X_FORWARDED_FOR="203.0.113.9") == (404, 404)
    assert mailbox_status(client, HTTP_X_FORWARDED_FOR="127.0.0.1") == (200, 200)


def test_the_development_server_serves_every_client(client):
    register(client)

    status = mailbox_status(client, REMOTE_ADDR="192.0.2.7", SERVER_SOFTWARE="Werkzeug/3.1.3")

    assert status == (200, 200)


@pytest.mark.app_config(MAILPROOF_DEV_MAILBOX_ANY_CLIENT=True)
def test_the_setting_serves_every_client_on_purpose(client):
    register(client)

    assert mailbox_status(client, REMOTE_ADDR="203.0.113.9") == (200, 200)


def startup_warnings(caplog, config):
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flask_mailproof"):
        create_app(config)
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "flask_mailproof.startup" and r.levelno == logging.WARNING
    ]


def test_start_up_warns_when_the_mailbox_is_on_and_says_who_reads_it(caplog, config):
    [warning] = startup_warnings(caplog, config)

    assert "/_mail" in warning
    assert "loopback" in warning


def test_start_up_warns_louder_when_every_client_reads_it(caplog, config):
    config["MAILPROOF_DEV_MAILBOX_ANY_CLIENT"] = True

    [warning] = startup_warnings(caplog, config)

    assert "any client" in warning


def test_start_up_warns_when_the_setting_turns_it_on_outside_debug(caplog, config):
    config.update(DEBUG=False, MAILPROOF_DEV_MAILBOX=True)

    assert len(startup_warnings(caplog, config)) == 1


def test_no_warning_when_the_mailbox_is_off(caplog, config):
    config.update(DEBUG=False)

    assert startup_warnings(caplog, config) == []
