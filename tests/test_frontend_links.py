"""Mailed links can point at a single-page front end that then calls the API."""

from __future__ import annotations

import pytest

from demo import create_app
from flask_mailproof.errors import ConfigurationError
from helpers import submit


@pytest.fixture
def config(config):
    config["MAILPROOF_FRONTEND_URLS"] = {"confirm": "https://app.example/confirm?token={token}"}
    return config


def test_confirmation_mail_links_to_the_front_end(client, outbox):
    password = "correct horse battery staple"
    submit(
        client,
        "/register",
        {"email": "spa@example.com", "password": password, "password_confirm": password},
    )

    [link] = outbox()[0].links

    assert link.startswith("https://app.example/confirm?token=")


def test_a_pattern_without_token_is_refused_at_start(config):
    config["MAILPROOF_FRONTEND_URLS"] = {"confirm": "https://app.example/confirm"}

    with pytest.raises(ConfigurationError):
        create_app(config)
