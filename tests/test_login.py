"""Login and logout: sessions bound to a stamp, same answer for every failure."""

from __future__ import annotations

import argon2
import pytest

from demo.models import db, models
from flask_mailproof.flows.login_sessions import secret_digest
from helpers import PASSWORD, csrf_token, submit, without_csrf


def test_confirmed_user_logs_in_and_reaches_profile(client, make_user, login):
    make_user("alice@example.com")

    response = login("alice@example.com")

    assert response.headers["Location"] == "/profile"
    assert client.get("/profile").status_code == 200


def test_login_ignores_the_case_of_the_address(client, make_user, login):
    make_user("alice@example.com")

    login("ALICE@Example.COM")

    assert client.get("/profile").status_code == 200


def test_unconfirmed_user_may_log_in_but_is_sent_to_unconfirmed(client, make_user, login):
    make_user("alice@example.com", confirmed=False)

    login("alice@example.com")

    response = client.get("/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/unconfirmed"


def test_wrong_password_is_refused_next_to_the_field(client, make_user):
    make_user("alice@example.com")

    response = submit(client, "/login", {"email": "alice@example.com", "password": "wrong" * 4})

    assert response.status_code == 422
    assert "Wrong address or password." in response.text
    assert 'value="alice@example.com"' in response.text
    assert "wrongwrong" not in response.text
    assert client.get("/profile").status_code == 302


def test_unknown_address_gets_the_same_answer_as_a_wrong_password(app, make_user):
    make_user("alice@example.com")
    data = {"password": "not the password at all"}

    wrong = submit(app.test_client(), "/login", {**data, "email": "alice@example.com"})
    unknown = submit(app.test_client(), "/login", {**data, "email": "nobody@example.com"})

    assert wrong.status_code == unknown.status_code == 422
    assert without_csrf(wrong.text).replace("alice", "X") == without_csrf(unknown.text).replace(
        "nobody", "X"
    )


def test_unknown_address_still_costs_a_password_hash(client, monkeypatch):
    calls = []
    original = argon2.PasswordHasher.verify

    def spy(self, hash, password):
        calls.append(hash)
        return original(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)

    submit(client, "/login", {"email": "nobody@example.com", "password": PASSWORD})

    assert len(calls) == 1


def test_login_form_needs_csrf_token(client, make_user):
    make_user("alice@example.com")

    response = client.post("/login", data={"email": "alice@example.com", "password": PASSWORD})

    assert response.status_code == 400
    assert client.get("/profile").status_code == 302


@pytest.mark.parametrize("target", ["/somewhere?x=1", "/profile"])
def test_login_follows_a_same_site_next(client, make_user, target):
    make_user("alice@example.com")

    response = submit(
        client, f"/login?next={target}", {"email": "alice@example.com", "password": PASSWORD}
    )

    assert response.headers["Location"] == target


@pytest.mark.parametrize(
    "target",
    ["https://evil.test/", "//evil.test/", "/\\evil.test", "\\\\evil.test", "javascript:alert(1)"],
)
def test_login_ignores_an_off_site_next(client, make_user, target):
    make_user("alice@example.com")

    response = client.get("/login", query_string={"next": target})
    posted = client.post(
        "/login",
        query_string={"next": target},
        data={
            "csrf_token": csrf_token(response),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
    )

    assert posted.headers["Location"] == "/profile"


def test_rotating_the_stamp_ends_every_session(app, client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")
    assert client.get("/profile").status_code == 200

    with app.app_context():
        user = db.session.scalars(db.select(models.user)).one()
        user.session_stamp = "f" * 32
        db.session.commit()

    assert client.get("/profile").status_code == 302


def test_session_id_carries_the_stamp_and_a_login_secret(app, client, make_user, login):
    user = make_user("alice@example.com")

    login("alice@example.com")

    with client.session_transaction() as session:
        user_id, stamp, secret = session["_user_id"].split(":")
    assert (user_id, stamp) == (str(user.id), user.session_stamp)
    with app.app_context():
        [row] = db.session.scalars(db.select(models.login_session)).all()
    assert row.secret_digest == secret_digest(secret) != secret


def test_remember_me_sets_a_remember_cookie(client, make_user, login):
    make_user("alice@example.com")

    login("alice@example.com", remember="y")

    assert client.get_cookie("remember_token") is not None


def test_login_records_the_time(client, make_user, login, get_user, time_machine):
    time_machine.move_to("2026-04-01 08:00:00", tick=False)
    make_user("alice@example.com")

    login("alice@example.com")

    assert get_user("alice@example.com").last_login_at.isoformat() == "2026-04-01T08:00:00"


def test_logout_is_a_post_that_ends_the_session(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")
    page = client.get("/profile")

    assert client.get("/logout").status_code == 405
    response = client.post(
        "/logout",
        data={"csrf_token": csrf_token(page)},
    )

    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 302


def test_logout_needs_csrf_token(client, make_user, login):
    make_user("alice@example.com")
    login("alice@example.com")

    client.post("/logout")

    assert client.get("/profile").status_code == 200


def test_login_starts_a_fresh_session(client, make_user, login):
    make_user("alice@example.com")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"

    login("alice@example.com")

    with client.session_transaction() as session:
        assert "planted" not in session
