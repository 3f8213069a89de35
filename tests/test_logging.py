"""Logs: what happened is logged; passwords, tokens and links never are."""

from __future__ import annotations

import logging

import pytest

from helpers import PASSWORD, csrf_token, register, submit


@pytest.fixture
def logs(caplog):
    caplog.set_level(logging.DEBUG)

    def lines():
        return [record.getMessage() for record in caplog.records]

    return lines


def _mailproof(caplog):
    return [r.getMessage() for r in caplog.records if r.name.startswith("flask_mailproof")]


def test_registration_is_logged(client, get_user, caplog, logs):
    register(client)

    user_id = get_user("alice@example.com").id
    assert f"user {user_id} registered (client 127.0.0.1)" in _mailproof(caplog)


def test_confirmation_is_logged(client, outbox, get_user, caplog, logs):
    register(client)

    submit(client, outbox()[0].link("/confirm/"))

    user_id = get_user("alice@example.com").id
    assert f"address confirmed for user {user_id} (client 127.0.0.1)" in _mailproof(caplog)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda link: link[:-4], "invalid"),
        (lambda link: "/confirm/not-a-token", "invalid"),
    ],
)
def test_invalid_token_is_logged(client, outbox, caplog, logs, mangle, reason):
    register(client)

    client.get(mangle(outbox()[0].link("/confirm/")))

    assert any(
        "confirmation token refused" in line and reason in line for line in _mailproof(caplog)
    )


def test_expired_token_is_logged(client, outbox, caplog, logs, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    register(client)
    time_machine.shift(86401)

    client.get(outbox()[0].link("/confirm/"))

    assert any("confirmation token refused: expired" in line for line in _mailproof(caplog))


def test_superseded_token_is_logged(client, outbox, caplog, logs, login, time_machine):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    register(client)
    login("alice@example.com")
    time_machine.shift(180)
    page = client.get("/unconfirmed")
    client.post("/resend", data={"csrf_token": csrf_token(page)})

    client.get(outbox()[0].link("/confirm/"))

    assert any("confirmation token refused: superseded" in line for line in _mailproof(caplog))


def test_no_password_token_or_link_is_ever_logged(
    client, outbox, make_user, login, logs, time_machine
):
    time_machine.move_to("2026-06-01 12:00:00", tick=False)
    make_user("taken@example.com")
    register(client)
    register(client, "taken@example.com")
    submit(client, "/login", {"email": "alice@example.com", "password": "wrong password here"})
    login("alice@example.com")
    link = outbox()[0].link("/confirm/")
    client.get(link)
    client.get(link[:-3])
    time_machine.shift(86401)
    client.get(link)
    time_machine.shift(-86401)
    submit(client, link)

    secrets = [PASSWORD, "wrong password here"]
    for mail in outbox():
        for url in mail.links:
            secrets.append(url)
            if "/confirm/" in url:
                token = url.rsplit("/", 1)[1]
                # A compressed payload starts with ".", so one segment can be empty.
                secrets.extend([token, *filter(None, token.split("."))])
    everything = "\n".join(logs())
    assert everything, "something was logged"
    for secret in secrets:
        assert secret not in everything


def test_forged_renewal_is_logged(client, outbox, caplog, logs):
    register(client)
    link = outbox()[0].link("/confirm/")
    page = client.get(link)
    token = csrf_token(page)

    client.post(f"{link[:-4]}/renew", data={"csrf_token": token})

    assert "confirmation token refused for renewal: invalid (client 127.0.0.1)" in _mailproof(
        caplog
    )
