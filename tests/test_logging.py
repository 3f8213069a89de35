"""Logs: what happened is logged; passwords, tokens and links never are."""

from __future__ import annotations

import io
import json
import logging
import sys

import pytest

from demo.logs import logging_config
from flask_mailproof import JSONFormatter, RequestContextFilter
from helpers import PASSWORD, csrf_token, logged_text, register, secrets_in, submit


@pytest.fixture
def logs(caplog):
    """Return ``lines()``: every message logged, as text and as the demo's JSON lines."""
    caplog.set_level(logging.DEBUG)
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JSONFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)

    def lines():
        return [record.getMessage() for record in caplog.records] + written.getvalue().splitlines()

    yield lines
    root.removeHandler(handler)


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
    assert '"logger": "flask_mailproof.login"' in everything, "the JSON lines are checked too"
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


def _record(**extra):
    record = logging.LogRecord(
        "flask_mailproof.login", logging.INFO, __file__, 1, "user %s logged in", (7,), None
    )
    record.__dict__.update(extra)
    return record


def test_json_line_carries_level_logger_account_and_client(app):
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        line = JSONFormatter().format(_record(account_id=7))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "INFO"
    assert entry["logger"] == "flask_mailproof.login"
    assert entry["message"] == "user 7 logged in"
    assert entry["account_id"] == 7
    assert entry["client_ip"] == "203.0.113.9"
    assert entry["time"].endswith("+00:00")


def test_json_line_without_request_or_account_says_null():
    entry = json.loads(JSONFormatter().format(_record()))

    assert (entry["account_id"], entry["client_ip"]) == (None, None)


def test_json_line_keeps_a_traceback_on_one_line():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        record = _record(exc_info=sys.exc_info())

    line = JSONFormatter().format(record)

    assert "\n" not in line
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_auth_events_carry_the_account_in_both_formats(client, get_user, caplog):
    caplog.set_level(logging.INFO)
    register(client)

    [record] = [r for r in caplog.records if r.name == "flask_mailproof.registration"]
    user_id = get_user("alice@example.com").id
    assert (record.account_id, record.client_ip) == (user_id, "127.0.0.1")


def test_demo_text_lines_name_account_and_client_or_a_dash():
    spec = logging_config("text")["formatters"]["text"]
    formatter = logging.Formatter(spec["format"], spec["datefmt"])
    record = _record()
    RequestContextFilter().filter(record)

    line = formatter.format(record)

    assert line.endswith("flask_mailproof.login: user 7 logged in [account -, client -]"), line


def test_demo_refuses_an_unknown_log_format():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_config("yaml")


def test_the_log_guard_reads_fields_only_the_json_lines_carry():
    token = "Abcdefghijklmnopqrstuv.XYZW.abcdefghijklmnopqrstuvwxyz012345"

    text = logged_text([_record(account_id=token)])

    assert "user 7 logged in" in text
    assert token in secrets_in(text, {token})
