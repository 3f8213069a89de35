"""Every authentication event is logged with the account id and the client's IP, and no
password, token or mailed link ever is (the conftest guard checks every test's logs)."""

from __future__ import annotations

import logging

import pytest

from flask_mailproof.logs import UNKNOWN
from helpers import PASSWORD, secrets_in, submit

WRONG = "not the password at all"
IP = "198.51.100.7"


@pytest.fixture
def client(app):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = IP
    return client


def messages(caplog):
    return [r.getMessage() for r in caplog.records if r.name.startswith("flask_mailproof")]


def register(client, address="a@example.com"):
    return submit(
        client,
        "/register",
        {"email": address, "password": PASSWORD, "password_confirm": PASSWORD},
    )


def test_registration_is_logged_with_id_and_ip(client, caplog, get_user):
    register(client)

    user = get_user("a@example.com")
    assert f"user {user.id} registered (client {IP})" in messages(caplog)


def test_registration_of_a_taken_address_is_logged(client, caplog, make_user):
    user = make_user("a@example.com")

    register(client)

    assert f"registration attempted for existing user {user.id} (client {IP})" in messages(caplog)


def test_confirmation_is_logged_with_id_and_ip(client, caplog, outbox, get_user):
    register(client)

    submit(client, outbox()[0].link("/confirm/"))

    user = get_user("a@example.com")
    assert f"address confirmed for user {user.id} (client {IP})" in messages(caplog)


def test_login_success_and_failure_are_logged_with_id_and_ip(client, caplog, make_user):
    user = make_user("a@example.com")

    submit(client, "/login", {"email": "a@example.com", "password": WRONG})
    submit(client, "/login", {"email": "nobody@example.com", "password": WRONG})
    submit(client, "/login", {"email": "a@example.com", "password": PASSWORD})

    logged = messages(caplog)
    assert f"failed login for user {user.id} (client {IP})" in logged
    assert f"failed login for no account (client {IP})" in logged
    assert f"user {user.id} logged in (client {IP})" in logged


def test_lockout_is_logged_as_a_warning_with_id_and_ip(client, caplog, make_user):
    user = make_user("a@example.com")
    for _ in range(6):
        submit(client, "/login", {"email": "a@example.com", "password": WRONG})

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"login locked for user {user.id} after repeated failures (client {IP})" in warnings
    assert any(m.startswith(f"login refused for user {user.id}: locked") for m in warnings)


def test_failed_logins_and_the_lock_carry_the_account_id_as_a_record_attribute(
    client, caplog, make_user
):
    """A JSON log is filtered by its fields, not its text: each failure, the lock and the
    refusal while locked name the account, and a failure for an unknown address names none."""
    user = make_user("a@example.com")
    submit(client, "/login", {"email": "nobody@example.com", "password": WRONG})
    for _ in range(6):
        submit(client, "/login", {"email": "a@example.com", "password": WRONG})

    def account_ids(start):
        return {
            getattr(r, "account_id", "absent")
            for r in caplog.records
            if r.name.startswith("flask_mailproof") and r.getMessage().startswith(start)
        }

    assert account_ids("failed login for no account") == {UNKNOWN}
    assert account_ids(f"failed login for user {user.id}") == {user.id}
    assert account_ids(f"login locked for user {user.id}") == {user.id}
    assert account_ids(f"login refused for user {user.id}") == {user.id}


def test_events_carry_the_client_ip_as_a_record_attribute(client, caplog):
    register(client)

    [record] = [
        r for r in caplog.records if r.getMessage().endswith("registered (client 198.51.100.7)")
    ]
    assert record.client_ip == IP


def test_the_log_guard_finds_passwords_tokens_and_links(app, client, outbox, seen_secrets):
    register(client)
    [mail] = outbox()
    link = mail.links[0]
    token = link.rsplit("/", 1)[1]

    assert secrets_in(f"oops {PASSWORD}", seen_secrets) == [PASSWORD]
    assert token in seen_secrets
    assert secrets_in(f"token {token}", set())
    assert secrets_in(f"see {link}", set())
    assert secrets_in("user 1 registered (client 127.0.0.1)", seen_secrets) == []


def test_error_pages_show_no_password_or_token(client, outbox):
    register(client)
    token = outbox()[0].links[0].rsplit("/", 1)[1]
    pages = [
        submit(client, "/login", {"email": "a@example.com", "password": WRONG}),
        submit(
            client,
            "/register",
            {"email": "b@example.com", "password": WRONG, "password_confirm": "other"},
        ),
        client.get(f"/confirm/{token}x"),
        client.post(f"/confirm/{token}", data={}),
    ]

    for page in pages:
        body = page.get_data(as_text=True)
        assert WRONG not in body
        assert token not in body


NEW_PASSWORD = "an entirely different passphrase"


def test_reset_request_and_use_are_logged_with_id_and_ip(client, caplog, make_user, outbox):
    user = make_user("a@example.com")

    submit(client, "/reset", {"email": "a@example.com"})
    client.get(outbox()[0].link("/reset/"))
    new = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    submit(client, "/reset/set-password", new)

    logged = messages(caplog)
    assert f"reset mail queued for user {user.id} (client {IP})" in logged
    assert f"password reset for user {user.id} (client {IP})" in logged


def test_password_change_is_logged_with_id_and_ip(client, caplog, make_user):
    user = make_user("a@example.com")
    submit(client, "/login", {"email": "a@example.com", "password": PASSWORD})

    change = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    submit(client, "/change-password", {"current_password": WRONG, **change})
    submit(client, "/change-password", {"current_password": PASSWORD, **change})

    logged = messages(caplog)
    assert (
        f"password change refused for user {user.id}: wrong current password (client {IP})"
        in logged
    )
    assert f"password changed for user {user.id} (client {IP})" in logged


def test_address_change_and_undo_are_logged_with_id_and_ip(client, caplog, make_user, outbox):
    user = make_user("a@example.com")
    submit(client, "/login", {"email": "a@example.com", "password": PASSWORD})

    submit(client, "/change-email", {"email": "b@example.com", "current_password": PASSWORD})
    submit(client, outbox("b@example.com")[0].link("/change-email/"))
    [notice] = [m for m in outbox("a@example.com") if m.kind == "email_changed"]
    submit(client, notice.link("/change-email/undo/"))

    logged = messages(caplog)
    assert f"address change to a new address asked for user {user.id} (client {IP})" in logged
    assert f"address changed for user {user.id} (client {IP})" in logged
    assert f"address change undone for user {user.id} (client {IP})" in logged
