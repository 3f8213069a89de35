"""Abuse limits: per client IP and per address, 429 where it reveals nothing, lockout."""

from __future__ import annotations

import os
import uuid

import pytest
import redis
import time_machine
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_sqlalchemy import SQLAlchemy

from demo import create_app
from flask_mailproof import Mailproof, Settings, define_models
from flask_mailproof.errors import ConfigurationError
from flask_mailproof.flows.login import unlock_login
from flask_mailproof.limits import limiter_for
from helpers import PASSWORD, csrf_token, submit

WRONG = "not the password at all"


def register(client, email, password=PASSWORD):
    return submit(
        client, "/register", {"email": email, "password": password, "password_confirm": password}
    )


def log_in(client, email, password=WRONG):
    return submit(client, "/login", {"email": email, "password": password})


def from_ip(app, ip):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def test_defaults_follow_django_allauth():
    limits = Settings().rate_limits()

    assert limits["signup_per_ip"] == "20 per minute"
    assert limits["login_failures_per_ip"] == "10 per minute"
    assert limits["login_failures_per_address"] == "5 per 5 minutes; 20 per hour"
    assert limits["reset_per_ip"] == "20 per minute"
    assert limits["reset_per_address"] == "5 per minute"
    assert limits["resend_per_address"] == "1 per 3 minutes"
    assert limits["contact_per_address"] == "1 per 3 minutes"


@pytest.mark.app_config(MAILPROOF_LIMIT_SIGNUP_PER_IP="2 per minute")
def test_signup_over_the_ip_limit_gets_429_with_retry_after(client, get_user):
    register(client, "a@example.com")
    register(client, "b@example.com")

    response = register(client, "c@example.com")

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert get_user("c@example.com") is None


@pytest.mark.app_config(MAILPROOF_LIMIT_SIGNUP_PER_IP="1 per minute")
def test_signup_limit_counts_each_ip_apart(app):
    register(from_ip(app, "10.0.0.1"), "a@example.com")

    assert register(from_ip(app, "10.0.0.2"), "b@example.com").status_code == 302
    assert register(from_ip(app, "10.0.0.1"), "c@example.com").status_code == 429


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="3 per minute")
def test_failed_logins_per_ip_end_in_429_even_with_the_right_password(app, make_user):
    make_user("alice@example.com")
    client = from_ip(app, "10.0.0.9")
    for n in range(3):
        assert log_in(client, f"guess{n}@example.com").status_code == 422

    response = log_in(client, "alice@example.com", PASSWORD)

    assert response.status_code == 429
    assert "Retry-After" in response.headers
    assert client.get("/profile").status_code == 302


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="3 per minute")
def test_a_successful_login_does_not_reset_the_ip_count(app, make_user):
    make_user("alice@example.com")
    attacker = from_ip(app, "10.0.0.9")
    log_in(attacker, "x@example.com")
    log_in(attacker, "y@example.com")
    assert log_in(attacker, "alice@example.com", PASSWORD).status_code == 302
    log_in(attacker, "z@example.com")

    assert log_in(attacker, "w@example.com").status_code == 429


def test_failed_logins_per_address_lock_it_even_for_the_right_password(app, make_user):
    make_user("alice@example.com")
    for n in range(5):
        assert log_in(from_ip(app, f"10.0.1.{n}"), "alice@example.com").status_code == 422

    response = log_in(from_ip(app, "10.0.2.1"), "alice@example.com", PASSWORD)

    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 300


def test_the_address_lock_ends_after_five_minutes(app, make_user):
    make_user("alice@example.com")
    with time_machine.travel("2026-01-05 10:00:00", tick=False) as clock:
        for _ in range(5):
            log_in(from_ip(app, "10.0.1.1"), "alice@example.com")
        assert log_in(app.test_client(), "alice@example.com", PASSWORD).status_code == 429
        clock.shift(301)

        assert log_in(app.test_client(), "alice@example.com", PASSWORD).status_code == 302


def test_guessing_one_address_gets_at_most_100_tries_an_hour(app, make_user):
    make_user("alice@example.com")
    checked = 0
    with time_machine.travel("2026-01-05 10:00:00", tick=False) as clock:
        # The best an attacker can do: try until refused, wait for the window, again.
        for _ in range(12):
            for n in range(8):
                status = log_in(from_ip(app, f"10.1.0.{n}"), "alice@example.com").status_code
                checked += status == 422
            clock.shift(300)

    assert checked <= 100
    assert checked == 20


def test_unknown_and_existing_addresses_lock_alike(app, make_user):
    make_user("alice@example.com")
    answers = {}
    for address in ("alice@example.com", "nobody@example.com"):
        for n in range(5):
            log_in(from_ip(app, f"10.2.0.{n}"), address)
        answers[address] = log_in(from_ip(app, "10.3.0.1"), address)

    known, unknown = answers["alice@example.com"], answers["nobody@example.com"]
    assert known.status_code == unknown.status_code == 429
    assert known.get_data() == unknown.get_data()


def test_address_variants_share_one_count(app, make_user):
    make_user("bob@example.com")
    variants = [
        "Bob@Example.com",
        "bob@example.com",
        "BOB@EXAMPLE.COM",
        " bob@example.com",
        "\uff22\uff2f\uff22@example.com",  # full-width BOB,
    ]
    for n, variant in enumerate(variants):
        log_in(from_ip(app, f"10.4.0.{n}"), variant)

    assert log_in(from_ip(app, "10.5.0.1"), "bob@example.com", PASSWORD).status_code == 429


def test_unlock_login_lifts_the_lock(app, make_user, get_user):
    make_user("alice@example.com")
    for n in range(5):
        log_in(from_ip(app, f"10.6.0.{n}"), "alice@example.com")
    assert log_in(app.test_client(), "alice@example.com", PASSWORD).status_code == 429

    with app.app_context():
        unlock_login(get_user("alice@example.com"))

    assert log_in(app.test_client(), "alice@example.com", PASSWORD).status_code == 302


# Only the rate limit stands between the requests: the account's own interval is off.
@pytest.mark.app_config(MAILPROOF_RESEND_INTERVAL=0)
def test_resend_over_the_address_limit_answers_the_same_and_sends_nothing(app, make_user, outbox):
    make_user("carol@example.com", confirmed=False)
    first = submit(from_ip(app, "10.7.0.1"), "/resend", {"email": "carol@example.com"})
    second = submit(from_ip(app, "10.7.0.2"), "/resend", {"email": "Carol@Example.com"})

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(outbox("carol@example.com")) == 1


@pytest.mark.app_config(MAILPROOF_RESEND_INTERVAL=0)
def test_resend_limit_leaves_other_addresses_alone(app, make_user, outbox):
    make_user("carol@example.com", confirmed=False)
    make_user("dave@example.com", confirmed=False)
    submit(from_ip(app, "10.7.0.1"), "/resend", {"email": "carol@example.com"})

    submit(from_ip(app, "10.7.0.1"), "/resend", {"email": "dave@example.com"})

    assert len(outbox("dave@example.com")) == 1


@pytest.mark.app_config(MAILPROOF_LIMIT_RESEND_PER_IP="2 per minute")
def test_resend_per_ip_limit_gets_429(app):
    client = from_ip(app, "10.8.0.1")
    submit(client, "/resend", {"email": "a@example.com"})
    submit(client, "/resend", {"email": "b@example.com"})

    response = submit(client, "/resend", {"email": "c@example.com"})

    assert response.status_code == 429
    assert "Retry-After" in response.headers


@pytest.mark.app_config(RATELIMIT_ENABLED=False, MAILPROOF_LIMIT_SIGNUP_PER_IP="1 per minute")
def test_ratelimit_enabled_false_turns_every_limit_off(client):

    statuses = [register(client, f"u{n}@example.com").status_code for n in range(3)]

    assert statuses == [302, 302, 302]


def test_a_rule_that_does_not_parse_stops_the_app(config):
    config["MAILPROOF_LIMIT_SIGNUP_PER_IP"] = "twenty a minute"

    with pytest.raises(ConfigurationError, match="MAILPROOF_LIMIT_SIGNUP_PER_IP"):
        create_app(config)


@pytest.mark.app_config(MAILPROOF_LIMIT_SIGNUP_PER_IP="")
def test_an_empty_rule_turns_that_limit_off(client):

    assert register(client, "a@example.com").status_code == 302


REDIS_URL = os.environ.get("REDIS_URL")


@pytest.fixture
def redis_config(config):
    config.pop("RATELIMIT_STORAGE_URI")
    config["REDIS_URL"] = REDIS_URL
    config["RATELIMIT_KEY_PREFIX"] = f"mailproof-test-{uuid.uuid4().hex}"
    config["MAILPROOF_LIMIT_SIGNUP_PER_IP"] = "1 per minute"
    return config


@pytest.mark.skipif(not REDIS_URL, reason="needs REDIS_URL (a Redis db tests may write to)")
def test_redis_url_makes_limits_shared_between_processes(redis_config, app, another_app):
    # Two apps stand for two worker processes: a limit used up in one holds in the other.
    first, second = app, another_app()
    assert type(limiter_for(second).storage).__name__ == "RedisStorage"

    assert register(first.test_client(), "a@example.com").status_code == 302
    assert register(second.test_client(), "b@example.com").status_code == 429


def test_an_app_with_its_own_limiter_keeps_it(config):
    host = Flask("host")
    host.config.update(config)
    own = Limiter(get_remote_address, app=host, storage_uri="memory://")
    host_db = SQLAlchemy()
    host_db.init_app(host)

    Mailproof(host, db=host_db, models=define_models(host_db))

    assert limiter_for(host) is own
    assert host.extensions["limiter"] == {own}


DEAD_STORAGE = "redis://127.0.0.1:1/0"


@pytest.mark.app_config(RATELIMIT_STORAGE_URI=DEAD_STORAGE)
def test_a_failing_storage_fails_the_request(client):
    with pytest.raises(redis.exceptions.ConnectionError):
        register(client, "a@example.com")


@pytest.mark.app_config(RATELIMIT_STORAGE_URI=DEAD_STORAGE, RATELIMIT_SWALLOW_ERRORS=True)
def test_ratelimit_swallow_errors_lets_requests_pass_when_the_storage_fails(client, get_user):
    assert register(client, "a@example.com").status_code == 302
    assert get_user("a@example.com") is not None


def test_contact_over_the_address_limit_gets_429_and_mails_nothing_more(client, outbox):
    message = {"name": "Dana", "email": "stranger@example.com", "message": "Hello"}
    first = submit(client, "/contact", message)

    second = submit(client, "/contact", message)

    assert first.status_code == 302
    assert second.status_code == 429
    assert 0 < int(second.headers["Retry-After"]) <= 180
    assert len(outbox("stranger@example.com")) == 1


@pytest.mark.app_config(MAILPROOF_LIMIT_RESET_PER_ADDRESS="1 per minute")
def test_reset_over_the_address_limit_answers_the_same_and_sends_nothing(client, make_user, outbox):
    make_user("target@example.com")
    first = submit(client, "/reset", {"email": "target@example.com"})

    second = submit(client, "/reset", {"email": "TARGET@example.com"})

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(outbox("target@example.com")) == 1


@pytest.mark.app_config(MAILPROOF_LIMIT_RESET_PER_IP="2 per minute")
def test_reset_per_ip_limit_gets_429(client):
    answers = [submit(client, "/reset", {"email": f"r{n}@example.com"}) for n in range(3)]

    assert [a.status_code for a in answers] == [302, 302, 429]


def test_a_completed_reset_unlocks_the_address(app, make_user, outbox):
    make_user("locked@example.com")
    client = app.test_client()
    for _ in range(5):
        log_in(client, "locked@example.com")
    assert log_in(client, "locked@example.com", PASSWORD).status_code == 429
    submit(client, "/reset", {"email": "locked@example.com"})
    link = outbox("locked@example.com")[-1].link("/reset/")
    new_password = "a brand new passphrase here"
    form = client.get(link, follow_redirects=True)
    client.post(
        "/reset/set-password",
        data={
            "csrf_token": csrf_token(form),
            "password": new_password,
            "password_confirm": new_password,
        },
    )

    assert log_in(client, "locked@example.com", new_password).status_code == 302


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="2 per minute")
def test_wrong_current_passwords_count_as_failed_logins(client, make_user, login):
    make_user("owner@example.com")
    login("owner@example.com")
    wrong = {
        "current_password": "not the password at all",
        "password": "x" * 20,
        "password_confirm": "x" * 20,
    }

    answers = [submit(client, "/change-password", wrong) for _ in range(3)]

    assert [a.status_code for a in answers] == [422, 422, 429]


@pytest.mark.app_config(MAILPROOF_LIMIT_CONTACT_PER_IP="2 per minute")
def test_contact_per_ip_limit_gets_429(client, outbox):
    answers = [
        submit(client, "/contact", {"name": "Dana", "email": f"c{n}@example.com", "message": "Hi"})
        for n in range(3)
    ]

    assert [a.status_code for a in answers] == [302, 302, 429]
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
    assert len(outbox()) == 2


def api_client(app, ip="203.0.113.9"):
    client = from_ip(app, ip)
    token = client.get("/api/csrf").get_json()["csrf_token"]
    return client, {"X-CSRFToken": token}


@pytest.mark.app_config(MAILPROOF_LIMIT_LOGIN_FAILURES_PER_IP="2 per minute")
def test_an_api_client_over_the_failed_login_limit_gets_429_rate_limited(app, make_user):
    make_user("owner@example.com")
    client, headers = api_client(app)

    def log_in_api(password):
        body = {"email": "owner@example.com", "password": password}
        return client.post("/api/login", json=body, headers=headers)

    answers = [log_in_api(WRONG) for _ in range(2)] + [log_in_api(PASSWORD)]

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[-1].get_json()["code"] == "rate_limited"
    assert 0 < int(answers[-1].headers["Retry-After"]) <= 60
