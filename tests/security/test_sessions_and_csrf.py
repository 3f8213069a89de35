"""Sessions: new at login, cookie flags, remember-me bound to the stamp; CSRF on every POST."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, csrf_token, session_of, submit
from demo.models import db
from flask_mailproof.flows.accounts import rotate_session_stamp
from flask_mailproof.flows.confirmation import confirmation_token


@pytest.fixture
def alice(make_user):
    return make_user("alice@example.com")


def cookie_header(response, name):
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]
    return header


def is_logged_in(client):
    return client.get("/profile").status_code == 200


@pytest.mark.usefixtures("alice")
def test_login_starts_a_new_session(app, client):
    before = client.get("/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
        planted_csrf = session["csrf_token"]

    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(before),
            "email": "alice@example.com",
            "password": PASSWORD,
        },
    )

    after = session_of(app, response)
    assert response.status_code == 302
    assert "planted" not in after
    assert after.get("csrf_token") != planted_csrf


@pytest.mark.usefixtures("alice")
def test_session_and_remember_cookies_are_httponly_lax_and_secure(client, login):
    response = login("alice@example.com", remember="y")

    for name in ("session", "remember_token"):
        header = cookie_header(response, name)
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" in header


@pytest.mark.app_config(DEBUG=True)
@pytest.mark.usefixtures("alice")
def test_cookies_are_not_secure_in_debug_so_http_development_works(client, login):
    response = login("alice@example.com")

    assert "Secure" not in cookie_header(response, "session")


def remember_cookie(app, login):
    response = login("alice@example.com", remember="y")
    value = cookie_header(response, "remember_token").split(";", 1)[0].split("=", 1)[1]
    fresh = app.test_client()
    fresh.set_cookie("remember_token", value)
    return fresh


@pytest.mark.usefixtures("alice")
def test_remember_cookie_logs_in_a_new_browser_session(app, login):
    assert is_logged_in(remember_cookie(app, login))


def test_remember_cookie_dies_with_the_session_stamp(app, login, alice):
    fresh = remember_cookie(app, login)
    with app.app_context():
        user = db.session.get(type(alice), alice.id)
        rotate_session_stamp(user)
        db.session.commit()

    assert not is_logged_in(fresh)


# CSRF: every POST, with no token, another session's token, or one from before login.


def other_sessions_token(app):
    return csrf_token(app.test_client().get("/login"))


@pytest.fixture
def pending(make_user):
    return make_user("pending@example.com", confirmed=False)


def logged_out_posts(app, pending):
    with app.app_context():
        token = confirmation_token(db.session.get(type(pending), pending.id))
    return {
        "/register": {
            "email": "new@example.com",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
        "/login": {"email": "alice@example.com", "password": PASSWORD},
        "/resend": {"email": "pending@example.com"},
        f"/confirm/{token}": {},
        f"/confirm/{token}/renew": {},
    }


def state(app, client, outbox, get_user):
    """What a forged POST must not change: accounts, mail, confirmation, who is logged in."""
    pending = get_user("pending@example.com")
    return (
        get_user("new@example.com") is not None,
        len(outbox()),
        pending.confirmed_at,
        pending.confirm_counter,
        client.get("/profile").status_code,
    )


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("token_kind", ["none", "other session"])
@pytest.mark.parametrize(
    "url_index", range(5), ids=["register", "login", "resend", "confirm", "renew"]
)
def test_logged_out_post_without_its_own_token_is_refused(
    app, client, outbox, get_user, pending, token_kind, url_index
):
    url, data = list(logged_out_posts(app, pending).items())[url_index]
    client.get("/login")
    if token_kind == "other session":
        data = {**data, "csrf_token": other_sessions_token(app)}
    before = state(app, client, outbox, get_user)

    response = client.post(url, data=data)

    assert response.status_code == 400
    assert state(app, client, outbox, get_user) == before


@pytest.mark.parametrize("token_kind", ["none", "other session", "before login"])
@pytest.mark.parametrize("url", ["/logout", "/resend"])
def test_logged_in_post_without_its_own_token_is_refused(
    app, client, outbox, get_user, pending, token_kind, url
):
    pre_login_token = csrf_token(client.get("/login"))
    submit(client, "/login", {"email": "pending@example.com", "password": PASSWORD})
    data = {
        "none": {},
        "other session": {"csrf_token": other_sessions_token(app)},
        "before login": {"csrf_token": pre_login_token},
    }[token_kind]
    mails = len(outbox())

    response = client.post(url, data=data)

    assert response.status_code == 400
    assert client.get("/unconfirmed").get_data(as_text=True).count("pending@example.com")
    assert len(outbox()) == mails


@pytest.mark.usefixtures("alice")
def test_logout_with_its_token_works(client, login):
    login("alice@example.com")
    page = client.get("/profile").get_data(as_text=True)
    [token] = re.findall(r'name="csrf_token" value="([^"]+)"', page)

    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not is_logged_in(client)
