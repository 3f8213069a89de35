"""Missing tables: one log line that says what to run, a 503 page, and `flask mailproof init-db`."""

from __future__ import annotations

import logging
import time

import pytest
from sqlalchemy import inspect

from demo import create_app
from demo.models import db
from flask_mailproof.schema import table_names
from flask_mailproof.state import current_state
from helpers import PASSWORD, register

TABLES = {
    "users",
    "mailproof_outbox",
    "mailproof_delivery_attempt",
    "mailproof_contact_messages",
    "mailproof_verification_code",
    "mailproof_login_session",
    "mailproof_suppression",
}


@pytest.fixture
def bare_app(config):
    """The demo app on a database without any table."""
    application = create_app(config)
    with application.app_context():
        db.drop_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _missing_lines(caplog):
    return [
        r for r in caplog.records if r.name == "flask_mailproof.schema" and "missing" in r.message
    ]


def test_the_extensions_table_names_are_the_ones_checked(bare_app):
    with bare_app.app_context():
        assert set(table_names(current_state().models)) == TABLES


def test_a_page_without_tables_answers_503_and_one_log_line_says_what_to_run(bare_app, caplog):
    client = bare_app.test_client()

    first = client.get("/register")
    second = client.post("/register", data={"email": "alice@example.com"})

    assert first.status_code == 503
    assert "not set up yet" in first.text
    assert second.status_code == 503
    [line] = _missing_lines(caplog)
    assert line.levelno == logging.ERROR
    assert "flask mailproof init-db" in line.message
    assert "users" in line.message


def test_the_hosts_own_pages_still_answer_without_the_tables(bare_app):
    assert bare_app.test_client().get("/").status_code == 200


@pytest.mark.app_config(MAILPROOF_DELIVERY="thread", MAILPROOF_DELIVERY_INTERVAL=0.05)
def test_the_delivery_thread_waits_for_the_tables_without_an_error_per_sweep(bare_app, caplog):
    caplog.set_level(logging.DEBUG, logger="flask_mailproof")
    with bare_app.app_context():
        thread = current_state().delivery_thread
    thread.wake()
    time.sleep(0.5)  # about ten sweeps
    thread.stop(timeout=5)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == _missing_lines(caplog)
    assert len(errors) == 1


def test_init_db_creates_the_tables_and_registration_then_works(bare_app, caplog):
    result = bare_app.test_cli_runner().invoke(args=["mailproof", "init-db"])

    assert result.exit_code == 0, result.output
    assert "Created the tables" in result.output
    with bare_app.app_context():
        assert set(inspect(db.engine).get_table_names()) >= TABLES
    client = bare_app.test_client()
    assert register(client, password=PASSWORD).headers["Location"] == "/unconfirmed"
    assert not _missing_lines(caplog)


def test_init_db_twice_changes_nothing_the_second_time(bare_app):
    runner = bare_app.test_cli_runner()
    runner.invoke(args=["mailproof", "init-db"])

    result = runner.invoke(args=["mailproof", "init-db"])

    assert result.exit_code == 0
    assert "exist already" in result.output
