"""Settings: read once into a frozen object, checked at start-up."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from demo import create_app
from flask_mailproof import ConfigurationError, Mailproof, Settings, define_models
from flask_mailproof.state import current_state
from helpers import register


def _settings(config):
    app = create_app(config)
    return app.extensions["mailproof"].settings


def test_base_url_is_required_outside_debug(config):
    del config["MAILPROOF_BASE_URL"]

    with pytest.raises(ConfigurationError, match="MAILPROOF_BASE_URL is required"):
        create_app(config)


def test_base_url_may_be_left_out_in_debug(config):
    del config["MAILPROOF_BASE_URL"]
    config["DEBUG"] = True

    app = create_app(config)

    assert app.extensions["mailproof"].link_root == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "base_url",
    [
        "example.com",
        "ftp://example.com",
        "https://",
        "https://user:pw@example.com",
        "https://example.com/?next=x",
        "https://example.com/#top",
        "javascript:alert(1)",
    ],
)
def test_malformed_base_url_is_refused(config, base_url):
    config["MAILPROOF_BASE_URL"] = base_url

    with pytest.raises(ConfigurationError, match="MAILPROOF_BASE_URL"):
        create_app(config)


@pytest.mark.parametrize(
    "base_url", ["https://example.com", "http://localhost:8000", "https://example.com/app/"]
)
def test_well_formed_base_url_is_accepted(config, base_url):
    config["MAILPROOF_BASE_URL"] = base_url

    assert _settings(config).base_url == base_url


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAILPROOF_CONFIRM_MAX_AGE", "86400"),
        ("MAILPROOF_CONFIRM_MAX_AGE", 1.5),
        ("MAILPROOF_RESEND_INTERVAL", True),
        ("MAILPROOF_DEV_MAILBOX", "yes"),
        ("MAILPROOF_DEV_MAILBOX", 1),
        ("MAILPROOF_BASE_URL", 443),
        ("MAILPROOF_PASSWORD_MIN_LENGTH", None),
    ],
)
def test_values_of_the_wrong_type_are_refused_at_start(config, name, value):
    config[name] = value

    with pytest.raises(ConfigurationError, match=name):
        create_app(config)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAILPROOF_CONFIRM_MAX_AGE", 0),
        ("MAILPROOF_CONFIRM_MAX_AGE", -1),
        ("MAILPROOF_RESEND_INTERVAL", -1),
        ("MAILPROOF_UNCONFIRMED_GRACE", -60),
        ("MAILPROOF_PASSWORD_MIN_LENGTH", 7),
        ("MAILPROOF_PASSWORD_MAX_BYTES", 100),
        ("MAILPROOF_PASSWORD_MIN_SCORE", 5),
        ("MAILPROOF_ARGON2_TIME_COST", 0),
        ("MAILPROOF_LOGIN_MAX_AGE", 0),
        ("MAILPROOF_DELIVERY", "carrier-pigeon"),
        ("MAILPROOF_DELIVERY_CONCURRENCY", 0),
        ("MAILPROOF_DELIVERY_CONCURRENCY", 2.5),
        ("MAILPROOF_DELIVERY_LEASE", 0),
    ],
)
def test_values_out_of_range_are_refused_at_start(config, name, value):
    config[name] = value

    with pytest.raises(ConfigurationError, match=name):
        create_app(config)


def test_zero_resend_interval_and_grace_are_allowed(config):
    config["MAILPROOF_RESEND_INTERVAL"] = 0
    config["MAILPROOF_UNCONFIRMED_GRACE"] = 0

    settings = _settings(config)

    assert (settings.resend_interval, settings.unconfirmed_grace) == (0, 0)


def test_defaults_match_the_documented_ones():
    settings = Settings()

    assert settings.confirm_max_age == 86400
    assert settings.reset_max_age == 3600
    assert settings.email_change_max_age == 86400
    assert settings.contact_max_age == 900
    assert settings.resend_interval == 180
    assert settings.password_min_length == 15
    assert settings.unconfirmed_grace == 0
    assert settings.dev_mailbox is None
    assert settings.check_deliverability is False
    assert settings.delivery_concurrency == 8
    assert settings.delivery_lease == 15


def test_settings_are_read_once_and_frozen(config):
    app = create_app(config)
    app.config["MAILPROOF_RESEND_INTERVAL"] = 1

    with app.app_context():
        settings = current_state().settings
        assert settings.resend_interval == 180
        with pytest.raises(dataclasses.FrozenInstanceError):
            settings.resend_interval = 1  # type: ignore[misc]


def test_sender_falls_back_to_flask_mails_default_sender(config):
    config["MAIL_DEFAULT_SENDER"] = ("Example", "hello@example.com")

    assert _settings(config).mail_sender == "Example <hello@example.com>"


@pytest.mark.parametrize("duration", [86400 * 30, dt.timedelta(days=30)])
def test_login_max_age_falls_back_to_the_remember_cookie_duration(config, duration):
    config["REMEMBER_COOKIE_DURATION"] = duration

    assert _settings(config).login_max_age == 86400 * 30


def test_login_max_age_wins_over_the_remember_cookie_duration(config):
    config.update(REMEMBER_COOKIE_DURATION=dt.timedelta(days=30), MAILPROOF_LOGIN_MAX_AGE=3600)

    assert _settings(config).login_max_age == 3600


def test_secret_key_is_required(tmp_path):
    app = Flask(__name__)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.sqlite3'}",
        MAILPROOF_BASE_URL="https://example.com",
    )
    db = SQLAlchemy()
    db.init_app(app)

    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        Mailproof(app, db=db, models=define_models(db))


def test_db_and_models_are_required():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="k" * 32, MAILPROOF_BASE_URL="https://example.com")

    with pytest.raises(ConfigurationError, match="define_models"):
        Mailproof(app)


def test_links_keep_the_path_of_the_base_url(config, request):
    config["MAILPROOF_BASE_URL"] = "https://example.com/accounts/"
    client = request.getfixturevalue("client")
    outbox = request.getfixturevalue("outbox")

    register(client)

    assert outbox()[0].links[0].startswith("https://example.com/accounts/confirm/")


def test_a_misspelt_setting_is_refused_with_the_closest_name(config):
    config["MAILPROOF_RESET_MAXAGE"] = 600

    with pytest.raises(ConfigurationError, match="Did you mean MAILPROOF_RESET_MAX_AGE"):
        create_app(config)


def test_an_unknown_setting_is_refused(config):
    config["MAILPROOF_FROBNICATE"] = True

    with pytest.raises(ConfigurationError, match="MAILPROOF_FROBNICATE is not a"):
        create_app(config)


@pytest.mark.parametrize(
    ("name", "value"), [("MAILPROOF_DELIVERY", "threads"), ("MAILPROOF_VERIFICATION_CODES", "on")]
)
def test_a_closed_set_setting_names_its_choices(config, name, value):
    config[name] = value

    with pytest.raises(ConfigurationError, match=f"{name} must be one of '"):
        create_app(config)
