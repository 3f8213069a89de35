"""The production configuration: refuse unsafe settings at start, secure cookies, proxies."""

from __future__ import annotations

import secrets

import pytest
from flask import request

from demo import create_app
from demo.config import environment_settings
from flask_mailproof import ConfigurationError
from helpers import PASSWORD, submit


@pytest.fixture(autouse=True)
def no_settings_from_the_environment(monkeypatch):
    for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "MAILPROOF_BASE_URL", "FLASK_DEBUG"):
        monkeypatch.delenv(name, raising=False)


def test_refuses_to_start_without_secret_key(config):
    with pytest.raises(ConfigurationError, match="SECRET_KEY; set it"):
        create_app({**config, "SECRET_KEY": None})


def test_refuses_to_start_with_a_short_secret_key(config):
    with pytest.raises(ConfigurationError, match="SECRET_KEY has 31 characters, fewer than 32"):
        create_app({**config, "SECRET_KEY": secrets.token_hex(16)[:31]})


def test_starts_with_a_random_32_character_key(config):
    app = create_app({**config, "SECRET_KEY": secrets.token_hex(16)})

    assert len(app.secret_key) == 32


@pytest.mark.parametrize(
    "key",
    [
        "change-me",
        "dev",
        "secret",
        "CHANGE_ME_to_something_long_and_random_1234",
        "replace-me-with-the-output-of-token-hex-32",
        "django-insecure-7c2f4e9a1b3d5f6e8a0c2e4f6a8b0d2f",
        "your-secret-key-goes-here-and-is-very-long",
        "a" * 64,
        "abababababababababababababababababababab",
    ],
)
def test_refuses_to_start_with_a_placeholder_secret_key(config, key):
    with pytest.raises(ConfigurationError, match=r"SECRET_KEY .*long random string"):
        create_app({**config, "SECRET_KEY": key})


def test_refuses_a_placeholder_among_the_fallback_keys(config):
    with pytest.raises(ConfigurationError, match="SECRET_KEY_FALLBACKS is a placeholder"):
        create_app({**config, "SECRET_KEY_FALLBACKS": ["change-me-later-please-0123456789abcdef"]})


def test_refuses_fallback_keys_that_are_not_a_list(config):
    with pytest.raises(ConfigurationError, match="SECRET_KEY_FALLBACKS must be a list"):
        create_app({**config, "SECRET_KEY_FALLBACKS": secrets.token_hex(32)})


def test_refusal_says_how_to_make_a_key(config):
    with pytest.raises(ConfigurationError, match=r"secrets\.token_hex\(32\)"):
        create_app({**config, "SECRET_KEY": "dev"})


def test_debug_accepts_a_short_secret_key(config):
    app = create_app({**config, "DEBUG": True, "SECRET_KEY": "dev"})

    assert app.debug


def test_debug_without_secret_key_makes_one(config):
    app = create_app({**config, "DEBUG": True, "SECRET_KEY": None})

    assert len(app.secret_key) == 64


def test_refuses_to_start_without_base_url(config):
    del config["MAILPROOF_BASE_URL"]

    with pytest.raises(ConfigurationError, match="MAILPROOF_BASE_URL is required outside debug"):
        create_app(config)


def test_refuses_secret_key_from_the_environment_when_weak(config, monkeypatch):
    del config["SECRET_KEY"]
    monkeypatch.setenv("SECRET_KEY", "change-me")

    with pytest.raises(ConfigurationError, match="SECRET_KEY has 9 characters"):
        create_app(config)


@pytest.mark.parametrize("prefix", ["SESSION", "REMEMBER"])
def test_cookies_are_secure_httponly_and_lax_outside_debug(app, prefix):
    assert app.config[f"{prefix}_COOKIE_SECURE"] is True
    assert app.config[f"{prefix}_COOKIE_HTTPONLY"] is True
    assert app.config[f"{prefix}_COOKIE_SAMESITE"] == "Lax"


def test_login_sets_secure_cookies(client, make_user):
    make_user("carol@example.com")

    response = submit(
        client, "/login", {"email": "carol@example.com", "password": PASSWORD, "remember": "y"}
    )

    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} >= {"session", "remember_token"}
    for cookie in cookies:
        assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {p.strip() for p in cookie.split(";")}


def test_cookies_are_not_secure_in_debug(config):
    # The development server speaks plain http; a Secure cookie would never come back.
    app = create_app({**config, "DEBUG": True})

    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


def test_trusted_hosts_come_from_the_environment(config, monkeypatch):
    monkeypatch.setenv("TRUSTED_HOSTS", '["mailproof.test"]')
    app = create_app(config)
    client = app.test_client()

    assert client.get("/", headers={"Host": "mailproof.test"}).status_code == 200
    assert client.get("/", headers={"Host": "attacker.test"}).status_code == 400


def remote_view(config):
    app = create_app(config)

    @app.get("/_remote")
    def remote() -> str:
        return f"{request.remote_addr} {request.scheme} {request.host}"

    return app.test_client()


def test_forwarded_headers_are_ignored_without_proxy_fix(config):
    client = remote_view(config)

    response = client.get(
        "/_remote", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    )

    assert response.get_data(as_text=True) == "127.0.0.1 http localhost"


def test_proxy_fix_trusts_as_many_proxies_as_configured(config, monkeypatch):
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("PROXY_FIX_X_PROTO", "1")
    monkeypatch.setenv("PROXY_FIX_X_HOST", "1")
    client = remote_view(config)

    response = client.get(
        "/_remote",
        headers={
            # A client-sent value first, then the one our proxy appended: only the last counts.
            "X-Forwarded-For": "198.51.100.1, 203.0.113.9",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "mailproof.test",
        },
    )

    assert response.get_data(as_text=True) == "203.0.113.9 https mailproof.test"


def test_proxy_fix_refuses_a_count_that_is_not_a_number(config):
    with pytest.raises(ValueError, match="PROXY_FIX_X_FOR must be a number of proxies"):
        create_app({**config, "PROXY_FIX_X_FOR": "yes"})


def test_environment_values_parse_as_json():
    settings = environment_settings(
        {"PROXY_FIX_X_FOR": "2", "TRUSTED_HOSTS": '[".example.com"]', "HOME": "/root"}
    )

    assert settings == {"PROXY_FIX_X_FOR": 2, "TRUSTED_HOSTS": [".example.com"]}


def test_database_outage_answers_503_with_a_retry_page(config, tmp_path):
    config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"
    client = create_app(config).test_client()

    response = submit(
        client,
        "/register",
        {"email": "dan@example.com", "password": PASSWORD, "password_confirm": PASSWORD},
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "Please try again in a minute" in response.get_data(as_text=True)


def test_engine_options_come_from_the_environment(config, monkeypatch):
    monkeypatch.setenv("SQLALCHEMY_ENGINE_OPTIONS", '{"pool_pre_ping": true, "pool_size": 2}')

    app = create_app(config)

    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True, "pool_size": 2}


def test_debug_links_follow_the_development_server_port(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_PORT", "5123")
    monkeypatch.delenv("MAILPROOF_BASE_URL", raising=False)
    app = create_app(
        {
            "DEBUG": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'debug.sqlite3'}",
            "SECRET_KEY": "debug-links-test-key-0123456789abcdef",
        }
    )

    assert app.extensions["mailproof"].link_root == "http://127.0.0.1:5123"
