"""Password change: the current password, the policy, the other sessions, the notice."""

from __future__ import annotations

import pytest

from demo.models import db
from flask_mailproof import signals
from flask_mailproof.errors import FreshLoginRequired
from flask_mailproof.flows.password_change import change_password
from helpers import PASSWORD, submit

NEW_PASSWORD = "violet submarine orchestra pebble"


def change(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return submit(
        client,
        "/change-password",
        {"current_password": current, "password": new, "password_confirm": confirm or new},
    )


def test_anonymous_visitors_go_to_login(client):
    response = client.get("/change-password")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_unconfirmed_users_go_to_the_unconfirmed_page(client, make_user, login):
    make_user("waiting@example.com", confirmed=False)
    login("waiting@example.com")

    assert client.get("/change-password").headers["Location"] == "/unconfirmed"


def test_change_sets_the_new_password(app, client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    response = change(client)

    assert response.status_code == 302
    assert response.headers["Location"] == "/profile"
    other = app.test_client()
    old = submit(other, "/login", {"email": "alice@example.com", "password": PASSWORD})
    new = submit(other, "/login", {"email": "alice@example.com", "password": NEW_PASSWORD})
    assert old.status_code == 422
    assert new.status_code == 302


def test_a_wrong_current_password_is_refused(client, make_user, login, get_user):
    user = make_user("alice@example.com")
    login("alice@example.com")

    response = change(client, current="not my password at all, sorry")

    assert response.status_code == 422
    assert "not your current password" in response.get_data(as_text=True)
    assert get_user("alice@example.com").password_hash == user.password_hash


def test_the_registration_policy_applies(client, make_user, login, get_user):
    user = make_user("alice@example.com")
    login("alice@example.com")

    response = change(client, new="short")

    assert response.status_code == 422
    assert "at least 15 characters" in response.get_data(as_text=True)
    assert get_user("alice@example.com").password_hash == user.password_hash


def test_the_two_new_passwords_must_match(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    assert change(client, confirm="violet submarine orchestra pebbles").status_code == 422


def test_other_sessions_end_and_this_one_continues(app, client, make_user, login):
    make_user("alice@example.com")
    other = app.test_client()
    submit(other, "/login", {"email": "alice@example.com", "password": PASSWORD, "remember": "y"})
    login("alice@example.com")
    before = client.get_cookie("session").value

    change(client)

    assert client.get("/profile").status_code == 200
    assert client.get_cookie("session").value != before
    assert other.get("/profile").status_code == 302
    other.delete_cookie("session")
    assert other.get("/profile").status_code == 302  # the remember-me cookie is dead too


def test_a_notice_is_mailed_without_the_password(client, make_user, login, outbox):
    make_user("alice@example.com")
    login("alice@example.com")

    change(client)

    [notice] = outbox()
    assert notice.to == "alice@example.com"
    assert notice.kind == "password_changed"
    assert NEW_PASSWORD not in notice.text + notice.html


def test_the_signal_names_the_account(app, client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")
    seen = []

    def receive(sender, **kwargs):
        seen.append((sender, kwargs["user"].email))

    with signals.password_changed.connected_to(receive):
        change(client)

    # Sent by the app, as every signal of the extension is: a host may listen for one app.
    assert seen == [(app, "alice@example.com")]


def test_the_flow_asks_for_a_proof_of_the_mailbox_unless_told_of_one(app, make_user):
    # For hosts calling the flow themselves: an account without a password changes nothing
    # unless the caller says the mailbox was proven lately; the default is the safe answer.
    user = make_user("nopass@example.com", password=None)

    with app.test_request_context(), pytest.raises(FreshLoginRequired):
        change_password(db.session.merge(user), None, NEW_PASSWORD)


def test_the_profile_links_to_it(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    assert 'href="/change-password"' in client.get("/profile").get_data(as_text=True)
