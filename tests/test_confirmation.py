"""Confirmation: a GET only shows a button, its POST confirms, once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, update

from demo.models import db, models
from flask_mailproof import email_confirmed
from helpers import csrf_token, register, submit


@pytest.fixture
def link(client, outbox):
    register(client)
    return outbox()[0].link("/confirm/")


def _update_user(app, address, **values):
    with app.app_context():
        user = db.session.scalars(db.select(models.user).filter_by(email=address)).one()
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def test_get_shows_one_button_posting_back_and_confirms_nothing(client, link, get_user):
    response = client.get(link)

    assert response.status_code == 200
    assert response.text.count("<form") - response.text.count('action="/logout"') == 1
    assert f'<form method="post" action="{link}">' in response.text
    assert get_user("alice@example.com").confirmed_at is None


def test_head_confirms_nothing(client, link, get_user):
    assert client.head(link).status_code == 200

    assert get_user("alice@example.com").confirmed_at is None


def test_get_does_not_use_the_link_up(client, link, get_user):
    client.get(link)
    client.get(link)

    submit(client, link)
    assert get_user("alice@example.com").confirmed_at is not None


def test_post_sets_confirmed_at_to_now(client, outbox, get_user, time_machine):
    time_machine.move_to("2026-03-02 09:00:00", tick=False)
    register(client)
    time_machine.shift(1800)

    submit(client, outbox()[0].link("/confirm/"))

    assert get_user("alice@example.com").confirmed_at == dt.datetime(2026, 3, 2, 9, 30)


def test_post_keeps_registered_at_for_time_to_confirm(client, link, get_user):
    registered = get_user("alice@example.com").registered_at

    submit(client, link)

    user = get_user("alice@example.com")
    assert user.registered_at == registered
    assert user.confirmed_at >= registered


def test_post_logged_out_leads_to_login_with_a_message(client, link):
    response = submit(client, link)

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "your address is confirmed" in client.get("/login").text


def test_post_does_not_log_anyone_in(client, link):
    submit(client, link)

    assert client.get("/profile").headers["Location"].startswith("/login")


def test_post_logged_in_leads_to_profile(client, link, login):
    login("alice@example.com")

    response = submit(client, link)

    assert response.headers["Location"] == "/profile"
    assert client.get("/profile").status_code == 200


def test_post_needs_csrf_token(client, link, get_user):
    response = client.post(link)

    assert response.status_code == 400
    assert get_user("alice@example.com").confirmed_at is None


def test_already_confirmed_gets_a_friendly_message(client, link, get_user):
    submit(client, link)
    first = get_user("alice@example.com").confirmed_at

    response = client.get(link, follow_redirects=True)

    assert response.status_code == 200
    assert "confirmed already" in response.text
    assert get_user("alice@example.com").confirmed_at == first


def test_second_post_does_not_move_confirmed_at(client, outbox, get_user, time_machine):
    time_machine.move_to("2026-03-02 09:30:00", tick=False)
    register(client)
    link = outbox()[0].link("/confirm/")
    page = client.get(link)
    submit(client, link)
    time_machine.shift(60)

    again = client.post(link, data={"csrf_token": csrf_token(page)})

    assert again.status_code == 302
    assert get_user("alice@example.com").confirmed_at == dt.datetime(2026, 3, 2, 9, 30)


def test_link_dies_when_the_address_changes(app, client, link):
    _update_user(app, "alice@example.com", email="bob@example.com", email_key="bob@example.com")

    assert client.get(link).status_code == 404


def test_link_dies_when_sessions_are_reset(app, client, link):
    _update_user(app, "alice@example.com", session_stamp="0" * 32)

    assert client.get(link).status_code == 404


def test_confirmation_mail_says_when_the_link_expires(client, outbox, config):
    register(client)

    [mail] = outbox()
    assert "this link works for 24 hours" in mail.text.lower()


@pytest.mark.parametrize("max_age", [3600])
def test_confirmation_mail_states_a_custom_lifetime(config, max_age, request):
    config["MAILPROOF_CONFIRM_MAX_AGE"] = max_age
    client = request.getfixturevalue("client")
    outbox = request.getfixturevalue("outbox")

    register(client)

    assert "works for 1 hour." in outbox()[0].text


def _statements_of_post(app, client, link):
    """Return the SQL that confirming ``link`` runs, in order, with the commits as ``"COMMIT"``."""
    token = csrf_token(client.get(link))
    with app.app_context():
        engine = db.engine
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    def commit(conn):
        statements.append("COMMIT")

    event.listen(engine, "before_cursor_execute", record)
    event.listen(engine, "commit", commit)
    try:
        response = client.post(link, data={"csrf_token": token})
    finally:
        event.remove(engine, "before_cursor_execute", record)
        event.remove(engine, "commit", commit)
    assert response.status_code == 302
    return statements


def test_post_reads_the_account_no_more_once_committed(app, client, link, get_user):
    """The proof has the account's new values in hand (its UPDATE returned them, or it read
    them back before committing): what follows the commit (the log line, ``email_confirmed``,
    the flash, the login carried over) must use them, not select the account once more, a
    query per confirmation for nothing."""
    statements = _statements_of_post(app, client, link)

    assert get_user("alice@example.com").confirmed_at is not None
    assert "COMMIT" in statements
    assert statements[statements.index("COMMIT") + 1 :] == []


def test_a_commit_after_the_confirmation_still_shows_the_database_values(app, client, link):
    """The confirmation's own commit keeps what it loaded, but only that commit: host code in
    the same request (here a receiver of ``email_confirmed``) that commits must then read the
    database's values, as SQLAlchemy's default ``expire_on_commit`` promises, not a stale copy
    of a row another connection changed meanwhile."""
    seen = []

    def receive(sender, user):
        with db.engine.begin() as other:  # another process's write, an admin's say
            other.execute(
                update(models.user).where(models.user.id == user.id).values(confirm_counter=41)
            )
        db.session.commit()
        seen.append(user.confirm_counter)

    email_confirmed.connect(receive, sender=app)
    try:
        response = submit(client, link)
    finally:
        email_confirmed.disconnect(receive, sender=app)

    assert response.status_code == 302
    assert seen == [41]
